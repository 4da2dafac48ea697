//! The request pipeline: check the head, pick the endpoint or route, authenticate, act. One
//! log line per request.
//!
//! [`handle`] only times, logs and turns errors into responses; `handle_inner` is the flat
//! sequence of steps, each of which may end the request with an [`Error`]:
//! 1. the path is rewritten to its canonical form, or refused when a backend could read it as
//!    another path ([`crate::path`]); the head is within `server.max_header_bytes`; there is at
//!    most one `Authorization` credential (`head`);
//! 2. the target: the longest matching route, or an embedded endpoint (`endpoints`, which
//!    keeps its path unless a route with a prefix at least as long as its namespace claims it);
//! 3. the method, then authentication as the target requires ([`mod@authenticate`]): the endpoint
//!    table and the route's `auth` decide it here, once;
//! 4. an embedded endpoint's body is read whole ([`Payload`]) and its handler answers
//!    (`dispatch`), or the request is forwarded (`forward`, the body streaming).
//!
//! The request is judged at one time, `now`, read here once and passed down.

pub mod authenticate;
mod dispatch;
mod endpoints;
mod forward;
mod head;
pub(crate) mod ids;
mod otel;
mod relay;
mod wallet;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use tracing::{info, warn};

use crate::auth::Principal;
use crate::config::{AuthMode, RouteConfig};
use crate::error::{AirnodeError, Error};
use crate::http::body::Body;
use crate::http::client_body::{ClientBody, Inbound};
use crate::http::read::Payload;
use crate::http::render::{error_response, text};
use crate::metrics::RouteMetrics;
use crate::net::client_ip;
use crate::state::call::Call;
use crate::state::policy::Policy;
use crate::state::shared::Shared;
pub use endpoints::{Caller, Listed, listed as embedded_endpoints, template_for};
use endpoints::{Endpoint, endpoint_for, takes_body};

/// What the pipeline knows about the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// What the log line and the metrics say about the request: its authentication, and the
/// route or endpoint it was counted under (its handles, resolved when the policy was built).
struct Trace<'p> {
    auth: &'static str,
    user_id: Option<String>,
    route: Option<&'p RouteMetrics>,
    /// The request id and trace context, written on the request once its head is checked.
    ids: &'p ids::Stamp,
}

/// Where a request goes.
enum Target<'a> {
    Embedded(Endpoint),
    Forward(&'a RouteConfig),
}

/// One request's context in the pipeline: the state it runs on, the connection, the caller's
/// address and the time it is judged at.
struct Ctx<'a> {
    shared: &'a Shared,
    policy: &'a Policy,
    conn: ConnInfo,
    ip: IpAddr,
    now: i64,
}

