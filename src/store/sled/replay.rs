//! The stored replay window: the `assertions` tree, `j`(client, jti) -> expiry (big-endian
//! i64) for client assertions, `d`(consumer_key, request_id) likewise for DAuth ids.
//!
//! An id is recorded with a compare-and-swap, so two concurrent uses of one id cannot both be
//! fresh. It is kept by sled's periodic flush (every 500 ms), not flushed per call: a crash may
//! forget the last ids, as a restart forgets the in-memory window. Expired ids are removed by
//! [`ReplayWindow::prune`], which the gateway runs in the background.

use async_trait::async_trait;

use super::db::SledStore;
use super::keys::key;
use crate::store::error::StoreError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

fn scope_key(scope: ReplayScope<'_>, id: &str) -> Vec<u8> {
    match scope {
        ReplayScope::Assertion { client_id } => key(b'j', &[client_id, id]),
        ReplayScope::Dauth { consumer_key } => key(b'd', &[consumer_key, id]),
        ReplayScope::Erc8128 { keyid } => key(b'e', &[keyid, id]),
    }
}

fn expiry(raw: &[u8]) -> Option<i64> {
    raw.try_into().ok().map(i64::from_be_bytes)
}

#[async_trait]
impl ReplayWindow for SledStore {
    async fn record(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, StoreError> {
        let k = scope_key(scope, id);
        let tree = &self.inner.assertions;
        let until = expires_at.to_be_bytes();
        let fresh = match tree.compare_and_swap(&k, None as Option<&[u8]>, Some(&until[..]))? {
            Ok(()) => true,
            Err(current) => {
                let expired = current
                    .current
                    .as_deref()
                    .and_then(expiry)
                    .is_none_or(|e| e <= now);
                expired
                    && tree
                        .compare_and_swap(&k, current.current, Some(&until[..]))?
                        .is_ok()
            }
        };
        Ok(if fresh { Replay::Fresh } else { Replay::Seen })
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        let store = self.clone();
        let pruned = tokio::task::spawn_blocking(move || -> Result<usize, StoreError> {
            let tree = &store.inner.assertions;
            let mut pruned = 0;
            for item in tree.iter() {
                let (k, v) = item?;
                if expiry(&v).is_some_and(|e| e <= now) {
                    // Removed only if unchanged: an id recorded again meanwhile stays.
                    if tree
                        .compare_and_swap(&k, Some(v), None as Option<&[u8]>)?
                        .is_ok()
                    {
                        pruned += 1;
                    }
                }
            }
            Ok(pruned)
        });
        pruned.await.map_err(StoreError::TaskFailed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> ReplayScope<'_> {
        ReplayScope::Assertion { client_id: id }
    }

    #[tokio::test]
    async fn assertion_ids_are_accepted_once_until_they_expire() {
        let store = SledStore::temporary().unwrap();
        let fresh = |r: Replay| r == Replay::Fresh;
        assert!(fresh(
            store.record(client("c"), "j1", 100, 50).await.unwrap()
        ));
        assert!(!fresh(
            store.record(client("c"), "j1", 100, 60).await.unwrap()
        ));
        assert!(fresh(
            store.record(client("other"), "j1", 100, 60).await.unwrap()
        ));
        // After expiry the id may be reused (its assertion could not be valid again anyway).
        assert!(fresh(
            store.record(client("c"), "j1", 200, 101).await.unwrap()
        ));
    }

    #[tokio::test]
    async fn pruning_forgets_only_expired_ids() {
        let store = SledStore::temporary().unwrap();
        store.record(client("c"), "old", 100, 50).await.unwrap();
        store.record(client("c"), "new", 300, 50).await.unwrap();
        assert_eq!(store.prune(200).await.unwrap(), 1);
        assert_eq!(
            store.record(client("c"), "new", 300, 200).await.unwrap(),
            Replay::Seen
        );
        assert_eq!(store.prune(200).await.unwrap(), 0);
    }
}
