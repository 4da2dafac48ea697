//! Contract accounts' signatures: EIP-1271 `isValidSignature` and ERC-6492 (a wallet not yet
//! deployed), both asked of the chain's node in one `eth_call` without `to` that runs ERC-6492's
//! `ValidateSigOffchain` creation code (viem's "deployless" verifier, copied from viem 2.57.20
//! into `erc6492-validator.hex`; tests/fixtures/wallets/erc6492-validator.json says where from).
//!
//! The call's data is that code followed by `abi.encode(address signer, bytes32 hash, bytes
//! signature)`; it returns one byte, 1 valid, 0 invalid; a revert (a factory that does not
//! deploy, a wallet that refuses) is invalid. The validator checks, in ERC-6492's order, the
//! `0x6492...` suffix (deploy through the named factory, then `isValidSignature`), code at the
//! address (`isValidSignature`, magic `0x1626ba7e`), then ecrecover. EOAs are verified locally
//! first ([`super::eip191`]); only a signature that does not recover to the named address comes
//! here, and only for a chain with a node configured.

use alloy_primitives::{Address, B256, Bytes, hex};

use crate::chain::{CallOutcome, ChainError, ChainRpc};

/// The validator's creation code, hex (read once: [`Validator::new`]).
const VALIDATOR_HEX: &str = include_str!("erc6492-validator.hex");

/// The validator's creation code, decoded once.
#[derive(Debug, Clone)]
pub struct Validator {
    code: Vec<u8>,
}

impl Validator {
    /// Decodes the checked-in creation code.
    pub fn new() -> Result<Self, hex::FromHexError> {
        Ok(Self {
            code: hex::decode(VALIDATOR_HEX.trim())?,
        })
    }

    /// The `eth_call` data that asks whether `signer` signed `hash` with `signature`.
    pub fn call_data(&self, signer: Address, hash: &B256, signature: &[u8]) -> Bytes {
        let padded = signature.len().div_ceil(32) * 32;
        let mut data = Vec::with_capacity(self.code.len() + 128 + padded);
        data.extend_from_slice(&self.code);
        data.extend_from_slice(&[0u8; 12]);
        data.extend_from_slice(signer.as_slice());
        data.extend_from_slice(hash.as_slice());
        data.extend_from_slice(&word(0x60));
        data.extend_from_slice(&word(signature.len()));
        data.extend_from_slice(signature);
        data.resize(self.code.len() + 128 + padded, 0);
        Bytes::from(data)
    }

    /// Asks `rpc` whether `signer` signed `hash`: `Ok(false)` for a clear no (including a
    /// revert), an error when the node could not answer.
    pub async fn is_valid(
        &self,
        rpc: &ChainRpc,
        signer: Address,
        hash: &B256,
        signature: &[u8],
    ) -> Result<bool, ChainError> {
        match rpc
            .call_creation(self.call_data(signer, hash, signature))
            .await?
        {
            CallOutcome::Returned(out) => Ok(is_true(&out)),
            CallOutcome::Reverted(_) => Ok(false),
        }
    }
}

/// A big-endian 32-byte ABI word.
fn word(n: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(n as u64).to_be_bytes());
    w
}

/// The validator's answer: one byte `0x01` (or a word ending in it, all else zero).
fn is_true(out: &[u8]) -> bool {
    match out.split_last() {
        Some((1, rest)) => rest.iter().all(|b| *b == 0) && out.len() <= 32,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_code_decodes_and_the_arguments_are_abi_encoded() {
        let v = Validator::new();
        assert!(v.is_ok());
        let Ok(v) = v else { return };
        assert_eq!(v.code.len(), 1709);
        let data = v.call_data(
            Address::repeat_byte(0xaa),
            &B256::repeat_byte(0xbb),
            &[7u8; 65],
        );
        let args = &data[v.code.len()..];
        assert_eq!(args.len(), 32 * 4 + 96);
        assert_eq!(&args[12..32], Address::repeat_byte(0xaa).as_slice());
        assert_eq!(args[95], 0x60);
        assert_eq!(args[127], 65);
        assert_eq!(args[128..193], [7u8; 65]);
        assert!(args[193..].iter().all(|b| *b == 0));
    }

    #[test]
    fn only_a_one_is_valid() {
        assert!(is_true(&[1]));
        assert!(is_true(&word(1)));
        assert!(!is_true(&[0]));
        assert!(!is_true(&[]));
        assert!(!is_true(&[1, 1]));
    }
}

/// The chains whose contract accounts can be checked (`wallets.rpc_urls`), with the validator.
#[derive(Debug, Clone)]
pub struct ContractCheck {
    validator: Validator,
    nodes: std::collections::BTreeMap<u64, ChainRpc>,
}

/// Calls waiting or running per wallet chain node; beyond, 503 at once.
const MAX_IN_FLIGHT: usize = 64;

impl ContractCheck {
    /// A client per configured chain, with `tls` for https nodes and `timeout` per call.
    pub fn new(
        urls: &std::collections::BTreeMap<u64, String>,
        tls: &rustls::ClientConfig,
        timeout: std::time::Duration,
    ) -> Result<Self, String> {
        let validator = Validator::new().map_err(|e| format!("ERC-6492 validator: {e}"))?;
        let mut nodes = std::collections::BTreeMap::new();
        for (chain, url) in urls {
            let rpc = ChainRpc::new(url, tls.clone(), timeout, MAX_IN_FLIGHT)
                .map_err(|e| format!("wallets.rpc_urls.{chain}: {e}"))?;
            nodes.insert(*chain, rpc);
        }
        Ok(Self { validator, nodes })
    }

    /// Whether a node is configured for `chain`.
    pub fn has(&self, chain: u64) -> bool {
        self.nodes.contains_key(&chain)
    }

    /// Asks `chain`'s node whether `signer` signed `hash` (`None`: no node for the chain).
    pub async fn check(
        &self,
        chain: u64,
        signer: Address,
        hash: &B256,
        signature: &[u8],
    ) -> Option<Result<bool, ChainError>> {
        let rpc = self.nodes.get(&chain)?;
        Some(self.validator.is_valid(rpc, signer, hash, signature).await)
    }
}
