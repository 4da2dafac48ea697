//! JSON-RPC to EVM chains, for the checks that read a chain: `eth_call` (EIP-1271
//! `isValidSignature`, ERC-6492 validation, Airnode's `requestIsAwaitingFulfillment`) and
//! `eth_getLogs` (Airnode's request events).
//!
//! One [`ChainRpc`] per configured chain, built once: an alloy RPC client over hyper with the
//! gateway's rustls configuration, a deadline on every call, and a bound on calls in flight (a
//! stranger can make the gateway call a node, so waiting calls are bounded and the rest refused
//! at once, like every other expensive thing). What a call means is the caller's business; this
//! module only says whether the node answered, reverted, or could not be asked.
//!
//! Node URLs often carry an API key in their path or query, so a URL is only ever shown as
//! scheme, host and port ([`ChainRpc::shown`]). Plain `http` is refused unless the host is on
//! loopback: an answer from the node decides who a caller is, so it must not be open to
//! anyone on the path.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, Bytes};
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_client::RpcClient;
use alloy_rpc_types_eth::{Filter, Log, TransactionInput, TransactionRequest};
use alloy_transport::{RpcError, TransportErrorKind};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

mod transport;

use transport::{Connector, HyperRpc};

/// JSON-RPC error code a node answers an `eth_call` with when the call reverted (EIP-1474; geth,
/// anvil and others use it).
const EXECUTION_REVERTED: i64 = 3;

/// Why a chain could not be set up from its URL.
#[derive(Debug, thiserror::Error)]
pub enum ChainSetupError {
    /// Not an absolute `http`/`https` URL.
    #[error("not an http(s) URL")]
    BadUrl,
    /// Plain `http` to a host that is not on loopback.
    #[error("{0}: plain http is only allowed to a loopback host; use https")]
    PlainHttp(String),
}

/// Why a call got no usable answer. Each of these is the gateway's (or the node's) trouble,
/// never the caller's: the request that needed the answer is refused with 503.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// No answer within the deadline.
    #[error("{node}: no answer within {secs} s")]
    Timeout {
        /// The node, shown without credentials.
        node: String,
        /// The deadline.
        secs: u64,
    },
    /// `max_in_flight` calls to this node are already waiting or running.
    #[error("{0}: too many calls in flight")]
    Busy(String),
    /// The node could not be reached, or answered something that is not JSON-RPC.
    #[error("{node}: {source}")]
    Transport {
        /// The node, shown without credentials.
        node: String,
        /// What failed.
        #[source]
        source: RpcError<TransportErrorKind>,
    },
}

/// What an `eth_call` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call returned these bytes.
    Returned(Bytes),
    /// The call reverted (with the revert data, possibly empty).
    Reverted(Bytes),
}

/// A client for one chain's node.
#[derive(Debug, Clone)]
pub struct ChainRpc {
    provider: RootProvider,
    shown: String,
    timeout: Duration,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
}

/// Checks a node URL as [`ChainRpc::new`] does (absolute `http`/`https`; plain `http` only to
/// a loopback host), without building a client: for the configuration's checks.
pub fn check_url(url: &str) -> Result<(), ChainSetupError> {
    let parsed: url::Url = url.parse().map_err(|_| ChainSetupError::BadUrl)?;
    let shown = shown(&parsed).ok_or(ChainSetupError::BadUrl)?;
    if parsed.scheme() == "http" && !is_loopback(&parsed) {
        return Err(ChainSetupError::PlainHttp(shown));
    }
    Ok(())
}

impl ChainRpc {
    /// A client for the node at `url`, with a deadline of `timeout` per call and at most
    /// `max_in_flight` calls waiting or running (the rest are refused at once). `tls` is the
    /// configuration for `https` nodes (the gateway's roots).
    pub fn new(
        url: &str,
        tls: rustls::ClientConfig,
        timeout: Duration,
        max_in_flight: usize,
    ) -> Result<Self, ChainSetupError> {
        let parsed: url::Url = url.parse().map_err(|_| ChainSetupError::BadUrl)?;
        let shown = shown(&parsed).ok_or(ChainSetupError::BadUrl)?;
        if parsed.scheme() == "http" && !is_loopback(&parsed) {
            return Err(ChainSetupError::PlainHttp(shown));
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let https: Connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client: Client<Connector, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build(https);
        let uri = http::Uri::try_from(parsed.as_str()).map_err(|_| ChainSetupError::BadUrl)?;
        let transport = HyperRpc { client, uri };
        let is_local = is_loopback(&parsed);
        let provider = RootProvider::new(RpcClient::new(transport, is_local));
        Ok(Self {
            provider,
            shown,
            timeout,
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            max_in_flight: max_in_flight.max(1),
        })
    }

    /// The node as it may be shown in logs and errors: scheme, host and port only.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Calls waiting or running now.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.slots.available_permits()
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        self.run(self.provider.get_chain_id()).await
    }

