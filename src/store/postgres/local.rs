//! Password users: profiles (`profiles`), login names (`login_names`), confirmation codes
//! (`codes`) and refresh-token families (`refresh_families`).
//!
//! A refresh family is one login: a rotation is one `UPDATE ... WHERE jti = $old RETURNING`,
//! and zero rows ends the family (RFC 6819 5.2.2.3 reuse detection), so a token already
//! rotated on one replica is reuse on every other.

use async_trait::async_trait;
use tokio_postgres::Transaction;

use super::db::{PgStore, from_doc, to_doc};
use super::rows::user_of;
use crate::store::error::{LocalError, StoreError};
use crate::store::model::{LoginAttempt, Profile, User};
use crate::store::rules::local::{self as rules, LoginName};
use crate::store::{PasswordStore, ProfileChange, UserStore};

/// The profile of a `(doc, failed_logins, locked_until)` row triple starting at column `at`.
pub(super) fn profile_of(row: &tokio_postgres::Row, at: usize) -> Result<Profile, StoreError> {
    let mut p: Profile = from_doc(row.try_get(at)?, "profile")?;
    let failed: i32 = row.try_get(at + 1)?;
    p.failed_logins = u32::try_from(failed).unwrap_or(0);
    p.locked_until = row.try_get(at + 2)?;
    Ok(p)
}

/// Points `name` at `user_id` unless another user holds it ([`rules::claim`]).
async fn claim_name(
    tx: &Transaction<'_>,
    name: &LoginName,
    user_id: &str,
) -> Result<(), LocalError> {
    let kind = name.kind.as_str();
    tx.execute(
        "INSERT INTO login_names (name_kind, name, user_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[&kind, &name.name, &user_id],
    )
    .await?;
    let holder: String = tx
        .query_one(
            "SELECT user_id FROM login_names WHERE name_kind = $1 AND name = $2",
            &[&kind, &name.name],
        )
        .await?
        .try_get(0)?;
    rules::claim(name, Some(&holder), user_id)
}

/// Points `new`'s login names at `user_id` and drops those of `old` that `new` no longer claims.
async fn index_names(
    tx: &Transaction<'_>,
    user_id: &str,
    old: Option<&Profile>,
    new: &Profile,
) -> Result<(), LocalError> {
    for n in old
        .map(|old| rules::names_dropped(old, new))
        .unwrap_or_default()
    {
        tx.execute(
            "DELETE FROM login_names WHERE name_kind = $1 AND name = $2 AND user_id = $3",
            &[&n.kind.as_str(), &n.name, &user_id],
        )
        .await?;
    }
    for n in rules::login_names(new) {
        claim_name(tx, &n, user_id).await?;
    }
    Ok(())
}

const SELECT_LOGIN: &str = "SELECT u.user_id, u.kind, u.provider, u.username, u.created_at, \
     p.doc, p.failed_logins, p.locked_until FROM login_names n \
     JOIN users u ON u.user_id = n.user_id JOIN profiles p ON p.user_id = n.user_id \
     WHERE (n.name_kind = 'email' AND n.name = $1) OR (n.name_kind = 'username' AND n.name = $2) \
     ORDER BY n.name_kind LIMIT 1";

