//! The store: who the gateway has seen, and what they hold, behind one async trait per concern.
//!
//! This module owns the contracts every backend keeps: [`UserStore`], [`AccessStore`],
//! [`PasswordStore`], [`ClientStore`], the [`ReplayWindow`], the Airnode [`retry`] record and the
//! [`Backend`] lifecycle. The
//! records are [`model`]'s, the failures [`error`]'s; [`sled`] is the embedded backend (the only
//! place that touches sled, with its key encodings), [`replay`] the replay window replicas
//! share (PostgreSQL or Redis), and `cached` the hot-user cache that
//! decorates any [`UserStore`]. It does not decide what a refusal means to a client: each
//! product maps the refusals it meets (`From` into [`crate::error::Error`]), and a failing
//! backend ([`StoreError`]) answers 503 `DAUTH-5030` everywhere.
//!
//! The promises, stated on each method:
//! - **durable when the call returns**: a write whose effect a response may reveal is on disk
//!   (or committed) before the method returns, so a crash right after a response loses nothing
//!   the client saw; the few writes that may be lost in a crash say so;
//! - a DAuth user is got-or-created atomically: concurrent first requests for one
//!   (network, address) all see the same `user_id`;
//! - writes that check something (an authority, a counter, a code) check it in the same
//!   transaction as they write.
//!
//! Every method is async and the traits are object safe (`Arc<dyn UserStore>`), so a backend
//! that talks to a server can be added beside sled; the boxed future is one allocation per call.

pub mod batch;
pub(crate) mod cached;
pub mod dump;
pub mod error;
pub mod model;
pub mod nonces;
pub mod postgres;
pub mod replay;
pub mod retry;
pub mod rules;
pub mod sled;

use async_trait::async_trait;

use error::{AccessError, ClientStoreError, LocalError, StoreError};
use model::{
    AccessRow, Account, Authority, ClientUser, Grantee, LoginAttempt, Profile, StoredClient, User,
    View,
};

/// A change to a password user's profile, applied inside the store's transaction (and run again
/// if the transaction is retried, so it must not have side effects).
pub type ProfileChange = Box<dyn Fn(&mut Profile) -> Result<(), LocalError> + Send + Sync>;

/// A change to a client's user, applied inside the store's transaction (run again on a retry).
pub type ClientUserChange =
    Box<dyn Fn(&mut ClientUser) -> Result<(), ClientStoreError> + Send + Sync>;

/// Users: DAuth users got-or-created by identity, and any user by id.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// The DAuth user for (`network`, `address`), created (dated `now`) if there is none.
    /// Atomic, and durable when the call returns: the id it gives is on disk.
    async fn get_or_create_dauth_user(
        &self,
        network: &str,
        address: &str,
        now: i64,
    ) -> Result<User, StoreError>;

    /// The user with this id.
    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError>;
}

/// OBP accounts, custom views and account-access rows.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// The account, if it exists.
    async fn account(&self, bank: &str, account: &str) -> Result<Option<Account>, StoreError>;

    /// Whether any account exists at `bank`.
    async fn bank_exists(&self, bank: &str) -> Result<bool, StoreError>;

    /// The custom view `view` of an account.
    async fn custom_view(
        &self,
        bank: &str,
        account: &str,
        view: &str,
    ) -> Result<Option<View>, StoreError>;

    /// All custom views of an account, by id (in byte order, on every backend).
    async fn custom_views(&self, bank: &str, account: &str) -> Result<Vec<View>, StoreError>;

    /// The view ids `user` holds on an account, in byte order.
    async fn views_held(
        &self,
        user: &str,
        bank: &str,
        account: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// Every access row of `user`, by bank, account and view id (each in byte order).
    async fn access_of(&self, user: &str) -> Result<Vec<AccessRow>, StoreError>;

    /// Creates an account (dated `now`) held by the existing user `holder` with the `owner`
    /// view. Refused if it exists. Durable when the call returns.
    async fn create_account(
        &self,
        bank: &str,
        account: &str,
        label: &str,
        holder: &str,
        now: i64,
    ) -> Result<Account, AccessError>;

    /// Stores a custom view on an existing account, if `by` still holds its authorising view.
    /// Refused if the id is taken. Durable when the call returns.
    async fn create_custom_view(
        &self,
        bank: &str,
        account: &str,
        view: View,
        by: Authority,
    ) -> Result<View, AccessError>;

    /// Grants `views` on an account to `to` (a DAuth grantee is created, dated `now`, in the same
    /// transaction if missing), at most `limit` rows per account, if `by` still holds its
    /// authorising view. Returns the grantee. Durable when the call returns.
    #[allow(clippy::too_many_arguments)]
    async fn grant(
        &self,
        bank: &str,
        account: &str,
        to: Grantee,
        views: Vec<String>,
        by: Option<Authority>,
        limit: u64,
        now: i64,
    ) -> Result<User, AccessError>;

    /// Revokes `view` on an account from `user`, never the last `owner`. Durable when the call
    /// returns.
    async fn revoke(
        &self,
        bank: &str,
        account: &str,
        user: &str,
        view: &str,
        by: Option<Authority>,
    ) -> Result<(), AccessError>;

    /// Replaces every view `user` holds on an account with `views`, in one transaction.
    /// Durable when the call returns.
    async fn replace_views(
        &self,
        bank: &str,
        account: &str,
        user: &str,
        views: Vec<String>,
        limit: u64,
    ) -> Result<(), AccessError>;
}

