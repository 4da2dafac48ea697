//! The request pipeline: check the head, pick the target, authenticate, act. One log line per
//! request.
//!
//! [`handle`] only times, logs and turns errors into responses; [`handle_inner`] is the flat
//! sequence of steps, each of which may end the request with an [`Error`]:
//! 1. the path is rewritten to its canonical form, or refused when a backend could read it as
//!    another path ([`crate::path`]); the head is within `server.max_header_bytes`; there is at
//!    most one `Authorization` credential;
//! 2. the target: the longest matching route, or an embedded handler (which keeps its path
//!    unless a route with a prefix at least as long as the handler's namespace claims it);
//! 3. authentication, as the target requires;
//! 4. the embedded handler answers, or the request is forwarded.

use std::net::SocketAddr;
use std::time::Instant;

use http::{HeaderValue, Request, Response, StatusCode, Version, header};
use tracing::{info, warn};

use crate::api::{self, Endpoint};
use crate::auth::Principal;
use crate::config::{AuthMode, RouteConfig};
use crate::error::Error;
use crate::http::body::Body;
use crate::http::client_body::ClientBody;
use crate::http::render::{error_response, json};
use crate::net::client_ip;
use crate::proxy::headers::ForwardContext;
use crate::state::policy::Policy;
use crate::state::shared::Shared;

/// What the pipeline knows about the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// What the log line says about authentication.
struct Trace {
    auth: &'static str,
    user_id: Option<String>,
}

enum Target<'a> {
    Embedded(Endpoint),
    Forward(&'a RouteConfig),
}

pub mod authenticate;

