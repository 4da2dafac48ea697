//! Connections: accept, TLS, HTTP/1.1 and HTTP/2 on one port, limits, timeouts and drain.
//!
//! This module owns sockets and connection lifetimes; what a request means is the pipeline's
//! business ([`crate::pipeline::handle`]). Per connection it enforces:
//! - `server.max_connections`: beyond it a new connection gets a plain 503 and is closed;
//! - `server.header_read_timeout_secs`: from the first byte of a request head (or the start of
//!   a TLS handshake) to a complete head, else the connection is dropped (slowloris);
//! - `server.body_read_timeout_secs`: between two pieces of a request body, else the request
//!   ends with 408 ([`crate::http::client_body`]);
//! - `server.idle_timeout_secs`: no request in flight and no bytes moving, and the connection is
//!   closed gracefully (dropped if it has not closed a header timeout later); a response that
//!   streams is activity, but one that stands still that long is cut ([`response`]);
//! - `server.max_concurrent_streams`: HTTP/2 streams in flight per connection, with the flow
//!   control windows and send buffer below, so that what a connection can hold is known.
//!
//! An HTTP/1 connection that has been quiet for a moment is *parked*: it holds its socket but
//! no HTTP buffers until the client's next byte ([`h1`]).
//!
//! On shutdown every connection is asked to finish its in-flight requests and close, and the
//! server waits for that up to `server.shutdown_grace_secs`; a connection with nothing in flight
//! that has not closed a header timeout later (an HTTP/2 client ignoring GOAWAY) is dropped.

mod activity;
mod h1;
mod response;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use crate::config::ServerConfig;
use crate::http::client_body::ClientBody;
use crate::pipeline::{ConnInfo, handle};
use crate::state::State;
use activity::{Activity, Clocks, Step, TrackedIo, Watchdog};
use response::Streaming;

/// HTTP/2 flow-control window of each stream (`SETTINGS_INITIAL_WINDOW_SIZE`): what a client may
/// send on a stream before the gateway has read it.
const H2_STREAM_WINDOW: u32 = 256 * 1024;
/// HTTP/2 flow-control window of the connection: what a client may send, on all its streams
/// together, before the gateway has read it.
const H2_CONNECTION_WINDOW: u32 = 1024 * 1024;
/// Most response bytes buffered per HTTP/2 stream ahead of the client's flow-control window.
const H2_SEND_BUFFER: usize = 128 * 1024;

