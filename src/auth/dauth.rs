//! DAuth tokens: from the header value to checked claims. No I/O here.
//!
//! Order of checks, each with its own error:
//! 1. shape and header (`alg` in RS256/384/512, PS256/384/512; never `none`, HS* or EC);
//! 2. signature, with the key named by `kid` or, without one, any configured key;
//! 3. required claims (`smart_contract_address`, `network_name`, `consumer_key`: non-empty
//!    strings), optional ones typed;
//! 4. `exp`/`nbf` (leeway `clock_skew_secs`), then freshness of `timestamp`/`iat`;
//! 5. network and address rules;
//! 6. the replay window, last, so a token refused for another reason does not use up its id.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};

use super::address::{
    ChecksumMemo, MAX_OPAQUE, canonical_network, is_sane, is_valid_network, normalize_address_memo,
};
use super::jws::{Jws, JwsError};
use crate::auth::keys::VerifyKey;
use crate::auth::remote::{JwksSource, Keys};
use crate::error::{AddressClaim, Error, TokenDefect};
use crate::net::CidrList;

/// `[dauth]`: the DAuth policy a verifier enforces (checked by the configuration).
#[derive(Debug, Clone)]
pub struct DauthConfig {
    /// When false a `DAuth` header is ignored (OBP `allow_dauth`).
    pub enabled: bool,
    /// Verification keys, parsed.
    pub keys: Vec<VerifyKey>,
    /// Callers allowed to use DAuth.
    pub allowed_hosts: CidrList,
    /// Allowed `network_name` values; empty means any well-formed name.
    pub networks: Vec<String>,
    /// Maximum age of `timestamp`/`iat`; 0 disables the freshness check.
    pub max_token_age_secs: u64,
    /// Tolerated clock difference with signers.
    pub clock_skew_secs: u64,
    /// Accept each (consumer_key, request_id) once.
    pub replay_protection: bool,
    /// Most pairs the replay window holds.
    pub replay_capacity: usize,
    /// Require 20-byte hex addresses with valid EIP-55 checksums.
    pub strict_addresses: bool,
    /// `jwks_url`: keys fetched beside `keys`.
    pub jwks_url: Option<crate::auth::remote::JwksUrlConfig>,
}

impl DauthConfig {
    /// How long a token can stay fresh after it is first seen, so how long its
    /// request_id must be remembered: age limit plus skew, plus a second for rounding.
    pub fn replay_window_secs(&self) -> u64 {
        self.max_token_age_secs
            .saturating_add(self.clock_skew_secs)
            .saturating_add(1)
    }
}

/// Longest token looked at; anything longer is malformed before any decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The claims of a DAuth token that passed every check, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DauthClaims {
    /// `smart_contract_address` (EIP-55 form in strict mode).
    pub contract: String,
    /// `network_name`.
    pub network: String,
    /// `consumer_key`.
    pub consumer_key: String,
    /// `msg_sender` (EIP-55 form in strict mode), when present.
    pub msg_sender: Option<String>,
    /// `request_id`, when present.
    pub request_id: Option<String>,
    /// Unix second after which the token is no longer acceptable (expiry or staleness), or
    /// `None` when nothing bounds it.
    pub fresh_until: Option<i64>,
}

#[derive(Deserialize)]
struct RawClaims {
    smart_contract_address: String,
    network_name: String,
    consumer_key: String,
    #[serde(default)]
    msg_sender: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    nbf: Option<i64>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<i64>,
}

/// RFC 7519 NumericDate: seconds, possibly fractional.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<f64>::deserialize(d)?;
    Ok(value.filter(|v| v.is_finite()).map(|v| v.floor() as i64))
}

/// Verifies DAuth tokens against the configured keys and policy. It holds no state but a memo
/// of EIP-55 forms: the replay window is the caller's (see [`DauthClaims::request_id`]).
pub struct DauthVerifier {
    policy: DauthConfig,
    /// `jwks_url`'s source, when configured.
    remote: Option<Arc<JwksSource>>,
    /// The EIP-55 forms of the addresses of tokens verified so far.
    checksums: ChecksumMemo,
}

impl DauthVerifier {
    /// Builds the verifier once, from checked configuration.
    pub fn new(policy: DauthConfig) -> Self {
        Self {
            policy,
            remote: None,
            checksums: ChecksumMemo::default(),
        }
    }

    /// The verifier with `jwks_url`'s keys from `remote` beside the configured ones.
    pub fn with_remote(mut self, remote: Option<Arc<JwksSource>>) -> Self {
        self.remote = remote;
        self
    }

    /// The `jwks_url` source worth a refetch for `token`: when there is one and the token
    /// names a `kid` its current set lacks.
    pub fn refetch_for(&self, token: &str) -> Option<&Arc<JwksSource>> {
        let remote = self.remote.as_ref()?;
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        (!remote.has_kid(&kid)
            && !self
                .policy
                .keys
                .iter()
                .any(|k| k.kid.as_ref() == Some(&kid)))
        .then_some(remote)
    }

