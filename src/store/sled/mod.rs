//! The sled backend: trees, key encoding, transactions and flushing. The only place that
//! touches sled.
//!
//! Trees:
//! - `users`: `user_id` -> JSON [`User`];
//! - `identities`: [`identity_key`] -> `user_id`;
//! - `accounts`, `views`, `access`: see [`access`];
//! - `profiles`, `codes`, `refresh`: see [`local`] (and [`logins`] for the lockout's counter);
//! - `clients`, `client_users`, `assertions`: see [`clients`].
//!
//! Every write that touches several rows is one transaction, then a flush before returning, so
//! what a response reveals is on disk before the client sees it. A reader that finds a record
//! while some write is still flushing flushes too (see `pending`), so it cannot reveal
//! something that is not yet on disk either. Writes run in their own task so a client that hangs
//! up cannot cancel a flush half-way.

mod access;
mod clients;
mod flush;
mod keys;
mod local;
mod logins;
mod migrate;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};

use crate::store::error::{BackendError, StoreError};
use crate::store::model::{User, UserKind};
use keys::identity_key;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(BackendError(Box::new(e)))
    }
}

/// The embedded user store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    users: sled::Tree,
    identities: sled::Tree,
    accounts: sled::Tree,
    views: sled::Tree,
    access: sled::Tree,
    profiles: sled::Tree,
    codes: sled::Tree,
    refresh: sled::Tree,
    clients: sled::Tree,
    client_users: sled::Tree,
    assertions: sled::Tree,
    assertion_uses: AtomicUsize,
    flusher: flush::Flusher,
    /// Writes committed but maybe not yet flushed.
    pending: AtomicUsize,
    /// DAuth users answered from memory; only records already on disk are put here.
    hot: crate::cache::BoundedCache<User>,
}

impl Store {
    /// Opens (creating if missing) the store at `path`, keeping up to 100,000 hot users in
    /// memory. `cache_bytes` bounds sled's page cache.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with(path, cache_bytes, 100_000)
    }

    /// Like [`Store::open`], with the number of hot users kept in memory (0: none).
    pub fn open_with(path: &Path, cache_bytes: u64, hot_users: usize) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(500))
            .open()?;
        Self::from_db(db, hot_users)
    }

    /// A store in a temporary directory, deleted on drop. For tests and benchmarks.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?, 100_000)
    }

    fn from_db(db: sled::Db, hot_users: usize) -> Result<Self, StoreError> {
        let inner = Inner {
            users: db.open_tree("users")?,
            identities: db.open_tree("identities")?,
            accounts: db.open_tree("accounts")?,
            views: db.open_tree("views")?,
            access: db.open_tree("access")?,
            profiles: db.open_tree("profiles")?,
            codes: db.open_tree("codes")?,
            refresh: db.open_tree("refresh")?,
            clients: db.open_tree("clients")?,
            client_users: db.open_tree("client_users")?,
            assertions: db.open_tree("assertions")?,
            assertion_uses: AtomicUsize::new(0),
            flusher: flush::Flusher::start(db.clone()).map_err(StoreError::Io)?,
            db,
            pending: AtomicUsize::new(0),
            hot: crate::cache::BoundedCache::new(hot_users),
        };
        let folded = migrate::fold_network_names(&inner)?;
        if folded > 0 {
            tracing::info!(folded, "DAuth identities folded to canonical network names");
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Writes a probe record and flushes it, proving the store is writable.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        self.inner
            .db
            .insert("meta/last_start", now_unix().to_be_bytes().to_vec())?;
        self.flush().await
    }

    /// Gets the DAuth user for (`network`, `address`), creating it if needed.
    ///
    /// Atomic and durable: see the module docs.
    pub async fn get_or_create_dauth_user(
        &self,
        network: &str,
        address: &str,
    ) -> Result<User, StoreError> {
        let key = identity_key(UserKind::Dauth, network, address);
        let hot_key = crate::cache::digest(&[&key]);
        if let Some(user) = self.inner.hot.get(hot_key, 0) {
            return Ok(user);
        }
        if let Some(user) = self.lookup(&key)? {
            self.await_pending_writes().await?;
            self.inner.hot.insert(hot_key, user.clone(), i64::MAX);
            return Ok(user);
        }
        let fresh = new_dauth_user(network, address);
        let encoded = encode(&fresh)?;
        let user = self
            .write(move |inner| {
                let found = (&inner.identities, &inner.users)
                    .transaction(|(ids, users)| {
                        user_in_txn::<StoreError>(ids, users, &key, &fresh.user_id, &encoded)
                    })
                    .map_err(txn_error)?;
                match found {
                    None => Ok(fresh),
                    Some(existing) => decode_user(&existing),
                }
            })
            .await?;
        // On disk now: safe to answer from memory from here on.
        self.inner.hot.insert(hot_key, user.clone(), i64::MAX);
        Ok(user)
    }

    /// Looks a user up by id.
    pub fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.inner
            .users
            .get(user_id.as_bytes())?
            .map(|raw| decode_user(&raw))
            .transpose()
    }

    /// Number of users stored.
    pub fn user_count(&self) -> usize {
        self.inner.users.len()
    }

    /// Every stored user (for audits and tests; reads the whole tree).
    pub fn all_users(&self) -> Result<Vec<User>, StoreError> {
        self.inner
            .users
            .iter()
            .values()
            .map(|raw| decode_user(&raw?))
            .collect()
    }

    /// The user id the identity index holds for a DAuth (network, address), without creating.
    pub fn dauth_user_id(
        &self,
        network: &str,
        address: &str,
    ) -> Result<Option<String>, StoreError> {
        let id = self
            .inner
            .identities
            .get(identity_key(UserKind::Dauth, network, address))?;
        Ok(id.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Flushes everything written so far to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flusher.flush().await?;
        Ok(())
    }

    fn lookup(&self, key: &[u8]) -> Result<Option<User>, StoreError> {
        match self.inner.identities.get(key)? {
            Some(id) => self
                .inner
                .users
                .get(&id)?
                .map(|raw| decode_user(&raw))
                .transpose(),
            None => Ok(None),
        }
    }

    /// Flushes if some write may be committed but not yet on disk.
    async fn await_pending_writes(&self) -> Result<(), StoreError> {
        if self.inner.pending.load(Ordering::SeqCst) > 0 {
            self.flush().await?;
        }
        Ok(())
    }

    /// Runs `op` (which commits its transactions), then flushes, in a task of its own.
    async fn write<T, E>(
        &self,
        op: impl FnOnce(&Inner) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let store = self.clone();
        let task = tokio::spawn(async move {
            let inner = &store.inner;
            inner.pending.fetch_add(1, Ordering::SeqCst);
            let outcome = op(inner);
            let flushed = store.flush().await;
            inner.pending.fetch_sub(1, Ordering::SeqCst);
            flushed?;
            outcome
        });
        task.await.map_err(|e| E::from(StoreError::TaskFailed(e)))?
    }
}