/// Answers one request under `policy`, the snapshot it loaded. Never fails: every error becomes
/// its JSON error response.
pub async fn handle<B: Inbound>(
    shared: &Shared,
    policy: &Policy,
    req: Request<ClientBody<B>>,
    conn: ConnInfo,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let version = req.version();
    // The path only: query strings can carry secrets and are not logged.
    let path = req.uri().path().to_owned();
    let trusted = (policy.config.server.trusted_proxies).contains(conn.peer.ip().to_canonical());
    let mut stamp = ids::read(req.headers(), trusted);
    let span = otel::request_span(&mut stamp, &method);
    let mut trace = Trace {
        auth: "none",
        user_id: None,
        route: None,
        ids: &stamp,
    };
    let mut code = "-";
    // Made and instrumented in one expression: a future kept in a local and then moved into
    // `instrument` was held twice in this one's state (rust-lang/rust#62958), and every request
    // copied both (the gateway's future 19.6 -> 10.5 KB).
    let inner = tracing::Instrument::instrument(
        handle_inner(shared, policy, req, conn, &mut trace),
        span.clone(),
    );
    let resp = match inner.await {
        Ok(resp) => resp,
        Err(err) => {
            log_error(&err);
            count_error(shared, &err);
            code = err.code();
            let mut resp = error_response(&err);
            if err.closes_connection() && version < Version::HTTP_2 {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
    };
    let mut resp = resp;
    resp.headers_mut()
        .insert(ids::X_REQUEST_ID, stamp.request_id.clone());
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    let route = trace.route.unwrap_or(shared.metrics.unmatched());
    route.request(&method, status, elapsed);
    span.record("http.response.status_code", status);
    info!(
        %method,
        path = %path,
        status,
        latency_us = elapsed.as_micros() as u64,
        auth = trace.auth,
        code,
        user_id = trace.user_id.as_deref().unwrap_or("-"),
        request_id = stamp.request_id.to_str().unwrap_or("-"),
        trace_id = %stamp.trace_id,
        "request"
    );
    resp
}

/// Counts what an error says beyond its status: a replay-window refusal.
fn count_error(shared: &Shared, err: &Error) {
    match err {
        Error::TokenReplayed => shared.metrics.replay_refused("replayed"),
        Error::ReplayWindowFull => shared.metrics.replay_refused("full"),
        _ => {}
    }
}

async fn handle_inner<'p, B: Inbound>(
    shared: &'p Shared,
    policy: &'p Policy,
    mut req: Request<ClientBody<B>>,
    conn: ConnInfo,
    trace: &mut Trace<'p>,
) -> Result<Response<Body>, Error> {
    let now = crate::clock::now();
    let received = wallet::Received::of(req.uri());
    req.extensions_mut().insert(received);
    head::canonicalise(&mut req)?;
    let path = req.uri().path();
    policy.routes.check_claims(path)?;
    let server = &policy.config.server;
    if head::size(&req) > server.max_header_bytes {
        return Err(Error::HeadersTooLarge);
    }
    // Refused on every route, authenticated or not: a backend must not get a second credential.
    crate::auth::authorization(req.headers())?;
    trace.ids.apply(req.headers_mut());
    let path = req.uri().path();
    let ip = client_ip(conn.peer.ip(), req.headers(), &server.trusted_proxies);
    if path != "/health" {
        shared.limits.check_ip(ip)?;
    }
    let target = match (policy.routes.find(path), endpoint_for(path)) {
        (Some(route), Some(e)) if route.prefix.len() >= e.namespace().len() => {
            Target::Forward(route)
        }
        (_, Some(e)) => Target::Embedded(e),
        (Some(route), None) => Target::Forward(route),
        (None, None) => return Err(Error::NotFound),
    };
    trace.route = match &target {
        Target::Embedded(e) => Some(shared.metrics.embedded(e.name())),
        Target::Forward(route) => policy.routes.metrics(route),
    }
    .map(|m| &**m);
    let at = Ctx {
        shared,
        policy,
        conn,
        ip,
        now,
    };
    match target {
        // Boxed: the embedded endpoints' and the signed-wallet path's futures are large, and
        // unboxed every forwarded request's future would be as large as theirs (and copied).
        Target::Embedded(endpoint) => Box::pin(embedded(&at, endpoint, req, trace)).await,
        Target::Forward(route) if wallet::is_signed(policy, route, &req) => {
            let at = wallet::At {
                shared,
                policy,
                peer: conn.peer.ip(),
                tls: conn.tls,
                ip,
                now,
            };
            let seen = wallet::Seen {
                auth: &mut trace.auth,
                user_id: &mut trace.user_id,
            };
            Box::pin(wallet::forward(&at, route, req, seen)).await
        }
        Target::Forward(route) => {
            let who = match route.auth {
                AuthMode::None => None,
                AuthMode::Optional => authenticate(&at, &req, trace).await?,
                AuthMode::Required => Some(required(authenticate(&at, &req, trace).await?)?),
            };
            if let Some(method) = who.as_ref().map(|w| w.method.as_str())
                && !wallet::accepts(route, method)
            {
                return Err(crate::error::WalletError::MethodNotAccepted(method).into());
            }
            let fwd = forward::Forward {
                shared,
                policy,
                peer: conn.peer.ip(),
                tls: conn.tls,
                route,
                now,
            };
            fwd.send(req, who.as_ref()).await
        }
    }
}

/// An embedded endpoint: its method, its per-IP password rate, its caller as its kind says,
/// its body, then its handler.
async fn embedded<B: Inbound>(
    at: &Ctx<'_>,
    endpoint: Endpoint,
    req: Request<ClientBody<B>>,
    trace: &mut Trace<'_>,
) -> Result<Response<Body>, Error> {
    if req.method() == Method::OPTIONS && endpoint.answers_options() {
        return Ok(options(&endpoint));
    }
    endpoint.check_method(req.method())?;
    if endpoint.is_anonymous_password() {
        at.shared.limits.check_password_ip(at.ip)?;
    }
    match endpoint {
        Endpoint::Open(op) => {
            let (head, body) = read(req).await;
            dispatch::open(&call(at, &head), op, body).await
        }
        Endpoint::Optional(op) => {
            let who = authenticate(at, &req, trace).await?;
            if let Some(retries) = who.as_ref().and_then(|w| embedded_retries(at, w)) {
                let handle = async |req| {
                    let (head, body) = read(req).await;
                    dispatch::optional(&call(at, &head), op, who.as_ref(), body).await
                };
                return retries.send(req, handle).await;
            }
            let (head, body) = read(req).await;
            dispatch::optional(&call(at, &head), op, who.as_ref(), body).await
        }
        Endpoint::Authenticated(op) if wallet::signs_embedded(at.policy, &req) => {
            // The body first (bounded as every embedded body is): the signature covers it.
            let (head, body) = read(req).await;
            let bytes = body.bytes()?;
            let wat = wallet::At {
                shared: at.shared,
                policy: at.policy,
                peer: at.conn.peer.ip(),
                tls: at.conn.tls,
                ip: at.ip,
                now: at.now,
            };
            let metrics = &at.shared.metrics;
            let who = wallet::principal(&wat, &head, &bytes)
                .await
                .inspect_err(|e| {
                    trace.auth = "rejected";
                    metrics.auth_refused("erc8128", e.code());
                })?;
            trace.auth = who.method.as_str();
            metrics.auth_ok(trace.auth);
            trace.user_id = Some(who.user.user_id.clone());
            dispatch::authenticated(&call(at, &head), op, &who, Payload::new(bytes)).await
        }
        Endpoint::Authenticated(op) => {
            let who = required(authenticate(at, &req, trace).await?)?;
            if let Some(retries) = embedded_retries(at, &who) {
                let handle = async |req| {
                    let (head, body) = read(req).await;
                    dispatch::authenticated(&call(at, &head), op, &who, body).await
                };
                return retries.send(req, handle).await;
            }
            let (head, body) = read(req).await;
            dispatch::authenticated(&call(at, &head), op, &who, body).await
        }
    }
}

/// An Airnode caller's retry record at an embedded endpoint (bodies up to
/// [`crate::http::read::MAX_JSON_BODY`]; a handler answers within [`EMBEDDED_ANSWER`]).
fn embedded_retries<'a>(at: &Ctx<'a>, who: &'a Principal) -> Option<relay::Retries<'a>> {
    let limit = crate::http::read::MAX_JSON_BODY as u64;
    relay::Retries::of(at.shared, at.policy, who, limit, EMBEDDED_ANSWER, at.now)
}

/// How long a retry waits for an embedded handler's first answer (handlers answer from the
/// store; a slower one leaves the retry 504).
const EMBEDDED_ANSWER: std::time::Duration = std::time::Duration::from_secs(30);

/// The request's head, and its body read whole when its method carries one
/// ([`takes_body`]); otherwise the body is left unread.
async fn read<B: Inbound>(req: Request<ClientBody<B>>) -> (http::request::Parts, Payload) {
    let (head, body) = req.into_parts();
    let payload = if takes_body(&head.method) {
        Payload::read(body).await
    } else {
        Payload::default()
    };
    (head, payload)
}

fn call<'a>(at: &Ctx<'a>, head: &'a http::request::Parts) -> Call<'a> {
    Call {
        shared: at.shared,
        policy: at.policy,
        head,
        peer: at.conn.peer.ip().to_canonical(),
        now: at.now,
    }
}

async fn authenticate<B>(
    at: &Ctx<'_>,
    req: &Request<B>,
    trace: &mut Trace<'_>,
) -> Result<Option<Principal>, Error> {
    let metrics = &at.shared.metrics;
    let who = authenticate::authenticate(at.shared, at.policy, req.headers(), at.ip, at.now)
        .await
        .inspect_err(|e| {
            trace.auth = "rejected";
            metrics.auth_refused(credential_kind(req.headers()), e.code());
        })?;
    if let Some(p) = &who {
        trace.auth = p.method.as_str();
        trace.user_id = Some(p.user.user_id.clone());
        metrics.auth_ok(trace.auth);
    }
    Ok(who)
}

/// The kind of credential a refused request carried, for `dauth_auth_total{method}`.
fn credential_kind(headers: &http::HeaderMap) -> &'static str {
    if headers.contains_key(crate::auth::DAUTH_HEADER) {
        "dauth"
    } else if headers.contains_key(header::AUTHORIZATION) {
        "bearer"
    } else {
        "other"
    }
}

