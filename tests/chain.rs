//! The chain client against a real local node (anvil): calls that return and calls that
//! revert, logs by topic, and the failures a node can cause (silence, refusal, overload), each
//! bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolCall, SolEvent};
use dauth_proxy::chain::{CallOutcome, ChainError, ChainRpc};
use support::contracts::{AirnodeSetup, IAirnodeRrpV0, MockRrpRequesterV0};
use support::evm::{CHAIN_ID, Evm};

fn tls() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth()
}

fn client(url: &str, timeout_ms: u64, in_flight: usize) -> ChainRpc {
    ChainRpc::new(url, tls(), Duration::from_millis(timeout_ms), in_flight).unwrap()
}

#[tokio::test]
async fn calls_return_revert_and_logs_are_found_by_topic() {
    let evm = Evm::shared().await;
    let airnode = AirnodeSetup::deploy(evm).await;
    let rpc = client(&evm.url(), 5_000, 4);
    assert_eq!(rpc.chain_id().await.unwrap(), CHAIN_ID);

    let request = airnode
        .make_full_request(evm, keccak256("endpoint"), b"")
        .await;
    let awaiting = IAirnodeRrpV0::requestIsAwaitingFulfillmentCall {
        requestId: request.request_id,
    };
    let out = rpc
        .call(airnode.rrp, Bytes::from(awaiting.abi_encode()))
        .await
        .unwrap();
    let CallOutcome::Returned(bytes) = out else {
        panic!("{out:?}")
    };
    assert!(IAirnodeRrpV0::requestIsAwaitingFulfillmentCall::abi_decode_returns(&bytes).unwrap());

    // fulfill() from anyone but AirnodeRrpV0 reverts: an answer, not a failure.
    let fulfill = MockRrpRequesterV0::fulfillCall {
        requestId: request.request_id,
        data: Bytes::new(),
    };
    let out = rpc
        .call(airnode.requester, Bytes::from(fulfill.abi_encode()))
        .await
        .unwrap();
    assert!(matches!(out, CallOutcome::Reverted(_)), "{out:?}");

    let filter = Filter::new()
        .address(airnode.rrp)
        .event_signature(IAirnodeRrpV0::MadeFullRequest::SIGNATURE_HASH)
        .topic1(B256::left_padding_from(airnode.airnode.as_slice()))
        .topic2(request.request_id)
        .from_block(0);
    let logs = rpc.logs(&filter).await.unwrap();
    assert_eq!(logs.len(), 1);
    let other = filter.clone().topic2(keccak256("no such request"));
    assert!(rpc.logs(&other).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_silent_node_times_out_and_a_closed_port_fails_at_once() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        loop {
            let (s, _) = silent.accept().await.unwrap();
            conns.push(s);
        }
    });
    let rpc = client(&format!("http://{addr}"), 300, 4);
    let err = rpc.chain_id().await.unwrap_err();
    assert!(matches!(err, ChainError::Timeout { .. }), "{err:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let rpc = client(&format!("http://127.0.0.1:{port}/v3/SECRET-KEY"), 5_000, 4);
    let err = rpc.chain_id().await.unwrap_err();
    assert!(matches!(err, ChainError::Transport { .. }), "{err:?}");
    assert!(!err.to_string().contains("SECRET-KEY"), "{err}");
    held.abort();
}

#[tokio::test]
async fn calls_beyond_the_bound_are_refused_at_once() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        loop {
            let (s, _) = silent.accept().await.unwrap();
            conns.push(s);
        }
    });
    let rpc = Arc::new(client(&format!("http://{addr}"), 10_000, 1));
    let first = {
        let rpc = Arc::clone(&rpc);
        tokio::spawn(async move { rpc.chain_id().await })
    };
    // Wait until the first call holds the only place (it is connected and waiting).
    while !first.is_finished() && rpc.in_flight() == 0 {
        tokio::task::yield_now().await;
    }
    let err = rpc.chain_id().await.unwrap_err();
    assert!(matches!(err, ChainError::Busy(_)), "{err:?}");
    first.abort();
    held.abort();
}
