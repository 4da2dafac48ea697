//! The lockout's counter: every login attempt is counted atomically in the user's profile
//! *before* its (slow) password check, and a success clears the count only if the account did
//! not become locked meanwhile.
//!
//! An attempt counts as a failure from the moment it starts until its password proves right.
//! So parallel guesses cannot all pass a "not locked" check and be counted afterwards: at most
//! `max` attempts are ever in flight or failed in a row, and the next one locks the account,
//! which also voids the attempts still being checked (their success is refused). Sequentially
//! nothing changes: `max` wrong passwords in a row lock, a right one before that clears the
//! count. The counters are not flushed before answering: a crash may forget a few failures,
//! never unlock an account that was reported locked (the lock itself is flushed).

use super::db::SledStore;
use crate::store::PasswordStore;
use crate::store::error::LocalError;
use crate::store::model::{LoginAttempt, Profile};
use crate::store::rules::local as rules;

/// The reason string of a refused update: the account is locked.
const LOCKED: &str = "locked";

fn locked(p: &Profile, now: i64) -> bool {
    rules::locked(p.locked_until, now)
}

/// Locks `p` until `now + lockout_secs` and restarts its count.
fn lock(p: &mut Profile, now: i64, lockout_secs: u64) {
    p.failed_logins = 0;
    p.locked_until = Some(now.saturating_add_unsigned(lockout_secs));
}

impl SledStore {
    /// Counts a login attempt for `user_id` before its password is checked. Refused
    /// ([`LoginAttempt::Locked`]) when the account is locked, or when `max` attempts are already
    /// counted, in which case this one locks it.
    pub(super) async fn count_attempt(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        let outcome = self
            .update_profile(
                user_id,
                false,
                Box::new(move |p| {
                    if locked(p, now) {
                        return Err(LocalError::Refused(LOCKED));
                    }
                    if p.failed_logins >= max {
                        lock(p, now, lockout_secs);
                    } else {
                        p.failed_logins = p.failed_logins.saturating_add(1);
                    }
                    Ok(())
                }),
                now,
            )
            .await;
        self.attempt(user_id, outcome, now).await
    }

    /// Records that a counted attempt's password was wrong: the attempt stays counted, and if
    /// `max` are counted the account locks. [`LoginAttempt::Locked`] when it is locked now.
    pub(super) async fn count_failure(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        let outcome = self
            .update_profile(
                user_id,
                false,
                Box::new(move |p| {
                    if locked(p, now) {
                        return Err(LocalError::Refused(LOCKED));
                    }
                    if p.failed_logins >= max {
                        lock(p, now, lockout_secs);
                    }
                    Ok(())
                }),
                now,
            )
            .await;
        self.attempt(user_id, outcome, now).await
    }

    /// Records that a counted attempt's password was right: clears the count (and stores
    /// `new_hash`, if given) in one compare-and-update that fails if the account became locked
    /// meanwhile. Returns the updated profile, or the lock.
    pub(super) async fn count_success(
        &self,
        user_id: &str,
        new_hash: Option<String>,
        now: i64,
    ) -> Result<Result<Profile, LoginAttempt>, LocalError> {
        let durable = new_hash.is_some();
        let outcome = self
            .update_profile(
                user_id,
                durable,
                Box::new(move |p| {
                    if locked(p, now) {
                        return Err(LocalError::Refused(LOCKED));
                    }
                    p.failed_logins = 0;
                    if let Some(h) = &new_hash {
                        p.password_hash = Some(h.clone());
                    }
                    Ok(())
                }),
                now,
            )
            .await;
        match outcome {
            Ok(p) => Ok(Ok(p)),
            Err(e) => self.attempt(user_id, Err(e), now).await.map(Err),
        }
    }

    /// What an attempt's update means: counted, or locked (with the lock's end).
    async fn attempt(
        &self,
        user_id: &str,
        outcome: Result<Profile, LocalError>,
        now: i64,
    ) -> Result<LoginAttempt, LocalError> {
        match outcome {
            Ok(p) => {
                // This update set the lock (an update refuses on a lock already set): flush it.
                if locked(&p, now) {
                    self.flush().await?;
                }
                Ok(rules::attempt(p.locked_until, now))
            }
            Err(LocalError::Refused(LOCKED)) => {
                let p = self.profile(user_id).await?.ok_or(LocalError::NotFound)?;
                Ok(rules::lock_left(p.locked_until, now))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn user(store: &SledStore) -> String {
        let p = Profile {
            email: "l@example.com".into(),
            ..Profile::default()
        };
        store.create_local_user(p, None, 0).await.unwrap().0.user_id
    }

    #[tokio::test]
    async fn attempts_in_flight_count_and_the_next_one_locks() {
        let store = SledStore::temporary().unwrap();
        let id = user(&store).await;
        for _ in 0..3 {
            assert_eq!(
                store.begin_login(&id, 3, 60, 1000).await.unwrap(),
                LoginAttempt::Counted
            );
        }
        // Three are being checked; a fourth locks the account...
        assert_eq!(
            store.begin_login(&id, 3, 60, 1000).await.unwrap(),
            LoginAttempt::Locked(60)
        );
        // ... and the one of the three whose password was right is refused.
        assert_eq!(
            store.succeed_login(&id, None, 1001).await.unwrap(),
            Err(LoginAttempt::Locked(59))
        );
        assert_eq!(
            store.fail_login(&id, 3, 60, 1001).await.unwrap(),
            LoginAttempt::Locked(59)
        );
        // After the lock, the count starts again.
        assert_eq!(
            store.begin_login(&id, 3, 60, 1060).await.unwrap(),
            LoginAttempt::Counted
        );
        assert!(store.succeed_login(&id, None, 1061).await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_success_clears_the_count_and_max_failures_lock() {
        let store = SledStore::temporary().unwrap();
        let id = user(&store).await;
        for _ in 0..2 {
            store.begin_login(&id, 3, 60, 1000).await.unwrap();
            assert_eq!(
                store.fail_login(&id, 3, 60, 1000).await.unwrap(),
                LoginAttempt::Counted
            );
        }
        store.begin_login(&id, 3, 60, 1000).await.unwrap();
        let p = store.succeed_login(&id, None, 1000).await.unwrap().unwrap();
        assert_eq!(p.failed_logins, 0);
        for _ in 0..2 {
            store.begin_login(&id, 3, 60, 1000).await.unwrap();
            store.fail_login(&id, 3, 60, 1000).await.unwrap();
        }
        store.begin_login(&id, 3, 60, 1000).await.unwrap();
        assert_eq!(
            store.fail_login(&id, 3, 60, 1000).await.unwrap(),
            LoginAttempt::Locked(60)
        );
    }
}
