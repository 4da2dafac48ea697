//! The replay window: each (consumer_key, request_id) is accepted once while its token could
//! still be fresh.
//!
//! Entries are 128-bit digests of the pair, so memory does not depend on what a signer puts in
//! the claims. Every entry lives for the same time (the freshness window), so each shard's
//! queue is in expiry order and pruning is amortised O(1). The window is bounded: when a shard
//! is full of unexpired entries the check fails closed (503) instead of forgetting, since
//! forgetting would let a replay through.
//!
//! The window is held in memory. A restart forgets it; tokens accepted before a restart could be
//! replayed within what is left of their freshness window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use aws_lc_rs::digest;

use crate::error::Error;

const SHARDS: usize = 16;

/// A bounded set of recently seen (consumer_key, request_id) pairs.
pub struct ReplayGuard {
    ttl_secs: i64,
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    seen: HashMap<u128, i64>,
    queue: VecDeque<(i64, u128)>,
}

impl ReplayGuard {
    /// A window remembering each pair for `ttl_secs`, holding at most about `capacity` pairs.
    pub fn new(ttl_secs: u64, capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        Self {
            ttl_secs: i64::try_from(ttl_secs).unwrap_or(i64::MAX),
            per_shard,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    /// Records the pair at `now` (unix seconds). Refuses a pair already in the window.
    pub fn check_and_record(
        &self,
        consumer_key: &str,
        request_id: &str,
        now: i64,
    ) -> Result<(), Error> {
        let id = digest_pair(consumer_key, request_id);
        let shard = &self.shards[(id as usize) % SHARDS];
        // A poisoned lock only means another thread panicked mid-insert; the map is still sound.
        let mut shard = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shard.prune(now);
        if shard.seen.contains_key(&id) {
            return Err(Error::TokenReplayed);
        }
        if shard.seen.len() >= self.per_shard {
            return Err(Error::ReplayWindowFull);
        }
        let expires = now.saturating_add(self.ttl_secs);
        shard.seen.insert(id, expires);
        shard.queue.push_back((expires, id));
        Ok(())
    }

    /// Number of pairs currently remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .seen
                    .len()
            })
            .sum()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Shard {
    fn prune(&mut self, now: i64) {
        while let Some(&(expires, id)) = self.queue.front() {
            if expires > now {
                break;
            }
            self.queue.pop_front();
            self.seen.remove(&id);
        }
    }
}

fn digest_pair(consumer_key: &str, request_id: &str) -> u128 {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&(consumer_key.len() as u64).to_be_bytes());
    ctx.update(consumer_key.as_bytes());
    ctx.update(request_id.as_bytes());
    let out = ctx.finish();
    let mut first = [0u8; 16];
    first.copy_from_slice(&out.as_ref()[..16]);
    u128::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_use_in_window_is_refused_and_allowed_after() {
        let g = ReplayGuard::new(10, 100);
        g.check_and_record("ck", "r1", 1000).unwrap();
        assert!(matches!(
            g.check_and_record("ck", "r1", 1005),
            Err(Error::TokenReplayed)
        ));
        g.check_and_record("ck", "r1", 1010).unwrap();
    }

    #[test]
    fn pairs_are_per_consumer() {
        let g = ReplayGuard::new(10, 100);
        g.check_and_record("a", "r", 0).unwrap();
        g.check_and_record("b", "r", 0).unwrap();
        // ("ab","c") and ("a","bc") must differ.
        g.check_and_record("ab", "c", 0).unwrap();
        g.check_and_record("a", "bc", 0).unwrap();
    }

    #[test]
    fn full_window_fails_closed() {
        let g = ReplayGuard::new(100, SHARDS);
        let outcomes: Vec<_> = (0..200)
            .map(|i| g.check_and_record("ck", &i.to_string(), 0))
            .collect();
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(Error::ReplayWindowFull)))
        );
        assert!(g.len() <= SHARDS);
        // Once entries expire there is room again.
        g.check_and_record("ck", "late", 100).unwrap();
    }
}
