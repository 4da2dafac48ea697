//! Password users: profiles, login names, one-time codes and refresh-token families.
//!
//! Trees and keys:
//! - `identities`: (Local, "email", email) and (Local, "username", name) -> user id;
//! - `profiles`: user id -> JSON [`Profile`];
//! - `codes`: `c`(digest) -> user id, the confirmation-code index;
//! - `refresh`: `F`(family) -> JSON [`Family`]; `u`(user, family) -> empty, to revoke a user's
//!   families at once.
//!
//! A refresh family is one login: every refresh rotates its current token id, and presenting a
//! token the family already rotated past ends the family (RFC 6819 5.2.2.3 reuse detection).

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use async_trait::async_trait;

use super::db::{Inner, Refusal, SledStore, decode, decode_user, encode, txn_error};
use super::keys::{identity_key, key, parts};
use crate::store::error::{LocalError, StoreError};
use crate::store::model::{LoginAttempt, Profile, User, UserKind};
use crate::store::rules::local::{self as rules, LoginName};
use crate::store::{PasswordStore, ProfileChange, UserStore};

/// One login's refresh-token chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Family {
    user_id: String,
    jti: String,
    expires_at: i64,
}

/// The `identities` key of a login name.
fn name_key(n: &LoginName) -> Vec<u8> {
    identity_key(UserKind::Local, n.kind.as_str(), &n.name)
}

fn abort<T>(e: LocalError) -> Result<T, ConflictableTransactionError<Refusal<LocalError>>> {
    Err(ConflictableTransactionError::Abort(Refusal::Domain(e)))
}

fn decode_profile(raw: &[u8]) -> Result<Profile, StoreError> {
    decode(raw, "profile")
}

fn store_abort(e: StoreError) -> ConflictableTransactionError<Refusal<LocalError>> {
    ConflictableTransactionError::Abort(Refusal::Store(e))
}

/// Inside a transaction: points `new` login names at `user_id` and drops the `old` ones
/// `new` no longer claims, refused ([`rules::claim`]) if another user holds one.
fn index_names(
    ids: &TransactionalTree,
    user_id: &str,
    old: Option<&Profile>,
    new: &Profile,
) -> Result<(), ConflictableTransactionError<Refusal<LocalError>>> {
    let names = rules::login_names(new);
    for n in &names {
        let holder = ids.get(name_key(n))?;
        let holder = holder.as_ref().map(|v| String::from_utf8_lossy(v));
        if let Err(e) = rules::claim(n, holder.as_deref(), user_id) {
            return abort(e);
        }
    }
    for n in old
        .map(|old| rules::names_dropped(old, new))
        .unwrap_or_default()
    {
        ids.remove(name_key(&n))?;
    }
    for n in &names {
        ids.insert(name_key(n), user_id.as_bytes())?;
    }
    Ok(())
}

#[async_trait]
impl PasswordStore for SledStore {
    async fn create_local_user(
        &self,
        profile: Profile,
        created_by: Option<String>,
        now: i64,
    ) -> Result<(User, Profile), LocalError> {
        let (user, profile) = rules::new_local_user(profile, created_by, now);
        let (user_raw, profile_raw) = (encode(&user)?, encode(&profile)?);
        self.write(move |inner: &Inner| {
            (
                &inner.identities,
                &inner.users,
                &inner.profiles,
                &inner.codes,
            )
                .transaction(|(ids, users, profiles, codes)| {
                    index_names(ids, &user.user_id, None, &profile)?;
                    users.insert(user.user_id.as_bytes(), user_raw.as_slice())?;
                    profiles.insert(user.user_id.as_bytes(), profile_raw.as_slice())?;
                    if let Some(code) = &profile.confirm_code {
                        codes.insert(key(b'c', &[&code.digest]), user.user_id.as_bytes())?;
                    }
                    Ok(())
                })
                .map_err(txn_error)?;
            Ok((user, profile))
        })
        .await
    }

