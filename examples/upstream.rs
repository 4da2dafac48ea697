//! A minimal upstream for load tests: answers every request with the same 13-byte body.
//!
//! HTTP/1.1 with keep-alive, on a multi-threaded tokio runtime. The request body is drained and
//! ignored, so the figure it gives is close to the cost of HTTP parsing and socket I/O alone.
//! `bench/run` uses it as scenario A's target and as the gateway's backend.
//!
//! ```sh
//! cargo build --release --example upstream
//! target/release/examples/upstream [PORT] [WORKER_THREADS]
//! ```
//!
//! `PORT` defaults to 0 (any free port); `WORKER_THREADS` to the number of cores. The first line
//! on stdout is `listening on ADDR`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// What every request gets (13 bytes).
const BODY: &[u8] = b"Hello, bench\n";

fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .map(|p| p.parse().expect("PORT must be a number"))
        .unwrap_or(0);
    let threads: usize = args
        .next()
        .map(|t| t.parse().expect("WORKER_THREADS must be a number"))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(serve(SocketAddr::from(([127, 0, 0, 1], port))));
}

async fn serve(addr: SocketAddr) {
    let listener = TcpListener::bind(addr).await.expect("bind");
    let local = listener.local_addr().expect("local address");
    println!("listening on {local}");
    std::io::stdout().flush().expect("stdout");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service_fn(answer))
                .await;
        });
    }
}

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Drain the body so the connection can be reused; its content is not looked at.
    let _ = req.into_body().collect().await;
    let mut resp = Response::new(Full::new(Bytes::from_static(BODY)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    Ok(resp)
}
