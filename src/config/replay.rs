//! `[replay]` and the shared rate of `[limits]`: where the replay windows live, checked into
//! [`ReplayConfig`] (which the store's shared window defines).

use std::time::Duration;

use serde::Deserialize;

use super::error::{KeyProblem, Problem};
use crate::store::replay::{ReplayBackend, ReplayConfig, ServiceUrl};

/// `[replay]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [replay] table")]
pub(super) struct RawReplay {
    pub(super) backend: Option<String>,
    pub(super) url: Option<String>,
    pub(super) connect_timeout_ms: u64,
    pub(super) response_timeout_ms: u64,
    pub(super) pool_size: usize,
    pub(super) synchronous_commit: bool,
}

impl Default for RawReplay {
    fn default() -> Self {
        Self {
            backend: None,
            url: None,
            connect_timeout_ms: 2000,
            response_timeout_ms: 500,
            pool_size: 16,
            synchronous_commit: true,
        }
    }
}

/// `limits.shared_per_consumer_per_minute` and `limits.shared_per_consumer_burst` as written.
pub(super) struct RawSharedRate {
    pub(super) per_minute: u32,
    pub(super) burst: Option<u32>,
}

/// Checks `[replay]` and the shared rate of `[limits]`. With a shared store (PostgreSQL,
/// `shared_store`) the backend defaults to `"postgres"` and its `url` to the store's database
/// (the store's own `dauth_replay` table); otherwise to `"memory"`.
pub(super) fn replay(
    raw: RawReplay,
    rate: RawSharedRate,
    shared_store: bool,
) -> Result<ReplayConfig, KeyProblem> {
    let invalid = |key: &str, why| (key.to_owned(), Problem::Invalid(why));
    let default = if shared_store { "postgres" } else { "memory" };
    let backend = match raw.backend.as_deref().unwrap_or(default) {
        "memory" => ReplayBackend::Memory,
        "postgres" => ReplayBackend::Postgres,
        "redis" => ReplayBackend::Redis,
        _ => {
            return Err(invalid(
                "replay.backend",
                "must be \"memory\", \"postgres\" or \"redis\"",
            ));
        }
    };
    let url = match (backend, raw.url) {
        (ReplayBackend::Memory, _) => None,
        // The store's own database and table.
        (ReplayBackend::Postgres, None) if shared_store => None,
        (_, None) => {
            return Err(invalid(
                "replay.url",
                "required with replay.backend = \"redis\", and with \"postgres\" unless the store is PostgreSQL",
            ));
        }
        (b, Some(url)) => Some(checked_url(b, url)?),
    };
    if raw.connect_timeout_ms == 0 || raw.response_timeout_ms == 0 {
        let key = if raw.connect_timeout_ms == 0 {
            "replay.connect_timeout_ms"
        } else {
            "replay.response_timeout_ms"
        };
        return Err(invalid(key, "must be at least 1"));
    }
    if raw.pool_size == 0 {
        return Err(invalid("replay.pool_size", "must be at least 1"));
    }
    let per_minute = rate.per_minute;
    if per_minute > 0 && backend != ReplayBackend::Redis {
        return Err(invalid(
            "limits.shared_per_consumer_per_minute",
            "the shared rate runs on Redis: set replay.backend = \"redis\"",
        ));
    }
    if rate.burst == Some(0) {
        return Err(invalid(
            "limits.shared_per_consumer_burst",
            "must be at least 1",
        ));
    }
    Ok(ReplayConfig {
        backend,
        url,
        connect_timeout: Duration::from_millis(raw.connect_timeout_ms),
        response_timeout: Duration::from_millis(raw.response_timeout_ms),
        pool_size: raw.pool_size,
        synchronous_commit: raw.synchronous_commit,
        shared_per_consumer_per_minute: per_minute,
        shared_per_consumer_burst: rate.burst.unwrap_or(per_minute).max(1),
    })
}

