//! The password-reset queue: a reset request is only validated and queued by its handler, and
//! answered at once; the lookup, the code and the mail happen here, in the background.
//!
//! So the answer takes the same time whether or not the address is registered (nothing that
//! depends on it runs before the answer), and never waits for SMTP. The queue is bounded: when
//! `accounts.mail_queue` requests are waiting, the next one is refused (503) before any lookup,
//! for a known address or not. At most [`SENDERS`] are looked up and mailed at once.

use std::sync::Mutex;

use tokio::sync::mpsc;

/// Reset requests looked up and mailed at once.
pub(crate) const SENDERS: usize = 4;

/// The queue of normalised addresses that asked for a reset.
pub(crate) struct ResetQueue {
    tx: mpsc::Sender<String>,
    rx: Mutex<Option<mpsc::Receiver<String>>>,
}

/// The queue is full (or its worker stopped): the request is refused.
#[derive(Debug, thiserror::Error)]
#[error("the password-reset queue is full")]
pub struct QueueFull;

/// A full queue answers 503 `DAUTH-5036`, to every address alike.
impl From<QueueFull> for crate::error::Error {
    fn from(_: QueueFull) -> Self {
        Self::ResetQueueFull
    }
}

impl ResetQueue {
    /// A queue holding up to `capacity` waiting requests (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// Queues a reset for `email`, or refuses at once when the queue is full.
    pub(crate) fn push(&self, email: String) -> Result<(), QueueFull> {
        // The channel's error only hands the address back: full, or its worker stopped.
        self.tx.try_send(email).map_err(|_| QueueFull)
    }

    /// The receiving end, once: for the worker that empties the queue.
    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<String>> {
        self.rx.lock().ok().and_then(|mut rx| rx.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_at_once_and_frees_as_it_is_emptied() {
        let q = ResetQueue::new(2);
        q.push("a@example.com".into()).unwrap();
        q.push("b@example.com".into()).unwrap();
        assert!(q.push("c@example.com".into()).is_err());
        let mut rx = q.take_receiver().unwrap();
        assert!(q.take_receiver().is_none());
        assert_eq!(rx.try_recv().unwrap(), "a@example.com");
        q.push("c@example.com".into()).unwrap();
    }
}
