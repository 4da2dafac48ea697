//! Which callers may use DAuth: CIDR allowlists, IPv4-mapped IPv6 peers, trusted proxies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;

use support::client::{build, send, send_from};
use support::{CONTRACT, Gateway, config_text, token};

const USERS_CURRENT: &str = "/obp/v5.1.0/users/current";

fn req(xff: Option<&str>) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    let t = token(CONTRACT, "ETHEREUM");
    let mut headers = vec![("DAuth", t.as_str())];
    if let Some(x) = xff {
        headers.push(("X-Forwarded-For", x));
    }
    build("GET", USERS_CURRENT, &headers, "")
}

#[tokio::test]
async fn cidr_ranges_allow_a_whole_network() {
    let gw = Gateway::start("allowed_hosts = [\"127.0.0.0/29\"]", "").await;
    for from in ["127.0.0.1", "127.0.0.7"] {
        let r = send_from(from.parse().unwrap(), gw.addr, req(None)).await;
        assert_eq!(r.status, 200, "{from}");
    }
    let r = send_from("127.0.0.8".parse().unwrap(), gw.addr, req(None)).await;
    r.assert_error(401, "OBP-20069");
}

#[tokio::test]
async fn ipv4_mapped_peer_matches_ipv4_cidr() {
    // A dual-stack listener sees an IPv4 client as ::ffff:127.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("store"),
        "allowed_hosts = [\"127.0.0.1/32\"]",
        "",
    )
    .replace("listen = \"127.0.0.1:0\"", "listen = \"[::]:0\"");
    let gw = Gateway::start_text(&text).await;
    let v4 = SocketAddr::from(([127, 0, 0, 1], gw.addr.port()));
    let r = send(v4, req(None)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The same listener refuses a real IPv6 caller not in the list.
    let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, gw.addr.port()));
    send(v6, req(None)).await.assert_error(401, "OBP-20069");
}

#[tokio::test]
async fn untrusted_peer_cannot_claim_an_allowed_address_with_xff() {
    let gw = Gateway::start("allowed_hosts = [\"203.0.113.7/32\"]", "").await;
    let r = send(gw.addr, req(Some("203.0.113.7"))).await;
    r.assert_error(401, "OBP-20069");
}

#[tokio::test]
async fn trusted_proxy_xff_is_read_right_to_left() {
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &dir.path().join("store"),
        "allowed_hosts = [\"203.0.113.7/32\"]",
        "",
    )
    .replace(
        "[server]\n",
        "[server]\ntrusted_proxies = [\"127.0.0.0/8\"]\n",
    );
    let gw = Gateway::start_text(&text).await;
    // The proxy appended the real client address: allowed.
    assert_eq!(send(gw.addr, req(Some("203.0.113.7"))).await.status, 200);
    // A client forged the allowed address on the left; the proxy appended the real one.
    send(gw.addr, req(Some("203.0.113.7, 198.51.100.1")))
        .await
        .assert_error(401, "OBP-20069");
    // Trusted hops on the right are skipped.
    assert_eq!(
        send(gw.addr, req(Some("203.0.113.7, 127.0.0.9")))
            .await
            .status,
        200
    );
    // No header: the trusted peer itself is the caller, and it is not allowed.
    send(gw.addr, req(None))
        .await
        .assert_error(401, "OBP-20069");
}
