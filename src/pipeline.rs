//! The request pipeline: route, authenticate, act. One log line per request.
//!
//! [`handle`] only times, logs and turns errors into responses; [`handle_inner`] is the flat
//! sequence of steps, each of which may end the request with an [`Error`].

use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tracing::{info, warn};

use crate::api::{self, Body, Endpoint};
use crate::app::State;
use crate::auth::{self, Principal};
use crate::error::Error;
use crate::net::client_ip;

/// What the log line says about authentication.
#[derive(Default)]
struct Trace {
    auth: &'static str,
    user_id: Option<String>,
}

/// Answers one request. Never fails: every error becomes its JSON error response.
pub async fn handle(state: &State, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    // The path only: query strings can carry secrets and are not logged.
    let path = req.uri().path().to_owned();
    let mut trace = Trace {
        auth: "none",
        user_id: None,
    };
    let mut code = "-";
    let resp = match handle_inner(state, req, peer, &mut trace).await {
        Ok(resp) => resp,
        Err(err) => {
            log_error(&err);
            code = err.code();
            api::error_response(&err)
        }
    };
    info!(
        %method,
        path = %path,
        status = resp.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        auth = trace.auth,
        code,
        user_id = trace.user_id.as_deref().unwrap_or("-"),
        "request"
    );
    resp
}

async fn handle_inner(
    state: &State,
    req: Request<Incoming>,
    peer: SocketAddr,
    trace: &mut Trace,
) -> Result<Response<Body>, Error> {
    let endpoint = api::route(req.method(), req.uri().path())?;
    if endpoint == Some(Endpoint::Health) {
        return Ok(api::json(
            StatusCode::OK,
            &serde_json::json!({"status": "ok"}),
        ));
    }
    let ip = client_ip(
        peer.ip(),
        req.headers(),
        &state.config.server.trusted_proxies,
    );
    let principal = auth::authenticate(&state.dauth, &state.store, req.headers(), ip, unix_now())
        .await
        .inspect_err(|_| trace.auth = "rejected")?;
    if let Some(p) = &principal {
        trace.auth = p.method.as_str();
        trace.user_id = Some(p.user.user_id.clone());
    }
    match endpoint {
        Some(Endpoint::CurrentUser) => Ok(api::users::current_user(&required(principal)?)),
        Some(Endpoint::Health) | None => Err(Error::NotFound),
    }
}

fn required(principal: Option<Principal>) -> Result<Principal, Error> {
    principal.ok_or(Error::MissingCredentials)
}

fn log_error(err: &Error) {
    match err {
        Error::Store(cause) => warn!(code = err.code(), error = %cause, "store failure"),
        Error::InvalidToken(defect) => info!(code = err.code(), reason = %defect, "token refused"),
        _ => {}
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
