//! Keys from a JWKS URL (`jwks_url`, or `discovery_url`'s `jwks_uri`): a [`JwksSource`] per
//! URL, fetched at start-up and refreshed in the background, whose current key set the
//! verifiers read without I/O.
//!
//! - The refresh follows `Cache-Control: max-age` (RFC 9111 section 5.2.2.1) clamped to
//!   `jwks_min_refresh_secs`..`jwks_max_refresh_secs`; a failed fetch keeps the last good set,
//!   for at most `jwks_max_stale_secs`, and is retried sooner (1 s, doubling, at most the
//!   minimum refresh).
//! - A token with an unknown `kid` asks for a refetch ([`JwksSource::refetch`]): at most one
//!   per `jwks_min_refetch_secs` per URL, single flight: requests that ask while a fetch runs
//!   wait for it and share its result, so a flood of random `kid`s costs one fetch per period.
//! - A set that has never loaded (or went stale past the maximum) verifies nothing: its
//!   tokens are answered 503 ([`crate::Error::KeysNotLoaded`]), not 401.
//!
//! The fetch is an HTTPS GET (plain HTTP only to loopback, checked with the configuration and
//! again for a discovered `jwks_uri`) over the gateway's rustls configuration plus `jwks_ca`,
//! with a timeout and a size cap. Sources are shared by URL across reloads ([`JwksSources`]).

mod config;
mod fetch;
pub(crate) mod parse;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::auth::keys::VerifyKey;
pub use config::{FetchError, JwksUrlConfig};
pub use fetch::allowed_url;

/// The keys of a source at one moment.
struct KeySet {
    keys: Arc<Vec<VerifyKey>>,
    /// When they were fetched; `None` before the first success.
    fetched: Option<Instant>,
}

/// What a source's keys are now.
pub enum Keys {
    /// Never loaded: nothing verifies.
    NeverLoaded,
    /// The last good set is older than `jwks_max_stale_secs`: nothing verifies.
    Expired,
    /// The current set.
    Ready(Arc<Vec<VerifyKey>>),
}

/// Fetch counters of one source (read by metrics and tests).
#[derive(Debug, Default)]
pub struct FetchCounts {
    /// Fetches that brought a usable set.
    pub ok: AtomicU64,
    /// Fetches that failed (connection, status, size, document, no usable key).
    pub error: AtomicU64,
    /// Of all fetches, those asked for by a token with an unknown `kid`.
    pub refetch: AtomicU64,
}

/// One JWKS URL (see the module docs).
pub struct JwksSource {
    config: JwksUrlConfig,
    client: fetch::Client,
    keys: ArcSwap<KeySet>,
    /// When the last unknown-`kid` refetch started; held while any fetch runs (single flight).
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    /// Bumped each time the key set changes.
    version: AtomicU64,
    /// Bumped with `version`, shared by every source: part of the verified-token cache key.
    epoch: Arc<AtomicU64>,
    /// Fetch attempts so far (0 until the first has finished), to wait for the first.
    attempts: tokio::sync::watch::Sender<u64>,
    /// The counters.
    pub counts: FetchCounts,
    /// Where fetches are counted (`dauth_jwks_fetches_total{issuer,result}`).
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

impl JwksSource {
    fn new(
        config: JwksUrlConfig,
        epoch: Arc<AtomicU64>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<Self, rustls::Error> {
        Ok(Self {
            client: fetch::client(&config.roots)?,
            config,
            keys: ArcSwap::from_pointee(KeySet {
                keys: Arc::new(Vec::new()),
                fetched: None,
            }),
            last_refetch: tokio::sync::Mutex::new(None),
            version: AtomicU64::new(0),
            epoch,
            attempts: tokio::sync::watch::Sender::new(0),
            counts: FetchCounts::default(),
            metrics,
        })
    }

    /// Its configuration.
    pub fn config(&self) -> &JwksUrlConfig {
        &self.config
    }

    /// Whether a key set has loaded at least once (readiness).
    pub fn loaded(&self) -> bool {
        self.keys.load().fetched.is_some()
    }

    /// The current keys (see [`Keys`]).
    pub fn keys(&self) -> Keys {
        let set = self.keys.load();
        match set.fetched {
            None => Keys::NeverLoaded,
            Some(at) if at.elapsed() > self.config.max_stale => Keys::Expired,
            Some(_) => Keys::Ready(Arc::clone(&set.keys)),
        }
    }

    /// Whether the current set has a key with this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys
            .load()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some(kid))
    }

