//! Keys from JWKS URLs (issue 14, section 3), against a real HTTPS JWKS server with a test CA
//! whose keys the tests rotate and whose fetches they count: a rotated key is picked up by the
//! unknown-`kid` refetch, a flood of random `kid`s costs at most one fetch per period, a URL
//! that never loaded answers 503 with its own code until it loads, the last good set is kept
//! while the server is down (until `jwks_max_stale_secs`), `Cache-Control: max-age` drives the
//! refresh, only RSA signing keys are taken, and `check-config` refuses plain HTTP off loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::jwks::{Jwk, JwksServer};
use support::{CONTRACT, Gateway, now};

const IDP: &str = "https://idp.example";

/// Claims of a bearer token of [`IDP`].
fn claims() -> Value {
    json!({"iss": IDP, "aud": "dauth-proxy", "sub": "alice", "exp": now() + 300})
}

/// A gateway whose bearer issuer [`IDP`] takes its keys from `server` (`url_key` is `jwks_url`
/// or `discovery_url`), with `extra` lines in that table.
async fn gateway(server: &JwksServer, url_key: &str, extra: &str) -> Gateway {
    let url = if url_key == "discovery_url" {
        server.discovery_url()
    } else {
        server.url()
    };
    let table = format!(
        "[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"dauth-proxy\"\n{url_key} = {url:?}\n\
         jwks_ca = {:?}\n{extra}\n",
        server.ca_path()
    );
    Gateway::start("", &table).await
}

async fn status(gw: &Gateway, token: &str) -> support::Reply {
    let auth = format!("Bearer {token}");
    support::get_with(
        gw.addr,
        "/obp/v5.1.0/users/current",
        &[("Authorization", &auth)],
    )
    .await
}

/// Polls `check` until it holds (at most 20 s).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_one_refetch() {
    let (a, b) = (Jwk::new("a"), Jwk::new("b"));
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let gw = gateway(&server, "jwks_url", "").await;
    assert!(gw.state.policy().jwks.iter().all(|s| s.loaded()));
    assert_eq!(server.fetches(), 1);
    assert_eq!(status(&gw, &a.sign(&claims())).await.status, 200);
    // The IdP rotates b in: a token of b is accepted at once, after one fetch.
    server.set_keys(vec![a.jwk.clone(), b.jwk.clone()]);
    assert_eq!(status(&gw, &b.sign(&claims())).await.status, 200);
    assert_eq!(server.fetches(), 2);
    let c = Jwk::new("c");
    server.set_keys(vec![b.jwk.clone(), c.jwk.clone()]);
    // The refetch period (30 s) has not passed: c is not fetched again yet.
    status(&gw, &c.sign(&claims()))
        .await
        .assert_error(401, "DAUTH-2101");
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_flood_of_random_kids_costs_at_most_one_fetch_per_period() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let gw = gateway(&server, "jwks_url", "").await;
    let before = server.fetches();
    let flood: Vec<_> = (0..64)
        .map(|i| {
            let token = a.sign_as(&format!("random-{i}-{}", now()), &claims());
            let addr = gw.addr;
            tokio::spawn(async move {
                let auth = format!("Bearer {token}");
                support::get_with(
                    addr,
                    "/obp/v5.1.0/users/current",
                    &[("Authorization", &auth)],
                )
                .await
                .status
            })
        })
        .collect();
    for t in flood {
        assert_eq!(t.await.unwrap(), 401);
    }
    assert!(
        server.fetches() - before <= 1,
        "{} fetches",
        server.fetches() - before
    );
    // A second wave within the period: no fetch at all.
    let during = server.fetches();
    for i in 0..16 {
        let r = status(&gw, &a.sign_as(&format!("again-{i}"), &claims())).await;
        r.assert_error(401, "DAUTH-2101");
    }
    assert_eq!(server.fetches(), during);
    // Known keys still verify meanwhile.
    assert_eq!(status(&gw, &a.sign(&claims())).await.status, 200);
}

