//! The sled backend: trees, key encoding, transactions and flushing.
//!
//! Trees:
//! - `users`: `user_id` -> JSON [`User`];
//! - `identities`: [`identity_key`] -> `user_id`.
//!
//! Creation writes both trees in one transaction, then flushes before returning, so the id is
//! on disk before any caller can see it. A reader that finds a record while some creation is
//! still flushing flushes too (see `creating`), so it cannot reveal an id that is not yet on
//! disk either.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::{StoreError, User, UserKind, identity_key};

/// A failure inside sled, kept opaque so no other module depends on sled.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(#[from] sled::Error);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(BackendError(e))
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
    /// Creations committed but maybe not yet flushed.
    creating: AtomicUsize,
}

impl Store {
    /// Opens (creating if missing) the store at `path`.
    ///
    /// `cache_bytes` bounds sled's page cache.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(500))
            .open()?;
        Self::from_db(db)
    }

    /// A store in a temporary directory, deleted on drop. For tests and benchmarks.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        let users = db.open_tree("users")?;
        let identities = db.open_tree("identities")?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                users,
                identities,
                creating: AtomicUsize::new(0),
            }),
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
        if let Some(user) = self.lookup(&key)? {
            self.await_pending_creations().await?;
            return Ok(user);
        }
        let fresh = User {
            user_id: uuid::Uuid::new_v4().to_string(),
            kind: UserKind::Dauth,
            provider: network.to_owned(),
            username: address.to_owned(),
            created_at: now_unix(),
        };
        // Run in its own task so a client that hangs up cannot cancel the flush half-way.
        let store = self.clone();
        tokio::spawn(async move { store.create(key, fresh).await })
            .await
            .map_err(StoreError::TaskFailed)?
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

    /// Flushes everything written so far to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush_async().await?;
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

    async fn await_pending_creations(&self) -> Result<(), StoreError> {
        if self.inner.creating.load(Ordering::SeqCst) > 0 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn create(&self, key: Vec<u8>, fresh: User) -> Result<User, StoreError> {
        let encoded = serde_json::to_vec(&fresh).map_err(|source| StoreError::Corrupt {
            what: "user",
            source,
        })?;
        self.inner.creating.fetch_add(1, Ordering::SeqCst);
        let outcome = self.insert_if_absent(&key, &fresh.user_id, &encoded);
        let flushed = self.flush().await;
        self.inner.creating.fetch_sub(1, Ordering::SeqCst);
        flushed?;
        match outcome? {
            None => Ok(fresh),
            Some(existing) => decode_user(&existing),
        }
    }

    /// Inserts the identity and the user in one transaction unless the identity exists.
    /// Returns the existing user's record when it does.
    fn insert_if_absent(
        &self,
        key: &[u8],
        user_id: &str,
        encoded: &[u8],
    ) -> Result<Option<sled::IVec>, StoreError> {
        let result = (&self.inner.identities, &self.inner.users).transaction(|(ids, users)| {
            if let Some(existing_id) = ids.get(key)? {
                let existing = users.get(&existing_id)?;
                return match existing {
                    Some(raw) => Ok(Some(raw)),
                    None => Err(ConflictableTransactionError::Abort(())),
                };
            }
            ids.insert(key, user_id.as_bytes())?;
            users.insert(user_id.as_bytes(), encoded)?;
            Ok(None)
        });
        match result {
            Ok(found) => Ok(found),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => Err(StoreError::Dangling),
        }
    }
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
