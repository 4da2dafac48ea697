//! The compiled contracts in `tests/fixtures/contracts/` (see its README for their origin),
//! their ABI bindings (`sol!` interfaces, checked against the artifacts' ABIs in
//! tests/services.rs), and the Airnode request set-up the relay tests need.
//!
//! ```ignore
//! let evm = Evm::start().await;
//! let airnode = AirnodeSetup::deploy(&evm).await;   // AirnodeRrpV0 + a sponsored requester
//! let request = airnode.make_full_request(&evm, B256::ZERO, b"").await;
//! assert!(airnode.is_awaiting(&evm, request.request_id).await);
//! airnode.fail(&evm, request.request_id).await;    // as the sponsor wallet: now final
//! let wallet = deploy_wallet(&evm, owner).await;    // EIP-1271 wallet owned by `owner`
//! ```

// sol! generates constructors with one argument per event field.
#![allow(clippy::too_many_arguments)]

use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, sol};
use serde_json::Value;

use super::evm::{Evm, Receipt};

sol! {
    /// The calls and events of AirnodeRrpV0 the tests use (@api3/airnode-protocol 0.15.0,
    /// contracts/rrp/AirnodeRrpV0.sol).
    #[sol(all_derives)]
    interface IAirnodeRrpV0 {
        event SetSponsorshipStatus(address indexed sponsor, address indexed requester, bool sponsorshipStatus);
        event MadeFullRequest(address indexed airnode, bytes32 indexed requestId, uint256 requesterRequestCount, uint256 chainId, address requester, bytes32 endpointId, address sponsor, address sponsorWallet, address fulfillAddress, bytes4 fulfillFunctionId, bytes parameters);
        event MadeTemplateRequest(address indexed airnode, bytes32 indexed requestId, uint256 requesterRequestCount, uint256 chainId, address requester, bytes32 templateId, address sponsor, address sponsorWallet, address fulfillAddress, bytes4 fulfillFunctionId, bytes parameters);
        event FulfilledRequest(address indexed airnode, bytes32 indexed requestId, bytes data);
        event FailedRequest(address indexed airnode, bytes32 indexed requestId, string errorMessage);
        function setSponsorshipStatus(address requester, bool sponsorshipStatus) external;
        function makeFullRequest(address airnode, bytes32 endpointId, address sponsor, address sponsorWallet, address fulfillAddress, bytes4 fulfillFunctionId, bytes parameters) external returns (bytes32 requestId);
        function fail(bytes32 requestId, address airnode, address fulfillAddress, bytes4 fulfillFunctionId, string errorMessage) external;
        function fulfill(bytes32 requestId, address airnode, address fulfillAddress, bytes4 fulfillFunctionId, bytes data, bytes signature) external returns (bool callSuccess, bytes callData);
        function requestIsAwaitingFulfillment(bytes32 requestId) external view returns (bool isAwaitingFulfillment);
        function requesterToRequestCountPlusOne(address requester) external view returns (uint256);
        function sponsorToRequesterToSponsorshipStatus(address sponsor, address requester) external view returns (bool);
    }

    /// MockRrpRequesterV0 from the same package: a requester contract that forwards
    /// `makeFullRequest` to AirnodeRrpV0, so the request's requester is a contract.
    contract MockRrpRequesterV0 {
        constructor(address airnodeRrpAddress);
        function makeFullRequest(address airnode, bytes32 endpointId, address sponsor, address sponsorWallet, address fulfillAddress, bytes4 fulfillFunctionId, bytes parameters) external;
        function fulfill(bytes32 requestId, bytes data) external;
        function airnodeRrp() external view returns (address);
    }

    /// tests/fixtures/contracts/Eip1271Wallet.sol.
    contract Eip1271Wallet {
        constructor(address owner_);
        function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4);
        function owner() external view returns (address);
    }
}

