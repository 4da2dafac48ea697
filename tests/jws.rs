//! JWS headers the verifiers do not implement: `crit` (RFC 7515 4.1.11), RFC 7797's `b64`
//! included, refused for every kind of token the gateway verifies (DAuth, bearer, client
//! assertions). The DAuth and bearer tokens are fixtures signed by PyJWT
//! (tests/fixtures/make-fixtures.sh); each has a twin without `crit` that is accepted, so the
//! refusal is for `crit` alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use support::client::{build, send};
use support::upstream::Upstream;
use support::{Gateway, get_with, keys, now, route};

const ISSUER: &str = "http://gateway.test";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn token(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("{name}.jwt")))
        .unwrap()
        .trim()
        .to_owned()
}

/// A gateway trusting the fixture key for DAuth (freshness off: the fixtures are undated), for
/// the fixture bearer issuer, and for client `fixture-client`; `/backend/` needs credentials.
fn config(store: &std::path::Path, upstream: &str) -> String {
    let key = fixture("jws_public.pem").display().to_string();
    let issuer_key = keys().dir.join("trusted_private.pem").display().to_string();
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_secs = 5\n\
         [store]\npath = {store:?}\n\
         [dauth]\npublic_keys = [{key:?}]\nmax_token_age_secs = 0\nreplay_protection = false\n\
         [issuer]\nurl = \"{ISSUER}\"\nprivate_key = {issuer_key:?}\nkid = \"k\"\n\
         [[bearer.issuers]]\nissuer = \"https://idp.fixture\"\naudience = \"dauth-proxy\"\npublic_keys = [{key:?}]\n\
         [[clients]]\nclient_id = \"fixture-client\"\nname = \"F\"\nscopes = []\npublic_keys = [{key:?}]\n{}",
        route("/backend/", upstream, "required", ""),
        store = store.display().to_string(),
    )
}

#[tokio::test]
async fn dauth_tokens_with_crit_are_obp_20071() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start().await;
    let gw = Gateway::start_text(&config(
        &dir.path().join("s"),
        &format!("http://{}", up.addr),
    ))
    .await;
    let r = gw.current_user(&token("dauth_plain")).await;
    assert_eq!(
        r.status, 200,
        "the twin without crit verifies: {:?}",
        r.body
    );
    for name in ["dauth_crit", "dauth_crit_b64", "dauth_crit_unknown"] {
        gw.current_user(&token(name))
            .await
            .assert_error(401, "OBP-20071");
        gw.get_dauth("/backend/x", &token(name))
            .await
            .assert_error(401, "OBP-20071");
    }
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn bearer_tokens_with_crit_are_invalid_token() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstream::start().await;
    let gw = Gateway::start_text(&config(
        &dir.path().join("s"),
        &format!("http://{}", up.addr),
    ))
    .await;
    let bearer = |t: String| format!("Bearer {t}");
    let r = get_with(
        gw.addr,
        "/backend/x",
        &[("authorization", &bearer(token("bearer_plain")))],
    )
    .await;
    assert_eq!(
        r.status, 200,
        "the twin without crit verifies: {:?}",
        r.body
    );
    assert_eq!(up.seen().len(), 1);
    for name in ["bearer_crit", "bearer_crit_b64"] {
        let r = get_with(
            gw.addr,
            "/backend/x",
            &[("authorization", &bearer(token(name)))],
        )
        .await;
        r.assert_error(401, "DAUTH-2101");
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(challenge.contains("invalid_token"), "{name}: {challenge}");
    }
    assert_eq!(up.seen().len(), 1);
}

/// A compact JWS with exactly `header` as its protected header, signed RS256 by `pem`.
fn signed(header: &Value, claims: &Value, pem: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).unwrap();
    format!("{input}.{sig}")
}

#[tokio::test]
async fn client_assertions_with_crit_are_invalid_client() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_text(&config(&dir.path().join("s"), "http://127.0.0.1:1")).await;
    let pem = std::fs::read_to_string(fixture("jws_private.pem")).unwrap();
    let assertion = |header: Value| {
        let claims = json!({"iss": "fixture-client", "sub": "fixture-client", "aud": format!("{ISSUER}/oidc/token"), "iat": now(), "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string()});
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &signed(&header, &claims, &pem)),
            ])
            .finish();
        build(
            "POST",
            "/oidc/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
    };
    let r = send(gw.addr, assertion(json!({"alg": "RS256", "typ": "JWT"}))).await;
    assert_eq!(
        r.status, 200,
        "the twin without crit is accepted: {:?}",
        r.body
    );
    for header in [
        json!({"alg": "RS256", "crit": ["exp"]}),
        json!({"alg": "RS256", "crit": ["b64"], "b64": false}),
        json!({"alg": "RS256", "crit": ["x-ext"], "x-ext": true}),
    ] {
        let r = send(gw.addr, assertion(header.clone())).await;
        assert_eq!(r.status, 401, "{header}: {:?}", r.body);
        assert_eq!(r.json()["error"], "invalid_client", "{header}");
    }
}

/// The log says why a DAuth token was refused (never the token itself).
#[tokio::test]
async fn a_refused_crit_header_is_logged_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dauth.toml");
    std::fs::write(&cfg, config(&dir.path().join("s"), "http://127.0.0.1:1")).unwrap();
    let bin = support::binary::Binary::spawn(&cfg);
    let t = token("dauth_crit");
    get_with(bin.addr, "/obp/v5.1.0/users/current", &[("DAuth", &t)])
        .await
        .assert_error(401, "OBP-20071");
    let line = bin
        .wait_for_line(&["token refused", "crit_header"], Duration::from_secs(10))
        .expect("a log line with the reason");
    assert!(!line.contains(&t[..40]), "{line}");
}
