//! The gateway's metrics: one `prometheus-client` registry per gateway, every family named
//! `dauth_*`, and the handles the request path counts through.
//!
//! Label values come from bounded sets only: a route's configured prefix or an embedded
//! endpoint's name (never the raw path), a method class, a status class, an error code, an
//! authentication method, a fixed kind. No user ids, addresses, consumer keys or paths.
//!
//! The hot path never hashes labels: a route's handles ([`RouteMetrics`]) are resolved once,
//! when the policy is built, and kept with the route; the embedded endpoints' handles are
//! resolved when the registry is made. Counting is then an atomic add, a histogram observation
//! a short lock. Rare events (refusals, failures, reloads) go through the families.
//!
//! Counting is on only when something can read it: a gateway without the admin listener
//! (`admin.listen = ""`) makes its registry with `on = false`, and then every hot-path call
//! returns at once and takes no clock reading ([`Metrics::clock`] answers `None`). That is also
//! how the benchmark measures what metrics cost (B and D with and without the listener).
//!
//! This module knows nothing of HTTP beyond a method and a status number; the admin listener
//! (`server/admin.rs`) serves [`Metrics::encode`].

mod families;
mod labels;
pub mod ready;
mod text;

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use labels::{
    AuthLabels, IssuerResult, KindLabel, OpLabel, RequestLabels, ResultLabel, RouteKind, RouteLabel,
};

/// The embedded endpoints' names, the `route` label of their requests.
pub const EMBEDDED_ENDPOINTS: [&str; 19] = [
    "health",
    "openapi",
    "oidc_token",
    "oidc_discovery",
    "siwe_nonce",
    "siwe_login",
    "people_register",
    "people_confirm",
    "people_login",
    "people_refresh",
    "people_password_reset",
    "people_health",
    "jwks",
    "people_sync",
    "people_me",
    "obp_current_user",
    "obp_account",
    "client_users",
    "client_user",
];

/// The label value of a request that matched no route and no endpoint.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets of a whole request or an upstream exchange, in seconds.
const REQUEST_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Signature-verification buckets, in seconds (an RSA-2048 check is ~30-100 us).
const VERIFY_BUCKETS: [f64; 11] = [
    0.000_025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
];
/// Store-operation buckets, in seconds (a durable write waits for the group commit).
const STORE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}
fn verify_histogram() -> Histogram {
    Histogram::new(VERIFY_BUCKETS)
}
fn store_histogram() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}

/// The store operation of the request path, its handles resolved once.
const STORE_USER: &str = "get_or_create_user";

/// The method classes of `dauth_requests_total{method}`.
const METHOD_CLASSES: [&str; 4] = ["read", "write", "options", "other"];
/// The status classes of `dauth_requests_total{status}`.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// The kinds of `dauth_upstream_failures_total{kind}`.
pub const UPSTREAM_FAILURES: [&str; 4] = ["connect", "timeout", "reset", "other"];
/// The authentication methods pre-resolved for `dauth_auth_total{code="ok"}`.
const AUTH_METHODS: [&str; 6] = ["dauth", "bearer", "siwe", "airnode", "erc8128", "other"];

/// Every family of one gateway (see the module docs). Cheap to share behind an `Arc`.
pub struct Metrics {
    /// Whether anything is counted (the admin listener is on).
    on: bool,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabel>,
    upstream_seconds: Histograms<RouteLabel>,
    upstream_failures: Family<RouteKind, Counter>,
    auth: Family<AuthLabels, Counter>,
    auth_ok: [Counter; AUTH_METHODS.len()],
    verify: [Histogram; 2],
    token_cache: [Counter; 4],
    users_created: Counter,
    replay_window: Gauge,
    replay_refusals: Family<KindLabel, Counter>,
    rate_limited: Family<KindLabel, Counter>,
    open: [Gauge; 4],
    config_generation: Gauge,
    config_reloads: Family<ResultLabel, Counter>,
    jwks_fetches: Family<IssuerResult, Counter>,
    store_seconds: Histograms<OpLabel>,
    /// `get_or_create_user`'s histogram and failure counter, pre-resolved (the hot one).
    store_user: (Histogram, Counter),
    store_failures: Family<OpLabel, Counter>,
    embedded: Vec<(&'static str, Arc<RouteMetrics>)>,
    unmatched: Arc<RouteMetrics>,
}

/// One route's (or embedded endpoint's) pre-resolved handles.
pub struct RouteMetrics {
    on: bool,
    requests: [[Counter; STATUS_CLASSES.len()]; METHOD_CLASSES.len()],
    latency: Histogram,
    upstream: Histogram,
    failures: [Counter; UPSTREAM_FAILURES.len()],
}

impl RouteMetrics {
    /// One request answered: counted by method class and status class, its latency observed.
    pub fn request(&self, method: &http::Method, status: u16, elapsed: Duration) {
        if !self.on {
            return;
        }
        let m = method_class(method);
        let s = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[m][s].inc();
        self.latency.observe(elapsed.as_secs_f64());
    }

