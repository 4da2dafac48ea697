//! Sign-In with Ethereum (EIP-4361): the message parsed by its ABNF, strictly, and checked
//! against the gateway's `[wallets]` rules.
//!
//! The grammar (EIP-4361 "Message Format"): the preamble line, the EIP-55 address, an empty
//! line, an optional statement and its empty line, then `URI`, `Version`, `Chain ID`, `Nonce`,
//! `Issued At`, and optionally `Expiration Time`, `Not Before`, `Request ID`, `Resources`, in
//! that order, each once; LF only, no trailing LF; field names case-sensitive. The domain is an
//! RFC 3986 authority, URIs are RFC 3986 URIs, times RFC 3339 date-times. `siwe` 0.6 (the only
//! Rust crate) has been dormant since 2024, so the grammar is here, tested with the EIP-4361
//! vectors in spruceid's layout (`tests/fixtures/wallets/siwe.json`).
//!
//! [`check`] then applies issue 16's rules: domain and URI equal the configuration, chain id
//! allowed, `Issued At` not after now + skew, `Expiration Time` (valid while now < it) and
//! `Not Before` (valid from it on), and the EIP-191 signature ([`super::eip191`]). The nonce is
//! the caller's: consumed only after all of this passed.

use std::collections::BTreeSet;

use alloy_primitives::{Address, B256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::eip191::{self, Signer};
use crate::error::WalletError;

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";

/// A parsed EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    /// The optional scheme before `://`.
    pub scheme: Option<String>,
    /// The RFC 3986 authority asking for the sign-in.
    pub domain: String,
    /// The signer (EIP-55 in the message).
    pub address: Address,
    /// The optional statement.
    pub statement: Option<String>,
    /// `URI`.
    pub uri: String,
    /// `Chain ID`.
    pub chain_id: u64,
    /// `Nonce`.
    pub nonce: String,
    /// `Issued At`, Unix seconds.
    pub issued_at: i64,
    /// `Expiration Time`, Unix seconds.
    pub expiration_time: Option<i64>,
    /// `Not Before`, Unix seconds.
    pub not_before: Option<i64>,
    /// `Request ID`.
    pub request_id: Option<String>,
    /// `Resources`.
    pub resources: Vec<String>,
}

/// What a SIWE message must match (from `[wallets]`).
#[derive(Debug, Clone, Default)]
pub struct SiweRules {
    /// `wallets.domain`.
    pub domain: String,
    /// `wallets.uri`.
    pub uri: String,
    /// `wallets.chains`' ids.
    pub chains: BTreeSet<u64>,
    /// `wallets.clock_skew_secs`, for `Issued At`.
    pub clock_skew_secs: u64,
}

/// A message that passed [`check`]: its fields, its hash, how the signature relates.
#[derive(Debug, Clone)]
pub struct CheckedLogin {
    /// The message.
    pub message: SiweMessage,
    /// The EIP-191 hash of the message's bytes.
    pub hash: B256,
    /// [`Signer::Eoa`] when the signature recovered to the message's address.
    pub signer: Signer,
}

