//! EIP-191 `personal_sign` signatures (version 0x45): the message hash, and who made a 65-byte
//! secp256k1 signature of it.
//!
//! alloy-primitives accepts more than a verifier should: `Signature::from_raw` takes every
//! `v >= 35` (EIP-155 transaction `v`) and recovery silently normalizes a high `s`. So the
//! signature bytes are checked here first: 65 bytes, `v` in {0, 1, 27, 28}, `s <= n/2` (EIP-2,
//! which makes a signature non-malleable), and only then recovered.

use alloy_primitives::{Address, B256, Signature, U256, eip191_hash_message};

use crate::error::WalletError;

/// n/2 for secp256k1's group order n (EIP-2): a larger `s` is refused.
const HALF_ORDER: U256 = U256::from_be_bytes([
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

/// The EIP-191 hash of `message`: keccak256(0x19 || "Ethereum Signed Message:\n" || len ||
/// message).
pub fn message_hash(message: &[u8]) -> B256 {
    eip191_hash_message(message)
}

/// Who a signature says made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// A well-formed 65-byte signature recovering to `claimed`: an EOA's.
    Eoa,
    /// A well-formed 65-byte signature recovering to another address (or to none): only a
    /// contract at `claimed` could vouch for it (EIP-1271).
    Other,
    /// Not 65 bytes: a contract wallet's signature (EIP-1271, ERC-6492), or nothing.
    NotEoaShaped,
}

/// Checks a 65-byte `r || s || v` signature's shape and recovers it against `claimed`.
/// Other lengths are [`Signer::NotEoaShaped`]; a bad `v` or a high `s` is refused whatever
/// the address, since no honest signer (EOA or contract wallet) makes one.
pub fn check(hash: &B256, signature: &[u8], claimed: Address) -> Result<Signer, WalletError> {
    let Ok(raw) = <&[u8; 65]>::try_from(signature) else {
        return Ok(Signer::NotEoaShaped);
    };
    let parity = match raw[64] {
        0 | 27 => false,
        1 | 28 => true,
        _ => return Err(WalletError::BadV),
    };
    let r = U256::from_be_slice(&raw[..32]);
    let s = U256::from_be_slice(&raw[32..64]);
    if s > HALF_ORDER {
        return Err(WalletError::HighS);
    }
    let sig = Signature::new(r, s, parity);
    match sig.recover_address_from_prehash(hash) {
        Ok(address) if address == claimed => Ok(Signer::Eoa),
        // A signature that recovers to nothing (r off the curve, s zero) proves no EOA either.
        Ok(_) | Err(_) => Ok(Signer::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_order_is_n_over_two() {
        let n = U256::from_str_radix(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            16,
        );
        assert_eq!(n.ok().map(|n| n >> 1), Some(HALF_ORDER));
    }

    #[test]
    fn zero_signature_is_no_signer_and_no_panic() {
        let mut sig = [0u8; 65];
        sig[64] = 27;
        let hash = message_hash(b"x");
        assert_eq!(check(&hash, &sig, Address::ZERO), Ok(Signer::Other));
    }
}
