//! Airnode relay mode through a real gateway and a real upstream: the relay headers as Airnode
//! v0.15.0 sends them (the values of `airnode-adapter`'s own test fixtures), the user shared
//! with DAuth, the identity headers and what is stripped, every refusal, and retries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::IpAddr;

use bytes::Bytes;
use support::airnode::*;
use support::client::{build, send_from};
use support::upstream::Upstream;
use support::{Gateway, token};

#[tokio::test]
async fn relay_headers_as_airnode_sends_them_become_the_contract_user() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let reply = call(&gw, "GET", "/svc/price?coin=eth", &relay_headers(KEY), b"").await;
    assert_eq!(reply.status, 200, "{}", reply.message());
    let seen = upstream.last();
    let h = |n: &str| seen.headers.get(n).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(h("x-dauth-auth-method").as_deref(), Some("airnode"));
    assert_eq!(h("x-dauth-username").as_deref(), Some(REQUESTER));
    assert_eq!(h("x-dauth-provider").as_deref(), Some("HARDHAT.LOCAL"));
    assert_eq!(
        h("x-dauth-consumer-key").as_deref(),
        Some("airnode:acme-airnode")
    );
    assert_eq!(h("x-dauth-chain-id").as_deref(), Some(CHAIN_ID));
    assert_eq!(h("x-dauth-request-id").as_deref(), Some(REQUEST_ID));
    assert_eq!(h("x-dauth-sponsor").as_deref(), Some(SPONSOR));
    assert_eq!(h("x-dauth-msg-sender"), None);
    assert!(h("x-dauth-user-id").is_some());
    for gone in [
        "x-airnode-key",
        "x-airnode-requester",
        "x-airnode-chain-id",
        "x-airnode-chain-type",
        "x-airnode-request-id",
        "x-airnode-sponsor",
        "x-airnode-sponsor-wallet",
    ] {
        assert!(
            seen.headers.get(gone).is_none(),
            "{gone} reached the backend"
        );
    }
}

#[tokio::test]
async fn an_airnode_caller_and_a_dauth_token_for_the_same_contract_are_one_user() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    // The DAuth token spells the address in lowercase and the network in lowercase.
    let dauth = gw
        .current_user(&token(&REQUESTER.to_ascii_lowercase(), "hardhat.local"))
        .await;
    assert_eq!(dauth.status, 200, "{}", dauth.message());
    let dauth_id = dauth.json()["user_id"].as_str().unwrap().to_owned();
    // The relayed requester in lowercase too: still the one EIP-55 identity.
    let headers = with(
        relay_headers(KEY),
        "X-Airnode-Requester",
        &REQUESTER.to_ascii_lowercase(),
    );
    assert_eq!(call(&gw, "GET", "/svc/x", &headers, b"").await.status, 200);
    let airnode_id = upstream.last().headers["x-dauth-user-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(airnode_id, dauth_id);
    // And the embedded endpoint answers the Airnode caller (another request) as that user.
    let another = with(
        relay_headers(KEY),
        "X-Airnode-Request-Id",
        &format!("0x{}", "0e".repeat(32)),
    );
    let me = call(&gw, "GET", "/obp/v5.1.0/users/current", &another, b"").await;
    assert_eq!(me.status, 200, "{}", me.message());
    assert_eq!(me.json()["user_id"], dauth_id.as_str());
}

