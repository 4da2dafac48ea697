//! Opening the sled store: the trees, the flush thread, the migrations; and handing it out as
//! the gateway's [`Stores`].

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::db::{Inner, SledStore};
use super::flush::Flusher;
use super::migrate;
use crate::store::Stores;
use crate::store::cached::HotUsers;
use crate::store::error::StoreError;

impl SledStore {
    /// Opens (creating if missing) the store at `path`. `cache_bytes` bounds sled's page cache.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(500))
            .open()
            .map_err(|e| match &e {
                // sled's own words for a store another process has locked (its only way to
                // say it: an `Other` I/O error with this text).
                sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                    StoreError::InUse
                }
                _ => StoreError::from(e),
            })?;
        Self::from_db(db)
    }

    /// A store in a temporary directory, deleted on drop. For tests and benchmarks.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        let inner = Inner {
            users: db.open_tree("users")?,
            identities: db.open_tree("identities")?,
            accounts: db.open_tree("accounts")?,
            views: db.open_tree("views")?,
            access: db.open_tree("access")?,
            profiles: db.open_tree("profiles")?,
            codes: db.open_tree("codes")?,
            refresh: db.open_tree("refresh")?,
            clients: db.open_tree("clients")?,
            client_users: db.open_tree("client_users")?,
            assertions: db.open_tree("assertions")?,
            flusher: Flusher::start(db.clone()).map_err(StoreError::Io)?,
            db,
            pending: AtomicUsize::new(0),
        };
        let folded = migrate::fold_network_names(&inner)?;
        if folded > 0 {
            tracing::info!(folded, "DAuth identities folded to canonical network names");
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// This store as every store the gateway uses, with up to `hot_users` DAuth users answered
    /// from memory (`HotUsers`; 0: none).
    pub fn stores(&self, hot_users: usize) -> Stores {
        let this = Arc::new(self.clone());
        Stores {
            users: Arc::new(HotUsers::new(this.clone(), hot_users)),
            access: this.clone(),
            passwords: this.clone(),
            clients: this.clone(),
            assertions: this.clone(),
            backend: this,
        }
    }
}
