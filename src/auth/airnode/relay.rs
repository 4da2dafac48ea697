//! The relay headers an Airnode sends (its OIS `relay*` security schemes, under header names the
//! operator chose), read strictly into a [`Relay`].
//!
//! Each header must appear at most once (a verifier reading the first line and a backend reading
//! the last would see two requests). Formats, as Airnode v0.15.0 writes them
//! (`airnode-adapter/src/request-building/authentication.ts`):
//! - addresses (`relayRequesterAddress`, `relaySponsorAddress`, `relaySponsorWalletAddress`):
//!   `0x` + 40 hex digits; a mixed-case one must carry a valid EIP-55 checksum;
//! - `relayChainId`: decimal without sign or leading zero, so one chain has one spelling;
//! - `relayChainType`: `evm`;
//! - `relayRequestId`: `0x` + 64 hex digits, kept lowercase.

use alloy_primitives::{Address, B256};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::address::normalize_address;
use crate::error::{AddressClaim, AirnodeError, Error, RelayField};

/// The header name of each relay fact, as the operator named them in the Airnode's OIS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayHeaders {
    /// `relayRequesterAddress`.
    pub requester: HeaderName,
    /// `relayChainId`.
    pub chain_id: HeaderName,
    /// `relayChainType`.
    pub chain_type: HeaderName,
    /// `relayRequestId`.
    pub request_id: HeaderName,
    /// `relaySponsorAddress`.
    pub sponsor: HeaderName,
    /// `relaySponsorWalletAddress`.
    pub sponsor_wallet: HeaderName,
}

impl RelayHeaders {
    /// The header carrying `field`.
    pub fn name(&self, field: RelayField) -> &HeaderName {
        match field {
            RelayField::Requester => &self.requester,
            RelayField::ChainId => &self.chain_id,
            RelayField::ChainType => &self.chain_type,
            RelayField::RequestId => &self.request_id,
            RelayField::Sponsor => &self.sponsor,
            RelayField::SponsorWallet => &self.sponsor_wallet,
        }
    }

    /// Every relay header name.
    pub fn all(&self) -> impl Iterator<Item = &HeaderName> {
        RelayField::ALL.into_iter().map(|f| self.name(f))
    }

    /// True when `headers` carries any relay header.
    pub fn any_in(&self, headers: &HeaderMap) -> bool {
        self.all().any(|n| headers.contains_key(n))
    }
}

/// The facts of one on-chain request, as the Airnode relayed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// The requester contract (`msg.sender` of the request).
    pub requester: Address,
    /// The chain id.
    pub chain_id: u64,
    /// The request id.
    pub request_id: B256,
    /// The sponsor, when relayed.
    pub sponsor: Option<Address>,
    /// The sponsor wallet, when relayed.
    pub sponsor_wallet: Option<Address>,
}

impl Relay {
    /// Reads the relay headers named by `names` (see the module docs).
    pub fn read(headers: &HeaderMap, names: &RelayHeaders) -> Result<Self, Error> {
        let required =
            |f| one(headers, names, f)?.ok_or(Error::Airnode(AirnodeError::HeaderMissing(f)));
        let requester = address(required(RelayField::Requester)?, RelayField::Requester)?;
        let chain_id = chain_id(required(RelayField::ChainId)?)?;
        if required(RelayField::ChainType)? != "evm" {
            return Err(Error::Airnode(AirnodeError::HeaderInvalid(
                RelayField::ChainType,
            )));
        }
        let request_id = request_id(required(RelayField::RequestId)?)?;
        let optional = |f| one(headers, names, f)?.map(|v| address(v, f)).transpose();
        Ok(Self {
            requester,
            chain_id,
            request_id,
            sponsor: optional(RelayField::Sponsor)?,
            sponsor_wallet: optional(RelayField::SponsorWallet)?,
        })
    }
}

/// The one value of `field`'s header, as text; `None` when absent.
fn one<'a>(
    headers: &'a HeaderMap,
    names: &RelayHeaders,
    field: RelayField,
) -> Result<Option<&'a str>, Error> {
    let mut values = headers.get_all(names.name(field)).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::Airnode(AirnodeError::HeaderRepeated(field)));
    }
    text(first)
        .map(Some)
        .ok_or(Error::Airnode(AirnodeError::HeaderInvalid(field)))
}

fn text(value: &HeaderValue) -> Option<&str> {
    value.to_str().ok()
}

/// A strict address (the DAuth rule: [`normalize_address`] in strict mode), errors named for
/// `field`.
fn address(raw: &str, field: RelayField) -> Result<Address, Error> {
    let checksummed =
        normalize_address(raw, true, AddressClaim::Contract).map_err(|e| match e {
            Error::BadChecksum(_) => Error::Airnode(AirnodeError::BadChecksum(field)),
            _ => Error::Airnode(AirnodeError::HeaderInvalid(field)),
        })?;
    checksummed
        .parse()
        // Nothing to keep: normalize_address gave an EIP-55 address.
        .map_err(|_| Error::Airnode(AirnodeError::HeaderInvalid(field)))
}

/// A decimal chain id: 1 to 20 digits, no sign, no leading zero.
fn chain_id(raw: &str) -> Result<u64, Error> {
    let invalid = Error::Airnode(AirnodeError::HeaderInvalid(RelayField::ChainId));
    let digits = !raw.is_empty() && raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit());
    if !digits || (raw.len() > 1 && raw.starts_with('0')) {
        return Err(invalid);
    }
    // Nothing to keep: digits that overflow u64 are the caller's, answered with their code.
    raw.parse().map_err(|_| invalid)
}

