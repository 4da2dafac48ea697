//! Network identity of a caller: CIDR lists and the client-IP rule.
//!
//! This module decides *which address* a request comes from (`client_ip`) and whether an
//! address is in a configured list ([`CidrList`]). It does not decide what a list is for; the
//! auth and proxy layers do. [`coalesce`] is the stream under every HTTP connection, both
//! the clients' and the backends': it batches small writes across connections.

mod allow;
mod client_ip;
pub mod coalesce;

pub use allow::{CidrList, CidrParseError};
pub use client_ip::{X_FORWARDED_FOR, client_ip};