    async fn local_user_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Profile)>, StoreError> {
        let id = match self
            .inner
            .identities
            .get(name_key(&LoginName::email(login)))?
        {
            Some(id) => Some(id),
            None => self
                .inner
                .identities
                .get(name_key(&LoginName::username(login)))?,
        };
        let Some(id) = id else { return Ok(None) };
        let user = self
            .inner
            .users
            .get(&id)?
            .map(|raw| decode_user(&raw))
            .transpose()?;
        let profile = self
            .inner
            .profiles
            .get(&id)?
            .map(|raw| decode_profile(&raw))
            .transpose()?;
        Ok(user.zip(profile))
    }

    async fn profile(&self, user_id: &str) -> Result<Option<Profile>, StoreError> {
        self.inner
            .profiles
            .get(user_id.as_bytes())?
            .map(|raw| decode_profile(&raw))
            .transpose()
    }

    async fn update_profile(
        &self,
        user_id: &str,
        durable: bool,
        change: ProfileChange,
        now: i64,
    ) -> Result<Profile, LocalError> {
        let user_id = user_id.to_owned();
        let op = move |inner: &Inner| -> Result<Profile, LocalError> {
            (&inner.profiles, &inner.identities)
                .transaction(|(profiles, ids)| {
                    let Some(raw) = profiles.get(user_id.as_bytes())? else {
                        return abort(LocalError::NotFound);
                    };
                    let old = decode_profile(&raw).map_err(store_abort)?;
                    let new = match rules::changed(&old, &change, now) {
                        Ok(new) => new,
                        Err(e) => return abort(e),
                    };
                    if rules::names_changed(&old, &new) {
                        index_names(ids, &user_id, Some(&old), &new)?;
                    }
                    profiles.insert(user_id.as_bytes(), encode(&new).map_err(store_abort)?)?;
                    Ok(new)
                })
                .map_err(txn_error)
        };
        if durable {
            self.write(op).await
        } else {
            op(&self.inner)
        }
    }

    async fn confirm(&self, digest: &str, now: i64) -> Result<(User, Profile), LocalError> {
        let code_key = key(b'c', &[digest]);
        let user_id = self
            .inner
            .codes
            .get(&code_key)
            .map_err(StoreError::from)?
            .ok_or(LocalError::NotFound)?;
        let user_id = String::from_utf8_lossy(&user_id).into_owned();
        let profile = self
            .update_profile(&user_id, true, rules::confirmation(digest, now), now)
            .await?;
        self.inner
            .codes
            .remove(code_key)
            .map_err(StoreError::from)?;
        let user = self
            .user_by_id(&user_id)
            .await?
            .ok_or(LocalError::NotFound)?;
        Ok((user, profile))
    }

    async fn start_refresh_family(
        &self,
        user_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<String, LocalError> {
        let family = uuid::Uuid::new_v4().to_string();
        let record = encode(&Family {
            user_id: user_id.to_owned(),
            jti: jti.to_owned(),
            expires_at,
        })?;
        let (user_id, fam) = (user_id.to_owned(), family.clone());
        self.write(move |inner: &Inner| {
            inner
                .refresh
                .insert(key(b'F', &[&fam]), record)
                .map_err(StoreError::from)?;
            inner
                .refresh
                .insert(key(b'u', &[&user_id, &fam]), Vec::new())
                .map_err(StoreError::from)?;
            Ok::<_, LocalError>(())
        })
        .await?;
        Ok(family)
    }

    async fn rotate_refresh(
        &self,
        family: &str,
        jti: &str,
        next: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String, LocalError> {
        let (family, jti, next) = (family.to_owned(), jti.to_owned(), next.to_owned());
        self.write(move |inner: &Inner| {
            let fk = key(b'F', &[&family]);
            let outcome = inner
                .refresh
                .transaction(|t| {
                    let Some(raw) = t.get(&fk)? else {
                        return abort(LocalError::NotFound);
                    };
                    let mut fam: Family = serde_json::from_slice(&raw).map_err(|source| {
                        store_abort(StoreError::Corrupt {
                            what: "refresh family",
                            source,
                        })
                    })?;
                    if fam.jti != jti || fam.expires_at <= now {
                        t.remove(fk.as_slice())?;
                        t.remove(key(b'u', &[&fam.user_id, &family]))?;
                        return Ok(Err(fam.user_id));
                    }
                    fam.jti = next.clone();
                    fam.expires_at = expires_at;
                    t.insert(fk.as_slice(), encode(&fam).map_err(store_abort)?)?;
                    Ok(Ok(fam.user_id))
                })
                .map_err(txn_error)?;
            // Not an error: the transaction ended a family presented with a stale token id.
            outcome.map_err(|_| LocalError::RefreshReused)
        })
        .await
    }

    async fn revoke_refresh_families(&self, user_id: &str) -> Result<(), LocalError> {
        let prefix = key(b'u', &[user_id]);
        let keys: Vec<sled::IVec> = self
            .inner
            .refresh
            .scan_prefix(&prefix)
            .keys()
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?;
        self.write(move |inner: &Inner| {
            for k in keys {
                if let Some(fam) = parts(&k[1..]).pop() {
                    inner
                        .refresh
                        .remove(key(b'F', &[&fam]))
                        .map_err(StoreError::from)?;
                }
                inner.refresh.remove(k).map_err(StoreError::from)?;
            }
            Ok::<_, LocalError>(())
        })
        .await
    }

    async fn begin_login(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        self.count_attempt(user_id, max, lockout_secs, now).await
    }

    async fn fail_login(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        self.count_failure(user_id, max, lockout_secs, now).await
    }

    async fn succeed_login(
        &self,
        user_id: &str,
        new_hash: Option<String>,
        now: i64,
    ) -> Result<Result<Profile, LoginAttempt>, LocalError> {
        self.count_success(user_id, new_hash, now).await
    }
}

#[cfg(test)]
mod tests;
