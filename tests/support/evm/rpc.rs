//! The JSON-RPC side of [`super::Evm`]: one HTTP/1.1 POST per call over hyper, and the answer
//! types (errors, receipts, logs) parsed from the node's JSON.

use std::net::SocketAddr;
use std::str::FromStr;

use alloy_primitives::{Address, B256, hex};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// A JSON-RPC error answer (a revert shows as code 3 or -32603 with the reason in `message`).
#[derive(Debug, Clone)]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i64,
    /// Error message, e.g. `execution reverted: Requester not sponsored`.
    pub message: String,
    /// The `error` object as sent.
    pub raw: Value,
}

/// One event log.
#[derive(Debug, Clone)]
pub struct Log {
    /// The emitting contract.
    pub address: Address,
    /// Topic 0 is the event signature hash; indexed arguments follow.
    pub topics: Vec<B256>,
    /// The ABI-encoded non-indexed arguments.
    pub data: Vec<u8>,
    /// The block it is in.
    pub block_number: u64,
    /// The transaction that emitted it.
    pub transaction_hash: B256,
}

/// A mined transaction's receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// Transaction hash.
    pub transaction_hash: B256,
    /// Whether it succeeded (status 1).
    pub status: bool,
    /// The block it is in.
    pub block_number: u64,
    /// The created contract, for a deployment.
    pub contract_address: Option<Address>,
    /// Logs emitted.
    pub logs: Vec<Log>,
    /// The receipt as sent.
    pub raw: Value,
}

pub(super) async fn post_json(addr: SocketAddr, body: &Value) -> Value {
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the EVM node at {addr}: {e}"));
    exchange(stream, body)
        .await
        .unwrap_or_else(|e| panic!("JSON-RPC to {addr}: {e}"))
}

/// One HTTP/1.1 POST of `body` on `stream`; the JSON answer.
pub(super) async fn exchange(stream: TcpStream, body: &Value) -> Result<Value, String> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = http::Request::post("/")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

/// A JSON-RPC quantity (`"0x1a"`) as a number.
pub fn quantity(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a quantity: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// JSON-RPC data (`"0x..."`) as bytes.
pub fn decode_hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap_or_else(|| panic!("not hex data: {v}"));
    hex::decode(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn parse_b256(v: &Value) -> B256 {
    B256::from_str(v.as_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

pub(super) fn parse_log(v: &Value) -> Log {
    Log {
        address: Address::from_str(v["address"].as_str().unwrap_or_default()).unwrap(),
        topics: v["topics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(parse_b256)
            .collect(),
        data: decode_hex(&v["data"]),
        block_number: quantity(&v["blockNumber"]),
        transaction_hash: parse_b256(&v["transactionHash"]),
    }
}

pub(super) fn parse_receipt(v: &Value) -> Receipt {
    Receipt {
        transaction_hash: parse_b256(&v["transactionHash"]),
        status: quantity(&v["status"]) == 1,
        block_number: quantity(&v["blockNumber"]),
        contract_address: v["contractAddress"]
            .as_str()
            .map(|a| Address::from_str(a).unwrap()),
        logs: v["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(parse_log)
            .collect(),
        raw: v.clone(),
    }
}
