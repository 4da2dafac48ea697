//! Forwarding over real HTTP to a real upstream: identity headers, header hygiene, bodies byte
//! for byte, route rules, and every failure answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use dauth_proxy::auth::mint::DauthTokenSpec;
use http_body_util::BodyExt;
use support::client::{self, build, send, send_h2};
use support::upstream::{Upstream, pattern, sha256_hex};
use support::{CONTRACT, CONTRACT_LOWER, Gateway, route, token, token_with};

async fn setup(auth: &str, extra: &str) -> (Upstream, Gateway) {
    let up = Upstream::start().await;
    let routes = route("/backend/", &format!("http://{}", up.addr), auth, extra);
    let gw = Gateway::start("", &routes).await;
    (up, gw)
}

#[tokio::test]
async fn identity_headers_arrive_and_spoofed_ones_do_not() {
    let (up, gw) = setup("required", "").await;
    let mut spec = DauthTokenSpec::new(CONTRACT_LOWER, "ETHEREUM", "consumer-1");
    spec.msg_sender = Some(CONTRACT_LOWER.into());
    let t = token_with(&spec);
    let headers = [
        ("DAuth", t.as_str()),
        ("X-DAuth-User-Id", "admin"),
        ("x_dauth_user_id", "admin"),
        ("X_DAUTH_USERNAME", "0xevil"),
        ("X-User-Ctx", "eyJpZCI6Il9fc3lzdGVtIn0="),
        ("x_user_ctx", "eyJpZCI6Il9fc3lzdGVtIn0="),
    ];
    let r = send(gw.addr, build("GET", "/backend/who", &headers, "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("x-upstream"), Some("yes"));
    let user_id = gw.current_user(&token(CONTRACT, "ETHEREUM")).await.json()["user_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let seen = up.last().headers;
    let one = |name: &str| {
        seen.get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(one("x-dauth-user-id"), vec![user_id]);
    assert_eq!(one("x-dauth-username"), vec![CONTRACT.to_owned()]);
    assert_eq!(one("x-dauth-provider"), vec!["ETHEREUM".to_owned()]);
    assert_eq!(one("x-dauth-consumer-key"), vec!["consumer-1".to_owned()]);
    assert_eq!(one("x-dauth-msg-sender"), vec![CONTRACT.to_owned()]);
    assert_eq!(one("x-dauth-auth-method"), vec!["dauth".to_owned()]);
    for gone in [
        "x_dauth_user_id",
        "x_dauth_username",
        "x-user-ctx",
        "x_user_ctx",
        "dauth",
    ] {
        assert!(seen.get(gone).is_none(), "{gone} reached the upstream");
    }
}

#[tokio::test]
async fn spoofed_identity_is_stripped_on_unauthenticated_routes_too() {
    let (up, gw) = setup("none", "").await;
    let headers = [
        ("X-DAuth-User-Id", "admin"),
        ("x_dauth_auth_method", "dauth"),
        ("X-User-Ctx", "e30="),
    ];
    assert_eq!(
        send(gw.addr, build("GET", "/backend/open", &headers, ""))
            .await
            .status,
        200
    );
    let seen = up.last().headers;
    assert!(
        seen.keys()
            .all(|k| !k.as_str().replace('_', "-").starts_with("x-dauth-") && k != "x-user-ctx"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn forward_token_keeps_the_dauth_header() {
    let (up, gw) = setup("required", "forward_token = true").await;
    let t = token(CONTRACT, "ETHEREUM");
    assert_eq!(gw.get_dauth("/backend/x", &t).await.status, 200);
    assert_eq!(up.last().headers.get("dauth").unwrap(), t.as_str());
}

#[tokio::test]
async fn upstream_sees_nothing_when_authentication_fails() {
    let (up, gw) = setup("required", "").await;
    send(gw.addr, build("GET", "/backend/x", &[], ""))
        .await
        .assert_error(401, "OBP-20001");
    gw.get_dauth("/backend/x", "garbage")
        .await
        .assert_error(401, "OBP-20071");
    let t = token(CONTRACT, "ETHEREUM");
    assert_eq!(gw.get_dauth("/backend/x", &t).await.status, 200);
    gw.get_dauth("/backend/x", &t)
        .await
        .assert_error(401, "DAUTH-2007");
    assert_eq!(
        up.seen().len(),
        1,
        "only the one valid request may reach the upstream"
    );
}

#[tokio::test]
async fn optional_routes_pass_anonymous_callers_but_refuse_bad_tokens() {
    let (up, gw) = setup("optional", "").await;
    assert_eq!(
        send(gw.addr, build("GET", "/backend/a", &[], ""))
            .await
            .status,
        200
    );
    assert!(up.last().headers.get("x-dauth-user-id").is_none());
    assert_eq!(
        gw.get_dauth("/backend/b", &token(CONTRACT, "ETHEREUM"))
            .await
            .status,
        200
    );
    assert!(up.last().headers.get("x-dauth-user-id").is_some());
    gw.get_dauth("/backend/c", "garbage")
        .await
        .assert_error(401, "OBP-20071");
    assert_eq!(up.seen().len(), 2);
}

#[tokio::test]
async fn query_string_and_bodies_survive_byte_for_byte() {
    let (_up, gw) = setup("none", "").await;
    let body: Vec<u8> = (0..5_000_000usize).map(|i| pattern(i * 7)).collect();
    let query = "a=1&b=%20x+y&c&d=%2F%3F&e=%E2%82%AC";
    let r = send(
        gw.addr,
        build(
            "POST",
            &format!("/backend/upload?{query}"),
            &[("content-type", "application/octet-stream")],
            body.clone(),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    let echo = r.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], format!("/backend/upload?{query}"));
    assert_eq!(echo["body_len"], body.len());
    assert_eq!(echo["body_sha256"], sha256_hex(&body));

    let n = 6_000_123usize;
    let r = send(
        gw.addr,
        build("GET", &format!("/backend/download?bytes={n}"), &[], ""),
    )
    .await;
    assert_eq!(r.status, 200);
    let expected: Vec<u8> = (0..n).map(pattern).collect();
    assert_eq!(r.body.len(), n);
    assert_eq!(sha256_hex(&r.body), sha256_hex(&expected));
}

#[tokio::test]
async fn chunked_upload_streams_through() {
    let (up, gw) = setup("none", "").await;
    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let body = RxBody(rx);
    let req = http::Request::post("/backend/chunked")
        .header("host", "x")
        .body(body)
        .unwrap();
    let sending = tokio::spawn(async move { sender.send_request(req).await.unwrap() });
    let mut all = Vec::new();
    for i in 0..32u8 {
        let chunk = vec![i; 100_000];
        all.extend_from_slice(&chunk);
        tx.send(chunk.into()).await.unwrap();
    }
    drop(tx);
    let resp = sending.await.unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["body_sha256"], sha256_hex(&all));
    assert_eq!(up.seen().len(), 1);
}

#[tokio::test]
async fn strip_prefix_and_upstream_base_path_shape_the_forwarded_path() {
    let up = Upstream::start().await;
    let routes = route(
        "/api/",
        &format!("http://{}/base/", up.addr),
        "none",
        "strip_prefix = true",
    );
    let gw = Gateway::start("", &routes).await;
    assert_eq!(
        send(gw.addr, build("GET", "/api/v1/items?x=1", &[], ""))
            .await
            .status,
        200
    );
    assert_eq!(up.last().uri, "/base/v1/items?x=1");
}

#[tokio::test]
async fn longest_prefix_wins() {
    let (a, b) = (Upstream::start().await, Upstream::start().await);
    let routes = format!(
        "{}{}",
        route("/svc/", &format!("http://{}", a.addr), "none", ""),
        route("/svc/special/", &format!("http://{}", b.addr), "none", "")
    );
    let gw = Gateway::start("", &routes).await;
    send(gw.addr, build("GET", "/svc/special/x", &[], "")).await;
    send(gw.addr, build("GET", "/svc/other", &[], "")).await;
    assert_eq!(a.last().uri, "/svc/other");
    assert_eq!(b.last().uri, "/svc/special/x");
}

#[tokio::test]
async fn embedded_paths_stay_unless_a_route_claims_them() {
    let up = Upstream::start().await;
    let catch_all = route("/", &format!("http://{}", up.addr), "none", "");
    let gw = Gateway::start("", &catch_all).await;
    assert_eq!(
        support::get(gw.addr, "/health").await.json()["status"],
        "ok"
    );
    assert_eq!(
        gw.current_user(&token(CONTRACT, "ETHEREUM")).await.json()["provider"],
        "ETHEREUM"
    );
    assert_eq!(
        support::get(gw.addr, "/obp/v5.1.0/banks")
            .await
            .header("x-upstream"),
        Some("yes")
    );

    let claim = route("/obp/", &format!("http://{}", up.addr), "required", "");
    let gw = Gateway::start("", &claim).await;
    let r = gw.current_user(&token(CONTRACT, "ETHEREUM")).await;
    assert_eq!(r.header("x-upstream"), Some("yes"));
    assert_eq!(up.last().uri, "/obp/v5.1.0/users/current");
}

#[tokio::test]
async fn forwarding_headers_are_rebuilt() {
    let (up, gw) = setup("none", "").await;
    let headers = [
        ("X-Forwarded-For", "6.6.6.6"),
        ("Forwarded", "for=6.6.6.6"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Real-IP", "6.6.6.6"),
    ];
    send(gw.addr, build("GET", "/backend/x", &headers, "")).await;
    let seen = up.last().headers;
    assert_eq!(seen.get("x-forwarded-for").unwrap(), "127.0.0.1");
    assert_eq!(seen.get("x-forwarded-proto").unwrap(), "http");
    assert_eq!(seen.get("x-forwarded-host").unwrap(), "gateway.test");
    assert!(seen.get("forwarded").is_none() && seen.get("x-real-ip").is_none());
    assert_eq!(
        seen.get("host").unwrap().to_str().unwrap(),
        up.addr.to_string()
    );
}

#[tokio::test]
async fn h2c_clients_are_forwarded_over_http1() {
    let (up, gw) = setup("required", "").await;
    let t = token(CONTRACT, "ETHEREUM");
    let r = send_h2(
        gw.addr,
        build("POST", "/backend/h2?q=1", &[("dauth", &t)], "hello"),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["body_sha256"], sha256_hex(b"hello"));
    assert_eq!(up.last().uri, "/backend/h2?q=1");
}

#[tokio::test]
async fn ambiguous_paths_are_refused_before_routing() {
    let (up, gw) = setup("none", "").await;
    for path in [
        "/backend/../admin",
        "/backend/%2e%2e/admin",
        "/backend//x",
        "/backend/a%2fb",
    ] {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (status, body) = client::raw(gw.addr, raw.as_bytes()).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("DAUTH-1400"), "{body}");
    }
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn refused_and_reset_upstreams_are_502() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let routes = route("/dead/", &format!("http://{dead}"), "none", "");
    let up = Upstream::start().await;
    let routes = format!(
        "{routes}{}",
        route("/live/", &format!("http://{}", up.addr), "none", "")
    );
    let gw = Gateway::start("", &routes).await;
    send(gw.addr, build("GET", "/dead/x", &[], ""))
        .await
        .assert_error(502, "DAUTH-5020");
    send(gw.addr, build("GET", "/live/reset", &[], ""))
        .await
        .assert_error(502, "DAUTH-5020");
}

#[tokio::test]
async fn upstream_connections_are_reused_across_requests_and_clients() {
    let (up, gw) = setup("none", "").await;
    for i in 0..5 {
        // Each request on a new client connection: the upstream's connection outlives them.
        let reply = send(gw.addr, build("GET", &format!("/backend/r{i}"), &[], "")).await;
        assert_eq!(reply.status, 200);
    }
    let conns: Vec<usize> = up.seen().iter().map(|s| s.conn).collect();
    assert_eq!(conns, [0; 5], "one upstream connection, reused");
    // A streamed response gives its connection back once it has been read to its end.
    let reply = send(
        gw.addr,
        build("GET", "/backend/download?bytes=1000", &[], ""),
    )
    .await;
    assert_eq!(reply.body.len(), 1000);
    let reply = send(gw.addr, build("GET", "/backend/after", &[], "")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        up.last().conn,
        0,
        "a fully read download gives its connection back"
    );
}

/// Reads a raw backend's next request head (up to its blank line); `None` when the connection
/// ends first. The test backends' requests carry no body but the one they leave unread.
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(head)
}

/// A backend that answers an upload before reading it, and keeps reading it, leaves its
/// connection busy until the upload is sent: the next request must not wait behind it for a
/// connection.
#[tokio::test]
async fn a_request_does_not_wait_behind_an_upload_the_backend_answered_early() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    let Some(head) = read_head(&mut stream).await else {
                        return;
                    };
                    if head.starts_with(b"POST") {
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nearly";
                        let _ = stream.write_all(answer).await;
                        // Reads the upload as it comes, for as long as it comes.
                        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                        return;
                    }
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let routes = route("/early/", &format!("http://{addr}"), "none", "");
    let gw = Gateway::start("", &routes).await;
    // Declared length and chunked framing: each upload held open while the next request goes.
    let uploads: [&[u8]; 2] = [
        b"POST /early/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nfirst bytes",
        b"POST /early/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n",
    ];
    let mut held = Vec::new();
    for (i, upload) in uploads.into_iter().enumerate() {
        let mut uploader = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        uploader.write_all(upload).await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.ends_with(b"early") {
            let n = uploader.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "upload {i}: the gateway closed: {}",
                String::from_utf8_lossy(&head)
            );
            head.extend_from_slice(&buf[..n]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 200"),
            "upload {i}: {}",
            String::from_utf8_lossy(&head)
        );
        // The upload is still open: the client holds the rest of its body back.
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            send(gw.addr, build("GET", "/early/next", &[], "")),
        )
        .await
        .unwrap_or_else(|_| panic!("upload {i}: the next request waited behind the upload"));
        assert_eq!(
            (next.status, &next.body[..]),
            (200, &b"ok"[..]),
            "upload {i}"
        );
        held.push(uploader);
    }
}

/// A backend that closes every connection after one response (without saying so in a
/// `Connection` header): no request is answered from, or sent on, a connection it closed.
#[tokio::test]
async fn an_upstream_closing_each_connection_still_answers_every_request() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&served);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counted = std::sync::Arc::clone(&counted);
            tokio::spawn(async move {
                if read_head(&mut stream).await.is_none() {
                    return;
                }
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                // Dropped: the connection closes, keep-alive as far as the gateway was told.
            });
        }
    });
    let routes = route("/closing/", &format!("http://{addr}"), "none", "");
    let gw = Gateway::start("", &routes).await;
    for i in 0..20 {
        let reply = send(gw.addr, build("GET", &format!("/closing/{i}"), &[], "")).await;
        assert_eq!(
            (reply.status, &reply.body[..]),
            (200, &b"ok"[..]),
            "request {i}"
        );
    }
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 20);
}