/// The EIP-1271 magic value `isValidSignature` answers for a valid signature.
pub const EIP1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// A compiled contract from `tests/fixtures/contracts/<name>.json`.
pub struct Artifact {
    /// The contract name.
    pub name: String,
    /// The JSON ABI.
    pub abi: Value,
    /// Creation bytecode.
    pub bytecode: Vec<u8>,
    /// The whole artifact file.
    pub raw: Value,
}

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Loads artifact `name` (e.g. `"AirnodeRrpV0"`, `"MockRrpRequesterV0"`, `"Eip1271Wallet"`).
pub fn artifact(name: &str) -> Artifact {
    let path = fixtures_dir()
        .join("contracts")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let raw: Value = serde_json::from_str(&text).unwrap();
    let code = raw["bytecode"].as_str().unwrap_or_default();
    Artifact {
        name: name.to_owned(),
        abi: raw["abi"].clone(),
        bytecode: hex::decode(code).unwrap_or_else(|e| panic!("{name} bytecode: {e}")),
        raw,
    }
}

/// Deploys the EIP-1271 wallet owned by `owner`; its address.
pub async fn deploy_wallet(evm: &Evm, owner: Address) -> Address {
    let args = Eip1271Wallet::constructorCall { owner_: owner }.abi_encode();
    evm.deploy(&artifact("Eip1271Wallet").bytecode, &args).await
}

/// What the wallet at `wallet` answers to `isValidSignature(hash, signature)`.
pub async fn is_valid_signature(
    evm: &Evm,
    wallet: Address,
    hash: B256,
    signature: &[u8],
) -> [u8; 4] {
    let call = Eip1271Wallet::isValidSignatureCall {
        hash,
        signature: Bytes::copy_from_slice(signature),
    };
    let out = evm.call(wallet, &call.abi_encode()).await;
    Eip1271Wallet::isValidSignatureCall::abi_decode_returns(&out)
        .unwrap()
        .0
}

/// AirnodeRrpV0 with a sponsored requester contract, on a node whose development accounts
/// play the other roles.
#[derive(Debug, Clone, Copy)]
pub struct AirnodeSetup {
    /// The AirnodeRrpV0 contract.
    pub rrp: Address,
    /// A MockRrpRequesterV0 contract: the requester of the requests made through it.
    pub requester: Address,
    /// The sponsor (development account 1), which sponsors `requester`.
    pub sponsor: Address,
    /// The sponsor wallet named in requests (development account 2, unlocked: it can call
    /// `fail`).
    pub sponsor_wallet: Address,
    /// The Airnode address named in requests (development account 3).
    pub airnode: Address,
}

/// A request made on chain.
#[derive(Debug, Clone)]
pub struct AirnodeRequest {
    /// The request id (`MadeFullRequest` topic 2).
    pub request_id: B256,
    /// The decoded event.
    pub event: IAirnodeRrpV0::MadeFullRequest,
    /// The transaction's receipt.
    pub receipt: Receipt,
}

impl AirnodeSetup {
    /// Deploys AirnodeRrpV0, then MockRrpRequesterV0 pointing at it (both from account 0: on
    /// a fresh node they land at 0x5FbDB2315678afecb367f032d93F642f64180aa3 and
    /// 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512, the addresses in Airnode's own adapter
    /// fixtures), and lets account 1 sponsor the requester.
    pub async fn deploy(evm: &Evm) -> Self {
        let rrp = evm.deploy(&artifact("AirnodeRrpV0").bytecode, &[]).await;
        let args = MockRrpRequesterV0::constructorCall {
            airnodeRrpAddress: rrp,
        }
        .abi_encode();
        let requester = evm
            .deploy(&artifact("MockRrpRequesterV0").bytecode, &args)
            .await;
        let setup = Self {
            rrp,
            requester,
            sponsor: evm.account(1),
            sponsor_wallet: evm.account(2),
            airnode: evm.account(3),
        };
        setup.sponsor_requester(evm, requester).await;
        setup
    }

    /// `setSponsorshipStatus(requester, true)` sent by the sponsor.
    pub async fn sponsor_requester(&self, evm: &Evm, requester: Address) -> Receipt {
        let call = IAirnodeRrpV0::setSponsorshipStatusCall {
            requester,
            sponsorshipStatus: true,
        };
        evm.send(self.sponsor, self.rrp, &call.abi_encode()).await
    }

    /// The `fulfill` function every request made here names (on the requester contract).
    pub fn fulfill_function_id(&self) -> [u8; 4] {
        MockRrpRequesterV0::fulfillCall::SELECTOR
    }