    /// The policy this verifier enforces.
    pub fn policy(&self) -> &DauthConfig {
        &self.policy
    }

    /// Checks `token` at `now` (unix seconds) and returns its normalised claims.
    pub fn verify(&self, token: &str, now: i64) -> Result<DauthClaims, Error> {
        let raw = self.verify_signature(token)?;
        let p = &self.policy;
        if !is_sane(&raw.smart_contract_address, usize::MAX)
            || !is_sane(&raw.consumer_key, MAX_OPAQUE)
            || raw.network_name.is_empty()
            || raw
                .request_id
                .as_deref()
                .is_some_and(|r| !is_sane(r, MAX_OPAQUE))
        {
            return Err(Error::InvalidToken(TokenDefect::BadClaims));
        }
        let fresh_until = check_times(&raw, now, p.max_token_age_secs, p.clock_skew_secs)?;
        if !is_valid_network(&raw.network_name) {
            return Err(Error::NetworkNotAllowed);
        }
        let network = canonical_network(&raw.network_name);
        if !p.networks.is_empty() && !p.networks.contains(&network) {
            return Err(Error::NetworkNotAllowed);
        }
        let strict = p.strict_addresses;
        let memo = &self.checksums;
        let contract = normalize_address_memo(
            &raw.smart_contract_address,
            strict,
            AddressClaim::Contract,
            memo,
        )?;
        let msg_sender = raw
            .msg_sender
            .as_deref()
            .map(|m| normalize_address_memo(m, strict, AddressClaim::MsgSender, memo))
            .transpose()?;
        if p.replay_protection && raw.request_id.is_none() {
            return Err(Error::RequestIdMissing);
        }
        Ok(DauthClaims {
            contract,
            network,
            consumer_key: raw.consumer_key,
            msg_sender,
            request_id: raw.request_id,
            fresh_until,
        })
    }

    fn verify_signature(&self, token: &str) -> Result<RawClaims, Error> {
        let defect = Error::InvalidToken;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(defect(TokenDefect::Malformed));
        }
        let jws = Jws::parse(token).map_err(|e| match e {
            JwsError::Malformed | JwsError::Payload => defect(TokenDefect::Malformed),
            JwsError::Algorithm => defect(TokenDefect::AlgorithmNotAllowed),
            JwsError::Critical => defect(TokenDefect::CriticalHeader),
        })?;
        let remote = match self.remote.as_deref().map(JwksSource::keys) {
            None => None,
            Some(Keys::Ready(keys)) => Some(keys),
            Some(Keys::NeverLoaded) if self.policy.keys.is_empty() => {
                return Err(Error::KeysNotLoaded);
            }
            Some(Keys::Expired) if self.policy.keys.is_empty() => {
                return Err(Error::KeysExpired);
            }
            Some(Keys::NeverLoaded | Keys::Expired) => None,
        };
        let fetched = remote.as_deref().map_or(&[][..], Vec::as_slice);
        let mut candidates = jws
            .candidates(&self.policy.keys, false)
            .chain(jws.candidates(fetched, false))
            .peekable();
        if candidates.peek().is_none() {
            return Err(defect(TokenDefect::UnknownKey));
        }
        if !candidates.any(|k| jws.verified_by(k)) {
            return Err(defect(TokenDefect::BadSignature));
        }
        // Nothing to keep: the caller's claims; the defect is what the log says of them.
        jws.claims().map_err(|_| defect(TokenDefect::BadClaims))
    }
}

/// Checks `exp`, `nbf` and freshness; returns the second the token stops being acceptable.
fn check_times(raw: &RawClaims, now: i64, max_age: u64, skew: u64) -> Result<Option<i64>, Error> {
    let skew = i64::try_from(skew).unwrap_or(i64::MAX);
    if raw.exp.is_some_and(|exp| now >= exp.saturating_add(skew)) {
        return Err(Error::TokenExpired);
    }
    if raw.nbf.is_some_and(|nbf| now.saturating_add(skew) < nbf) {
        return Err(Error::TokenNotYetValid);
    }
    let timestamp = match raw.timestamp.as_deref() {
        Some(ts) => Some(parse_rfc3339(ts).ok_or(Error::InvalidToken(TokenDefect::BadClaims))?),
        None => None,
    };
    let expires = raw.exp.map(|exp| exp.saturating_add(skew));
    if max_age == 0 {
        return Ok(expires);
    }
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    let stamps = [timestamp, raw.iat];
    if stamps.iter().all(Option::is_none) {
        return Err(Error::TokenUndated);
    }
    let mut until = expires;
    for t in stamps.into_iter().flatten() {
        if t > now.saturating_add(skew) {
            return Err(Error::TokenFromFuture);
        }
        if now.saturating_sub(t) > max_age {
            return Err(Error::TokenStale);
        }
        let stale_at = t.saturating_add(max_age).saturating_add(1);
        until = Some(until.map_or(stale_at, |u| u.min(stale_at)));
    }
    Ok(until)
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests;
