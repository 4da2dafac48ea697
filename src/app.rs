//! The composition root: the state built from a [`Config`] over the sled store, a bound
//! listener, the background tasks, and the run loop with graceful shutdown.
//!
//! [`App::bind`] does everything that can fail before serving (bind the socket, open and probe
//! the store, build the state), so a bad deployment fails at start with a clear message instead
//! of on the first request. [`App::run`] serves until the shutdown future resolves, drains, and
//! flushes. This is the one module that knows which store backend runs; the reload task
//! (`SIGHUP` and file changes, [`crate::reload`]) runs beside the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::config::PostgresConfig;
use crate::limits::Limits;
use crate::reload::Reloader;
use crate::state::State;
use crate::state::error::StartError;
use crate::store::error::StoreError;
use crate::store::postgres::{PgStore, notify};
use crate::store::replay::Shared as ReplayShared;
use crate::store::sled::SledStore;
use crate::store::{Backend, Stores};

/// A gateway ready to serve.
pub struct App {
    state: Arc<State>,
    listener: TcpListener,
    /// On PostgreSQL: the database whose stored-client changes this replica follows.
    follow_clients: Option<tokio_postgres::Config>,
    /// The admin listener (`admin.listen`), when on.
    admin: Option<TcpListener>,
}

/// How often stored clients are re-read when no change notification arrived (the fallback of
/// `LISTEN`/`NOTIFY`, for a notification lost while the listener reconnected).
const CLIENTS_REREAD: std::time::Duration = std::time::Duration::from_secs(30);

impl App {
    /// Binds the listener, then opens the store and proves it writable. A start that fails
    /// removes the store directory (and parents) it created, so a refused start (the port in
    /// use, say) leaves nothing behind.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        if let Some(pg) = config.store.postgres.clone() {
            return Self::bind_postgres(config, &pg).await;
        }
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
            let replay = open_replay(&config, &stores).await?;
            State::with_replay(config, stores, replay).await
        }
        .await;
        match state {
            Ok(state) => Ok(Self {
                state: Arc::new(state),
                listener,
                follow_clients: None,
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

    /// Binds the listener, then connects to PostgreSQL, applies the migrations and proves the
    /// database writable: an unreachable database or a changed migration refuses the start,
    /// naming the URL without its password.
    async fn bind_postgres(config: Config, pg: &PostgresConfig) -> Result<Self, StartError> {
        let listener = listen(&config).await?;
        let admin = listen_admin(&config).await?;
        let store_err = |source| StartError::Store {
            path: config.store.shown(),
            source,
        };
        let store = PgStore::connect(pg).await.map_err(store_err)?;
        store
            .check_writable(crate::clock::now())
            .await
            .map_err(store_err)?;
        let stores = store.stores(config.cache.users);
        let replay = open_replay(&config, &stores).await?;
        let state = Arc::new(State::with_replay(config, stores, replay).await?);
        Ok(Self {
            state,
            listener,
            follow_clients: Some(pg.connect.clone()),
            admin,
        })
    }

    /// Binds the listener over already opened stores (and the `[replay]` backend).
    pub async fn bind_with_store(config: Config, stores: Stores) -> Result<Self, StartError> {
        let listener = listen(&config).await?;
        let admin = listen_admin(&config).await?;
        let replay = open_replay(&config, &stores).await?;
        let state = Arc::new(State::with_replay(config, stores, replay).await?);
        Ok(Self {
            state,
            listener,
            follow_clients: None,
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
            follow_clients,
            admin,
        } = self;
        let followers = follow_clients.map(|pg| {
            let changed = Arc::new(tokio::sync::Notify::new());
            let listener = tokio::spawn(notify::listen(pg, Arc::clone(&changed)));
            (
                listener,
                tokio::spawn(reread_clients(Arc::clone(&state), changed)),
            )
        });
        let admin = admin.map(|l| tokio::spawn(crate::server::admin::serve(l, Arc::clone(&state))));
        let tidy = tidy(Arc::clone(&state));
        let resets = tokio::spawn(crate::people::reset::deliver_resets(Arc::clone(&state)));
        let reloads = crate::reload::spawn(Arc::new(Reloader::new(Arc::clone(&state))));
        crate::server::serve(listener, Arc::clone(&state), shutdown).await;
        tidy.abort();
        resets.abort();
        if let Some((listener, reread)) = followers {
            listener.abort();
            reread.abort();
        }
        reloads.abort();
        if let Some(admin) = admin {
            admin.abort();
        }
        state.shared().store.backend.flush().await
    }
}

/// The `[replay]` backend, connected (none for memory): unreachable, the gateway does not
/// start. `backend = "postgres"` without a `url` (a PostgreSQL store) is the store's own window,
/// its `dauth_replay` table, already connected.
async fn open_replay(config: &Config, stores: &Stores) -> Result<Option<ReplayShared>, StartError> {
    let replay = &config.replay;
    if replay.backend == crate::config::ReplayBackend::Postgres && replay.url.is_none() {
        return Ok(Some(ReplayShared {
            window: Arc::clone(&stores.assertions),
            rate: None,
        }));
    }
    crate::store::replay::open(replay)
        .await
        .map_err(StartError::Replay)
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

/// Every [`Limits::TIDY_EVERY`], off the request path: rate tables forget idle callers, the
/// replay windows forget expired ids, and the upstream pools close the idle connections their
/// backends closed.
fn tidy(state: Arc<State>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Limits::TIDY_EVERY);
        loop {
            every.tick().await;
            let shared = state.shared();
            shared.limits.tidy();
            shared.upstreams.tidy();
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

/// Re-reads the stored clients when `changed` wakes (a `NOTIFY` from `admin client`) or every
/// [`CLIENTS_REREAD`], and installs a policy with them when they differ from the last read: a
/// client added or removed on any replica is accepted or refused here without a restart.
async fn reread_clients(state: Arc<State>, changed: Arc<tokio::sync::Notify>) {
    let read = || async { state.shared().store.clients.stored_clients().await };
    // Unknown at first: the policy was built before this task ran, and a client added in
    // between must not be taken for the state the policy already has.
    let mut last = None;
    loop {
        tokio::select! {
            () = changed.notified() => {}
            () = tokio::time::sleep(CLIENTS_REREAD) => {}
        }
        match read().await {
            Ok(now) if last.as_ref() != Some(&now) => match state.rebuild().await {
                Ok(()) => {
                    tracing::info!(stored_clients = now.len(), "stored clients changed");
                    last = Some(now);
                }
                Err(e) => tracing::warn!(error = %e, "stored clients changed but refused"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "re-reading stored clients failed"),
        }
    }
}
