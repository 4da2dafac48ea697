//! The upstream connection pool: HTTP/1.1 connections to one backend (its scheme and
//! authority), over hyper's connection API.
//!
//! hyper-util's pooled client, used here before, spawned a task for every request to hand the
//! connection back once it was ready again, and checked out through a keyed map; that was
//! about a tenth of the plain proxy path's CPU (bench/README.md). Here:
//! - a request takes the most recently used idle connection, or opens one (the connector's
//!   connect timeout applies; TLS by the route's trust configuration);
//! - the connection goes back to the pool when its response body has been read to the end and
//!   the body is dropped ([`Pooled`]), once it is ready for another request (it may still be
//!   sending an upload the backend answered early); a response left unread closes it (hyper
//!   closes an HTTP/1 connection whose message was not finished);
//! - a request that a reused connection refused before sending a byte of it (the backend
//!   closed the idle connection as the request went out) is sent again on another connection,
//!   as hyper-util's client did; a failure on a fresh connection is the caller's;
//! - idle connections older than [`IDLE_TIMEOUT`], and those the backend closed, are closed
//!   when the pool is next used (a checkout drives each idle connection it looks at once, which
//!   reads a close) or by the gateway's periodic tidy ([`Pool::tidy`]), whichever comes first;
//! - a connection has no task of its own: whoever uses it drives it ([`Driven`]), the request
//!   while it waits for the response head, the response body while it is read, in the client
//!   connection's task. A task per connection cost every request a hand-over each way (the
//!   request into the connection's task, the head and the body back), each a wake-up and a
//!   poll (bench/README.md). Only a connection given back before it is ready again (still
//!   sending an upload the backend answered early) gets a task, until it is.
//!
//! The request's target is sent in origin form (`/path?query`) with a `Host` header made from
//! the backend's authority when the request has none, as hyper-util's client wrote them.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri, header};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;
use tracing::debug;

use crate::http::body::{Body, BoxError};
use crate::net::coalesce::Coalesced;

/// How long an idle connection is kept for reuse.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The connector: TCP (no delay, a connect timeout), TLS for `https` backends.
pub type Connector = HttpsConnector<HttpConnector>;

/// The connections to one backend. Cloning shares them.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Connector,
    /// Where connections go: the backend's scheme and authority.
    scheme: Scheme,
    authority: Authority,
    /// The `Host` header for requests without one (`None` only for an authority no header
    /// could carry, which the configuration's URL parser does not let through).
    host: Option<HeaderValue>,
    /// Idle connections in the order they went idle: the most recently used at the back.
    idle: Mutex<VecDeque<Idle>>,
}

struct Idle {
    sender: SendRequest<Body>,
    conn: Driven,
    since: Instant,
}

/// A connection's byte stream: batched writes (`net::coalesce`) over TLS or plain TCP.
type Io = TokioIo<Coalesced<TokioIo<MaybeHttpsStream<TokioIo<TcpStream>>>>>;

/// The protocol side of one connection (hyper's HTTP/1 dispatcher), polled by whoever is using
/// the connection: it reads and writes only when driven. Empty once the connection has ended
/// (closed by either side, or failed: the pending response or body then has the error).
/// Boxed: the dispatcher and its buffers' state are about 2 KB, and a connection moves from the
/// pool to the request's future to its response body and back; a box moves as a pointer, and
/// the request's future stays small (src/pipeline/tests.rs).
struct Driven(Option<Box<http1::Connection<Io, Body>>>);

impl Driven {
    /// Lets the connection do what it can now: write the request, read the response.
    fn drive(&mut self, cx: &mut Context<'_>) {
        let Some(conn) = &mut self.0 else { return };
        if let Poll::Ready(ended) = Pin::new(conn).poll(cx) {
            if let Err(e) = ended {
                debug!(error = %e, "upstream connection ended with an error");
            }
            self.0 = None;
        }
    }

    fn is_open(&self) -> bool {
        self.0.is_some()
    }
}

