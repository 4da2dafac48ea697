//! ERC-8128 signed requests through a real gateway to a real upstream, signed at test time by
//! `@slicekit/erc8128` (tests/js/erc8128-sign.mjs, independent of the gateway's code): the
//! signer reaches the backend as `X-DAuth-Auth-Method: erc8128` with `X-DAuth-Msg-Sender`, and
//! each refusal of issue 16 answers its code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use dauth_proxy::auth::mint::DauthTokenSpec;
use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::upstream::{Upstream, sha256_hex};
use support::{CONTRACT, Gateway, install, route, token_with};

/// keccak256("dauth-proxy test key: ERC-8128 signer") (tests/fixtures/wallets/erc8128.json).
const KEY: &str = "0xe0b0b1c30dc80279333d6ae686b76c87b7fa4713ff8ee31f7b434080e05a76e4";
const SIGNER: &str = "0x885BB08EADd339A43284ECeC1Ac54f3542610061";
/// keccak256("dauth-proxy test key: stranger").
const STRANGER: &str = "0x8F9E43A1898221D7feCCBdcc176D3Fcb797CE524";

fn wallets(extra: &str) -> String {
    format!(
        "[wallets]\nenabled = true\ndomain = \"gateway.test\"\nuri = \"http://gateway.test/\"\n\
         chains = {{ \"1\" = \"ETHEREUM\" }}\n{extra}\n"
    )
}

async fn gateway(upstream: &Upstream, route_extra: &str) -> Gateway {
    let up = format!("http://{}", upstream.addr);
    let routes = format!(
        "{}{}",
        route("/api", &up, "required", route_extra),
        route("/open", &up, "none", "")
    );
    Gateway::start("", &format!("{}{routes}", wallets(""))).await
}

/// Runs the live signer on `spec` (the key, chain 1 and method GET unless given).
fn sign(spec: Value) -> Value {
    let script = install::npm_tool("erc8128-sign.mjs");
    install::npm_tool("node_modules/@slicekit/erc8128/package.json");
    let mut spec = spec;
    let obj = spec.as_object_mut().unwrap();
    obj.entry("private_key").or_insert(json!(KEY));
    obj.entry("chain_id").or_insert(json!(1));
    install::run_node(&script, &spec)
}

/// Sends `method path` with `body` and the signer's headers (plus `extra`).
async fn send_signed(
    gw: &Gateway,
    method: &str,
    path: &str,
    body: &str,
    signed: &Value,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers: Vec<(String, String)> = signed["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    headers.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(gw.addr, build(method, path, &refs, body.to_owned())).await
}

fn url(path: &str) -> String {
    format!("http://gateway.test{path}")
}

#[tokio::test]
async fn a_signed_get_reaches_the_backend_as_its_wallet() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let path = "/api/banks?limit=10&sort=asc";
    let signed = sign(json!({"url": url(path)}));
    let r = send_signed(
        &gw,
        "GET",
        path,
        "",
        &signed,
        &[("x-dauth-msg-sender", CONTRACT)],
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "erc8128");
    let senders: Vec<_> = seen.get_all("x-dauth-msg-sender").iter().collect();
    assert_eq!(senders, vec![SIGNER], "the client's own value is dropped");
    let user_id = seen
        .get("x-dauth-user-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let user = gw
        .state
        .shared()
        .store
        .users
        .user_by_id(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.provider.as_str(), user.username.as_str()),
        ("siwe.1", SIGNER)
    );
    // The same wallet signs again: the same user.
    let again = sign(json!({"url": url(path)}));
    let r = send_signed(&gw, "GET", path, "", &again, &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        up.last().headers.get("x-dauth-user-id").unwrap(),
        user_id.as_str()
    );
}

#[tokio::test]
async fn a_signed_post_forwards_the_bytes_its_digest_covers() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let body = r#"{"bank_id":"gh.29.uk","label":"My account"}"#;
    let spec = json!({"method": "POST", "url": url("/api/accounts"), "body": body,
                      "headers": {"content-type": "application/json"}});
    let signed = sign(spec.clone());
    let ct = [("content-type", "application/json")];
    let r = send_signed(&gw, "POST", "/api/accounts", body, &signed, &ct).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["body_sha256"], sha256_hex(body.as_bytes()));
    // The body changed after signing (the digest header kept): refused.
    let signed = sign(spec.clone());
    let changed = body.replace("My", "Your");
    let r = send_signed(&gw, "POST", "/api/accounts", &changed, &signed, &ct).await;
    r.assert_error(401, "DAUTH-2815");
    // A body the signature does not cover at all (signed as a POST without one).
    let signed = sign(json!({"method": "POST", "url": url("/api/accounts")}));
    let r = send_signed(&gw, "POST", "/api/accounts", body, &signed, &ct).await;
    r.assert_error(401, "DAUTH-2805");
    assert_eq!(up.seen().len(), 1, "no refused request reached the backend");
}

#[tokio::test]
async fn a_nonce_is_good_once() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[]).await;
    r.assert_error(401, "DAUTH-2812");
    // The same nonce from another wallet is its own.
    let other = sign(json!({"url": url("/api/x"), "nonce": signed["nonce"],
        "private_key": "0xb3c976341a51b9bebea81e5afae7b4b69a8c3ba49e6ff5c716ea880a1a138521"}));
    let r = send_signed(&gw, "GET", "/api/x", "", &other, &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        up.last().headers.get("x-dauth-msg-sender").unwrap(),
        STRANGER
    );
}

