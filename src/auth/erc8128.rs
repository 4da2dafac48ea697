//! ERC-8128 signed requests: RFC 9421 HTTP Message Signatures made with EIP-191
//! `personal_sign` by an Ethereum account named in `keyid` (`erc8128:<chain id>:<address>`).
//!
//! [`verify`] reads `Signature-Input` and `Signature` (RFC 8941 dictionaries, parsed with
//! `sfv`), takes the first label present in both, checks that the covered components bind the
//! request (`@method`, `@authority`, `@path`; `@query` when there is one; `content-digest` when
//! there is a body, recomputed over the bytes the gateway forwards, RFC 9530), the times, the
//! nonce, the chain, rebuilds the signature base (RFC 9421 2.5), hashes it (EIP-191) and checks
//! the signature ([`super::eip191`]). What it cannot decide alone is left to the caller: the
//! nonce's single use ([`consume`], after the signature verified, so a forgery never burns a
//! nonce) and a signature only a contract wallet could vouch for (EIP-1271).
//!
//! The components are taken from the request as received (raw path and query, the Host or
//! `:authority` lower-cased without a default port), never from the gateway's rewritten form.

use std::collections::BTreeSet;

use alloy_primitives::{Address, B256};
use http::HeaderMap;
use sfv::{BareItem, Dictionary, FieldType, InnerList, ListEntry, Parser};

use super::eip191::{self, Signer};
use crate::error::WalletError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

mod digest;

pub use digest::CONTENT_DIGEST;

/// `Signature-Input` (RFC 9421 4.1).
pub const SIGNATURE_INPUT: &str = "signature-input";
/// `Signature` (RFC 9421 4.2).
pub const SIGNATURE: &str = "signature";

/// The rules a signature is judged by (from `[wallets]`).
#[derive(Debug, Clone, Default)]
pub struct Erc8128Rules {
    /// Chain ids accepted in `keyid`.
    pub chains: BTreeSet<u64>,
    /// Longest `expires - created`.
    pub max_lifetime_secs: u64,
    /// Tolerance for the signer's clock, on `created` and `expires`.
    pub clock_skew_secs: u64,
}

/// The request as the client sent it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The method, as received.
    pub method: &'a str,
    /// Host (or `:authority`), lower-cased, without the scheme's default port.
    pub authority: &'a str,
    /// The raw path (`/` when empty).
    pub path: &'a str,
    /// The raw query without `?`, when the request-target has a non-empty one.
    pub query: Option<&'a str>,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The body the gateway forwards (empty when there is none).
    pub body: &'a [u8],
}

/// A verified ERC-8128 signature (the nonce not yet consumed).
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The chain id of `keyid`.
    pub chain_id: u64,
    /// The `keyid` address.
    pub address: Address,
    /// `erc8128:<chain id>:<lower-case address>`: the replay scope.
    pub keyid: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// The `expires` parameter.
    pub expires: i64,
    /// The EIP-191 hash of the signature base.
    pub hash: B256,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// How the signature relates to the address ([`Signer::Eoa`]: proven here).
    pub signer: Signer,
}

/// True when the request carries either ERC-8128 header.
pub fn present(headers: &HeaderMap) -> bool {
    headers.contains_key(SIGNATURE_INPUT) || headers.contains_key(SIGNATURE)
}

/// Verifies the request's ERC-8128 signature at `now` (see the module docs).
pub fn verify(
    target: &Target<'_>,
    rules: &Erc8128Rules,
    now: i64,
) -> Result<SignedRequest, WalletError> {
    let inputs = dictionary(target.headers, SIGNATURE_INPUT)?;
    let signatures = dictionary(target.headers, SIGNATURE)?;
    let (label, list, signature) = pick(&inputs, &signatures)?;
    let components = components(list)?;
    let params = Params::read(list)?;
    let (chain_id, address) = keyid(params.keyid.as_deref().ok_or(WalletError::BadKeyid)?)?;
    bound(&components, target)?;
    params.check_times(rules, now)?;
    let nonce = params
        .nonce
        .filter(|n| !n.is_empty())
        .ok_or(WalletError::NonceRequired)?;
    if !rules.chains.contains(&chain_id) {
        return Err(WalletError::ChainNotAllowed);
    }
    if components.iter().any(|c| c == CONTENT_DIGEST) {
        digest::check(target.headers, target.body)?;
    }
    let base = signature_base(&components, target, label, list)?;
    let hash = eip191::message_hash(base.as_bytes());
    let signer = eip191::check(&hash, &signature, address)?;
    Ok(SignedRequest {
        chain_id,
        address,
        keyid: format!("erc8128:{chain_id}:{address:x}"),
        nonce,
        expires: params.expires.unwrap_or_default(),
        hash,
        signature,
        signer,
    })
}

