//! Accounts, custom views and account-access rows.
//!
//! Trees and keys (each part length-prefixed, see [`key`]):
//! - `accounts`: (bank, account) -> JSON [`Account`];
//! - `views`: (bank, account, view) -> JSON [`View`] (custom views only; system views are code);
//! - `access`: `u`(user, bank, account, view) -> empty, one row per grant;
//!   `n`(bank, account) -> number of `owner` rows; `c`(bank, account) -> number of rows.
//!
//! Every write is one transaction that re-reads the counters it relies on, so two concurrent
//! revokes cannot both remove "the other" owner, and a crash never leaves half a grant.

use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionalTree,
};

use async_trait::async_trait;

use super::db::{
    Inner, Refusal, SledStore, decode, decode_user, encode, new_dauth_user, txn_error, user_in_txn,
};
use super::keys::{identity_key, key, parts};
use crate::store::AccessStore;
use crate::store::error::{AccessError, StoreError};
use crate::store::model::{AccessRow, Account, Authority, Grantee, OWNER, User, UserKind, View};
use crate::store::rules::access as rules;

type TxnResult<T> = ConflictableTransactionResult<T, Refusal<AccessError>>;

fn refuse<T>(e: AccessError) -> TxnResult<T> {
    Err(ConflictableTransactionError::Abort(Refusal::Domain(e)))
}

fn counter(tree: &TransactionalTree, k: &[u8]) -> TxnResult<u64> {
    Ok(tree.get(k)?.map_or(0, |v| {
        v.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0)
    }))
}

fn set_counter(tree: &TransactionalTree, k: &[u8], value: u64) -> TxnResult<()> {
    tree.insert(k, value.to_be_bytes().to_vec())?;
    Ok(())
}

/// The `access` key of `user`'s row for `view` on an account.
fn row_key(user: &str, bank: &str, account: &str, view: &str) -> Vec<u8> {
    key(b'u', &[user, bank, account, view])
}

/// Inside a transaction: those of `views` that `user` holds on an account.
fn held_among(
    access: &TransactionalTree,
    bank: &str,
    account: &str,
    user: &str,
    views: &[String],
) -> TxnResult<Vec<String>> {
    let mut held = Vec::new();
    for view in views {
        if access.get(row_key(user, bank, account, view))?.is_some() {
            held.push(view.clone());
        }
    }
    Ok(held)
}

/// Inside a transaction: adds rows for `views` unless present ([`rules::rows_to_grant`]),
/// keeping the counters.
fn grant_rows(
    access: &TransactionalTree,
    bank: &str,
    account: &str,
    user: &str,
    views: &[String],
    limit: u64,
) -> TxnResult<()> {
    let (rows_key, owners_key) = (key(b'c', &[bank, account]), key(b'n', &[bank, account]));
    let (rows, owners) = (counter(access, &rows_key)?, counter(access, &owners_key)?);
    let held = held_among(access, bank, account, user, views)?;
    let added = rules::rows_to_grant(views, &held, rows, limit).or_else(refuse)?;
    for view in &added {
        access.insert(row_key(user, bank, account, view), Vec::new())?;
    }
    let count = u64::try_from(added.len()).unwrap_or(u64::MAX);
    set_counter(access, &rows_key, rows.saturating_add(count))?;
    set_counter(
        access,
        &owners_key,
        owners.saturating_add(rules::owners_in(&added)),
    )
}

/// Inside a transaction: removes the rows for `views` ([`rules::check_revoke`]), keeping the
/// counters.
fn revoke_rows(
    access: &TransactionalTree,
    bank: &str,
    account: &str,
    user: &str,
    views: &[String],
) -> TxnResult<()> {
    let (rows_key, owners_key) = (key(b'c', &[bank, account]), key(b'n', &[bank, account]));
    let (rows, owners) = (counter(access, &rows_key)?, counter(access, &owners_key)?);
    let held = held_among(access, bank, account, user, views)?;
    rules::check_revoke(views, &held, owners).or_else(refuse)?;
    for view in views {
        access.remove(row_key(user, bank, account, view))?;
    }
    let count = u64::try_from(views.len()).unwrap_or(u64::MAX);
    set_counter(access, &rows_key, rows.saturating_sub(count))?;
    set_counter(
        access,
        &owners_key,
        owners.saturating_sub(rules::owners_in(views)),
    )
}

