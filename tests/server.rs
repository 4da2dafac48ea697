//! The listener: TLS termination (HTTP/1.1 and HTTP/2 by ALPN), HTTPS upstreams, slow and idle
//! clients, the connection cap, and draining in-flight requests on shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use support::client::{build, send};
use support::tls::TestCert;
use support::upstream::Upstream;
use support::{CONTRACT, Gateway, route, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn tls_gateway(cert: &TestCert, extra: &str) -> Gateway {
    support::tls::gateway(cert, "", extra).await
}

#[tokio::test]
async fn tls_terminates_with_http1_and_h2_by_alpn() {
    let cert = TestCert::new();
    let up = Upstream::start().await;
    let gw = tls_gateway(
        &cert,
        &route("/backend/", &format!("http://{}", up.addr), "required", ""),
    )
    .await;
    let name = ServerName::try_from("localhost").unwrap();

    // HTTP/1.1
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let tls = cert
        .connector(b"http/1.1")
        .connect(name.clone(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = build(
        "GET",
        "/backend/over-tls",
        &[("DAuth", &token(CONTRACT, "ETHEREUM"))],
        "",
    );
    let before = parks(&gw);
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(up.last().headers.get("x-forwarded-proto").unwrap(), "https");
    // Parked once quiet (server/h1.rs), the TLS connection still serves.
    parked_after(&gw, before).await;
    let req = build("GET", "/health", &[], "");
    assert_eq!(sender.send_request(req).await.unwrap().status(), 200);

    // HTTP/2
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let tls = cert.connector(b"h2").connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("https://localhost/obp/v5.1.0/users/current")
        .header("dauth", token(CONTRACT, "ETHEREUM"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains(CONTRACT));
}

#[tokio::test]
async fn plaintext_to_a_tls_port_is_not_served() {
    let cert = TestCert::new();
    let gw = tls_gateway(&cert, "").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    assert!(!String::from_utf8_lossy(&out).contains("\"ok\""));
}

#[tokio::test]
async fn https_upstream_is_verified_against_the_configured_ca() {
    let cert = TestCert::new();
    let up = Upstream::start_tls(&cert.cert_pem, &cert.key_pem).await;
    let upstream = format!("https://localhost:{}", up.addr.port());
    let trusted = route(
        "/trusted/",
        &upstream,
        "none",
        &format!("upstream_ca = {:?}", cert.path("cert.pem")),
    );
    let untrusted = route("/untrusted/", &upstream, "none", "");
    let gw = Gateway::start("", &format!("{trusted}{untrusted}")).await;
    let r = send(gw.addr, build("GET", "/trusted/x", &[], "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(up.last().uri, "/trusted/x");
    // Without the CA the self-signed upstream is not trusted.
    send(gw.addr, build("GET", "/untrusted/x", &[], ""))
        .await
        .assert_error(502, "DAUTH-5020");
    assert_eq!(up.seen().len(), 1);
}

/// How many connections the gateway has parked so far.
fn parks(gw: &Gateway) -> u64 {
    gw.state.shared().connections.parks()
}

/// Waits until the gateway has parked a connection since it counted `before` parks: a
/// readiness check on the gateway's own count, not a fixed pause. Parking happens after 100 ms
/// of quiet; it fails if none is parked within two seconds (well under the header timeout, so
/// a connection left unparked until the next header check is caught).
async fn parked_after(gw: &Gateway, before: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while parks(gw) <= before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no connection was parked within 2 s of quiet"
        );
        // The poll interval of this readiness check.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Reads one HTTP/1.1 response with a `content-length` body; returns its status line.
async fn read_response(tcp: &mut TcpStream, pending: &mut Vec<u8>) -> String {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("content-length");
            if pending.len() >= end + 4 + length {
                pending.drain(..end + 4 + length);
                return head.lines().next().unwrap().to_owned();
            }
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(n > 0, "the gateway closed the connection");
        pending.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn quiet_keep_alive_connections_are_parked_and_keep_serving() {
    let gw = Gateway::start("", "").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    let mut pending = Vec::new();
    let get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    let before = parks(&gw);
    tcp.write_all(get).await.unwrap();
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );

    // Parked, then woken by two pipelined requests in one write: both are answered.
    parked_after(&gw, before).await;
    let before = parks(&gw);
    tcp.write_all(&[&get[..], &get[..]].concat()).await.unwrap();
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );

    // Parked again, then woken by a head that arrives in pieces, its first byte alone.
    parked_after(&gw, before).await;
    let before = parks(&gw);
    tcp.write_all(&get[..1]).await.unwrap();
    tcp.flush().await.unwrap();
    tcp.write_all(&get[1..]).await.unwrap();
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );

    // A POST with a body, after another quiet spell (parked again).
    parked_after(&gw, before).await;
    tcp.write_all(b"POST /nowhere HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhello")
        .await
        .unwrap();
    assert!(
        read_response(&mut tcp, &mut pending)
            .await
            .starts_with("HTTP/1.1 404")
    );
    assert!(pending.is_empty(), "unexpected bytes: {pending:?}");
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut out))
        .await
        .expect("the gateway never closed the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slow_request_heads_are_cut_off_and_the_gateway_stays_up() {
    let gw = Gateway::start_with("header_read_timeout_secs = 1", "", "").await;
    let mut slow = TcpStream::connect(gw.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let said = read_until_closed(&mut slow).await;
    assert!(!said.contains("200"), "{said}");
    assert_eq!(support::get(gw.addr, "/health").await.status, 200);

    // The same after a request and a quiet spell (the connection was parked in between).
    let mut slow = TcpStream::connect(gw.addr).await.unwrap();
    let mut pending = Vec::new();
    let before = parks(&gw);
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut slow, &mut pending).await,
        "HTTP/1.1 200 OK"
    );
    parked_after(&gw, before).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nX-Slow: ")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut slow).await, "");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let gw = Gateway::start_with("idle_timeout_secs = 1", "", "").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let said = read_until_closed(&mut tcp).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn connections_over_the_cap_get_503() {
    let gw = Gateway::start_with("max_connections = 2", "", "").await;
    let _a = TcpStream::connect(gw.addr).await.unwrap();
    let _b = TcpStream::connect(gw.addr).await.unwrap();
    // The two above hold both slots once accepted; a request on a third is turned away.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let mut c = TcpStream::connect(gw.addr).await.unwrap();
        let said = read_until_closed(&mut c).await;
        if said.starts_with("HTTP/1.1 503") {
            assert!(said.contains("DAUTH-5032"), "{said}");
            statuses.push(503);
            break;
        }
        statuses.push(0);
    }
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests() {
    let up = Upstream::start().await;
    let gw = Gateway::start(
        "",
        &route("/backend/", &format!("http://{}", up.addr), "none", ""),
    )
    .await;
    let addr = gw.addr;
    let in_flight =
        tokio::spawn(async move { send(addr, build("GET", "/backend/hold", &[], "")).await });
    up.wait_for_held().await;
    let stopping = tokio::spawn(async move { drop(gw.stop().await) });
    // New connections are refused once the listener is closed; the held request still completes.
    up.release();
    let r = in_flight.await.unwrap();
    assert_eq!(r.status, 200);
    stopping.await.unwrap();
    assert!(TcpStream::connect(addr).await.is_err());
}

/// A new policy (what a reload installs) is seen by the next request on a connection that was
/// open before it: connections do not pin the policy they started with.
#[tokio::test]
async fn an_open_keep_alive_connection_sees_a_new_policy() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let text = support::config_text(&store, "", "");
    let gw = Gateway::start_text(&text).await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    let mut pending = Vec::new();
    let jwks = b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n";
    tcp.write_all(jwks).await.unwrap();
    // No [issuer]: the endpoint does not exist.
    assert!(
        read_response(&mut tcp, &mut pending)
            .await
            .starts_with("HTTP/1.1 404")
    );
    let key = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/dev/issuer_private.pem");
    let issuer = format!(
        "[issuer]\nurl = \"http://gw.test\"\nprivate_key = {:?}\nkid = \"k1\"\n",
        key.display().to_string()
    );
    let config = dauth_proxy::Config::from_toml(
        &support::config_text(&store, "", &issuer),
        std::path::Path::new("reloaded.toml"),
    )
    .unwrap();
    gw.state.install(config).await.unwrap();
    tcp.write_all(jwks).await.unwrap();
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );
}
