//! Address and name claims: what a contract address, a network name or a consumer key may be.
//!
//! Strict mode (the default) takes `0x` + 40 hex digits. An all-lowercase or all-uppercase
//! address carries no checksum and is accepted; a mixed-case one must be valid EIP-55. The
//! result is always the EIP-55 form, so `0xabc…` and `0xABC…` name one user; a verifier
//! remembers the forms it has worked out ([`ChecksumMemo`]). Lenient mode
//! keeps OBP's verbatim behaviour, but still refuses empty values, control characters and
//! absurd lengths.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use alloy_primitives::Address;

use crate::error::{AddressClaim, Error};
pub use crate::store::model::canonical_network;

/// Longest address accepted in lenient mode.
const MAX_LENIENT_ADDRESS: usize = 128;
/// Longest network name.
const MAX_NETWORK: usize = 64;
/// Longest consumer key or request id.
pub(crate) const MAX_OPAQUE: usize = 256;

/// Normalises an address claim (see the module docs).
pub fn normalize_address(raw: &str, strict: bool, claim: AddressClaim) -> Result<String, Error> {
    normalize_with(raw, strict, claim, |a| a.to_checksum(None))
}

/// [`normalize_address`], with the EIP-55 form of an address seen before taken from `memo`
/// instead of hashed again (one Keccak-256, about a third of a microsecond).
pub fn normalize_address_memo(
    raw: &str,
    strict: bool,
    claim: AddressClaim,
    memo: &ChecksumMemo,
) -> Result<String, Error> {
    normalize_with(raw, strict, claim, |a| memo.checksum(a))
}

fn normalize_with(
    raw: &str,
    strict: bool,
    claim: AddressClaim,
    checksum: impl FnOnce(&Address) -> String,
) -> Result<String, Error> {
    if !strict {
        return if is_sane(raw, MAX_LENIENT_ADDRESS) {
            Ok(raw.to_owned())
        } else {
            Err(Error::InvalidAddress(claim))
        };
    }
    let hex = raw.strip_prefix("0x").ok_or(Error::InvalidAddress(claim))?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidAddress(claim));
    }
    let address = hex
        .parse::<Address>()
        // Nothing to keep: the caller's claim, answered with its own code.
        .map_err(|_| Error::InvalidAddress(claim))?;
    let form = checksum(&address);
    let mixed =
        hex.bytes().any(|b| b.is_ascii_uppercase()) && hex.bytes().any(|b| b.is_ascii_lowercase());
    // A mixed-case claim carries a checksum: valid EIP-55 exactly when it is the address's
    // EIP-55 form, letter for letter.
    if mixed && form != raw {
        return Err(Error::BadChecksum(claim));
    }
    Ok(form)
}

/// Most addresses a [`ChecksumMemo`] holds; when full it starts again empty.
const MEMO_CAPACITY: usize = 4096;

/// The EIP-55 forms of addresses already seen, by address. A verifier keeps one: its callers
/// are a handful of contracts, each seen on every request, and an address reaches the memo
/// only from a token whose signature verified. A form is derived from the address alone, so
/// one in the memo is never stale.
#[derive(Default)]
pub struct ChecksumMemo {
    forms: Mutex<HashMap<Address, String>>,
}

