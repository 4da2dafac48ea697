//! DAuth over real HTTP: success, and every row of the README's error table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use dauth_proxy::auth::mint::DauthTokenSpec;
use jsonwebtoken::Algorithm;
use serde_json::json;
use support::client::{self, build, send, send_h2};
use support::{
    CONTRACT, CONTRACT_LOWER, Gateway, get, keys, now, sign_claims, sign_with, token, token_with,
};

const USERS_CURRENT: &str = "/obp/v5.1.0/users/current";

fn claims() -> serde_json::Value {
    json!({
        "smart_contract_address": CONTRACT,
        "network_name": "ETHEREUM",
        "consumer_key": "ck",
        "iat": now(),
        "request_id": uuid::Uuid::new_v4().to_string(),
    })
}

#[tokio::test]
async fn valid_token_returns_the_obp_user_shape() {
    let gw = Gateway::start("", "").await;
    let reply = gw.current_user(&token(CONTRACT_LOWER, "ETHEREUM")).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "user_id",
        "email",
        "provider_id",
        "provider",
        "username",
        "entitlements",
        "views",
    ] {
        assert!(keys.contains(&k), "missing {k} in {body}");
    }
    assert_eq!(body["email"], "");
    assert_eq!(body["provider"], "ETHEREUM");
    assert_eq!(body["username"], CONTRACT);
    assert_eq!(body["provider_id"], CONTRACT);
    assert_eq!(body["entitlements"], json!({"list": []}));
    assert_eq!(body["views"], json!({"list": []}));
    assert!(uuid::Uuid::parse_str(body["user_id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn every_served_version_answers_and_others_are_404() {
    let gw = Gateway::start("", "").await;
    for v in ["v3.0.0", "v3.1.0", "v4.0.0", "v5.0.0", "v5.1.0"] {
        let r = gw
            .get_dauth(
                &format!("/obp/{v}/users/current"),
                &token(CONTRACT, "ETHEREUM"),
            )
            .await;
        assert_eq!(r.status, 200, "{v}");
    }
    let r = gw
        .get_dauth("/obp/v2.0.0/users/current", &token(CONTRACT, "ETHEREUM"))
        .await;
    r.assert_error(404, "DAUTH-1404");
}

#[tokio::test]
async fn header_name_is_case_insensitive_on_http1_and_h2() {
    let gw = Gateway::start("", "").await;
    for name in ["DAuth", "dauth", "DAUTH"] {
        let raw = format!(
            "GET {USERS_CURRENT} HTTP/1.1\r\nHost: x\r\n{name}: {}\r\nConnection: close\r\n\r\n",
            token(CONTRACT, "ETHEREUM")
        );
        let (status, body) = client::raw(gw.addr, raw.as_bytes()).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    let r = send_h2(
        gw.addr,
        build(
            "GET",
            USERS_CURRENT,
            &[("dauth", &token(CONTRACT, "ETHEREUM"))],
            "",
        ),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn no_credentials_is_obp_20001_with_www_authenticate() {
    let gw = Gateway::start("", "").await;
    let r = get(gw.addr, USERS_CURRENT).await;
    r.assert_error(401, "OBP-20001");
    assert_eq!(
        r.message(),
        "OBP-20001: User not logged in. Authentication is required!"
    );
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.contains("DAuth"))
    );
}

#[tokio::test]
async fn disabled_dauth_ignores_the_header() {
    let gw = Gateway::start("enabled = false", "").await;
    gw.current_user(&token(CONTRACT, "ETHEREUM"))
        .await
        .assert_error(401, "OBP-20001");
}

#[tokio::test]
async fn caller_outside_allowed_hosts_is_obp_20069_before_the_token_is_read() {
    let gw = Gateway::start("allowed_hosts = [\"127.0.0.1/32\"]", "").await;
    let from = "127.0.0.2".parse().unwrap();
    // Even a garbage token gets the IP error: the IP is checked first.
    for t in [token(CONTRACT, "ETHEREUM"), "garbage".to_owned()] {
        let r = client::send_from(
            from,
            gw.addr,
            build("GET", USERS_CURRENT, &[("DAuth", &t)], ""),
        )
        .await;
        r.assert_error(401, "OBP-20069");
        assert_eq!(
            r.message(),
            "OBP-20069: DAuth login can be done only from allowed addresses."
        );
    }
}

#[tokio::test]
async fn corrupt_tokens_are_obp_20071() {
    let gw = Gateway::start("", "").await;
    let stranger = sign_with(
        &keys().stranger.private_pem,
        &DauthTokenSpec::new(CONTRACT, "ETHEREUM", "ck"),
    );
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(keys().trusted.public_pem.as_bytes()),
    )
    .unwrap();
    let mut missing = claims();
    missing.as_object_mut().unwrap().remove("consumer_key");
    let valid = token(CONTRACT, "ETHEREUM");
    let tampered = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replacen('e', "f", 1);
        parts.join(".")
    };
    let cases = [
        ("not a jwt", "garbage".to_owned()),
        ("wrong key", stranger),
        ("hs256 with public key", hs256),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none"}"#),
                b64(&claims().to_string())
            ),
        ),
        ("missing claim", sign_claims(&missing)),
        ("tampered payload", tampered),
    ];
    for (name, t) in cases {
        let r = gw.current_user(&t).await;
        assert_eq!(r.status, 401, "{name}");
        assert_eq!(
            r.message(),
            "OBP-20071: The DAuth JWT is corrupted/changed during a transport.",
            "{name}"
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains("BEGIN"),
            "no key material in errors"
        );
    }
}