/// Password users: profiles and login names, one-time codes, refresh-token families and the
/// login-attempt counter of the lockout.
#[async_trait]
pub trait PasswordStore: Send + Sync {
    /// Creates a password user (dated `now`) from `profile`, whose email and username must be
    /// free; a pending confirmation code is indexed in the same transaction. Durable when the
    /// call returns.
    async fn create_local_user(
        &self,
        profile: Profile,
        created_by: Option<String>,
        now: i64,
    ) -> Result<(User, Profile), LocalError>;

    /// The password user whose email, or else username, is `login`.
    async fn local_user_by_login(&self, login: &str)
    -> Result<Option<(User, Profile)>, StoreError>;

    /// A user's profile.
    async fn profile(&self, user_id: &str) -> Result<Option<Profile>, StoreError>;

    /// Applies `change` to a profile atomically (`updated_at` becomes `now`; login names are
    /// re-indexed if they changed) and returns the result. Durable when the call returns if
    /// `durable`; a counter that may be lost in a crash passes false.
    async fn update_profile(
        &self,
        user_id: &str,
        durable: bool,
        change: ProfileChange,
        now: i64,
    ) -> Result<Profile, LocalError>;

    /// Confirms the user whose pending confirmation code has this digest, if it has not expired
    /// at `now`: the mailbox is proven. Durable when the call returns.
    async fn confirm(&self, digest: &str, now: i64) -> Result<(User, Profile), LocalError>;

