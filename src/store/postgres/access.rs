//! Accounts, custom views and account-access rows (`accounts`, `custom_views`, `access`).
//!
//! Every write is one transaction that first locks the account row (`SELECT ... FOR UPDATE`),
//! then checks the caller's authority and re-counts the rows it relies on, so two replicas'
//! concurrent revokes cannot both remove "the other" owner, and a grant cannot ride on an
//! authority revoked at the same moment.

use async_trait::async_trait;
use tokio_postgres::Transaction;

use super::db::{PgStore, from_doc, to_doc};
use super::rows::user_of;
use super::users::dauth_user;
use crate::store::AccessStore;
use crate::store::error::{AccessError, StoreError};
use crate::store::model::{AccessRow, Account, Authority, Grantee, OWNER, User, View};
use crate::store::rules::access as rules;

/// Locks the account row, then checks the write may go on ([`rules::may_write`]).
async fn may_write(
    tx: &Transaction<'_>,
    bank: &str,
    account: &str,
    by: Option<&Authority>,
) -> Result<(), AccessError> {
    let found = tx
        .query_opt(
            "SELECT 1 FROM accounts WHERE bank_id = $1 AND account_id = $2 FOR UPDATE",
            &[&bank, &account],
        )
        .await?
        .is_some();
    let held = match by {
        Some(a) if found => Some(
            tx.query_opt(
                "SELECT 1 FROM access WHERE bank_id = $1 AND account_id = $2 \
                 AND user_id = $3 AND view_id = $4",
                &[&bank, &account, &a.user_id, &a.view_id],
            )
            .await?
            .is_some(),
        ),
        _ => None,
    };
    rules::may_write(found, held)
}