/// What `check-config` warns about: several replicas sharing a store (`shared_store`) but
/// each keeping its own replay window, so a token accepted by one is accepted by the others.
pub(super) fn warnings(shared_store: bool, replay: &ReplayConfig) -> Vec<(String, &'static str)> {
    if shared_store && replay.backend == ReplayBackend::Memory {
        return vec![(
            "replay.backend".into(),
            "a shared store with a replay window in memory: each replica keeps its own, so a \
             DAuth token or client assertion accepted by one replica is accepted by the others; \
             set replay.backend = \"postgres\" or \"redis\"",
        )];
    }
    Vec::new()
}

/// The URL, if its scheme fits the backend.
fn checked_url(backend: ReplayBackend, url: String) -> Result<ServiceUrl, KeyProblem> {
    let invalid = |why| ("replay.url".to_owned(), Problem::Invalid(why));
    let scheme = url.split_once("://").map(|(s, _)| s);
    match (backend, scheme) {
        (ReplayBackend::Redis, Some("redis")) => {
            redis::Client::open(url.as_str())
                .map_err(|_| invalid("not a Redis URL: redis://host:port/db"))?;
        }
        (ReplayBackend::Redis, _) => {
            return Err(invalid(
                "a Redis URL: redis://host:port/db (TLS is not supported)",
            ));
        }
        (ReplayBackend::Postgres, Some("postgres" | "postgresql")) => {
            url.parse::<tokio_postgres::Config>().map_err(|_| {
                invalid("not a PostgreSQL URL: postgres://user:password@host:port/database")
            })?;
        }
        _ => {
            return Err(invalid(
                "a PostgreSQL URL: postgres://user:password@host:port/database",
            ));
        }
    }
    Ok(ServiceUrl::new(url))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn load(extra: &str) -> Result<Config, String> {
        let text = format!("[dauth]\nenabled = false\n{extra}");
        Config::from_toml(&text, std::path::Path::new("t.toml")).map_err(|e| e.key)
    }

    #[test]
    fn memory_is_the_default_and_urls_are_checked() {
        let c = load("").unwrap();
        assert_eq!(c.replay.backend.name(), "memory");
        assert_eq!(
            load("[replay]\nbackend = \"redis\"").unwrap_err(),
            "replay.url"
        );
        assert_eq!(
            load("[replay]\nbackend = \"redis\"\nurl = \"postgres://a@b/c\"").unwrap_err(),
            "replay.url"
        );
        assert_eq!(
            load("[replay]\nbackend = \"postgres\"\nurl = \"redis://b:1/0\"").unwrap_err(),
            "replay.url"
        );
        assert_eq!(
            load("[replay]\nbackend = \"disk\"").unwrap_err(),
            "replay.backend"
        );
        let c = load("[replay]\nbackend = \"redis\"\nurl = \"redis://:pw@127.0.0.1:1/2\"").unwrap();
        assert!(!format!("{c:?}").contains(":pw@"));
    }

    #[test]
    fn a_shared_store_with_a_memory_window_is_warned_about() {
        let memory = load("").unwrap().replay;
        assert_eq!(super::warnings(true, &memory).len(), 1);
        assert!(super::warnings(false, &memory).is_empty());
        let redis = load("[replay]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:1/0\"")
            .unwrap()
            .replay;
        assert!(super::warnings(true, &redis).is_empty());
    }

    #[test]
    fn the_shared_rate_needs_redis() {
        let rate = "[limits]\nshared_per_consumer_per_minute = 60\n";
        assert_eq!(
            load(rate).unwrap_err(),
            "limits.shared_per_consumer_per_minute"
        );
        let c = load(&format!(
            "{rate}[replay]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:1/0\""
        ))
        .unwrap();
        assert_eq!(c.replay.shared_per_consumer_burst, 60);
        assert_eq!(
            load("[replay]\nresponse_timeout_ms = 0").unwrap_err(),
            "replay.response_timeout_ms"
        );
    }
}