    /// `eth_call` of `data` to `to` at the latest block. A revert is an answer
    /// ([`CallOutcome::Reverted`]), not an error.
    pub async fn call(&self, to: Address, data: Bytes) -> Result<CallOutcome, ChainError> {
        self.eth_call(TransactionRequest::default().to(to), data)
            .await
    }

    /// `eth_call` with no `to`: runs `init_code` as a contract creation and returns what it
    /// returns (the ERC-6492 validator is called this way, without being deployed).
    pub async fn call_creation(&self, init_code: Bytes) -> Result<CallOutcome, ChainError> {
        self.eth_call(TransactionRequest::default(), init_code)
            .await
    }

    /// `eth_getLogs` for `filter`.
    pub async fn logs(&self, filter: &Filter) -> Result<Vec<Log>, ChainError> {
        self.run(self.provider.get_logs(filter)).await
    }

    async fn eth_call(
        &self,
        tx: TransactionRequest,
        data: Bytes,
    ) -> Result<CallOutcome, ChainError> {
        let tx = tx.input(TransactionInput::new(data));
        match self.run(self.provider.call(tx)).await {
            Ok(out) => Ok(CallOutcome::Returned(out)),
            Err(ChainError::Transport {
                source: RpcError::ErrorResp(payload),
                node,
            }) => {
                if payload.code == EXECUTION_REVERTED || payload.message.contains("revert") {
                    let data = payload.as_revert_data().unwrap_or_default();
                    Ok(CallOutcome::Reverted(data))
                } else {
                    Err(ChainError::Transport {
                        node,
                        source: RpcError::ErrorResp(payload),
                    })
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Runs one call under the in-flight bound and the deadline.
    async fn run<T>(
        &self,
        call: impl std::future::IntoFuture<Output = Result<T, RpcError<TransportErrorKind>>>,
    ) -> Result<T, ChainError> {
        let _slot = self
            .slots
            .try_acquire()
            .map_err(|_| ChainError::Busy(self.shown.clone()))?;
        match tokio::time::timeout(self.timeout, call.into_future()).await {
            Err(_) => Err(ChainError::Timeout {
                node: self.shown.clone(),
                secs: self.timeout.as_secs(),
            }),
            Ok(Err(source)) => Err(ChainError::Transport {
                node: self.shown.clone(),
                source,
            }),
            Ok(Ok(value)) => Ok(value),
        }
    }
}

/// `scheme://host[:port]`, without user, password, path or query.
fn shown(url: &url::Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).to_canonical().is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> rustls::ClientConfig {
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
    }

    #[test]
    fn urls_are_shown_without_credentials_path_or_query() {
        let rpc = ChainRpc::new(
            "https://user:secret@mainnet.example:8443/v3/KEY?apikey=KEY2",
            tls(),
            Duration::from_secs(1),
            4,
        )
        .unwrap();
        assert_eq!(rpc.shown(), "https://mainnet.example:8443");
        let rpc =
            ChainRpc::new("https://rpc.example/KEY", tls(), Duration::from_secs(1), 4).unwrap();
        assert_eq!(rpc.shown(), "https://rpc.example");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8545",
            "http://[::1]:8545",
            "http://localhost:8545",
        ] {
            ChainRpc::new(ok, tls(), Duration::from_secs(1), 4).unwrap();
        }
        for bad in ["http://10.0.0.5:8545", "http://node.example/KEY"] {
            let err = ChainRpc::new(bad, tls(), Duration::from_secs(1), 4).unwrap_err();
            assert!(matches!(err, ChainSetupError::PlainHttp(_)), "{bad}");
            assert!(!err.to_string().contains("KEY"), "{err}");
        }
        for bad in ["ws://127.0.0.1:8545", "127.0.0.1:8545", ""] {
            assert!(matches!(
                ChainRpc::new(bad, tls(), Duration::from_secs(1), 4),
                Err(ChainSetupError::BadUrl)
            ));
        }
    }
}