#[tokio::test]
async fn more_than_one_dauth_value_is_obp_20072() {
    let gw = Gateway::start("", "").await;
    let (a, b) = (token(CONTRACT, "ETHEREUM"), token(CONTRACT, "ETHEREUM"));
    let r = support::get_with(gw.addr, USERS_CURRENT, &[("DAuth", &a), ("dauth", &b)]).await;
    r.assert_error(400, "OBP-20072");
    let joined = format!("{a}, {b}");
    gw.current_user(&joined)
        .await
        .assert_error(400, "OBP-20072");
    gw.current_user("").await.assert_error(400, "OBP-20072");
}

#[tokio::test]
async fn time_rules_have_their_own_codes() {
    let gw = Gateway::start("", "").await;
    let t = now();
    let cases = [
        ("exp", json!(t - 120), "DAUTH-2001"),
        ("nbf", json!(t + 120), "DAUTH-2002"),
        ("iat", json!(t - 400), "DAUTH-2003"),
        ("iat", json!(t + 120), "DAUTH-2004"),
    ];
    for (claim, value, code) in cases {
        let mut c = claims();
        c[claim] = value;
        gw.current_user(&sign_claims(&c))
            .await
            .assert_error(401, code);
    }
    let mut undated = claims();
    undated.as_object_mut().unwrap().remove("iat");
    gw.current_user(&sign_claims(&undated))
        .await
        .assert_error(401, "DAUTH-2005");
}

#[tokio::test]
async fn replay_rules_have_their_own_codes() {
    let gw = Gateway::start("", "").await;
    let t = token(CONTRACT, "ETHEREUM");
    assert_eq!(gw.current_user(&t).await.status, 200);
    gw.current_user(&t).await.assert_error(401, "DAUTH-2007");
    let mut c = claims();
    c.as_object_mut().unwrap().remove("request_id");
    gw.current_user(&sign_claims(&c))
        .await
        .assert_error(401, "DAUTH-2006");
}

#[tokio::test]
async fn address_and_network_rules_have_their_own_codes() {
    let gw = Gateway::start("networks = [\"ETHEREUM\"]", "").await;
    let seed_address = "0xe123425E7734CE288F8367e1Bb143E90bb3F051224";
    gw.current_user(&token(seed_address, "ETHEREUM"))
        .await
        .assert_error(401, "DAUTH-2008");
    let bad_checksum = CONTRACT.replace("dA6", "Da6");
    gw.current_user(&token(&bad_checksum, "ETHEREUM"))
        .await
        .assert_error(401, "DAUTH-2009");
    let mut spec = DauthTokenSpec::new(CONTRACT, "ETHEREUM", "ck");
    spec.msg_sender = Some("0xe12340927f1725E7734CE288F8367e1Bb143E90fhku767".into());
    gw.current_user(&token_with(&spec))
        .await
        .assert_error(401, "DAUTH-2008");
    gw.current_user(&token(CONTRACT, "GOERLI"))
        .await
        .assert_error(401, "DAUTH-2010");
}

