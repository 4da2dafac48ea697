//! The user store: who the gateway has seen, keyed for the lookups the request path makes.
//!
//! This module owns the domain types ([`User`]) and the error type; `sled.rs` owns the one
//! embedded backend and is the only file that touches sled. The store's promises:
//! - a DAuth user is got-or-created atomically: concurrent first requests for one
//!   (network, address) all see the same `user_id`;
//! - a record is durable (flushed to disk) before any response can reveal its id, so a crash
//!   right after a response loses nothing the client saw.

mod sled;

pub use self::sled::{BackendError, Store};

use serde::{Deserialize, Serialize};

/// How a user authenticates, and so which namespace its (provider, username) lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// A smart contract authenticated by a DAuth token.
    Dauth,
}

impl UserKind {
    fn tag(self) -> u8 {
        match self {
            Self::Dauth => b'd',
        }
    }
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

/// The index key of a (kind, provider, username) triple: unambiguous for any strings,
/// because the provider is length-prefixed.
fn identity_key(kind: UserKind, provider: &str, username: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 4 + provider.len() + username.len());
    key.push(kind.tag());
    key.extend_from_slice(&(provider.len() as u32).to_be_bytes());
    key.extend_from_slice(provider.as_bytes());
    key.extend_from_slice(username.as_bytes());
    key
}

#[cfg(test)]
mod tests;
