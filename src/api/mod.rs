//! Embedded handlers: routing by (method, path) and the JSON in and out of them.
//!
//! This module owns the handlers the gateway answers itself (`/health`, OBP's
//! `/users/current`) and the response helpers every layer uses (JSON bodies, the error shape).
//! It does not authenticate: the pipeline hands each handler an already-checked principal.

pub mod users;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use serde::Serialize;

use crate::error::Error;

/// Any boxed error a body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The response body type of the whole gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// An embedded endpoint, found by [`route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /health`: liveness, no authentication.
    Health,
    /// `GET /obp/{version}/users/current`.
    CurrentUser,
}

impl Endpoint {
    /// Whether the endpoint needs an authenticated caller.
    pub fn requires_auth(self) -> bool {
        match self {
            Self::Health => false,
            Self::CurrentUser => true,
        }
    }
}

/// Finds the embedded endpoint for `method` and `path`.
///
/// `Ok(None)`: no embedded endpoint has this path. `Err(MethodNotAllowed)`: one does, for other
/// methods.
pub fn route(method: &Method, path: &str) -> Result<Option<Endpoint>, Error> {
    let endpoint = match path {
        "/health" => Endpoint::Health,
        _ if users::is_current_user_path(path) => Endpoint::CurrentUser,
        _ => return Ok(None),
    };
    if method == Method::GET || method == Method::HEAD {
        Ok(Some(endpoint))
    } else {
        Err(Error::MethodNotAllowed)
    }
}

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => bytes_response(status, bytes),
        // Our response types always serialise; answer something well-formed regardless.
        Err(_) => bytes_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"code":500,"message":"DAUTH-5000: Internal error."}"#.to_vec(),
        ),
    }
}

/// The error shape `{"code": <status>, "message": "<CODE>: <text>"}`, with
/// `WWW-Authenticate` on 401 and `Allow` on 405.
pub fn error_response(err: &Error) -> Response<Body> {
    let status = err.status();
    let body = ErrorBody {
        code: status.as_u16(),
        message: err.message(),
    };
    let mut resp = json(status, &body);
    let headers = resp.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"DAuth realm="dauth-proxy""#),
        );
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// The JSON error body.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// Equal to the HTTP status.
    pub code: u16,
    /// `"<CODE>: <text>"`.
    pub message: String,
}

/// Wraps a fixed body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_embedded_paths_and_methods() {
        assert_eq!(
            route(&Method::GET, "/health").unwrap(),
            Some(Endpoint::Health)
        );
        assert_eq!(
            route(&Method::GET, "/obp/v5.1.0/users/current").unwrap(),
            Some(Endpoint::CurrentUser)
        );
        assert_eq!(route(&Method::GET, "/nope").unwrap(), None);
        assert!(matches!(
            route(&Method::POST, "/health"),
            Err(Error::MethodNotAllowed)
        ));
    }
}
