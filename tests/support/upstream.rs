//! A real upstream for proxy tests: a small hyper server on a loopback port (plain or TLS) that
//! records what it receives and answers by path:
//! - `.../hang`: never answers (for timeouts);
//! - `.../hold`: answers once the test calls [`Upstream::release`];
//! - `.../reset`: closes the connection without answering;
//! - `.../download?bytes=N`: streams N deterministic bytes ([`pattern`]);
//! - `.../slow-download?bytes=N&chunk=C&ms=D`: the same N bytes, C at a time, one chunk every
//!   D milliseconds;
//! - `.../stall-download?bytes=N`: N of those bytes, then nothing, never ending;
//! - anything else: reads the body (hashing it, never holding it whole) and answers JSON
//!   `{method, uri, body_len, body_sha256}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Which connection it came on: 0 for the first the upstream accepted, then 1, ...
    pub conn: usize,
}

/// A running upstream.
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    release: Arc<Notify>,
    arrived: Arc<Notify>,
}

type Out = BoxBody<Bytes, std::io::Error>;

impl Upstream {
    /// Starts a plain HTTP upstream.
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// Starts an HTTPS upstream with the given certificate chain and key (PEM).
    pub async fn start_tls(cert_pem: &str, key_pem: &str) -> Self {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        Self::start_inner(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn start_inner(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let release = Arc::new(Notify::new());
        let arrived = Arc::new(Notify::new());
        let (s, r, a) = (
            Arc::clone(&seen),
            Arc::clone(&release),
            Arc::clone(&arrived),
        );
        tokio::spawn(async move {
            for conn in 0.. {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (s, r, a, tls) = (Arc::clone(&s), Arc::clone(&r), Arc::clone(&a), tls.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        answer(req, conn, Arc::clone(&s), Arc::clone(&r), Arc::clone(&a))
                    });
                    let builder = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            seen,
            release,
            arrived,
        }
    }

    /// Everything received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The last request received.
    pub fn last(&self) -> Seen {
        self.seen().pop().expect("the upstream saw no request")
    }

    /// Lets held requests (`.../hold`) answer.
    pub fn release(&self) {
        self.release.notify_waiters();
    }

    /// Waits until a request has arrived at `.../hold`.
    pub async fn wait_for_held(&self) {
        self.arrived.notified().await;
    }
}

/// The byte at offset `i` of a download.
pub fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 8)) as u8
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn answer(
    req: Request<Incoming>,
    conn: usize,
    seen: Arc<Mutex<Vec<Seen>>>,
    release: Arc<Notify>,
    arrived: Arc<Notify>,
) -> Result<Response<Out>, std::io::Error> {
    let (parts, mut body) = req.into_parts();
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        uri: uri.clone(),
        headers: parts.headers.clone(),
        conn,
    });
    let path = parts.uri.path();
    if path.ends_with("/hang") {
        std::future::pending::<()>().await;
    }
    if path.ends_with("/hold") {
        let released = release.notified();
        arrived.notify_one();
        released.await;
    }
    if path.ends_with("/reset") {
        return Err(std::io::Error::other("reset on purpose"));
    }
    let query = parts.uri.query().unwrap_or_default();
    let n = param(query, "bytes");
    if path.ends_with("/download") {
        return Ok(Response::new(BoxBody::new(PatternBody { next: 0, end: n })));
    }
    if path.ends_with("/slow-download") || path.ends_with("/stall-download") {
        let stall = path.ends_with("/stall-download");
        let (chunk, every) = if stall {
            (n, std::time::Duration::ZERO)
        } else {
            let ms = param(query, "ms") as u64;
            (param(query, "chunk"), std::time::Duration::from_millis(ms))
        };
        let body = SlowBody {
            next: 0,
            end: n,
            chunk: chunk.max(1),
            every,
            stall,
            sleep: None,
        };
        return Ok(Response::new(BoxBody::new(body)));
    }
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(std::io::Error::other)?;
        if let Some(data) = frame.data_ref() {
            len += data.len();
            ctx.update(data);
        }
    }
    let json = serde_json::json!({
        "method": parts.method.as_str(),
        "uri": uri,
        "body_len": len,
        "body_sha256": hex(ctx.finish().as_ref()),
    });
    let mut resp = Response::new(
        Full::new(Bytes::from(json.to_string()))
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp.headers_mut()
        .insert("x-upstream", "yes".parse().unwrap());
    Ok(resp)
}

/// A body of `end` [`pattern`] bytes, produced 64 KiB at a time.
struct PatternBody {
    next: usize,
    end: usize,
}

impl hyper::body::Body for PatternBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.next >= self.end {
            return std::task::Poll::Ready(None);
        }
        let stop = (self.next + 64 * 1024).min(self.end);
        let chunk: Vec<u8> = (self.next..stop).map(pattern).collect();
        self.next = stop;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }
}

/// The number `name=N` in `query`, or 0.
fn param(query: &str, name: &str) -> usize {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// [`pattern`] bytes `chunk` at a time, one chunk per `every`; with `stall`, pending for ever
/// once `end` bytes are out.
struct SlowBody {
    next: usize,
    end: usize,
    chunk: usize,
    every: std::time::Duration,
    stall: bool,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::body::Body for SlowBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        use std::future::Future;
        use std::task::Poll;
        if self.next >= self.end {
            return if self.stall {
                Poll::Pending
            } else {
                Poll::Ready(None)
            };
        }
        if self.next > 0 {
            let every = self.every;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        let stop = (self.next + self.chunk).min(self.end);
        let chunk: Vec<u8> = (self.next..stop).map(pattern).collect();
        self.next = stop;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }
}