#[tokio::test]
async fn a_url_that_never_loaded_answers_503_until_it_loads() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    server.set_down(true);
    let started = Instant::now();
    let gw = gateway(&server, "jwks_url", "").await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "start-up was held up"
    );
    assert!(gw.state.policy().jwks.iter().all(|s| !s.loaded()));
    status(&gw, &a.sign(&claims()))
        .await
        .assert_error(503, "DAUTH-5090");
    server.set_down(false);
    eventually("the URL loads in the background", async || {
        status(&gw, &a.sign(&claims())).await.status == 200
    })
    .await;
    assert!(gw.state.policy().jwks.iter().all(|s| s.loaded()));
}

#[tokio::test]
async fn an_untrusted_certificate_never_loads() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let table = format!(
        "[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"dauth-proxy\"\njwks_url = {:?}\n",
        server.url()
    );
    let gw = Gateway::start("", &table).await;
    status(&gw, &a.sign(&claims()))
        .await
        .assert_error(503, "DAUTH-5090");
    assert_eq!(server.fetches(), 0, "the TLS handshake must fail first");
}

#[tokio::test]
async fn the_last_good_set_is_kept_while_the_server_is_down_until_max_stale() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let gw = gateway(
        &server,
        "jwks_url",
        "jwks_min_refresh_secs = 1\njwks_max_refresh_secs = 1\njwks_min_refetch_secs = 1\njwks_max_stale_secs = 3",
    )
    .await;
    server.set_down(true);
    let down = server.fetches();
    eventually("a background fetch fails", async || server.fetches() > down).await;
    // Failed fetches (background and an unknown-kid refetch) keep the set.
    assert_eq!(
        status(&gw, &a.sign_as("unknown", &claims())).await.status,
        401
    );
    let r = status(&gw, &a.sign(&claims())).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Past jwks_max_stale_secs, the set is no longer trusted.
    eventually("the set goes stale", async || {
        status(&gw, &a.sign(&claims())).await.status == 503
    })
    .await;
    status(&gw, &a.sign(&claims()))
        .await
        .assert_error(503, "DAUTH-5091");
    server.set_down(false);
    eventually("the set comes back", async || {
        status(&gw, &a.sign(&claims())).await.status == 200
    })
    .await;
}

#[tokio::test]
async fn cache_control_max_age_drives_the_refresh() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    server.set_cache_control(Some("public, max-age=1"));
    // max_refresh is an hour: only the answer's max-age can bring a fetch this soon.
    let gw = gateway(&server, "jwks_url", "jwks_min_refresh_secs = 1").await;
    let b = Jwk::new("b");
    server.set_keys(vec![b.jwk.clone()]);
    let first = server.fetches();
    eventually("a refresh at max-age", async || server.fetches() > first).await;
    eventually("b is served without any refetch", async || {
        status(&gw, &b.sign(&claims())).await.status == 200
    })
    .await;
    let refetches: u64 = gw.state.policy().jwks[0]
        .counts
        .refetch
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        refetches <= 1,
        "the background refresh should have brought b: {refetches} refetches"
    );
}

#[tokio::test]
async fn only_rsa_signing_keys_are_taken() {
    let (good, enc, hs, ec_named) = (
        Jwk::new("good"),
        Jwk::new("enc"),
        Jwk::new("hs"),
        Jwk::new("ec"),
    );
    let mut enc_jwk = enc.jwk.clone();
    enc_jwk["use"] = json!("enc");
    let mut hs_jwk = hs.jwk.clone();
    hs_jwk["alg"] = json!("HS256");
    let mut ec_jwk = ec_named.jwk.clone();
    ec_jwk["kty"] = json!("EC");
    let server = JwksServer::start(vec![
        good.jwk.clone(),
        enc_jwk,
        hs_jwk,
        ec_jwk,
        json!({"kty": "oct", "kid": "secret", "k": "c2VjcmV0"}),
    ])
    .await;
    let gw = gateway(&server, "jwks_url", "").await;
    assert_eq!(status(&gw, &good.sign(&claims())).await.status, 200);
    for skipped in [&enc, &hs, &ec_named] {
        status(&gw, &skipped.sign(&claims()))
            .await
            .assert_error(401, "DAUTH-2101");
    }
}

