//! Every record of a store, backend-neutral: what `dauth-proxy admin copy-store` reads out of
//! sled ([`crate::store::sled::SledStore::dump`]) and writes into PostgreSQL
//! ([`crate::store::postgres::PgStore::copy_dump`]).

use super::model::{Account, ClientUser, Profile, StoredClient, User, View};

/// One refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRecord {
    /// The family id.
    pub family: String,
    /// Its user.
    pub user_id: String,
    /// The current token id.
    pub jti: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Every record of a store.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    /// Users of every kind.
    pub users: Vec<User>,
    /// Password users' profiles, by user id.
    pub profiles: Vec<(String, Profile)>,
    /// Confirmation-code digests and their users.
    pub codes: Vec<(String, String)>,
    /// Refresh-token families.
    pub refresh: Vec<FamilyRecord>,
    /// Accounts.
    pub accounts: Vec<Account>,
    /// Custom views: (bank, account, view).
    pub views: Vec<(String, String, View)>,
    /// Access rows: (user, bank, account, view).
    pub access: Vec<(String, String, String, String)>,
    /// Stored clients.
    pub clients: Vec<StoredClient>,
    /// Clients' users.
    pub client_users: Vec<ClientUser>,
    /// Used ids: (scope as `j:`/`d:`/`e:` plus the scope's id, id, expiry).
    pub replay: Vec<(String, String, i64)>,
}

impl Dump {
    /// Number of records of each kind, for the command's report.
    pub fn counts(&self) -> serde_json::Value {
        serde_json::json!({
            "users": self.users.len(),
            "profiles": self.profiles.len(),
            "codes": self.codes.len(),
            "refresh_families": self.refresh.len(),
            "accounts": self.accounts.len(),
            "custom_views": self.views.len(),
            "access_rows": self.access.len(),
            "clients": self.clients.len(),
            "client_users": self.client_users.len(),
            "replay_ids": self.replay.len(),
        })
    }
}
