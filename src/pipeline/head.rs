//! The request head as the pipeline checks it: the one canonical path, the head's size, and
//! the host the client asked for.

use http::{Request, header};

use crate::error::Error;

/// Rewrites the request's path, once, to its canonical form ([`crate::path::canonical`]), or
/// refuses it: routes, view checks, embedded handlers and the upstream all see that one path.
/// The query string is not routed on and stays as it came.
pub(super) fn canonicalise<B>(req: &mut Request<B>) -> Result<(), Error> {
    let path = match crate::path::canonical(req.uri().path())? {
        std::borrow::Cow::Borrowed(_) => return Ok(()),
        std::borrow::Cow::Owned(path) => path,
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(
        format!("{path}{query}")
            .parse()
            // Nothing to keep: the path was checked; only the client's query can fail here.
            .map_err(|_| Error::BadPath)?,
    );
    // Nothing to keep: the parts came from a valid URI and a checked path.
    *req.uri_mut() = http::Uri::from_parts(parts).map_err(|_| Error::BadPath)?;
    Ok(())
}

/// Bytes of the request line and headers, as they would appear on an HTTP/1.1 wire.
pub(super) fn size<B>(req: &Request<B>) -> usize {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + 12;
    line + req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
}

pub(super) fn host_of<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
}
