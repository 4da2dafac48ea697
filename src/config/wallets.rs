//! `[wallets]`: wallet-signed requests (ERC-8128) and Sign-In with Ethereum (EIP-4361),
//! checked into [`WalletsConfig`]; and the names a route's `auth_methods` may list.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::error::{KeyProblem, Problem};
use crate::auth::erc8128::Erc8128Rules;

/// The names of the authentication methods, as `X-DAuth-Auth-Method` says them and a route's
/// `auth_methods` lists them.
pub const AUTH_METHOD_NAMES: [&str; 5] = ["dauth", "bearer", "erc8128", "siwe", "airnode"];

/// `[wallets]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawWallets {
    pub(super) enabled: bool,
    pub(super) domain: String,
    pub(super) uri: String,
    pub(super) chains: BTreeMap<String, String>,
    pub(super) max_lifetime_secs: u64,
    pub(super) nonce_ttl_secs: u64,
    pub(super) clock_skew_secs: u64,
    pub(super) rpc_urls: BTreeMap<String, String>,
    pub(super) rpc_timeout_secs: u64,
    pub(super) replay_capacity: usize,
}

impl Default for RawWallets {
    fn default() -> Self {
        Self {
            enabled: false,
            domain: String::new(),
            uri: String::new(),
            chains: BTreeMap::new(),
            max_lifetime_secs: 300,
            nonce_ttl_secs: 300,
            clock_skew_secs: 60,
            rpc_urls: BTreeMap::new(),
            rpc_timeout_secs: 5,
            replay_capacity: 100_000,
        }
    }
}

/// `[wallets]`, checked.
#[derive(Debug, Clone, Default)]
pub struct WalletsConfig {
    /// Whether ERC-8128 signatures and SIWE logins are accepted at all.
    pub enabled: bool,
    /// The EIP-4361 `domain` a SIWE message must name.
    pub domain: String,
    /// The EIP-4361 `URI` a SIWE message must name.
    pub uri: String,
    /// Chain id -> the network name its contract users get (as DAuth's `network_name`,
    /// upper-cased).
    pub chains: BTreeMap<u64, String>,
    /// The ERC-8128 rules (chains, lifetime, skew).
    pub rules: Erc8128Rules,
    /// How long an issued SIWE nonce stays valid.
    pub nonce_ttl_secs: u64,
    /// Chain id -> JSON-RPC URL, for EIP-1271 / ERC-6492 checks of contract accounts.
    pub rpc_urls: BTreeMap<u64, String>,
    /// Deadline of one call to a node.
    pub rpc_timeout: Duration,
    /// Most unexpired ERC-8128 nonces remembered; beyond it signatures are refused (503).
    pub replay_capacity: usize,
}

/// Checks `[wallets]`.
pub(super) fn wallets(raw: RawWallets) -> Result<WalletsConfig, KeyProblem> {
    let invalid = |key: String, why| (key, Problem::Invalid(why));
    let mut chains = BTreeMap::new();
    for (id, network) in raw.chains {
        let chain = chain_id(&id).ok_or_else(|| {
            invalid(
                format!("wallets.chains.{id}"),
                "chain ids are decimal integers",
            )
        })?;
        if !crate::auth::address::is_valid_network(&network) {
            return Err(invalid(
                format!("wallets.chains.{id}"),
                "network names are 1 to 64 of A-Z a-z 0-9 . _ - :",
            ));
        }
        chains.insert(chain, crate::auth::address::canonical_network(&network));
    }
    let mut rpc_urls = BTreeMap::new();
    for (id, url) in raw.rpc_urls {
        let key = format!("wallets.rpc_urls.{id}");
        let chain = chain_id(&id).ok_or_else(|| invalid(key.clone(), "chain ids are decimal"))?;
        if !chains.contains_key(&chain) {
            return Err(invalid(key, "the chain must be listed in wallets.chains"));
        }
        rpc_urls.insert(chain, url);
    }
    if raw.enabled && (raw.domain.is_empty() || raw.uri.is_empty() || chains.is_empty()) {
        return Err(invalid(
            "wallets".into(),
            "wallets.enabled = true needs domain, uri and at least one chain",
        ));
    }
    if raw.max_lifetime_secs == 0 || raw.nonce_ttl_secs == 0 || raw.rpc_timeout_secs == 0 {
        return Err(invalid(
            "wallets".into(),
            "max_lifetime_secs, nonce_ttl_secs and rpc_timeout_secs must be at least 1",
        ));
    }
    Ok(WalletsConfig {
        enabled: raw.enabled,
        domain: raw.domain,
        uri: raw.uri,
        rules: Erc8128Rules {
            chains: chains.keys().copied().collect(),
            max_lifetime_secs: raw.max_lifetime_secs,
            clock_skew_secs: raw.clock_skew_secs,
        },
        chains,
        nonce_ttl_secs: raw.nonce_ttl_secs,
        rpc_urls,
        rpc_timeout: Duration::from_secs(raw.rpc_timeout_secs),
        replay_capacity: raw.replay_capacity.max(1),
    })
}

