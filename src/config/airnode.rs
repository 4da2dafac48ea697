//! `[[airnode]]`: each block checked into an [`AirnodeConfig`] (which `auth::airnode` defines).

use std::collections::BTreeMap;

use alloy_primitives::Address;
use http::HeaderName;

use super::error::{KeyProblem, Problem};
use super::file::RawAirnode;
use super::values::cidrs;
use crate::auth::address::{canonical_network, is_valid_network, normalize_address};
use crate::auth::airnode::AirnodeConfig;
use crate::auth::airnode::relay::RelayHeaders;
use crate::error::AddressClaim;

/// Longest `max_replay_bytes`: a kept response lives in memory.
const MAX_REPLAY_BYTES: u64 = 64 * 1024 * 1024;

/// Checks every `[[airnode]]` block; names and keys are unique.
pub(super) fn airnodes(raw: Vec<RawAirnode>) -> Result<Vec<AirnodeConfig>, KeyProblem> {
    let mut out: Vec<AirnodeConfig> = Vec::new();
    for (i, block) in raw.into_iter().enumerate() {
        let checked = airnode(&format!("airnode[{i}]"), block)?;
        if out.iter().any(|b| b.name == checked.name) {
            return Err(invalid(
                &format!("airnode[{i}].name"),
                "names must be unique",
            ));
        }
        if out.iter().any(|b| b.key_sha256 == checked.key_sha256) {
            // One key would name two blocks (the first would always win).
            return Err(invalid(
                &format!("airnode[{i}].api_key_sha256"),
                "each block needs its own key",
            ));
        }
        out.push(checked);
    }
    Ok(out)
}

/// What is allowed but probably a mistake: a block nobody may use.
pub(super) fn warnings(blocks: &[AirnodeConfig]) -> Vec<(String, &'static str)> {
    blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.allowed_hosts.is_empty())
        .map(|(i, _)| {
            (
                format!("airnode[{i}].allowed_hosts"),
                "empty: no host may use this Airnode block",
            )
        })
        .collect()
}

fn invalid(key: &str, why: &'static str) -> KeyProblem {
    (key.to_owned(), Problem::Invalid(why))
}

fn airnode(at: &str, raw: RawAirnode) -> Result<AirnodeConfig, KeyProblem> {
    let key = |k: &str| format!("{at}.{k}");
    let name_ok = !raw.name.is_empty()
        && raw.name.len() <= 64
        && raw
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok {
        return Err(invalid(&key("name"), "1 to 64 of A-Z a-z 0-9 . _ -"));
    }
    let key_sha256 = api_key(at, &raw)?;
    let key_header = header(&key("key_header"), &raw.key_header, true)?;
    let headers = RelayHeaders {
        requester: header(&key("requester_header"), &raw.requester_header, false)?,
        chain_id: header(&key("chain_id_header"), &raw.chain_id_header, false)?,
        chain_type: header(&key("chain_type_header"), &raw.chain_type_header, false)?,
        request_id: header(&key("request_id_header"), &raw.request_id_header, false)?,
        sponsor: header(&key("sponsor_header"), &raw.sponsor_header, false)?,
        sponsor_wallet: header(
            &key("sponsor_wallet_header"),
            &raw.sponsor_wallet_header,
            false,
        )?,
    };
    let mut names: Vec<&HeaderName> = headers.all().collect();
    names.push(&key_header);
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(
            &key("key_header"),
            "the key and relay headers must be six distinct names",
        ));
    }
    let chains = chains(&key("chains"), &raw.chains)?;
    if chains.is_empty() {
        return Err(invalid(
            &key("chains"),
            "at least one chain id -> network_name is required",
        ));
    }
    let airnode_address = raw
        .airnode_address
        .as_deref()
        .map(|a| address(&key("airnode_address"), a))
        .transpose()?;
    let rpc = rpc(at, &raw, &chains, airnode_address.is_some())?;
    if raw.retry_window_secs == 0 {
        return Err(invalid(&key("retry_window_secs"), "must be at least 1"));
    }
    if raw.retry_capacity == 0 {
        return Err(invalid(&key("retry_capacity"), "must be at least 1"));
    }
    if raw.max_replay_bytes > MAX_REPLAY_BYTES || raw.max_replay_bytes > raw.replay_memory_bytes {
        return Err(invalid(
            &key("max_replay_bytes"),
            "at most 64 MiB and at most replay_memory_bytes",
        ));
    }
    if raw.rpc_timeout_secs == 0 {
        return Err(invalid(&key("rpc_timeout_secs"), "must be at least 1"));
    }
    Ok(AirnodeConfig {
        allowed_hosts: cidrs(&key("allowed_hosts"), &raw.allowed_hosts)?,
        sponsors: addresses(&key("sponsors"), &raw.sponsors)?,
        requesters: addresses(&key("requesters"), &raw.requesters)?,
        name: raw.name,
        key_sha256,
        key_header,
        airnode_address,
        chains,
        headers,
        retry_window_secs: raw.retry_window_secs,
        max_replay_bytes: usize::try_from(raw.max_replay_bytes).unwrap_or(usize::MAX),
        retry_capacity: raw.retry_capacity,
        replay_memory_bytes: usize::try_from(raw.replay_memory_bytes).unwrap_or(usize::MAX),
        rpc,
        rpc_timeout_secs: raw.rpc_timeout_secs,
    })
}