#[async_trait]
impl PasswordStore for PgStore {
    async fn create_local_user(
        &self,
        profile: Profile,
        created_by: Option<String>,
        now: i64,
    ) -> Result<(User, Profile), LocalError> {
        let (user, profile) = rules::new_local_user(profile, created_by, now);
        let doc = to_doc(&profile)?;
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO users (user_id, kind, provider, username, created_at) \
                 VALUES ($1, 'local', 'local', $2, $3)",
                &[&user.user_id, &user.username, &now],
            )
            .await?;
            index_names(&tx, &user.user_id, None, &profile).await?;
            let failed = i32::try_from(profile.failed_logins).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO profiles (user_id, doc, failed_logins, locked_until) \
                 VALUES ($1, $2, $3, $4)",
                &[&user.user_id, &doc, &failed, &profile.locked_until],
            )
            .await?;
            if let Some(code) = &profile.confirm_code {
                tx.execute(
                    "INSERT INTO codes (digest, user_id) VALUES ($1, $2) \
                     ON CONFLICT (digest) DO UPDATE SET user_id = EXCLUDED.user_id",
                    &[&code.digest, &user.user_id],
                )
                .await?;
            }
            tx.commit().await?;
            Ok((user.clone(), profile.clone()))
        })
        .await
    }

    async fn local_user_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(User, Profile)>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let s = c.prepare_cached(SELECT_LOGIN).await?;
            let (email, username) = (LoginName::email(login), LoginName::username(login));
            let Some(row) = c.query_opt(&s, &[&email.name, &username.name]).await? else {
                return Ok(None);
            };
            Ok(Some((user_of(&row)?, profile_of(&row, 5)?)))
        })
        .await
    }

    async fn profile(&self, user_id: &str) -> Result<Option<Profile>, StoreError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.query_opt(
                "SELECT doc, failed_logins, locked_until FROM profiles WHERE user_id = $1",
                &[&user_id],
            )
            .await?
            .map(|r| profile_of(&r, 0))
            .transpose()
        })
        .await
    }

    async fn update_profile(
        &self,
        user_id: &str,
        _durable: bool,
        change: ProfileChange,
        now: i64,
    ) -> Result<Profile, LocalError> {
        self.bounded(async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let old = tx
                .query_opt(
                    "SELECT doc, failed_logins, locked_until FROM profiles WHERE user_id = $1 \
                     FOR UPDATE",
                    &[&user_id],
                )
                .await?
                .map(|r| profile_of(&r, 0))
                .transpose()?
                .ok_or(LocalError::NotFound)?;
            let new = rules::changed(&old, &change, now)?;
            if rules::names_changed(&old, &new) {
                index_names(&tx, user_id, Some(&old), &new).await?;
            }
            let failed = i32::try_from(new.failed_logins).unwrap_or(i32::MAX);
            tx.execute(
                "UPDATE profiles SET doc = $2, failed_logins = $3, locked_until = $4 \
                 WHERE user_id = $1",
                &[&user_id, &to_doc(&new)?, &failed, &new.locked_until],
            )
            .await?;
            tx.commit().await?;
            Ok(new)
        })
        .await
    }

    async fn confirm(&self, digest: &str, now: i64) -> Result<(User, Profile), LocalError> {
        let user_id: String = self
            .bounded(async {
                let c = self.pool.get().await?;
                let row = c
                    .query_opt("SELECT user_id FROM codes WHERE digest = $1", &[&digest])
                    .await?
                    .ok_or(LocalError::NotFound)?;
                Ok::<_, LocalError>(row.try_get(0).map_err(StoreError::from)?)
            })
            .await?;
        let profile = self
            .update_profile(&user_id, true, rules::confirmation(digest, now), now)
            .await?;
        self.bounded(async {
            let c = self.pool.get().await?;
            c.execute("DELETE FROM codes WHERE digest = $1", &[&digest])
                .await?;
            Ok::<_, LocalError>(())
        })
        .await?;
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
        self.bounded(async {
            let c = self.pool.get().await?;
            c.execute(
                "INSERT INTO refresh_families (family, user_id, jti, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[&family, &user_id, &jti, &expires_at],
            )
            .await?;
            Ok(family.clone())
        })
        .await
    }

    async fn rotate_refresh(
        &self,
        family: &str,
        jti: &str,
        next: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String, LocalError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let rotated = c
                .query_opt(
                    "UPDATE refresh_families SET jti = $3, expires_at = $4 \
                     WHERE family = $1 AND jti = $2 AND expires_at > $5 RETURNING user_id",
                    &[&family, &jti, &next, &expires_at, &now],
                )
                .await?;
            if let Some(row) = rotated {
                return Ok(row.try_get(0).map_err(StoreError::from)?);
            }
            // Zero rows: a stale token id or an expired family. Either ends the family.
            let ended = c
                .execute("DELETE FROM refresh_families WHERE family = $1", &[&family])
                .await?;
            Err(if ended > 0 {
                LocalError::RefreshReused
            } else {
                LocalError::NotFound
            })
        })
        .await
    }

    async fn revoke_refresh_families(&self, user_id: &str) -> Result<(), LocalError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            c.execute(
                "DELETE FROM refresh_families WHERE user_id = $1",
                &[&user_id],
            )
            .await?;
            Ok(())
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
        self.count_attempt(user_id, max, lockout_secs, now, true)
            .await
    }

    async fn fail_login(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        self.count_attempt(user_id, max, lockout_secs, now, false)
            .await
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
