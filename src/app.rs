//! The application: shared state built once from a [`Config`], a bound listener, and the run
//! loop with graceful shutdown.
//!
//! [`App::bind`] does everything that can fail before serving (open and probe the store, bind
//! the socket), so a bad deployment fails at start with a clear message instead of on the first
//! request. [`App::run`] serves until the shutdown future resolves, drains, and flushes.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::clients::ClientRegistry;
use crate::auth::issuer::Issuer;
use crate::auth::passwords::Hasher;
use crate::auth::{Authenticator, BearerVerifier, DauthVerifier};
use crate::config::Config;
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::mail::outbox::ResetQueue;
use crate::proxy::Routes;
use crate::store::Backend;
use crate::store::Stores;
use crate::store::error::StoreError;
use crate::store::sled::SledStore;

/// Everything a request handler needs, shared by all connections.
pub struct State {
    /// The checked configuration.
    pub config: Config,
    /// DAuth and bearer verification, keys parsed.
    pub auth: Authenticator,
    /// The stores.
    pub store: Stores,
    /// Forwarding routes and their upstream clients.
    pub routes: Routes,
    /// This gateway's token issuer, when `[issuer]` is configured.
    pub issuer: Option<Issuer>,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// Rate limits and the verification bound.
    pub limits: Limits,
    /// Password resets waiting for their lookup and mail (see [`crate::people::reset`]).
    pub resets: ResetQueue,
    /// Password hashing: its threads and bounded queue.
    pub passwords: Hasher,
}

impl State {
    /// Builds the shared state on an already opened store.
    pub async fn new(config: Config, store: Stores) -> Result<Self, StartError> {
        let stored = store
            .clients
            .stored_clients()
            .await
            .map_err(|source| StartError::Store {
                path: config.store.path.clone(),
                source,
            })?
            .iter()
            .map(|c| c.parse().map_err(StartError::StoredClient))
            .collect::<Result<Vec<_>, _>>()?;
        let auth = Authenticator {
            dauth: DauthVerifier::new(config.dauth.clone()),
            bearer: BearerVerifier::new(config.issuer.as_ref(), &config.bearer),
            clients: ClientRegistry::new(&config.clients, stored),
            dauth_cache: crate::cache::BoundedCache::new(config.cache.tokens),
            bearer_cache: crate::cache::BoundedCache::new(config.cache.tokens),
        };
        let routes = Routes::new(&config.routes).map_err(StartError::UpstreamTls)?;
        let issuer = config.issuer.clone().map(Issuer::new);
        let mailer = Mailer::new(config.mail.as_ref()).map_err(StartError::Mail)?;
        let limits = Limits::new(&config.limits);
        let resets = ResetQueue::new(config.accounts.mail_queue);
        let a = &config.accounts;
        let passwords = Hasher::new(a.hash_slots, a.hash_queue).map_err(StartError::Threads)?;
        Ok(Self {
            config,
            auth,
            store,
            routes,
            issuer,
            mailer,
            limits,
            resets,
            passwords,
        })
    }
}

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
    /// The password-hashing threads could not be started.
    #[error("cannot start the password-hashing threads: {0}")]
    Threads(#[source] std::io::Error),
    /// The SMTP transport could not be set up.
    #[error("mail: {0}")]
    Mail(#[source] crate::mail::MailError),
    /// The TLS configuration for upstream connections could not be built.
    #[error("upstream TLS: {0}")]
    UpstreamTls(#[source] rustls::Error),
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

/// A gateway ready to serve.
pub struct App {
    state: Arc<State>,
    listener: TcpListener,
}

impl App {
    /// Opens the store, proves it writable, and binds the listener.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let path = config.store.path.clone();
        let store_err = |source| StartError::Store {
            path: path.clone(),
            source,
        };
        if let Err(e) = std::fs::create_dir_all(&path) {
            return Err(store_err(StoreError::Io(e)));
        }
        let store = SledStore::open(&path, config.store.cache_bytes).map_err(store_err)?;
        store
            .check_writable(crate::clock::now())
            .await
            .map_err(store_err)?;
        let stores = store.stores(config.cache.users);
        Self::bind_with_store(config, stores).await
    }

    /// Binds the listener over an already opened store.
    pub async fn bind_with_store(config: Config, store: Stores) -> Result<Self, StartError> {
        let addr = config.server.listen;
        let state = Arc::new(State::new(config, store).await?);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Self { state, listener })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.server.listen)
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests (up to
    /// `server.shutdown_grace_secs`) and flushes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        let Self { state, listener } = self;
        let tidy = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Limits::TIDY_EVERY);
                loop {
                    every.tick().await;
                    state.limits.tidy();
                    if let Err(e) = state.store.assertions.prune(crate::clock::now()).await {
                        tracing::warn!(error = %e, "pruning used client assertions failed");
                    }
                }
            })
        };
        let resets = tokio::spawn(crate::people::reset::deliver_resets(Arc::clone(&state)));
        crate::server::serve(listener, Arc::clone(&state), shutdown).await;
        tidy.abort();
        resets.abort();
        state.store.backend.flush().await
    }
}
