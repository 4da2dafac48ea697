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

/// An embedded endpoint, found by [`endpoint_for`].
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

    /// The path namespace the endpoint lives in. A route whose prefix matches the path and is
    /// at least this long claims the path from the embedded handler.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Health => "/health",
            Self::CurrentUser => "/obp/",
        }
    }

    /// The methods the endpoint answers, as an `Allow` header value.
    pub fn allow(self) -> &'static str {
        match self {
            Self::Health | Self::CurrentUser => "GET, HEAD",
        }
    }

    /// Refuses methods the endpoint does not answer.
    pub fn check_method(self, method: &Method) -> Result<(), Error> {
        let allow = self.allow();
        if allow.split(", ").any(|m| m == method.as_str()) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed { allow })
        }
    }
}

/// The embedded endpoint serving `path`, if any.
pub fn endpoint_for(path: &str) -> Option<Endpoint> {
    match path {
        "/health" => Some(Endpoint::Health),
        _ if users::is_current_user_path(path) => Some(Endpoint::CurrentUser),
        _ => None,
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
    if let Error::MethodNotAllowed { allow } = err {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
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
    fn finds_embedded_paths_and_checks_methods() {
        assert_eq!(endpoint_for("/health"), Some(Endpoint::Health));
        assert_eq!(
            endpoint_for("/obp/v5.1.0/users/current"),
            Some(Endpoint::CurrentUser)
        );
        assert_eq!(endpoint_for("/nope"), None);
        assert!(matches!(
            Endpoint::Health.check_method(&Method::POST),
            Err(Error::MethodNotAllowed { .. })
        ));
        Endpoint::Health.check_method(&Method::HEAD).unwrap();
    }
}
