//! The password-hashing pool: a fixed set of threads (`accounts.hash_slots`), each reusing one
//! argon2 memory block of its own, behind a bounded queue (`accounts.hash_queue`).
//!
//! Why not `spawn_blocking` and argon2's own allocation, as before: every hash then allocated a
//! fresh 19 MiB block, and once glibc has freed one such block its dynamic mmap threshold rises
//! above 19 MiB, so the later blocks come from malloc's heaps, which keep freed memory and grow
//! with every 64-byte-aligned block that does not fit the hole the last one left. 200
//! concurrent registrations took RSS from 12 MB to 1.1-1.6 GB (with one malloc arena as with
//! sixteen), and it stayed there; with the threshold pinned (`GLIBC_TUNABLES=
//! glibc.malloc.mmap_threshold=1048576`) the same binary peaked at 98 MB and went back to 22 MB.
//!
//! Here each thread allocates its block once, on first use, reuses it for every hash, and
//! releases it after some seconds without work; the block's allocation reserves (without
//! touching) at least [`MMAP_FLOOR_BLOCKS`], above glibc's largest mmap threshold, so it is
//! always a mapping of its own that is unmapped, returned to the system, when released. Memory
//! for hashing is then at most `hash_slots` x the memory cost (19 MiB for ours; an imported
//! hash dearer than that, up to 64 MiB, gets a block of its own for that one check).
//!
//! The queue: [`HashPool::admit`] hands out at most `slots + queue` tickets; the next caller is
//! refused at once (503) instead of waiting behind an unbounded line.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use argon2::Block;
use tokio::sync::oneshot;

/// Blocks (1 KiB each) reserved for any block allocation: 33 MiB, above glibc's largest
/// dynamic mmap threshold (32 MiB on 64-bit, `DEFAULT_MMAP_THRESHOLD_MAX`), so the allocation
/// is its own mapping. Only the part argon2 uses is ever touched, so only that is resident.
pub(crate) const MMAP_FLOOR_BLOCKS: usize = 33 * 1024;

/// A hashing thread's argon2 memory.
pub(crate) struct Memory {
    kept: Option<Vec<Block>>,
    keep: usize,
    resident: Arc<AtomicUsize>,
}

impl Memory {
    /// Runs `f` on `count` blocks: the thread's own block when `count` is at most the size it
    /// keeps (allocated on first use), else a block allocated for this call and freed after.
    pub(crate) fn with_blocks<T>(&mut self, count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > self.keep {
            return f(&mut allocate(count));
        }
        let keep = self.keep;
        let resident = &self.resident;
        let kept = self.kept.get_or_insert_with(|| {
            resident.fetch_add(keep, Ordering::Relaxed);
            allocate(keep)
        });
        f(&mut kept[..count])
    }

    fn release(&mut self) {
        if self.kept.take().is_some() {
            self.resident.fetch_sub(self.keep, Ordering::Relaxed);
        }
    }
}

/// `count` blocks in an allocation of its own mapping (see [`MMAP_FLOOR_BLOCKS`]).
fn allocate(count: usize) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(count.max(MMAP_FLOOR_BLOCKS));
    blocks.resize(count, Block::new());
    blocks
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    admitted: AtomicUsize,
    capacity: usize,
    idle: Duration,
    resident: Arc<AtomicUsize>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pool was full: the caller is refused at once.
#[derive(Debug, thiserror::Error)]
#[error("the password-hashing queue is full")]
pub(crate) struct PoolBusy;

/// The pool: threads, their memory, and the bounded queue in front of them.
pub(crate) struct HashPool {
    shared: Arc<Shared>,
}