    /// Makes a full request through the requester contract; returns its id and event.
    pub async fn make_full_request(
        &self,
        evm: &Evm,
        endpoint_id: B256,
        parameters: &[u8],
    ) -> AirnodeRequest {
        let call = MockRrpRequesterV0::makeFullRequestCall {
            airnode: self.airnode,
            endpointId: endpoint_id,
            sponsor: self.sponsor,
            sponsorWallet: self.sponsor_wallet,
            fulfillAddress: self.requester,
            fulfillFunctionId: self.fulfill_function_id().into(),
            parameters: Bytes::copy_from_slice(parameters),
        };
        let receipt = evm
            .send(evm.account(0), self.requester, &call.abi_encode())
            .await;
        let event = receipt
            .logs
            .iter()
            .filter(|l| l.address == self.rrp)
            .find_map(|l| {
                IAirnodeRrpV0::MadeFullRequest::decode_raw_log(l.topics.iter().copied(), &l.data)
                    .ok()
            })
            .unwrap_or_else(|| panic!("no MadeFullRequest in {:?}", receipt.logs));
        AirnodeRequest {
            request_id: event.requestId,
            event,
            receipt,
        }
    }

    /// `requestIsAwaitingFulfillment(request_id)`.
    pub async fn is_awaiting(&self, evm: &Evm, request_id: B256) -> bool {
        let call = IAirnodeRrpV0::requestIsAwaitingFulfillmentCall {
            requestId: request_id,
        };
        let out = evm.call(self.rrp, &call.abi_encode()).await;
        IAirnodeRrpV0::requestIsAwaitingFulfillmentCall::abi_decode_returns(&out).unwrap()
    }

    /// Ends a request made by [`AirnodeSetup::make_full_request`] with `fail`, as the
    /// sponsor wallet (what an Airnode does after an error response): no longer awaiting.
    pub async fn fail(&self, evm: &Evm, request_id: B256) -> Receipt {
        let call = IAirnodeRrpV0::failCall {
            requestId: request_id,
            airnode: self.airnode,
            fulfillAddress: self.requester,
            fulfillFunctionId: self.fulfill_function_id().into(),
            errorMessage: "failed by the test".to_owned(),
        };
        evm.send(self.sponsor_wallet, self.rrp, &call.abi_encode())
            .await
    }

    /// Fulfills a request made by [`AirnodeSetup::make_full_request`] with `data`, as the
    /// sponsor wallet, signed by the Airnode (`eth_sign` of keccak256(requestId ++ data), the
    /// EIP-191 message AirnodeRrpV0 recovers): no longer awaiting.
    pub async fn fulfill(&self, evm: &Evm, request_id: B256, data: &[u8]) -> Receipt {
        let hash = alloy_primitives::keccak256([request_id.as_slice(), data].concat());
        let signature = evm
            .rpc(
                "eth_sign",
                serde_json::json!([self.airnode.to_string(), hash.to_string()]),
            )
            .await;
        let call = IAirnodeRrpV0::fulfillCall {
            requestId: request_id,
            airnode: self.airnode,
            fulfillAddress: self.requester,
            fulfillFunctionId: self.fulfill_function_id().into(),
            data: Bytes::copy_from_slice(data),
            signature: Bytes::from(super::evm::decode_hex(&signature)),
        };
        evm.send(self.sponsor_wallet, self.rrp, &call.abi_encode())
            .await
    }

    /// The `MadeFullRequest` logs for `request_id`, as the relay's on-chain check looks them
    /// up: `eth_getLogs` on the contract with topics (event signature, airnode, request id).
    pub async fn request_logs(&self, evm: &Evm, request_id: B256) -> Vec<super::evm::Log> {
        let airnode_topic = B256::left_padding_from(self.airnode.as_slice());
        evm.logs(serde_json::json!({
            "address": self.rrp.to_string(),
            "fromBlock": "0x0",
            "topics": [
                IAirnodeRrpV0::MadeFullRequest::SIGNATURE_HASH.to_string(),
                airnode_topic.to_string(),
                request_id.to_string(),
            ],
        }))
        .await
    }

    /// The requester's request count plus one (the count the next request will carry).
    pub async fn next_request_count(&self, evm: &Evm, requester: Address) -> U256 {
        let call = IAirnodeRrpV0::requesterToRequestCountPlusOneCall { requester };
        let out = evm.call(self.rrp, &call.abi_encode()).await;
        IAirnodeRrpV0::requesterToRequestCountPlusOneCall::abi_decode_returns(&out).unwrap()
    }
}
