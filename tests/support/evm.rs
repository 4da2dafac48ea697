//! A real local EVM chain: `anvil` from the npm package `@foundry-rs/anvil` (pinned in
//! `tests/js/package-lock.json`, installed with `npm ci` when missing) on 127.0.0.1, chain id
//! 31337, the standard development mnemonic (ten unlocked accounts with 10,000 ETH each),
//! a block mined per transaction. Plus a small JSON-RPC client over hyper: deploy, call, send
//! and logs. Contract artifacts and ABI bindings are in `contracts.rs`.
//!
//! ```ignore
//! let evm = Evm::start().await;                // or Evm::shared().await, one per test binary
//! let rrp = evm.deploy(&artifact("AirnodeRrpV0").bytecode, &[]).await;
//! let receipt = evm.send(evm.account(0), rrp, &calldata).await;  // mined, status checked
//! let out = evm.call(rrp, &calldata).await;    // eth_call at the latest block
//! let logs = evm.logs(json!({"address": rrp, "fromBlock": "0x0"})).await;
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, hex};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

use super::install::{self, Watchdog};

mod rpc;

pub use rpc::{Log, Receipt, RpcError, decode_hex, quantity};
use rpc::{exchange, parse_log, parse_receipt, post_json};

/// The chain id every node runs with.
pub const CHAIN_ID: u64 = 31337;

/// The mnemonic of the development accounts (anvil's and hardhat's default).
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The first development accounts and their private keys (from [`MNEMONIC`]), for tests that
/// sign. All ten accounts are unlocked on the node: [`Evm::account`].
pub const DEV_KEYS: [(&str, &str); 3] = [
    (
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    ),
    (
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    ),
    (
        "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3e3b8d6a47c2c2ba",
    ),
];

/// A running local node, killed on drop.
pub struct Evm {
    /// Where its JSON-RPC endpoint listens.
    pub addr: SocketAddr,
    child: Child,
    _watchdog: Watchdog,
}