/// The views `user` holds on an account.
async fn held(
    tx: &Transaction<'_>,
    bank: &str,
    account: &str,
    user: &str,
) -> Result<Vec<String>, AccessError> {
    Ok(tx
        .query(
            "SELECT view_id FROM access WHERE bank_id = $1 AND account_id = $2 AND user_id = $3",
            &[&bank, &account, &user],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// The number of rows on an account, or with `view` only those for that view.
async fn count_rows(
    tx: &Transaction<'_>,
    bank: &str,
    account: &str,
    view: Option<&str>,
) -> Result<u64, AccessError> {
    let count: i64 = tx
        .query_one(
            "SELECT count(*) FROM access WHERE bank_id = $1 AND account_id = $2 \
             AND ($3::text IS NULL OR view_id = $3)",
            &[&bank, &account, &view],
        )
        .await?
        .try_get(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Adds rows for `views` unless present, at most `limit` rows on the account
/// ([`rules::rows_to_grant`]).
async fn grant_rows(
    tx: &Transaction<'_>,
    bank: &str,
    account: &str,
    user: &str,
    views: &[String],
    limit: u64,
) -> Result<(), AccessError> {
    let rows = count_rows(tx, bank, account, None).await?;
    let held = held(tx, bank, account, user).await?;
    for view in rules::rows_to_grant(views, &held, rows, limit)? {
        tx.execute(
            "INSERT INTO access (bank_id, account_id, user_id, view_id) VALUES ($1, $2, $3, $4)",
            &[&bank, &account, &user, view],
        )
        .await?;
    }
    Ok(())
}

/// Removes the rows for `views`, refusing a row not held and leaving the account without an
/// owner ([`rules::check_revoke`]).
async fn revoke_rows(
    tx: &Transaction<'_>,
    bank: &str,
    account: &str,
    user: &str,
    views: &[String],
) -> Result<(), AccessError> {
    let owners = count_rows(tx, bank, account, Some(OWNER)).await?;
    let held = held(tx, bank, account, user).await?;
    rules::check_revoke(views, &held, owners)?;
    for view in views {
        tx.execute(
            "DELETE FROM access WHERE bank_id = $1 AND account_id = $2 AND user_id = $3 \
             AND view_id = $4",
            &[&bank, &account, &user, view],
        )
        .await?;
    }
    Ok(())
}

fn account_of(row: &tokio_postgres::Row) -> Result<Account, StoreError> {
    Ok(Account {
        bank_id: row.try_get(0)?,
        account_id: row.try_get(1)?,
        label: row.try_get(2)?,
        created_by: row.try_get(3)?,
        created_at: row.try_get(4)?,
    })
}

#[async_trait]
impl AccessStore for PgStore {
    async fn account(&self, bank: &str, account: &str) -> Result<Option<Account>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query_opt(
                "SELECT bank_id, account_id, label, created_by, created_at FROM accounts \
                 WHERE bank_id = $1 AND account_id = $2",
                &[&bank, &account],
            )
            .await?
            .map(|r| account_of(&r))
            .transpose()
        })
        .await
    }

    async fn bank_exists(&self, bank: &str) -> Result<bool, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let row = c
                .query_opt(
                    "SELECT 1 FROM accounts WHERE bank_id = $1 LIMIT 1",
                    &[&bank],
                )
                .await?;
            Ok(row.is_some())
        })
        .await
    }

    async fn custom_view(
        &self,
        bank: &str,
        account: &str,
        view: &str,
    ) -> Result<Option<View>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query_opt(
                "SELECT doc FROM custom_views WHERE bank_id = $1 AND account_id = $2 \
                 AND view_id = $3",
                &[&bank, &account, &view],
            )
            .await?
            .map(|r| from_doc(r.try_get(0)?, "view"))
            .transpose()
        })
        .await
    }

    async fn custom_views(&self, bank: &str, account: &str) -> Result<Vec<View>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query(
                "SELECT doc FROM custom_views WHERE bank_id = $1 AND account_id = $2",
                &[&bank, &account],
            )
            .await?
            .iter()
            .map(|r| from_doc(r.try_get(0)?, "view"))
            .collect::<Result<_, _>>()
            .map(rules::views_by_id)
        })
        .await
    }

    async fn views_held(
        &self,
        user: &str,
        bank: &str,
        account: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query(
                "SELECT view_id FROM access WHERE user_id = $1 AND bank_id = $2 \
                 AND account_id = $3",
                &[&user, &bank, &account],
            )
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect::<Result<_, _>>()
            .map(rules::ids_in_order)
        })
        .await
    }

    async fn access_of(&self, user: &str) -> Result<Vec<AccessRow>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query(
                "SELECT bank_id, account_id, view_id FROM access WHERE user_id = $1",
                &[&user],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(AccessRow {
                    bank_id: r.try_get(0)?,
                    account_id: r.try_get(1)?,
                    view_id: r.try_get(2)?,
                })
            })
            .collect::<Result<_, _>>()
            .map(rules::rows_in_order)
        })
        .await
    }

    async fn create_account(
        &self,
        bank: &str,
        account: &str,
        label: &str,
        holder: &str,
        now: i64,
    ) -> Result<Account, AccessError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let user = tx
                .query_opt("SELECT 1 FROM users WHERE user_id = $1", &[&holder])
                .await?;
            if user.is_none() {
                return Err(AccessError::UserMissing);
            }
            let row = tx
                .query_opt(
                    "INSERT INTO accounts (bank_id, account_id, label, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING \
                     RETURNING bank_id, account_id, label, created_by, created_at",
                    &[&bank, &account, &label, &holder, &now],
                )
                .await?
                .ok_or(AccessError::AccountExists)?;
            grant_rows(&tx, bank, account, holder, &[OWNER.to_owned()], u64::MAX).await?;
            tx.commit().await?;
            Ok(account_of(&row)?)
        })
        .await
    }

    async fn create_custom_view(
        &self,
        bank: &str,
        account: &str,
        view: View,
        by: Authority,
    ) -> Result<View, AccessError> {
        let doc = to_doc(&view)?;
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            may_write(&tx, bank, account, Some(&by)).await?;
            let n = tx
                .execute(
                    "INSERT INTO custom_views (bank_id, account_id, view_id, doc) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&bank, &account, &view.id, &doc],
                )
                .await?;
            if n == 0 {
                return Err(AccessError::ViewExists);
            }
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    async fn grant(
        &self,
        bank: &str,
        account: &str,
        to: Grantee,
        views: Vec<String>,
        by: Option<Authority>,
        limit: u64,
        now: i64,
    ) -> Result<User, AccessError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            may_write(&tx, bank, account, by.as_ref()).await?;
            let user = match &to {
                Grantee::User(id) => tx
                    .query_opt(
                        "SELECT user_id, kind, provider, username, created_at FROM users \
                         WHERE user_id = $1",
                        &[id],
                    )
                    .await?
                    .map(|r| user_of(&r))
                    .transpose()?
                    .ok_or(AccessError::UserMissing)?,
                Grantee::Dauth { network, address } => {
                    dauth_user(&*tx, network, address, now).await?
                }
            };
            grant_rows(&tx, bank, account, &user.user_id, &views, limit).await?;
            tx.commit().await?;
            Ok(user)
        })
        .await
    }

    async fn revoke(
        &self,
        bank: &str,
        account: &str,
        user: &str,
        view: &str,
        by: Option<Authority>,
    ) -> Result<(), AccessError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            may_write(&tx, bank, account, by.as_ref()).await?;
            revoke_rows(&tx, bank, account, user, &[view.to_owned()]).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn replace_views(
        &self,
        bank: &str,
        account: &str,
        user: &str,
        views: Vec<String>,
        limit: u64,
    ) -> Result<(), AccessError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            may_write(&tx, bank, account, None).await?;
            let held = held(&tx, bank, account, user).await?;
            // Grant first so keeping `owner` in the list never counts as losing it.
            grant_rows(&tx, bank, account, user, &views, limit).await?;
            let dropped = rules::views_dropped(&held, &views);
            revoke_rows(&tx, bank, account, user, &dropped).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
