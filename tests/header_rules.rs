//! Header rules through a real upstream: headers that claim the client's address or another
//! path never pass from an untrusted peer, whatever their spelling, and `Authorization` is read
//! one way by the verifier and the header filter alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::client::{build, send};
use support::upstream::Upstream;
use support::{Gateway, route};

/// Address headers as CDNs, load balancers and frameworks spell them.
const ADDRESS_HEADERS: [&str; 20] = [
    "X-Real-IP",
    "True-Client-IP",
    "X-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
    "X-Cluster-Client-IP",
    "X-Original-Forwarded-For",
    "X-Forwarded",
    "Forwarded-For",
    "X-Originating-IP",
    "X-Remote-IP",
    "X-Remote-Addr",
    "Client-IP",
    "X-ProxyUser-Ip",
    "Forwarded",
    "CF-Connecting-IPv6",
    "X-Azure-ClientIP",
    "X-Envoy-External-Address",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
];

/// Each name as sent, lowercased with `_`, and uppercased with `_` for the first `-`.
fn spellings() -> Vec<String> {
    ADDRESS_HEADERS
        .iter()
        .flat_map(|n| {
            [
                n.to_string(),
                n.to_ascii_lowercase().replace('-', "_"),
                n.to_ascii_uppercase().replacen('-', "_", 1),
            ]
        })
        .collect()
}

async fn gateway(server_extra: &str) -> (Upstream, Gateway) {
    let up = Upstream::start().await;
    let routes = route("/backend/", &format!("http://{}", up.addr), "none", "");
    let gw = Gateway::start_with(server_extra, "", &routes).await;
    (up, gw)
}

#[tokio::test]
async fn client_address_headers_from_an_untrusted_peer_never_reach_the_upstream() {
    let (up, gw) = gateway("").await;
    let names = spellings();
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "6.6.6.6")).collect();
    let r = send(gw.addr, build("GET", "/backend/x", &headers, "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    let leaked: Vec<_> = seen
        .iter()
        .filter(|(_, v)| v.to_str().unwrap_or_default().contains("6.6.6.6"))
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    assert!(leaked.is_empty(), "reached the upstream: {leaked:?}");
    assert_eq!(seen.get("x-forwarded-for").unwrap(), "127.0.0.1");
}

#[tokio::test]
async fn a_trusted_proxy_may_send_them_but_never_a_path_override() {
    let (up, gw) = gateway("trusted_proxies = [\"127.0.0.0/8\"]").await;
    let headers = [
        ("True-Client-IP", "6.6.6.6"),
        ("X_Real_IP", "6.6.6.6"),
        ("X-Original-URL", "/admin"),
        ("X_Rewrite_URL", "/admin"),
        ("X-Envoy-Original-Path", "/admin"),
        ("X-Forwarded-Uri", "/admin"),
    ];
    let r = send(gw.addr, build("GET", "/backend/x", &headers, "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("true-client-ip").unwrap(), "6.6.6.6");
    assert_eq!(seen.get("x_real_ip").unwrap(), "6.6.6.6");
    let overrides: Vec<_> = seen
        .iter()
        .filter(|(_, v)| v.to_str().unwrap_or_default() == "/admin")
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    assert!(overrides.is_empty(), "reached the upstream: {overrides:?}");
}
