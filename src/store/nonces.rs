//! SIWE nonces (EIP-4361): each issued nonce bound to the address it was issued for, valid for
//! `wallets.nonce_ttl_secs`, taken once. Behind a trait ([`SiweNonces`]) so a shared backend
//! can hold them for several gateways; [`MemoryNonces`] is the in-memory one, bounded (a full
//! table refuses to issue more, fail closed, rather than forgetting live nonces).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::error::StoreError;

/// What became of an issued nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// Stored.
    Stored,
    /// The table is full of unexpired nonces.
    Full,
}

/// Issued SIWE nonces.
#[async_trait]
pub trait SiweNonces: Send + Sync {
    /// Records `nonce` for `address` (EIP-55) until `expires_at`.
    async fn issue(
        &self,
        nonce: &str,
        address: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Issued, StoreError>;

    /// Takes `nonce` if it was issued for `address` and is unexpired at `now`: true once, then
    /// false. A nonce presented for another address is left for its own.
    async fn take(&self, nonce: &str, address: &str, now: i64) -> Result<bool, StoreError>;

    /// Forgets nonces expired at `now`; returns how many.
    async fn prune(&self, now: i64) -> Result<usize, StoreError>;
}

/// The in-memory [`SiweNonces`].
pub struct MemoryNonces {
    capacity: usize,
    table: Mutex<HashMap<String, (String, i64)>>,
}

impl MemoryNonces {
    /// A table of at most `capacity` live nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, i64)>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is sound.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl SiweNonces for MemoryNonces {
    async fn issue(
        &self,
        nonce: &str,
        address: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Issued, StoreError> {
        let mut table = self.table();
        if table.len() >= self.capacity {
            table.retain(|_, (_, until)| *until > now);
        }
        if table.len() >= self.capacity {
            return Ok(Issued::Full);
        }
        table.insert(nonce.to_owned(), (address.to_owned(), expires_at));
        Ok(Issued::Stored)
    }

    async fn take(&self, nonce: &str, address: &str, now: i64) -> Result<bool, StoreError> {
        let mut table = self.table();
        let live = table
            .get(nonce)
            .is_some_and(|(owner, until)| owner == address && *until > now);
        if live {
            table.remove(nonce);
        }
        Ok(live)
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        let mut table = self.table();
        let before = table.len();
        table.retain(|_, (_, until)| *until > now);
        Ok(before - table.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_nonce_is_taken_once_by_its_own_address_while_fresh() {
        let n = MemoryNonces::new(2);
        assert_eq!(
            n.issue("n1", "0xA", 100, 0).await.ok(),
            Some(Issued::Stored)
        );
        assert_eq!(
            n.take("n1", "0xB", 10).await.ok(),
            Some(false),
            "another address"
        );
        assert_eq!(n.take("n1", "0xA", 10).await.ok(), Some(true));
        assert_eq!(n.take("n1", "0xA", 11).await.ok(), Some(false), "used");
        assert_eq!(
            n.issue("n2", "0xA", 100, 0).await.ok(),
            Some(Issued::Stored)
        );
        assert_eq!(n.take("n2", "0xA", 100).await.ok(), Some(false), "expired");
        assert_eq!(n.take("never", "0xA", 1).await.ok(), Some(false));
    }

    #[tokio::test]
    async fn a_full_table_refuses_until_nonces_expire() {
        let n = MemoryNonces::new(1);
        assert_eq!(n.issue("a", "0xA", 10, 0).await.ok(), Some(Issued::Stored));
        assert_eq!(n.issue("b", "0xA", 10, 5).await.ok(), Some(Issued::Full));
        assert_eq!(n.issue("b", "0xA", 30, 10).await.ok(), Some(Issued::Stored));
    }
}