#[tokio::test]
async fn a_bearer_key_from_an_ois_http_scheme_is_accepted_and_never_forwarded() {
    let upstream = Upstream::start().await;
    let gw = Gateway::start("", &config(&upstream, "key_header = \"Authorization\"")).await;
    let headers = with(
        without(relay_headers(KEY), "X-Airnode-Key"),
        "Authorization",
        &format!("Bearer {KEY}"),
    );
    let reply = call(&gw, "POST", "/svc/bearer", &headers, b"{}").await;
    assert_eq!(reply.status, 200, "{}", reply.message());
    let seen = upstream.last();
    assert!(seen.headers.get("authorization").is_none());
    assert_eq!(seen.headers["x-dauth-auth-method"], "airnode");
    // Relay headers with a bearer token that is not the key: no valid Airnode credential.
    let wrong = with(
        headers.clone(),
        "Authorization",
        "Bearer someone-elses-token",
    );
    call(&gw, "GET", "/svc/x", &wrong, b"")
        .await
        .assert_error(401, "DAUTH-2601");
    // The key alone, as a bearer token, without relay headers: the facts are missing.
    let bare = vec![("Authorization".to_owned(), format!("Bearer {KEY}"))];
    call(&gw, "GET", "/svc/x", &bare, b"")
        .await
        .assert_error(400, "DAUTH-2604");
}

#[tokio::test]
async fn relay_headers_never_reach_a_backend_on_an_open_route() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let mut headers = relay_headers("not the key");
    // Spellings a CGI-style backend folds into the same names.
    headers.push((
        "X_Airnode_Requester".into(),
        "0x0000000000000000000000000000000000000bad".into(),
    ));
    headers.push(("x_airnode_key".into(), "smuggled".into()));
    let reply = call(&gw, "GET", "/open/x", &headers, b"").await;
    assert_eq!(reply.status, 200);
    let seen = upstream.last();
    for name in [
        "x-airnode-key",
        "x_airnode_key",
        "x-airnode-requester",
        "x_airnode_requester",
        "x-airnode-request-id",
        "x-airnode-sponsor",
    ] {
        assert!(seen.headers.get(name).is_none(), "{name}");
    }
}

/// Every refusal of the authentication step, each with its code.
#[tokio::test]
async fn every_refusal_has_its_code() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let base = relay_headers(KEY);
    let dauth = token(REQUESTER, "hardhat.local");
    let cases: Vec<(&str, Headers, u16, &str)> = vec![
        (
            "no key",
            without(base.clone(), "X-Airnode-Key"),
            401,
            "DAUTH-2601",
        ),
        (
            "wrong key",
            with(base.clone(), "X-Airnode-Key", "guess"),
            401,
            "DAUTH-2601",
        ),
        (
            "key with a space",
            with(base.clone(), "X-Airnode-Key", &format!("{KEY}x")),
            401,
            "DAUTH-2601",
        ),
        (
            "wrong key alone",
            vec![("X-Airnode-Key".into(), "guess".into())],
            401,
            "DAUTH-2601",
        ),
        (
            "with DAuth",
            with(base.clone(), "DAuth", &dauth),
            400,
            "DAUTH-2603",
        ),
        (
            "relay and DAuth, no key",
            with(without(base.clone(), "X-Airnode-Key"), "DAuth", &dauth),
            400,
            "DAUTH-2603",
        ),
        (
            "with a bearer",
            with(base.clone(), "Authorization", "Bearer abc"),
            400,
            "DAUTH-2603",
        ),
        (
            "no requester",
            without(base.clone(), "X-Airnode-Requester"),
            400,
            "DAUTH-2604",
        ),
        (
            "no chain id",
            without(base.clone(), "X-Airnode-Chain-Id"),
            400,
            "DAUTH-2604",
        ),
        (
            "no chain type",
            without(base.clone(), "X-Airnode-Chain-Type"),
            400,
            "DAUTH-2604",
        ),
        (
            "no request id",
            without(base.clone(), "X-Airnode-Request-Id"),
            400,
            "DAUTH-2604",
        ),
        (
            "key only",
            vec![("X-Airnode-Key".into(), KEY.into())],
            400,
            "DAUTH-2604",
        ),
        (
            "two chain ids",
            [
                base.clone(),
                vec![("X-Airnode-Chain-Id".into(), "1".into())],
            ]
            .concat(),
            400,
            "DAUTH-2605",
        ),
        (
            "two requesters",
            [
                base.clone(),
                vec![("X-Airnode-Requester".into(), REQUESTER.into())],
            ]
            .concat(),
            400,
            "DAUTH-2605",
        ),
        (
            "short request id",
            with(base.clone(), "X-Airnode-Request-Id", "0xcf28"),
            400,
            "DAUTH-2606",
        ),
        (
            "hex chain id",
            with(base.clone(), "X-Airnode-Chain-Id", "0x7a69"),
            400,
            "DAUTH-2606",
        ),
        (
            "padded chain id",
            with(base.clone(), "X-Airnode-Chain-Id", "031337"),
            400,
            "DAUTH-2606",
        ),
        (
            "chain type",
            with(base.clone(), "X-Airnode-Chain-Type", "solana"),
            400,
            "DAUTH-2606",
        ),
        (
            "short requester",
            with(base.clone(), "X-Airnode-Requester", "0xe7f1725E"),
            400,
            "DAUTH-2606",
        ),
        (
            "bad wallet",
            with(base.clone(), "X-Airnode-Sponsor-Wallet", "wallet"),
            400,
            "DAUTH-2606",
        ),
        (
            "bad checksum",
            with(
                base.clone(),
                "X-Airnode-Requester",
                "0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            ),
            400,
            "DAUTH-2607",
        ),
        (
            "unknown chain",
            with(base.clone(), "X-Airnode-Chain-Id", "137"),
            403,
            "DAUTH-2608",
        ),
        (
            "sponsor not allowed",
            with(base.clone(), "X-Airnode-Key", OTHER_KEY),
            403,
            "DAUTH-2609",
        ),
        (
            "sponsor needed for the allow-list",
            without(
                with(base.clone(), "X-Airnode-Key", OTHER_KEY),
                "X-Airnode-Sponsor",
            ),
            400,
            "DAUTH-2604",
        ),
    ];
    for (what, headers, status, code) in cases {
        let reply = call(&gw, "GET", "/svc/x", &headers, b"").await;
        assert_eq!(reply.status, status, "{what}: {}", reply.message());
        reply.assert_error(status, code);
    }
    assert!(
        upstream.seen().is_empty(),
        "a refused request reached the backend"
    );
}