impl Evm {
    /// Starts a node; returns once it answers `eth_chainId` with [`CHAIN_ID`].
    pub async fn start() -> Self {
        let anvil = install::npm_tool(anvil_path());
        let mut child = Command::new(&anvil)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--chain-id", &CHAIN_ID.to_string(), "--mnemonic", MNEMONIC])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", anvil.display()));
        let watchdog = Watchdog::start(&format!("kill -9 {} 2>/dev/null", child.id()));
        let (tx, lines) = channel();
        for pipe in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            // Keeps draining (after start-up, into a closed channel), so the node never
            // blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let addr = listening_addr(&mut child, &lines);
        let evm = Self {
            addr,
            child,
            _watchdog: watchdog,
        };
        evm.wait_ready().await;
        evm
    }

    /// One node per test binary, started on first use (killed when the test process exits).
    /// Deployments and requests of different tests coexist on it.
    pub async fn shared() -> &'static Self {
        static SHARED: OnceCell<Evm> = OnceCell::const_new();
        SHARED.get_or_init(Self::start).await
    }

    /// The JSON-RPC URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Development account `i` (0..10), unlocked on the node.
    pub fn account(&self, i: usize) -> Address {
        const ALL: [&str; 10] = [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
            "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
            "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
            "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
            "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
            "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
        ];
        Address::from_str(ALL[i]).unwrap()
    }

    /// Sends a JSON-RPC request; the `result`, or the `error`.
    pub async fn try_rpc(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let reply = post_json(self.addr, &body).await;
        if let Some(error) = reply.get("error") {
            return Err(RpcError {
                code: error["code"].as_i64().unwrap_or_default(),
                message: error["message"].as_str().unwrap_or_default().to_owned(),
                raw: error.clone(),
            });
        }
        Ok(reply.get("result").cloned().unwrap_or(Value::Null))
    }

    /// [`Evm::try_rpc`], panicking on an error answer.
    pub async fn rpc(&self, method: &str, params: Value) -> Value {
        self.try_rpc(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e:?}"))
    }

    /// Deploys `bytecode` followed by the ABI-encoded `constructor_args` from account 0 and
    /// returns the new contract's address.
    pub async fn deploy(&self, bytecode: &[u8], constructor_args: &[u8]) -> Address {
        self.deploy_from(self.account(0), bytecode, constructor_args)
            .await
    }

    /// Like [`Evm::deploy`], from `from` (an unlocked or impersonated account).
    pub async fn deploy_from(&self, from: Address, bytecode: &[u8], args: &[u8]) -> Address {
        let code = [bytecode, args].concat();
        let tx = json!({"from": from.to_string(), "data": hex::encode_prefixed(code)});
        let receipt = self
            .transact(tx)
            .await
            .unwrap_or_else(|e| panic!("deploy: {e:?}"));
        assert!(receipt.status, "deployment reverted: {}", receipt.raw);
        receipt
            .contract_address
            .unwrap_or_else(|| panic!("no contractAddress: {}", receipt.raw))
    }

    /// Sends a transaction from `from` to `to` with `calldata`, waits for its receipt and
    /// asserts that it succeeded.
    pub async fn send(&self, from: Address, to: Address, calldata: &[u8]) -> Receipt {
        let receipt = self
            .try_send(from, to, calldata)
            .await
            .unwrap_or_else(|e| panic!("transaction to {to} refused: {e:?}"));
        assert!(receipt.status, "transaction reverted: {}", receipt.raw);
        receipt
    }

    /// Like [`Evm::send`], without the checks: the node's refusal as an error, a reverted
    /// transaction as a receipt with `status == false` (anvil mines reverted transactions; the
    /// revert reason comes from [`Evm::try_call_from`] with the same arguments).
    pub async fn try_send(
        &self,
        from: Address,
        to: Address,
        calldata: &[u8],
    ) -> Result<Receipt, RpcError> {
        let tx = json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "data": hex::encode_prefixed(calldata),
        });
        self.transact(tx).await
    }

    /// `eth_sendTransaction` with `tx`, then the receipt (polled until mined).
    pub async fn transact(&self, tx: Value) -> Result<Receipt, RpcError> {
        let hash = self.try_rpc("eth_sendTransaction", json!([tx])).await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let receipt = self.rpc("eth_getTransactionReceipt", json!([hash])).await;
            if !receipt.is_null() {
                return Ok(parse_receipt(&receipt));
            }
            assert!(Instant::now() < deadline, "transaction {hash} never mined");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `eth_call` of `to` with `calldata` at the latest block; the returned bytes.
    pub async fn call(&self, to: Address, calldata: &[u8]) -> Vec<u8> {
        self.try_call(to, calldata)
            .await
            .unwrap_or_else(|e| panic!("eth_call to {to}: {e:?}"))
    }

    /// Like [`Evm::call`], returning a revert as an error (the reason in its message).
    pub async fn try_call(&self, to: Address, calldata: &[u8]) -> Result<Vec<u8>, RpcError> {
        self.eth_call(json!({"to": to.to_string(), "data": hex::encode_prefixed(calldata)}))
            .await
    }

    /// Like [`Evm::try_call`], with `msg.sender` = `from`: shows why a transaction from
    /// `from` would revert.
    pub async fn try_call_from(
        &self,
        from: Address,
        to: Address,
        calldata: &[u8],
    ) -> Result<Vec<u8>, RpcError> {
        self.eth_call(json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "data": hex::encode_prefixed(calldata),
        }))
        .await
    }

    async fn eth_call(&self, call: Value) -> Result<Vec<u8>, RpcError> {
        let out = self.try_rpc("eth_call", json!([call, "latest"])).await?;
        Ok(decode_hex(&out))
    }

    /// `eth_getLogs` with `filter` (`address`, `topics`, `fromBlock`, ...).
    pub async fn logs(&self, filter: Value) -> Vec<Log> {
        let logs = self.rpc("eth_getLogs", json!([filter])).await;
        logs.as_array()
            .unwrap_or_else(|| panic!("eth_getLogs answered {logs}"))
            .iter()
            .map(parse_log)
            .collect()
    }

    /// The latest block number.
    pub async fn block_number(&self) -> u64 {
        quantity(&self.rpc("eth_blockNumber", json!([])).await)
    }

    /// Lets `eth_sendTransaction` send from `address` without its key
    /// (`anvil_impersonateAccount`) and gives it 100 ETH for gas.
    pub async fn impersonate(&self, address: Address) {
        let a = address.to_string();
        self.rpc("anvil_impersonateAccount", json!([a])).await;
        self.rpc("anvil_setBalance", json!([a, "0x56bc75e2d63100000"]))
            .await;
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(id) = self.try_rpc_once("eth_chainId").await {
                assert_eq!(quantity(&id), CHAIN_ID, "node reports another chain id");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "EVM node on {} never answered",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn try_rpc_once(&self, method: &str) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": []});
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        let reply = exchange(stream, &body).await?;
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| reply.to_string())
    }
}

impl Drop for Evm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the npm package puts this platform's anvil binary, relative to `tests/js`.
fn anvil_path() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "node_modules/@foundry-rs/anvil-linux-arm64/bin/anvil",
        _ => "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil",
    }
}

/// Reads the node's output until it says `Listening on 127.0.0.1:<port>`.
fn listening_addr(child: &mut Child, lines: &Receiver<String>) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            let _ = child.kill();
            panic!("anvil did not start; output:\n{}", seen.join("\n"));
        };
        if let Some(addr) = line
            .strip_prefix("Listening on ")
            .and_then(|a| a.trim().parse().ok())
        {
            return addr;
        }
        seen.push(line);
    }
}
