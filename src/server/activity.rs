//! Per-connection activity: what the connection's clocks are measured against.
//!
//! [`TrackedIo`] notes every read and write; [`Activity::begin`] marks a request in flight until
//! its response head is out, and [`Busy::streaming`] marks its response body as still going out
//! until it ends. A connection is in one of these phases:
//! - a request in flight (its body arriving, the upstream awaited): never timed out here; the
//!   body's clock (`crate::http::client_body`) and the route's clock bound it;
//! - a response streaming: activity; only the idle clock applies, from the last byte moved
//!   ([`Verdict::Stalled`]). A client's `WINDOW_UPDATE` while it streams starts no header clock;
//! - waiting for a request head: the header clock runs from the head's first byte. On HTTP/2,
//!   whose frames between requests (`PING`, `WINDOW_UPDATE`, `SETTINGS`) are no request heads,
//!   only until the connection's first request;
//! - idle: the idle clock runs from the last byte moved (on HTTP/2, from the last request's
//!   start or end, for the same reason).
//!
//! Nothing tells the watchdog that a request ended: a wake-up and a new timer for every request
//! cost the busiest path more than the watchdog's whole work. Instead, while a request is in
//! flight or its response streams (or a head arrives, which may become one), the watchdog looks
//! again after as long as that has taken so far, at least the park time (HTTP/1) and at most
//! the header and idle timeouts ([`Activity::next_check`]). So the idle clock that starts when
//! a request ends is always looked at in time; a short request's park is on time, and a long
//! one's is late by at most the request's own length, which costs a long request or stream a
//! few wake-ups rather than one per park time.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Timestamps are milliseconds since `epoch`; 0 in `head_started` means "no head pending".
pub(super) struct Activity {
    epoch: Instant,
    h2: bool,
    /// The last byte read or written.
    last: AtomicU64,
    /// HTTP/2: the last request's start or end.
    last_request: AtomicU64,
    head_started: AtomicU64,
    /// Whether a request has begun on this connection.
    served: AtomicBool,
    /// Requests whose response head is not out yet.
    in_flight: AtomicUsize,
    /// Responses whose body is still going out.
    streaming: AtomicUsize,
}

/// What the connection's timers decide.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Busy, or within its limits.
    Active,
    /// Nothing in flight and nothing moved for the idle timeout: close gracefully.
    Idle,
    /// A request head has been arriving for longer than the header timeout: drop it.
    SlowHead,
    /// A response is streaming but nothing moved for the idle timeout: drop the connection.
    Stalled,
    /// Nothing in flight and nothing moved for a short while: an HTTP/1 connection can hand
    /// its buffers back and wait for the next request with none (see `server/h1.rs`).
    Park,
}

/// The three clocks a served connection is held to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clocks {
    /// From a request head's first byte to its end.
    pub(super) header: Duration,
    /// Nothing moving: close (or, while a response streams, drop).
    pub(super) idle: Duration,
    /// No request in flight and no bytes moving for this long: park (`None`: never).
    pub(super) park: Option<Duration>,
}