/// Why a request did not get a response head from the backend.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No connection could be made (refused, unreachable, timed out, TLS failed).
    #[error("cannot connect to the upstream")]
    Connect(#[source] BoxError),
    /// The HTTP/1 handshake on a new connection failed.
    #[error("the upstream connection could not be set up")]
    Handshake(#[source] hyper::Error),
    /// The request failed on the connection: reset, closed, a bad response, or the request's
    /// own body failing (the cause says which).
    #[error("the upstream request failed")]
    Request(#[source] hyper::Error),
}

impl UpstreamError {
    /// Whether no connection was made at all.
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_))
    }
}

impl Pool {
    /// A pool of connections to `scheme://authority` made by `connector`.
    pub fn new(connector: Connector, scheme: Scheme, authority: Authority) -> Self {
        let host = host_header(&scheme, &authority);
        Self {
            inner: Arc::new(Inner {
                connector,
                scheme,
                authority,
                host,
                idle: Mutex::new(VecDeque::new()),
            }),
        }
    }

    /// Sends `req` (its URI's path and query; see the module docs) and returns the response
    /// head, its body still streaming from the connection.
    pub async fn send(&self, mut req: Request<Body>) -> Result<Response<Pooled>, UpstreamError> {
        let target = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *req.uri_mut() = Uri::from(target);
        if !req.headers().contains_key(header::HOST) {
            let host = self.inner.host.clone().ok_or_else(|| {
                UpstreamError::Connect("the upstream's authority is not a valid Host header".into())
            })?;
            req.headers_mut().insert(header::HOST, host);
        }
        loop {
            let (mut sender, mut conn, reused) = match self.checkout() {
                Some((sender, conn)) => (sender, conn, true),
                // Boxed: the connect and handshake futures are large, and held inline they
                // would make every request's future larger by their size (a request future is
                // copied as it is made: src/pipeline/tests.rs).
                None => {
                    let (sender, conn) = Box::pin(self.connect()).await?;
                    (sender, conn, false)
                }
            };
            let mut sent = pin!(sender.try_send_request(req));
            let answer = std::future::poll_fn(|cx| {
                conn.drive(cx);
                // Only the connection, driven just now, answers `sent` (or drops it, which
                // answers too): a waker for it would only wake this very task, for nothing.
                sent.as_mut().poll(&mut Context::from_waker(Waker::noop()))
            })
            .await;
            match answer {
                Ok(resp) => {
                    let pool = Arc::clone(&self.inner);
                    return Ok(resp.map(|body| Pooled {
                        body,
                        ended: false,
                        conn,
                        back: Some((sender, pool)),
                    }));
                }
                Err(mut e) => match e.take_message() {
                    // Not sent: a reused connection closed under it; another one may do.
                    Some(unsent) if reused => {
                        debug!(error = %e.error(), "reused upstream connection refused a request; sending it again");
                        req = unsent;
                    }
                    _ => return Err(UpstreamError::Request(e.into_error())),
                },
            }
        }
    }

    /// Closes the idle connections the backend has closed, and those idle for longer than
    /// [`IDLE_TIMEOUT`]; returns how many. Idle connections have no task, so nothing else reads
    /// a backend's close while the pool is not used: without this, a backend that closes idle
    /// connections would leave them half-closed here until the next request to it.
    pub(crate) fn tidy(&self) -> usize {
        let mut idle = self.inner.lock_idle();
        let now = Instant::now();
        let before = idle.len();
        idle.retain_mut(|c| {
            // Without a waker, as in `checkout`: whoever takes it next drives it with its own.
            c.conn.drive(&mut Context::from_waker(Waker::noop()));
            c.conn.is_open() && !c.sender.is_closed() && now - c.since < IDLE_TIMEOUT
        });
        before - idle.len()
    }

    /// Whether anything but the list of pools holds this pool: a policy's routes, or a
    /// response still streaming from one of its connections.
    pub(crate) fn in_use(&self) -> bool {
        Arc::strong_count(&self.inner) > 1
    }