#[tokio::test]
async fn slow_upstream_is_504() {
    let (up, gw) = setup("none", "timeout_secs = 1").await;
    send(gw.addr, build("GET", "/backend/hang", &[], ""))
        .await
        .assert_error(504, "DAUTH-5040");
    assert_eq!(up.seen().len(), 1);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let up = Upstream::start().await;
    let routes = format!(
        "{}{}",
        route(
            "/small/",
            &format!("http://{}", up.addr),
            "none",
            "max_body_bytes = 1000"
        ),
        route("/default/", &format!("http://{}", up.addr), "none", "")
    );
    let gw = Gateway::start_with("max_body_bytes = 4000", "", &routes).await;
    // Declared length over the limit: refused before the upstream is contacted.
    send(gw.addr, build("POST", "/small/x", &[], vec![b'a'; 1001]))
        .await
        .assert_error(413, "DAUTH-1413");
    send(gw.addr, build("POST", "/default/x", &[], vec![b'a'; 4001]))
        .await
        .assert_error(413, "DAUTH-1413");
    assert!(up.seen().is_empty());
    assert_eq!(
        send(gw.addr, build("POST", "/small/x", &[], vec![b'a'; 1000]))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn oversized_chunked_body_is_413() {
    let (_up, gw) = setup("none", "max_body_bytes = 1000").await;
    let raw = format!(
        "POST /backend/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}0\r\n\r\n",
        "3e8\r\n".to_owned() + &"a".repeat(1000) + "\r\n" + "1\r\nb\r\n"
    );
    let (status, body) = client::raw(gw.addr, raw.as_bytes()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("DAUTH-1413"));
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let (up, gw) = setup("none", "").await;
    let big = "x".repeat(20 * 1024);
    let r = send(gw.addr, build("GET", "/backend/x", &[("x-big", &big)], "")).await;
    r.assert_error(431, "DAUTH-1431");
    assert!(up.seen().is_empty());
}

/// A request body fed chunk by chunk from a channel (sent chunked: no length is known).
struct RxBody(tokio::sync::mpsc::Receiver<bytes::Bytes>);

impl hyper::body::Body for RxBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}
