//! Request bodies from hostile or broken clients: a body that stops arriving is answered 408
//! and ends the HTTP/1.1 connection (embedded endpoints and forwarded uploads alike, HTTP/1.1
//! and HTTP/2); a slow but steady upload is not cut by the upstream's clock; a malformed or
//! cut-short body is the client's fault (400), never an upstream failure (502).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use bytes::Bytes;
use http_body_util::BodyExt;
use support::binary::Binary;
use support::client::{self, ChannelBody, build, read_until_closed, send};
use support::upstream::{Upstream, sha256_hex};
use support::{Gateway, config_text_with, h2raw, keys, route};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn issuer() -> String {
    let key = keys().dir.join("trusted_private.pem").display().to_string();
    format!("[issuer]\nurl = \"http://gw.test\"\nprivate_key = {key:?}\nkid = \"t\"\n")
}

/// A gateway with the user service and a route `/backend/` to `up`, with `server` lines.
async fn gateway(server: &str, up: &Upstream, route_extra: &str) -> Gateway {
    let routes = route(
        "/backend/",
        &format!("http://{}", up.addr),
        "none",
        route_extra,
    );
    Gateway::start_with(server, "", &format!("{}{routes}", issuer())).await
}

/// The head of a `POST` announcing 100 bytes, and 9 of them.
fn stalled_post(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"email\":"
    )
}

/// Sends `raw`, then nothing; returns all the gateway said before it closed the connection.
async fn send_and_stall(gw: &Gateway, raw: &str) -> String {
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(raw.as_bytes()).await.unwrap();
    read_until_closed(&mut tcp, 30).await
}

#[track_caller]
fn assert_408_and_close(said: &str) {
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("DAUTH-1408"), "{said}");
    assert!(
        said.to_ascii_lowercase().contains("connection: close"),
        "{said}"
    );
}

#[tokio::test]
async fn a_stalled_body_on_an_embedded_endpoint_is_408_and_ends_the_connection() {
    let up = Upstream::start().await;
    // The body read timeout defaults to the idle timeout.
    let gw = gateway("idle_timeout_secs = 1", &up, "").await;
    for path in ["/api/auth/login", "/api/auth/register", "/oidc/token"] {
        assert_408_and_close(&send_and_stall(&gw, &stalled_post(path)).await);
    }
    // Chunked, stalled inside a chunk.
    let chunked = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                   5\r\n{\"ema\r\n10\r\nil\"";
    assert_408_and_close(&send_and_stall(&gw, chunked).await);
}

#[tokio::test]
async fn a_trickled_body_on_an_embedded_endpoint_is_408_too() {
    let up = Upstream::start().await;
    let gw = gateway("idle_timeout_secs = 1", &up, "").await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut rx, mut tx) = tcp.into_split();
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
    tx.write_all(head.as_bytes()).await.unwrap();
    // A byte every 300 ms: never a gap as long as the body read timeout.
    tokio::spawn(async move {
        for _ in 0..100 {
            if tx.write_all(b" ").await.is_err() {
                return;
            }
            // Measures a timeout: the trickle's pace is the point (no gap reaches the body
            // read timeout, the whole body does), so this pause stays.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    });
    let mut said = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut rx, &mut said);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(20), read).await;
    assert_408_and_close(&String::from_utf8_lossy(&said));
}

#[tokio::test]
async fn stalled_bodies_do_not_hold_the_connection_cap() {
    let up = Upstream::start().await;
    let gw = gateway("idle_timeout_secs = 1\nmax_connections = 3", &up, "").await;
    let mut stalled = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
        tcp.write_all(stalled_post("/api/auth/login").as_bytes())
            .await
            .unwrap();
        stalled.push(tcp);
    }
    for tcp in &mut stalled {
        assert_408_and_close(&read_until_closed(tcp, 30).await);
    }
    assert_eq!(support::get(gw.addr, "/health").await.status, 200);
}

#[tokio::test]
async fn body_read_timeout_secs_is_its_own_clock() {
    let up = Upstream::start().await;
    let gw = gateway(
        "idle_timeout_secs = 300\nbody_read_timeout_secs = 1",
        &up,
        "",
    )
    .await;
    assert_408_and_close(&send_and_stall(&gw, &stalled_post("/api/auth/login")).await);
}

