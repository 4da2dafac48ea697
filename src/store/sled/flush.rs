//! Group commit: one thread runs sled's blocking `flush`, and every writer waiting when a flush
//! starts is answered by that flush.
//!
//! Why not `flush_async`: in sled 0.34.7 it parks one of sled's own I/O pool threads in the
//! flush, and the pool's bookkeeping can stop it from growing, so concurrent flushes can take
//! every pool thread while the buffer writes they wait for sit queued behind them (seen here as
//! a hang under load). A dedicated thread never holds a pool thread, and batching turns a burst
//! of writes into a handful of fsyncs.
//!
//! Under load (the last flush answered more than one writer) the thread first waits
//! [`GATHER`] for more writers to join, as PostgreSQL's `commit_delay` does: each flush costs
//! the kernel a disk write, an I/O wait and the wake-ups around it whatever it carries. On the
//! benchmark machine (scenario G: every request a new user, 64 connections) a flush cost the
//! gateway about 400 µs of CPU; with a 0.5 ms wait a flush answered about 3 writers and G made
//! 3,950 users a second, with 1.5 ms about 13 and 6,300-7,900 (1 ms: 6,400; 3 ms: 6,500).
//! One writer at a time is flushed at once.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), sled::Error>>;

/// How long a flush under load waits for more writers to join it.
const GATHER: Duration = Duration::from_micros(1500);

/// Sends flush requests to the flushing thread.
pub(super) struct Flusher {
    tx: Option<mpsc::Sender<Waiter>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts the flushing thread for `db`; it ends when the `Flusher` is dropped.
    pub(super) fn start(db: sled::Db) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("store-flush".into())
            .spawn(move || {
                let mut busy = false;
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    if busy {
                        std::thread::sleep(GATHER);
                    }
                    batch.extend(rx.try_iter());
                    busy = batch.len() > 1;
                    let outcome = db.flush().map(drop);
                    for waiter in batch {
                        let _ = waiter.send(outcome.clone());
                    }
                }
            })?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Resolves once everything written before the call is on disk.
    pub(super) async fn flush(&self) -> Result<(), sled::Error> {
        let (done, wait) = oneshot::channel();
        let stopped = || sled::Error::ReportableBug("store flush thread stopped".into());
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(done)
            // Nothing to keep: a closed channel only says the thread is gone.
            .map_err(|_| stopped())?;
        // Nothing to keep: a dropped answer only says the thread is gone.
        wait.await.map_err(|_| stopped())?
    }
}

impl Drop for Flusher {
    /// Stops the thread and waits for it, so its handle on the database is released with the
    /// store's: a store dropped at shutdown can be reopened at once.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
