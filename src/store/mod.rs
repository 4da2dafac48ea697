//! The user store: who the gateway has seen, keyed for the lookups the request path makes.
//!
//! This module owns the domain types ([`User`]) and the error type; `sled.rs` owns the one
//! embedded backend and is the only file that touches sled. The store's promises:
//! - a DAuth user is got-or-created atomically: concurrent first requests for one
//!   (network, address) all see the same `user_id`;
//! - a record is durable (flushed to disk) before any response can reveal its id, so a crash
//!   right after a response loses nothing the client saw.

mod sled;

pub use self::sled::{BackendError, ClientStoreError, Store};

use serde::{Deserialize, Serialize};

/// How a user authenticates, and so which namespace its (provider, username) lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// A smart contract authenticated by a DAuth token.
    Dauth,
    /// A person with an email and a password (or synced from a third-party system).
    Local,
    /// The subject of an external issuer's bearer token; described per request, never stored.
    External,
}

impl UserKind {
    pub(crate) fn tag(self) -> u8 {
        match self {
            Self::Dauth => b'd',
            Self::Local => b'l',
            Self::External => b'x',
        }
    }
}

/// A one-time code (confirmation or password reset), kept as a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCode {
    /// Hex SHA-256 of the code.
    pub digest: String,
    /// Unix seconds after which the code is void.
    pub expires_at: i64,
}

/// Everything about a password user beyond the [`User`] record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Login email, lowercase.
    pub email: String,
    /// Optional login name (third-party sync).
    pub username: Option<String>,
    /// argon2id PHC string, or an imported bcrypt hash.
    pub password_hash: Option<String>,
    /// Whether the email is confirmed (the account may log in). `accounts.auto_confirm` sets
    /// it at registration, without any proof.
    pub confirmed: bool,
    /// Whether the user proved control of the mailbox: used a code mailed to it (confirmation
    /// or password reset), or a trusted sync (administrator, internal system) said it is
    /// verified. Only this makes an address in `accounts.admin_emails` an administrator.
    #[serde(default)]
    pub mailbox_verified: bool,
    /// First name.
    pub firstname: Option<String>,
    /// Last name.
    pub lastname: Option<String>,
    /// Preferred language.
    pub language: String,
    /// Free key/value attributes.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Failed logins since the last success.
    pub failed_logins: u32,
    /// Locked until this Unix second, if locked.
    pub locked_until: Option<i64>,
    /// Pending confirmation code.
    pub confirm_code: Option<StoredCode>,
    /// Pending password-reset code.
    pub reset_code: Option<StoredCode>,
    /// Third-party fields kept as given (phone number, avatar, birthday, gender, roles...).
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
    /// Who created the user (`__system` for a sync).
    pub created_by: Option<String>,
    /// Who last updated it.
    pub updated_by: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// What a login attempt may do, decided atomically in the store before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// Counted: check the password.
    Counted,
    /// The account is locked; seconds until it unlocks.
    Locked(u64),
}

/// Why a password-user write was refused.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another user has this email.
    #[error("email taken")]
    EmailTaken,
    /// Another user has this username.
    #[error("username taken")]
    UsernameTaken,
    /// No such user, or no such code.
    #[error("not found")]
    NotFound,
    /// A refresh token family was used with a token it already rotated past.
    #[error("refresh token reused")]
    RefreshReused,
    /// A condition the caller's update function refused.
    #[error("refused: {0}")]
    Refused(&'static str),
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Random UUID, the id every API shows.
    pub user_id: String,
    /// Which namespace the user belongs to.
    pub kind: UserKind,
    /// For DAuth users, the `network_name` claim.
    pub provider: String,
    /// For DAuth users, the contract address (EIP-55 form in strict mode).
    pub username: String,
    /// Unix seconds at creation.
    pub created_at: i64,
}

/// A store failure. The request that meets one answers 503; the cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, lock, corruption it detected).
    #[error("store backend: {0}")]
    Backend(#[from] BackendError),
    /// A stored record did not decode.
    #[error("stored {what} record does not decode")]
    Corrupt {
        /// Which kind of record.
        what: &'static str,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The store directory could not be created.
    #[error("cannot create the store directory: {0}")]
    Io(#[source] std::io::Error),
    /// The identity index names a user record that does not exist.
    #[error("identity index points at a missing user")]
    Dangling,
    /// A background task doing store work died.
    #[error("store task failed")]
    TaskFailed(#[source] tokio::task::JoinError),
}

/// A bank account the gateway guards access to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// `BANK_ID`.
    pub bank_id: String,
    /// `ACCOUNT_ID`.
    pub account_id: String,
    /// Free text.
    pub label: String,
    /// The user who created it (its first holder).
    pub created_by: String,
    /// Unix seconds at creation.
    pub created_at: i64,
}

/// One account-access row: a user holds a view on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    /// `BANK_ID`.
    pub bank_id: String,
    /// `ACCOUNT_ID`.
    pub account_id: String,
    /// `VIEW_ID`.
    pub view_id: String,
}

/// The access row that authorised a write; it must still exist when the write commits, so a
/// grant cannot ride on a permission revoked at the same moment.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The caller.
    pub user_id: String,
    /// The caller's view that permits the write.
    pub view_id: String,
}

/// Whom a grant is for.
#[derive(Debug, Clone)]
pub enum Grantee {
    /// An existing user.
    User(String),
    /// The DAuth user for (network, address), created in the same transaction if missing.
    Dauth {
        /// `network_name`.
        network: String,
        /// Normalised address.
        address: String,
    },
}

/// Why an access write was refused, decided atomically inside its transaction.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `create_account` on an existing account.
    #[error("account exists")]
    AccountExists,
    /// The account does not exist.
    #[error("account not found")]
    AccountMissing,
    /// A custom view with this id exists on the account.
    #[error("view exists")]
    ViewExists,
    /// The grantee is not a stored user.
    #[error("user not found")]
    UserMissing,
    /// Revoking a view the user does not hold.
    #[error("no access row for view {0}")]
    NoSuchAccess(String),
    /// The write would leave the account without any `owner` holder.
    #[error("the owner view cannot be revoked from the account's last holder")]
    LastOwner,
    /// The account holds `accounts.max_access_rows` rows already.
    #[error("access row limit reached granting {0}")]
    RowLimit(String),
    /// The caller's authorising view was revoked meanwhile.
    #[error("the caller's authorising access is gone")]
    AuthorityGone,
}

/// The index key of a (kind, provider, username) triple: unambiguous for any strings,
/// because the provider is length-prefixed.
pub(crate) fn identity_key(kind: UserKind, provider: &str, username: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 4 + provider.len() + username.len());
    key.push(kind.tag());
    key.extend_from_slice(&(provider.len() as u32).to_be_bytes());
    key.extend_from_slice(provider.as_bytes());
    key.extend_from_slice(username.as_bytes());
    key
}

#[cfg(test)]
mod tests;
