//! The Airnode on-chain check against a real local chain (anvil, with AirnodeRrpV0 and a
//! requester contract from `@api3/airnode-protocol` deployed): a request on chain and awaiting
//! is served; one not on chain, already fulfilled or failed, or relayed with another
//! requester, sponsor or sponsor wallet is refused; a node that cannot be asked fails closed
//! (503).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use alloy_primitives::{Address, B256, keccak256};
use support::Gateway;
use support::airnode::*;
use support::contracts::{AirnodeRequest, AirnodeSetup};
use support::evm::Evm;
use support::upstream::{Upstream, sha256_hex};

/// One test at a time sends transactions from the shared node's accounts (their nonces).
static CHAIN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A gateway whose block checks chain 31337 at `rpc` (AirnodeRrpV0 at `setup.rrp`).
async fn checking(upstream: &Upstream, setup: &AirnodeSetup, rpc: &str) -> Gateway {
    let text = format!(
        "[[airnode]]\nname = \"on-chain\"\napi_key_sha256 = \"{key}\"\n\
         allowed_hosts = [\"127.0.0.1/32\"]\nchains = {{ \"31337\" = \"hardhat.local\" }}\n\
         airnode_address = \"{airnode}\"\nrpc_urls = {{ \"31337\" = \"{rpc}\" }}\n\
         rrp_address = {{ \"31337\" = \"{rrp}\" }}\nrpc_timeout_secs = 5\n\n{route}",
        key = sha256_hex(KEY.as_bytes()),
        airnode = setup.airnode,
        rrp = setup.rrp,
        route = support::route("/svc", &format!("http://{}", upstream.addr), "required", ""),
    );
    Gateway::start("", &text).await
}

/// The headers Airnode sends for `request`, as the chain recorded it.
fn headers_for(setup: &AirnodeSetup, request: &AirnodeRequest) -> Headers {
    let set = |h, n, v: String| with(h, n, &v);
    let h = set(
        relay_headers(KEY),
        "X-Airnode-Requester",
        setup.requester.to_checksum(None),
    );
    let h = set(h, "X-Airnode-Sponsor", setup.sponsor.to_checksum(None));
    let h = set(
        h,
        "X-Airnode-Sponsor-Wallet",
        setup.sponsor_wallet.to_checksum(None),
    );
    set(h, "X-Airnode-Request-Id", request.request_id.to_string())
}

#[tokio::test]
async fn requests_are_checked_against_the_chain() {
    let _chain = CHAIN.lock().await;
    let evm = Evm::shared().await;
    let setup = AirnodeSetup::deploy(evm).await;
    let upstream = Upstream::start().await;
    let gw = checking(&upstream, &setup, &evm.url()).await;
    let request = setup
        .make_full_request(evm, keccak256("endpoint"), b"")
        .await;
    let headers = headers_for(&setup, &request);

    // On chain and awaiting: served, as the requester contract's user.
    let reply = call(&gw, "POST", "/svc/quote", &headers, b"{}").await;
    assert_eq!(reply.status, 200, "{}", reply.message());
    let seen = upstream.last();
    assert_eq!(
        seen.headers["x-dauth-username"],
        setup.requester.to_checksum(None).as_str()
    );
    assert_eq!(
        seen.headers["x-dauth-request-id"],
        request.request_id.to_string().as_str()
    );

    // Another request id, never made.
    let unknown = with(
        headers.clone(),
        "X-Airnode-Request-Id",
        &keccak256("nothing").to_string(),
    );
    call(&gw, "POST", "/svc/quote", &unknown, b"{}")
        .await
        .assert_error(403, "DAUTH-2612");

    // The same request relayed with facts the chain does not have.
    let stranger = Address::repeat_byte(0x42).to_checksum(None);
    for (name, what) in [
        ("X-Airnode-Requester", "requester"),
        ("X-Airnode-Sponsor", "sponsor"),
        ("X-Airnode-Sponsor-Wallet", "sponsor_wallet"),
    ] {
        let reply = call(
            &gw,
            "POST",
            "/svc/quote",
            &with(headers.clone(), name, &stranger),
            b"{}",
        )
        .await;
        reply.assert_error(403, "DAUTH-2614");
        assert!(reply.message().contains(what), "{}", reply.message());
    }
    // The check compares sponsors, so they must be relayed.
    call(
        &gw,
        "POST",
        "/svc/quote",
        &without(headers.clone(), "X-Airnode-Sponsor-Wallet"),
        b"{}",
    )
    .await
    .assert_error(400, "DAUTH-2604");

    // Failed on chain (final): refused, even as a retry of the request served above.
    setup.fail(evm, request.request_id).await;
    assert!(!setup.is_awaiting(evm, request.request_id).await);
    call(&gw, "POST", "/svc/quote", &headers, b"{}")
        .await
        .assert_error(403, "DAUTH-2613");
    assert_eq!(upstream.seen().len(), 1);
}

#[tokio::test]
async fn a_fulfilled_request_is_refused() {
    let _chain = CHAIN.lock().await;
    let evm = Evm::shared().await;
    let setup = AirnodeSetup::deploy(evm).await;
    let upstream = Upstream::start().await;
    let gw = checking(&upstream, &setup, &evm.url()).await;
    let request = setup
        .make_full_request(evm, keccak256("fulfilled"), b"")
        .await;
    let headers = headers_for(&setup, &request);
    assert_eq!(call(&gw, "GET", "/svc/x", &headers, b"").await.status, 200);
    setup
        .fulfill(evm, request.request_id, &B256::repeat_byte(1).0)
        .await;
    assert!(!setup.is_awaiting(evm, request.request_id).await);
    call(&gw, "GET", "/svc/x", &headers, b"")
        .await
        .assert_error(403, "DAUTH-2613");
}

#[tokio::test]
async fn a_request_made_to_another_airnode_is_not_this_ones() {
    let _chain = CHAIN.lock().await;
    let evm = Evm::shared().await;
    let setup = AirnodeSetup::deploy(evm).await;
    let upstream = Upstream::start().await;
    let other = AirnodeSetup {
        airnode: evm.account(4),
        ..setup
    };
    let gw = checking(&upstream, &other, &evm.url()).await;
    let request = setup
        .make_full_request(evm, keccak256("endpoint"), b"")
        .await;
    call(&gw, "GET", "/svc/x", &headers_for(&setup, &request), b"")
        .await
        .assert_error(403, "DAUTH-2612");
}

#[tokio::test]
async fn a_node_that_cannot_be_asked_fails_closed() {
    let _chain = CHAIN.lock().await;
    let evm = Evm::shared().await;
    let setup = AirnodeSetup::deploy(evm).await;
    let upstream = Upstream::start().await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gw = checking(&upstream, &setup, &url).await;
    let request = setup
        .make_full_request(evm, B256::repeat_byte(7), b"")
        .await;
    call(&gw, "GET", "/svc/x", &headers_for(&setup, &request), b"")
        .await
        .assert_error(503, "DAUTH-5038");
    assert!(upstream.seen().is_empty());
}
