//! Reading a request body whole, for the embedded endpoints: bounded in size and in time.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use super::client_body::{ClientBody, client_fault};
use crate::error::Error;

/// Largest JSON body an embedded endpoint reads.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a JSON body of at most [`MAX_JSON_BODY`] bytes into `T`; `expected` names the body in
/// OBP-10001 errors.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    body: ClientBody,
    expected: &'static str,
) -> Result<T, Error> {
    let bytes = read_body(body).await?;
    serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson { expected })
}

/// Reads a body of at most [`MAX_JSON_BODY`] bytes. All of it must arrive within the body read
/// timeout, not only each piece: a small body trickled a byte at a time would otherwise hold its
/// connection for hours. A body that does not is [`Error::BodyTimeout`], one that cannot be read
/// [`Error::BadBody`] (see [`super::client_body`]).
pub async fn read_body(body: ClientBody) -> Result<Bytes, Error> {
    let whole = body.timeout();
    let collected = tokio::time::timeout(whole, Limited::new(body, MAX_JSON_BODY).collect());
    match collected.await {
        Err(_) => Err(Error::BodyTimeout),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(Error::BodyTooLarge),
        Ok(Err(e)) => {
            Err(client_fault(e.as_ref()).map_or_else(|| Error::BadBody(e.to_string()), Error::from))
        }
    }
}