    /// One upstream exchange (to the response head) that began at `started` (from
    /// [`Metrics::clock`]), its time observed.
    pub fn upstream(&self, started: Option<Instant>) {
        if let Some(started) = started {
            self.upstream.observe(started.elapsed().as_secs_f64());
        }
    }

    /// Now, when counting is on (see [`Metrics::clock`]).
    pub fn clock(&self) -> Option<Instant> {
        self.on.then(Instant::now)
    }

    /// One upstream failure of `kind` (one of [`UPSTREAM_FAILURES`]; anything else is
    /// "other").
    pub fn upstream_failure(&self, kind: &str) {
        if !self.on {
            return;
        }
        let i = UPSTREAM_FAILURES
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(UPSTREAM_FAILURES.len() - 1);
        self.failures[i].inc();
    }
}

impl RouteMetrics {
    /// Handles in no registry (a placeholder until the registered ones exist).
    pub(super) fn empty() -> Self {
        Self {
            on: false,
            requests: Default::default(),
            latency: request_histogram(),
            upstream: request_histogram(),
            failures: Default::default(),
        }
    }
}

fn method_class(method: &http::Method) -> usize {
    use http::Method as M;
    match *method {
        M::GET | M::HEAD => 0,
        M::POST | M::PUT | M::PATCH | M::DELETE => 1,
        M::OPTIONS => 2,
        _ => 3,
    }
}

impl Metrics {
    /// A registry with every family, and the handles of the embedded endpoints `embedded`
    /// (their names, the label values of their requests); counting only when `on`.
    pub fn new(embedded: &[&'static str], on: bool) -> Self {
        let mut m = Self::families(on);
        m.embedded = embedded
            .iter()
            .map(|name| (*name, Arc::new(m.route(name))))
            .collect();
        m
    }

    /// The handles of the route labelled `route` (its configured prefix): resolved once, when
    /// the policy is built, and kept with the route.
    pub fn route(&self, route: &str) -> RouteMetrics {
        let r = || RouteLabel {
            route: route.to_owned(),
        };
        let requests = METHOD_CLASSES.map(|method| {
            STATUS_CLASSES.map(|status| {
                self.requests
                    .get_or_create(&RequestLabels {
                        route: route.to_owned(),
                        method,
                        status,
                    })
                    .clone()
            })
        });
        let failures = UPSTREAM_FAILURES.map(|kind| {
            self.upstream_failures
                .get_or_create(&RouteKind {
                    route: route.to_owned(),
                    kind,
                })
                .clone()
        });
        RouteMetrics {
            on: self.on,
            requests,
            latency: self.request_seconds.get_or_create(&r()).clone(),
            upstream: self.upstream_seconds.get_or_create(&r()).clone(),
            failures,
        }
    }

    /// The handles of the embedded endpoint `name` (one given to [`Metrics::new`]), or those of
    /// unmatched requests.
    pub fn embedded(&self, name: &str) -> &Arc<RouteMetrics> {
        self.embedded
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&self.unmatched, |(_, m)| m)
    }

    /// The handles of requests that matched nothing (or failed before they did).
    pub fn unmatched(&self) -> &Arc<RouteMetrics> {
        &self.unmatched
    }

    /// Now, when counting is on: the start of a timed operation, given back to
    /// [`Metrics::verified`], [`Metrics::store`] or [`RouteMetrics::upstream`]. `None` (no clock
    /// read) when off.
    pub fn clock(&self) -> Option<Instant> {
        self.on.then(Instant::now)
    }

    /// An authentication that succeeded with `method`.
    pub fn auth_ok(&self, method: &str) {
        if !self.on {
            return;
        }
        let i = AUTH_METHODS
            .iter()
            .position(|m| *m == method)
            .unwrap_or(AUTH_METHODS.len() - 1);
        self.auth_ok[i].inc();
    }

    /// An authentication refused with the public error `code` (`method` is the credential's
    /// kind, as far as it was recognised).
    pub fn auth_refused(&self, method: &'static str, code: &'static str) {
        self.auth.get_or_create(&AuthLabels { method, code }).inc();
    }

    /// One signature verification of a `dauth` (else bearer) token, begun at `started`.
    pub fn verified(&self, dauth: bool, started: Option<Instant>) {
        if let Some(started) = started {
            self.verify[usize::from(!dauth)].observe(started.elapsed().as_secs_f64());
        }
    }