/// Takes the signature's nonce in `window`, held until `expires` plus the skew (a signature
/// is accepted up to then). Call only once the signer is proven.
pub async fn consume(
    window: &dyn ReplayWindow,
    signed: &SignedRequest,
    rules: &Erc8128Rules,
    now: i64,
) -> Result<(), crate::error::Error> {
    let scope = ReplayScope::Erc8128 {
        keyid: &signed.keyid,
    };
    let until = signed
        .expires
        .saturating_add_unsigned(rules.clock_skew_secs)
        .saturating_add(1);
    match window.record(scope, &signed.nonce, until, now).await? {
        Replay::Fresh => Ok(()),
        Replay::Seen => Err(WalletError::Replayed.into()),
        Replay::Full => Err(crate::error::Error::ReplayWindowFull),
    }
}

/// A header parsed as an RFC 8941 dictionary (several lines combined with `, `).
fn dictionary(headers: &HeaderMap, name: &str) -> Result<Dictionary, WalletError> {
    let mut text = String::new();
    for value in headers.get_all(name) {
        let value = value.to_str().map_err(|_| WalletError::Malformed)?;
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(value);
    }
    if text.is_empty() {
        return Err(WalletError::HeadersMissing);
    }
    Parser::new(&text)
        .parse::<Dictionary>()
        .map_err(|_| WalletError::Malformed)
}

/// The first `Signature-Input` member with a `Signature` member of the same label.
fn pick<'a>(
    inputs: &'a Dictionary,
    signatures: &Dictionary,
) -> Result<(&'a sfv::Key, &'a InnerList, Vec<u8>), WalletError> {
    for (label, entry) in inputs {
        let Some(sig) = signatures.get(label) else {
            continue;
        };
        let ListEntry::InnerList(list) = entry else {
            return Err(WalletError::Malformed);
        };
        return match sig {
            ListEntry::Item(item) if item.params.is_empty() => match &item.bare_item {
                BareItem::ByteSequence(bytes) => Ok((label, list, bytes.clone())),
                _ => Err(WalletError::Malformed),
            },
            _ => Err(WalletError::Malformed),
        };
    }
    Err(WalletError::LabelNotFound)
}

