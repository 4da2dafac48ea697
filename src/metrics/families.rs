//! Registering every `dauth_*` family, with its help text, once per gateway.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::labels::{AuthLabels, CacheLabels, KindLabel, ProtocolLabel};
use super::{
    Histograms, Metrics, RouteMetrics, UNMATCHED, request_histogram, store_histogram,
    verify_histogram,
};

impl Metrics {
    /// Every family registered, no handles resolved yet.
    pub(super) fn families(on: bool) -> Self {
        let mut reg = Registry::with_prefix("dauth");
        let requests = Family::default();
        reg.register(
            "requests",
            "Requests answered, by route (configured prefix or embedded endpoint), method class and status class",
            requests.clone(),
        );
        let request_seconds: Histograms<_> = Family::new_with_constructor(request_histogram);
        reg.register(
            "request_duration_seconds",
            "Time from the request head to the response head, by route",
            request_seconds.clone(),
        );
        let upstream_seconds: Histograms<_> = Family::new_with_constructor(request_histogram);
        reg.register(
            "upstream_duration_seconds",
            "Time of a forwarded request to its upstream's response head, by route",
            upstream_seconds.clone(),
        );
        let upstream_failures = Family::default();
        reg.register(
            "upstream_failures",
            "Forwarded requests whose upstream failed, by route and kind (connect, timeout, reset, other)",
            upstream_failures.clone(),
        );
        let auth: Family<AuthLabels, Counter> = Family::default();
        reg.register(
            "auth",
            "Authentication outcomes, by method and public error code (ok for a success)",
            auth.clone(),
        );
        let auth_ok = super::AUTH_METHODS.map(|method| {
            auth.get_or_create(&AuthLabels { method, code: "ok" })
                .clone()
        });
        let verify_seconds: Histograms<KindLabel> = Family::new_with_constructor(verify_histogram);
        reg.register(
            "signature_verification_duration_seconds",
            "Time of one token signature verification, by token kind (dauth, bearer)",
            verify_seconds.clone(),
        );
        let verify = ["dauth", "bearer"]
            .map(|kind| verify_seconds.get_or_create(&KindLabel { kind }).clone());
        let cache: Family<CacheLabels, Counter> = Family::default();
        reg.register(
            "token_cache_lookups",
            "Verified-token cache lookups, by token kind and result (hit, miss)",
            cache.clone(),
        );
        let token_cache = [
            ("dauth", "hit"),
            ("dauth", "miss"),
            ("bearer", "hit"),
            ("bearer", "miss"),
        ]
        .map(|(kind, result)| cache.get_or_create(&CacheLabels { kind, result }).clone());
        let users_created = Counter::default();
        reg.register("users_created", "Users created", users_created.clone());
        let replay_window = Gauge::default();
        reg.register(
            "replay_window_ids",
            "DAuth request ids held in the replay window (read at each scrape)",
            replay_window.clone(),
        );
        let replay_refusals = Family::default();
        reg.register(
            "replay_refusals",
            "DAuth tokens refused by the replay window, by reason (replayed, full)",
            replay_refusals.clone(),
        );
        let rate_limited = Family::default();
        reg.register(
            "rate_limited",
            "Requests refused by a rate limit, by kind",
            rate_limited.clone(),
        );
        let connections: Family<ProtocolLabel, Gauge> = Family::default();
        reg.register(
            "open_connections",
            "Open client connections on the public listener, by protocol",
            connections.clone(),
        );
        let open = ["http1", "h2", "https1", "https2"].map(|protocol| {
            connections
                .get_or_create(&ProtocolLabel { protocol })
                .clone()
        });
        let config_generation = Gauge::default();
        reg.register(
            "config_generation",
            "The generation of the policy now serving (1 at start, one more per reload)",
            config_generation.clone(),
        );
        let config_reloads: Family<super::labels::ResultLabel, Counter> = Family::default();
        // Every result at zero from the start, so that a rate over them is defined.
        for result in ["ok", "unchanged", "error"] {
            drop(config_reloads.get_or_create(&super::labels::ResultLabel { result }));
        }
        reg.register(
            "config_reloads",
            "Configuration reload attempts, by result (ok, unchanged, error)",
            config_reloads.clone(),
        );
        let jwks_fetches = Family::default();
        reg.register(
            "jwks_fetches",
            "JWKS URL fetches, by issuer and result",
            jwks_fetches.clone(),
        );
        let store_seconds: Histograms<_> = Family::new_with_constructor(store_histogram);
        reg.register(
            "store_operation_duration_seconds",
            "Time of a store operation on the request path, by operation",
            store_seconds.clone(),
        );
        let store_failures: Family<super::labels::OpLabel, Counter> = Family::default();
        let user_op = super::labels::OpLabel {
            op: super::STORE_USER,
        };
        let store_user = (
            store_seconds.get_or_create(&user_op).clone(),
            store_failures.get_or_create(&user_op).clone(),
        );
        reg.register(
            "store_failures",
            "Failed store operations, by operation",
            store_failures.clone(),
        );
        let unmatched = Arc::new(RouteMetrics::empty());
        let mut m = Self {
            on,
            registry: reg,
            requests,
            request_seconds,
            upstream_seconds,
            upstream_failures,
            auth,
            auth_ok,
            verify,
            token_cache,
            users_created,
            replay_window,
            replay_refusals,
            rate_limited,
            open,
            config_generation,
            config_reloads,
            jwks_fetches,
            store_seconds,
            store_user,
            store_failures,
            embedded: Vec::new(),
            unmatched,
        };
        m.unmatched = Arc::new(m.route(UNMATCHED));
        m
    }
}
