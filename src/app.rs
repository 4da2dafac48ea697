//! The composition root: the state built from a [`Config`] over the sled store, a bound
//! listener, the background tasks, and the run loop with graceful shutdown.
//!
//! [`App::bind`] does everything that can fail before serving (bind the socket, open and probe
//! the store, build the state), so a bad deployment fails at start with a clear message instead
//! of on the first request. [`App::run`] serves until the shutdown future resolves, drains, and
//! flushes. This is the one module that knows which store backend runs; a reload (swapping the
//! policy, [`State::install`]) would be started from here too.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::limits::Limits;
use crate::state::State;
use crate::state::error::StartError;
use crate::store::error::StoreError;
use crate::store::sled::SledStore;
use crate::store::{Backend, Stores};

/// A gateway ready to serve.
pub struct App {
    state: Arc<State>,
    listener: TcpListener,
    /// The admin listener (`admin.listen`), when on.
    admin: Option<TcpListener>,
}

impl App {
    /// Binds the listener, then opens the store and proves it writable. A start that fails
    /// removes the store directory (and parents) it created, so a refused start (the port in
    /// use, say) leaves nothing behind.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let listener = listen(&config).await?;
        let admin = listen_admin(&config).await?;
        let path = config.store.path.clone();
        let created = crate::fs::first_missing(&path);
        let store_err = |source| StartError::Store {
            path: path.clone(),
            source,
        };
        let state = async {
            std::fs::create_dir_all(&path).map_err(|e| store_err(StoreError::Io(e)))?;
            let store = SledStore::open(&path, config.store.cache_bytes).map_err(store_err)?;
            store
                .check_writable(crate::clock::now())
                .await
                .map_err(store_err)?;
            let stores = store.stores(config.cache.users);
            State::new(config, stores).await
        }
        .await;
        match state {
            Ok(state) => Ok(Self {
                state: Arc::new(state),
                listener,
                admin,
            }),
            Err(e) => {
                if let Some(dir) = created {
                    // Best effort: the start failed either way, and this error says why.
                    let _ = std::fs::remove_dir_all(dir);
                }
                Err(e)
            }
        }
    }

    /// Binds the listener over already opened stores.
    pub async fn bind_with_store(config: Config, stores: Stores) -> Result<Self, StartError> {
        let listener = listen(&config).await?;
        let admin = listen_admin(&config).await?;
        let state = Arc::new(State::new(config, stores).await?);
        Ok(Self {
            state,
            listener,
            admin,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.policy().config.server.listen)
    }

    /// The admin listener's address, when it is on.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The state, shared with every connection.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests (up to
    /// `server.shutdown_grace_secs`) and flushes the store.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        let Self {
            state,
            listener,
            admin,
        } = self;
        let admin = admin.map(|l| tokio::spawn(crate::server::admin::serve(l, Arc::clone(&state))));
        let tidy = tidy(Arc::clone(&state));
        let resets = tokio::spawn(crate::people::reset::deliver_resets(Arc::clone(&state)));
        crate::server::serve(listener, Arc::clone(&state), shutdown).await;
        tidy.abort();
        resets.abort();
        if let Some(admin) = admin {
            admin.abort();
        }
        state.shared().store.backend.flush().await
    }
}

async fn listen(config: &Config) -> Result<TcpListener, StartError> {
    let addr = config.server.listen;
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

async fn listen_admin(config: &Config) -> Result<Option<TcpListener>, StartError> {
    let Some(addr) = config.admin.listen else {
        return Ok(None);
    };
    TcpListener::bind(addr)
        .await
        .map(Some)
        .map_err(|source| StartError::Bind { addr, source })
}

/// Every [`Limits::TIDY_EVERY`], off the request path: rate tables forget idle callers, and the
/// replay windows forget expired ids.
fn tidy(state: Arc<State>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Limits::TIDY_EVERY);
        loop {
            every.tick().await;
            let shared = state.shared();
            shared.limits.tidy();
            let now = crate::clock::now();
            if let Err(e) = shared.siwe_nonces.prune(now).await {
                tracing::warn!(error = %e, "pruning SIWE nonces failed");
            }
            if let Err(e) = shared.wallet_replay.prune(now).await {
                tracing::warn!(error = %e, "pruning the ERC-8128 nonce window failed");
            }
            if let Err(e) = shared.store.assertions.prune(now).await {
                tracing::warn!(error = %e, "pruning used client assertions failed");
            }
            if let Err(e) = shared.dauth_replay.prune(now).await {
                tracing::warn!(error = %e, "pruning the DAuth replay window failed");
            }
            if let Err(e) = shared.airnode_retries.prune(now).await {
                tracing::warn!(error = %e, "pruning the Airnode retry record failed");
            }
        }
    })
}