/// The covered component names: sf-strings without parameters, each once; derived ones from
/// the four this verifier derives, header names in lower case (RFC 9421 2.1).
fn components(list: &InnerList) -> Result<Vec<String>, WalletError> {
    let mut names: Vec<String> = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(WalletError::Malformed);
        };
        let name = name.as_str();
        let known = matches!(name, "@method" | "@authority" | "@path" | "@query");
        let header = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if !item.params.is_empty() || !(known || header) || names.iter().any(|n| n == name) {
            return Err(WalletError::Malformed);
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// The signature parameters this verifier reads.
#[derive(Debug, Default)]
struct Params {
    created: Option<i64>,
    expires: Option<i64>,
    nonce: Option<String>,
    keyid: Option<String>,
}

impl Params {
    fn read(list: &InnerList) -> Result<Self, WalletError> {
        let mut out = Self::default();
        for (key, value) in &list.params {
            match (key.as_str(), value) {
                ("alg", _) => return Err(WalletError::AlgNotAllowed),
                ("created", BareItem::Integer(i)) => out.created = Some(i64::from(*i)),
                ("expires", BareItem::Integer(i)) => out.expires = Some(i64::from(*i)),
                ("nonce", BareItem::String(s)) => out.nonce = Some(s.as_str().to_owned()),
                ("keyid", BareItem::String(s)) => out.keyid = Some(s.as_str().to_owned()),
                ("tag", BareItem::String(_)) => {}
                ("created" | "expires" | "nonce" | "keyid" | "tag", _) => {
                    return Err(WalletError::Malformed);
                }
                // Other parameters are signed as part of @signature-params; nothing reads them.
                _ => {}
            }
        }
        Ok(out)
    }

    /// `created` and `expires` present, ordered, current within the skew, not too far apart.
    fn check_times(&self, rules: &Erc8128Rules, now: i64) -> Result<(), WalletError> {
        let (Some(created), Some(expires)) = (self.created, self.expires) else {
            return Err(WalletError::BadTime);
        };
        if expires <= created {
            return Err(WalletError::BadTime);
        }
        let skew = i64::try_from(rules.clock_skew_secs).unwrap_or(i64::MAX);
        if now.saturating_add(skew) < created {
            return Err(WalletError::NotYetValid);
        }
        if now.saturating_sub(skew) > expires {
            return Err(WalletError::Expired);
        }
        let lifetime = u64::try_from(expires.saturating_sub(created)).unwrap_or(u64::MAX);
        if lifetime > rules.max_lifetime_secs {
            return Err(WalletError::LifetimeTooLong);
        }
        Ok(())
    }
}

/// `erc8128:<decimal chain id>:<0x + 40 hex>` (the address compared case-insensitively, as the
/// ERC says; the text signed as sent).
fn keyid(text: &str) -> Result<(u64, Address), WalletError> {
    let rest = text.strip_prefix("erc8128:").ok_or(WalletError::BadKeyid)?;
    let (chain, address) = rest.split_once(':').ok_or(WalletError::BadKeyid)?;
    let decimal =
        !chain.is_empty() && chain.len() <= 19 && chain.bytes().all(|b| b.is_ascii_digit());
    let hex = address
        .strip_prefix("0x")
        .filter(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let (true, Some(hex)) = (decimal, hex) else {
        return Err(WalletError::BadKeyid);
    };
    let chain_id = chain.parse().map_err(|_| WalletError::BadKeyid)?;
    let address = hex.parse().map_err(|_| WalletError::BadKeyid)?;
    Ok((chain_id, address))
}

/// The covered set binds the request: method, authority, path; the query when there is one;
/// the content digest when there is a body.
fn bound(components: &[String], target: &Target<'_>) -> Result<(), WalletError> {
    let has = |name: &str| components.iter().any(|c| c == name);
    let base = has("@method") && has("@authority") && has("@path");
    let query = target.query.is_none() || has("@query");
    let body = target.body.is_empty() || has(CONTENT_DIGEST);
    if base && query && body {
        Ok(())
    } else {
        Err(WalletError::NotRequestBound)
    }
}

/// The signature base (RFC 9421 2.5): `"<name>": <value>` per component, then
/// `"@signature-params": <the serialized inner list>`, joined by LF, no trailing LF.
fn signature_base(
    components: &[String],
    target: &Target<'_>,
    label: &sfv::Key,
    list: &InnerList,
) -> Result<String, WalletError> {
    let mut base = String::new();
    for name in components {
        let value = match name.as_str() {
            "@method" => target.method.to_owned(),
            "@authority" => target.authority.to_owned(),
            "@path" => target.path.to_owned(),
            "@query" => format!("?{}", target.query.unwrap_or_default()),
            header => header_value(target.headers, header)?,
        };
        if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(WalletError::Malformed);
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    let mut one = Dictionary::new();
    one.insert(label.clone(), ListEntry::InnerList(list.clone()));
    let serialized = one.serialize().ok_or(WalletError::Malformed)?;
    let params = serialized
        .strip_prefix(label.as_str())
        .and_then(|s| s.strip_prefix('='))
        .ok_or(WalletError::Malformed)?;
    base.push_str("\"@signature-params\": ");
    base.push_str(params);
    Ok(base)
}

/// A covered header field's value (RFC 9421 2.1): the lines joined by `, `, trimmed, and runs
/// of spaces and tabs collapsed to one space, as the reference library signs them.
fn header_value(headers: &HeaderMap, name: &str) -> Result<String, WalletError> {
    let mut lines = Vec::new();
    for value in headers.get_all(name) {
        lines.push(value.to_str().map_err(|_| WalletError::Malformed)?);
    }
    if lines.is_empty() {
        return Err(if name == CONTENT_DIGEST {
            WalletError::DigestRequired
        } else {
            WalletError::CoveredHeaderMissing
        });
    }
    let joined = lines.join(", ");
    Ok(joined
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" "))
}

#[cfg(test)]
mod tests;