/// Inside a transaction: whether a write on an account may go on ([`rules::may_write`]).
fn may_write(
    accounts: &TransactionalTree,
    access: &TransactionalTree,
    bank: &str,
    account: &str,
    by: Option<&Authority>,
) -> TxnResult<()> {
    let found = accounts.get(key(b'A', &[bank, account]))?.is_some();
    let held = match by {
        Some(a) if found => Some(
            access
                .get(row_key(&a.user_id, bank, account, &a.view_id))?
                .is_some(),
        ),
        _ => None,
    };
    rules::may_write(found, held).or_else(refuse)
}

#[async_trait]
impl AccessStore for SledStore {
    async fn account(&self, bank: &str, account: &str) -> Result<Option<Account>, StoreError> {
        self.inner
            .accounts
            .get(key(b'A', &[bank, account]))?
            .map(|raw| decode(&raw, "account"))
            .transpose()
    }

    async fn bank_exists(&self, bank: &str) -> Result<bool, StoreError> {
        Ok(self
            .inner
            .accounts
            .scan_prefix(key(b'A', &[bank]))
            .next()
            .transpose()?
            .is_some())
    }

    async fn custom_view(
        &self,
        bank: &str,
        account: &str,
        view: &str,
    ) -> Result<Option<View>, StoreError> {
        self.inner
            .views
            .get(key(b'V', &[bank, account, view]))?
            .map(|raw| decode(&raw, "view"))
            .transpose()
    }

    async fn custom_views(&self, bank: &str, account: &str) -> Result<Vec<View>, StoreError> {
        self.inner
            .views
            .scan_prefix(key(b'V', &[bank, account]))
            .map(|item| {
                item.map_err(StoreError::from)
                    .and_then(|(_, raw)| decode(&raw, "view"))
            })
            .collect::<Result<_, _>>()
            .map(rules::views_by_id)
    }

    async fn views_held(
        &self,
        user: &str,
        bank: &str,
        account: &str,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = key(b'u', &[user, bank, account]);
        self.inner
            .access
            .scan_prefix(&prefix)
            .keys()
            .map(|k| Ok(parts(&k?[1..]).pop().unwrap_or_default()))
            .collect::<Result<_, _>>()
            .map(rules::ids_in_order)
    }

    async fn access_of(&self, user: &str) -> Result<Vec<AccessRow>, StoreError> {
        self.inner
            .access
            .scan_prefix(key(b'u', &[user]))
            .keys()
            .map(|k| {
                let p = parts(&k?[1..]);
                let get = |i: usize| p.get(i).cloned().unwrap_or_default();
                Ok(AccessRow {
                    bank_id: get(1),
                    account_id: get(2),
                    view_id: get(3),
                })
            })
            .collect::<Result<_, _>>()
            .map(rules::rows_in_order)
    }