#[tokio::test]
async fn discovery_url_finds_the_jwks() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let gw = gateway(&server, "discovery_url", "").await;
    assert_eq!(status(&gw, &a.sign(&claims())).await.status, 200);
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn dauth_keys_from_a_jwks_url() {
    let a = Jwk::new("a");
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let dauth = format!(
        "jwks_url = {:?}\njwks_ca = {:?}\nreplay_protection = false",
        server.url(),
        server.ca_path()
    );
    let gw = Gateway::start(&dauth, "").await;
    let spec = dauth_proxy::auth::mint::DauthTokenSpec::new(CONTRACT, "ethereum", "jwks");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(a.private_pem.as_bytes()).unwrap();
    let minted =
        dauth_proxy::auth::mint::mint_dauth(&key, &spec, time::OffsetDateTime::now_utc()).unwrap();
    // The configured trusted key has no kid and verifies too; a's token verifies by the JWKS.
    assert_eq!(gw.current_user(&minted).await.status, 200);
}

#[test]
fn check_config_refuses_plain_http_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[dauth]\nenabled = false\njwks_url = \"http://idp.example/jwks\"\n".to_owned(),
            "dauth.jwks_url",
        ),
        (
            format!(
                "[dauth]\nenabled = false\n[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"x\"\n\
                 jwks_url = \"http://10.0.0.1/jwks\"\n"
            ),
            "bearer.issuers[0].jwks_url",
        ),
        (
            format!(
                "[dauth]\nenabled = false\n[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"x\"\n\
                 discovery_url = \"http://idp.example/.well-known/openid-configuration\"\n"
            ),
            "bearer.issuers[0].discovery_url",
        ),
        (
            format!(
                "[dauth]\nenabled = false\n[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"x\"\n\
                 jwks_url = \"https://idp.example/jwks\"\njwks_min_refresh_secs = 0\n"
            ),
            "bearer.issuers[0].jwks_min_refresh_secs",
        ),
        (
            format!(
                "[dauth]\nenabled = false\n[[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"x\"\n\
                 jwks_url = \"https://idp.example/jwks\"\njwks_file = \"k.json\"\n"
            ),
            "bearer.issuers[0].public_keys",
        ),
    ];
    for (text, key) in cases {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, &text).unwrap();
        let (code, _, err) = support::binary::run(&[
            "check-config",
            "--file-only",
            "--config",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 64, "{text}\n{err}");
        assert!(err.contains(key), "{key} not named: {err}");
    }
    // Loopback may be plain HTTP.
    let path = dir.path().join("ok.toml");
    std::fs::write(
        &path,
        "[dauth]\nenabled = false\njwks_url = \"http://127.0.0.1:9/jwks\"\n",
    )
    .unwrap();
    let (code, _, err) = support::binary::run(&[
        "check-config",
        "--file-only",
        "--config",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

#[tokio::test]
async fn a_cached_token_of_a_key_removed_at_the_idp_is_refused_after_the_next_fetch() {
    let (a, b) = (Jwk::new("a"), Jwk::new("b"));
    let server = JwksServer::start(vec![a.jwk.clone()]).await;
    let gw = gateway(&server, "jwks_url", "jwks_min_refetch_secs = 1").await;
    let old = a.sign(&claims());
    // Twice: the second from the verified-token cache.
    assert_eq!(status(&gw, &old).await.status, 200);
    assert_eq!(status(&gw, &old).await.status, 200);
    // The IdP replaces a by b; b's first token makes the gateway fetch the new set.
    server.set_keys(vec![b.jwk.clone()]);
    assert_eq!(status(&gw, &b.sign(&claims())).await.status, 200);
    status(&gw, &old).await.assert_error(401, "DAUTH-2101");
}
