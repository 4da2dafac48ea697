//! The Airnode retry record: which request each on-chain request id was first seen with, and
//! the first response, kept so a retry gets it again instead of making the backend act twice.
//!
//! Airnode retries a request with the same request id (twice per cycle, then each cycle until
//! it is fulfilled). A retry is not a replay: the same key ([`RetryKey`]: the Airnode block,
//! chain id and request id) with the same [`Binding`] (requester, sponsors, method, path and
//! query, body) is served; with another binding it is refused. For a request whose method may
//! act (not GET or HEAD) the first attempt's answer is kept ([`Outcome::Kept`]) and given to
//! every retry, and a retry that arrives while the first is in flight waits for it.
//!
//! [`RetryRecord`] is the contract, beside [`super::ReplayWindow`], so a shared backend can
//! hold it for replicas; [`MemoryRetries`] is the in-memory one. It is bounded twice, and fails
//! closed at each bound: a full record refuses new keys ([`Bind::Full`], 503) rather than
//! forget a binding, and a response that does not fit in the memory left for kept responses is
//! not kept ([`Outcome::NotKept`]: a retry is refused, 409) rather than let the backend act
//! twice.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::watch;

use super::error::StoreError;

/// Which request id an entry is about: a digest of the block, the chain id and the request id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RetryKey(pub u128);

/// What a request id was first used for: a SHA-256 digest of the request's binding.
pub type Binding = [u8; 32];

/// A first response kept for retries: status, headers and the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    /// The status code.
    pub status: u16,
    /// The header lines, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Bytes,
}

impl KeptResponse {
    /// The bytes it holds (what counts against the record's memory bound).
    pub fn size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// How the first request with a key ended, as retries see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A GET or HEAD: a retry is forwarded again (nothing is kept).
    Served,
    /// The first response, to be replayed.
    Kept(Arc<KeptResponse>),
    /// The first response was not kept (too large, no memory left, or no response was made):
    /// a retry cannot be answered without acting again.
    NotKept,
}

/// What [`RetryRecord::bind`] made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// The first with this key: recorded. When it was bound to keep its answer, the caller
    /// must [`RetryRecord::finish`] it.
    First,
    /// A retry of a first that has ended.
    Retry(Outcome),
    /// A retry while the first is still in flight: [`RetryRecord::wait`] for it.
    InFlight,
    /// The key is bound to another binding.
    Conflict,
    /// The record is full of unexpired bindings (fail closed).
    Full,
}

/// The retry record's contract (see the module docs).
#[async_trait]
pub trait RetryRecord: Send + Sync {
    /// Binds `key` to `binding` until `expires_at`, unless it is bound and unexpired at `now`.
    /// `keep`: the first's answer will be kept ([`RetryRecord::finish`]); until then retries
    /// are [`Bind::InFlight`]. Otherwise the entry is [`Outcome::Served`] at once.
    async fn bind(
        &self,
        key: RetryKey,
        binding: &Binding,
        keep: bool,
        expires_at: i64,
        now: i64,
    ) -> Result<Bind, StoreError>;

    /// Records how the first with `key` ended and wakes the retries waiting for it. A kept
    /// response over the memory bound is recorded as [`Outcome::NotKept`].
    async fn finish(&self, key: RetryKey, outcome: Outcome) -> Result<(), StoreError>;

    /// Waits at most `timeout` for the first with `key` to end; `None` if it did not.
    async fn wait(&self, key: RetryKey, timeout: Duration) -> Result<Option<Outcome>, StoreError>;

    /// Forgets entries expired at `now`; returns how many. Run in the background.
    async fn prune(&self, now: i64) -> Result<usize, StoreError>;

    /// Retries waiting now for their first to end (tests and metrics; 0 when unknown).
    fn waiting(&self) -> usize {
        0
    }
}

/// The in-memory [`RetryRecord`]: forgotten on restart (a retry after a restart is a first).
pub struct MemoryRetries {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<RetryKey, Entry>,
    by_expiry: BTreeSet<(i64, RetryKey)>,
    bytes: usize,
}

struct Entry {
    binding: Binding,
    outcome: watch::Sender<Option<Outcome>>,
    bytes: usize,
}

impl MemoryRetries {
    /// A record of at most `capacity` bindings and `max_bytes` of kept responses.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            max_bytes,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic mid-update; the maps are still sound.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn prune(&mut self, now: i64) -> usize {
        let mut dropped = 0;
        while let Some(&(expires, key)) = self.by_expiry.first() {
            if expires > now {
                break;
            }
            self.by_expiry.remove(&(expires, key));
            if let Some(e) = self.entries.remove(&key) {
                self.bytes -= e.bytes;
                dropped += 1;
            }
        }
        dropped
    }
}

#[async_trait]
impl RetryRecord for MemoryRetries {
    async fn bind(
        &self,
        key: RetryKey,
        binding: &Binding,
        keep: bool,
        expires_at: i64,
        now: i64,
    ) -> Result<Bind, StoreError> {
        let mut inner = self.lock();
        inner.prune(now);
        if let Some(entry) = inner.entries.get(&key) {
            if entry.binding != *binding {
                return Ok(Bind::Conflict);
            }
            return Ok(match entry.outcome.borrow().clone() {
                Some(outcome) => Bind::Retry(outcome),
                None => Bind::InFlight,
            });
        }
        if inner.entries.len() >= self.capacity {
            return Ok(Bind::Full);
        }
        let first = (!keep).then_some(Outcome::Served);
        let entry = Entry {
            binding: *binding,
            outcome: watch::Sender::new(first),
            bytes: 0,
        };
        inner.entries.insert(key, entry);
        inner.by_expiry.insert((expires_at, key));
        Ok(Bind::First)
    }

    async fn finish(&self, key: RetryKey, outcome: Outcome) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let room = self.max_bytes.saturating_sub(inner.bytes);
        let Some(entry) = inner.entries.get_mut(&key) else {
            return Ok(());
        };
        if entry.outcome.borrow().is_some() {
            return Ok(());
        }
        let (outcome, bytes) = match outcome {
            Outcome::Kept(kept) if kept.size() > room => (Outcome::NotKept, 0),
            Outcome::Kept(kept) => {
                let size = kept.size();
                (Outcome::Kept(kept), size)
            }
            other => (other, 0),
        };
        entry.bytes = bytes;
        entry.outcome.send_replace(Some(outcome));
        inner.bytes += bytes;
        Ok(())
    }

    async fn wait(&self, key: RetryKey, timeout: Duration) -> Result<Option<Outcome>, StoreError> {
        let mut rx = {
            let inner = self.lock();
            match inner.entries.get(&key) {
                Some(entry) => entry.outcome.subscribe(),
                // Gone (expired): nothing to wait for, and nothing kept.
                None => return Ok(Some(Outcome::NotKept)),
            }
        };
        let ended = tokio::time::timeout(timeout, rx.wait_for(Option::is_some)).await;
        Ok(match ended {
            Err(_) => None,
            Ok(Ok(outcome)) => outcome.clone(),
            // The entry was dropped while waiting: nothing kept.
            Ok(Err(_)) => Some(Outcome::NotKept),
        })
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self.lock().prune(now))
    }

    fn waiting(&self) -> usize {
        self.lock()
            .entries
            .values()
            .map(|e| e.outcome.receiver_count())
            .sum()
    }
}

#[cfg(test)]
mod tests;
