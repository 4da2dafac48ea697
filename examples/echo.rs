//! An echo backend for walkthroughs: answers every request with what it received, as JSON.
//!
//! Put it behind a route (`config/dev.toml` has `/echo/` to `127.0.0.1:9000`) to see what a
//! backend of the gateway gets: the identity headers the gateway adds after authentication, and
//! that the ones a client sent itself (`X-DAuth-User-Id: evil`, `x_dauth_user_id`, ...) are gone.
//!
//! ```sh
//! cargo run --release --example echo                       # listens on 127.0.0.1:9000
//! cargo run --release --example echo -- --listen 0.0.0.0:9000
//! ```
//!
//! The first line on stdout is `listening on ADDR`. Then one line per request: its method, path
//! and every identity-like header it carried (names that, with `_` read as `-`, start with
//! `x-dauth-` or `x-user-ctx`), or `no identity headers`.
//!
//! The answer is `200 application/json` (`400` with a `body_error` when the body could not be
//! read, say a broken chunked encoding):
//!
//! ```json
//! {"method":"GET","path":"/echo/hello","query":"a=1","version":"HTTP/1.1",
//!  "peer":"127.0.0.1:53210","headers":{"host":"127.0.0.1:9000","x-dauth-user-id":"..."},
//!  "body_bytes":0}
//! ```
//!
//! `query` is `null` without a query string. `headers` has every header, by lower-case name in
//! sorted order; a value that is not UTF-8 is shown with replacement characters, and a name sent
//! more than once has an array of its values in the order received. The body is read and counted,
//! never kept. It is a development tool: it echoes whatever it is sent (tokens too, if a route
//! forwards them) to whoever asked.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Command-line arguments.
#[derive(Parser)]
#[command(about = "Echo backend: answers every request with what it received, as JSON")]
struct Args {
    /// Socket address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("echo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args.listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Binds `addr` and serves until SIGINT or SIGTERM (also as PID 1 in a container, where a
/// signal without a handler would be ignored).
async fn run(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    println!("listening on {}", listener.local_addr()?);
    tokio::select! {
        () = accept_loop(listener) => Ok(()),
        result = shutdown_signal() => result,
    }
}

/// Accepts connections for ever; a failed accept (say, out of file descriptors) is reported and
/// retried after a pause rather than ending the server. (`pub(crate)` for
/// `tests/shipped_configs.rs`, which runs this file as a module.)
pub(crate) async fn accept_loop(listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("echo: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, peer));
            // No header timeout: the gateway keeps pooled connections open between requests,
            // and a timeout here would close them under it.
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                eprintln!("echo: connection from {peer}: {e}");
            }
        });
    }
}

/// Resolves on SIGINT, or on SIGTERM where there is one.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// Answers one request with its description, after reading and counting its body.
async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, mut body) = req.into_parts();
    let mut body_bytes: u64 = 0;
    let mut body_error = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    body_bytes = body_bytes.saturating_add(data.len() as u64);
                }
            }
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    println!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        identity_summary(&parts.headers)
    );
    let mut described = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "version": format!("{:?}", parts.version),
        "peer": peer.to_string(),
        "headers": headers_json(&parts.headers),
        "body_bytes": body_bytes,
    });
    let status = match (body_error, &mut described) {
        (Some(e), Value::Object(map)) => {
            map.insert("body_error".to_owned(), Value::String(e));
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    };
    Ok(json_response(status, &described))
}

/// Every header by name (sorted; `http` keeps names in lower case), a repeated name as an array.
fn headers_json(headers: &HeaderMap) -> Value {
    let mut out: BTreeMap<&str, Value> = BTreeMap::new();
    for name in headers.keys() {
        let mut values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let value = if values.len() == 1 {
            values.swap_remove(0)
        } else {
            Value::Array(values)
        };
        out.insert(name.as_str(), value);
    }
    json!(out)
}

/// Is this a name the gateway treats as identity (`x-dauth-*`, `x-user-ctx*`, `_` read as `-`)?
fn is_identity_like(name: &str) -> bool {
    let folded = name.to_ascii_lowercase().replace('_', "-");
    folded.starts_with("x-dauth-") || folded.starts_with("x-user-ctx")
}

/// `name=value` for every identity-like header, sorted, or `no identity headers`.
fn identity_summary(headers: &HeaderMap) -> String {
    let mut found: Vec<String> = headers
        .iter()
        .filter(|(name, _)| is_identity_like(name.as_str()))
        .map(|(name, value)| format!("{name}={}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    if found.is_empty() {
        return "no identity headers".to_owned();
    }
    found.sort();
    found.join(" ")
}

/// An `application/json` answer with `status`; falls back to a 500 without body if the JSON
/// cannot be written (it always can: the value is built from strings and numbers).
fn json_response(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let body = match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            bytes
        }
        Err(_) => {
            let mut resp = Response::new(Full::new(Bytes::new()));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return resp;
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}