    /// How many times the key set has changed.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Asks for a fetch because a token named a `kid` the set lacks. Returns whether the set
    /// changed meanwhile (by this fetch or one that ran while waiting): only then is verifying
    /// again worth it. At most one fetch per `jwks_min_refetch_secs`; concurrent callers share
    /// one (see the module docs).
    pub async fn refetch(&self) -> bool {
        let before = self.version();
        let mut last = self.last_refetch.lock().await;
        if self.version() != before {
            return true;
        }
        if last.is_some_and(|t| t.elapsed() < self.config.min_refetch) {
            return false;
        }
        *last = Some(Instant::now());
        self.counts.refetch.fetch_add(1, Ordering::Relaxed);
        let _ = self.fetch_and_install().await;
        drop(last);
        self.version() != before
    }

    /// A background fetch; returns how long to wait before the next one.
    async fn refresh(&self, failures: &mut u32) -> Duration {
        let in_flight = self.last_refetch.lock().await;
        let outcome = self.fetch_and_install().await;
        drop(in_flight);
        if outcome.is_ok() {
            *failures = 0;
        } else {
            *failures = failures.saturating_add(1);
        }
        next_refresh(outcome, *failures, &self.config)
    }

    /// One fetch; on success the new set is installed. `Ok(max-age)` or `Err` (logged).
    async fn fetch_and_install(&self) -> Result<Option<Duration>, ()> {
        let result = fetch::fetch(&self.client, &self.config).await;
        self.attempts.send_modify(|n| *n += 1);
        let c = &self.config;
        match result {
            Ok((parsed, max_age)) => {
                for (i, kid, why) in &parsed.skipped {
                    tracing::warn!(key = %c.key, url = %c.url, index = i, kid = ?kid, "JWKS entry skipped: {why}");
                }
                self.counts.ok.fetch_add(1, Ordering::Relaxed);
                self.metrics.jwks_fetch(&c.label, "ok");
                self.install(parsed.keys);
                Ok(max_age)
            }
            Err(e) => {
                self.counts.error.fetch_add(1, Ordering::Relaxed);
                self.metrics.jwks_fetch(&c.label, "error");
                let kept = self.loaded();
                tracing::warn!(key = %c.key, url = %c.url, error = %e, kept_last_good = kept, "JWKS fetch failed");
                Err(())
            }
        }
    }

