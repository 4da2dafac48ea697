//! Forwarding to configured backends: route matching, the upstream connection pools
//! ([`pool`]), and the forward itself (streaming both ways; failures mapped to 502/504/413, or
//! to 408/400 when the client's body is what failed).
//!
//! This module does not authenticate; the pipeline decides who the caller is and hands the
//! principal in. Header rules live in [`headers`]. The route table ([`Routes`]) is part of the
//! policy; the connection pools behind it ([`Upstreams`]) are shared state, so a policy built
//! again for the same backends reuses their connections.

pub mod headers;
pub mod pool;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use http::{Request, Response, Version, header};
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls_pki_types::CertificateDer;

use crate::auth::Principal;
use crate::config::RouteConfig;
use crate::error::Error;
use crate::http::body::{Body, BoxError};
use crate::http::client_body::{ClientBody, Inbound, Waits, client_fault};
use crate::metrics::{Metrics, RouteMetrics};
use crate::path::Claims;
use headers::ForwardContext;
use pool::{Connector, Pool, UpstreamError};
use std::sync::Arc;

/// The configured routes with their upstream pools, longest prefix first: part of the
/// policy, built from a configuration over the shared [`Upstreams`].
pub struct Routes {
    routes: Vec<(RouteConfig, Pool, Arc<RouteMetrics>)>,
    claims: Claims,
}

/// The upstream connection pools, one per backend (scheme and authority) and trust
/// configuration (routes without `upstream_ca` share one connector): shared state, so that a
/// policy built again for the same backends keeps their connections. Used when routes are
/// built, never per request.
pub struct Upstreams {
    pools: Mutex<Pools>,
}

