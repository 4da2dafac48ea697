//! Why a store call failed: [`StoreError`] for a failing backend, and the refusals a write
//! decides atomically ([`AccessError`], [`LocalError`], [`ClientStoreError`]).

use std::fmt;

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
    /// Another process has the store open: sled lets one process open a store at a time.
    #[error(
        "in use: held by another gateway or admin command (one process at a time may open a \
         store; stop the other one first)"
    )]
    InUse,
    /// The store directory could not be created.
    #[error("cannot create the store directory: {0}")]
    Io(#[source] std::io::Error),
    /// The identity index names a user record that does not exist.
    #[error("identity index points at a missing user")]
    Dangling,
    /// The database's schema is not one this gateway can use: an applied migration was
    /// changed, or a newer gateway applied one this one does not know.
    #[error("schema migrations: {0}")]
    Migration(String),
    /// A background task doing store work died.
    #[error("store task failed")]
    TaskFailed(#[source] tokio::task::JoinError),
}

/// A failure inside a backend, kept opaque so no other module depends on the backend's crate.
pub struct BackendError(pub Box<dyn std::error::Error + Send + Sync>);

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
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

/// Why a client write was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClientStoreError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The client id or `clientUserId` is taken.
    #[error("already exists")]
    Exists,
    /// No such client or user.
    #[error("not found")]
    NotFound,
}