/// `0x` + 64 hex digits, in either case.
fn request_id(raw: &str) -> Result<B256, Error> {
    let invalid = Error::Airnode(AirnodeError::HeaderInvalid(RelayField::RequestId));
    let hex = raw.strip_prefix("0x").ok_or(invalid)?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Airnode(AirnodeError::HeaderInvalid(
            RelayField::RequestId,
        )));
    }
    // Nothing to keep: 64 hex digits always parse.
    hex.parse()
        .map_err(|_| Error::Airnode(AirnodeError::HeaderInvalid(RelayField::RequestId)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> RelayHeaders {
        RelayHeaders {
            requester: HeaderName::from_static("x-airnode-requester"),
            chain_id: HeaderName::from_static("x-airnode-chain-id"),
            chain_type: HeaderName::from_static("x-airnode-chain-type"),
            request_id: HeaderName::from_static("x-airnode-request-id"),
            sponsor: HeaderName::from_static("x-airnode-sponsor"),
            sponsor_wallet: HeaderName::from_static("x-airnode-sponsor-wallet"),
        }
    }

    const REQUEST_ID: &str = "0xcf2816af81f9cc7c9879dc84ce29c00fe1e290bcb8d2e4b204be1eeb120811bf";

    fn fixture() -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            (
                "x-airnode-requester",
                "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
            ),
            ("x-airnode-chain-id", "31337"),
            ("x-airnode-chain-type", "evm"),
            ("x-airnode-request-id", REQUEST_ID),
            (
                "x-airnode-sponsor",
                "0x7a9a6F6B21AEE3b905AEeC757bbBcA39747Ca4Fa",
            ),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
        h
    }

    fn read_with(name: &'static str, value: &'static str) -> Result<Relay, Error> {
        let mut h = fixture();
        h.insert(name, HeaderValue::from_static(value));
        Relay::read(&h, &names())
    }

    #[test]
    fn the_adapter_fixture_reads() {
        let relay = Relay::read(&fixture(), &names()).unwrap();
        assert_eq!(relay.chain_id, 31337);
        assert_eq!(relay.request_id.to_string(), REQUEST_ID);
        assert_eq!(
            relay.requester.to_checksum(None),
            "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
        );
        assert!(relay.sponsor_wallet.is_none());
    }

    #[test]
    fn uppercase_request_ids_and_lowercase_addresses_name_the_same_request() {
        let upper = format!("0x{}", REQUEST_ID[2..].to_ascii_uppercase());
        let mut h = fixture();
        h.insert("x-airnode-request-id", upper.parse().unwrap());
        h.insert(
            "x-airnode-requester",
            HeaderValue::from_static("0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"),
        );
        assert_eq!(
            Relay::read(&h, &names()).unwrap(),
            Relay::read(&fixture(), &names()).unwrap()
        );
    }

    #[test]
    fn strict_formats_are_refused_with_their_field() {
        use RelayField as F;
        let cases: [(&'static str, &'static str, Error); 12] = [
            (
                "x-airnode-chain-id",
                "031337",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainId)),
            ),
            (
                "x-airnode-chain-id",
                "+1",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainId)),
            ),
            (
                "x-airnode-chain-id",
                "0x7a69",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainId)),
            ),
            (
                "x-airnode-chain-id",
                "99999999999999999999",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainId)),
            ),
            (
                "x-airnode-chain-type",
                "EVM",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainType)),
            ),
            (
                "x-airnode-chain-type",
                "solana",
                Error::Airnode(AirnodeError::HeaderInvalid(F::ChainType)),
            ),
            (
                "x-airnode-request-id",
                "0xcf28",
                Error::Airnode(AirnodeError::HeaderInvalid(F::RequestId)),
            ),
            (
                "x-airnode-request-id",
                "cf2816af81f9cc7c9879dc84ce29c00fe1e290bcb8d2e4b204be1eeb120811bf",
                Error::Airnode(AirnodeError::HeaderInvalid(F::RequestId)),
            ),
            (
                "x-airnode-requester",
                "0xE7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                Error::Airnode(AirnodeError::BadChecksum(F::Requester)),
            ),
            (
                "x-airnode-requester",
                "0x1234",
                Error::Airnode(AirnodeError::HeaderInvalid(F::Requester)),
            ),
            (
                "x-airnode-sponsor",
                "0x7A9a6F6B21AEE3b905AEeC757bbBcA39747Ca4Fa",
                Error::Airnode(AirnodeError::BadChecksum(F::Sponsor)),
            ),
            (
                "x-airnode-sponsor-wallet",
                "nobody",
                Error::Airnode(AirnodeError::HeaderInvalid(F::SponsorWallet)),
            ),
        ];
        for (name, value, want) in cases {
            let got = read_with(name, value).unwrap_err();
            assert_eq!(got.to_string(), want.to_string(), "{name}: {value}");
        }
    }

    #[test]
    fn required_headers_are_required_and_each_appears_once() {
        for (name, field) in [
            ("x-airnode-requester", RelayField::Requester),
            ("x-airnode-chain-id", RelayField::ChainId),
            ("x-airnode-chain-type", RelayField::ChainType),
            ("x-airnode-request-id", RelayField::RequestId),
        ] {
            let mut h = fixture();
            h.remove(name);
            let err = Relay::read(&h, &names()).unwrap_err();
            assert!(
                matches!(err, Error::Airnode(AirnodeError::HeaderMissing(f)) if f == field),
                "{name}"
            );
            let mut h = fixture();
            let again = h.get(name).unwrap().clone();
            h.append(name, again);
            let err = Relay::read(&h, &names()).unwrap_err();
            assert!(
                matches!(err, Error::Airnode(AirnodeError::HeaderRepeated(f)) if f == field),
                "{name}"
            );
        }
    }
}
