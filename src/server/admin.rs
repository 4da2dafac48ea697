//! The admin listener (`admin.listen`, default `127.0.0.1:9901`): plain HTTP/1.1 on its own
//! socket, never the public one, for the operator's tools.
//!
//! - `GET /metrics`: every `dauth_*` family, in the Prometheus text format (0.0.4), or in
//!   OpenMetrics text when `Accept` asks for `application/openmetrics-text`;
//! - `GET /ready`: 200 when the store answers (a probe write within [`STORE_PROBE`]), every key
//!   source has loaded at least once, and the gateway is not draining; otherwise 503 with the
//!   JSON list of what is not ready;
//! - `GET /health`: liveness, 200 while the process serves.
//!
//! It keeps serving while the public listener drains (so `/ready` can say "draining") and stops
//! when the gateway has drained.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::state::State;

/// How long `/ready` waits for the store's probe write.
pub(crate) const STORE_PROBE: Duration = Duration::from_secs(2);

/// Serves the admin endpoints on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    if let Ok(addr) = listener.local_addr() {
        info!(admin_addr = %addr, "admin endpoints up");
    }
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(answer(&state, &req).await) }
            });
            let conn = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .http1_only()
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
        });
    }
}

async fn answer(state: &State, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"error":"GET only"}"#.into(),
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    match req.uri().path() {
        "/metrics" => metrics(state, req),
        "/ready" => ready(state).await,
        "/health" => json(StatusCode::OK, r#"{"status":"ok"}"#.into()),
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#.into()),
    }
}

/// `/metrics`, in the format `Accept` asks for.
fn metrics(state: &State, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let shared = state.shared();
    if let Some(ids) = shared.dauth_replay.held() {
        shared.metrics.replay_window(ids);
    }
    let openmetrics = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let (body, kind) = if openmetrics {
        (
            shared.metrics.encode(true),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        (
            shared.metrics.encode(false),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    resp
}

/// `/ready`: what is not ready, if anything (see the module docs).
async fn ready(state: &State) -> Response<Full<Bytes>> {
    let shared = state.shared();
    let mut not_ready: Vec<String> = Vec::new();
    let probe = shared.store.backend.check_writable(crate::clock::now());
    match tokio::time::timeout(STORE_PROBE, probe).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            warn!(error = %e, "readiness: the store did not answer");
            not_ready.push("store".into());
        }
        Err(_) => not_ready.push("store".into()),
    }
    let policy = state.policy();
    not_ready.extend(
        crate::metrics::ready::not_loaded(&policy.key_sources)
            .into_iter()
            .map(|name| format!("keys:{name}")),
    );
    if shared.connections.draining() {
        not_ready.push("draining".into());
    }
    let status = if not_ready.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({ "ready": not_ready.is_empty(), "not_ready": not_ready });
    json(status, body.to_string())
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