/// Parses `text` by the EIP-4361 ABNF.
pub fn parse(text: &str) -> Result<SiweMessage, WalletError> {
    let bad = || WalletError::SiweMalformed;
    let mut lines = text.split('\n').peekable();
    let first = lines.next().ok_or_else(bad)?;
    let origin = first.strip_suffix(PREAMBLE).ok_or_else(bad)?;
    let (scheme, domain) = match origin.split_once("://") {
        Some((s, d)) if is_scheme(s) => (Some(s.to_owned()), d),
        Some(_) => return Err(bad()),
        None => (None, origin),
    };
    if domain.is_empty() || !domain.bytes().all(|b| is_pchar(b) || b"[]".contains(&b)) {
        return Err(bad());
    }
    let address = lines.next().ok_or_else(bad)?;
    let address = Address::parse_checksummed(address, None).map_err(|_| bad())?;
    if lines.next() != Some("") {
        return Err(bad());
    }
    let statement = match lines.next().ok_or_else(bad)? {
        "" => None,
        s if s
            .bytes()
            .all(|b| is_reserved(b) || is_unreserved(b) || b == b' ') =>
        {
            if lines.next() != Some("") {
                return Err(bad());
            }
            Some(s.to_owned())
        }
        _ => return Err(bad()),
    };
    let mut field = |name: &str| -> Result<&str, WalletError> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .ok_or_else(bad)
    };
    let uri = parse_uri(field("URI: ")?).ok_or_else(bad)?;
    if field("Version: ")? != "1" {
        return Err(bad());
    }
    let chain = field("Chain ID: ")?;
    let chain_id = (!chain.is_empty() && chain.bytes().all(|b| b.is_ascii_digit()))
        .then(|| chain.parse::<u64>().ok())
        .flatten()
        .ok_or_else(bad)?;
    let nonce = field("Nonce: ")?;
    if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    let nonce = nonce.to_owned();
    let issued_at = date_time(field("Issued At: ")?).ok_or_else(bad)?;
    let mut optional = |name: &str| -> Option<&str> {
        let value = lines.peek()?.strip_prefix(name)?;
        lines.next();
        Some(value)
    };
    let expiration_time = optional("Expiration Time: ").map(date_time);
    let not_before = optional("Not Before: ").map(date_time);
    let request_id = optional("Request ID: ").map(str::to_owned);
    let resources = optional("Resources:").map(|rest| (rest, Vec::new()));
    let (Some(expiration_time), Some(not_before)) = (
        expiration_time.map_or(Some(None), |t| t.map(Some)),
        not_before.map_or(Some(None), |t| t.map(Some)),
    ) else {
        return Err(bad());
    };
    if request_id
        .as_deref()
        .is_some_and(|r| !r.bytes().all(is_pchar))
    {
        return Err(bad());
    }
    let resources = match resources {
        None => Vec::new(),
        Some(("", mut list)) => {
            for line in lines.by_ref() {
                list.push(
                    line.strip_prefix("- ")
                        .and_then(parse_uri)
                        .ok_or_else(bad)?,
                );
            }
            list
        }
        Some(_) => return Err(bad()),
    };
    if lines.next().is_some() {
        return Err(bad());
    }
    Ok(SiweMessage {
        scheme,
        domain: domain.to_owned(),
        address,
        statement,
        uri,
        chain_id,
        nonce,
        issued_at,
        expiration_time,
        not_before,
        request_id,
        resources,
    })
}

/// Parses `text` and checks it and `signature` at `now` (see the module docs).
pub fn check(
    text: &str,
    signature: &[u8],
    rules: &SiweRules,
    now: i64,
) -> Result<CheckedLogin, WalletError> {
    let message = parse(text)?;
    if message.domain != rules.domain || message.uri != rules.uri {
        return Err(WalletError::SiweWrongDomain);
    }
    if !rules.chains.contains(&message.chain_id) {
        return Err(WalletError::ChainNotAllowed);
    }
    let skew = i64::try_from(rules.clock_skew_secs).unwrap_or(i64::MAX);
    let future = message.issued_at > now.saturating_add(skew);
    let expired = message.expiration_time.is_some_and(|t| now >= t);
    let early = message.not_before.is_some_and(|t| now < t);
    if future || expired || early {
        return Err(WalletError::SiweNotValidNow);
    }
    let hash = eip191::message_hash(text.as_bytes());
    let signer = eip191::check(&hash, signature, message.address)?;
    Ok(CheckedLogin {
        message,
        hash,
        signer,
    })
}

/// An RFC 3339 date-time as Unix seconds.
fn date_time(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// An RFC 3986 URI: a scheme, `:`, then only URI characters with well-formed `%XX`.
fn parse_uri(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once(':')?;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            i += 3;
            continue;
        }
        if !(is_reserved(b) || is_unreserved(b)) {
            return None;
        }
        i += 1;
    }
    is_scheme(scheme).then(|| text.to_owned())
}

/// RFC 3986 3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// RFC 3986 2.2.
fn is_reserved(b: u8) -> bool {
    b":/?#[]@!$&'()*+,;=".contains(&b)
}

/// RFC 3986 2.3.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// RFC 3986 3.3 `pchar` (with `%` for pct-encoded, checked loosely).
fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,;=:@%".contains(&b)
}

#[cfg(test)]
mod tests;