/// A place in the pool, held from admission until the work is done (or given up).
pub(crate) struct Ticket {
    shared: Arc<Shared>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.shared.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    /// Starts `slots` threads (at least one) that each keep up to `keep_blocks` of memory for
    /// as long as they get work at least every `idle`, with room for `queue` more admitted
    /// callers waiting for them.
    pub(crate) fn new(
        slots: usize,
        queue: usize,
        keep_blocks: usize,
        idle: Duration,
    ) -> std::io::Result<Self> {
        let slots = slots.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            admitted: AtomicUsize::new(0),
            capacity: slots.saturating_add(queue),
            idle,
            resident: Arc::new(AtomicUsize::new(0)),
        });
        for i in 0..slots {
            let memory = Memory {
                kept: None,
                keep: keep_blocks,
                resident: Arc::clone(&shared.resident),
            };
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || work(&shared, memory))?;
        }
        Ok(Self { shared })
    }

    /// A place in the pool, or [`PoolBusy`] at once when `slots + queue` are taken.
    pub(crate) fn admit(&self) -> Result<Ticket, PoolBusy> {
        let before = self.shared.admitted.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket {
            shared: Arc::clone(&self.shared),
        };
        if before >= self.shared.capacity {
            return Err(PoolBusy);
        }
        Ok(ticket)
    }

    /// Blocks of memory the threads keep right now.
    #[cfg(test)]
    pub(crate) fn resident_blocks(&self) -> usize {
        self.shared.resident.load(Ordering::Relaxed)
    }
}

impl Drop for HashPool {
    /// Stops the threads once the queued work is done.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

impl Ticket {
    /// Runs `work` on one of the pool's threads with that thread's memory. If the caller stops
    /// waiting before the work starts, it is skipped.
    pub(crate) async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let shared = Arc::clone(&self.shared);
        let job: Job = Box::new(move |memory| {
            let ticket = self;
            let out = (!tx.is_closed()).then(|| work(memory));
            // The place is free before the caller hears back, so it can be taken at once.
            drop(ticket);
            if let Some(out) = out {
                let _ = tx.send(out);
            }
        });
        shared.lock().jobs.push_back(job);
        shared.ready.notify_one();
        rx.await.ok()
    }
}

/// A hashing thread: runs jobs as they come, and gives its memory back when idle.
fn work(shared: &Shared, mut memory: Memory) {
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break Some(job);
                }
                if queue.closed {
                    break None;
                }
                let (q, waited) = shared
                    .ready
                    .wait_timeout(queue, shared.idle)
                    .unwrap_or_else(PoisonError::into_inner);
                queue = q;
                if waited.timed_out() && queue.jobs.is_empty() && memory.kept.is_some() {
                    drop(queue);
                    memory.release();
                    queue = shared.lock();
                }
            }
        };
        let Some(job) = job else { return };
        // A panic in the hashing library ends that job (its caller sees it fail), not the thread.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_slots_and_queue_callers_are_refused_at_once() {
        let pool = HashPool::new(1, 1, 8, Duration::from_secs(60)).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let running = pool.admit().unwrap();
        let queued = pool.admit().unwrap();
        assert!(pool.admit().is_err(), "one running and one waiting: full");
        let first = tokio::spawn(running.run(move |_| hold.recv().is_ok()));
        let second = tokio::spawn(queued.run(|m| m.with_blocks(8, |b| b.len())));
        assert!(pool.admit().is_err());
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Some(true));
        assert_eq!(second.await.unwrap(), Some(8));
        // Both tickets are back.
        let a = pool.admit().unwrap();
        let _b = pool.admit().unwrap();
        drop(a);
        assert!(pool.admit().is_ok());
    }

    #[tokio::test]
    async fn memory_is_kept_while_busy_and_released_when_idle() {
        let pool = HashPool::new(1, 0, 16, Duration::from_millis(100)).unwrap();
        let kept_after = |count: usize| {
            let ticket = pool.admit().unwrap();
            ticket.run(move |m| {
                assert_eq!(m.with_blocks(count, |b| b.len()), count);
                m.kept.as_ref().map(Vec::len)
            })
        };
        // A dearer hash gets a block of its own, not kept; ours is kept and reused.
        assert_eq!(kept_after(64).await, Some(None));
        assert_eq!(kept_after(16).await, Some(Some(16)));
        assert_eq!(kept_after(8).await, Some(Some(16)));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while pool.resident_blocks() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "memory never released"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // And allocated again when work comes back.
        assert_eq!(kept_after(16).await, Some(Some(16)));
    }
}
