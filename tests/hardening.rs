//! Load limits and store faults: rate limits answer 429 with `Retry-After`, a flood of forged
//! tokens is turned away (503) instead of crashing anything, and a store that cannot be used
//! stops the gateway at start-up with a clear message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use dauth_proxy::auth::mint::DauthTokenSpec;
use support::client::{build, send, send_from};
use support::{CONTRACT, Gateway, keys, sign_with, token, token_with};

#[tokio::test]
async fn per_ip_rate_limit_answers_429_with_retry_after() {
    let gw = Gateway::start("", "[limits]\nper_ip_rps = 1\nper_ip_burst = 3\n").await;
    for _ in 0..3 {
        assert_eq!(support::get(gw.addr, "/nowhere").await.status, 404);
    }
    let r = support::get(gw.addr, "/nowhere").await;
    r.assert_error(429, "OBP-10018");
    assert_eq!(r.message(), "OBP-10018: Too Many Requests.");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // Health checks are not counted, and another caller has its own budget.
    assert_eq!(support::get(gw.addr, "/health").await.status, 200);
    let other = send_from(
        "127.0.0.2".parse().unwrap(),
        gw.addr,
        build("GET", "/nowhere", &[], ""),
    )
    .await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn per_consumer_rate_limit_counts_verified_dauth_requests() {
    let gw = Gateway::start(
        "",
        "[limits]\nper_ip_rps = 0\nper_consumer_rps = 1\nper_consumer_burst = 2\n",
    )
    .await;
    let spec = |ck: &str| DauthTokenSpec::new(CONTRACT, "ETHEREUM", ck);
    for _ in 0..2 {
        assert_eq!(
            gw.current_user(&token_with(&spec("busy"))).await.status,
            200
        );
    }
    gw.current_user(&token_with(&spec("busy")))
        .await
        .assert_error(429, "OBP-10018");
    assert_eq!(
        gw.current_user(&token_with(&spec("quiet"))).await.status,
        200
    );
    // Forged tokens naming the busy consumer do not spend the quiet one's budget, and are
    // refused for what they are.
    let forged = sign_with(&keys().stranger.private_pem, &spec("quiet"));
    gw.current_user(&forged)
        .await
        .assert_error(401, "OBP-20071");
    assert_eq!(
        gw.current_user(&token_with(&spec("quiet"))).await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_forged_tokens_is_turned_away_not_queued() {
    let gw = Arc::new(
        Gateway::start(
            "",
            "[limits]\nper_ip_rps = 0\nmax_verifications_in_flight = 1\n",
        )
        .await,
    );
    let forged = Arc::new(sign_with(
        &keys().stranger.private_pem,
        &DauthTokenSpec::new(CONTRACT, "ETHEREUM", "ck"),
    ));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (gw, forged) = (Arc::clone(&gw), Arc::clone(&forged));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..8 {
                    statuses.push(gw.current_user(&forged).await.status);
                }
                statuses
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert!(
        all.iter().all(|s| *s == 401 || *s == 503),
        "only refusals: {all:?}"
    );
    assert!(all.contains(&503), "some were turned away at the verifier");
    // The gateway still serves valid callers.
    assert_eq!(
        gw.current_user(&token(CONTRACT, "ETHEREUM")).await.status,
        200
    );
}

#[tokio::test]
async fn unusable_store_stops_serve_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    for store in [
        file.clone(),
        std::path::PathBuf::from("/proc/dauth-store-here"),
    ] {
        let config = dir.path().join("dauth.toml");
        std::fs::write(&config, support::config_text(&store, "", "")).unwrap();
        let (code, _, err) = support::binary::run(&["serve", "--config", config.to_str().unwrap()]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("cannot start")
                && err.contains("store")
                && err.contains(&store.display().to_string()),
            "{err}"
        );
    }
}

#[tokio::test]
async fn bad_input_never_answers_500() {
    let gw = Gateway::start("", "").await;
    let long_token = "e".repeat(20_000);
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/obp/v5.1.0/users/current",
            vec![("DAuth", "a.b.c")],
            String::new(),
        ),
        (
            "GET",
            "/obp/v5.1.0/users/current",
            vec![("DAuth", long_token.as_str())],
            String::new(),
        ),
        (
            "GET",
            "/obp/v5.1.0/users/current",
            vec![("authorization", "Bearer ....")],
            String::new(),
        ),
        ("POST", "/api/auth/login", vec![], "{\"email\": 5}".into()),
        (
            "PUT",
            "/obp/v4.0.0/banks/b/accounts/a",
            vec![("DAuth", long_token.as_str())],
            "\u{0}".into(),
        ),
        (
            "POST",
            "/oidc/token",
            vec![("content-type", "multipart/form-data; boundary=x")],
            "garbage".into(),
        ),
        ("GET", "/users/%00", vec![], String::new()),
    ];
    for (method, path, headers, body) in cases {
        let r = send(gw.addr, build(method, path, &headers, body)).await;
        assert!(
            r.status < 500 || r.status == 503,
            "{method} {path}: {}",
            r.status
        );
        assert!(!String::from_utf8_lossy(&r.body).contains("panicked"));
    }
}