#[tokio::test]
async fn the_key_from_another_host_is_refused() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let refs: Vec<(String, String)> = relay_headers(KEY);
    let refs: Vec<(&str, &str)> = refs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let from: IpAddr = "127.0.0.2".parse().unwrap();
    let reply = send_from(from, gw.addr, build("GET", "/svc/x", &refs, Bytes::new())).await;
    reply.assert_error(401, "DAUTH-2602");
    assert!(upstream.seen().is_empty());
}

/// A route's `auth_methods` applies to Airnode callers as to every other method: a route that
/// does not list `airnode` refuses them before the backend, one that lists it serves them.
#[tokio::test]
async fn a_route_whose_auth_methods_omit_airnode_refuses_airnode_callers() {
    let upstream = Upstream::start().await;
    let up = format!("http://{}", upstream.addr);
    let routes = format!(
        "{}{}",
        support::route("/only-dauth", &up, "required", "auth_methods = [\"dauth\"]"),
        support::route(
            "/with-airnode",
            &up,
            "required",
            "auth_methods = [\"dauth\", \"airnode\"]"
        ),
    );
    let gw = Gateway::start("", &format!("{}{routes}", config(&upstream, ""))).await;
    let refused = call(&gw, "GET", "/only-dauth/x", &relay_headers(KEY), b"").await;
    assert_eq!(refused.status, 401, "{}", refused.message());
    assert!(
        refused.message().contains("DAUTH-2822"),
        "{}",
        refused.message()
    );
    assert!(
        upstream.seen().is_empty(),
        "a refused Airnode call reached the backend"
    );
    let served = call(&gw, "GET", "/with-airnode/x", &relay_headers(KEY), b"").await;
    assert_eq!(served.status, 200, "{}", served.message());
    assert_eq!(upstream.seen().len(), 1);
}
