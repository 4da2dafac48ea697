//! Embedded handlers: routing by (method, path) and the JSON in and out of them.
//!
//! This module owns the handlers the gateway answers itself (`/health`, OBP's
//! `/users/current`) and the response helpers every layer uses (JSON bodies, the error shape).
//! It does not authenticate: the pipeline hands each handler an already-checked principal.

pub mod access;
pub mod accounts;
pub mod obp_paths;
pub mod users;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use hyper::body::Incoming;
use serde::Serialize;

use crate::app::State;
use crate::auth::Principal;
use crate::error::Error;
use obp_paths::AccountPath;

/// Any boxed error a body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The response body type of the whole gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// An embedded endpoint, found by [`endpoint_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /health`: liveness, no authentication.
    Health,
    /// `GET /obp/{version}/users/current`.
    CurrentUser,
    /// `/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/...`.
    Account(AccountPath),
}

impl Endpoint {
    /// The path namespace the endpoint lives in. A route whose prefix matches the path and is
    /// at least this long claims the path from the embedded handler.
    pub fn namespace(&self) -> &'static str {
        match self {
            Self::Health => "/health",
            Self::CurrentUser | Self::Account(_) => "/obp/",
        }
    }

    /// The methods the endpoint answers, as an `Allow` header value.
    pub fn allow(&self) -> &'static str {
        match self {
            Self::Health | Self::CurrentUser => "GET, HEAD",
            Self::Account(p) => p.op.allow(),
        }
    }

    /// Refuses methods the endpoint does not answer.
    pub fn check_method(&self, method: &Method) -> Result<(), Error> {
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
        _ => obp_paths::parse(path).map(Endpoint::Account),
    }
}

/// Largest JSON body an embedded endpoint reads.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a JSON body of at most [`MAX_JSON_BODY`] bytes into `T`; `expected` names the body in
/// OBP-10001 errors.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    body: Incoming,
    expected: &'static str,
) -> Result<T, Error> {
    let bytes = match Limited::new(body, MAX_JSON_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(Error::BodyTooLarge),
        Err(_) => return Err(Error::InvalidJson { expected }),
    };
    serde_json::from_slice(&bytes).map_err(|_| Error::InvalidJson { expected })
}

/// Answers an authenticated request for an embedded endpoint.
pub async fn serve(
    state: &State,
    endpoint: Endpoint,
    req: Request<Incoming>,
    who: &Principal,
) -> Result<Response<Body>, Error> {
    match endpoint {
        Endpoint::Health => Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}))),
        Endpoint::CurrentUser => users::current_user(&state.store, who),
        Endpoint::Account(path) => {
            let method = req.method().clone();
            let body = req.into_body();
            accounts::serve(state, path, &method, body, who).await
        }
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
        assert!(matches!(
            endpoint_for("/obp/v4.0.0/banks/b/accounts/a/views"),
            Some(Endpoint::Account(_))
        ));
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
