//! Service clients: stored registrations, the users each client manages, and the client
//! assertion ids already used.
//!
//! Trees and keys:
//! - `clients`: client id -> JSON [`StoredClient`];
//! - `client_users`: `U`(client, user id) -> JSON [`ClientUser`]; `C`(client, clientUserId) ->
//!   user id, so a client's own ids are unique per client;
//! - `assertions`: `j`(client, jti) -> expiry (big-endian i64), pruned of expired entries every
//!   [`PRUNE_EVERY`] uses.

use std::sync::atomic::Ordering;

use sled::transaction::ConflictableTransactionError;

use super::keys::key;
use super::{Inner, Refusal, Store, encode, txn_error};
use crate::store::error::{ClientStoreError, StoreError};
use crate::store::model::{ClientUser, StoredClient};

/// Every this many assertion uses, expired `jti`s are pruned.
const PRUNE_EVERY: usize = 4096;

fn decode<T: serde::de::DeserializeOwned>(raw: &[u8], what: &'static str) -> Result<T, StoreError> {
    serde_json::from_slice(raw).map_err(|source| StoreError::Corrupt { what, source })
}

impl Store {
    /// Every stored client registration.
    pub fn stored_clients(&self) -> Result<Vec<StoredClient>, StoreError> {
        self.inner
            .clients
            .iter()
            .values()
            .map(|v| decode(&v?, "client"))
            .collect()
    }

    /// Stores a client registration; refused if the id is taken.
    pub async fn add_client(&self, client: StoredClient) -> Result<(), ClientStoreError> {
        let raw = encode(&client)?;
        self.write(move |inner: &Inner| {
            let swapped = inner
                .clients
                .compare_and_swap(
                    client.client_id.as_bytes(),
                    None as Option<&[u8]>,
                    Some(raw),
                )
                .map_err(StoreError::from)?;
            swapped.map_err(|_| ClientStoreError::Exists)
        })
        .await
    }

    /// Removes a client registration; false if there was none.
    pub async fn remove_client(&self, client_id: &str) -> Result<bool, ClientStoreError> {
        let id = client_id.to_owned();
        self.write(move |inner: &Inner| {
            Ok(inner
                .clients
                .remove(id.as_bytes())
                .map_err(StoreError::from)?
                .is_some())
        })
        .await
    }

    /// Records that `client` used assertion `jti` (valid until `exp`). False if it was already
    /// used and is not yet expired: a replay.
    pub fn use_assertion(
        &self,
        client: &str,
        jti: &str,
        exp: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let k = key(b'j', &[client, jti]);
        let tree = &self.inner.assertions;
        let fresh =
            match tree.compare_and_swap(&k, None as Option<&[u8]>, Some(&exp.to_be_bytes()[..]))? {
                Ok(()) => true,
                Err(current) => {
                    let expired = current
                        .current
                        .as_deref()
                        .and_then(|v| v.try_into().ok())
                        .map(i64::from_be_bytes)
                        .is_none_or(|e| e <= now);
                    expired
                        && tree
                            .compare_and_swap(&k, current.current, Some(&exp.to_be_bytes()[..]))?
                            .is_ok()
                }
            };
        if self.inner.assertion_uses.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY
            == PRUNE_EVERY - 1
        {
            for item in tree.iter() {
                let (k, v) = item?;
                if v.as_ref()
                    .try_into()
                    .map(i64::from_be_bytes)
                    .is_ok_and(|e: i64| e <= now)
                {
                    tree.remove(k)?;
                }
            }
        }
        Ok(fresh)
    }

    /// Creates a client user; refused if its `clientUserId` is taken for this client.
    pub async fn create_client_user(
        &self,
        user: ClientUser,
    ) -> Result<ClientUser, ClientStoreError> {
        let raw = encode(&user)?;
        self.write(move |inner: &Inner| {
            inner
                .client_users
                .transaction(|t| {
                    if let Some(cuid) = &user.client_user_id {
                        let ik = key(b'C', &[&user.client_id, cuid]);
                        if t.get(&ik)?.is_some() {
                            return Err(ConflictableTransactionError::Abort(Refusal::Domain(
                                ClientStoreError::Exists,
                            )));
                        }
                        t.insert(ik, user.user_id.as_bytes())?;
                    }
                    t.insert(key(b'U', &[&user.client_id, &user.user_id]), raw.as_slice())?;
                    Ok(())
                })
                .map_err(txn_error)?;
            Ok(user)
        })
        .await
    }

    /// A client's user.
    pub fn client_user(
        &self,
        client: &str,
        user_id: &str,
    ) -> Result<Option<ClientUser>, StoreError> {
        self.inner
            .client_users
            .get(key(b'U', &[client, user_id]))?
            .map(|raw| decode(&raw, "client user"))
            .transpose()
    }

    /// A page of a client's users that are not deleted, optionally only the one with
    /// `client_user_id`; returns the page and the total.
    pub fn client_users(
        &self,
        client: &str,
        client_user_id: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ClientUser>, usize), StoreError> {
        let mut all = Vec::new();
        for item in self
            .inner
            .client_users
            .scan_prefix(key(b'U', &[client]))
            .values()
        {
            let u: ClientUser = decode(&item?, "client user")?;
            if u.deleted_at.is_none()
                && client_user_id.is_none_or(|c| u.client_user_id.as_deref() == Some(c))
            {
                all.push(u);
            }
        }
        all.sort_by(|a, b| (&a.created_at, &a.user_id).cmp(&(&b.created_at, &b.user_id)));
        let total = all.len();
        Ok((all.into_iter().skip(offset).take(limit).collect(), total))
    }

    /// Applies `change` to a client's user and stores it.
    pub async fn update_client_user<F>(
        &self,
        client: &str,
        user_id: &str,
        change: F,
    ) -> Result<ClientUser, ClientStoreError>
    where
        F: Fn(&mut ClientUser) -> Result<(), ClientStoreError> + Send + 'static,
    {
        let k = key(b'U', &[client, user_id]);
        self.write(move |inner: &Inner| {
            inner
                .client_users
                .transaction(|t| {
                    let Some(raw) = t.get(&k)? else {
                        return Err(ConflictableTransactionError::Abort(Refusal::Domain(
                            ClientStoreError::NotFound,
                        )));
                    };
                    let mut u: ClientUser = decode(&raw, "client user")
                        .map_err(|e| ConflictableTransactionError::Abort(Refusal::Store(e)))?;
                    change(&mut u)
                        .map_err(|e| ConflictableTransactionError::Abort(Refusal::Domain(e)))?;
                    t.insert(
                        k.as_slice(),
                        encode(&u)
                            .map_err(|e| ConflictableTransactionError::Abort(Refusal::Store(e)))?,
                    )?;
                    Ok(u)
                })
                .map_err(txn_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_ids_are_accepted_once_until_they_expire() {
        let store = Store::temporary().unwrap();
        assert!(store.use_assertion("c", "j1", 100, 50).unwrap());
        assert!(!store.use_assertion("c", "j1", 100, 60).unwrap());
        assert!(store.use_assertion("other", "j1", 100, 60).unwrap());
        // After expiry the id may be reused (its assertion could not be valid again anyway).
        assert!(store.use_assertion("c", "j1", 200, 101).unwrap());
    }
}
