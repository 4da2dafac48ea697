//! Why the gateway could not start: building its state, or binding its listener. Reported once,
//! on the console; never a request's answer.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::store::error::StoreError;

/// A failure to start serving.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened or written.
    #[error("store {}: {source}", path.display())]
    Store {
        /// The store directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: StoreError,
    },
    /// A client stored with `admin client add` has key material that no longer parses.
    #[error("{0}")]
    StoredClient(#[source] crate::auth::keys::KeyError),
    /// A `wallets.rpc_urls` node (or the ERC-6492 validator) could not be set up.
    #[error("wallets: {0}")]
    WalletChain(String),
    /// The password-hashing threads could not be started.
    #[error("cannot start the password-hashing threads: {0}")]
    Threads(#[source] std::io::Error),
    /// The SMTP transport could not be set up.
    #[error("mail: {0}")]
    Mail(#[source] crate::mail::MailError),
    /// The TLS configuration for upstream connections could not be built.
    #[error("upstream TLS: {0}")]
    UpstreamTls(#[source] rustls::Error),
    /// The TLS configuration for fetching a JWKS URL could not be built.
    #[error("JWKS URL TLS: {0}")]
    JwksTls(#[source] rustls::Error),
    /// An `[[airnode]]` chain node could not be set up.
    #[error("airnode chain: {0}")]
    Chain(#[source] crate::chain::ChainSetupError),
    /// The `[replay]` backend could not be reached (the message names its URL without the
    /// password).
    #[error("{0}")]
    Replay(#[source] crate::store::replay::OpenError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}
