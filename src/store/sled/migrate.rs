//! One-time rewrites of records written by older versions, run when the store is opened.
//!
//! Each migration is idempotent and cheap when there is nothing to do (one prefix scan), so it
//! simply runs at every open; nothing records a schema version.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tracing::warn;

use super::db::{Inner, decode_user, encode};
use super::keys::{identity_key, kind_tag};
use crate::store::error::StoreError;
use crate::store::model::{UserKind, canonical_network};

/// Folds DAuth identities whose network name is not in canonical form (older versions kept
/// the `network_name` claim as sent, so `ethereum` and `ETHEREUM` were two users of one
/// contract) into the canonical key. When both spellings have a user, the earlier-created one
/// keeps the identity (on a tie, the one already under the canonical key); the other stays
/// readable by its id, and the fold is logged with both ids.
pub(super) fn fold_network_names(inner: &Inner) -> Result<usize, StoreError> {
    let mut folded = 0;
    for entry in inner.identities.scan_prefix([kind_tag(UserKind::Dauth)]) {
        let (key, user_id) = entry?;
        let Some((network, address)) = split_identity(&key[1..]) else {
            continue;
        };
        let canonical = canonical_network(network);
        if canonical == network {
            continue;
        }
        let new_key = identity_key(UserKind::Dauth, &canonical, address);
        (&inner.identities, &inner.users)
            .transaction(|(ids, users)| {
                let abort = |e| ConflictableTransactionError::Abort(e);
                let Some(raw) = users.get(&user_id)? else {
                    ids.remove(&*key)?;
                    return Ok(());
                };
                let mut user = decode_user(&raw).map_err(abort)?;
                let keep_mine = match ids.get(&new_key)? {
                    None => true,
                    Some(other_id) => match users.get(&other_id)? {
                        None => true,
                        Some(other) => {
                            let other = decode_user(&other).map_err(abort)?;
                            let mine_first = user.created_at < other.created_at;
                            warn!(
                                network = %canonical,
                                kept = if mine_first { &user.user_id } else { &other.user_id },
                                readable_by_id_only = if mine_first { &other.user_id } else { &user.user_id },
                                "two users of one contract under network names that differ in case; folded into one identity"
                            );
                            mine_first
                        }
                    },
                };
                if keep_mine {
                    user.provider.clone_from(&canonical);
                    users.insert(&user_id, encode(&user).map_err(abort)?)?;
                    ids.insert(new_key.as_slice(), &user_id)?;
                }
                ids.remove(&*key)?;
                Ok(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => e.into(),
            })?;
        folded += 1;
    }
    if folded > 0 {
        inner.db.flush()?;
    }
    Ok(folded)
}

/// The (provider, username) of an identity key made by [`identity_key`], without its tag.
fn split_identity(rest: &[u8]) -> Option<(&str, &str)> {
    let len = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
    let provider = std::str::from_utf8(rest.get(4..4 + len)?).ok()?;
    let username = std::str::from_utf8(rest.get(4 + len..)?).ok()?;
    Some((provider, username))
}
