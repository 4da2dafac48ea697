//! `GET /openapi.json`: the OpenAPI 3.1 document of the embedded endpoints, written by hand in
//! `openapi.json` beside this file and served as it is.
//!
//! It is kept true by `tests/openapi.rs`: its paths and methods are compared with the endpoint
//! table both ways ([`crate::pipeline::embedded_endpoints`]), it is validated against the
//! OpenAPI 3.1 meta-schema, every error code it names is one of the error table's, and real
//! answers of a running gateway are validated against the schemas it gives for them.

use http::{HeaderValue, StatusCode, header};

use crate::http::body::{Body, full};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// How long a client or cache may keep the document (it changes only with the binary).
const CACHE_CONTROL: &str = "public, max-age=3600";

/// The answer to `GET /openapi.json`: the document, `application/json`, cacheable.
pub(crate) fn document() -> http::Response<Body> {
    let mut resp = http::Response::new(full(DOCUMENT));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    resp
}
