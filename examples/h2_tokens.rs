//! HTTP/2-over-TLS load generator with a fresh DAuth token per request, for `bench/run`'s
//! scenario H.
//!
//! `h2load` (Debian's `nghttp2-client`) sends the same headers on every request, so it can drive
//! H's plain-proxy case but not its replay-protected one, where every request needs a token never
//! sent before. This tool opens `--connections` TLS connections (ALPN `h2` only, the server's
//! certificate checked against `--ca`), keeps `--streams` requests in flight on each, and gives
//! every request the next line of `--tokens` as its `DAuth` header (none when no file is given).
//! No token is sent twice: once they run out, requests go to `/bench-tokens-exhausted` (a 404,
//! counted as `non2xx` and `tokens_short`) instead. It runs for `--duration` seconds on one
//! thread, then prints one line in the format `bench/lua/report.lua` prints for wrk:
//!
//! ```text
//! BENCH_RESULT {"requests": N, "duration_us": N, "p50_us": F, "p99_us": F, "non2xx": N,
//!   "connect_errors": N, "read_errors": N, "write_errors": N, "timeouts": 0,
//!   "tokens_used": N, "tokens_short": N, "tokens_next": N}
//! ```
//!
//! `requests` counts responses completed within the duration (their latencies give p50 and p99);
//! `tokens_next` is the first line no request took (for the next phase's `--start`).
//!
//! ```sh
//! cargo build --release --example h2_tokens
//! target/release/examples/h2_tokens --url https://127.0.0.1:8443/bench/hello --ca ca.pem \
//!     --connections 16 --streams 32 --duration 10 --tokens tokens.txt --start 0
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::{Cell, RefCell};
use std::io::BufRead;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http::{HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Command-line arguments.
#[derive(Parser)]
#[command(about = "HTTP/2-over-TLS load with a fresh DAuth token per request")]
struct Args {
    /// Target, `https://HOST:PORT/PATH`.
    #[arg(long)]
    url: Uri,
    /// PEM file of the CA that signed the server's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// TLS connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Requests in flight per connection (HTTP/2 streams).
    #[arg(long, default_value_t = 32)]
    streams: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Tokens, one a line; each request takes the next one as its `DAuth` header.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// First line of `--tokens` to use.
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// Most tokens to use (from `--start`).
    #[arg(long)]
    limit: Option<usize>,
}

/// Counters shared by every stream of the (single-threaded) run.
#[derive(Default)]
struct Tally {
    next_token: Cell<usize>,
    short: Cell<u64>,
    non2xx: Cell<u64>,
    connect_errors: Cell<u64>,
    read_errors: Cell<u64>,
    write_errors: Cell<u64>,
    latencies_us: RefCell<Vec<u32>>,
}

fn load_tokens(args: &Args) -> Vec<HeaderValue> {
    let Some(path) = &args.tokens else {
        return Vec::new();
    };
    let file = std::fs::File::open(path).expect("tokens file");
    std::io::BufReader::new(file)
        .lines()
        .skip(args.start)
        .take(args.limit.unwrap_or(usize::MAX))
        .map(|l| HeaderValue::from_str(l.expect("tokens file").trim()).expect("token"))
        .collect()
}

fn tls_connector(ca: &PathBuf) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for p in pem::parse_many(std::fs::read(ca).expect("CA file")).expect("CA PEM") {
        roots
            .add(CertificateDer::from(p.into_contents()))
            .expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    TlsConnector::from(Arc::new(config))
}

async fn connect(
    uri: &Uri,
    tls: &TlsConnector,
) -> Result<http2::SendRequest<Empty<Bytes>>, String> {
    let host = uri.host().ok_or("URL without a host")?.to_owned();
    let port = uri.port_u16().unwrap_or(443);
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host).map_err(|e| e.to_string())?;
    let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err("the server did not choose h2 by ALPN".into());
    }
    let (send, conn) = http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// One stream: requests one after another until `deadline`.
async fn stream_loop(
    mut send: http2::SendRequest<Empty<Bytes>>,
    uri: Uri,
    spare: Uri,
    tokens: Rc<Vec<HeaderValue>>,
    tally: Rc<Tally>,
    use_tokens: bool,
    deadline: Instant,
) {
    while Instant::now() < deadline {
        let mut req = Request::get(uri.clone());
        if use_tokens {
            let i = tally.next_token.get();
            tally.next_token.set(i + 1);
            match tokens.get(i) {
                Some(t) => req = req.header("dauth", t.clone()),
                None => {
                    tally.short.set(tally.short.get() + 1);
                    req = Request::get(spare.clone());
                }
            }
        }
        let req = req.body(Empty::new()).expect("request");
        if send.ready().await.is_err() {
            tally.write_errors.set(tally.write_errors.get() + 1);
            return;
        }
        let started = Instant::now();
        let Ok(resp) = send.send_request(req).await else {
            tally.write_errors.set(tally.write_errors.get() + 1);
            return;
        };
        let status = resp.status();
        if resp.into_body().collect().await.is_err() {
            tally.read_errors.set(tally.read_errors.get() + 1);
            return;
        }
        let done = Instant::now();
        if done > deadline {
            return;
        }
        if !status.is_success() && !status.is_redirection() {
            tally.non2xx.set(tally.non2xx.get() + 1);
        }
        let us = u32::try_from((done - started).as_micros()).unwrap_or(u32::MAX);
        tally.latencies_us.borrow_mut().push(us);
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1])
}

async fn run(args: Args) {
    let tokens = Rc::new(load_tokens(&args));
    let use_tokens = args.tokens.is_some();
    let tls = tls_connector(&args.ca);
    let spare: Uri = format!(
        "{}://{}/bench-tokens-exhausted",
        args.url.scheme_str().unwrap_or("https"),
        args.url.authority().expect("URL with an authority")
    )
    .parse()
    .expect("spare URL");
    let tally = Rc::new(Tally::default());
    let mut senders = Vec::new();
    for _ in 0..args.connections {
        match connect(&args.url, &tls).await {
            Ok(s) => senders.push(s),
            Err(e) => {
                eprintln!("h2_tokens: connect: {e}");
                tally.connect_errors.set(tally.connect_errors.get() + 1);
            }
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let mut tasks = Vec::new();
    for send in &senders {
        for _ in 0..args.streams {
            tasks.push(tokio::task::spawn_local(stream_loop(
                send.clone(),
                args.url.clone(),
                spare.clone(),
                Rc::clone(&tokens),
                Rc::clone(&tally),
                use_tokens,
                deadline,
            )));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut lat = tally.latencies_us.take();
    lat.sort_unstable();
    let used = tally.next_token.get().min(tokens.len());
    println!(
        "BENCH_RESULT {{\"requests\": {}, \"duration_us\": {}, \"p50_us\": {:.1}, \"p99_us\": {:.1}, \
         \"non2xx\": {}, \"connect_errors\": {}, \"read_errors\": {}, \"write_errors\": {}, \
         \"timeouts\": 0, \"tokens_used\": {}, \"tokens_short\": {}, \"tokens_next\": {}}}",
        lat.len(),
        (deadline - started).as_micros(),
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        tally.non2xx.get(),
        tally.connect_errors.get(),
        tally.read_errors.get(),
        tally.write_errors.get(),
        if use_tokens { used as i64 } else { -1 },
        if use_tokens {
            tally.short.get() as i64
        } else {
            -1
        },
        args.start + used,
    );
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    tokio::task::LocalSet::new().block_on(&rt, run(args));
}