/// A new DAuth user record with a random id.
fn new_dauth_user(network: &str, address: &str) -> User {
    User {
        user_id: uuid::Uuid::new_v4().to_string(),
        kind: UserKind::Dauth,
        provider: network.to_owned(),
        username: address.to_owned(),
        created_at: now_unix(),
    }
}

/// Inside a transaction: inserts the identity and the user unless the identity exists, and
/// returns the existing user's record when it does.
fn user_in_txn<E>(
    ids: &TransactionalTree,
    users: &TransactionalTree,
    key: &[u8],
    user_id: &str,
    encoded: &[u8],
) -> ConflictableTransactionResult<Option<sled::IVec>, Refusal<E>> {
    if let Some(existing_id) = ids.get(key)? {
        return match users.get(&existing_id)? {
            Some(raw) => Ok(Some(raw)),
            None => Err(ConflictableTransactionError::Abort(Refusal::Store(
                StoreError::Dangling,
            ))),
        };
    }
    ids.insert(key, user_id.as_bytes())?;
    users.insert(user_id.as_bytes(), encoded)?;
    Ok(None)
}

/// Why a transaction aborted: a store condition, or a domain refusal `E`.
enum Refusal<E> {
    Store(StoreError),
    Domain(E),
}

/// Maps a transaction's failure into the caller's error type.
fn txn_error<E: From<StoreError>>(e: TransactionError<Refusal<E>>) -> E {
    match e {
        TransactionError::Storage(e) => E::from(e.into()),
        TransactionError::Abort(Refusal::Store(e)) => E::from(e),
        TransactionError::Abort(Refusal::Domain(e)) => e,
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
        what: "record",
        source,
    })
}

fn decode_user(raw: &[u8]) -> Result<User, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Corrupt {
        what: "user",
        source,
    })
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
