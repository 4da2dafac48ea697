//! The in-memory replay window: each (consumer_key, request_id) of a DAuth token is accepted
//! once while its token could still be fresh. An implementation of the store's
//! [`ReplayWindow`] (the stored one, for client assertions, is sled's).
//!
//! Entries are 128-bit digests of the scope and the id, so memory does not depend on what a
//! signer puts in the claims. Every DAuth entry lives for the same time (the freshness window),
//! so each shard's queue is in expiry order and dropping expired entries from its front is
//! amortised O(1); [`ReplayWindow::prune`] does the same for every shard in the background.
//! The window is bounded: when a shard is full of unexpired entries the check fails closed
//! ([`Replay::Full`], answered 503) instead of forgetting, since forgetting would let a replay
//! through.
//!
//! The window is held in memory. A restart forgets it; tokens accepted before a restart could be
//! replayed within what is left of their freshness window.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::cache::{DigestKeys, digest};
use crate::store::error::StoreError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

const SHARDS: usize = 16;

/// A bounded set of recently seen ids.
pub(crate) struct ReplayGuard {
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    seen: HashMap<u128, i64, DigestKeys>,
    queue: VecDeque<(i64, u128)>,
}

impl ReplayGuard {
    /// A window holding at most about `capacity` unexpired ids.
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        Self {
            per_shard,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    fn shard(&self, id: u128) -> MutexGuard<'_, Shard> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still sound.
        self.shards[(id as usize) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `id` in `scope` until `expires_at`, at `now` (see [`ReplayWindow::record`]).
    pub(crate) fn check(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Replay {
        let key = digest_of(scope, id);
        let mut shard = self.shard(key);
        shard.prune(now);
        let Shard { seen, queue } = &mut *shard;
        // One lookup for the check and the insert: the map is large and each probe a likely
        // cache miss.
        let full = seen.len() >= self.per_shard;
        match seen.entry(key) {
            Entry::Occupied(entry) if *entry.get() > now => Replay::Seen,
            _ if full => Replay::Full,
            // New, or expired and not yet pruned: (re)recorded until `expires_at`.
            entry => {
                entry.insert_entry(expires_at);
                queue.push_back((expires_at, key));
                Replay::Fresh
            }
        }
    }

    /// Number of ids currently remembered (each shard locked in turn).
    pub(crate) fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.shard(i as u128).seen.len()).sum()
    }

    /// True when nothing is remembered.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ReplayWindow for ReplayGuard {
    async fn record(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, StoreError> {
        Ok(self.check(scope, id, expires_at, now))
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        Ok((0..SHARDS).map(|i| self.shard(i as u128).prune(now)).sum())
    }

    fn held(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl Shard {
    /// Drops the entries expired at `now` from the front of the queue; returns how many.
    fn prune(&mut self, now: i64) -> usize {
        let mut dropped = 0;
        while let Some(&(expires, id)) = self.queue.front() {
            if expires > now {
                break;
            }
            self.queue.pop_front();
            // An id recorded again later has a later expiry: only its own entry removes it.
            if let Entry::Occupied(entry) = self.seen.entry(id)
                && *entry.get() == expires
            {
                entry.remove();
                dropped += 1;
            }
        }
        dropped
    }
}

/// The key of `id` in `scope`: a digest of the scope's tag and name and the id, each
/// length-prefixed, so (`ab`, `c`) and (`a`, `bc`) differ and the two scopes never collide.
fn digest_of(scope: ReplayScope<'_>, id: &str) -> u128 {
    let (tag, name): (&[u8], &str) = match scope {
        ReplayScope::Dauth { consumer_key } => (b"dauth", consumer_key),
        ReplayScope::Assertion { client_id } => (b"assertion", client_id),
        ReplayScope::Erc8128 { keyid } => (b"erc8128", keyid),
    };
    digest(&[tag, name.as_bytes(), id.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ck(consumer_key: &str) -> ReplayScope<'_> {
        ReplayScope::Dauth { consumer_key }
    }

    #[test]
    fn second_use_in_window_is_refused_and_allowed_after() {
        let g = ReplayGuard::new(100);
        assert_eq!(g.check(ck("ck"), "r1", 1010, 1000), Replay::Fresh);
        assert_eq!(g.check(ck("ck"), "r1", 1015, 1005), Replay::Seen);
        assert_eq!(g.check(ck("ck"), "r1", 1020, 1010), Replay::Fresh);
    }

    #[test]
    fn pairs_are_per_consumer() {
        let g = ReplayGuard::new(100);
        assert_eq!(g.check(ck("a"), "r", 10, 0), Replay::Fresh);
        assert_eq!(g.check(ck("b"), "r", 10, 0), Replay::Fresh);
        // ("ab","c") and ("a","bc") must differ.
        assert_eq!(g.check(ck("ab"), "c", 10, 0), Replay::Fresh);
        assert_eq!(g.check(ck("a"), "bc", 10, 0), Replay::Fresh);
        // And a client's jti is not a consumer's request_id.
        let client = ReplayScope::Assertion { client_id: "a" };
        assert_eq!(g.check(client, "r", 10, 0), Replay::Fresh);
    }

    #[test]
    fn full_window_fails_closed() {
        let g = ReplayGuard::new(SHARDS);
        let outcomes: Vec<_> = (0..200)
            .map(|i| g.check(ck("ck"), &i.to_string(), 100, 0))
            .collect();
        assert!(outcomes.contains(&Replay::Full));
        assert!(g.len() <= SHARDS);
        // Once entries expire there is room again.
        assert_eq!(g.check(ck("ck"), "late", 200, 100), Replay::Fresh);
    }

    #[tokio::test]
    async fn background_pruning_frees_every_shard() {
        let g = ReplayGuard::new(1000);
        for i in 0..50 {
            g.check(ck("ck"), &i.to_string(), 100, 0);
        }
        assert_eq!(g.prune(99).await.unwrap(), 0);
        assert_eq!(g.prune(100).await.unwrap(), 50);
        assert!(g.is_empty());
    }
}
