//! The sled backend's core: the database and its trees, and how every write runs (committed,
//! then flushed, in a task of its own) and every record is encoded (JSON).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};

use super::flush::Flusher;
use crate::store::error::{BackendError, StoreError};
use crate::store::model::{User, UserKind};

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(BackendError(Box::new(e)))
    }
}

/// The embedded store: every store trait over one sled database. Cheap to clone; all clones
/// share one database.
#[derive(Clone)]
pub struct SledStore {
    pub(super) inner: Arc<Inner>,
}

/// The database, its trees and the flush bookkeeping.
pub(super) struct Inner {
    pub(super) db: sled::Db,
    pub(super) users: sled::Tree,
    pub(super) identities: sled::Tree,
    pub(super) accounts: sled::Tree,
    pub(super) views: sled::Tree,
    pub(super) access: sled::Tree,
    pub(super) profiles: sled::Tree,
    pub(super) codes: sled::Tree,
    pub(super) refresh: sled::Tree,
    pub(super) clients: sled::Tree,
    pub(super) client_users: sled::Tree,
    pub(super) assertions: sled::Tree,
    pub(super) flusher: Flusher,
    /// Writes committed but maybe not yet flushed.
    pub(super) pending: AtomicUsize,
}

impl SledStore {
    /// Flushes everything written so far to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flusher.flush().await?;
        Ok(())
    }

    /// Flushes if some write may be committed but not yet on disk: a reader that found a
    /// record calls this before revealing it.
    pub(super) async fn await_pending_writes(&self) -> Result<(), StoreError> {
        if self.inner.pending.load(Ordering::SeqCst) > 0 {
            self.flush().await?;
        }
        Ok(())
    }

    /// Runs `op` (which commits its transactions), then flushes, in a task of its own so that a
    /// client hanging up cannot cancel the flush half-way.
    pub(super) async fn write<T, E>(
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

/// A new DAuth user record with a random id, created at `now`.
pub(super) fn new_dauth_user(network: &str, address: &str, now: i64) -> User {
    User {
        user_id: uuid::Uuid::new_v4().to_string(),
        kind: UserKind::Dauth,
        provider: network.to_owned(),
        username: address.to_owned(),
        created_at: now,
    }
}

/// Inside a transaction: inserts the identity and the user unless the identity exists, and
/// returns the existing user's record when it does.
pub(super) fn user_in_txn<E>(
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
pub(super) enum Refusal<E> {
    Store(StoreError),
    Domain(E),
}

/// Maps a transaction's failure into the caller's error type.
pub(super) fn txn_error<E: From<StoreError>>(e: TransactionError<Refusal<E>>) -> E {
    match e {
        TransactionError::Storage(e) => E::from(e.into()),
        TransactionError::Abort(Refusal::Store(e)) => E::from(e),
        TransactionError::Abort(Refusal::Domain(e)) => e,
    }
}

/// A record as stored: JSON.
pub(super) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
        what: "record",
        source,
    })
}

/// A stored record of kind `what`.
pub(super) fn decode<T: serde::de::DeserializeOwned>(
    raw: &[u8],
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Corrupt { what, source })
}

/// A stored user record.
pub(super) fn decode_user(raw: &[u8]) -> Result<User, StoreError> {
    decode(raw, "user")
}
