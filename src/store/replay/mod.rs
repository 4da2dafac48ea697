//! The shared replay window (`[replay]`): one [`ReplayWindow`] that several gateway replicas
//! use together, on PostgreSQL ([`postgres`]) or Redis ([`redis`]), for the DAuth
//! `request_id`s and the client-assertion `jti`s alike; and on Redis the optional shared
//! per-consumer rate ([`SharedRate`]).
//!
//! This module owns the checked `[replay]` settings ([`ReplayConfig`], re-exported by the
//! configuration), the key encoding both backends share ([`scope_key`]) and [`open`], which
//! connects at start-up and refuses to start when the backend cannot be reached. It does not
//! decide what an unavailable window means to a client: the callers answer 503 `DAUTH-5070`
//! and never fall back to memory (fail closed), since a replica that forgot the other replicas'
//! ids would let a replay through.

pub mod postgres;
pub mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::ReplayScope;
use super::ReplayWindow;
use super::error::StoreError;

/// `[replay] backend`: where the DAuth and client-assertion windows live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayBackend {
    /// Each replica's own: DAuth ids in memory, assertion ids in the store.
    Memory,
    /// A table `dauth_replay` in PostgreSQL.
    Postgres,
    /// Keys `dauth:replay:...` in Redis.
    Redis,
}

impl ReplayBackend {
    /// The configuration's name of the backend.
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Postgres => "postgres",
            Self::Redis => "redis",
        }
    }
}

/// A service URL that may carry a password: shown (and debug-printed) without it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    /// Wraps `url`.
    pub fn new(url: String) -> Self {
        Self(url)
    }

    /// The URL itself, password and all: only for connecting.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.password().is_some() => {
                // A URL with a password always has a host, so this cannot fail.
                let _ = u.set_password(Some("***"));
                f.write_str(u.as_str())
            }
            Ok(u) => f.write_str(u.as_str()),
            Err(_) => f.write_str("(unparsable URL)"),
        }
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `[replay]`, checked.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// Where the windows live.
    pub backend: ReplayBackend,
    /// The backend's URL (`redis://host:port/db`, `postgres://...`); none for memory.
    pub url: Option<ServiceUrl>,
    /// Longest wait for a new connection.
    pub connect_timeout: Duration,
    /// Longest wait for one answer; beyond it the request answers 503.
    pub response_timeout: Duration,
    /// PostgreSQL connections (the Redis client multiplexes one).
    pub pool_size: usize,
    /// PostgreSQL: whether each recorded id waits for its WAL flush (`synchronous_commit`).
    /// Off, a crash of PostgreSQL (not of a gateway) may forget the ids of its last fraction of
    /// a second, which could then be replayed within their freshness window.
    pub synchronous_commit: bool,
    /// Shared per-consumer rate on Redis: requests per minute (0: off).
    pub shared_per_consumer_per_minute: u32,
    /// Its burst: requests a consumer may make at once.
    pub shared_per_consumer_burst: u32,
}

/// What [`SharedRate::charge`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge {
    /// Within the rate.
    Allowed,
    /// Over it: retry after this many seconds (at least 1).
    Refused(u64),
}

/// A per-consumer rate counted across every replica (GCRA on the backend's clock).
#[async_trait]
pub trait SharedRate: Send + Sync {
    /// Charges one request to `consumer`.
    async fn charge(&self, consumer: &str) -> Result<Charge, StoreError>;
}

/// The shared windows and rate, opened.
#[derive(Clone)]
pub struct Shared {
    /// The window for DAuth `request_id`s and client-assertion `jti`s.
    pub window: Arc<dyn ReplayWindow>,
    /// The shared per-consumer rate, when configured.
    pub rate: Option<Arc<dyn SharedRate>>,
}

/// Why the shared window could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
#[error("replay backend {backend} at {url}: {source}")]
pub struct OpenError {
    /// `redis` or `postgres`.
    pub backend: &'static str,
    /// Its URL, without the password.
    pub url: String,
    /// What went wrong.
    #[source]
    pub source: StoreError,
}