    fn install(&self, keys: Vec<VerifyKey>) {
        let old = self.keys.load();
        let same = old.fetched.is_some()
            && old.keys.len() == keys.len()
            && old
                .keys
                .iter()
                .zip(&keys)
                .all(|(a, b)| a.kid == b.kid && a.same_key(b));
        self.keys.store(Arc::new(KeySet {
            keys: Arc::new(keys),
            fetched: Some(Instant::now()),
        }));
        if !same {
            self.version.fetch_add(1, Ordering::AcqRel);
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Waits until the first fetch attempt has finished (or `limit` passed).
    pub async fn first_attempt(&self, limit: Duration) {
        let mut seen = self.attempts.subscribe();
        let _ = tokio::time::timeout(limit, seen.wait_for(|n| *n > 0)).await;
    }
}

/// When to fetch again after a fetch that brought `max-age` (`Ok`) or failed for the
/// `failures`-th time in a row (`Err`): `max-age` (else the maximum) within the refresh
/// bounds; after a failure 1 s, doubling, at most the minimum refresh.
fn next_refresh(
    outcome: Result<Option<Duration>, ()>,
    failures: u32,
    c: &JwksUrlConfig,
) -> Duration {
    match outcome {
        Ok(max_age) => max_age
            .unwrap_or(c.max_refresh)
            .clamp(c.min_refresh, c.max_refresh.max(c.min_refresh)),
        Err(()) => {
            Duration::from_secs(1u64 << failures.saturating_sub(1).min(16)).min(c.min_refresh)
        }
    }
}

/// The background refresh of `source`, until nothing holds it any more.
fn spawn_refresh(source: &Arc<JwksSource>) {
    let weak = Arc::downgrade(source);
    tokio::spawn(async move {
        let mut failures = 0;
        loop {
            let Some(source) = weak.upgrade() else { return };
            let wait = source.refresh(&mut failures).await;
            drop(source);
            tokio::time::sleep(wait).await;
        }
    });
}

/// Every source in use, by configuration: a reload that keeps a URL keeps its source (its
/// keys, its clocks); one that drops it lets the source and its refresh task end.
pub struct JwksSources {
    by_config: Mutex<HashMap<String, Weak<JwksSource>>>,
    epoch: Arc<AtomicU64>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl JwksSources {
    /// No sources yet; each one made counts its fetches in `metrics`.
    pub fn new(metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self {
            by_config: Mutex::default(),
            epoch: Arc::default(),
            metrics,
        }
    }

    /// The source for `config`, made (and its refresh started) if none is alive; the flag
    /// says whether it was new. Must run inside the Tokio runtime.
    pub fn source(&self, config: &JwksUrlConfig) -> Result<(Arc<JwksSource>, bool), rustls::Error> {
        let id = format!("{config:?}");
        let mut all = self.by_config.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|_, w| w.strong_count() > 0);
        if let Some(alive) = all.get(&id).and_then(Weak::upgrade) {
            return Ok((alive, false));
        }
        let source = Arc::new(JwksSource::new(
            config.clone(),
            Arc::clone(&self.epoch),
            Arc::clone(&self.metrics),
        )?);
        all.insert(id, Arc::downgrade(&source));
        spawn_refresh(&source);
        Ok((source, true))
    }

    /// Bumped whenever any source's key set changes: verified tokens are cached under it, so
    /// a key the IdP removed stops verifying cached tokens at its next fetch.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }
}

/// How long start-up (or a reload) waits for a new source's first fetch before going on
/// without it (its tokens are answered 503 until it loads).
pub const FIRST_FETCH_WAIT: Duration = Duration::from_secs(10);

/// Readiness sees a JWKS URL as its configuration key, ready once a set has loaded.
impl crate::metrics::ready::KeySource for JwksSource {
    fn name(&self) -> &str {
        &self.config.key
    }

    fn loaded(&self) -> bool {
        JwksSource::loaded(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_honoured_within_the_refresh_bounds() {
        let c = JwksUrlConfig {
            url: "https://idp.example/jwks".into(),
            discovery: false,
            key: "k".into(),
            label: "l".into(),
            roots: Vec::new(),
            min_refresh: Duration::from_secs(60),
            max_refresh: Duration::from_secs(3600),
            max_stale: Duration::from_secs(86_400),
            min_refetch: Duration::from_secs(30),
        };
        let s = Duration::from_secs;
        assert_eq!(next_refresh(Ok(Some(s(600))), 0, &c), s(600));
        assert_eq!(next_refresh(Ok(Some(s(5))), 0, &c), s(60));
        assert_eq!(next_refresh(Ok(Some(s(0))), 0, &c), s(60));
        assert_eq!(next_refresh(Ok(Some(s(999_999))), 0, &c), s(3600));
        assert_eq!(next_refresh(Ok(None), 0, &c), s(3600));
        assert_eq!(next_refresh(Err(()), 1, &c), s(1));
        assert_eq!(next_refresh(Err(()), 3, &c), s(4));
        assert_eq!(next_refresh(Err(()), 30, &c), s(60));
    }
}
