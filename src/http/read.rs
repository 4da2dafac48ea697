//! Reading a request body whole, for the embedded endpoints: bounded in size and in time, then
//! handed to the handler as a [`Payload`].

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as HttpBody;

use super::body::BoxError;
use super::client_body::{ClientBody, client_fault};
use crate::error::Error;

/// Largest body an embedded endpoint reads (JSON, or the token endpoint's form).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a body of at most `limit` bytes. All of it must arrive within the body read timeout,
/// not only each piece: a small body trickled a byte at a time would otherwise hold its
/// connection for hours. A body that does not is [`Error::BodyTimeout`], one that cannot be read
/// [`Error::BadBody`] (see [`super::client_body`]), one too large [`Error::BodyTooLarge`].
pub async fn read_body<B>(body: ClientBody<B>, limit: usize) -> Result<Bytes, Error>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    let whole = body.timeout();
    let collected = tokio::time::timeout(whole, Limited::new(body, limit).collect());
    match collected.await {
        Err(_) => Err(Error::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Error::BodyTooLarge),
        Ok(Err(e)) => {
            Err(client_fault(e.as_ref()).map_or_else(|| Error::BadBody(e.to_string()), Error::from))
        }
    }
}

/// An embedded endpoint's request body, read whole by the pipeline before the handler runs.
///
/// A body that could not be read (too large, too slow, broken) is kept as its error and
/// reported where the handler first looks at the body: a handler's earlier checks (is the
/// endpoint configured, may the caller use it) answer first, as they would if the handler read
/// the body itself.
#[derive(Debug)]
pub struct Payload(Result<Bytes, Error>);

impl Payload {
    /// Reads `body` (at most [`MAX_JSON_BODY`] bytes).
    pub async fn read<B>(body: ClientBody<B>) -> Self
    where
        B: HttpBody<Data = Bytes> + Unpin,
        B::Error: Into<BoxError>,
    {
        Self(read_body(body, MAX_JSON_BODY).await)
    }

    /// A body that was read already (no body: empty).
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(Ok(bytes.into()))
    }

    /// The bytes, or why they could not be read.
    pub fn bytes(self) -> Result<Bytes, Error> {
        self.0
    }

    /// The body as JSON of type `T`; `expected` names it in `OBP-10001` errors.
    pub fn json<T: serde::de::DeserializeOwned>(self, expected: &'static str) -> Result<T, Error> {
        let bytes = self.0?;
        // Nothing to keep: a body that is not the JSON expected is the client's, answered 400.
        serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson { expected })
    }
}

impl Default for Payload {
    /// No body.
    fn default() -> Self {
        Self::new(Bytes::new())
    }
}
