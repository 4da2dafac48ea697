//! The lockout's counter on PostgreSQL: every login attempt is counted by one atomic `UPDATE`
//! of the profile's `failed_logins` and `locked_until` columns *before* its password is
//! checked, and a success clears the count in one `UPDATE` that does nothing if the account
//! became locked meanwhile (the same rules as sled's `logins`, across replicas).

use super::db::PgStore;
use super::local::profile_of;
use crate::store::error::{LocalError, StoreError};
use crate::store::model::{LoginAttempt, Profile};
use crate::store::rules::local as rules;

/// Counts an attempt (`begin`: +1; else: a failure keeps it counted), locking at `max`.
const COUNT: &str = "UPDATE profiles SET \
     locked_until = CASE WHEN failed_logins >= $2 THEN $3 ELSE locked_until END, \
     failed_logins = CASE WHEN failed_logins >= $2 THEN 0 \
                          WHEN $5 THEN failed_logins + 1 ELSE failed_logins END, \
     doc = jsonb_set(doc, '{updated_at}', to_jsonb($4::bigint)) \
     WHERE user_id = $1 AND (locked_until IS NULL OR locked_until <= $4) \
     RETURNING locked_until";

/// Clears the count (and stores a new hash) unless locked.
const SUCCEED: &str = "UPDATE profiles SET failed_logins = 0, \
     doc = (CASE WHEN $2::text IS NULL THEN doc \
                 ELSE jsonb_set(doc, '{password_hash}', to_jsonb($2::text)) END) \
           || jsonb_build_object('updated_at', $3::bigint) \
     WHERE user_id = $1 AND (locked_until IS NULL OR locked_until <= $3) \
     RETURNING doc, failed_logins, locked_until";

impl PgStore {
    /// Counts a login attempt (`begin`) or a wrong password, in one `UPDATE`.
    pub(super) async fn count_attempt(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
        begin: bool,
    ) -> Result<LoginAttempt, LocalError> {
        let until = now.saturating_add_unsigned(lockout_secs);
        let max = i32::try_from(max).unwrap_or(i32::MAX);
        self.bounded(async {
            let c = self.pool.get().await?;
            let s = c.prepare_cached(COUNT).await?;
            let row = c
                .query_opt(&s, &[&user_id, &max, &until, &now, &begin])
                .await?;
            match row {
                Some(r) => {
                    let locked: Option<i64> = r.try_get(0).map_err(StoreError::from)?;
                    Ok(rules::attempt(locked, now))
                }
                None => self.lock_of(&c, user_id, now).await,
            }
        })
        .await
    }

    /// Clears the count of a counted attempt whose password was right, unless locked.
    pub(super) async fn count_success(
        &self,
        user_id: &str,
        new_hash: Option<String>,
        now: i64,
    ) -> Result<Result<Profile, LoginAttempt>, LocalError> {
        self.bounded(async {
            let c = self.pool.get().await?;
            let s = c.prepare_cached(SUCCEED).await?;
            match c.query_opt(&s, &[&user_id, &new_hash, &now]).await? {
                Some(r) => Ok(Ok(profile_of(&r, 0)?)),
                None => self.lock_of(&c, user_id, now).await.map(Err),
            }
        })
        .await
    }

    /// The lock an update refused on (or [`LocalError::NotFound`]).
    async fn lock_of(
        &self,
        c: &deadpool_postgres::Client,
        user_id: &str,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        let row = c
            .query_opt(
                "SELECT locked_until FROM profiles WHERE user_id = $1",
                &[&user_id],
            )
            .await?
            .ok_or(LocalError::NotFound)?;
        let until: Option<i64> = row.try_get(0).map_err(StoreError::from)?;
        Ok(rules::lock_left(until, now))
    }
}