/// Serves `listener` until `shutdown` resolves, then drains (see the module docs).
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let max_connections = state.policy().config.server.max_connections;
    let slots = Arc::new(Semaphore::new(max_connections.min(Semaphore::MAX_PERMITS)));
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Ok(addr) = listener.local_addr() {
        let tls = state.policy().config.server.tls.is_some();
        info!(%addr, tls, "listening");
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // The connection's own settings come from the policy current when it is
                    // accepted; each of its requests loads the policy again.
                    let server = &state.policy().config.server;
                    let tls = server.tls.clone().map(TlsAcceptor::from);
                    match Arc::clone(&slots).try_acquire_owned() {
                        Ok(permit) => {
                            let conn = Connection {
                                state: Arc::clone(&state),
                                limits: ConnLimits::of(server),
                                peer,
                                stop: stop_rx.clone(),
                                _permit: permit,
                            };
                            tokio::spawn(conn.run(stream, tls));
                        }
                        Err(_) => refuse_overloaded(&stream, tls.is_some()),
                    }
                }
                Err(e) => {
                    // Out of file descriptors or similar: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    info!("shutting down: draining connections");
    let all = u32::try_from(max_connections.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let grace = state.policy().config.server.shutdown_grace;
    tokio::select! {
        _ = slots.acquire_many(all) => info!("all connections drained"),
        () = tokio::time::sleep(grace) => warn!(grace_secs = grace.as_secs(), "grace period over; closing remaining connections"),
    }
}

/// Best effort: a plaintext client learns why it is turned away. Never blocks the accept loop.
fn refuse_overloaded(stream: &TcpStream, tls: bool) {
    warn!("connection refused: server.max_connections reached");
    if tls {
        return;
    }
    let err = crate::error::Error::Overloaded;
    let body = format!(r#"{{"code":503,"message":"{}"}}"#, err.message());
    let resp = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(resp.as_bytes());
}

/// The settings a connection is held to, read from the policy when it is accepted.
#[derive(Debug, Clone, Copy)]
struct ConnLimits {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    hard_header_limit: usize,
    max_concurrent_streams: u32,
}

impl ConnLimits {
    fn of(server: &ServerConfig) -> Self {
        Self {
            header_read_timeout: server.header_read_timeout,
            idle_timeout: server.idle_timeout,
            hard_header_limit: hard_header_limit(server),
            max_concurrent_streams: server.max_concurrent_streams,
        }
    }
}

struct Connection {
    /// The state, not a policy: each request on the connection loads the current one.
    state: Arc<State>,
    limits: ConnLimits,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let header_timeout = self.limits.header_read_timeout;
        // Only `served` is held across the last await: a task's size is that of its largest
        // state, and every connection pays for it while it waits.
        let served = match tls {
            None => {
                let h2 = tokio::select! {
                    sniffed = sniff_h2(&stream, header_timeout) => sniffed,
                    _ = self.stop.changed() => None,
                };
                let Some(h2) = h2 else { return };
                self.serve(stream, false, h2)
            }
            Some(acceptor) => {
                let handshake = Box::pin(acceptor.accept(stream));
                match tokio::time::timeout(header_timeout, handshake).await {
                    Ok(Ok(tls_stream)) => {
                        let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
                        self.serve(tls_stream, true, h2)
                    }
                    Ok(Err(e)) => {
                        return debug!(peer = %self.peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => return debug!(peer = %self.peer, "TLS handshake timed out"),
                }
            }
        };
        served.await;
    }

    /// The connection's life after the handshake, boxed at its own size.
    fn serve<I>(self, io: I, tls: bool, h2: bool) -> Pin<Box<dyn Future<Output = ()> + Send>>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new(h2));
        let io = TrackedIo::new(io, Arc::clone(&activity));
        if h2 {
            Box::pin(self.serve_h2(io, activity, tls))
        } else {
            Box::pin(h1::serve(self, io, activity, tls))
        }
    }

    /// The clocks a connection is held to; `park` only for HTTP/1.
    fn clocks(&self, park: Option<Duration>) -> Clocks {
        Clocks {
            header: self.limits.header_read_timeout,
            idle: self.limits.idle_timeout,
            park,
        }
    }

    /// The service hyper calls for each request on this connection.
    fn service(&self, activity: &Arc<Activity>, tls: bool) -> Gateway {
        Gateway {
            state: Arc::clone(&self.state),
            activity: Arc::clone(activity),
            info: ConnInfo {
                peer: self.peer,
                tls,
            },
        }
    }

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

    async fn serve_h2<I>(mut self, io: TrackedIo<I>, activity: Arc<Activity>, tls: bool)
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

/// What a request's handling returns to hyper.
type Handled = Pin<Box<dyn Future<Output = Result<Response<Streaming>, Infallible>> + Send>>;

/// The per-connection service: the pipeline, with the request counted as in flight until its
/// response has streamed out, and its body read through a [`ClientBody`].
#[derive(Clone)]
struct Gateway {
    state: Arc<State>,
    activity: Arc<Activity>,
    info: ConnInfo,
}

impl hyper::service::Service<Request<Incoming>> for Gateway {
    type Response = Response<Streaming>;
    type Error = Infallible;
    type Future = Handled;

    fn call(&self, req: Request<Incoming>) -> Handled {
        let state = Arc::clone(&self.state);
        let busy = self.activity.begin();
        let info = self.info;
        Box::pin(async move {
            // The one load of the policy for this request: every step sees this snapshot.
            let policy = state.policy();
            let server = &policy.config.server;
            let req = req.map(|body| ClientBody::new(body, server.body_read_timeout));
            let resp = handle(state.shared(), &policy, req, info).await;
            let idle = server.idle_timeout;
            Ok(resp.map(|body| Streaming::new(body, busy, idle)))
        })
    }
}

/// hyper's own header limit: ours answers with a JSON 431; this larger one is the hard stop.
fn hard_header_limit(limits: &ServerConfig) -> usize {
    limits
        .max_header_bytes
        .saturating_mul(2)
        .saturating_add(16 * 1024)
}

/// Whether a plaintext client speaks HTTP/2 with prior knowledge (h2c): its first bytes are the
/// connection preface, which begins `PRI `, a method no HTTP/1 request uses. `None` when the
/// client sends nothing within the header timeout, or closes.
async fn sniff_h2(stream: &TcpStream, timeout: Duration) -> Option<bool> {
    const PREFACE: &[u8; 4] = b"PRI ";
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = [0u8; 4];
    loop {
        let n = tokio::time::timeout_at(deadline, stream.peek(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        if n == PREFACE.len() || buf[..n] != PREFACE[..n] {
            return Some(buf == *PREFACE);
        }
        // A partial "PRI ": the rest is on its way.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