/// A route's `auth_methods`: known names, each once, at least one.
pub(super) fn auth_methods(
    key: &str,
    raw: Option<Vec<String>>,
) -> Result<Option<Vec<&'static str>>, KeyProblem> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut out: Vec<&'static str> = Vec::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let known = AUTH_METHOD_NAMES.iter().find(|n| **n == name.as_str());
        match known {
            Some(n) if !out.contains(n) => out.push(n),
            _ => {
                return Err((
                    format!("{key}[{i}]"),
                    Problem::Invalid(
                        "one of dauth, bearer, erc8128, siwe, airnode, each at most once",
                    ),
                ));
            }
        }
    }
    if out.is_empty() {
        return Err((key.to_owned(), Problem::Invalid("list at least one method")));
    }
    Ok(Some(out))
}

fn chain_id(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn key_of(text: &str) -> String {
        match Config::from_toml(text, Path::new("t.toml")) {
            Ok(_) => "accepted".into(),
            Err(e) => e.key,
        }
    }

    const ON: &str = "[dauth]\nenabled = false\n[wallets]\nenabled = true\ndomain = \"a.test\"\nuri = \"https://a.test/\"\n";

    #[test]
    fn wallets_are_off_by_default_with_the_documented_limits() {
        let c = Config::from_toml("[dauth]\nenabled = false\n", Path::new("t.toml"));
        let w = c.map(|c| c.wallets).ok().unwrap_or_default();
        assert!(!w.enabled);
        assert_eq!(
            (
                w.rules.max_lifetime_secs,
                w.nonce_ttl_secs,
                w.rules.clock_skew_secs
            ),
            (300, 300, 60)
        );
    }

    #[test]
    fn bad_wallet_settings_name_their_key() {
        assert_eq!(key_of(ON), "wallets", "no chain");
        let chains = format!("{ON}chains = {{ \"1\" = \"ETHEREUM\" }}\n");
        assert_eq!(key_of(&chains), "accepted");
        assert_eq!(
            key_of(&format!("{ON}chains = {{ \"0x1\" = \"E\" }}\n")),
            "wallets.chains.0x1"
        );
        let rpc = format!("{chains}rpc_urls = {{ \"5\" = \"http://127.0.0.1:1\" }}\n");
        assert_eq!(key_of(&rpc), "wallets.rpc_urls.5");
        assert_eq!(
            key_of(&format!("{chains}max_lifetime_secs = 0\n")),
            "wallets"
        );
    }

    #[test]
    fn auth_methods_are_known_names_once() {
        let route = |methods: &str| {
            format!(
                "[dauth]\nenabled = false\n[[routes]]\nprefix = \"/a\"\nupstream = \"http://127.0.0.1:1\"\nauth_methods = {methods}\n"
            )
        };
        assert_eq!(key_of(&route("[\"erc8128\", \"airnode\"]")), "accepted");
        assert_eq!(
            key_of(&route("[\"password\"]")),
            "routes[0].auth_methods[0]"
        );
        assert_eq!(
            key_of(&route("[\"siwe\", \"siwe\"]")),
            "routes[0].auth_methods[1]"
        );
        assert_eq!(key_of(&route("[]")), "routes[0].auth_methods");
    }
}
