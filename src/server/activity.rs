//! Per-connection activity: what the header-read and idle timeouts are measured against.
//!
//! [`TrackedIo`] notes every read and write; [`Activity::begin`] marks a request in flight.
//! A connection with no request in flight is either waiting for a request head (a byte has
//! arrived since the last request: the header-read clock runs from that byte) or idle (the idle
//! clock runs from the last byte moved).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Timestamps are milliseconds since `epoch`; 0 in `head_started` means "no head pending".
pub(super) struct Activity {
    epoch: Instant,
    last: AtomicU64,
    head_started: AtomicU64,
    in_flight: AtomicUsize,
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
    /// Nothing in flight and nothing moved for a short while: an HTTP/1 connection can hand
    /// its buffers back and wait for the next request with none (see `server/h1.rs`).
    Park,
}

/// The three clocks a served connection is held to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clocks {
    /// From a request head's first byte to its end.
    pub(super) header: Duration,
    /// No request in flight and no bytes moving: close.
    pub(super) idle: Duration,
    /// Same, for this long: park (`None`: never).
    pub(super) park: Option<Duration>,
}

impl Activity {
    pub(super) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn on_read(&self) {
        let now = self.now_ms();
        self.last.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
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

    /// Marks a request in flight until the guard drops.
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// When the timers should next be looked at. A head can start at any moment without the
    /// watchdog hearing of it, so the wait is never longer than the header timeout: a slow head
    /// is cut off between one and two header timeouts after its first byte.
    pub(super) fn next_check(&self, clocks: Clocks) -> Instant {
        let ms = Duration::from_millis;
        let soonest = Instant::now() + clocks.header;
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return soonest;
        }
        let due = match self.head_started.load(Ordering::Relaxed) {
            0 => {
                let quiet = clocks.park.map_or(clocks.idle, |p| p.min(clocks.idle));
                self.epoch + ms(self.last.load(Ordering::Relaxed)) + quiet
            }
            started => self.epoch + ms(started) + clocks.header,
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
        let last = self.last.load(Ordering::Relaxed);
        match self.head_started.load(Ordering::Relaxed) {
            0 if over(last, clocks.idle) => Verdict::Idle,
            0 if clocks.park.is_some_and(|p| over(last, p)) => Verdict::Park,
            0 => Verdict::Active,
            started if over(started, clocks.header) => Verdict::SlowHead,
            _ => Verdict::Active,
        }
    }
}

/// A request in flight; dropping it ends the request.
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.on_write();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
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
mod tests {
    use super::*;

    const H: Duration = Duration::from_millis(0);
    const LONG: Duration = Duration::from_secs(60);

    fn clocks(header: Duration, idle: Duration) -> Clocks {
        Clocks {
            header,
            idle,
            park: None,
        }
    }

    #[test]
    fn fresh_connection_waits_for_idle_not_head() {
        let a = Arc::new(Activity::new());
        assert_eq!(a.verdict(clocks(LONG, H)), Verdict::Idle);
        assert_eq!(a.verdict(clocks(LONG, LONG)), Verdict::Active);
    }

    #[test]
    fn a_started_head_is_held_to_the_header_timeout() {
        let a = Arc::new(Activity::new());
        a.on_read();
        assert_eq!(a.verdict(clocks(H, LONG)), Verdict::SlowHead);
        assert_eq!(a.verdict(clocks(LONG, LONG)), Verdict::Active);
    }

    #[test]
    fn a_request_in_flight_is_never_timed_out() {
        let a = Arc::new(Activity::new());
        a.on_read();
        let busy = a.begin();
        a.on_read();
        assert_eq!(a.verdict(clocks(H, H)), Verdict::Active);
        drop(busy);
        // After the request, the next head has not started: only idle applies.
        assert_eq!(a.verdict(clocks(H, LONG)), Verdict::Active);
        assert_eq!(a.verdict(clocks(H, H)), Verdict::Idle);
    }

    #[test]
    fn a_quiet_connection_parks_before_it_idles_out() {
        let a = Arc::new(Activity::new());
        let long = Duration::from_secs(60);
        let park = |p| Clocks {
            header: long,
            idle: long,
            park: Some(p),
        };
        assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Park);
        assert_eq!(a.verdict(park(long)), Verdict::Active);
        // Never while a request is in flight or a head is arriving.
        let busy = a.begin();
        assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Active);
        drop(busy);
        a.on_read();
        assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Active);
    }

    #[tokio::test]
    async fn unread_bytes_come_back_first_in_stream_order() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(b" world").await.unwrap();
        drop(client);
        let mut io = TrackedIo::new(server, Arc::new(Activity::new()));
        io.unread(Bytes::from_static(b"lo"));
        // Given back later, read earlier: it goes in front.
        io.unread(Bytes::from_static(b"hel"));
        assert!(io.has_unread());
        let mut small = [0u8; 2];
        io.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"he");
        let mut rest = String::new();
        io.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "llo world");
        assert!(!io.has_unread());
    }
}
