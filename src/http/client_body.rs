//! Request bodies as every part of the gateway reads them: a clock between frames, and failures
//! tagged as the client's.
//!
//! The server wraps each request's body in a [`ClientBody`] before the pipeline sees it, so an
//! embedded handler collecting JSON, the token endpoint reading a form and a forwarded upload
//! streaming to a backend all read through the same wrapper:
//! - a client that sends no byte of its body for `server.body_read_timeout_secs` while the
//!   gateway waits for one gets [`ClientBodyError::TimedOut`] (answered 408); the embedded
//!   endpoints, whose bodies are small, also want the whole body within that time
//!   ([`crate::http::read::read_body`]);
//! - any failure of the client's body stream (a malformed chunk, a connection closed before
//!   `Content-Length` bytes, an HTTP/2 stream reset) is [`ClientBodyError::Broken`] (answered
//!   400), so that a forward can tell it apart from a failure of the upstream (502), by finding
//!   the tag in the upstream client's error chain ([`client_fault`]).
//!
//! The clock only runs while the gateway waits for the client: a reader that stops polling (an
//! upstream that does not take more of an upload) is not the client's fault. Time spent waiting
//! for the client is counted ([`ClientBody::waits`]) so that a forward's upstream clock can
//! leave it out.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

use crate::error::Error;
use crate::http::body::BoxError;

/// Why a client's request body could not be read.
#[derive(Debug)]
pub enum ClientBodyError {
    /// No byte arrived for this long while the gateway waited for one.
    TimedOut(Duration),
    /// The body's framing or stream failed (malformed chunk, cut short, reset).
    Broken(BoxError),
}

impl fmt::Display for ClientBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TimedOut(after) => write!(
                f,
                "no byte of the request body arrived for {} s",
                after.as_secs()
            ),
            Self::Broken(cause) => {
                f.write_str("the request body could not be read")?;
                let mut next: Option<&(dyn std::error::Error + 'static)> = Some(cause.as_ref());
                while let Some(e) = next {
                    write!(f, ": {e}")?;
                    next = e.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ClientBodyError {}

impl From<&ClientBodyError> for Error {
    fn from(e: &ClientBodyError) -> Self {
        match e {
            ClientBodyError::TimedOut(_) => Error::BodyTimeout,
            ClientBodyError::Broken(_) => Error::BadBody(e.to_string()),
        }
    }
}

/// The client's body failure somewhere in `err`'s chain of causes, if there is one.
pub fn client_fault<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a ClientBodyError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<ClientBodyError>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// How long a body has kept its reader waiting for the client, shared with whoever watches.
#[derive(Debug)]
pub struct Waits {
    epoch: Instant,
    /// Milliseconds since `epoch` at which the current wait began, plus one; 0: not waiting.
    since: AtomicU64,
    /// Milliseconds of the waits that have ended.
    total: AtomicU64,
}

impl Waits {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            since: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn start(&self) {
        let _ = self.since.compare_exchange(
            0,
            self.now_ms().saturating_add(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    fn stop(&self) {
        let since = self.since.swap(0, Ordering::Relaxed);
        if since > 0 {
            let waited = self.now_ms().saturating_sub(since - 1);
            self.total.fetch_add(waited, Ordering::Relaxed);
        }
    }

    /// Time spent waiting for the client so far, the current wait included.
    pub fn total(&self) -> Duration {
        let since = self.since.load(Ordering::Relaxed);
        let current = if since > 0 {
            self.now_ms().saturating_sub(since - 1)
        } else {
            0
        };
        Duration::from_millis(self.total.load(Ordering::Relaxed).saturating_add(current))
    }

    /// Whether the reader is waiting for the client right now.
    pub fn waiting(&self) -> bool {
        self.since.load(Ordering::Relaxed) > 0
    }
}

/// A deadline between frames: it runs while a reader waits for the next frame and is put back
/// when one arrives. The timer is made once, on the first wait, and reused.
pub struct FrameClock {
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl FrameClock {
    /// A clock allowing `timeout` per wait.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            sleep: None,
            waiting: false,
        }
    }

    /// The reader is waiting: starts the wait if it is a new one; ready once it has lasted
    /// `timeout`.
    pub fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.waiting {
            self.waiting = true;
            let deadline = tokio::time::Instant::now() + self.timeout;
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    /// A frame arrived (or the reader gave up): the wait is over.
    pub fn arrived(&mut self) {
        self.waiting = false;
    }

    /// Whether a wait is under way.
    pub fn is_waiting(&self) -> bool {
        self.waiting
    }

    /// The time allowed per wait.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// What a client's request body may be read from: hyper's [`Incoming`] on a connection, or a
/// body a test or a fuzz target builds in memory.
pub trait Inbound:
    Body<Data = Bytes, Error: Into<BoxError>> + Send + Sync + Unpin + 'static
{
}

impl<B> Inbound for B
where
    B: Body<Data = Bytes> + Send + Sync + Unpin + 'static,
    B::Error: Into<BoxError>,
{
}

/// A client's request body with a deadline between frames (see the module docs).
pub struct ClientBody<B = Incoming> {
    inner: B,
    clock: FrameClock,
    timed_out: bool,
    waits: Option<Arc<Waits>>,
}

impl<B> ClientBody<B> {
    /// Wraps `inner`: no frame for `timeout` while it is read, and it fails.
    pub fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            clock: FrameClock::new(timeout),
            timed_out: false,
            waits: None,
        }
    }

    /// The longest wait for a piece of the body (`server.body_read_timeout_secs`).
    pub fn timeout(&self) -> Duration {
        self.clock.timeout()
    }

    /// The body's account of time spent waiting for the client, from now on.
    pub fn waits(&mut self) -> Arc<Waits> {
        Arc::clone(self.waits.get_or_insert_with(|| Arc::new(Waits::new())))
    }

    fn stop_waiting(&mut self) {
        self.clock.arrived();
        if let Some(w) = &self.waits {
            w.stop();
        }
    }
}

impl<B> Body for ClientBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ClientBodyError>>> {
        let this = self.get_mut();
        let timed_out = ClientBodyError::TimedOut(this.clock.timeout());
        if this.timed_out {
            return Poll::Ready(Some(Err(timed_out)));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.stop_waiting();
                Poll::Ready(frame.map(|f| f.map_err(|e| ClientBodyError::Broken(e.into()))))
            }
            Poll::Pending => {
                if !this.clock.is_waiting()
                    && let Some(w) = &this.waits
                {
                    w.start();
                }
                match this.clock.poll_waiting(cx) {
                    Poll::Ready(()) => {
                        this.stop_waiting();
                        this.timed_out = true;
                        Poll::Ready(Some(Err(timed_out)))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for ClientBody<B> {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}

#[cfg(test)]
mod tests;
