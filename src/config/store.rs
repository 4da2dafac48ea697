//! `[store] backend = "postgres"`: the PostgreSQL store's connection settings, checked once.
//!
//! The URL is libpq's (a `postgres://` URL or a `key=value` string, parsed by tokio-postgres).
//! A password missing from it comes from `password_file` (its contents without a final line
//! break), else from `PGPASSWORD`. Messages name the URL without its password ([`redacted`]).

use std::time::Duration;

use super::error::{KeyProblem, Problem};
use super::file::RawStore;
pub use crate::store::postgres::{PostgresConfig, redacted};

impl PostgresConfig {
    /// The settings of `url` with every other `[store]` key at its default (for
    /// `admin copy-store --to URL`).
    pub fn from_url(url: &str) -> Result<Self, String> {
        let raw = RawStore {
            backend: "postgres".into(),
            url: Some(url.into()),
            ..RawStore::default()
        };
        postgres(&raw).map_err(|(key, problem)| format!("{key}: {problem}"))
    }
}

fn invalid(key: &str, why: &'static str) -> KeyProblem {
    (key.to_owned(), Problem::Invalid(why))
}

/// `[store]`'s PostgreSQL keys, when `backend = "postgres"`.
pub(super) fn postgres(raw: &RawStore) -> Result<PostgresConfig, KeyProblem> {
    let url = raw
        .url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| invalid("store.url", "backend = \"postgres\" needs a url"))?;
    let mut connect: tokio_postgres::Config = url.parse().map_err(|_| {
        invalid(
            "store.url",
            "not a PostgreSQL connection string: postgres://user@host:port/db or \
             \"host=... user=... dbname=...\"",
        )
    })?;
    if connect.get_hosts().is_empty() {
        return Err(invalid("store.url", "names no host"));
    }
    if connect.get_password().is_none() {
        if let Some(path) = &raw.password_file {
            let text = crate::fs::read_small_file(std::path::Path::new(path))
                .map_err(|e| ("store.password_file".to_owned(), Problem::Read(e)))?;
            connect.password(text.trim_end_matches(['\r', '\n']));
        } else if let Ok(pw) = std::env::var("PGPASSWORD") {
            connect.password(pw);
        }
    }
    if raw.pool_size == 0 || raw.pool_size > 1024 {
        return Err(invalid("store.pool_size", "must be 1 to 1024"));
    }
    if raw.connect_timeout_secs == 0 || raw.connect_timeout_secs > 300 {
        return Err(invalid("store.connect_timeout_secs", "must be 1 to 300"));
    }
    if raw.statement_timeout_ms == 0 || raw.statement_timeout_ms > 600_000 {
        return Err(invalid("store.statement_timeout_ms", "must be 1 to 600000"));
    }
    let connect_timeout = Duration::from_secs(raw.connect_timeout_secs);
    connect.connect_timeout(connect_timeout);
    // Every session: statements bounded, and commits durable before they are acknowledged
    // (measured: with synchronous_commit off an immediate shutdown lost acknowledged users).
    connect.options(format!(
        "-c statement_timeout={} -c synchronous_commit=on",
        raw.statement_timeout_ms
    ));
    if connect.get_application_name().is_none() {
        connect.application_name("dauth-proxy");
    }
    Ok(PostgresConfig {
        display: redacted(&connect),
        connect,
        pool_size: raw.pool_size,
        connect_timeout,
        statement_timeout: Duration::from_millis(raw.statement_timeout_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(url: &str) -> RawStore {
        RawStore {
            backend: "postgres".into(),
            url: Some(url.into()),
            ..RawStore::default()
        }
    }

    #[test]
    fn the_shown_url_never_carries_the_password() {
        for url in [
            "postgres://dauth:s3cret-pw@db.example:6543/users",
            "host=db.example port=6543 user=dauth password=s3cret-pw dbname=users",
        ] {
            let c = postgres(&raw(url)).unwrap();
            assert_eq!(c.display, "postgres://dauth@db.example:6543/users");
            assert!(!format!("{c:?}").contains("s3cret-pw"), "{c:?}");
        }
    }

    #[test]
    fn bad_urls_and_limits_are_refused_by_key() {
        assert_eq!(
            postgres(&raw("not a url at all")).unwrap_err().0,
            "store.url"
        );
        let mut r = raw("postgres://u@h/d");
        r.pool_size = 0;
        assert_eq!(postgres(&r).unwrap_err().0, "store.pool_size");
        let r = RawStore {
            backend: "postgres".into(),
            ..RawStore::default()
        };
        assert_eq!(postgres(&r).unwrap_err().0, "store.url");
    }
}
