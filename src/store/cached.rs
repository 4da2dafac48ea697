//! The hot-user cache: a [`UserStore`] decorator that answers DAuth users already seen from
//! memory, so a hot caller's request does not touch the backend.
//!
//! Only what the inner store returned is cached, and the inner store returns a user only once
//! it is durable, so the cache never reveals a record that is not on disk. DAuth users never
//! change once created, so an entry never goes stale; the cache is bounded
//! ([`crate::cache::BoundedCache`]) and keyed by a digest of (network, address).

use std::sync::Arc;

use async_trait::async_trait;

use super::UserStore;
use super::error::StoreError;
use super::model::User;
use crate::cache::{BoundedCache, digest};

/// Any [`UserStore`] with its DAuth users cached.
pub(crate) struct HotUsers {
    inner: Arc<dyn UserStore>,
    hot: BoundedCache<User>,
}

impl HotUsers {
    /// `inner` with up to `capacity` DAuth users kept in memory (0: none).
    pub(crate) fn new(inner: Arc<dyn UserStore>, capacity: usize) -> Self {
        Self {
            inner,
            hot: BoundedCache::new(capacity),
        }
    }
}

#[async_trait]
impl UserStore for HotUsers {
    async fn get_or_create_dauth_user(
        &self,
        network: &str,
        address: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let key = digest(&[b"dauth-user", network.as_bytes(), address.as_bytes()]);
        if let Some(user) = self.hot.get(key, 0) {
            return Ok(user);
        }
        let user = self
            .inner
            .get_or_create_dauth_user(network, address, now)
            .await?;
        // Durable now (the inner store's contract): safe to answer from memory from here on.
        self.hot.insert(key, user.clone(), i64::MAX);
        Ok(user)
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.inner.user_by_id(user_id).await
    }
}