/// Answers one request under `policy`, the snapshot it loaded. Never fails: every error becomes
/// its JSON error response.
pub async fn handle(
    shared: &Shared,
    policy: &Policy,
    req: Request<ClientBody>,
    conn: ConnInfo,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let version = req.version();
    // The path only: query strings can carry secrets and are not logged.
    let path = req.uri().path().to_owned();
    let mut trace = Trace {
        auth: "none",
        user_id: None,
    };
    let mut code = "-";
    let resp = match handle_inner(shared, policy, req, conn, &mut trace).await {
        Ok(resp) => resp,
        Err(err) => {
            log_error(&err);
            code = err.code();
            let mut resp = error_response(&err);
            if err.closes_connection() && version < Version::HTTP_2 {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
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
    shared: &Shared,
    policy: &Policy,
    mut req: Request<ClientBody>,
    conn: ConnInfo,
    trace: &mut Trace,
) -> Result<Response<Body>, Error> {
    let now = crate::clock::now();
    canonicalise(&mut req)?;
    let path = req.uri().path();
    policy.routes.check_claims(path)?;
    let server = &policy.config.server;
    if head_size(&req) > server.max_header_bytes {
        return Err(Error::HeadersTooLarge);
    }
    // Refused on every route, authenticated or not: a backend must not get a second credential.
    crate::auth::authorization(req.headers())?;
    let ip = client_ip(conn.peer.ip(), req.headers(), &server.trusted_proxies);
    if path != "/health" {
        shared.limits.check_ip(ip)?;
    }
    let target = match (policy.routes.find(path), api::endpoint_for(path)) {
        (Some(route), Some(e)) if route.prefix.len() >= e.namespace().len() => {
            Target::Forward(route)
        }
        (_, Some(e)) => Target::Embedded(e),
        (Some(route), None) => Target::Forward(route),
        (None, None) => return Err(Error::NotFound),
    };
    match target {
        Target::Embedded(Endpoint::Health) => {
            Endpoint::Health.check_method(req.method())?;
            Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"})))
        }
        Target::Embedded(endpoint) => {
            if req.method() == http::Method::OPTIONS && endpoint.allow().contains("OPTIONS") {
                return Ok(api::options(&endpoint));
            }
            endpoint.check_method(req.method())?;
            if endpoint.is_anonymous_password() {
                shared.limits.check_password_ip(ip)?;
            }
            let who = match endpoint.auth() {
                AuthMode::None => None,
                AuthMode::Optional => authenticate(shared, policy, &req, ip, now, trace).await?,
                AuthMode::Required => Some(required(
                    authenticate(shared, policy, &req, ip, now, trace).await?,
                )?),
            };
            let peer = conn.peer.ip().to_canonical();
            api::serve(shared, policy, endpoint, req, who.as_ref(), peer, now).await
        }
        Target::Forward(route) => {
            let who = match route.auth {
                AuthMode::None => None,
                AuthMode::Optional => authenticate(shared, policy, &req, ip, now, trace).await?,
                AuthMode::Required => Some(required(
                    authenticate(shared, policy, &req, ip, now, trace).await?,
                )?),
            };
            let view = match (&route.view_check, &who) {
                (Some(check), Some(who)) => Some(
                    crate::obp::route_check::view_for_route(
                        &*shared.store.access,
                        check,
                        req.uri().path(),
                        who,
                    )
                    .await?,
                ),
                (Some(_), None) => return Err(Error::MissingCredentials),
                (None, _) => None,
            };
            let host = host_of(&req);
            let ctx = ForwardContext {
                peer: conn.peer.ip(),
                peer_trusted: server.trusted_proxies.contains(conn.peer.ip()),
                tls: conn.tls,
                forward_token: route.forward_token,
                preserve_host: route.preserve_host,
                host: host.as_deref(),
                view: view.as_deref(),
            };
            let limit = server.max_body_bytes;
            policy
                .routes
                .forward(route, req, &ctx, who.as_ref(), limit)
                .await
        }
    }
}

async fn authenticate(
    shared: &Shared,
    policy: &Policy,
    req: &Request<ClientBody>,
    ip: std::net::IpAddr,
    now: i64,
    trace: &mut Trace,
) -> Result<Option<Principal>, Error> {
    let who = authenticate::authenticate(shared, policy, req.headers(), ip, now)
        .await
        .inspect_err(|_| trace.auth = "rejected")?;
    if let Some(p) = &who {
        trace.auth = p.method.as_str();
        trace.user_id = Some(p.user.user_id.clone());
    }
    Ok(who)
}

fn required(principal: Option<Principal>) -> Result<Principal, Error> {
    principal.ok_or(Error::MissingCredentials)
}

/// Rewrites the request's path, once, to its canonical form ([`crate::path::canonical`]), or
/// refuses it: routes, view checks, embedded handlers and the upstream all see that one path.
/// The query string is not routed on and stays as it came.
fn canonicalise<B>(req: &mut Request<B>) -> Result<(), Error> {
    let path = match crate::path::canonical(req.uri().path())? {
        std::borrow::Cow::Borrowed(_) => return Ok(()),
        std::borrow::Cow::Owned(path) => path,
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(
        format!("{path}{query}")
            .parse()
            .map_err(|_| Error::BadPath)?,
    );
    *req.uri_mut() = http::Uri::from_parts(parts).map_err(|_| Error::BadPath)?;
    Ok(())
}

/// Bytes of the request line and headers, as they would appear on an HTTP/1.1 wire.
fn head_size<B>(req: &Request<B>) -> usize {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + 12;
    line + req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
}

fn host_of<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
}

fn log_error(err: &Error) {
    match err {
        Error::Store(cause) => warn!(code = err.code(), error = %cause, "store failure"),
        Error::UpstreamUnavailable(cause) => {
            warn!(code = err.code(), error = %cause, "upstream failure")
        }
        Error::InvalidToken(defect) => info!(code = err.code(), reason = %defect, "token refused"),
        Error::BodyTimeout => info!(code = err.code(), "request body timed out"),
        Error::BadBody(cause) => {
            info!(code = err.code(), error = %cause, "client request body unreadable")
        }
        _ => {}
    }
}