fn required(principal: Option<Principal>) -> Result<Principal, Error> {
    principal.ok_or(Error::MissingCredentials)
}

/// The answer to `OPTIONS`: the allowed methods, as text and in `Allow` (seed 001).
fn options(endpoint: &Endpoint) -> Response<Body> {
    let allow = endpoint.allow();
    let mut resp = text(StatusCode::OK, allow);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Logs what the answer does not say: the cause of a failure of the gateway or of what it
/// depends on (with the whole chain of sources), the reason a token was refused, a body that
/// did not arrive. Never a credential: causes name what failed, not what was sent.
fn log_error(err: &Error) {
    match err {
        Error::Store(cause) => warn!(code = err.code(), error = %chain(cause), "store failure"),
        Error::ReplayUnavailable(cause) => {
            warn!(code = err.code(), error = %chain(cause), "replay window unavailable")
        }
        Error::UpstreamUnavailable(cause) => {
            warn!(code = err.code(), error = %chain(cause.as_ref()), "upstream failure")
        }
        Error::Internal { what, cause } => {
            warn!(code = err.code(), what, error = %chain(cause.as_ref()), "internal failure")
        }
        Error::MailUnavailable(cause) => {
            warn!(code = err.code(), error = %chain(cause.as_ref()), "mail not sent")
        }
        Error::Airnode(AirnodeError::ChainUnavailable(cause)) => {
            warn!(code = err.code(), error = %chain(cause.as_ref()), "chain check failed")
        }
        Error::InvalidToken(defect) => info!(code = err.code(), reason = %defect, "token refused"),
        Error::BodyTimeout => info!(code = err.code(), "request body timed out"),
        Error::BadBody(cause) => {
            info!(code = err.code(), error = %cause, "client request body unreadable")
        }
        _ => {}
    }
}

/// An error and its sources, `a: b: c`.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        // thiserror's `{0}` already prints the source in many variants; do not repeat it.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

#[cfg(test)]
mod tests;
