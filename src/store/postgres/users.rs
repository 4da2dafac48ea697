//! Users (`users`), the DAuth get-or-create, and the backend's lifecycle.

use async_trait::async_trait;
use tokio_postgres::types::ToSql;

use super::db::PgStore;
use super::rows::user_of;
use crate::store::error::StoreError;
use crate::store::model::User;
use crate::store::{Backend, UserStore};

const SELECT_DAUTH: &str = "SELECT user_id, kind, provider, username, created_at FROM users \
                            WHERE kind = 'dauth' AND provider = $1 AND username = $2";
const INSERT_DAUTH: &str = "INSERT INTO users (user_id, kind, provider, username, created_at) \
                            VALUES ($1, 'dauth', $2, $3, $4) \
                            ON CONFLICT (provider, username) WHERE kind = 'dauth' DO NOTHING \
                            RETURNING user_id, kind, provider, username, created_at";

/// Inside a transaction or on a connection: the DAuth user for (network, address), created
/// (dated `now`) if missing. `SELECT`, then `INSERT ... ON CONFLICT DO NOTHING RETURNING`, then
/// `SELECT` again when another writer won the race (its row is committed by then: the insert
/// waited for it).
pub(super) async fn dauth_user<C: tokio_postgres::GenericClient + Sync>(
    c: &C,
    network: &str,
    address: &str,
    now: i64,
) -> Result<User, StoreError> {
    if let Some(row) = c.query_opt(SELECT_DAUTH, &[&network, &address]).await? {
        return user_of(&row);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let params: [&(dyn ToSql + Sync); 4] = [&id, &network, &address, &now];
    if let Some(row) = c.query_opt(INSERT_DAUTH, &params).await? {
        return user_of(&row);
    }
    match c.query_opt(SELECT_DAUTH, &[&network, &address]).await? {
        Some(row) => user_of(&row),
        None => Err(StoreError::Dangling),
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn get_or_create_dauth_user(
        &self,
        network: &str,
        address: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let wanted = super::onboard::Wanted {
            network: network.to_owned(),
            address: address.to_owned(),
            now,
        };
        self.bounded(self.dauth_users.call(wanted))
            .await?
            .ok_or(StoreError::Dangling)
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let s = c
                .prepare_cached(
                    "SELECT user_id, kind, provider, username, created_at FROM users \
                     WHERE user_id = $1",
                )
                .await?;
            c.query_opt(&s, &[&user_id])
                .await?
                .map(|r| user_of(&r))
                .transpose()
        })
        .await
    }
}

impl PgStore {
    /// Number of users stored.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            Ok(c.query_one("SELECT count(*) FROM users", &[])
                .await?
                .try_get(0)?)
        })
        .await
    }
}

#[async_trait]
impl Backend for PgStore {
    async fn check_writable(&self, now: i64) -> Result<(), StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('last_start', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&now],
            )
            .await?;
            Ok(())
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every write is committed (synchronous_commit on) before its call returns.
        Ok(())
    }
}
