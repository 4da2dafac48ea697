//! Contract accounts signing ERC-8128 requests and SIWE logins, checked on a real local EVM
//! node (anvil, tests/support/evm.rs) with the EIP-1271 wallet and its CREATE2 factory compiled
//! from tests/fixtures/contracts/: a deployed wallet (EIP-1271) and an undeployed one (ERC-6492)
//! are their contract users, another key is refused, and a node that cannot answer is 503.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use alloy_primitives::Address;
use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::contracts::{artifact, deploy_wallet};
use support::evm::Evm;
use support::upstream::Upstream;
use support::{Gateway, install, route};

/// keccak256("dauth-proxy test key: EIP-1271 wallet owner") (tests/fixtures/wallets/erc1271.json).
const OWNER_KEY: &str = "0xa10d59d3dae805478ec52b3f85d5b23df9548676d17b4cbecee6fcf62b6da60a";
const OWNER: &str = "0xa49bE60DA6769A773f998648C7E632A72C31d50b";
const STRANGER_KEY: &str = "0xb3c976341a51b9bebea81e5afae7b4b69a8c3ba49e6ff5c716ea880a1a138521";
/// The owner's wallet for the fixture's salt, from the factory account 0 deploys first.
const UNDEPLOYED: &str = "0xFdB5aa17133bE0d1455CfcaE3EA5b0837460E378";
const FACTORY: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const FACTORY_CALLDATA: &str = "0x32c02a14000000000000000000000000a49be60da6769a773f998648c7e632a72c31d50b1810a815acf24c995267d14b9d4f7cdec8273c95664f0650824610fa12fc36d4";

async fn gateway(upstream: &Upstream, node: &str) -> Gateway {
    let up = format!("http://{}", upstream.addr);
    let text = format!(
        "[wallets]\nenabled = true\ndomain = \"gateway.test\"\nuri = \"http://gateway.test/\"\n\
         chains = {{ \"31337\" = \"ANVIL\" }}\nrpc_urls = {{ \"31337\" = {node:?} }}\n{}",
        route("/api", &up, "required", "")
    );
    Gateway::start("", &text).await
}

fn sign(spec: Value) -> Value {
    let script = install::npm_tool("erc8128-sign.mjs");
    install::npm_tool("node_modules/@slicekit/erc8128/package.json");
    install::run_node(&script, &spec)
}

