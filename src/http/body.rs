//! The response body type of the whole gateway: a boxed body of [`Bytes`] that may fail with
//! any error, so a fixed JSON answer and a streaming upstream response are one type.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};

/// Any boxed error a body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The response body type of the whole gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// Wraps a fixed body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}