/// Connects to the configured backend and proves it answers (creating the PostgreSQL table if
/// needed); `None` for the memory backend.
pub async fn open(config: &ReplayConfig) -> Result<Option<Shared>, OpenError> {
    let Some(url) = config
        .url
        .as_ref()
        .filter(|_| config.backend != ReplayBackend::Memory)
    else {
        return Ok(None);
    };
    let fail = |source| OpenError {
        backend: config.backend.name(),
        url: url.to_string(),
        source,
    };
    Ok(Some(match config.backend {
        ReplayBackend::Redis => {
            let r = Arc::new(
                self::redis::RedisReplay::connect(url, config)
                    .await
                    .map_err(fail)?,
            );
            let rate = (config.shared_per_consumer_per_minute > 0)
                .then(|| Arc::clone(&r) as Arc<dyn SharedRate>);
            Shared { window: r, rate }
        }
        _ => Shared {
            window: Arc::new(
                self::postgres::PgReplay::connect(url, config)
                    .await
                    .map_err(fail)?,
            ),
            rate: None,
        },
    }))
}

/// Connects to the configured backend and asks it one harmless question (`PING`, `SELECT 1`),
/// changing nothing: what `check-config` tries. Nothing to do for memory.
pub async fn probe(config: &ReplayConfig) -> Result<(), OpenError> {
    let Some(url) = config
        .url
        .as_ref()
        .filter(|_| config.backend != ReplayBackend::Memory)
    else {
        return Ok(());
    };
    let probed = match config.backend {
        ReplayBackend::Redis => self::redis::RedisReplay::connect(url, config)
            .await
            .map(drop),
        _ => self::postgres::probe(url, config).await,
    };
    probed.map_err(|source| OpenError {
        backend: config.backend.name(),
        url: url.to_string(),
        source,
    })
}

/// The scope as one string, `<kind>:<name>` with `%` and `:` of the name escaped, so two
/// different (kind, name) pairs never give the same string.
pub fn scope_key(scope: ReplayScope<'_>) -> String {
    let (kind, name) = match scope {
        ReplayScope::Dauth { consumer_key } => ("dauth", consumer_key),
        ReplayScope::Assertion { client_id } => ("assertion", client_id),
        ReplayScope::Erc8128 { keyid } => ("erc8128", keyid),
    };
    format!("{kind}:{}", escape(name))
}

/// `s` with `%` and `:` percent-escaped.
pub(crate) fn escape(s: &str) -> String {
    s.replace('%', "%25").replace(':', "%3A")
}

/// A backend failure, kept opaque.
pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(super::error::BackendError(Box::new(e)))
}

/// The time left until `expires_at`, at least one second (Redis `EX` refuses 0).
pub(crate) fn ttl_secs(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now))
        .unwrap_or(0)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_never_collide() {
        let a = scope_key(ReplayScope::Dauth {
            consumer_key: "a:b",
        });
        let b = scope_key(ReplayScope::Dauth {
            consumer_key: "a%3Ab",
        });
        let c = scope_key(ReplayScope::Assertion { client_id: "a:b" });
        assert_eq!(a, "dauth:a%3Ab");
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn urls_show_no_password() {
        let u = ServiceUrl::new("redis://:hunter2@127.0.0.1:6379/0".into());
        assert!(!u.to_string().contains("hunter2"));
        assert!(!format!("{u:?}").contains("hunter2"));
        let p = ServiceUrl::new("postgres://dauth:hunter2@db/x".into());
        assert_eq!(p.to_string(), "postgres://dauth:***@db/x");
    }

    #[test]
    fn ttl_is_at_least_a_second() {
        assert_eq!(ttl_secs(100, 100), 1);
        assert_eq!(ttl_secs(90, 100), 1);
        assert_eq!(ttl_secs(400, 100), 300);
    }
}