/// GET /api/x signed by `key` for the account `address` on chain 31337 (plus `extra`).
async fn signed_get(gw: &Gateway, key: &str, address: &str, extra: Value) -> Reply {
    let mut spec = json!({"url": "http://gateway.test/api/x", "private_key": key,
                          "chain_id": 31337, "address": address});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let signed = sign(spec);
    let headers: Vec<(String, String)> = signed["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(gw.addr, build("GET", "/api/x", &refs, "")).await
}

#[tokio::test]
async fn a_deployed_wallet_signs_as_its_contract_user() {
    let evm = Evm::start().await;
    let wallet = deploy_wallet(&evm, OWNER.parse::<Address>().unwrap()).await;
    let wallet = wallet.to_checksum(None);
    let up = Upstream::start().await;
    let gw = gateway(&up, &evm.url()).await;
    let r = signed_get(&gw, OWNER_KEY, &wallet, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "erc8128");
    assert_eq!(
        seen.get("x-dauth-provider").unwrap(),
        "ANVIL",
        "the contract user"
    );
    assert_eq!(seen.get("x-dauth-username").unwrap(), wallet.as_str());
    assert_eq!(seen.get("x-dauth-msg-sender").unwrap(), wallet.as_str());
    // Another key signing for the wallet: the wallet says no.
    let r = signed_get(&gw, STRANGER_KEY, &wallet, json!({})).await;
    r.assert_error(401, "DAUTH-2820");
    // The owner's plain signature for an address with no code is no one's.
    let r = signed_get(&gw, OWNER_KEY, UNDEPLOYED, json!({})).await;
    r.assert_error(401, "DAUTH-2820");
    assert_eq!(up.seen().len(), 1);
}

#[tokio::test]
async fn an_undeployed_wallet_signs_through_erc6492() {
    let evm = Evm::start().await;
    let factory = evm
        .deploy(&artifact("Eip1271WalletFactory").bytecode, &[])
        .await;
    assert_eq!(
        factory,
        FACTORY.parse::<Address>().unwrap(),
        "account 0's first deployment"
    );
    let up = Upstream::start().await;
    let gw = gateway(&up, &evm.url()).await;
    let wrap = json!({"erc6492": {"factory": FACTORY, "factory_data": FACTORY_CALLDATA}});
    let r = signed_get(&gw, OWNER_KEY, UNDEPLOYED, wrap.clone()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-provider").unwrap(), "ANVIL");
    assert_eq!(seen.get("x-dauth-username").unwrap(), UNDEPLOYED);
    // A wrapped signature by another key.
    let r = signed_get(&gw, STRANGER_KEY, UNDEPLOYED, wrap).await;
    r.assert_error(401, "DAUTH-2820");
}

#[tokio::test]
async fn a_node_that_cannot_answer_is_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let node = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let up = Upstream::start().await;
    let gw = gateway(&up, &node).await;
    let r = signed_get(&gw, OWNER_KEY, UNDEPLOYED, json!({})).await;
    r.assert_error(503, "DAUTH-5050");
    // An EOA's own signature needs no node.
    let owner = signed_get(&gw, OWNER_KEY, OWNER, json!({})).await;
    assert_eq!(owner.status, 200, "{:?}", owner.body);
    assert!(up.seen().len() == 1);
}

#[tokio::test]
async fn a_deployed_wallet_logs_in_with_siwe() {
    let evm = Evm::start().await;
    let wallet = deploy_wallet(&evm, OWNER.parse::<Address>().unwrap()).await;
    let wallet = wallet.to_checksum(None);
    let key = support::keys()
        .dir
        .join("trusted_private.pem")
        .display()
        .to_string();
    let uri = "http://gateway.test/auth/siwe/login";
    let upstream = Upstream::start().await;
    let text = format!(
        "[issuer]\nurl = \"http://gateway.test\"\nprivate_key = {key:?}\nkid = \"t\"\n\
         [wallets]\nenabled = true\ndomain = \"gateway.test\"\nuri = {uri:?}\n\
         chains = {{ \"31337\" = \"ANVIL\" }}\nrpc_urls = {{ \"31337\" = {:?} }}\n{}",
        evm.url(),
        route("/api", &format!("http://{}", upstream.addr), "required", "")
    );
    let gw = Gateway::start("", &text).await;
    let post = |path: &'static str, body: Value| {
        let headers = [("content-type", "application/json")];
        send(gw.addr, build("POST", path, &headers, body.to_string()))
    };
    let r = post(
        "/auth/siwe/nonce",
        json!({"address": wallet, "chain_id": 31337}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let message = r.json()["message"].as_str().unwrap().to_owned();
    let siwe = |private_key: &str| {
        let script = install::npm_tool("siwe-sign.mjs");
        let spec = json!({"private_key": private_key, "message": message});
        let out = install::run_node(&script, &spec);
        json!({"message": message, "signature": out["signature"]})
    };
    let r = post("/auth/siwe/login", siwe(STRANGER_KEY)).await;
    r.assert_error(401, "DAUTH-2820");
    let r = post("/auth/siwe/login", siwe(OWNER_KEY)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.json()["user"]["id"].as_str().unwrap().to_owned();
    let user = gw
        .state
        .shared()
        .store
        .users
        .user_by_id(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.provider.as_str(), user.username.as_str()),
        ("ANVIL", wallet.as_str())
    );
    // Its token is a SIWE caller at the backend, as an EOA's is, and it can be refreshed.
    let auth = format!("Bearer {}", r.json()["accessToken"].as_str().unwrap());
    let seen = send(
        gw.addr,
        build("GET", "/api/x", &[("authorization", auth.as_str())], ""),
    )
    .await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    let headers = upstream.last().headers;
    assert_eq!(headers.get("x-dauth-auth-method").unwrap(), "siwe");
    assert_eq!(headers.get("x-dauth-provider").unwrap(), "ANVIL");
    let refresh = json!({"refreshToken": r.json()["refreshToken"]});
    let r = post("/api/auth/refresh", refresh).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
