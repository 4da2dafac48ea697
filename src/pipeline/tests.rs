//! The whole pipeline without a socket: requests with bodies in memory, through [`handle`].

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};

use super::{ConnInfo, handle};
use crate::config::Config;
use crate::http::client_body::ClientBody;
use crate::state::State;
use crate::store::sled::SledStore;

async fn state() -> State {
    let config = Config::from_toml("[dauth]\nenabled = false\n", std::path::Path::new("p.toml"));
    State::new(config.unwrap(), SledStore::temporary().unwrap().stores(0))
        .await
        .unwrap()
}

/// `method path` with `body`; the status, the headers and the body.
async fn request(
    state: &State,
    method: Method,
    path: &str,
    body: &'static str,
) -> (StatusCode, http::HeaderMap, String) {
    let policy = state.policy();
    let timeout = policy.config.server.body_read_timeout;
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "gw.test")
        .body(ClientBody::new(Full::new(Bytes::from(body)), timeout))
        .unwrap();
    let conn = ConnInfo {
        peer: SocketAddr::from(([127, 0, 0, 1], 40_000)),
        tls: false,
    };
    let resp = handle(state.shared(), &policy, req, conn).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn health_is_answered_and_other_methods_are_told_the_allowed_ones() {
    let state = state().await;
    let (status, _, body) = request(&state, Method::GET, "/health", "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let (status, headers, body) = request(&state, Method::POST, "/health", "x").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "GET, HEAD");
    assert!(body.contains("DAUTH-1405"), "{body}");
}

#[tokio::test]
async fn an_endpoint_that_needs_a_caller_challenges_for_one_before_it_reads_anything() {
    let state = state().await;
    let path = "/obp/v4.0.0/banks/b/accounts/a/views";
    let (status, headers, body) = request(&state, Method::POST, path, "not json").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("DAuth realm=")
    );
    assert!(body.contains("OBP-20001"), "{body}");
}

#[tokio::test]
async fn options_and_unknown_paths() {
    let state = state().await;
    let (status, headers, body) = request(&state, Method::OPTIONS, "/oidc/token", "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "POST, OPTIONS"));
    assert_eq!(headers[header::ALLOW], "POST, OPTIONS");
    let (status, _, body) = request(&state, Method::GET, "/nowhere", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("DAUTH-1404"), "{body}");
}

/// Every request's future is copied as it is made and boxed, so its size is per-request work.
/// It was 19.6 KB: the inner future held twice (kept in a local, then moved into `instrument`,
/// rust-lang/rust#62958), and the retrying forward holding an upstream future of its own beside
/// the plain one (10.1 KB in a debug build). Then about 5.4 KB (5.8 KB in release); 6.2 KB in a
/// debug build since the upstream pool's send is held inline (its connect path is boxed: inline
/// it made 10.5 KB), and its connection boxed (held inline, now that no task of its own holds
/// it, it made 8.3 KB). In a release build (`-Zprint-type-sizes`) the gateway's future went from
/// 6.6 to 5.8 KB once the upstream's clock held the send future once (1.8 KB to 208 bytes) and
/// the Airnode way in was boxed (authentication 3.4 to 1.6 KB). Boxing the forward as well
/// made it 4.0 KB but cost more than the copies it saved (B +0.2 CPU µs in 3 pairs).
#[tokio::test]
async fn a_request_future_holds_its_parts_once() {
    let state = state().await;
    let policy = state.policy();
    let timeout = policy.config.server.body_read_timeout;
    let req = Request::builder()
        .uri("/health")
        .body(ClientBody::new(Full::new(Bytes::new()), timeout))
        .unwrap();
    let conn = ConnInfo {
        peer: SocketAddr::from(([127, 0, 0, 1], 40_000)),
        tls: false,
    };
    let fut = handle(state.shared(), &policy, req, conn);
    let size = std::mem::size_of_val(&fut);
    assert!(size <= 8 * 1024, "the request future is {size} bytes");
    let resp = fut.await;
    assert_eq!(resp.status(), StatusCode::OK);
}
