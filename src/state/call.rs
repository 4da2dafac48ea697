//! [`Call`]: one request as an embedded handler sees it: the shared state, the policy snapshot
//! the request loaded, its head, the TCP peer and the time it is judged at.

use std::net::IpAddr;

use http::request::Parts;

use super::policy::Policy;
use super::shared::Shared;

/// One call of an embedded endpoint (see the module docs). The body is handed in beside it,
/// read whole by the pipeline.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// The shared state.
    pub shared: &'a Shared,
    /// The policy snapshot of this request.
    pub policy: &'a Policy,
    /// Method, URI (canonical path) and headers.
    pub head: &'a Parts,
    /// The TCP peer (canonical form), not the client address a trusted proxy vouches for.
    pub peer: IpAddr,
    /// Unix seconds, read once for the whole request.
    pub now: i64,
}