#[tokio::test]
async fn every_refusal_answers_its_code() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let now = support::now();
    let cases: Vec<(&str, Value, &str, u16, &str)> = vec![
        (
            "wrong signer",
            json!({"address": STRANGER}),
            "/api/x",
            401,
            "DAUTH-2820",
        ),
        (
            "expired",
            json!({"created": now - 400, "ttl": 60}),
            "/api/x",
            401,
            "DAUTH-2809",
        ),
        (
            "from the future",
            json!({"created_offset": 600}),
            "/api/x",
            401,
            "DAUTH-2808",
        ),
        ("too long", json!({"ttl": 301}), "/api/x", 401, "DAUTH-2810"),
        (
            "no nonce",
            json!({"nonce": null}),
            "/api/x",
            401,
            "DAUTH-2811",
        ),
        (
            "high s",
            json!({"transform": {"high_s": true}}),
            "/api/x",
            401,
            "DAUTH-2819",
        ),
        (
            "v = 29",
            json!({"transform": {"v": 29}}),
            "/api/x",
            401,
            "DAUTH-2818",
        ),
        (
            "64 bytes",
            json!({"transform": {"truncate": 64}}),
            "/api/x",
            401,
            "DAUTH-2817",
        ),
        (
            "wrong chain",
            json!({"chain_id": 5}),
            "/api/x",
            401,
            "DAUTH-2813",
        ),
        (
            "alg",
            json!({"alg": "rsa-pss-sha512"}),
            "/api/x",
            401,
            "DAUTH-2806",
        ),
        (
            "query not covered",
            json!({}),
            "/api/x?admin=1",
            401,
            "DAUTH-2805",
        ),
        ("other path", json!({}), "/api/y", 401, "DAUTH-2820"),
    ];
    for (what, mut spec, path, status, code) in cases {
        spec["url"] = json!(url("/api/x"));
        let signed = sign(spec);
        let r = send_signed(&gw, "GET", path, "", &signed, &[]).await;
        let got = (r.status, r.message().split(':').next().map(str::to_owned));
        assert_eq!(got, (status, Some(code.to_owned())), "{what}: {:?}", r.body);
    }
    // Only one of the two headers.
    let signed = sign(json!({"url": url("/api/x")}));
    let input = signed["headers"]["signature-input"].as_str().unwrap();
    let r = send(
        gw.addr,
        build("GET", "/api/x", &[("signature-input", input)], ""),
    )
    .await;
    r.assert_error(401, "DAUTH-2801");
    assert!(
        up.seen().is_empty(),
        "no refused request reached the backend"
    );
}

#[tokio::test]
async fn a_route_takes_only_the_methods_it_lists() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "auth_methods = [\"bearer\"]").await;
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[]).await;
    r.assert_error(401, "OBP-20001");
    drop(gw);
    let gw = gateway(&up, "auth_methods = [\"erc8128\"]").await;
    let dauth = token_with(&DauthTokenSpec::new(CONTRACT, "ETHEREUM", "ck"));
    let r = send(gw.addr, build("GET", "/api/x", &[("dauth", &dauth)], "")).await;
    r.assert_error(401, "DAUTH-2822");
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[tokio::test]
async fn a_dauth_token_with_a_signature_pins_msg_sender() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let mut spec = DauthTokenSpec::new(CONTRACT, "ETHEREUM", "ck");
    spec.msg_sender = Some(SIGNER.to_lowercase());
    let pinned = token_with(&spec);
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[("dauth", &pinned)]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "dauth");
    assert_eq!(seen.get("x-dauth-msg-sender").unwrap(), SIGNER);
    assert_eq!(
        seen.get("x-dauth-username").unwrap(),
        CONTRACT,
        "the contract's user"
    );
    // Another wallet signs the same token's request: refused.
    spec.msg_sender = Some(STRANGER.to_owned());
    let other = token_with(&spec);
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[("dauth", &other)]).await;
    r.assert_error(403, "DAUTH-2821");
    // A token without msg_sender proves no caller either.
    spec.msg_sender = None;
    let bare = token_with(&spec);
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[("dauth", &bare)]).await;
    r.assert_error(403, "DAUTH-2821");
}

#[tokio::test]
async fn an_embedded_endpoint_takes_a_signed_request() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "").await;
    let path = "/obp/v5.1.0/users/current";
    let signed = sign(json!({"url": url(path)}));
    let r = send_signed(&gw, "GET", path, "", &signed, &[]).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user = r.json();
    assert_eq!(user["provider"], "siwe.1", "{user}");
    assert_eq!(user["username"], SIGNER);
    // Replayed: refused there too.
    let r = send_signed(&gw, "GET", path, "", &signed, &[]).await;
    r.assert_error(401, "DAUTH-2812");
}

#[tokio::test]
async fn a_signed_body_is_read_within_the_route_limit_only() {
    let up = Upstream::start().await;
    let gw = gateway(&up, "max_body_bytes = 16").await;
    let body = "x".repeat(17);
    let spec = json!({"method": "POST", "url": url("/api/x"), "body": body});
    let signed = sign(spec);
    let r = send_signed(&gw, "POST", "/api/x", &body, &signed, &[]).await;
    r.assert_error(413, "DAUTH-1413");
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn with_wallets_off_a_signature_is_no_credential() {
    let up = Upstream::start().await;
    let routes = route("/api", &format!("http://{}", up.addr), "required", "");
    let gw = Gateway::start("", &routes).await;
    let signed = sign(json!({"url": url("/api/x")}));
    let r = send_signed(&gw, "GET", "/api/x", "", &signed, &[]).await;
    r.assert_error(401, "OBP-20001");
}
