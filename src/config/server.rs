//! `[server]`, `[store]` and `[log]`: the listener, the store directory and the log.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::error::{KeyProblem, Problem};
use super::file::{RawLog, RawServer, RawStore};
use super::values::cidrs;
use crate::net::CidrList;

/// `[server]`: the listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: CidrList,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// TLS termination, when `tls_cert` and `tls_key` are set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Largest request body accepted (per route overridable).
    pub max_body_bytes: u64,
    /// Largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// Time allowed to receive a request head, from its first byte (and for a TLS handshake).
    pub header_read_timeout: Duration,
    /// An idle connection (no request in flight, no bytes moving) is closed after this; also
    /// the longest a response may stand still while it streams.
    pub idle_timeout: Duration,
    /// The longest wait for the next byte of a request body before the request ends with 408.
    pub body_read_timeout: Duration,
    /// Most connections served at once; beyond it new connections get a 503.
    pub max_connections: usize,
    /// Most HTTP/2 streams in flight on one connection (`SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub max_concurrent_streams: u32,
}

/// `[store]`: the sled database, or PostgreSQL.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory of the sled database.
    pub path: PathBuf,
    /// Upper bound of sled's page cache.
    pub cache_bytes: u64,
    /// `backend = "postgres"`: the PostgreSQL store's settings (None: sled).
    pub postgres: Option<super::store::PostgresConfig>,
}

impl StoreConfig {
    /// The store as messages name it: the sled directory, or the PostgreSQL URL without its
    /// password.
    pub fn shown(&self) -> PathBuf {
        match &self.postgres {
            Some(pg) => PathBuf::from(&pg.display),
            None => self.path.clone(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// A tracing filter (`info`, `dauth_proxy=debug`, ...); `RUST_LOG` overrides it.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn invalid(key: &str, why: &'static str) -> KeyProblem {
    (key.to_owned(), Problem::Invalid(why))
}

/// `server.listen` and `server.trusted_proxies`, checked first.
pub(super) fn address(s: &RawServer) -> Result<(SocketAddr, CidrList), KeyProblem> {
    // Nothing to keep: the key is named, and the message says what it must be.
    let listen = s.listen.parse::<SocketAddr>().map_err(|_| {
        invalid(
            "server.listen",
            "not a socket address such as 127.0.0.1:8080 or [::]:8080",
        )
    })?;
    let trusted_proxies = cidrs("server.trusted_proxies", &s.trusted_proxies)?;
    Ok((listen, trusted_proxies))
}

/// `[store]`.
pub(super) fn store(raw: RawStore) -> Result<StoreConfig, KeyProblem> {
    if raw.path.trim().is_empty() {
        return Err(invalid("store.path", "must not be empty"));
    }
    Ok(StoreConfig {
        path: PathBuf::from(&raw.path),
        cache_bytes: raw.cache_mb.saturating_mul(1024 * 1024),
        postgres: match raw.backend.as_str() {
            "sled" => None,
            "postgres" => Some(super::store::postgres(&raw)?),
            _ => return Err(invalid("store.backend", "must be \"sled\" or \"postgres\"")),
        },
    })
}

/// `[log]`.
pub(super) fn log(raw: &RawLog) -> Result<LogConfig, KeyProblem> {
    if !is_log_filter(&raw.level) {
        return Err(invalid(
            "log.level",
            "not a log filter: a level (trace, debug, info, warn, error, off) or comma-separated \
             directives TARGET=LEVEL, such as \"info\" or \"info,dauth_proxy=debug,hyper=warn\"",
        ));
    }
    Ok(LogConfig {
        level: raw.level.clone(),
        format: match raw.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(invalid("log.format", "must be \"text\" or \"json\"")),
        },
    })
}

/// The level names a filter may use; tracing takes them in any letter case.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

fn is_level(word: &str) -> bool {
    LEVELS.iter().any(|l| word.eq_ignore_ascii_case(l))
}

/// Whether `text` is a tracing `EnvFilter` every part of which says something: each
/// comma-separated directive is a level, or a target (with an optional `[span{field}]`) and
/// `=LEVEL`, with a known level name. `EnvFilter` itself takes a lone unknown word (`warning`,
/// `debugg`, and `info ` with a space) as a target to trace and nothing else, skips empty
/// directives (`info,,`) and reads `target=` as trace: each a typo that would silence the log,
/// the listening line included.
fn is_log_filter(text: &str) -> bool {
    let directive_ok = |d: &str| {
        // tracing reads `info ` (with the space) as a target, not as the level.
        if d != d.trim() {
            return false;
        }
        if is_level(d) {
            return true;
        }
        // The level follows the last `=` after any span part (fields may hold `=` too).
        let tail = d.rfind(']').map_or(d, |i| &d[i + 1..]);
        let level_ok = tail
            .split_once('=')
            .is_some_and(|(_, level)| is_level(level));
        level_ok && d.parse::<tracing_subscriber::filter::Directive>().is_ok()
    };
    !text.trim().is_empty()
        && text.split(',').all(directive_ok)
        && tracing_subscriber::EnvFilter::try_new(text).is_ok()
}

/// The rest of `[server]`: TLS, clocks and limits.
pub(super) fn server(
    s: &RawServer,
    listen: SocketAddr,
    trusted_proxies: CidrList,
) -> Result<ServerConfig, KeyProblem> {
    let tls = match (&s.tls_cert, &s.tls_key) {
        (Some(cert), Some(key)) => Some(
            crate::tls::server_config(Path::new(cert), Path::new(key)).map_err(|e| {
                // A key rustls refuses, or one that is not the certificate's, is the key's
                // fault: the certificate parsed.
                let key = match e {
                    crate::tls::TlsError::Certs { .. } => "server.tls_cert",
                    crate::tls::TlsError::Key { .. } | crate::tls::TlsError::Config(_) => {
                        "server.tls_key"
                    }
                };
                (key.to_owned(), Problem::Tls(e))
            })?,
        ),
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                "server.tls_key",
                "tls_cert and tls_key must be set together",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "server.tls_cert",
                "tls_cert and tls_key must be set together",
            ));
        }
    };
    let positive = |key: &str, v: u64| {
        if v == 0 {
            Err(invalid(key, "must be at least 1"))
        } else {
            Ok(v)
        }
    };
    positive(
        "server.header_read_timeout_secs",
        s.header_read_timeout_secs,
    )?;
    positive("server.idle_timeout_secs", s.idle_timeout_secs)?;
    let body_read_timeout_secs = positive(
        "server.body_read_timeout_secs",
        s.body_read_timeout_secs.unwrap_or(s.idle_timeout_secs),
    )?;
    positive("server.max_connections", s.max_connections as u64)?;
    positive(
        "server.max_concurrent_streams",
        u64::from(s.max_concurrent_streams),
    )?;
    if s.max_header_bytes < 1024 {
        return Err(invalid("server.max_header_bytes", "must be at least 1024"));
    }
    Ok(ServerConfig {
        listen,
        trusted_proxies,
        shutdown_grace: Duration::from_secs(s.shutdown_grace_secs),
        tls,
        max_body_bytes: s.max_body_bytes,
        max_header_bytes: s.max_header_bytes,
        header_read_timeout: Duration::from_secs(s.header_read_timeout_secs),
        idle_timeout: Duration::from_secs(s.idle_timeout_secs),
        body_read_timeout: Duration::from_secs(body_read_timeout_secs),
        max_connections: s.max_connections,
        max_concurrent_streams: s.max_concurrent_streams,
    })
}
