//! Connections: accept, TLS, HTTP/1.1 and HTTP/2 on one port, limits, timeouts and drain.
//!
//! This module owns sockets and connection lifetimes; what a request means is the pipeline's
//! business ([`crate::pipeline::handle`]). Per connection it enforces:
//! - `server.max_connections`: beyond it a new connection gets a plain 503 and is closed;
//! - `server.header_read_timeout_secs`: from the first byte of a request head (or the start of
//!   a TLS handshake) to a complete head, else the connection is dropped (slowloris);
//! - `server.idle_timeout_secs`: no request in flight and no bytes moving, and the connection is
//!   closed gracefully.
//!
//! On shutdown every connection is asked to finish its in-flight requests and close, and the
//! server waits for that up to `server.shutdown_grace_secs`.

mod activity;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use crate::app::State;
use crate::config::ServerConfig;
use crate::pipeline::{ConnInfo, handle};
use activity::{Activity, TrackedIo, Verdict};

/// Serves `listener` until `shutdown` resolves, then drains (see the module docs).
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let limits = &state.config.server;
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    let tls = limits.tls.clone().map(TlsAcceptor::from);
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, tls = tls.is_some(), "listening");
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match Arc::clone(&slots).try_acquire_owned() {
                    Ok(permit) => {
                        let conn = Connection { state: Arc::clone(&state), peer, stop: stop_rx.clone(), _permit: permit };
                        tokio::spawn(conn.run(stream, tls.clone()));
                    }
                    Err(_) => refuse_overloaded(&stream, tls.is_some()),
                },
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
    let all = u32::try_from(limits.max_connections.min(Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let grace = limits.shutdown_grace;
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

struct Connection {
    state: Arc<State>,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(mut self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let header_timeout = self.state.config.server.header_read_timeout;
        match tls {
            None => {
                let h2 = tokio::select! {
                    sniffed = sniff_h2(&stream, header_timeout) => sniffed,
                    _ = self.stop.changed() => None,
                };
                let Some(h2) = h2 else { return };
                self.serve(
                    TrackedIo::new(stream, Arc::clone(&activity)),
                    activity,
                    false,
                    h2,
                )
                .await;
            }
            Some(acceptor) => {
                match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => {
                        let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
                        self.serve(
                            TrackedIo::new(tls_stream, Arc::clone(&activity)),
                            activity,
                            true,
                            h2,
                        )
                        .await;
                    }
                    Ok(Err(e)) => debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
                    Err(_) => debug!(peer = %self.peer, "TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve<I>(mut self, io: TrackedIo<I>, activity: Arc<Activity>, tls: bool, h2: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limits = &self.state.config.server;
        let (header_timeout, idle_timeout) = (limits.header_read_timeout, limits.idle_timeout);
        let info = ConnInfo {
            peer: self.peer,
            tls,
        };
        let state = Arc::clone(&self.state);
        let tracker = Arc::clone(&activity);
        let service = service_fn(move |req| {
            let state = Arc::clone(&state);
            let busy = tracker.begin();
            async move {
                let resp = handle(&state, req, info).await;
                drop(busy);
                Ok::<_, Infallible>(resp)
            }
        });
        let mut conn = Served::new(limits, TokioIo::new(io), service, h2);
        let mut stopping = *self.stop.borrow();
        if stopping {
            conn.graceful_shutdown();
        }
        loop {
            let wake =
                tokio::time::Instant::from_std(activity.next_check(header_timeout, idle_timeout));
            tokio::select! {
                res = &mut conn => {
                    if let Err(e) = res {
                        debug!(peer = %self.peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = self.stop.changed(), if !stopping => {
                    stopping = true;
                    conn.graceful_shutdown();
                }
                () = tokio::time::sleep_until(wake), if !stopping => match activity.verdict(header_timeout, idle_timeout) {
                    Verdict::Active => {}
                    Verdict::Idle => {
                        stopping = true;
                        conn.graceful_shutdown();
                    }
                    Verdict::SlowHead => {
                        debug!(peer = %self.peer, "request head not received in time; closing");
                        return;
                    }
                },
            }
        }
    }
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

/// One served connection, HTTP/1.1 or HTTP/2, boxed so an idle connection's task holds only the
/// protocol it speaks (hyper-util's `auto` connection carries room for both).
enum Served<I, S>
where
    S: hyper::service::HttpService<hyper::body::Incoming>,
{
    H1(Pin<Box<hyper::server::conn::http1::Connection<I, S>>>),
    H2(Pin<Box<hyper::server::conn::http2::Connection<I, S, TokioExecutor>>>),
}

impl<I, S, B> Served<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B> + Send,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn new(limits: &ServerConfig, io: I, service: S, h2: bool) -> Self {
        // Our own limit answers with a JSON 431; hyper's larger one is the hard stop.
        let hard_limit = limits
            .max_header_bytes
            .saturating_mul(2)
            .saturating_add(16 * 1024);
        if h2 {
            let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            b.timer(TokioTimer::new())
                .max_header_list_size(u32::try_from(hard_limit).unwrap_or(u32::MAX))
                .max_concurrent_streams(256);
            Self::H2(Box::pin(b.serve_connection(io, service)))
        } else {
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(None)
                .max_buf_size(hard_limit.max(8192));
            Self::H1(Box::pin(b.serve_connection(io, service)))
        }
    }

    fn graceful_shutdown(&mut self) {
        match self {
            Self::H1(c) => c.as_mut().graceful_shutdown(),
            Self::H2(c) => c.as_mut().graceful_shutdown(),
        }
    }
}

impl<I, S, B> Future for Served<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B> + Send,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Output = hyper::Result<()>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            Self::H1(c) => c.as_mut().poll(cx),
            Self::H2(c) => c.as_mut().poll(cx),
        }
    }
}