#[tokio::test]
async fn a_stalled_forwarded_upload_is_408_not_502_or_504() {
    let up = Upstream::start().await;
    // The route's upstream clock (1 s) is shorter than the body's (2 s): the client's stall
    // is not the upstream's fault.
    let gw = gateway("idle_timeout_secs = 2", &up, "timeout_secs = 1").await;
    assert_408_and_close(&send_and_stall(&gw, &stalled_post("/backend/upload")).await);
    let chunked = "POST /backend/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                   5\r\nhello\r\n10\r\nabc";
    assert_408_and_close(&send_and_stall(&gw, chunked).await);
    assert_eq!(up.seen().len(), 2, "the uploads reached the upstream");

    // Over HTTP/2: the stream is answered 408, the connection serves on.
    let mut h2 = client::h2c::<ChannelBody>(gw.addr).await;
    let (tx, body) = ChannelBody::new();
    tx.send(Bytes::from_static(b"first bytes")).await.unwrap();
    let req = http::Request::post("http://gw.test/backend/upload")
        .body(body)
        .unwrap();
    let resp = h2.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 408);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("DAUTH-1408"));
    drop(tx);
    let (_tx, empty) = ChannelBody::new();
    let health = http::Request::get("http://gw.test/health").body(empty);
    assert_eq!(
        h2.send_request(health.unwrap()).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_slow_steady_upload_is_not_cut_by_the_upstream_clock() {
    let up = Upstream::start().await;
    let gw = gateway("idle_timeout_secs = 2", &up, "timeout_secs = 1").await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let (tx, body) = ChannelBody::new();
    let req = http::Request::post("/backend/slow-upload")
        .header("host", "x")
        .body(body)
        .unwrap();
    let sending = tokio::spawn(async move { sender.send_request(req).await.unwrap() });
    // 2.4 s in all, longer than the route's timeout; never a gap as long as the body's.
    let mut all = Vec::new();
    for i in 0..6u8 {
        let chunk = vec![i; 10_000];
        all.extend_from_slice(&chunk);
        tx.send(chunk.into()).await.unwrap();
        // Measures a timeout: the upload must outlast the route's timeout at this pace.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    drop(tx);
    let resp = sending.await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["body_sha256"], sha256_hex(&all));
}

/// Bodies whose chunked framing is broken, or which end before their `Content-Length`.
fn broken_bodies(path: &str) -> Vec<(&'static str, String)> {
    let chunked = format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    vec![
        ("bad chunk size", format!("{chunked}zz\r\nabc\r\n0\r\n\r\n")),
        (
            "chunk longer than its size",
            format!("{chunked}3\r\nabcdef\r\n0\r\n\r\n"),
        ),
        (
            "chunk size overflow",
            format!("{chunked}fffffffffffffffffffff\r\na\r\n"),
        ),
        (
            "garbage after the size",
            format!("{chunked}3 x\r\nabc\r\n0\r\n\r\n"),
        ),
    ]
}

#[tokio::test]
async fn malformed_request_bodies_are_the_clients_fault() {
    let up = Upstream::start().await;
    let gw = gateway("", &up, "").await;
    for path in ["/backend/upload", "/api/auth/login"] {
        for (what, raw) in broken_bodies(path) {
            let said = send_and_stall(&gw, &raw).await;
            assert!(said.starts_with("HTTP/1.1 400"), "{path} {what}: {said}");
            assert!(said.contains("DAUTH-1406"), "{path} {what}: {said}");
        }
    }
}

#[tokio::test]
async fn a_body_cut_short_is_logged_as_the_clients_not_the_upstreams() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let routes = route("/backend/", &format!("http://{}", up.addr), "none", "");
    let text = config_text_with(&dir.path().join("store"), "", "", &routes);
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, text).unwrap();
    let gw = Binary::spawn(&config);
    // HTTP/2: a stream reset by the client halfway through its body (RST_STREAM, CANCEL), then
    // a request on the same connection, answered once the reset has been seen.
    let mut h2 = TcpStream::connect(gw.addr).await.unwrap();
    let reset = [
        h2raw::preface(),
        h2raw::headers(1, 3, "/backend/upload", false),
        h2raw::frame(0, 0, 1, b"part of it"),
        h2raw::frame(3, 0, 1, &[0, 0, 0, 8]),
        h2raw::headers(3, 2, "/health", true),
    ];
    h2.write_all(&reset.concat()).await.unwrap();
    h2raw::read_frames_until(&mut h2, |kind, flags, stream, _| {
        kind == 0 && stream == 3 && flags & 1 == 1
    })
    .await;
    for (_, raw) in broken_bodies("/backend/upload") {
        let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
        tcp.write_all(raw.as_bytes()).await.unwrap();
        read_until_closed(&mut tcp, 30).await;
    }
    // Content-Length: 100, 9 bytes, then the client closes its side.
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(stalled_post("/backend/upload").as_bytes())
        .await
        .unwrap();
    tcp.shutdown().await.unwrap();
    read_until_closed(&mut tcp, 30).await;
    // The request lines are logged once the responses are written; wait for all five.
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let answered = |l: &&String| l.contains("status=400") && l.contains("DAUTH-1406");
    while lines.iter().filter(answered).count() < 5 {
        assert!(std::time::Instant::now() < deadline, "{lines:#?}");
        lines.extend(gw.drain_output());
        // The poll interval of a readiness check, bounded by the deadline above.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = lines.join("\n");
    assert!(!log.contains("upstream failure"), "{log}");
    assert!(!log.contains("DAUTH-5020"), "{log}");
    assert!(log.contains("client request body"), "{log}");
}

#[tokio::test]
async fn a_large_upload_still_streams_through() {
    let up = Upstream::start().await;
    let gw = gateway("idle_timeout_secs = 1", &up, "").await;
    let data = vec![7u8; 3 * 1024 * 1024];
    let r = send(gw.addr, build("POST", "/backend/big", &[], data.clone())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["body_sha256"], sha256_hex(&data));
}
