//! Responses the gateway writes itself: JSON, plain text, and the error shape.

use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

use super::body::{Body, full};
use crate::error::{Error, Header};

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A JSON response with `status`.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => bytes_response(status, bytes),
        // Our response types always serialise; answer something well-formed regardless.
        Err(_) => bytes_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"code":500,"message":"DAUTH-5000: Internal error."}"#.to_vec(),
        ),
    }
}

/// The error shape `{"code": <status>, "message": "<CODE>: <text>"}`, with the header the
/// error's row of the table gives ([`Error::public`]).
pub(crate) fn error_response(err: &Error) -> Response<Body> {
    let public = err.public();
    let body = ErrorBody {
        code: public.status.as_u16(),
        message: err.message(),
    };
    let mut resp = json(public.status, &body);
    let headers = resp.headers_mut();
    match public.header {
        Header::None => {}
        Header::Challenge(challenge) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        Header::InsufficientScope(scope) => {
            let challenge = format!(
                r#"Bearer realm="dauth-proxy", error="insufficient_scope", scope="{scope}""#
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        Header::Allow(allow) => {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        Header::RetryAfter(secs) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    resp
}

/// The JSON error body.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// Equal to the HTTP status.
    pub code: u16,
    /// `"<CODE>: <text>"`.
    pub message: String,
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
