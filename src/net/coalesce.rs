//! Small writes batched across connections: the writes made while the runtime works through
//! its ready tasks go out together once it has, instead of one at a time between them.
//!
//! Each write to a loopback or LAN peer that sleeps in `epoll_wait` wakes it; on a virtual
//! machine a wake-up of the other vCPU is an inter-processor interrupt, and under load it was
//! the largest single cost of a proxied request (bench/README.md: 0.74 wakes per request,
//! against 0.08 for HAProxy, which sends a loop's writes together). A [`Coalesced`] stream
//! copies a write of up to [`MOST`] bytes aside and answers at once; the first such write on a
//! worker thread asks the runtime, the way `tokio::task::yield_now` does, to wake a flusher
//! once it next polls its I/O driver (after the tasks that are ready now, or sooner every
//! 61 tasks), and the flusher writes every waiting buffer of that thread in one go. The
//! connections' tasks are not polled again for it.
//!
//! Ordering and errors stay the stream's own:
//! - bytes go out in the order written: a larger write, a flush that finds the flusher left
//!   bytes behind (the socket was full), or a shutdown first writes what waits, with the
//!   caller's context, so it waits on the socket as usual;
//! - the flusher never waits: what the socket does not take stays (and what a TLS stream could
//!   not flush), and the connection's task is woken to write it; a read writes it too, so a
//!   connection waiting for its next request (the HTTP/1 park) still gets its last response
//!   out;
//! - an error the flusher meets is returned by the stream's next write or flush;
//! - `poll_flush` answers at once while bytes wait for the flusher: they go out at the
//!   batch's end, before the runtime sleeps. A dropped stream's waiting bytes still go out
//!   (the flusher holds the stream until then).

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Writes up to this size (with what already waits) are batched; larger ones go out directly.
pub const MOST: usize = 16 * 1024;

/// The most buffer a stream keeps once its bytes are out.
const KEEP: usize = 4 * 1024;

/// A stream whose small writes wait for the end of the runtime's batch (see the module docs).
pub struct Coalesced<T> {
    inner: Arc<Mutex<Inner<T>>>,
}

struct Inner<T> {
    io: T,
    /// Bytes written to this stream and not yet to `io`.
    waiting: Vec<u8>,
    /// Whether a flusher holds this stream.
    queued: bool,
    /// Whether the flusher found `io` unable to flush (TLS records still to send).
    stalled: bool,
    /// An error the flusher met, for the next write or flush.
    error: Option<io::Error>,
    /// The task to wake when the flusher leaves bytes behind or meets an error.
    waker: Option<Waker>,
}

impl<T> Coalesced<T> {
    /// Wraps `io`.
    pub fn new(io: T) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                io,
                waiting: Vec::new(),
                queued: false,
                stalled: false,
                error: None,
                waker: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        lock(&self.inner)
    }
}