    /// Starts a refresh family (one login) at token id `jti`; returns the family's id. Durable
    /// when the call returns.
    async fn start_refresh_family(
        &self,
        user_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<String, LocalError>;

    /// Rotates a family from `jti` to `next`; returns the user id. A `jti` the family already
    /// rotated past, or a family expired at `now`, ends the family
    /// ([`LocalError::RefreshReused`]). Durable when the call returns.
    async fn rotate_refresh(
        &self,
        family: &str,
        jti: &str,
        next: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String, LocalError>;

    /// Ends every refresh family of a user. Durable when the call returns.
    async fn revoke_refresh_families(&self, user_id: &str) -> Result<(), LocalError>;

    /// Counts a login attempt before its password is checked; [`LoginAttempt::Locked`] when the
    /// account is locked, or when `max` attempts are already counted (this one locks it). The
    /// count may be lost in a crash; a lock is durable when the call returns.
    async fn begin_login(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError>;

    /// Records that a counted attempt's password was wrong (the account locks at `max`). As
    /// [`PasswordStore::begin_login`] for durability.
    async fn fail_login(
        &self,
        user_id: &str,
        max: u32,
        lockout_secs: u64,
        now: i64,
    ) -> Result<LoginAttempt, LocalError>;

    /// Records that a counted attempt's password was right: clears the count (and stores
    /// `new_hash`, durably when the call returns, if given) unless the account became locked
    /// meanwhile. Returns the profile, or the lock.
    async fn succeed_login(
        &self,
        user_id: &str,
        new_hash: Option<String>,
        now: i64,
    ) -> Result<Result<Profile, LoginAttempt>, LocalError>;
}

/// Service clients registered with `admin client add`, and the users each client manages.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Every stored client registration.
    async fn stored_clients(&self) -> Result<Vec<StoredClient>, StoreError>;

    /// Stores a client registration; refused if the id is taken. Durable when the call returns.
    async fn add_client(&self, client: StoredClient) -> Result<(), ClientStoreError>;

    /// Removes a client registration; false if there was none. Durable when the call returns.
    async fn remove_client(&self, client_id: &str) -> Result<bool, ClientStoreError>;

    /// Creates a client user; refused if its `clientUserId` is taken for this client. Durable
    /// when the call returns.
    async fn create_client_user(&self, user: ClientUser) -> Result<ClientUser, ClientStoreError>;

    /// A client's user.
    async fn client_user(
        &self,
        client: &str,
        user_id: &str,
    ) -> Result<Option<ClientUser>, StoreError>;

    /// A page of a client's users that are not deleted, optionally only the one with
    /// `client_user_id`; returns the page and the total.
    async fn client_users(
        &self,
        client: &str,
        client_user_id: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ClientUser>, usize), StoreError>;

    /// Applies `change` to a client's user and stores it. Durable when the call returns.
    async fn update_client_user(
        &self,
        client: &str,
        user_id: &str,
        change: ClientUserChange,
    ) -> Result<ClientUser, ClientStoreError>;
}

/// Which ids a [`ReplayWindow`] entry belongs to: ids of two scopes never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayScope<'a> {
    /// A DAuth token's `request_id`, per `consumer_key`.
    Dauth {
        /// The token's `consumer_key`.
        consumer_key: &'a str,
    },
    /// A client assertion's `jti`, per client (RFC 7523 3, item 7).
    Assertion {
        /// The client id.
        client_id: &'a str,
    },
    /// An ERC-8128 signature's `nonce`, per signer: `keyid` is the normalized
    /// `erc8128:<chain id>:<lower-case address>`.
    Erc8128 {
        /// The normalized keyid.
        keyid: &'a str,
    },
}

/// What a [`ReplayWindow`] made of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// First use within its lifetime: recorded.
    Fresh,
    /// Already recorded and not yet expired: a replay.
    Seen,
    /// The window is full of unexpired ids: refused, since forgetting one would let a replay in
    /// (fail closed).
    Full,
}

/// Ids that may be used once while they could still be accepted: DAuth `request_id`s and
/// client-assertion `jti`s. One concept; with `replay.backend = "memory"` two windows (an
/// in-memory one for DAuth, a stored one for assertions, each with its own capacity rule), with
/// a shared backend one window for both ([`replay`]).
#[async_trait]
pub trait ReplayWindow: Send + Sync {
    /// Records `id` in `scope` until `expires_at`, unless it is already there and unexpired at
    /// `now`. Durable as the window is: the in-memory window forgets on restart; a stored one
    /// keeps what its backend has flushed.
    async fn record(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, StoreError>;

    /// Forgets ids expired at `now`; returns how many. Run in the background, never on the
    /// request path.
    async fn prune(&self, now: i64) -> Result<usize, StoreError>;

    /// How many ids it holds, when it can tell cheaply (for `dauth_replay_window_ids`).
    fn held(&self) -> Option<usize> {
        None
    }
}

/// A backend's lifecycle, apart from the records: proving it writable at start-up, and the
/// final flush.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Writes a probe record (dated `now`) durably, proving the store writable.
    async fn check_writable(&self, now: i64) -> Result<(), StoreError>;

    /// Makes everything written so far durable.
    async fn flush(&self) -> Result<(), StoreError>;
}

/// Every store a gateway uses, as trait objects (one backend may be all of them).
#[derive(Clone)]
pub struct Stores {
    /// Users (usually through the `cached::HotUsers` cache).
    pub users: std::sync::Arc<dyn UserStore>,
    /// Accounts, views, access rows.
    pub access: std::sync::Arc<dyn AccessStore>,
    /// Password users.
    pub passwords: std::sync::Arc<dyn PasswordStore>,
    /// Service clients and their users.
    pub clients: std::sync::Arc<dyn ClientStore>,
    /// Client-assertion `jti`s already used.
    pub assertions: std::sync::Arc<dyn ReplayWindow>,
    /// Start-up probe and final flush.
    pub backend: std::sync::Arc<dyn Backend>,
}
