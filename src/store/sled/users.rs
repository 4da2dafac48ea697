//! Users: the `users` tree (`user_id` -> JSON [`User`]) and the `identities` index
//! ([`identity_key`] -> `user_id`), and the backend's lifecycle.

use async_trait::async_trait;

use super::db::{SledStore, claim_dauth_user, decode_user, new_dauth_user};
use super::keys::identity_key;
use crate::store::error::StoreError;
use crate::store::model::{User, UserKind};
use crate::store::{Backend, UserStore};

#[async_trait]
impl UserStore for SledStore {
    async fn get_or_create_dauth_user(
        &self,
        network: &str,
        address: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let key = identity_key(UserKind::Dauth, network, address);
        if let Some(user) = self.lookup(&key)? {
            self.await_pending_writes().await?;
            return Ok(user);
        }
        let fresh = new_dauth_user(network, address, now);
        self.write(move |inner| claim_dauth_user(inner, &key, fresh))
            .await
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.inner
            .users
            .get(user_id.as_bytes())?
            .map(|raw| decode_user(&raw))
            .transpose()
    }
}

impl SledStore {
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
}

#[async_trait]
impl Backend for SledStore {
    async fn check_writable(&self, now: i64) -> Result<(), StoreError> {
        self.inner
            .db
            .insert("meta/last_start", now.to_be_bytes().to_vec())?;
        SledStore::flush(self).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        SledStore::flush(self).await
    }
}

#[cfg(test)]
mod tests;
