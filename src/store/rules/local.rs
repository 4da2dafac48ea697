//! Password users: the checks and record changes of [`crate::store::PasswordStore`]'s writes,
//! given the records the backend read in the write's transaction.
//!
//! Login names: a profile claims its email (indexed lower-case) and then its username (as
//! written), in that order ([`login_names`]); a name another user holds refuses the write with
//! [`LocalError::EmailTaken`] or [`LocalError::UsernameTaken`] ([`claim`]); the names an update
//! stops using are dropped ([`names_dropped`]). A profile change runs on a copy and dates it
//! ([`changed`]); the confirmation is one such change ([`confirmation`]). The lockout's count
//! itself is each backend's (one `UPDATE` on PostgreSQL), what it answers is [`attempt`] and
//! [`lock_left`].

use crate::store::ProfileChange;
use crate::store::error::LocalError;
use crate::store::model::{LoginAttempt, Profile, User, UserKind};

/// The two kinds of login name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// The email, indexed lower-case.
    Email,
    /// The optional username, indexed as written.
    Username,
}

impl NameKind {
    /// The kind's name in the index: `email` or `username`.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Email => "email",
            NameKind::Username => "username",
        }
    }

    /// The refusal when another user holds a name of this kind.
    fn taken(self) -> LocalError {
        match self {
            NameKind::Email => LocalError::EmailTaken,
            NameKind::Username => LocalError::UsernameTaken,
        }
    }
}

/// One login name as indexed: its kind and its indexed spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName {
    /// Email or username.
    pub kind: NameKind,
    /// The indexed spelling (an email lower-case).
    pub name: String,
}

impl LoginName {
    /// The email name `email` is indexed under.
    pub fn email(email: &str) -> Self {
        LoginName {
            kind: NameKind::Email,
            name: email.to_lowercase(),
        }
    }

    /// The username name `name` is indexed under.
    pub fn username(name: &str) -> Self {
        LoginName {
            kind: NameKind::Username,
            name: name.to_owned(),
        }
    }
}

/// The login names `p` claims, in the order they are checked: the email, then the username.
pub fn login_names(p: &Profile) -> Vec<LoginName> {
    let mut names = vec![LoginName::email(&p.email)];
    names.extend(p.username.as_deref().map(LoginName::username));
    names
}

/// Whether a change from `old` to `new` touches the login names (they must be re-indexed).
pub fn names_changed(old: &Profile, new: &Profile) -> bool {
    new.email != old.email || new.username != old.username
}

/// The login names `old` held that `new` no longer claims.
pub fn names_dropped(old: &Profile, new: &Profile) -> Vec<LoginName> {
    let kept = login_names(new);
    login_names(old)
        .into_iter()
        .filter(|n| !kept.contains(n))
        .collect()
}

/// A claim of `name` for `user_id` where `holder` holds it (`None`: no one): refused if another
/// user does.
pub fn claim(name: &LoginName, holder: Option<&str>, user_id: &str) -> Result<(), LocalError> {
    match holder {
        Some(h) if h != user_id => Err(name.kind.taken()),
        _ => Ok(()),
    }
}

/// A new password user (a fresh id, dated `now`) and its profile, from the `profile` asked for.
pub fn new_local_user(profile: Profile, created_by: Option<String>, now: i64) -> (User, Profile) {
    let user = User {
        user_id: uuid::Uuid::new_v4().to_string(),
        kind: UserKind::Local,
        provider: "local".into(),
        username: profile.email.clone(),
        created_at: now,
    };
    let profile = Profile {
        created_by,
        updated_at: now,
        ..profile
    };
    (user, profile)
}

/// `old` after `change`, dated `now`; the change's refusal if it refuses.
pub fn changed(old: &Profile, change: &ProfileChange, now: i64) -> Result<Profile, LocalError> {
    let mut new = old.clone();
    change(&mut new)?;
    new.updated_at = now;
    Ok(new)
}

/// The change that confirms a profile whose pending code has digest `digest` and has not expired
/// at `now`: the mailbox is proven and the code used up. Any other profile:
/// [`LocalError::NotFound`].
pub fn confirmation(digest: &str, now: i64) -> ProfileChange {
    let wanted = digest.to_owned();
    Box::new(move |p| match &p.confirm_code {
        Some(c) if c.digest == wanted && c.expires_at > now => {
            p.confirmed = true;
            p.mailbox_verified = true;
            p.confirm_code = None;
            Ok(())
        }
        _ => Err(LocalError::NotFound),
    })
}

/// Whether a lock that runs until `locked_until` still holds at `now`.
pub fn locked(locked_until: Option<i64>, now: i64) -> bool {
    locked_until.is_some_and(|u| u > now)
}

/// What a counted attempt answers once its count is stored with `locked_until`: locked for the
/// seconds left if the lock runs past `now` (this attempt set it), else counted.
pub fn attempt(locked_until: Option<i64>, now: i64) -> LoginAttempt {
    if locked(locked_until, now) {
        lock_left(locked_until, now)
    } else {
        LoginAttempt::Counted
    }
}

/// The lock an attempt was refused on: the seconds left of it at `now` (0 if it ran out
/// meanwhile).
pub fn lock_left(locked_until: Option<i64>, now: i64) -> LoginAttempt {
    let until = locked_until.unwrap_or(now);
    LoginAttempt::Locked(u64::try_from(until.saturating_sub(now)).unwrap_or(0))
}
