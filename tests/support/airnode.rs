//! Airnode relay-mode test helpers: the values of `airnode-adapter`'s own test fixtures
//! (v0.15.0), the headers Airnode builds from them, and a gateway with two `[[airnode]]`
//! blocks in front of a real upstream.

use bytes::Bytes;

use super::client::{Reply, build, send};
use super::upstream::{Upstream, sha256_hex};
use super::{Gateway, route};

/// `airnode-adapter/test/fixtures/options.ts` (v0.15.0): the metadata Airnode relays.
pub const REQUESTER: &str = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
pub const SPONSOR: &str = "0x7a9a6F6B21AEE3b905AEeC757bbBcA39747Ca4Fa";
pub const SPONSOR_WALLET: &str = "0xB604c9f7de852F26DB90C04000820850112905b4";
pub const REQUEST_ID: &str = "0xcf2816af81f9cc7c9879dc84ce29c00fe1e290bcb8d2e4b204be1eeb120811bf";
pub const CHAIN_ID: &str = "31337";

pub const KEY: &str = "airnode-secret-0123456789abcdef";
pub const OTHER_KEY: &str = "strict-airnode-secret-9876543210";

/// Request headers, in order.
pub type Headers = Vec<(String, String)>;

/// The block under test (default header names), a second block with allow-lists, and routes.
pub fn config(upstream: &Upstream, extra_block: &str) -> String {
    let up = format!("http://{}", upstream.addr);
    format!(
        "[[airnode]]\nname = \"acme-airnode\"\napi_key_sha256 = \"{key}\"\n\
         allowed_hosts = [\"127.0.0.1/32\"]\nchains = {{ \"31337\" = \"hardhat.local\", \"1\" = \"ethereum\" }}\n\
         {extra_block}\n\
         [[airnode]]\nname = \"strict\"\napi_key_sha256 = \"{other}\"\n\
         allowed_hosts = [\"127.0.0.1/32\"]\nchains = {{ \"31337\" = \"hardhat.local\" }}\n\
         sponsors = [\"0x0000000000000000000000000000000000000001\"]\n\n{}{}",
        route("/svc", &up, "required", ""),
        route("/open", &up, "none", ""),
        key = sha256_hex(KEY.as_bytes()),
        other = sha256_hex(OTHER_KEY.as_bytes()),
    )
}

pub async fn gateway(upstream: &Upstream) -> Gateway {
    Gateway::start("", &config(upstream, "")).await
}

/// The headers Airnode v0.15.0 builds for an OIS with an `apiKey` scheme named
/// `X-Airnode-Key` and the six relay schemes under the default names.
pub fn relay_headers(key: &str) -> Vec<(String, String)> {
    [
        ("X-Airnode-Key", key),
        ("X-Airnode-Requester", REQUESTER),
        ("X-Airnode-Chain-Id", CHAIN_ID),
        ("X-Airnode-Chain-Type", "evm"),
        ("X-Airnode-Request-Id", REQUEST_ID),
        ("X-Airnode-Sponsor", SPONSOR),
        ("X-Airnode-Sponsor-Wallet", SPONSOR_WALLET),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

pub fn with(mut headers: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
    headers
}

pub fn without(mut headers: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers
}

pub async fn call(
    gw: &Gateway,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &'static [u8],
) -> Reply {
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(
        gw.addr,
        build(method, path, &refs, Bytes::from_static(body)),
    )
    .await
}
