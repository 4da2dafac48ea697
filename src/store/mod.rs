//! The user store: who the gateway has seen, keyed for the lookups the request path makes.
//!
//! The records are [`model`]'s, the failures [`error`]'s; [`sled`] is the one embedded backend
//! and the only place that touches sled. The store's promises:
//! - a DAuth user is got-or-created atomically: concurrent first requests for one
//!   (network, address) all see the same `user_id`;
//! - a record is durable (flushed to disk) before any response can reveal its id, so a crash
//!   right after a response loses nothing the client saw.

pub mod error;
pub mod model;
mod sled;

pub use self::sled::Store;
pub use error::{AccessError, BackendError, ClientStoreError, LocalError, StoreError};
pub use model::{
    AccessRow, Account, Authority, Grantee, LoginAttempt, Profile, StoredCode, User, UserKind,
};

#[cfg(test)]
mod tests;
