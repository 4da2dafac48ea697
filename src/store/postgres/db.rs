//! The PostgreSQL backend's core: the pool (bounded waits), how a call gets a connection and
//! how errors and JSON documents are converted.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use super::onboard::{self, Wanted};
use super::settings::PostgresConfig;
use crate::store::Stores;
use crate::store::batch::Batcher;
use crate::store::cached::HotUsers;
use crate::store::error::{BackendError, StoreError};
use crate::store::model::User;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend(BackendError(Box::new(e)))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend(BackendError(Box::new(e)))
    }
}

/// A deadline passed while waiting for the database.
#[derive(Debug, thiserror::Error)]
#[error("the database did not answer within {0:?}")]
struct TimedOut(Duration);

/// The PostgreSQL store: a pool of connections to one database. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: Pool,
    /// Bound on one call: the pool wait plus the statement timeout.
    pub(super) deadline: Duration,
    /// The URL without its password, for messages.
    pub(super) shown: Arc<str>,
    /// DAuth get-or-creates arriving together, run as one group (`onboard`).
    pub(super) dauth_users: Batcher<Wanted, Option<User>>,
}

impl PgStore {
    /// A pool over `config` (no connection is made yet; see [`PgStore::connect`]).
    pub fn new(config: &PostgresConfig) -> Result<Self, StoreError> {
        let manager = Manager::from_config(
            config.connect.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let wait = config.connect_timeout;
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .wait_timeout(Some(wait))
            .create_timeout(Some(wait))
            .recycle_timeout(Some(wait))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(BackendError(Box::new(e))))?;
        let p = pool.clone();
        let dauth_users = Batcher::start(
            onboard::LANES.min(config.pool_size.max(1)),
            onboard::GROUP,
            move |wanted| {
                let p = p.clone();
                async move { onboard::group(&p, wanted).await }
            },
        );
        Ok(Self {
            pool,
            deadline: wait + config.statement_timeout,
            shown: config.display.as_str().into(),
            dauth_users,
        })
    }

    /// A pool over `config` with one connection made and the migrations applied: a database
    /// that cannot be reached, or whose schema was changed, refuses here.
    pub async fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        let store = Self::new(config)?;
        store.bounded(super::migrate::apply(&store.pool)).await?;
        Ok(store)
    }

    /// The pool, to share with a [`crate::store::replay::postgres::PgReplay`] or the client listener.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The URL without its password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `op` within this store's deadline: a database that stops answering is a
    /// [`StoreError`], never a hang.
    pub(super) async fn bounded<T, E>(&self, op: impl Future<Output = Result<T, E>>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match tokio::time::timeout(self.deadline, op).await {
            Ok(outcome) => outcome,
            Err(_) => Err(E::from(StoreError::Backend(BackendError(Box::new(
                TimedOut(self.deadline),
            ))))),
        }
    }

    /// This store as every store the gateway uses, with up to `hot_users` DAuth users answered
    /// from memory (0: none).
    pub fn stores(&self, hot_users: usize) -> Stores {
        let this = Arc::new(self.clone());
        Stores {
            users: Arc::new(HotUsers::new(this.clone(), hot_users)),
            access: this.clone(),
            passwords: this.clone(),
            clients: this.clone(),
            assertions: Arc::new(crate::store::replay::postgres::PgReplay::over_pool(
                self.pool.clone(),
                self.deadline,
            )),
            backend: this,
        }
    }
}

/// A record as stored in a `jsonb` column.
pub(super) fn to_doc<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|source| StoreError::Corrupt {
        what: "record",
        source,
    })
}

/// A `jsonb` column's record of kind `what`.
pub(super) fn from_doc<T: serde::de::DeserializeOwned>(
    doc: serde_json::Value,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_value(doc).map_err(|source| StoreError::Corrupt { what, source })
}

/// Whether `e` is a unique-constraint violation (SQLSTATE 23505).
pub(super) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

macro_rules! refusal_from_db {
    ($($t:ty),*) => {$(
        impl From<tokio_postgres::Error> for $t {
            fn from(e: tokio_postgres::Error) -> Self {
                Self::Store(e.into())
            }
        }

        impl From<deadpool_postgres::PoolError> for $t {
            fn from(e: deadpool_postgres::PoolError) -> Self {
                Self::Store(e.into())
            }
        }
    )*};
}

refusal_from_db!(
    crate::store::error::AccessError,
    crate::store::error::LocalError,
    crate::store::error::ClientStoreError
);