impl Activity {
    /// The activity of an HTTP/2 connection if `h2`, else of an HTTP/1 one.
    pub(super) fn new(h2: bool) -> Self {
        Self {
            epoch: Instant::now(),
            h2,
            last: AtomicU64::new(0),
            last_request: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            served: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            streaming: AtomicUsize::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn on_read(&self) {
        let now = self.now_ms();
        self.last.store(now, Ordering::Relaxed);
        let head_clock = if self.h2 {
            !self.served.load(Ordering::Relaxed)
        } else {
            self.in_flight.load(Ordering::Relaxed) == 0
        };
        if head_clock {
            let _ = self.head_started.compare_exchange(
                0,
                now.max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn on_write(&self) {
        self.last.store(self.now_ms(), Ordering::Relaxed);
    }

    fn on_request_edge(&self) {
        let now = self.now_ms();
        self.last.store(now, Ordering::Relaxed);
        self.last_request.store(now, Ordering::Relaxed);
    }

    /// Marks a request in flight until the guard drops or becomes [`Busy::streaming`].
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.served.store(true, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.on_request_edge();
        Busy {
            activity: Arc::clone(self),
            streaming: false,
        }
    }

    /// Whether a request is in flight or a response streaming.
    pub(super) fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0 || self.streaming.load(Ordering::Relaxed) > 0
    }

    /// Since when the connection has been quiet, as the idle clock counts.
    fn quiet_since(&self) -> u64 {
        if self.h2 {
            self.last_request.load(Ordering::Relaxed)
        } else {
            self.last.load(Ordering::Relaxed)
        }
    }

    /// When the timers should next be looked at. A head can start at any moment without the
    /// watchdog hearing of it, so the wait is never longer than the header timeout: a slow head
    /// is cut off between one and two header timeouts after its first byte. While a request is
    /// busy or a head arrives, the wait is as long as that has gone on, at least the park time
    /// (without one, the header timeout) and at most the header and idle timeouts (see the
    /// module docs): either can turn into a finished request, quiet, without a word.
    pub(super) fn next_check(&self, clocks: Clocks) -> Instant {
        let ms = Duration::from_millis;
        let now = Instant::now();
        let soonest = now + clocks.header;
        let floor = clocks.park.unwrap_or(clocks.header).min(clocks.idle);
        let most = clocks.header.min(clocks.idle).max(floor);
        let again = |since: u64| {
            let taken = now.saturating_duration_since(self.epoch + ms(since));
            now + taken.clamp(floor, most)
        };
        let due = if self.in_flight.load(Ordering::Relaxed) > 0 {
            again(self.last_request.load(Ordering::Relaxed))
        } else if self.streaming.load(Ordering::Relaxed) > 0 {
            let stalled = self.epoch + ms(self.last.load(Ordering::Relaxed)) + clocks.idle;
            again(self.last_request.load(Ordering::Relaxed)).min(stalled)
        } else {
            match self.head_started.load(Ordering::Relaxed) {
                0 => {
                    let quiet = clocks.park.map_or(clocks.idle, |p| p.min(clocks.idle));
                    self.epoch + ms(self.quiet_since()) + quiet
                }
                started => (self.epoch + ms(started) + clocks.header).min(again(started)),
            }
        };
        due.min(soonest)
    }

    /// When a parked connection (nothing in flight, no head started) reaches its idle timeout.
    pub(super) fn idle_due(&self, idle: Duration) -> Instant {
        self.epoch + Duration::from_millis(self.last.load(Ordering::Relaxed)) + idle
    }

    /// Whether the connection has outstayed a timeout.
    pub(super) fn verdict(&self, clocks: Clocks) -> Verdict {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Verdict::Active;
        }
        let now = self.now_ms();
        let over = |since: u64, limit: Duration| {
            now.saturating_sub(since) >= u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)
        };
        if self.streaming.load(Ordering::Relaxed) > 0 {
            return if over(self.last.load(Ordering::Relaxed), clocks.idle) {
                Verdict::Stalled
            } else {
                Verdict::Active
            };
        }
        let quiet = self.quiet_since();
        match self.head_started.load(Ordering::Relaxed) {
            0 if over(quiet, clocks.idle) => Verdict::Idle,
            0 if clocks.park.is_some_and(|p| over(quiet, p)) => Verdict::Park,
            0 => Verdict::Active,
            started if over(started, clocks.header) => Verdict::SlowHead,
            _ => Verdict::Active,
        }
    }
}

/// What a connection's loop does when its watchdog's timer fires.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Nothing to do yet.
    Wait,
    /// Park (HTTP/1): ask hyper to stop between requests.
    Park,
    /// Ask the connection to close gracefully; it is dropped if it has not a header timeout
    /// later.
    Close,
    /// Drop the connection now, for this reason.
    Drop(&'static str),
}

/// Turns verdicts into steps, and remembers a graceful close it asked for.
#[derive(Debug, Default)]
pub(super) struct Watchdog {
    /// When a graceful close asked for must be done by.
    closing: Option<Instant>,
}

impl Watchdog {
    /// Whether a graceful close was asked for.
    pub(super) fn closing(&self) -> bool {
        self.closing.is_some()
    }

    /// When to look again.
    pub(super) fn wake_at(&self, activity: &Activity, clocks: Clocks) -> tokio::time::Instant {
        self.closing
            .unwrap_or_else(|| activity.next_check(clocks))
            .into()
    }

    /// A graceful close was asked for (shutdown, or [`Step::Close`]): from now on the
    /// connection has a header timeout to go once nothing is in flight.
    pub(super) fn close(&mut self, clocks: Clocks) {
        self.closing
            .get_or_insert_with(|| Instant::now() + clocks.header);
    }

    /// The step the connection takes now.
    pub(super) fn step(&mut self, activity: &Activity, clocks: Clocks) -> Step {
        let verdict = activity.verdict(clocks);
        match verdict {
            Verdict::SlowHead => return Step::Drop("request head not received in time"),
            Verdict::Stalled => return Step::Drop("response stood still for the idle timeout"),
            _ => {}
        }
        if self.closing.is_some() {
            if activity.busy() {
                // Still finishing a request: it has its own clocks; look again later.
                self.closing = Some(Instant::now() + clocks.header);
                return Step::Wait;
            }
            return Step::Drop("connection asked to close did not in time");
        }
        match verdict {
            Verdict::Park => Step::Park,
            Verdict::Idle => {
                self.close(clocks);
                Step::Close
            }
            _ => Step::Wait,
        }
    }
}

/// A request in flight, then its response streaming; dropping it ends the request.
pub(super) struct Busy {
    activity: Arc<Activity>,
    streaming: bool,
}

impl Busy {
    /// The response head is out; the request stays busy while its body streams.
    pub(super) fn streaming(mut self) -> Self {
        if !self.streaming {
            self.streaming = true;
            // Counted as streaming before it stops being in flight: never neither.
            self.activity.streaming.fetch_add(1, Ordering::Relaxed);
            self.activity.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        self
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.on_request_edge();
        let count = if self.streaming {
            &self.activity.streaming
        } else {
            &self.activity.in_flight
        };
        count.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An I/O stream that reports reads and writes to an [`Activity`], and first replays any bytes
/// given back to it with [`TrackedIo::unread`] (they were counted when first read).
pub(super) struct TrackedIo<I> {
    inner: I,
    activity: Arc<Activity>,
    unread: Bytes,
}

impl<I> TrackedIo<I> {
    pub(super) fn new(inner: I, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            activity,
            unread: Bytes::new(),
        }
    }

    /// Gives `bytes`, read from this stream earlier, back to it: the next reads return them
    /// before anything still unread.
    pub(super) fn unread(&mut self, bytes: Bytes) {
        // An empty slice of hyper's read buffer still holds the whole buffer (8 KiB) alive:
        // a parked connection would keep it for as long as it waits.
        if bytes.is_empty() {
            return;
        }
        self.unread = if self.unread.is_empty() {
            bytes
        } else {
            [bytes, std::mem::take(&mut self.unread)].concat().into()
        };
    }

    /// Whether bytes given back are waiting to be read.
    pub(super) fn has_unread(&self) -> bool {
        !self.unread.is_empty()
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for TrackedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.unread.is_empty() {
            let n = self.unread.len().min(buf.remaining());
            buf.put_slice(&self.unread[..n]);
            self.unread.advance(n);
            if self.unread.is_empty() {
                // Let go of the buffer the bytes were cut from.
                self.unread = Bytes::new();
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.on_read();
        }
        res
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for TrackedIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.on_write();
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.on_write();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
