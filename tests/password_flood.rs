//! Floods of the anonymous password endpoints (issue 11): password hashing sits behind a bounded
//! queue (503 at once beyond it), takes a bounded amount of memory and gives it back, and one
//! IP has a rate of its own on those endpoints, apart from the general per-IP rate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::binary::Binary;
use support::client::{Reply, build, send, send_from};
use support::{Gateway, keys};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn issuer_section(accounts: &str) -> String {
    let key = keys().dir.join("trusted_private.pem").display().to_string();
    format!(
        "[issuer]\nurl = \"http://gateway.test\"\nprivate_key = {key:?}\nkid = \"test-1\"\n[accounts]\n{accounts}\n"
    )
}

fn register_body(i: usize) -> Value {
    json!({"email": format!("flood-{i}@example.com"), "password": format!("flood-password-{i}")})
}

/// Sends `count` registrations at once, each on its own connection (opened first); returns
/// the status and the error code (or "-") of each answer.
async fn registrations_at_once(addr: SocketAddr, count: usize) -> Vec<(u16, String, bool)> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(count));
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let start = std::sync::Arc::clone(&start);
            tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                let body = register_body(i).to_string();
                let raw = format!(
                    "POST /api/auth/register HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                start.wait().await;
                s.write_all(raw.as_bytes()).await.unwrap();
                let mut out = Vec::new();
                s.read_to_end(&mut out).await.unwrap();
                let text = String::from_utf8_lossy(&out).into_owned();
                let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                let code = text
                    .split("\"message\":\"")
                    .nth(1)
                    .and_then(|m| m.split(':').next())
                    .unwrap_or("-")
                    .to_owned();
                (status, code, text.to_ascii_lowercase().contains("\r\nretry-after: "))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(count);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn tally(replies: &[(u16, String, bool)]) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for (status, code, _) in replies {
        *t.entry(format!("{status} {code}")).or_default() += 1;
    }
    t
}

/// 200 registrations at once from one IP, with the shipped defaults: a few are hashed, the
/// rest are turned away at once, by the per-IP password rate (429 with Retry-After) or by the
/// full hashing queue (503 with Retry-After). Nothing else, and the gateway still serves.
#[tokio::test]
async fn a_registration_flood_is_turned_away_with_the_defaults() {
    let gw = Gateway::start("", &issuer_section("")).await;
    let replies = registrations_at_once(gw.addr, 200).await;
    let t = tally(&replies);
    for (status, code, retry_after) in &replies {
        match (*status, code.as_str()) {
            (201, "-") => {}
            (429, "OBP-10018") | (503, "DAUTH-5035") => assert!(retry_after, "{t:?}"),
            _ => panic!("unexpected answer {status} {code}: {t:?}"),
        }
    }
    assert!(t.contains_key("201 -"), "{t:?}");
    assert!(
        t.contains_key("429 OBP-10018"),
        "the per-IP password rate: {t:?}"
    );
    assert!(
        t.contains_key("503 DAUTH-5035"),
        "the hashing queue bound: {t:?}"
    );
    assert_eq!(support::get(gw.addr, "/health").await.status, 200);
}

async fn post_from(from: &str, gw: &Gateway, path: &str, body: Value) -> Reply {
    let req = build(
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string(),
    );
    send_from(from.parse().unwrap(), gw.addr, req).await
}

/// `limits.password_per_ip_per_minute` counts register, login, confirm and both reset calls of
/// one IP together; other IPs and other endpoints are not affected.
#[tokio::test]
async fn the_password_endpoints_have_a_per_ip_rate_of_their_own() {
    let extra = format!(
        "{}[limits]\npassword_per_ip_per_minute = 5\n",
        issuer_section("")
    );
    let gw = Gateway::start("", &extra).await;
    let calls = [
        ("/api/auth/register", register_body(0)),
        (
            "/api/auth/login",
            json!({"email": "flood-0@example.com", "password": "flood-password-0"}),
        ),
        ("/api/auth/confirm", json!({"code": "nope"})),
        (
            "/api/auth/password-reset",
            json!({"email": "flood-0@example.com"}),
        ),
        (
            "/api/auth/password-reset/confirm",
            json!({"email": "flood-0@example.com", "code": "x", "password": "new-password"}),
        ),
    ];
    for (path, body) in &calls {
        let r = post_from("127.0.0.1", &gw, path, body.clone()).await;
        assert_ne!(r.status, 429, "{path}");
    }
    for (path, body) in &calls {
        let r = post_from("127.0.0.1", &gw, path, body.clone()).await;
        r.assert_error(429, "OBP-10018");
        assert!(
            r.header("retry-after")
                .is_some_and(|s| s.parse::<u64>().unwrap() >= 1)
        );
    }
    // Another caller is not affected, nor are the other endpoints for this one.
    assert_eq!(
        post_from("127.0.0.2", &gw, "/api/auth/login", calls[1].1.clone())
            .await
            .status,
        200
    );
    assert_eq!(support::get(gw.addr, "/health").await.status, 200);
    let r = send(gw.addr, build("GET", "/.well-known/jwks.json", &[], "")).await;
    assert_eq!(r.status, 200);
    let r = post_from(
        "127.0.0.1",
        &gw,
        "/api/auth/refresh",
        json!({"refreshToken": "x"}),
    )
    .await;
    r.assert_error(401, "DAUTH-4008");
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// 200 concurrent registrations against the real binary (the per-IP password rate off, so
/// the hashing queue takes them all): the memory argon2 takes is bounded by its slots (RSS
/// peaked at 0.8 to 1.9 GB before, and stayed there), and is given back once it is idle.
#[tokio::test]
async fn a_registration_flood_takes_bounded_memory_and_gives_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let text = support::config_text(
        &dir.path().join("store"),
        "",
        &format!(
            "{}[limits]\npassword_per_ip_per_minute = 0\n[log]\nlevel = \"warn\"\n",
            issuer_section("")
        ),
    );
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, text).unwrap();
    let gw = Binary::spawn(&config);
    let pid = gw.pid();
    let baseline = status_kib(pid, "VmRSS");
    let replies = registrations_at_once(gw.addr, 200).await;
    let t = tally(&replies);
    assert!(t.contains_key("201 -"), "{t:?}");
    let hwm = status_kib(pid, "VmHWM");
    assert!(hwm < 300 * 1024, "peak RSS {} MiB: {t:?}", hwm / 1024);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rss = status_kib(pid, "VmRSS");
        if rss < baseline + 40 * 1024 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RSS stays at {} MiB (baseline {} MiB, peak {} MiB)",
            rss / 1024,
            baseline / 1024,
            hwm / 1024
        );
        // The poll interval of a readiness check, bounded by the deadline above.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
