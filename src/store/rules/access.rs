//! Account writes: the checks of [`crate::store::AccessStore`]'s writes, given the rows the
//! backend read in the write's transaction.
//!
//! Every write on an existing account checks, in this order: the account exists
//! ([`may_write`]), the caller's authorising view is still held ([`may_write`]), then what the
//! write itself needs: a grant's row limit ([`rows_to_grant`]), a revoke's rows and the
//! account's last owner ([`check_revoke`]). `replace_views` grants before it revokes
//! ([`views_dropped`]), so keeping `owner` in the list never counts as losing it.
//!
//! Listings come in the ids' byte order ([`views_by_id`], [`ids_in_order`], [`rows_in_order`]),
//! whatever order a backend's keys (sled's are length-prefixed) or a database's collation give.

use crate::store::error::AccessError;
use crate::store::model::{AccessRow, OWNER, View};

/// Whether a write on an account may go on: the account exists (else
/// [`AccessError::AccountMissing`]), then, for a write on someone's authority
/// (`authority_held` is `Some`), that authority's view is still held (else
/// [`AccessError::AuthorityGone`]). `None`: a write on no one's authority (an admin's).
pub fn may_write(account_found: bool, authority_held: Option<bool>) -> Result<(), AccessError> {
    if !account_found {
        return Err(AccessError::AccountMissing);
    }
    if authority_held == Some(false) {
        return Err(AccessError::AuthorityGone);
    }
    Ok(())
}

/// The rows a grant of `views` adds, in order: each view the grantee does not hold yet
/// (`held`), once. The account has `rows` rows and may have at most `limit`: refused with
/// [`AccessError::RowLimit`] naming the first view that would go over.
pub fn rows_to_grant<'v>(
    views: &'v [String],
    held: &[String],
    rows: u64,
    limit: u64,
) -> Result<Vec<&'v String>, AccessError> {
    let mut added: Vec<&String> = Vec::new();
    for view in views {
        if held.contains(view) || added.contains(&view) {
            continue;
        }
        let count = rows.saturating_add(u64::try_from(added.len()).unwrap_or(u64::MAX));
        if count >= limit {
            return Err(AccessError::RowLimit(view.clone()));
        }
        added.push(view);
    }
    Ok(added)
}

/// How many of `views` are `owner`.
pub fn owners_in<V: AsRef<str>>(views: &[V]) -> u64 {
    let n = views.iter().filter(|v| v.as_ref() == OWNER).count();
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Checks a revoke of `views` from a user who holds `held` (of those views) on an account with
/// `owners` owner rows: each view must be held, in order, and a view listed twice is gone the
/// second time ([`AccessError::NoSuchAccess`]); then the account must keep an owner
/// ([`AccessError::LastOwner`]).
pub fn check_revoke(views: &[String], held: &[String], owners: u64) -> Result<(), AccessError> {
    let mut removed: Vec<&String> = Vec::new();
    for view in views {
        if !held.contains(view) || removed.contains(&view) {
            return Err(AccessError::NoSuchAccess(view.clone()));
        }
        removed.push(view);
    }
    let lost = owners_in(&removed);
    if lost > 0 && owners.saturating_sub(lost) == 0 {
        return Err(AccessError::LastOwner);
    }
    Ok(())
}

/// The views of `held` that a `replace_views` to `wanted` revokes (after granting `wanted`).
pub fn views_dropped(held: &[String], wanted: &[String]) -> Vec<String> {
    held.iter()
        .filter(|v| !wanted.contains(v))
        .cloned()
        .collect()
}

/// Custom views as listed: by id, in the ids' byte order (not a backend's key order or a
/// database's collation).
pub fn views_by_id(mut views: Vec<View>) -> Vec<View> {
    views.sort_by(|a, b| a.id.cmp(&b.id));
    views
}

/// View ids as listed: in byte order.
pub fn ids_in_order(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// Access rows as listed: by bank, then account, then view id, each in byte order.
pub fn rows_in_order(mut rows: Vec<AccessRow>) -> Vec<AccessRow> {
    rows.sort_by(|a, b| {
        (&a.bank_id, &a.account_id, &a.view_id).cmp(&(&b.bank_id, &b.account_id, &b.view_id))
    });
    rows
}