    /// A verified-token cache lookup: `dauth` or bearer, hit or miss.
    pub fn token_cache(&self, dauth: bool, hit: bool) {
        if !self.on {
            return;
        }
        self.token_cache[usize::from(!dauth) * 2 + usize::from(!hit)].inc();
    }

    /// A user was created.
    pub fn user_created(&self) {
        if !self.on {
            return;
        }
        self.users_created.inc();
    }

    /// The DAuth replay window holds `ids` ids (set when `/metrics` is read).
    pub fn replay_window(&self, ids: usize) {
        self.replay_window
            .set(i64::try_from(ids).unwrap_or(i64::MAX));
    }

    /// A token refused by the replay window: `reason` "replayed" or "full".
    pub fn replay_refused(&self, reason: &'static str) {
        self.replay_refusals
            .get_or_create(&KindLabel { kind: reason })
            .inc();
    }

    /// A request refused by a rate limit of `kind` ("ip", "password_ip", "consumer",
    /// "verifier", ...).
    pub fn rate_limited(&self, kind: &'static str) {
        self.rate_limited.get_or_create(&KindLabel { kind }).inc();
    }

    /// A connection opened with `protocol` ("http1", "h2", "https1", "https2"); counted as
    /// open until the returned guard drops.
    pub fn connection(&self, protocol: &'static str) -> OpenConnection {
        let i = match protocol {
            "http1" => 0,
            "h2" => 1,
            "https1" => 2,
            _ => 3,
        };
        let gauge = self.open[i].clone();
        gauge.inc();
        OpenConnection(gauge)
    }

    /// The policy generation now serving.
    pub fn config_generation(&self, generation: u64) {
        self.config_generation
            .set(i64::try_from(generation).unwrap_or(i64::MAX));
    }

    /// A reload attempt and its `result` ("ok", "unchanged" or "error").
    pub fn reload(&self, result: &'static str) {
        self.config_reloads
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    /// A JWKS fetch for the issuer labelled `issuer` (a configured name or URL host, a bounded
    /// set) and its `result` ("ok", "error", "not_modified", ...).
    pub fn jwks_fetch(&self, issuer: &str, result: &'static str) {
        self.jwks_fetches
            .get_or_create(&IssuerResult {
                issuer: issuer.to_owned(),
                result,
            })
            .inc();
    }

    /// A store operation `op` begun at `started` (from [`Metrics::clock`]), and whether it
    /// failed.
    pub fn store(&self, op: &'static str, started: Option<Instant>, failed: bool) {
        let Some(started) = started else {
            return;
        };
        let elapsed = started.elapsed();
        if op == STORE_USER {
            self.store_user.0.observe(elapsed.as_secs_f64());
            if failed {
                self.store_user.1.inc();
            }
            return;
        }
        let op = OpLabel { op };
        self.store_seconds
            .get_or_create(&op)
            .observe(elapsed.as_secs_f64());
        if failed {
            self.store_failures.get_or_create(&op).inc();
        }
    }

    /// The exposition: OpenMetrics text when `openmetrics`, else the Prometheus text format
    /// (version 0.0.4).
    pub fn encode(&self, openmetrics: bool) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        if openmetrics {
            out
        } else {
            text::prometheus(&out)
        }
    }
}

/// An open connection, counted in `dauth_open_connections{protocol}` until dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    /// Counting on, no embedded endpoints.
    fn default() -> Self {
        Self::new(&[], true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts `dauth_requests_total` and `dauth_users_created_total` after one of each call.
    fn counted(on: bool) -> (bool, bool) {
        let m = Metrics::new(&["health"], on);
        let route = m.route("/bench");
        route.request(&http::Method::GET, 200, Duration::from_millis(1));
        route.upstream(route.clock());
        m.verified(true, m.clock());
        m.user_created();
        m.store(STORE_USER, m.clock(), false);
        let text = m.encode(true);
        let line = |name: &str| {
            text.lines()
                .filter(|l| l.starts_with(name))
                .any(|l| !l.ends_with(" 0"))
        };
        (
            line("dauth_requests_total{route=\"/bench\",method=\"read\",status=\"2xx\"}"),
            line("dauth_users_created_total"),
        )
    }

    #[test]
    fn counting_on_counts_every_hot_path_call() {
        assert_eq!(counted(true), (true, true));
    }

    #[test]
    fn counting_off_counts_nothing_and_reads_no_clock() {
        assert_eq!(counted(false), (false, false));
        let m = Metrics::new(&[], false);
        assert!(m.clock().is_none());
        assert!(m.route("/x").clock().is_none());
    }
}
