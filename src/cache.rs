//! A bounded, sharded, expiring map from 128-bit digests to shared values: the verified-token
//! cache and the hot-user cache.
//!
//! Keys are SHA-256 digests cut to 128 bits ([`digest()`]), so a token is never kept whole and a
//! stranger cannot aim a collision at a cached entry. Each shard evicts its oldest insertion when
//! full; an expired entry is dropped when it is next looked at. Locks are held only for a map
//! operation, never across an `.await`. The maps hash a key by taking bits of it
//! ([`DigestKeys`]): a digest is already uniform, and a stranger cannot aim at a bucket without
//! a SHA-256 preimage.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};

use aws_lc_rs::digest;

const SHARDS: usize = 16;

/// The cache key of `parts`: SHA-256 over each part, length-prefixed, cut to 128 bits.
pub(crate) fn digest(parts: &[&[u8]]) -> u128 {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    let out = ctx.finish();
    let mut first = [0u8; 16];
    first.copy_from_slice(&out.as_ref()[..16]);
    u128::from_be_bytes(first)
}

/// The hasher of maps keyed by [`digest()`] values: the key's high 64 bits, as they are. The
/// shard of a key is chosen by its low bits, so those are the same within a shard and would
/// put every key of one shard in a sixteenth of its buckets; SipHash (the default) would only
/// spend time mixing bits that are random already (SHA-256 output).
#[derive(Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is expected; anything else is still hashed, FNV-1a over the bytes.
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, key: u128) {
        self.0 = (key >> 64) as u64;
    }
}

/// [`HashMap`]'s hasher for digest keys.
pub(crate) type DigestKeys = BuildHasherDefault<DigestHasher>;

struct Shard<V> {
    map: HashMap<u128, (V, i64), DigestKeys>,
    order: VecDeque<u128>,
}

/// The cache.
pub(crate) struct BoundedCache<V> {
    shards: Vec<Mutex<Shard<V>>>,
    per_shard: usize,
}

impl<V: Clone> BoundedCache<V> {
    /// A cache of about `capacity` entries (0 disables it).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::default(),
                        order: VecDeque::new(),
                    })
                })
                .collect(),
            per_shard: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, key: u128) -> MutexGuard<'_, Shard<V>> {
        // A poisoned lock only means a panic elsewhere; the map itself is sound.
        self.shards[(key as usize) % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The value for `key`, if present and still valid at `now` (Unix seconds).
    pub(crate) fn get(&self, key: u128, now: i64) -> Option<V> {
        if self.per_shard == 0 {
            return None;
        }
        let mut shard = self.shard(key);
        match shard.map.get(&key) {
            Some((v, until)) if *until > now => Some(v.clone()),
            Some(_) => {
                shard.map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` for `key` until `valid_until` (Unix seconds).
    pub(crate) fn insert(&self, key: u128, value: V, valid_until: i64) {
        if self.per_shard == 0 {
            return;
        }
        let mut shard = self.shard(key);
        if shard.map.insert(key, (value, valid_until)).is_none() {
            shard.order.push_back(key);
        }
        while shard.map.len() > self.per_shard {
            match shard.order.pop_front() {
                Some(old) => {
                    shard.map.remove(&old);
                }
                None => break,
            }
        }
        // Keys removed on expiry linger in `order`; keep it from growing past twice the map.
        if shard.order.len() > 2 * self.per_shard {
            let Shard { map, order } = &mut *shard;
            order.retain(|k| map.contains_key(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn a_digest_key_hashes_to_its_high_bits() {
        let key = digest(&[b"k"]);
        assert_eq!(DigestKeys::default().hash_one(key), (key >> 64) as u64);
        // Keys of one shard (same low bits) still spread over the buckets.
        let a = DigestKeys::default().hash_one(5u128 | (1u128 << 64));
        let b = DigestKeys::default().hash_one(5u128 | (2u128 << 64));
        assert_ne!(a, b);
    }

    #[test]
    fn entries_expire_and_the_oldest_is_evicted() {
        let c = BoundedCache::new(SHARDS);
        c.insert(1, "a", 100);
        assert_eq!(c.get(1, 99), Some("a"));
        assert_eq!(c.get(1, 100), None);
        // One entry per shard: a second key in shard 1 evicts the first.
        c.insert(1, "a", 100);
        c.insert(1 + SHARDS as u128, "b", 100);
        assert_eq!(c.get(1, 0), None);
        assert_eq!(c.get(1 + SHARDS as u128, 0), Some("b"));
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let c = BoundedCache::new(0);
        c.insert(1, 1, i64::MAX);
        assert_eq!(c.get(1, 0), None);
    }

    #[test]
    fn digests_separate_parts() {
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
        assert_eq!(digest(&[b"x"]), digest(&[b"x"]));
    }
}