impl ChecksumMemo {
    /// The EIP-55 form of `address`.
    fn checksum(&self, address: &Address) -> String {
        if let Some(form) = self.lock().get(address) {
            return form.clone();
        }
        let form = address.to_checksum(None);
        let mut forms = self.lock();
        if forms.len() >= MEMO_CAPACITY {
            forms.clear();
        }
        forms.insert(*address, form.clone());
        form
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Address, String>> {
        // A poisoned lock only means a panic elsewhere; the map itself is sound.
        self.forms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many forms are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// True for a network name we are willing to store: 1..=64 of `A-Z a-z 0-9 . _ - :`.
pub fn is_valid_network(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NETWORK
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b))
}

/// True for a non-empty string of at most `max` bytes without control characters.
pub fn is_sane(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOWER: &str = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045";
    const CHECKSUMMED: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";

    #[test]
    fn lowercase_uppercase_and_checksummed_forms_normalise_alike() {
        let upper = format!("0x{}", LOWER[2..].to_ascii_uppercase());
        for form in [LOWER, CHECKSUMMED, upper.as_str()] {
            assert_eq!(
                normalize_address(form, true, AddressClaim::Contract).unwrap(),
                CHECKSUMMED
            );
        }
    }

    /// EIP-55's own test vectors: each is its checksummed form, kept as it is, and any one
    /// letter's case flipped, wherever it is, leaves a mixed-case claim that is refused; the
    /// same through a memo that already holds the vector's address.
    #[test]
    fn the_eip55_vectors_are_their_own_form_and_any_flipped_letter_is_refused() {
        let memo = ChecksumMemo::default();
        let memoised = |raw: &str, claim| normalize_address_memo(raw, true, claim, &memo);
        let plain = |raw: &str, claim| normalize_address(raw, true, claim);
        for v in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            for normalise in [&plain as &dyn Fn(&str, AddressClaim) -> _, &memoised] {
                assert_eq!(normalise(v, AddressClaim::Contract).unwrap(), v);
                let hex = &v[2..];
                for (i, b) in hex.bytes().enumerate() {
                    if !b.is_ascii_alphabetic() {
                        continue;
                    }
                    let mut flipped = hex.as_bytes().to_vec();
                    flipped[i] ^= 0x20;
                    let mixed = flipped.iter().any(u8::is_ascii_uppercase)
                        && flipped.iter().any(u8::is_ascii_lowercase);
                    let flipped = format!("0x{}", String::from_utf8(flipped).unwrap());
                    // All one case again carries no checksum, and is accepted as such.
                    if mixed {
                        assert!(
                            matches!(
                                normalise(&flipped, AddressClaim::MsgSender),
                                Err(Error::BadChecksum(AddressClaim::MsgSender))
                            ),
                            "{flipped}"
                        );
                    }
                }
            }
        }
        assert_eq!(memo.len(), 8);
    }

    #[test]
    fn the_memo_gives_each_form_and_stays_bounded() {
        let memo = ChecksumMemo::default();
        let upper = format!("0x{}", LOWER[2..].to_ascii_uppercase());
        for form in [LOWER, CHECKSUMMED, upper.as_str()] {
            let got = normalize_address_memo(form, true, AddressClaim::Contract, &memo);
            assert_eq!(got.unwrap(), CHECKSUMMED);
        }
        assert_eq!(memo.len(), 1);
        for i in 0..=MEMO_CAPACITY {
            let address = format!("0x{i:040x}");
            let want = normalize_address(&address, true, AddressClaim::Contract).unwrap();
            let got = normalize_address_memo(&address, true, AddressClaim::Contract, &memo);
            assert_eq!(got.unwrap(), want);
            assert!(memo.len() <= MEMO_CAPACITY);
        }
    }

    #[test]
    fn wrong_checksum_is_refused() {
        let wrong = CHECKSUMMED.replace("dA6", "Da6");
        assert!(matches!(
            normalize_address(&wrong, true, AddressClaim::Contract),
            Err(Error::BadChecksum(AddressClaim::Contract))
        ));
    }

    #[test]
    fn seed_example_addresses_are_invalid_in_strict_mode() {
        // The OBP glossary's example has 42 hex digits; its msg_sender has non-hex letters.
        for bad in [
            "0xe123425E7734CE288F8367e1Bb143E90bb3F051224",
            "0xe12340927f1725E7734CE288F8367e1Bb143E90fhku767",
            "d8da6bf26964af9d7eed9e03e53415d37aa96045",
            "0Xd8da6bf26964af9d7eed9e03e53415d37aa96045",
            "",
        ] {
            assert!(
                matches!(
                    normalize_address(bad, true, AddressClaim::MsgSender),
                    Err(Error::InvalidAddress(AddressClaim::MsgSender))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn lenient_mode_keeps_verbatim_but_refuses_junk() {
        let seed = "0xe123425E7734CE288F8367e1Bb143E90bb3F051224";
        assert_eq!(
            normalize_address(seed, false, AddressClaim::Contract).unwrap(),
            seed
        );
        assert!(normalize_address("", false, AddressClaim::Contract).is_err());
        assert!(normalize_address("a\nb", false, AddressClaim::Contract).is_err());
        assert!(normalize_address(&"a".repeat(129), false, AddressClaim::Contract).is_err());
    }

    #[test]
    fn network_names() {
        assert!(is_valid_network("AIRNODE.TESTNET.ETHEREUM"));
        assert!(is_valid_network("eip155:1"));
        assert!(!is_valid_network(""));
        assert!(!is_valid_network("ETH EREUM"));
        assert!(!is_valid_network(&"N".repeat(65)));
        assert_eq!(
            canonical_network("airnode.Testnet.eth-1"),
            "AIRNODE.TESTNET.ETH-1"
        );
        assert_eq!(canonical_network("eip155:1"), "EIP155:1");
    }
}
