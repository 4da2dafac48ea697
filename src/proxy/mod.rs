//! Forwarding to configured backends: route matching, the pooled upstream clients, and the
//! forward itself (streaming both ways; failures mapped to 502/504/413, or to 408/400 when the
//! client's body is what failed).
//!
//! This module does not authenticate; the pipeline decides who the caller is and hands the
//! principal in. Header rules live in [`headers`].

pub mod headers;

use std::future::Future;
use std::time::Duration;

use http::{Request, Response, Version, header};
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::auth::Principal;
use crate::config::RouteConfig;
use crate::error::Error;
use crate::http::body::{Body, BoxError};
use crate::http::client_body::{ClientBody, Waits, client_fault};
use crate::path::Claims;
use headers::ForwardContext;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

/// The configured routes with their upstream clients, longest prefix first.
pub struct Routes {
    routes: Vec<(RouteConfig, HttpsClient)>,
    claims: Claims,
}

impl Routes {
    /// Builds one pooled client per distinct trust configuration (routes without
    /// `upstream_ca` share one). Loads the system roots once.
    pub fn new(configs: &[RouteConfig]) -> Result<Self, rustls::Error> {
        let mut sorted = configs.to_vec();
        sorted.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        let system = if sorted
            .iter()
            .any(|r| r.upstream.scheme == http::uri::Scheme::HTTPS)
        {
            crate::tls::upstream_roots(&[])
        } else {
            rustls::RootCertStore::empty()
        };
        let shared = client(system.clone())?;
        let routes = sorted
            .into_iter()
            .map(|r| {
                let c = if r.upstream_ca.is_empty() {
                    shared.clone()
                } else {
                    let mut roots = system.clone();
                    roots.add_parsable_certificates(r.upstream_ca.iter().cloned());
                    client(roots)?
                };
                Ok((r, c))
            })
            .collect::<Result<Vec<_>, rustls::Error>>()?;
        let claims = Claims::new(
            configs.iter().map(|r| r.prefix.as_str()),
            &crate::api::NAMESPACES,
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
            .find(|(r, _)| path.starts_with(&r.prefix))
            .map(|(r, _)| r)
    }

    fn client(&self, route: &RouteConfig) -> Option<&HttpsClient> {
        self.routes
            .iter()
            .find(|(r, _)| r.prefix == route.prefix)
            .map(|(_, c)| c)
    }

    /// Forwards `req` along `route` for `who` (see the module docs).
    pub async fn forward(
        &self,
        route: &RouteConfig,
        req: Request<ClientBody>,
        ctx: &ForwardContext<'_>,
        who: Option<&Principal>,
        default_body_limit: u64,
    ) -> Result<Response<Body>, Error> {
        let client = self.client(route).ok_or(Error::NotFound)?;
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
        let sent = client.request(Request::from_parts(parts, body));
        let resp = match within_upstream_time(sent, route.timeout, &waits).await {
            None => return Err(Error::UpstreamTimeout),
            Some(Err(e)) => return Err(failure(e)),
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

fn client(roots: rustls::RootCertStore) -> Result<HttpsClient, rustls::Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(crate::tls::client_config(roots)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(https))
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

/// The upstream URI: base path + (path, minus the prefix when stripping) + query.
///
/// The joined path must pass the same rules as the incoming one and be canonical already:
/// stripping a prefix that does not end in `/` can leave a dot segment (`/svc../admin` with
/// prefix `/svc` and base `/public` would be `/public/../admin`).
fn upstream_uri(route: &RouteConfig, uri: &http::Uri) -> Result<http::Uri, Error> {
    let path = uri.path();
    let rest = if route.strip_prefix {
        path.get(route.prefix.len()..).unwrap_or_default()
    } else {
        path
    };
    let sep = if rest.starts_with('/') { "" } else { "/" };
    let joined = format!("{}{sep}{rest}", route.upstream.base_path);
    if !matches!(
        crate::path::canonical(&joined)?,
        std::borrow::Cow::Borrowed(_)
    ) {
        return Err(Error::BadPath);
    }
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let up = &route.upstream;
    http::Uri::builder()
        .scheme(up.scheme.clone())
        .authority(up.authority.clone())
        .path_and_query(format!("{joined}{query}"))
        .build()
        .map_err(|_| Error::BadPath)
}

/// How often a forward looks at its upstream clock again while the client is the one awaited.
const RECHECK: Duration = Duration::from_millis(100);

/// Awaits `sent`, allowing the upstream `timeout` of its own time: while the request waits for
/// the client's body (`waits`), the upstream is not at fault and its clock stands still; the
/// body has its own (`server.body_read_timeout_secs`). `None` when the upstream's time is up.
async fn within_upstream_time<F: Future>(
    sent: F,
    timeout: Duration,
    waits: &Waits,
) -> Option<F::Output> {
    let started = tokio::time::Instant::now();
    tokio::pin!(sent);
    loop {
        let upstream = started.elapsed().saturating_sub(waits.total());
        let left = timeout.checked_sub(upstream).filter(|d| !d.is_zero())?;
        let nap = if waits.waiting() {
            left.max(RECHECK)
        } else {
            left
        };
        if let Ok(out) = tokio::time::timeout(nap, &mut sent).await {
            return Some(out);
        }
    }
}

/// Whose fault a failed forward is: the client's body (408, 400), the limit (413), or the
/// upstream's (502).
fn failure(e: hyper_util::client::legacy::Error) -> Error {
    if let Some(fault) = client_fault(&e) {
        return fault.into();
    }
    if caused_by_length_limit(&e) {
        return Error::BodyTooLarge;
    }
    Error::UpstreamUnavailable(Box::new(e))
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