#[tokio::test]
async fn lenient_addresses_keep_obp_behaviour() {
    let gw = Gateway::start("strict_addresses = false", "").await;
    let seed_address = "0xe123425E7734CE288F8367e1Bb143E90bb3F051224";
    let r = gw
        .current_user(&token(seed_address, "AIRNODE.TESTNET.ETHEREUM"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["username"], seed_address);
}

#[tokio::test]
async fn unknown_path_and_wrong_method_use_the_error_shape() {
    let gw = Gateway::start("", "").await;
    get(gw.addr, "/nowhere")
        .await
        .assert_error(404, "DAUTH-1404");
    let r = send(gw.addr, build("POST", USERS_CURRENT, &[], "{}")).await;
    r.assert_error(405, "DAUTH-1405");
    assert!(r.header("allow").is_some());
}

#[tokio::test]
async fn health_needs_no_authentication() {
    let gw = Gateway::start("", "").await;
    let r = get(gw.addr, "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}

#[tokio::test]
async fn full_replay_window_fails_closed_with_503() {
    // 16 shards of one entry each: at most 16 fresh request ids fit, so 17 must overflow. The
    // in-memory window, named: on a PostgreSQL store the default window is the store's table,
    // which has no capacity to overflow.
    let gw = Gateway::start("replay_capacity = 16", "[replay]\nbackend = \"memory\"\n").await;
    let mut statuses = Vec::new();
    for _ in 0..17 {
        let r = gw.current_user(&token(CONTRACT, "ETHEREUM")).await;
        if r.status != 200 {
            r.assert_error(503, "DAUTH-5031");
            assert!(r.header("retry-after").is_some());
        }
        statuses.push(r.status);
    }
    assert!(statuses.contains(&503), "{statuses:?}");
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// `text` (a configuration trusting the test key) made to trust only the stranger's key.
fn trusting_the_stranger(text: &str) -> dauth_proxy::Config {
    let trusted = keys().dir.join("trusted_public.pem").display().to_string();
    let stranger = keys().dir.join("stranger_public.pem").display().to_string();
    let replaced = text.replace(&format!("{trusted:?}"), &format!("{stranger:?}"));
    assert_ne!(replaced, text, "the configuration names the trusted key");
    dauth_proxy::Config::from_toml(&replaced, std::path::Path::new("reloaded.toml")).unwrap()
}

/// A token verified, and cached, under one policy is verified again under the next: once its
/// key is no longer trusted it is refused, though the cache still holds its verdict.
#[tokio::test]
async fn a_cached_token_does_not_outlive_the_keys_that_verified_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let text = support::config_text(&store, "replay_protection = false", "");
    let gw = Gateway::start_text(&text).await;
    let t = token(CONTRACT, "ETHEREUM");
    assert_eq!(gw.current_user(&t).await.status, 200);
    assert_eq!(gw.current_user(&t).await.status, 200);
    gw.state
        .install(trusting_the_stranger(&text))
        .await
        .unwrap();
    gw.current_user(&t).await.assert_error(401, "OBP-20071");
}

/// A rebuild of the running policy (what a change of the stored clients makes) that overlaps a
/// reload does not undo it. The rebuild begins while the reload is still building (on
/// PostgreSQL it waits for the stored clients), so read at once it would take the configuration
/// the reload replaces, and its later finish would bring the old key back.
#[tokio::test]
async fn a_rebuild_overlapping_a_reload_does_not_bring_back_the_old_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let text = support::config_text(&store, "replay_protection = false", "");
    let gw = Gateway::start_text(&text).await;
    let t = token(CONTRACT, "ETHEREUM");
    assert_eq!(gw.current_user(&t).await.status, 200);
    let config = trusting_the_stranger(&text);
    let (reload, rebuild) = tokio::join!(gw.state.install(config), gw.state.rebuild());
    reload.unwrap();
    rebuild.unwrap();
    gw.current_user(&t).await.assert_error(401, "OBP-20071");
}