/// The key's digest: `api_key_sha256` (64 hex digits), or the SHA-256 of `api_key_file`'s
/// contents without a final line break. Exactly one of the two.
fn api_key(at: &str, raw: &RawAirnode) -> Result<[u8; 32], KeyProblem> {
    match (&raw.api_key_sha256, &raw.api_key_file) {
        (Some(hex), None) => {
            let k = format!("{at}.api_key_sha256");
            let bytes = alloy_primitives::hex::decode(hex.trim())
                .map_err(|_| invalid(&k, "64 hex digits: the SHA-256 of the key"))?;
            bytes
                .try_into()
                .map_err(|_| invalid(&k, "64 hex digits: the SHA-256 of the key"))
        }
        (None, Some(path)) => {
            let k = format!("{at}.api_key_file");
            let text = crate::fs::read_small_file(std::path::Path::new(path))
                .map_err(|e| (k.clone(), Problem::Read(e)))?;
            let secret = text.trim_end_matches(['\r', '\n']);
            if secret.trim().len() < 16 {
                return Err(invalid(&k, "the key must be at least 16 characters"));
            }
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
            d.as_ref()
                .try_into()
                .map_err(|_| invalid(&k, "cannot digest the key"))
        }
        _ => Err(invalid(
            &format!("{at}.api_key_sha256"),
            "set exactly one of api_key_sha256 and api_key_file",
        )),
    }
}

/// A header name the gateway may take a credential or relay fact from: not one of its own
/// identity headers, not `DAuth`, not hop-by-hop; `Authorization` only for the key.
fn header(key: &str, raw: &str, may_be_authorization: bool) -> Result<HeaderName, KeyProblem> {
    let name =
        HeaderName::from_bytes(raw.as_bytes()).map_err(|_| invalid(key, "not a header name"))?;
    let reserved = is_reserved(name.as_str());
    if reserved || (name == http::header::AUTHORIZATION && !may_be_authorization) {
        return Err(invalid(
            key,
            "may not be DAuth, Host, a hop-by-hop header or an X-DAuth-/X-User-Ctx identity header",
        ));
    }
    Ok(name)
}

fn chain_id(key: &str, raw: &str) -> Result<u64, KeyProblem> {
    let ok = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && !(raw.len() > 1 && raw.starts_with('0'));
    ok.then(|| raw.parse().ok())
        .flatten()
        .ok_or_else(|| invalid(key, "chain ids are decimal, without leading zeros"))
}

fn chains(key: &str, raw: &BTreeMap<String, String>) -> Result<BTreeMap<u64, String>, KeyProblem> {
    raw.iter()
        .map(|(id, network)| {
            let k = format!("{key}.{id}");
            if !is_valid_network(network) {
                return Err(invalid(
                    &k,
                    "network names are 1 to 64 of A-Z a-z 0-9 . _ - :",
                ));
            }
            Ok((chain_id(&k, id)?, canonical_network(network)))
        })
        .collect()
}

fn address(key: &str, raw: &str) -> Result<Address, KeyProblem> {
    normalize_address(raw, true, AddressClaim::Contract)
        .ok()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| {
            invalid(
                key,
                "0x + 40 hex digits; a mixed-case address must be EIP-55",
            )
        })
}

fn addresses(key: &str, raw: &[String]) -> Result<Vec<Address>, KeyProblem> {
    raw.iter()
        .enumerate()
        .map(|(i, a)| address(&format!("{key}[{i}]"), a))
        .collect()
}

/// `rpc_urls` and `rrp_address`: the same chain ids, each in `chains`; the Airnode's address
/// is needed to find its requests.
fn rpc(
    at: &str,
    raw: &RawAirnode,
    chains: &BTreeMap<u64, String>,
    has_airnode: bool,
) -> Result<BTreeMap<u64, (String, Address)>, KeyProblem> {
    let mut out = BTreeMap::new();
    for (id, url) in &raw.rpc_urls {
        let k = format!("{at}.rpc_urls.{id}");
        let chain = chain_id(&k, id)?;
        if !chains.contains_key(&chain) {
            return Err(invalid(&k, "the chain id must be in chains"));
        }
        crate::chain::check_url(url)
            .map_err(|_| invalid(&k, "an https URL (plain http only to a loopback host)"))?;
        let rrp = raw.rrp_address.get(id).ok_or_else(|| {
            invalid(
                &format!("{at}.rrp_address.{id}"),
                "each rpc_urls chain needs its AirnodeRrpV0 address",
            )
        })?;
        let rrp = address(&format!("{at}.rrp_address.{id}"), rrp)?;
        out.insert(chain, (url.clone(), rrp));
    }
    if let Some(id) = raw
        .rrp_address
        .keys()
        .find(|id| !raw.rpc_urls.contains_key(*id))
    {
        return Err(invalid(
            &format!("{at}.rrp_address.{id}"),
            "no rpc_urls entry for this chain",
        ));
    }
    if !out.is_empty() && !has_airnode {
        return Err(invalid(
            &format!("{at}.airnode_address"),
            "the on-chain check (rpc_urls) needs the Airnode's address",
        ));
    }
    Ok(out)
}

/// Names the gateway keeps for itself or that frame the message (compared with `_` read as
/// `-`, as the header filter does).
fn is_reserved(lower: &str) -> bool {
    const TAKEN: [&str; 14] = [
        "dauth",
        "host",
        "cookie",
        "content-length",
        "content-type",
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let folded = lower.replace('_', "-");
    TAKEN.contains(&folded.as_str())
        || folded.starts_with("x-dauth-")
        || folded.starts_with("x-user-ctx")
        || folded.starts_with("x-forwarded-")
}

#[cfg(test)]
mod tests;