    /// Whether `other` is this very pool.
    #[cfg(test)]
    pub(super) fn same_as(&self, other: &Pool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// An idle connection ready for a request, the most recently used first. Connections idle
    /// for longer than [`IDLE_TIMEOUT`] (the oldest, at the front) and those no longer ready
    /// are dropped on the way, so a checkout does not walk the whole list. Each is driven once
    /// before it is handed out, which finds a close the backend sent while it was idle (and
    /// takes the waker of the task that will use it). Never waits for a busy connection.
    fn checkout(&self) -> Option<(SendRequest<Body>, Driven)> {
        loop {
            let mut c = self.take_idle()?;
            // Without a waker: the request about to be sent would wake it, and it is driven
            // with the task's own as soon as that request is queued.
            c.conn.drive(&mut Context::from_waker(Waker::noop()));
            if c.conn.is_open() && c.sender.is_ready() {
                return Some((c.sender, c.conn));
            }
        }
    }

    /// The most recently used idle connection not older than [`IDLE_TIMEOUT`].
    fn take_idle(&self) -> Option<Idle> {
        let mut idle = self.inner.lock_idle();
        let now = Instant::now();
        while idle.front().is_some_and(|c| now - c.since >= IDLE_TIMEOUT) {
            idle.pop_front();
        }
        idle.pop_back()
    }

    /// A new connection, not yet driven.
    async fn connect(&self) -> Result<(SendRequest<Body>, Driven), UpstreamError> {
        let mut connector = self.inner.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(UpstreamError::Connect)?;
        let target = Uri::builder()
            .scheme(self.inner.scheme.clone())
            .authority(self.inner.authority.clone())
            .path_and_query("/")
            .build()
            .map_err(|e| UpstreamError::Connect(e.into()))?;
        let io = connector
            .call(target)
            .await
            .map_err(UpstreamError::Connect)?;
        // Batched writes (`net::coalesce`), under TLS when there is TLS.
        let io = TokioIo::new(Coalesced::new(TokioIo::new(io)));
        let (sender, conn) = http1::handshake(io)
            .await
            .map_err(UpstreamError::Handshake)?;
        Ok((sender, Driven(Some(Box::new(conn)))))
    }
}

impl Inner {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // A poisoned lock only means a panic while the list was held; the list is still sound.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, sender: SendRequest<Body>, conn: Driven) {
        self.lock_idle().push_back(Idle {
            sender,
            conn,
            since: Instant::now(),
        });
    }
}

/// Puts the connection whose response has been read to the end back in `pool`: at once when it
/// is ready for another request (as it is, almost always, by then), else once it is, driven by
/// a task of its own until then. It may still be sending its request's body (a backend that
/// answered before reading an upload): waiting for that in the list would make the next request
/// wait behind someone else's upload.
fn give_back(pool: Arc<Inner>, mut sender: SendRequest<Body>, mut conn: Driven) {
    if !conn.is_open() || sender.is_closed() {
        return;
    }
    if sender.is_ready() {
        pool.push(sender, conn);
        return;
    }
    tokio::spawn(async move {
        let ready = std::future::poll_fn(|cx| {
            conn.drive(cx);
            if !conn.is_open() {
                return Poll::Ready(false);
            }
            sender.poll_ready(cx).map(|r| r.is_ok())
        })
        .await;
        if ready {
            pool.push(sender, conn);
        }
    });
}

/// The `Host` header for `authority`: the port only when it is not the scheme's default.
fn host_header(scheme: &Scheme, authority: &Authority) -> Option<HeaderValue> {
    let default = if *scheme == Scheme::HTTPS { 443 } else { 80 };
    let host = match authority.port_u16() {
        Some(port) if port != default => format!("{}:{port}", authority.host()),
        _ => authority.host().to_owned(),
    };
    HeaderValue::from_str(&host).ok()
}

/// A response body from a pooled connection, which it drives as it is read: the connection goes
/// back to the pool when the body is dropped having been read to its end (and closes when it
/// is dropped before).
pub struct Pooled {
    body: Incoming,
    ended: bool,
    conn: Driven,
    back: Option<(SendRequest<Body>, Arc<Inner>)>,
}

