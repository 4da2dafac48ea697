//! Service clients (`clients`) and the users each manages (`client_users`).
//!
//! Adding or removing a client sends `NOTIFY dauth_clients` in the same transaction, so every
//! replica re-reads the registry when it commits (`notify`).
//!
//! Listings sort `COLLATE "C"`: in byte order, as sled lists them, whatever the database's
//! collation.

use async_trait::async_trait;

use super::db::{PgStore, from_doc, is_unique_violation, to_doc};
use super::notify::CHANNEL;
use crate::store::error::{ClientStoreError, StoreError};
use crate::store::model::{ClientUser, StoredClient};
use crate::store::{ClientStore, ClientUserChange};

#[async_trait]
impl ClientStore for PgStore {
    async fn stored_clients(&self) -> Result<Vec<StoredClient>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query(
                "SELECT doc FROM clients ORDER BY client_id COLLATE \"C\"",
                &[],
            )
            .await?
            .iter()
            .map(|r| from_doc(r.try_get(0)?, "client"))
            .collect()
        })
        .await
    }

    async fn add_client(&self, client: StoredClient) -> Result<(), ClientStoreError> {
        let doc = to_doc(&client)?;
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let n = tx
                .execute(
                    "INSERT INTO clients (client_id, doc) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&client.client_id, &doc],
                )
                .await?;
            if n == 0 {
                return Err(ClientStoreError::Exists);
            }
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &client.client_id])
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, ClientStoreError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let n = tx
                .execute("DELETE FROM clients WHERE client_id = $1", &[&client_id])
                .await?;
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &client_id])
                .await?;
            tx.commit().await?;
            Ok(n > 0)
        })
        .await
    }

    async fn create_client_user(&self, user: ClientUser) -> Result<ClientUser, ClientStoreError> {
        let doc = to_doc(&user)?;
        self.bounded(async {
            let c = self.pool.get().await?;
            let inserted = c
                .execute(
                    "INSERT INTO client_users (client_id, user_id, client_user_id, created_at, doc) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &user.client_id,
                        &user.user_id,
                        &user.client_user_id,
                        &user.created_at,
                        &doc,
                    ],
                )
                .await;
            match inserted {
                Ok(_) => Ok(user.clone()),
                Err(e) if is_unique_violation(&e) => Err(ClientStoreError::Exists),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn client_user(
        &self,
        client: &str,
        user_id: &str,
    ) -> Result<Option<ClientUser>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query_opt(
                "SELECT doc FROM client_users WHERE client_id = $1 AND user_id = $2",
                &[&client, &user_id],
            )
            .await?
            .map(|r| from_doc(r.try_get(0)?, "client user"))
            .transpose()
        })
        .await
    }

    async fn client_users(
        &self,
        client: &str,
        client_user_id: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ClientUser>, usize), StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let rows = c
                .query(
                    "SELECT doc FROM client_users WHERE client_id = $1 \
                     AND ($2::text IS NULL OR client_user_id = $2) \
                     AND doc->>'deletedAt' IS NULL \
                     ORDER BY created_at COLLATE \"C\", user_id COLLATE \"C\"",
                    &[&client, &client_user_id],
                )
                .await?;
            let all: Vec<ClientUser> = rows
                .iter()
                .map(|r| from_doc(r.try_get(0)?, "client user"))
                .collect::<Result<_, _>>()?;
            let total = all.len();
            Ok((all.into_iter().skip(offset).take(limit).collect(), total))
        })
        .await
    }

    async fn update_client_user(
        &self,
        client: &str,
        user_id: &str,
        change: ClientUserChange,
    ) -> Result<ClientUser, ClientStoreError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let row = tx
                .query_opt(
                    "SELECT doc FROM client_users WHERE client_id = $1 AND user_id = $2 \
                     FOR UPDATE",
                    &[&client, &user_id],
                )
                .await?
                .ok_or(ClientStoreError::NotFound)?;
            let mut u: ClientUser =
                from_doc(row.try_get(0).map_err(StoreError::from)?, "client user")?;
            change(&mut u)?;
            tx.execute(
                "UPDATE client_users SET doc = $3, client_user_id = $4 \
                 WHERE client_id = $1 AND user_id = $2",
                &[&client, &user_id, &to_doc(&u)?, &u.client_user_id],
            )
            .await?;
            tx.commit().await?;
            Ok(u)
        })
        .await
    }
}
