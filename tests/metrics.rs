//! The admin listener against real traffic: `/metrics` read with a Prometheus text parser
//! (`prometheus-parse`) after known requests, OpenMetrics by `Accept`, `/ready` and `/health`,
//! and the admin port apart from the public one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;

use prometheus_parse::{Scrape, Value};
use support::upstream::Upstream;
use support::{Gateway, get, get_with, route, token};

/// `/metrics` from the admin listener, parsed.
async fn scrape(admin: SocketAddr) -> Scrape {
    let reply = get(admin, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
fn value(s: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == name)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => panic!("{name} is a summary"),
        })
        .sum()
}

fn code_of(reply: &support::Reply) -> String {
    reply.message().split(':').next().unwrap().to_owned()
}

#[tokio::test]
async fn requests_are_counted_by_route_method_and_status_class() {
    let up = Upstream::start().await;
    let routes = format!(
        "{}{}",
        route("/svc/", &format!("http://{}", up.addr), "none", ""),
        route("/down/", "http://127.0.0.1:1", "none", "")
    );
    let gw = Gateway::start("", &routes).await;
    let admin = gw.admin.unwrap();
    for _ in 0..3 {
        assert_eq!(get(gw.addr, "/svc/a?secret=1").await.status, 200);
    }
    assert_eq!(get(gw.addr, "/svc/other/path").await.status, 200);
    let post = support::client::build("POST", "/svc/x", &[], "body");
    assert_eq!(support::client::send(gw.addr, post).await.status, 200);
    assert_eq!(get(gw.addr, "/down/x").await.status, 502);
    assert_eq!(get(gw.addr, "/nothing-here").await.status, 404);
    assert_eq!(get(gw.addr, "/health").await.status, 200);
    let s = scrape(admin).await;
    let req = |route, method, status| {
        value(
            &s,
            "dauth_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(req("/svc/", "read", "2xx"), 4.0);
    assert_eq!(req("/svc/", "write", "2xx"), 1.0);
    assert_eq!(req("/down/", "read", "5xx"), 1.0);
    assert_eq!(req("unmatched", "read", "4xx"), 1.0);
    assert_eq!(req("health", "read", "2xx"), 1.0);
    assert_eq!(
        value(
            &s,
            "dauth_upstream_failures_total",
            &[("route", "/down/"), ("kind", "connect")]
        ),
        1.0
    );
    // Label values are prefixes and names, never paths or query strings.
    for sample in &s.samples {
        for (_, v) in sample.labels.iter() {
            assert!(
                !v.contains("other/path") && !v.contains("secret") && v != "/svc/a",
                "{v}"
            );
        }
    }
    assert_eq!(
        value(&s, "dauth_request_duration_seconds", &[("route", "/svc/")]),
        5.0
    );
    assert_eq!(
        value(&s, "dauth_open_connections", &[("protocol", "http1")]),
        0.0
    );
}

#[tokio::test]
async fn authentication_users_and_replays_are_counted() {
    let gw = Gateway::start("", "").await;
    let admin = gw.admin.unwrap();
    let a = token("0x00000000000000000000000000000000000000aa", "ETHEREUM");
    let b = token("0x00000000000000000000000000000000000000bb", "ETHEREUM");
    assert_eq!(gw.current_user(&a).await.status, 200);
    assert_eq!(gw.current_user(&b).await.status, 200);
    let replayed = gw.current_user(&a).await;
    assert_ne!(replayed.status, 200);
    let stranger = support::sign_with(
        &support::keys().stranger.private_pem,
        &dauth_proxy::auth::mint::DauthTokenSpec::new(support::CONTRACT, "ETHEREUM", "c"),
    );
    let bad = gw.current_user(&stranger).await;
    assert_eq!(bad.status, 401);
    let again = support::sign_with(
        &support::keys().stranger.private_pem,
        &dauth_proxy::auth::mint::DauthTokenSpec::new(support::CONTRACT, "ETHEREUM", "c"),
    );
    assert_eq!(gw.current_user(&again).await.status, 401);
    let s = scrape(admin).await;
    assert_eq!(value(&s, "dauth_users_created_total", &[]), 2.0);
    assert_eq!(
        value(
            &s,
            "dauth_auth_total",
            &[("method", "dauth"), ("code", "ok")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &s,
            "dauth_auth_total",
            &[("method", "dauth"), ("code", &code_of(&bad))]
        ),
        2.0
    );
    assert_eq!(
        value(
            &s,
            "dauth_auth_total",
            &[("method", "dauth"), ("code", &code_of(&replayed))]
        ),
        1.0
    );
    assert_eq!(
        value(&s, "dauth_replay_refusals_total", &[("kind", "replayed")]),
        1.0
    );
    assert_eq!(value(&s, "dauth_replay_window_ids", &[]), 2.0);
    assert_eq!(
        value(
            &s,
            "dauth_signature_verification_duration_seconds",
            &[("kind", "dauth")]
        ),
        5.0
    );
    // Under replay protection a token is good once, so the cache is never consulted.
    assert_eq!(
        value(
            &s,
            "dauth_token_cache_lookups_total",
            &[("kind", "dauth"), ("result", "miss")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &s,
            "dauth_store_operation_duration_seconds",
            &[("op", "get_or_create_user")]
        ),
        2.0
    );
    assert_eq!(value(&s, "dauth_config_generation", &[]), 1.0);
    // Nothing identifies a caller: no contract, consumer key or user id among the labels.
    let text = String::from_utf8(get(admin, "/metrics").await.body.to_vec()).unwrap();
    assert!(!text.to_lowercase().contains("00000000aa"), "{text}");
    assert!(!text.contains("test-consumer"), "{text}");
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_kind() {
    let gw = Gateway::start("", "[limits]\nper_ip_rps = 1\nper_ip_burst = 1\n").await;
    let admin = gw.admin.unwrap();
    let mut refused = 0.0;
    for _ in 0..5 {
        if get(gw.addr, "/obp/v5.1.0/users/current").await.status == 429 {
            refused += 1.0;
        }
    }
    assert!(refused >= 1.0);
    let s = scrape(admin).await;
    assert_eq!(
        value(&s, "dauth_rate_limited_total", &[("kind", "ip")]),
        refused
    );
}

#[tokio::test]
async fn upstream_timeouts_and_resets_are_counted_by_kind() {
    let up = Upstream::start().await;
    // A backend that accepts and closes every connection at once.
    let closer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closer_addr = closer.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = closer.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
            drop(s);
        }
    });
    let routes = format!(
        "{}{}",
        route(
            "/slow/",
            &format!("http://{}", up.addr),
            "none",
            "timeout_secs = 1"
        ),
        route("/reset/", &format!("http://{closer_addr}"), "none", "")
    );
    let gw = Gateway::start("", &routes).await;
    assert_eq!(get(gw.addr, "/slow/hold").await.status, 504);
    up.release();
    assert_eq!(get(gw.addr, "/reset/x").await.status, 502);
    let s = scrape(gw.admin.unwrap()).await;
    let failures = |route, kind| {
        value(
            &s,
            "dauth_upstream_failures_total",
            &[("route", route), ("kind", kind)],
        )
    };
    assert_eq!(failures("/slow/", "timeout"), 1.0);
    assert_eq!(failures("/reset/", "reset"), 1.0);
    assert_eq!(failures("/reset/", "connect"), 0.0);
    assert_eq!(
        value(
            &s,
            "dauth_upstream_duration_seconds",
            &[("route", "/slow/")]
        ),
        1.0
    );
}

#[tokio::test]
async fn openmetrics_is_served_when_accept_asks_for_it() {
    let gw = Gateway::start("", "").await;
    let admin = gw.admin.unwrap();
    assert_eq!(get(gw.addr, "/health").await.status, 200);
    let om = get_with(
        admin,
        "/metrics",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )],
    )
    .await;
    assert_eq!(om.status, 200);
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = String::from_utf8(om.body.to_vec()).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE dauth_requests counter\n"), "{text}");
    let plain = String::from_utf8(get(admin, "/metrics").await.body.to_vec()).unwrap();
    assert!(!plain.contains("# EOF"));
    assert!(
        plain.contains("# TYPE dauth_requests_total counter\n"),
        "{plain}"
    );
    for family in [
        "dauth_config_reloads_total",
        "dauth_store_failures_total",
        "dauth_config_generation",
    ] {
        assert!(plain.contains(&format!("# TYPE {family} ")), "{family}");
    }
    assert!(
        plain.contains("dauth_config_reloads_total{result=\"error\"} 0\n"),
        "{plain}"
    );
}