impl hyper::body::Body for Pooled {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        self.conn.drive(cx);
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.ended = true,
            // The connection is not reused after a failed body.
            Poll::Ready(Some(Err(_))) => self.back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if !(self.ended || self.body.is_end_stream()) {
            return;
        }
        if let Some((sender, pool)) = self.back.take() {
            let conn = Driven(self.conn.0.take());
            give_back(pool, sender, conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_names_the_port_only_when_it_is_not_the_default() {
        let host = |s: Scheme, a: &str| host_header(&s, &a.parse().unwrap()).unwrap();
        assert_eq!(host(Scheme::HTTP, "backend:80"), "backend");
        assert_eq!(host(Scheme::HTTP, "backend:8080"), "backend:8080");
        assert_eq!(host(Scheme::HTTPS, "backend:443"), "backend");
        assert_eq!(host(Scheme::HTTPS, "backend:80"), "backend:80");
        assert_eq!(host(Scheme::HTTP, "[::1]:9000"), "[::1]:9000");
        assert_eq!(host(Scheme::HTTP, "backend"), "backend");
    }

    /// A real backend on threads of its own (no task of the test's runtime), answering `ok` to
    /// every request on a connection for as long as it stays open; it counts connections.
    fn backend() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(answer).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    #[tokio::test]
    async fn a_connection_is_driven_by_its_requests_and_reused_with_no_task_of_its_own() {
        use http_body_util::BodyExt;
        let (addr, accepted) = backend();
        let connector = crate::proxy::connector(rustls::RootCertStore::empty()).unwrap();
        let pool = Pool::new(connector, Scheme::HTTP, addr.to_string().parse().unwrap());
        for i in 0..3 {
            let req = Request::get("/x")
                .body(crate::http::body::full(""))
                .unwrap();
            let resp = pool.send(req).await.unwrap();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"ok", "request {i}");
            let tasks = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            assert_eq!(tasks, 0, "request {i}: a task drives the connection");
        }
        let opened = accepted.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(opened, 1, "one connection, reused");
    }

    /// One request on a new pool for `addr`, read to its end: its connection goes back idle.
    async fn one_request(pool: &Pool) {
        use http_body_util::BodyExt;
        let req = Request::get("/x")
            .body(crate::http::body::full(""))
            .unwrap();
        let resp = pool.send(req).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok");
    }

    fn pool_for(addr: std::net::SocketAddr) -> Pool {
        let connector = crate::proxy::connector(rustls::RootCertStore::empty()).unwrap();
        Pool::new(connector, Scheme::HTTP, addr.to_string().parse().unwrap())
    }

    /// A real backend that answers one request, then closes the connection when `close` says
    /// so (as a backend's idle timeout would) and says so on `closed`.
    fn closing_backend() -> (
        std::net::SocketAddr,
        std::sync::mpsc::Sender<()>,
        std::sync::mpsc::Receiver<()>,
    ) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (close, close_rx) = std::sync::mpsc::channel();
        let (closed_tx, closed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
            let _ = close_rx.recv();
            drop(stream);
            let _ = closed_tx.send(());
        });
        (addr, close, closed)
    }

    #[tokio::test]
    async fn the_tidy_closes_idle_connections_the_backend_closed_and_keeps_open_ones() {
        // A backend that closes its idle connection: no request comes to look at it, so it is
        // half-closed here until the tidy reads the close.
        let (addr, close, closed) = closing_backend();
        let pool = pool_for(addr);
        one_request(&pool).await;
        assert_eq!(pool.inner.lock_idle().len(), 1);
        assert_eq!(pool.tidy(), 0, "closed before the backend closed it");
        close.send(()).unwrap();
        closed.recv().unwrap();
        // The runtime's I/O driver learns of the close at its next poll, after this yield.
        tokio::task::yield_now().await;
        assert_eq!(pool.tidy(), 1, "the backend's close was not read");
        assert_eq!(pool.inner.lock_idle().len(), 0);

        // A backend that keeps it open: the tidy leaves it, and it is reused.
        let (addr, accepted) = backend();
        let pool = pool_for(addr);
        one_request(&pool).await;
        assert_eq!(pool.tidy(), 0);
        assert_eq!(pool.inner.lock_idle().len(), 1);
        one_request(&pool).await;
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_tidy_closes_connections_idle_for_longer_than_the_idle_timeout() {
        let (addr, _) = backend();
        let pool = pool_for(addr);
        one_request(&pool).await;
        let aged = Instant::now().checked_sub(IDLE_TIMEOUT).unwrap();
        pool.inner.lock_idle()[0].since = aged;
        assert_eq!(pool.tidy(), 1);
        assert_eq!(pool.inner.lock_idle().len(), 0);
    }
}
