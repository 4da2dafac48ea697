//! Service clients: stored registrations and the users each client manages.
//!
//! Trees and keys:
//! - `clients`: client id -> JSON [`StoredClient`];
//! - `client_users`: `U`(client, user id) -> JSON [`ClientUser`]; `C`(client, clientUserId) ->
//!   user id, so a client's own ids are unique per client.

use sled::transaction::ConflictableTransactionError;

use async_trait::async_trait;

use super::db::{Inner, Refusal, SledStore, decode, encode, txn_error};
use super::keys::key;
use crate::store::error::{ClientStoreError, StoreError};
use crate::store::model::{ClientUser, StoredClient};
use crate::store::{ClientStore, ClientUserChange};

#[async_trait]
impl ClientStore for SledStore {
    async fn stored_clients(&self) -> Result<Vec<StoredClient>, StoreError> {
        self.inner
            .clients
            .iter()
            .values()
            .map(|v| decode(&v?, "client"))
            .collect()
    }

    async fn add_client(&self, client: StoredClient) -> Result<(), ClientStoreError> {
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
            // Not an error: the compare-and-swap found the id taken.
            swapped.map_err(|_| ClientStoreError::Exists)
        })
        .await
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, ClientStoreError> {
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

    async fn create_client_user(&self, user: ClientUser) -> Result<ClientUser, ClientStoreError> {
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

    async fn client_user(
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

    async fn client_users(
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

    async fn update_client_user(
        &self,
        client: &str,
        user_id: &str,
        change: ClientUserChange,
    ) -> Result<ClientUser, ClientStoreError> {
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
