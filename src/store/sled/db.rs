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

/// Inside a transaction: inserts the identity and the user (`fresh`, `encoded`) unless the
/// identity exists, and returns the existing user's record when it does. An identity whose
/// record is missing (a crash between [`claim_dauth_user`]'s two writes) gets its record now,
/// under its own id.
pub(super) fn user_in_txn<E>(
    ids: &TransactionalTree,
    users: &TransactionalTree,
    key: &[u8],
    fresh: &User,
    encoded: &[u8],
) -> ConflictableTransactionResult<Option<sled::IVec>, Refusal<E>> {
    let abort = |e| ConflictableTransactionError::Abort(Refusal::Store(e));
    if let Some(existing_id) = ids.get(key)? {
        if let Some(raw) = users.get(&existing_id)? {
            return Ok(Some(raw));
        }
        let record = under_claimed_id(fresh, &existing_id)
            .and_then(|user| encode(&user))
            .map_err(abort)?;
        users.insert(&existing_id, record.as_slice())?;
        return Ok(Some(record.into()));
    }
    ids.insert(key, fresh.user_id.as_bytes())?;
    users.insert(fresh.user_id.as_bytes(), encoded)?;
    Ok(None)
}

/// Get-or-create of a DAuth user without a transaction: sled 0.34 writes its log buffer out
/// twice for every transaction (`pin_log`), so a transaction per new user cost two disk writes
/// and kept concurrent creations from sharing one flush. Instead the identity is claimed by a
/// compare-and-swap, then the record of the claimed id is written unless it exists (also a
/// compare-and-swap), so racing callers agree on one user. A crash between the two leaves an
/// identity with no record: nobody was answered with it (answers wait for the flush), and the
/// next call for that identity writes the record under the claimed id.
pub(super) fn claim_dauth_user(inner: &Inner, key: &[u8], fresh: User) -> Result<User, StoreError> {
    let claimed =
        inner
            .identities
            .compare_and_swap(key, None::<&[u8]>, Some(fresh.user_id.as_bytes()))?;
    let user = match claimed {
        Ok(()) => fresh,
        // A failed swap from "absent" always carries what is there.
        Err(taken) => under_claimed_id(&fresh, &taken.current.ok_or(StoreError::Dangling)?)?,
    };
    let written = inner.users.compare_and_swap(
        user.user_id.as_bytes(),
        None::<&[u8]>,
        Some(encode(&user)?),
    )?;
    match written {
        Ok(()) => Ok(user),
        Err(exists) => decode_user(&exists.current.ok_or(StoreError::Dangling)?),
    }
}

/// `fresh` as the record of the user id the identity index holds (`raw_id`), for an identity
/// claimed before `fresh` was made.
fn under_claimed_id(fresh: &User, raw_id: &[u8]) -> Result<User, StoreError> {
    let id = std::str::from_utf8(raw_id).map_err(|_| {
        StoreError::Backend(BackendError(
            "the identity index holds a user id that is not UTF-8".into(),
        ))
    })?;
    Ok(User {
        user_id: id.to_owned(),
        ..fresh.clone()
    })
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