    async fn create_account(
        &self,
        bank: &str,
        account: &str,
        label: &str,
        holder: &str,
        now: i64,
    ) -> Result<Account, AccessError> {
        let record = Account {
            bank_id: bank.to_owned(),
            account_id: account.to_owned(),
            label: label.to_owned(),
            created_by: holder.to_owned(),
            created_at: now,
        };
        let encoded = encode(&record)?;
        let holder = holder.to_owned();
        self.write(move |inner: &Inner| {
            if inner
                .users
                .get(holder.as_bytes())
                .map_err(StoreError::from)?
                .is_none()
            {
                return Err(AccessError::UserMissing);
            }
            let (b, a) = (record.bank_id.as_str(), record.account_id.as_str());
            (&inner.accounts, &inner.access)
                .transaction(|(accounts, access)| {
                    let k = key(b'A', &[b, a]);
                    if accounts.get(&k)?.is_some() {
                        return refuse(AccessError::AccountExists);
                    }
                    accounts.insert(k, encoded.as_slice())?;
                    grant_rows(access, b, a, &holder, &[OWNER.to_owned()], u64::MAX)
                })
                .map_err(txn_error)?;
            Ok(record)
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
        let encoded = encode(&view)?;
        let (bank, account) = (bank.to_owned(), account.to_owned());
        self.write(move |inner: &Inner| {
            (&inner.accounts, &inner.views, &inner.access)
                .transaction(|(accounts, views, access)| {
                    may_write(accounts, access, &bank, &account, Some(&by))?;
                    let k = key(b'V', &[&bank, &account, &view.id]);
                    if views.get(&k)?.is_some() {
                        return refuse(AccessError::ViewExists);
                    }
                    views.insert(k, encoded.as_slice())?;
                    Ok(())
                })
                .map_err(txn_error)?;
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
        let (bank, account) = (bank.to_owned(), account.to_owned());
        let (identity, fresh) = match &to {
            Grantee::Dauth { network, address } => {
                let u = new_dauth_user(network, address, now);
                (
                    Some(identity_key(UserKind::Dauth, network, address)),
                    Some((encode(&u)?, u)),
                )
            }
            Grantee::User(_) => (None, None),
        };
        self.write(move |inner: &Inner| {
            let trees = (
                &inner.accounts,
                &inner.access,
                &inner.identities,
                &inner.users,
            );
            let user_raw = trees
                .transaction(|(accounts, access, ids, users)| {
                    may_write(accounts, access, &bank, &account, by.as_ref())?;
                    let raw = match (&to, &identity, &fresh) {
                        (Grantee::User(id), _, _) => match users.get(id.as_bytes())? {
                            Some(raw) => raw,
                            None => return refuse(AccessError::UserMissing),
                        },
                        (Grantee::Dauth { .. }, Some(k), Some((encoded, u))) => {
                            match user_in_txn::<AccessError>(ids, users, k, u, encoded)? {
                                Some(existing) => existing,
                                None => encoded.as_slice().into(),
                            }
                        }
                        _ => {
                            return Err(ConflictableTransactionError::Abort(Refusal::Store(
                                StoreError::Dangling,
                            )));
                        }
                    };
                    let user: User = decode_user(&raw)
                        .map_err(|e| ConflictableTransactionError::Abort(Refusal::Store(e)))?;
                    grant_rows(access, &bank, &account, &user.user_id, &views, limit)?;
                    Ok(raw)
                })
                .map_err(txn_error)?;
            Ok(decode_user(&user_raw)?)
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
        let (bank, account, user, view) = (
            bank.to_owned(),
            account.to_owned(),
            user.to_owned(),
            view.to_owned(),
        );
        self.write(move |inner: &Inner| {
            (&inner.accounts, &inner.access)
                .transaction(|(accounts, access)| {
                    may_write(accounts, access, &bank, &account, by.as_ref())?;
                    revoke_rows(access, &bank, &account, &user, std::slice::from_ref(&view))
                })
                .map_err(txn_error)
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
        let held = self.views_held(user, bank, account).await?;
        let (bank, account, user) = (bank.to_owned(), account.to_owned(), user.to_owned());
        self.write(move |inner: &Inner| {
            (&inner.accounts, &inner.access)
                .transaction(|(accounts, access)| {
                    may_write(accounts, access, &bank, &account, None)?;
                    // Grant first so keeping `owner` in the list never counts as losing it.
                    grant_rows(access, &bank, &account, &user, &views, limit)?;
                    let dropped = rules::views_dropped(&held, &views);
                    revoke_rows(access, &bank, &account, &user, &dropped)
                })
                .map_err(txn_error)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
