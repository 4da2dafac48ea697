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
//!
//! A connection holds the [`State`], never a policy: its own settings are read from the policy
//! current when it is accepted ([`connection`]), and each of its requests loads the policy once
//! ([`gateway`]), so a policy swapped in is seen by the next request on an open connection.

mod activity;
pub(crate) mod admin;
mod cert;
mod connection;
mod gateway;
mod h1;
mod h2;
mod response;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use crate::net::coalesce::Coalesced;
use crate::state::State;
use activity::{Activity, TrackedIo};
use connection::{ConnLimits, Connection};

/// Serves `listener` until `shutdown` resolves, then drains (see the module docs).
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) {
    let max_connections = state.policy().config.server.max_connections;
    let slots = Arc::new(Semaphore::new(max_connections.min(Semaphore::MAX_PERMITS)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let acceptor = cert::acceptor(&state);
    if let Ok(addr) = listener.local_addr() {
        let tls = acceptor.is_some();
        info!(%addr, tls, "listening");
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // The connection's own settings come from the policy current when it is
                    // accepted; each of its requests loads the policy again.
                    let policy = state.policy();
                    let server = &policy.config.server;
                    let tls = acceptor.clone();
                    match Arc::clone(&slots).try_acquire_owned() {
                        Ok(permit) => {
                            let conn = Connection {
                                state: Arc::clone(&state),
                                limits: ConnLimits::of(server),
                                peer,
                                stop: stop_rx.clone(),
                                _permit: permit,
                                open: None,
                            };
                            tokio::spawn(run(conn, stream, tls));
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
    state.shared().connections.start_draining();
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

/// A connection from accept to close: the TLS handshake or the h2c sniff, then HTTP/1 or
/// HTTP/2.
async fn run(mut c: Connection, stream: TcpStream, tls: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    let header_timeout = c.limits.header_read_timeout;
    // Only `served` is held across the last await: a task's size is that of its largest
    // state, and every connection pays for it while it waits.
    let served = match tls {
        None => {
            let h2 = tokio::select! {
                sniffed = sniff_h2(&stream, header_timeout) => sniffed,
                _ = c.stop.changed() => None,
            };
            let Some(h2) = h2 else { return };
            life(c, stream, false, h2)
        }
        Some(acceptor) => {
            let handshake = Box::pin(acceptor.accept(stream));
            match tokio::time::timeout(header_timeout, handshake).await {
                Ok(Ok(tls_stream)) => {
                    let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    life(c, tls_stream, true, h2)
                }
                Ok(Err(e)) => {
                    return debug!(peer = %c.peer, error = %e, "TLS handshake failed");
                }
                Err(_) => return debug!(peer = %c.peer, "TLS handshake timed out"),
            }
        }
    };
    served.await;
}

/// The connection's life after the handshake, boxed at its own size.
fn life<I>(
    mut c: Connection,
    io: I,
    tls: bool,
    h2: bool,
) -> Pin<Box<dyn Future<Output = ()> + Send>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new(h2));
    let io = TrackedIo::new(Coalesced::new(io), Arc::clone(&activity));
    let protocol = match (tls, h2) {
        (false, false) => "http1",
        (false, true) => "h2",
        (true, false) => "https1",
        (true, true) => "https2",
    };
    c.open = Some(c.state.shared().metrics.connection(protocol));
    if h2 {
        Box::pin(c.serve_h2(io, activity, tls))
    } else {
        Box::pin(h1::serve(c, io, activity, tls))
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