fn lock<T>(inner: &Mutex<Inner<T>>) -> MutexGuard<'_, Inner<T>> {
    // A poisoned lock only means a panic while it was held; the buffer is still sound.
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: AsyncWrite + Unpin> Inner<T> {
    /// Writes what waits, with `cx`: `Pending` until the socket has taken all of it.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Err(e));
        }
        while !self.waiting.is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.waiting))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.waiting.drain(..n);
        }
        if self.waiting.capacity() > KEEP {
            // An idle connection keeps no large buffer (see `server/h1.rs`'s park).
            self.waiting = Vec::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Writes what waits and flushes `io`, with `cx`.
    fn poll_flush_direct(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.stalled = false;
        Poll::Ready(Ok(()))
    }

    /// The flusher's turn: writes what the socket takes without waiting, and wakes the task
    /// when something is left or went wrong.
    fn flush_now(&mut self) {
        self.queued = false;
        let mut cx = Context::from_waker(Waker::noop());
        let outcome = match self.poll_drain(&mut cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.io).poll_flush(&mut cx),
            other => other,
        };
        let wake = match outcome {
            Poll::Ready(Ok(())) => false,
            Poll::Ready(Err(e)) => {
                self.error = Some(e);
                true
            }
            Poll::Pending => {
                self.stalled = true;
                true
            }
        };
        if wake && let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A stream waiting for the flusher.
trait Waiting: Send + Sync {
    fn flush_now(&self);
}

impl<T: AsyncWrite + Unpin + Send> Waiting for Mutex<Inner<T>> {
    fn flush_now(&self) {
        lock(self).flush_now();
    }
}

thread_local! {
    /// The streams with bytes waiting for this thread's flusher.
    static QUEUE: RefCell<Vec<Arc<dyn Waiting>>> = const { RefCell::new(Vec::new()) };
}

/// Flushes this thread's queue when the runtime wakes it, or drops it unwoken (a runtime
/// shutting down): the queue is never left waiting for a flusher that will not come.
struct Flusher;

impl Wake for Flusher {
    fn wake(self: Arc<Self>) {
        // Dropping the last reference flushes (below).
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        loop {
            // A thread that is going away has no queue left to flush.
            let Ok(waiting) = QUEUE.try_with(|q| std::mem::take(&mut *q.borrow_mut())) else {
                return;
            };
            if waiting.is_empty() {
                return;
            }
            for stream in waiting {
                stream.flush_now();
            }
        }
    }
}

/// Puts `stream` in this thread's queue; the first one in asks for a flusher.
fn enqueue(stream: Arc<dyn Waiting>) {
    // Moved in, not cloned: taken only when the queue is there, left here when it is not.
    let mut stream = Some(stream);
    let queued = QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        q.extend(stream.take());
        q.len() == 1
    });
    let Ok(first) = queued else {
        // A thread that is going away: no batch to wait for.
        if let Some(stream) = stream {
            stream.flush_now();
        }
        return;
    };
    if first {
        // `yield_now`'s first poll hands its context's waker to the runtime's deferred list,
        // woken after the next poll of the I/O driver on this worker; outside a runtime worker
        // it wakes it at once, which flushes here and now.
        let waker = Waker::from(Arc::new(Flusher));
        let mut cx = Context::from_waker(&waker);
        let yielded = std::pin::pin!(tokio::task::yield_now());
        let _ = yielded.poll(&mut cx);
    }
}

impl<T: AsyncWrite + Unpin + Send + 'static> Coalesced<T> {
    fn poll_write_all(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut inner = self.lock();
        if let Some(e) = inner.error.take() {
            return Poll::Ready(Err(e));
        }
        if !inner.queued {
            // What the flusher left behind goes first.
            ready!(inner.poll_drain(cx))?;
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 || inner.waiting.len() + total > MOST {
            ready!(inner.poll_drain(cx))?;
            return Pin::new(&mut inner.io).poll_write_vectored(cx, bufs);
        }
        for buf in bufs {
            inner.waiting.extend_from_slice(buf);
        }
        if !inner
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            inner.waker = Some(cx.waker().clone());
        }
        if !inner.queued {
            inner.queued = true;
            drop(inner);
            enqueue(Arc::clone(&self.inner) as Arc<dyn Waiting>);
        }
        Poll::Ready(Ok(total))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesced<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        if !inner.queued && (inner.stalled || !inner.waiting.is_empty()) {
            // What the flusher could not write: push it on while waiting to read.
            match inner.poll_flush_direct(cx) {
                Poll::Ready(Err(e)) => inner.error = Some(e),
                Poll::Ready(Ok(())) | Poll::Pending => {}
            }
        }
        Pin::new(&mut inner.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin + Send + 'static> AsyncWrite for Coalesced<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_all(cx, &[io::IoSlice::new(data)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_all(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        if inner.queued {
            // Out at the batch's end (see the module docs).
            return Poll::Ready(Ok(()));
        }
        inner.poll_flush_direct(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        ready!(inner.poll_drain(cx))?;
        Pin::new(&mut inner.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
