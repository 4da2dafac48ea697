//! The records the store keeps, shared by every backend and by the layers above: users and
//! their kinds, password profiles and one-time codes, accounts, views and access rows, service
//! clients and their users.
//!
//! This module owns the shapes (and their serde forms, which are what sled stores) and the
//! rules that belong to the data itself: which ids are well formed, the one spelling of a
//! network name, the permission vocabulary ([`permissions`]). It does not own key encodings
//! (each backend's own) or what a view may grant (that is `crate::obp::views`).

pub mod permissions;

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

/// A set of boolean permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions(u128);

impl Permissions {
    /// The set of the named permissions; unknown names are returned as the error.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut bits = 0u128;
        for name in names {
            let i = permissions::index(name.as_ref()).ok_or_else(|| name.as_ref().to_owned())?;
            bits |= 1 << i;
        }
        Ok(Self(bits))
    }

    /// The set of every name in `names` (a union of groups); unknown names are left out.
    pub fn of(names: &[&[&str]]) -> Self {
        let all: Vec<&str> = names.iter().flat_map(|n| n.iter().copied()).collect();
        Self::from_names(&all).unwrap_or_default()
    }

    /// Whether `name` is in the set.
    pub fn has(self, name: &str) -> bool {
        permissions::index(name).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Every permission in either set.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every permission here is also in `other`.
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The names in the set, in [`permissions::ALL`] order.
    pub fn names(self) -> Vec<&'static str> {
        permissions::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Serialize for Permissions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Permissions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        Self::from_names(&names)
            .map_err(|bad| serde::de::Error::custom(format!("unknown permission {bad}")))
    }
}

/// A view: system (shared by every account) or custom (one account's, id starting with `_`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// `VIEW_ID`.
    pub id: String,
    /// System or custom.
    pub is_system: bool,
    /// Display name.
    pub short_name: String,
    /// Free text.
    pub description: String,
    /// The view whose metadata this one shows.
    pub metadata_view: String,
    /// OBP's public flag (stored and shown; grants no anonymous access here).
    pub is_public: bool,
    /// `which_alias_to_use`: "", "public" or "private".
    pub alias: String,
    /// OBP's `hide_metadata_if_alias_used`.
    pub hide_metadata_if_alias_used: bool,
    /// The boolean permissions.
    pub permissions: Permissions,
    /// System views a holder may grant.
    pub can_grant_access_to_views: Vec<String>,
    /// System views a holder may revoke.
    pub can_revoke_access_to_views: Vec<String>,
}

/// The owner view, which an account's last holder cannot lose.
pub const OWNER: &str = "owner";

/// Whether `id` is a well-formed `BANK_ID`, `ACCOUNT_ID` or `VIEW_ID`: 1 to 128 of
/// `A-Z a-z 0-9 . _ -`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The one spelling of a network name: ASCII upper case (`ethereum`, `Ethereum` and
/// `ETHEREUM` are one network, so one contract is one user). Every network name is folded
/// to this form where it enters: token claims, grant requests, configuration, stored identities.
pub fn canonical_network(name: &str) -> String {
    name.to_ascii_uppercase()
}

/// A user a client manages (seed 000's user shape, camelCase as the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientUser {
    /// Random UUID.
    pub user_id: String,
    /// The client's own id for the user, unique per client.
    pub client_user_id: Option<String>,
    /// The managing client.
    pub client_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Scopes of the token that created the user.
    pub scopes: Vec<String>,
    /// Always `client`.
    pub managed_by: String,
    /// When a token was last issued for the user (RFC 3339).
    pub last_accessed: Option<String>,
    /// Set by `DELETE /users/{userId}`; a deleted user gets no more tokens.
    pub deleted_at: Option<String>,
    /// Always `api`.
    pub user_type: String,
    /// The client's name.
    pub client_name: String,
    /// Connections (none are made by this gateway).
    pub connection_ids: Vec<String>,
}

/// A client as stored by `admin client add`: key material as text, parsed at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredClient {
    /// `client_id`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// PEM public keys.
    pub public_keys_pem: Vec<String>,
    /// Or a JWKS document.
    pub jwks: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}