/// A trust configuration: the extra roots (`upstream_ca`) and whether the system roots are
/// trusted too.
type Trust = (Vec<CertificateDer<'static>>, bool);

#[derive(Default)]
struct Pools {
    /// The system roots, loaded once, when the first HTTPS route needs them.
    system: Option<rustls::RootCertStore>,
    /// Connectors by trust configuration.
    connectors: Vec<(Trust, Connector)>,
    /// Pools by the trust configuration of their connector and their backend.
    pools: Vec<(Trust, http::uri::Scheme, http::uri::Authority, Pool)>,
}

impl Upstreams {
    /// No pools yet.
    pub fn new() -> Self {
        Self {
            pools: Mutex::new(Pools::default()),
        }
    }

    /// The pool for `route`'s backend, over the shared connector or one trusting its
    /// `upstream_ca` too. The system roots are loaded (once) when an HTTPS route is the first
    /// to need them.
    fn pool_for(&self, route: &RouteConfig) -> Result<Pool, rustls::Error> {
        // A poisoned lock only means a panic while building a client; the list is still sound.
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        // Pools no policy holds any more (their backends left the configuration two reloads
        // ago or more): dropped, and their idle connections closed with them.
        pools.pools.retain(|(_, _, _, pool)| pool.in_use());
        let up = &route.upstream;
        let (trust, connector) =
            pools.connector_for(up.scheme == http::uri::Scheme::HTTPS, &route.upstream_ca)?;
        let found = pools
            .pools
            .iter()
            .find(|(t, scheme, authority, _)| {
                *t == trust && *scheme == up.scheme && *authority == up.authority
            })
            .map(|(_, _, _, pool)| pool.clone());
        if let Some(pool) = found {
            return Ok(pool);
        }
        let made = Pool::new(connector, up.scheme.clone(), up.authority.clone());
        pools
            .pools
            .push((trust, up.scheme.clone(), up.authority.clone(), made.clone()));
        Ok(made)
    }

    /// Closes every pool's idle connections that the backend closed or that are too old
    /// ([`Pool::tidy`]); returns how many.
    pub fn tidy(&self) -> usize {
        // A poisoned lock only means a panic while building a client; the list is still sound.
        let pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        pools.pools.iter().map(|(_, _, _, pool)| pool.tidy()).sum()
    }
}

impl Pools {
    /// The connector trusting `ca` (and the system roots when `https`): one made before that
    /// trusts at least as much, or a new one, which replaces the one for `ca` alone.
    fn connector_for(
        &mut self,
        https: bool,
        ca: &[CertificateDer<'static>],
    ) -> Result<(Trust, Connector), rustls::Error> {
        let found = self
            .connectors
            .iter()
            .find(|((c, system), _)| c == ca && (*system || !https));
        if let Some((trust, connector)) = found {
            return Ok((trust.clone(), connector.clone()));
        }
        let mut roots = if https {
            self.system
                .get_or_insert_with(|| crate::tls::upstream_roots(&[]))
                .clone()
        } else {
            rustls::RootCertStore::empty()
        };
        roots.add_parsable_certificates(ca.iter().cloned());
        let made = connector(roots)?;
        let trust = (ca.to_vec(), https);
        self.connectors.retain(|((c, _), _)| c != ca);
        self.connectors.push((trust.clone(), made.clone()));
        Ok((trust, made))
    }
}

impl Default for Upstreams {
    fn default() -> Self {
        Self::new()
    }
}

impl Routes {
    /// The routes of a configuration, longest prefix first, each with its connection pool from
    /// `upstreams` and its metrics handles (labelled by its prefix) from `metrics`.
    pub fn new(
        configs: &[RouteConfig],
        upstreams: &Upstreams,
        metrics: &Metrics,
    ) -> Result<Self, rustls::Error> {
        let mut sorted = configs.to_vec();
        sorted.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let routes = sorted
            .into_iter()
            .map(|r| {
                let pool = upstreams.pool_for(&r)?;
                let handles = Arc::new(metrics.route(&r.prefix));
                Ok((r, pool, handles))
            })
            .collect::<Result<Vec<_>, rustls::Error>>()?;
        let claims = Claims::new(
            configs.iter().map(|r| r.prefix.as_str()),
            &crate::path::EMBEDDED_NAMESPACES,
        );
        Ok(Self { routes, claims })
    }

    /// Refuses a canonical `path` that a backend reading it another way (case-insensitively,
    /// without path parameters, ...) would route to another route or embedded namespace than
    /// [`Routes::find`] and the embedded handlers do (see [`crate::path`]).
    pub fn check_claims(&self, path: &str) -> Result<(), Error> {
        self.claims.check(path)
    }

    /// The route with the longest prefix matching `path`.
    pub fn find(&self, path: &str) -> Option<&RouteConfig> {
        self.routes
            .iter()
            .find(|(r, _, _)| path.starts_with(&r.prefix))
            .map(|(r, _, _)| r)
    }

    /// The metrics handles of `route`, resolved when the routes were built.
    pub fn metrics(&self, route: &RouteConfig) -> Option<&Arc<RouteMetrics>> {
        self.entry(route).map(|(_, m)| m)
    }

    fn entry(&self, route: &RouteConfig) -> Option<(&Pool, &Arc<RouteMetrics>)> {
        self.routes
            .iter()
            .find(|(r, _, _)| r.prefix == route.prefix)
            .map(|(_, c, m)| (c, m))
    }

    /// Forwards `req` along `route` for `who` (see the module docs).
    pub async fn forward<B: Inbound>(
        &self,
        route: &RouteConfig,
        req: Request<ClientBody<B>>,
        ctx: &ForwardContext<'_>,
        who: Option<&Principal>,
        default_body_limit: u64,
    ) -> Result<Response<Body>, Error> {
        let (pool, metrics) = self.entry(route).ok_or(Error::NotFound)?;
        let limit = route.max_body_bytes.unwrap_or(default_body_limit);
        let (mut parts, mut body) = req.into_parts();
        if declared_length(&parts.headers).is_some_and(|len| len > limit) {
            return Err(Error::BodyTooLarge);
        }
        parts.uri = upstream_uri(route, &parts.uri)?;
        parts.version = Version::HTTP_11;
        headers::prepare_request_headers(&mut parts.headers, ctx, who);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let waits = body.waits();
        let body: Body = Limited::new(body, limit).boxed();
        // Pinned here, held once: moved into `within_upstream_time` it was held twice there
        // (the argument and its pinned copy), and every request copies its future's size.
        let sent = std::pin::pin!(pool.send(Request::from_parts(parts, body)));
        let started = metrics.clock();
        let span = tracing::span!(
            target: "dauth_otel",
            tracing::Level::TRACE,
            "upstream",
            otel.name = "upstream",
            otel.kind = "client",
            http.route = %route.prefix,
        );
        let answer = tracing::Instrument::instrument(
            within_upstream_time(sent, route.timeout, &waits),
            span,
        )
        .await;
        metrics.upstream(started);
        let resp = match answer {
            None => {
                metrics.upstream_failure("timeout");
                return Err(Error::UpstreamTimeout);
            }
            Some(Err(e)) => {
                let err = failure(e);
                if let Error::UpstreamUnavailable(cause) = &err {
                    metrics.upstream_failure(failure_kind(cause.as_ref()));
                }
                return Err(err);
            }
            Some(Ok(resp)) => resp,
        };
        let (mut parts, body) = resp.into_parts();
        headers::remove_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(
            parts,
            body.map_err(|e| Box::new(e) as BoxError).boxed(),
        ))
    }
}

fn connector(roots: rustls::RootCertStore) -> Result<Connector, rustls::Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::tls::client_config(roots)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The upstream request target: base path + (path, minus the prefix when stripping) + query.
///
/// The joined path must pass the same rules as the incoming one and be canonical already:
/// stripping a prefix that does not end in `/` can leave a dot segment (`/svc../admin` with
/// prefix `/svc` and base `/public` would be `/public/../admin`).
fn upstream_uri(route: &RouteConfig, uri: &http::Uri) -> Result<http::Uri, Error> {
    let path = uri.path();
    // Nothing joined: the path and query go as they came (a shared copy, nothing parsed again).
    // Only when they were written out with their `/`: `http://h?q` reads as path `/` but holds
    // just `?q`, which the join writes as `/?q`.
    let unjoined = uri
        .path_and_query()
        .filter(|pq| pq.as_str().starts_with('/'))
        .filter(|_| !route.strip_prefix && route.upstream.base_path.is_empty());
    if let Some(pq) = unjoined {
        ensure_canonical(path)?;
        let mut parts = http::uri::Parts::default();
        parts.path_and_query = Some(pq.clone());
        return http::Uri::from_parts(parts).map_err(|_| Error::BadPath);
    }
    let rest = if route.strip_prefix {
        path.get(route.prefix.len()..).unwrap_or_default()
    } else {
        path
    };
    let sep = if rest.starts_with('/') { "" } else { "/" };
    let mut target = format!("{}{sep}{rest}", route.upstream.base_path);
    ensure_canonical(&target)?;
    if let Some(query) = uri.query() {
        target.push('?');
        target.push_str(query);
    }
    // In origin form: the pool sends the path and query, and its connections know the backend.
    http::Uri::try_from(target)
        // Nothing to keep: the joined path was checked; only the client's query can fail here.
        .map_err(|_| Error::BadPath)
}

/// Refuses a path that is not canonical already (see [`upstream_uri`]).
fn ensure_canonical(path: &str) -> Result<(), Error> {
    match crate::path::canonical(path)? {
        std::borrow::Cow::Borrowed(_) => Ok(()),
        std::borrow::Cow::Owned(_) => Err(Error::BadPath),
    }
}

/// How often a forward looks at its upstream clock again while the client is the one awaited.
const RECHECK: Duration = Duration::from_millis(100);

/// Awaits `sent`, allowing the upstream `timeout` of its own time: while the request waits for
/// the client's body (`waits`), the upstream is not at fault and its clock stands still; the
/// body has its own (`server.body_read_timeout_secs`). `None` when the upstream's time is up.
async fn within_upstream_time<F: Future>(
    mut sent: Pin<&mut F>,
    timeout: Duration,
    waits: &Waits,
) -> Option<F::Output> {
    let started = tokio::time::Instant::now();
    loop {
        let upstream = started.elapsed().saturating_sub(waits.total());
        let left = timeout.checked_sub(upstream).filter(|d| !d.is_zero())?;
        let nap = if waits.waiting() {
            left.max(RECHECK)
        } else {
            left
        };
        if let Ok(out) = tokio::time::timeout(nap, sent.as_mut()).await {
            return Some(out);
        }
    }
}

/// Whose fault a failed forward is: the client's body (408, 400), the limit (413), or the
/// upstream's (502).
fn failure(e: UpstreamError) -> Error {
    if let Some(fault) = client_fault(&e) {
        return fault.into();
    }
    if caused_by_length_limit(&e) {
        return Error::BodyTooLarge;
    }
    Error::UpstreamUnavailable(Box::new(e))
}

/// The kind of an upstream failure, for `dauth_upstream_failures_total{kind}`: "connect" (no
/// connection made), "reset" (the connection reset or closed under the request), or "other".
fn failure_kind(e: &(dyn std::error::Error + 'static)) -> &'static str {
    if let Some(e) = e.downcast_ref::<UpstreamError>()
        && e.is_connect()
    {
        return "connect";
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return "reset";
        }
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return "reset";
        }
        cur = err.source();
    }
    "other"
}

fn caused_by_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(authority: &str) -> RouteConfig {
        RouteConfig {
            prefix: format!("/{authority}/"),
            upstream: crate::config::Upstream {
                scheme: http::uri::Scheme::HTTP,
                authority: authority.parse().unwrap(),
                base_path: String::new(),
            },
            strip_prefix: false,
            auth: crate::config::AuthMode::None,
            timeout: Duration::from_secs(1),
            forward_token: false,
            preserve_host: false,
            upstream_ca: Vec::new(),
            max_body_bytes: None,
            view_check: None,
            auth_methods: None,
        }
    }

    /// A route that joins nothing sends the path and query exactly as the general join
    /// would have written them, and refuses what it refuses.
    #[test]
    fn an_unjoined_path_goes_as_the_join_would_write_it() {
        let plain = route("a:1");
        let mut based = route("a:1");
        based.upstream.base_path = "/x".to_owned();
        for target in [
            "/a:1/p",
            "/a:1/p?q=1&r",
            "/a:1/p?",
            "/",
            "/a:1/x%20y?%zz",
            "/a:1/b?/c",
        ] {
            let uri: http::Uri = target.parse().unwrap();
            let got = upstream_uri(&plain, &uri).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!(got.to_string(), target);
            assert_eq!((got.scheme(), got.authority()), (None, None));
            let joined = upstream_uri(&based, &uri).unwrap();
            assert_eq!(joined.to_string(), format!("/x{target}"));
        }
        for bad in ["/a:1/%7E", "/a:1/%20x%2f", "/a:1/../b", "/a:1//b"] {
            let uri: http::Uri = bad.parse().unwrap();
            assert!(
                matches!(upstream_uri(&plain, &uri), Err(Error::BadPath)),
                "{bad}"
            );
        }
        // Absolute forms, the ones without a written path among them, as the join writes them.
        for (absolute, want) in [
            ("http://h/a:1/p?q", "/a:1/p?q"),
            ("http://h", "/"),
            ("http://h?q=1", "/?q=1"),
            ("http://h:8/?", "/?"),
        ] {
            let uri: http::Uri = absolute.parse().unwrap();
            // The value itself, not its text: `Display` writes a `/` before a bare `?q`.
            let got = upstream_uri(&plain, &uri).unwrap();
            assert_eq!(got.path_and_query().map(|p| p.as_str()), Some(want));
            let joined = upstream_uri(&based, &uri).unwrap().to_string();
            assert_eq!(joined, format!("/x{want}"));
        }
    }

    fn pools(upstreams: &Upstreams) -> usize {
        upstreams.pools.lock().unwrap().pools.len()
    }

    /// A policy built again keeps its backends' pools; a backend no policy routes to any
    /// more has its pool (and its idle connections) dropped when routes are next built.
    #[test]
    fn pools_are_shared_across_policies_and_dropped_when_no_policy_holds_them() {
        let upstreams = Upstreams::new();
        let metrics = Metrics::new(&[], false);
        let a = Routes::new(&[route("a:1"), route("b:1")], &upstreams, &metrics).unwrap();
        let again = Routes::new(&[route("a:1")], &upstreams, &metrics).unwrap();
        assert_eq!(pools(&upstreams), 2);
        assert!(
            a.routes[0].1.same_as(&again.routes[0].1),
            "a:1 kept its pool"
        );
        drop(a);
        // b:1 is held by no policy now: gone at the next build.
        let _next = Routes::new(&[route("a:1")], &upstreams, &metrics).unwrap();
        assert_eq!(pools(&upstreams), 1);
        drop((again, _next));
        let _other = Routes::new(&[route("c:1")], &upstreams, &metrics).unwrap();
        assert_eq!(pools(&upstreams), 1, "only c:1 is left");
    }
}
