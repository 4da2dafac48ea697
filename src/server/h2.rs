//! HTTP/2 connections: hyper's HTTP/2 server with the gateway's stream and window limits, under
//! the connection's watchdog.

use std::pin::Pin;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use super::activity::{Activity, Step, TrackedIo, Watchdog};
use super::connection::Connection;
use super::gateway::Gateway;

/// HTTP/2 flow-control window of each stream (`SETTINGS_INITIAL_WINDOW_SIZE`): what a client may
/// send on a stream before the gateway has read it.
const H2_STREAM_WINDOW: u32 = 256 * 1024;
/// HTTP/2 flow-control window of the connection: what a client may send, on all its streams
/// together, before the gateway has read it.
const H2_CONNECTION_WINDOW: u32 = 1024 * 1024;
/// Most response bytes buffered per HTTP/2 stream ahead of the client's flow-control window.
const H2_SEND_BUFFER: usize = 128 * 1024;

impl Connection {
    #[allow(clippy::type_complexity)]
    fn h2_connection<I>(
        &self,
        io: TrackedIo<I>,
        activity: &Arc<Activity>,
        tls: bool,
    ) -> Pin<
        Box<hyper::server::conn::http2::Connection<TokioIo<TrackedIo<I>>, Gateway, TokioExecutor>>,
    >
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.limits.hard_header_limit).unwrap_or(u32::MAX))
            .max_concurrent_streams(self.limits.max_concurrent_streams)
            .initial_stream_window_size(H2_STREAM_WINDOW)
            .initial_connection_window_size(H2_CONNECTION_WINDOW)
            .max_send_buf_size(H2_SEND_BUFFER);
        Box::pin(b.serve_connection(TokioIo::new(io), self.service(activity, tls)))
    }

    pub(super) async fn serve_h2<I>(mut self, io: TrackedIo<I>, activity: Arc<Activity>, tls: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let clocks = self.clocks(None);
        // Built outside the async state: the builder is large and would otherwise be held, in
        // every connection's task, for the connection's whole life.
        let mut conn = self.h2_connection(io, &activity, tls);
        let mut stopping = *self.stop.borrow();
        let mut watchdog = Watchdog::default();
        if stopping {
            watchdog.close(clocks);
            conn.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                res = &mut conn => {
                    if let Err(e) = res {
                        debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    watchdog.close(clocks);
                    conn.as_mut().graceful_shutdown();
                }
                () = tokio::time::sleep_until(watchdog.wake_at(&activity, clocks)),
                    if !stopping || watchdog.closing() => match watchdog.step(&activity, clocks) {
                    Step::Wait | Step::Park => {}
                    Step::Close => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    Step::Drop(why) => return debug!(peer = %self.peer, why, "closing"),
                },
            }
        }
    }
}
