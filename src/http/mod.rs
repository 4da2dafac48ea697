//! HTTP plumbing every layer shares, and nothing else: the response body type ([`body`]), the
//! client's request body with its clock ([`client_body`]), reading a bounded body
//! ([`read`]), and the JSON, text and error responses (`render`).
//!
//! It knows no endpoint, route or principal: handlers, the pipeline, the proxy and the server
//! use it, never the other way round.

pub mod body;
pub mod client_body;
pub mod read;
pub(crate) mod render;
