//! HTTP/1.1 connections that hold no HTTP buffers while they wait.
//!
//! hyper gives every HTTP/1 connection an 8 KiB read buffer and an 8 KiB write buffer for its
//! whole life, so 10,000 idle keep-alive clients would hold about 200 MB. Here a connection
//! that has had nothing in flight and moved no bytes for [`PARK_AFTER`] is *parked*: hyper is
//! asked to stop (`graceful_shutdown` ends an idle HTTP/1 connection at once, between two
//! requests), without shutting the socket down (`poll_without_shutdown`); its buffers are
//! dropped, and the task waits for the client's next byte holding only the socket. That byte,
//! and anything hyper had read ahead, is given back to the stream ([`TrackedIo::unread`]) for a
//! fresh hyper connection to read.
//!
//! Under load a connection is never quiet for that long, so nothing changes there. A parked
//! connection is held to the same rules as a served one: the idle timeout closes it, the
//! header-read clock starts with its first new byte, and shutdown closes it at once. A request
//! in flight or a response still streaming is never parked.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::debug;

use super::activity::{Activity, Step, TrackedIo, Watchdog};
use super::connection::Connection;

/// How long a connection is quiet before it is parked.
pub(super) const PARK_AFTER: Duration = Duration::from_millis(100);

/// Longest wait for a closing connection's last bytes (a TLS `close_notify`) to be sent.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Serves HTTP/1.1 on `io` until the client leaves, a timeout or shutdown closes it.
pub(super) async fn serve<I>(
    mut c: Connection,
    io: TrackedIo<I>,
    activity: Arc<Activity>,
    tls: bool,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut io = io;
    loop {
        // Boxed: it is alive only while hyper serves (which allocates far more), and inline it
        // would make every parked connection's task larger by its size.
        let Some(parked) = Box::pin(serve_until_parked(&mut c, io, &activity, tls)).await else {
            return;
        };
        io = if parked.has_unread() {
            // The client already sent more: no point in waiting for it.
            parked
        } else {
            match park(&mut c, parked, &activity).await {
                Some(io) => io,
                None => return,
            }
        };
    }
}

/// Runs hyper on `io`. `Some` with the stream (holding any bytes hyper read ahead) when the
/// connection was parked; `None` when it is over.
async fn serve_until_parked<I>(
    c: &mut Connection,
    io: TrackedIo<I>,
    activity: &Arc<Activity>,
    tls: bool,
) -> Option<TrackedIo<I>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut conn = {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .max_buf_size(c.limits.hard_header_limit.max(8192));
        Box::new(builder.serve_connection(TokioIo::new(io), c.service(activity, tls)))
    };
    let mut stopping = *c.stop.borrow();
    let mut parking = false;
    let mut watchdog = Watchdog::default();
    if stopping {
        watchdog.close(c.clocks(None));
        Pin::new(&mut *conn).graceful_shutdown();
    }
    loop {
        // Once parking is asked for, only the idle timeout is left to watch.
        let clocks = c.clocks((!parking).then_some(PARK_AFTER));
        tokio::select! {
            res = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => {
                let parts = conn.into_parts();
                let mut io = parts.io.into_inner();
                if let Err(e) = res {
                    debug!(peer = %c.peer, error = %e, "connection ended with an error");
                    return None;
                }
                if !parking || stopping {
                    close(io).await;
                    return None;
                }
                io.unread(parts.read_buf);
                return Some(io);
            }
            _ = c.stop.changed(), if !stopping => {
                stopping = true;
                watchdog.close(clocks);
                Pin::new(&mut *conn).graceful_shutdown();
            }
            () = tokio::time::sleep_until(watchdog.wake_at(activity, clocks)),
                if !stopping || watchdog.closing() => match watchdog.step(activity, clocks) {
                Step::Wait => {}
                Step::Park => {
                    parking = true;
                    Pin::new(&mut *conn).graceful_shutdown();
                }
                Step::Close => {
                    stopping = true;
                    Pin::new(&mut *conn).graceful_shutdown();
                }
                Step::Drop(why) => {
                    debug!(peer = %c.peer, why, "closing");
                    return None;
                }
            },
        }
    }
}

/// Waits, holding only the socket, for the client's next byte. `None` when the client closed,
/// the idle timeout passed or the server is shutting down.
async fn park<I>(
    c: &mut Connection,
    mut io: TrackedIo<I>,
    activity: &Activity,
) -> Option<TrackedIo<I>>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    if io.flush().await.is_err() || *c.stop.borrow() {
        close(io).await;
        return None;
    }
    c.state.shared().connections.parked();
    let idle_due = tokio::time::Instant::from_std(activity.idle_due(c.clocks(None).idle));
    let mut first = [0u8; 1];
    tokio::select! {
        read = io.read(&mut first) => match read {
            Ok(1) => {
                io.unread(Bytes::copy_from_slice(&first));
                Some(io)
            }
            // End of stream or a reset: the client is gone.
            _ => None,
        },
        _ = c.stop.changed() => {
            close(io).await;
            None
        }
        () = tokio::time::sleep_until(idle_due) => {
            close(io).await;
            None
        }
    }
}

/// Shuts the write side down (a TLS `close_notify`, a TCP FIN), waiting at most [`CLOSE_WAIT`].
async fn close<I: AsyncWrite + Unpin>(mut io: I) {
    let _ = tokio::time::timeout(CLOSE_WAIT, io.shutdown()).await;
}