#[tokio::test]
async fn admin_endpoints_are_not_on_the_public_listener_and_health_is_live() {
    let gw = Gateway::start("", "").await;
    let admin = gw.admin.unwrap();
    assert_ne!(admin.port(), gw.addr.port());
    assert_eq!(get(gw.addr, "/metrics").await.status, 404);
    assert_eq!(get(gw.addr, "/ready").await.status, 404);
    let health = get(admin, "/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let ready = get(admin, "/ready").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert_eq!(ready.json()["ready"], true);
    assert_eq!(get(admin, "/other").await.status, 404);
    let post = support::client::build("POST", "/ready", &[], "");
    assert_eq!(support::client::send(admin, post).await.status, 405);
}

#[tokio::test]
async fn ready_is_503_and_says_draining_once_shutdown_begins() {
    let up = Upstream::start().await;
    let routes = route("/svc/", &format!("http://{}", up.addr), "none", "");
    let gw = Gateway::start("", &routes).await;
    let admin = gw.admin.unwrap();
    let addr = gw.addr;
    // A request in flight keeps the drain going while /ready is asked.
    let held = tokio::spawn(async move { get(addr, "/svc/hold").await.status });
    up.wait_for_held().await;
    let stopped = tokio::spawn(gw.stop());
    let mut ready = get(admin, "/ready").await;
    while ready.status == 200 {
        tokio::task::yield_now().await;
        ready = get(admin, "/ready").await;
    }
    assert_eq!(ready.status, 503);
    let body = ready.json();
    assert_eq!(body["ready"], false);
    assert_eq!(body["not_ready"], serde_json::json!(["draining"]));
    up.release();
    assert_eq!(held.await.unwrap(), 200);
    stopped.await.unwrap();
}

#[tokio::test]
async fn the_admin_listener_can_be_turned_off_and_must_not_be_the_public_port() {
    let gw = Gateway::start("", "[admin]\nlisten = \"\"\n").await;
    assert!(gw.admin.is_none());
    let dir = tempfile::tempdir().unwrap();
    let text = support::config_text_with(
        &dir.path().join("s"),
        "",
        "",
        "[admin]\nlisten = \"127.0.0.1:8080\"\n",
    )
    .replace("127.0.0.1:0", "127.0.0.1:8080");
    let err = dauth_proxy::Config::from_toml(&text, std::path::Path::new("t.toml")).unwrap_err();
    assert_eq!(err.key, "admin.listen");
    for bad in ["nonsense", "127.0.0.1", "localhost:9901"] {
        let text = support::config_text(
            &dir.path().join("s"),
            "",
            &format!("[admin]\nlisten = {bad:?}\n"),
        );
        let err =
            dauth_proxy::Config::from_toml(&text, std::path::Path::new("t.toml")).unwrap_err();
        assert_eq!(err.key, "admin.listen", "{bad}");
    }
}

#[tokio::test]
async fn token_cache_lookups_are_counted_by_result() {
    let gw = Gateway::start("replay_protection = false", "").await;
    let admin = gw.admin.unwrap();
    let t = token("0x00000000000000000000000000000000000000cc", "ETHEREUM");
    for _ in 0..3 {
        assert_eq!(gw.current_user(&t).await.status, 200);
    }
    let s = scrape(admin).await;
    let lookups = |result| {
        value(
            &s,
            "dauth_token_cache_lookups_total",
            &[("kind", "dauth"), ("result", result)],
        )
    };
    assert_eq!(lookups("miss"), 1.0);
    assert_eq!(lookups("hit"), 2.0);
}

/// Polls the gateway's `dauth_open_connections{protocol="http1"}` until it reads `want` (at
/// most 5 s): a connection is counted, and uncounted, by its own task, a moment after the
/// client's side of it changed.
async fn open_http1_reaches(admin: SocketAddr, want: f64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let open = value(
            &scrape(admin).await,
            "dauth_open_connections",
            &[("protocol", "http1")],
        );
        if open == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "open http1 connections stayed at {open}, not {want}"
        );
        // The poll interval of this readiness check.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_parked_keep_alive_connection_is_counted_open_until_it_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let gw = Gateway::start("", "").await;
    let admin = gw.admin.unwrap();
    let parks = || gw.state.shared().connections.parks();
    let mut tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let before = parks();
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the gateway closed the connection");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{head:?}");
    // Quiet for 100 ms, the connection is parked: hyper is gone, the connection is not.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while parks() == before {
        assert!(tokio::time::Instant::now() < deadline, "never parked");
        // The poll interval of this readiness check.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    open_http1_reaches(admin, 1.0).await;
    drop(tcp);
    open_http1_reaches(admin, 0.0).await;
}
