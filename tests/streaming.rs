//! Responses while they stream, and HTTP/2 connections between requests: a slow download is
//! activity on HTTP/1.1, h2c and TLS h2 alike and is never cut by the header clock; a response
//! that stops moving is ended by the idle timeout; an idle HTTP/2 connection is closed even if
//! the client ignores the GOAWAY; the stream cap is the configured one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::ServerName;
use support::client::read_until_closed;
use support::h2raw::{headers, preface, read_frames_until};
use support::tls::TestCert;
use support::upstream::{Upstream, pattern, sha256_hex};
use support::{Gateway, route};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// 2.5 MiB in 20 chunks of 128 KiB, one every 200 ms: about 3.8 s, longer than twice the
/// header timeout of the gateways below (the header clock is checked once per timeout).
const SLOW: &str = "/backend/slow-download?bytes=2621440&chunk=131072&ms=200";
const SLOW_LEN: usize = 2_621_440;
const CLOCKS: &str = "header_read_timeout_secs = 1\nidle_timeout_secs = 10";
/// More than twice the header timeout.
const PAUSE: Duration = Duration::from_millis(2500);

fn routes(up: &Upstream) -> String {
    route("/backend/", &format!("http://{}", up.addr), "none", "")
}

fn get(uri: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(uri)
        .header("host", "gw.test")
        .body(Empty::new())
        .unwrap()
}

#[track_caller]
fn assert_whole_download(body: &[u8]) {
    assert_eq!(body.len(), SLOW_LEN);
    let expected: Vec<u8> = (0..SLOW_LEN).map(pattern).collect();
    assert_eq!(sha256_hex(body), sha256_hex(&expected));
}

/// A slow download, a pause longer than the header clock, then another request, all on one
/// HTTP/2 connection over `io`.
async fn slow_download_over_h2<I>(io: I, scheme: &str)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = sender
        .send_request(get(&format!("{scheme}://gw.test{SLOW}")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("the download was cut");
    assert_whole_download(&body.to_bytes());
    // Measures a timeout: quiet for longer than the header clock, which must not close it.
    tokio::time::sleep(PAUSE).await;
    let again = sender
        .send_request(get(&format!("{scheme}://gw.test/health")))
        .await
        .expect("the connection was closed after the download");
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_slow_h2c_download_is_not_cut_by_the_header_clock() {
    let up = Upstream::start().await;
    let gw = Gateway::start_with(CLOCKS, "", &routes(&up)).await;
    slow_download_over_h2(TcpStream::connect(gw.addr).await.unwrap(), "http").await;
}

#[tokio::test]
async fn a_slow_tls_h2_download_is_not_cut_by_the_header_clock() {
    let up = Upstream::start().await;
    let cert = TestCert::new();
    let gw = support::tls::gateway(&cert, CLOCKS, &routes(&up)).await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = cert.connector(b"h2").connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    slow_download_over_h2(tls, "https").await;
}

#[tokio::test]
async fn a_slow_http1_download_completes_and_the_connection_serves_on() {
    let up = Upstream::start().await;
    let gw = Gateway::start_with(CLOCKS, "", &routes(&up)).await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = sender.send_request(get(SLOW)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("the download was cut");
    assert_whole_download(&body.to_bytes());
    // Measures a timeout: quiet for longer than the header clock (and parked meanwhile), it
    // still serves.
    tokio::time::sleep(PAUSE).await;
    let again = sender.send_request(get("/health")).await.unwrap();
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_response_that_stops_moving_is_ended_by_the_idle_timeout() {
    let up = Upstream::start().await;
    let gw = Gateway::start_with("idle_timeout_secs = 1", "", &routes(&up)).await;
    let stall = "/backend/stall-download?bytes=1000";
    let limit = Duration::from_secs(30);

    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = h1.send_request(get(stall)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let read = tokio::time::timeout(limit, resp.into_body().collect()).await;
    assert!(read.expect("HTTP/1.1: never ended").is_err());

    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut h2, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = h2
        .send_request(get(&format!("http://gw.test{stall}")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let read = tokio::time::timeout(limit, resp.into_body().collect()).await;
    assert!(read.expect("h2: never ended").is_err());
}

#[tokio::test]
async fn the_h2_stream_cap_is_server_max_concurrent_streams() {
    let up = Upstream::start().await;
    let gw = Gateway::start_with("max_concurrent_streams = 3", "", &routes(&up)).await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    tcp.write_all(&preface()).await.unwrap();
    let mut cap = None;
    read_frames_until(&mut tcp, |kind, flags, _, payload| {
        if kind == 4 && flags & 1 == 0 {
            cap = payload
                .chunks(6)
                .find(|s| s[..2] == [0, 3])
                .map(|s| u32::from_be_bytes([s[2], s[3], s[4], s[5]]));
            return true;
        }
        false
    })
    .await;
    assert_eq!(cap, Some(3));
    // An attacker ignoring the setting: the fourth stream in flight is refused.
    for stream in [1, 3, 5, 7] {
        tcp.write_all(&headers(stream, 3, "/backend/hang", false))
            .await
            .unwrap();
    }
    read_frames_until(&mut tcp, |kind, _, stream, payload| {
        kind == 3 && stream == 7 && payload == [0, 0, 0, 7]
    })
    .await;
}

#[tokio::test]
async fn an_idle_h2_connection_that_ignores_goaway_is_closed() {
    let gw = Gateway::start_with(
        "header_read_timeout_secs = 1\nidle_timeout_secs = 1",
        "",
        "",
    )
    .await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    let hello = [preface(), headers(1, 2, "/health", true)].concat();
    tcp.write_all(&hello).await.unwrap();
    // The answer, then nothing from us: no SETTINGS ack, no PING ack, no close.
    read_frames_until(&mut tcp, |kind, flags, stream, _| {
        kind == 0 && stream == 1 && flags & 1 == 1
    })
    .await;
    read_until_closed(&mut tcp, 30).await;
}

#[tokio::test]
async fn shutdown_does_not_wait_on_an_h2_client_that_ignores_goaway() {
    let gw = Gateway::start_with("header_read_timeout_secs = 1", "", "").await;
    let mut tcp = TcpStream::connect(gw.addr).await.unwrap();
    let hello = [preface(), headers(1, 2, "/health", true)].concat();
    tcp.write_all(&hello).await.unwrap();
    read_frames_until(&mut tcp, |kind, flags, stream, _| {
        kind == 0 && stream == 1 && flags & 1 == 1
    })
    .await;
    // The connection is not idle yet (60 s); shutdown asks it to go, and it never acknowledges.
    drop(gw.stop().await);
    read_until_closed(&mut tcp, 30).await;
}
