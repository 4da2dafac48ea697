//! Network identity of a caller: CIDR lists and the client-IP rule.
//!
//! This module decides *which address* a request comes from (`client_ip`) and whether an
//! address is in a configured list ([`CidrList`]). It does not decide what a list is for; the
//! auth and proxy layers do.

mod allow;
mod client_ip;

pub use allow::{CidrList, CidrParseError};
pub use client_ip::{X_FORWARDED_FOR, client_ip};
