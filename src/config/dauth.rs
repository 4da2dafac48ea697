//! `[dauth]`: the DAuth policy, checked into [`DauthConfig`] (which the verifier defines).

use super::error::{KeyProblem, Problem};
use super::file::RawDauth;
use super::values::{cidrs, verify_keys};
use crate::auth::dauth::DauthConfig;

/// Checks `[dauth]`.
pub(super) fn dauth(raw: RawDauth) -> Result<DauthConfig, KeyProblem> {
    let invalid = |key: &str, why| (key.to_owned(), Problem::Invalid(why));
    let allowed_hosts = cidrs("dauth.allowed_hosts", &raw.allowed_hosts)?;
    let timing = raw.timing();
    let jwks_url = super::jwks::url_source(
        "dauth.",
        super::jwks::RawUrl {
            jwks_url: raw.jwks_url.as_deref(),
            discovery_url: None,
            jwks_ca: raw.jwks_ca.as_deref(),
            timing,
        },
        "dauth",
    )?;
    if raw.enabled && raw.public_keys.is_empty() && jwks_url.is_none() {
        return Err(invalid(
            "dauth.public_keys",
            "at least one key (or a jwks_url) is required while dauth.enabled = true",
        ));
    }
    let keys = verify_keys("dauth.public_keys", raw.public_keys)?;
    if let Some(bad) = raw
        .networks
        .iter()
        .position(|n| !crate::auth::address::is_valid_network(n))
    {
        return Err(invalid(
            &format!("dauth.networks[{bad}]"),
            "network names are 1 to 64 of A-Z a-z 0-9 . _ - :",
        ));
    }
    if raw.replay_protection && raw.max_token_age_secs == 0 {
        return Err(invalid(
            "dauth.replay_protection",
            "replay protection needs a bounded token age: set dauth.max_token_age_secs > 0",
        ));
    }
    if raw.replay_protection && raw.replay_capacity == 0 {
        return Err(invalid("dauth.replay_capacity", "must be at least 1"));
    }
    Ok(DauthConfig {
        enabled: raw.enabled,
        keys,
        allowed_hosts,
        networks: raw
            .networks
            .iter()
            .map(|n| crate::auth::address::canonical_network(n))
            .collect(),
        max_token_age_secs: raw.max_token_age_secs,
        clock_skew_secs: raw.clock_skew_secs,
        replay_protection: raw.replay_protection,
        replay_capacity: raw.replay_capacity,
        strict_addresses: raw.strict_addresses,
        jwks_url,
    })
}
