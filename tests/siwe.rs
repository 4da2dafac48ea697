//! Sign-In with Ethereum through a real gateway: a nonce from `/auth/siwe/nonce`, a message
//! signed at test time by viem (tests/js/siwe-sign.mjs, independent of the gateway's code), a
//! login answered with this gateway's access and refresh tokens, and the token used on a route
//! (`X-DAuth-Auth-Method: siwe`). Each refusal answers its code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::upstream::Upstream;
use support::{Gateway, install, keys, route};

/// keccak256("dauth-proxy test key: SIWE signer") (tests/fixtures/wallets/siwe.json).
const KEY: &str = "0x6fed41d0ac417c29086b3573554a526e88a9b4d10519d96b247bf8dddd6e7e9c";
const ADDRESS: &str = "0x62bD6B7765a02B1C8A262887Ed41fD8db9dAC39B";
/// keccak256("dauth-proxy test key: stranger").
const STRANGER_KEY: &str = "0xb3c976341a51b9bebea81e5afae7b4b69a8c3ba49e6ff5c716ea880a1a138521";
const URI: &str = "http://gateway.test/auth/siwe/login";

async fn gateway(upstream: &Upstream) -> Gateway {
    let key = keys().dir.join("trusted_private.pem").display().to_string();
    let up = format!("http://{}", upstream.addr);
    let text = format!(
        "[issuer]\nurl = \"http://gateway.test\"\nprivate_key = {key:?}\nkid = \"t\"\n\
         [wallets]\nenabled = true\ndomain = \"gateway.test\"\nuri = {URI:?}\n\
         chains = {{ \"1\" = \"ETHEREUM\" }}\n{}",
        route("/api", &up, "required", "")
    );
    Gateway::start("", &text).await
}

fn sign(spec: Value) -> Value {
    let script = install::npm_tool("siwe-sign.mjs");
    install::npm_tool("node_modules/viem/package.json");
    install::run_node(&script, &spec)
}

async fn post(gw: &Gateway, path: &str, body: Value) -> Reply {
    let headers = [("content-type", "application/json")];
    send(gw.addr, build("POST", path, &headers, body.to_string())).await
}

async fn nonce(gw: &Gateway, address: &str) -> String {
    let r = post(
        gw,
        "/auth/siwe/nonce",
        json!({"address": address, "chain_id": 1}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()["nonce"].as_str().unwrap().to_owned()
}

/// A message around `nonce` built by viem, with `extra` fields, signed by `key`.
fn signed(nonce: &str, key: &str, extra: Value) -> Value {
    let mut spec = json!({"private_key": key, "domain": "gateway.test", "uri": URI,
                          "chain_id": 1, "nonce": nonce});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    sign(spec)
}

async fn login(gw: &Gateway, signed: &Value) -> Reply {
    let body = json!({"message": signed["message"], "signature": signed["signature"]});
    post(gw, "/auth/siwe/login", body).await
}

#[tokio::test]
async fn the_issued_message_signed_logs_in_and_its_token_is_a_siwe_caller() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let r = post(
        &gw,
        "/auth/siwe/nonce",
        json!({"address": ADDRESS.to_lowercase(), "chain_id": 1}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let issued = r.json();
    let nonce = issued["nonce"].as_str().unwrap();
    assert!(
        nonce.len() >= 16 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{nonce}"
    );
    let message = issued["message"].as_str().unwrap();
    assert!(
        message.contains(ADDRESS) && message.contains(URI),
        "{message}"
    );
    // The wallet signs the message the gateway offered, as it is.
    let s = sign(json!({"private_key": KEY, "message": message}));
    let r = login(&gw, &s).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = r.json();
    let access = b["accessToken"].as_str().unwrap().to_owned();
    assert!(b["refreshToken"].is_string());
    let auth = format!("Bearer {access}");
    let r = send(
        gw.addr,
        build("GET", "/api/x", &[("authorization", &auth)], ""),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "siwe");
    assert_eq!(seen.get("x-dauth-username").unwrap(), ADDRESS);
    assert_eq!(seen.get("x-dauth-provider").unwrap(), "siwe.1");
    // The refresh token works for a wallet user too.
    let r = post(
        &gw,
        "/api/auth/refresh",
        json!({"refreshToken": b["refreshToken"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The nonce is spent.
    let r = login(&gw, &s).await;
    r.assert_error(401, "DAUTH-2826");
}

#[tokio::test]
async fn a_client_built_message_around_the_nonce_logs_in() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let n = nonce(&gw, ADDRESS).await;
    let s = signed(
        &n,
        KEY,
        json!({"statement": "Sign in to the gateway.",
                                     "resources": ["https://gateway.test/api"]}),
    );
    let r = login(&gw, &s).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn every_login_refusal_answers_its_code() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let now = support::now();
    let cases: Vec<(&str, Value, &str, u16, &str)> = vec![
        (
            "wrong domain",
            json!({"domain": "evil.test"}),
            KEY,
            401,
            "DAUTH-2824",
        ),
        (
            "wrong uri",
            json!({"uri": "http://gateway.test/other"}),
            KEY,
            401,
            "DAUTH-2824",
        ),
        (
            "wrong chain",
            json!({"chain_id": 5}),
            KEY,
            401,
            "DAUTH-2813",
        ),
        (
            "expired",
            json!({"expiration_time": now - 1}),
            KEY,
            401,
            "DAUTH-2825",
        ),
        (
            "not yet valid",
            json!({"not_before": now + 600}),
            KEY,
            401,
            "DAUTH-2825",
        ),
        (
            "issued in the future",
            json!({"issued_at": now + 600}),
            KEY,
            401,
            "DAUTH-2825",
        ),
        (
            "high s",
            json!({"transform": {"high_s": true}}),
            KEY,
            401,
            "DAUTH-2819",
        ),
        (
            "v = 29",
            json!({"transform": {"v": 29}}),
            KEY,
            401,
            "DAUTH-2818",
        ),
        (
            "another signer",
            json!({"address": ADDRESS}),
            STRANGER_KEY,
            401,
            "DAUTH-2820",
        ),
    ];
    for (what, extra, key, status, code) in cases {
        let n = nonce(&gw, ADDRESS).await;
        let r = login(&gw, &signed(&n, key, extra)).await;
        let got = (r.status, r.message().split(':').next().map(str::to_owned));
        assert_eq!(got, (status, Some(code.to_owned())), "{what}: {:?}", r.body);
        // A refused login does not spend the nonce.
        let r = login(&gw, &signed(&n, KEY, json!({}))).await;
        assert_eq!(r.status, 200, "{what}: the nonce survives: {:?}", r.body);
    }
    // A nonce never issued, or issued to another address.
    let r = login(&gw, &signed("abcdefgh12345678", KEY, json!({}))).await;
    r.assert_error(401, "DAUTH-2826");
    let stranger = "0x8F9E43A1898221D7feCCBdcc176D3Fcb797CE524";
    let theirs = nonce(&gw, stranger).await;
    let r = login(&gw, &signed(&theirs, KEY, json!({}))).await;
    r.assert_error(401, "DAUTH-2826");
    // Not EIP-4361 at all.
    let r = post(
        &gw,
        "/auth/siwe/login",
        json!({"message": "hello", "signature": "0x00"}),
    )
    .await;
    r.assert_error(400, "DAUTH-2823");
}
