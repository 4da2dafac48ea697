//! Configuration: the TOML file checked into a typed [`Config`], once, at start-up.
//!
//! Everything that can be checked before serving is checked here: unknown keys, CIDRs, socket
//! addresses, key files (read, parsed and size-checked; never again per request) and
//! combinations that would be insecure. A failure is a [`ConfigError`] naming the file and the
//! key. Relative paths in the file are relative to the working directory.

mod file;
mod identity;
mod routes;

pub use identity::{AccountsConfig, BearerConfig, ExternalIssuer, IssuerConfig, MailConfig};

pub use routes::{AuthMode, RouteConfig, Upstream, ViewCheck};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::keys::{KeyError, VerifyKey, load_verify_key};
use crate::net::CidrList;
use file::{RawConfig, RawDauth, RawKey};

/// The default configuration file.
pub const DEFAULT_PATH: &str = "config/dauth.toml";

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub source: PathBuf,
    /// `[server]`
    pub server: ServerConfig,
    /// `[store]`
    pub store: StoreConfig,
    /// `[dauth]`
    pub dauth: DauthConfig,
    /// `[log]`
    pub log: LogConfig,
    /// `[[routes]]`, in file order.
    pub routes: Vec<RouteConfig>,
    /// `[obp]`
    pub obp: ObpConfig,
    /// `[issuer]`, when the gateway issues tokens (password users, service clients).
    pub issuer: Option<IssuerConfig>,
    /// `[accounts]`
    pub accounts: AccountsConfig,
    /// `[internal] networks`: peers allowed to use `x-user-ctx`.
    pub internal_networks: CidrList,
    /// `[bearer]`
    pub bearer: BearerConfig,
    /// `[mail]`; without it mails go to the log.
    pub mail: Option<MailConfig>,
    /// `[[clients]]`, keys parsed.
    pub clients: Vec<crate::auth::clients::ClientDef>,
    /// `[limits]`
    pub limits: LimitsConfig,
    /// `[cache]`
    pub cache: CacheConfig,
}

/// `[cache]`: in-memory caches (0 turns one off).
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Verified DAuth tokens kept (by digest), each until it stops being acceptable.
    pub tokens: usize,
    /// DAuth users kept in memory, so hot callers skip the store.
    pub users: usize,
}

/// `[limits]`: rates (0 turns a limit off) and the verification bound.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Requests per second per caller IP.
    pub per_ip_rps: u32,
    /// Burst per caller IP (default: twice the rate).
    pub per_ip_burst: u32,
    /// Verified DAuth requests per second per `consumer_key`.
    pub per_consumer_rps: u32,
    /// Burst per `consumer_key` (default: twice the rate).
    pub per_consumer_burst: u32,
    /// DAuth verifications waiting or running at once; beyond it, 503.
    pub max_verifications_in_flight: usize,
    /// IPv6 callers are rate-limited by this prefix of their address (IPv4 by the address).
    pub ipv6_prefix_len: u8,
    /// Calls of the anonymous password endpoints (register, login, confirm, both reset calls)
    /// per minute per caller IP, apart from `per_ip_rps`; 0 turns the limit off.
    pub password_per_ip_per_minute: u32,
}

/// `[obp]`: the embedded account-access endpoints.
#[derive(Debug, Clone)]
pub struct ObpConfig {
    /// Most account-access rows one account may have (OBP-30063 beyond it).
    pub max_access_rows: u64,
}

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

/// `[store]`: the sled database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory of the database.
    pub path: PathBuf,
    /// Upper bound of sled's page cache.
    pub cache_bytes: u64,
}

/// `[dauth]`: the DAuth policy.
#[derive(Debug, Clone)]
pub struct DauthConfig {
    /// When false a `DAuth` header is ignored (OBP `allow_dauth`).
    pub enabled: bool,
    /// Verification keys, parsed.
    pub keys: Vec<VerifyKey>,
    /// Callers allowed to use DAuth.
    pub allowed_hosts: CidrList,
    /// Allowed `network_name` values; empty means any well-formed name.
    pub networks: Vec<String>,
    /// Maximum age of `timestamp`/`iat`; 0 disables the freshness check.
    pub max_token_age_secs: u64,
    /// Tolerated clock difference with signers.
    pub clock_skew_secs: u64,
    /// Accept each (consumer_key, request_id) once.
    pub replay_protection: bool,
    /// Most pairs the replay window holds.
    pub replay_capacity: usize,
    /// Require 20-byte hex addresses with valid EIP-55 checksums.
    pub strict_addresses: bool,
}

impl DauthConfig {
    /// How long a token can stay fresh after it is first seen, so how long its
    /// request_id must be remembered: age limit plus skew, plus a second for rounding.
    pub fn replay_window_secs(&self) -> u64 {
        self.max_token_age_secs
            .saturating_add(self.clock_skew_secs)
            .saturating_add(1)
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

/// A configuration that cannot be used, with the file and key at fault.
#[derive(Debug, thiserror::Error)]
#[error("{}: {key}: {problem}", file.display())]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// The key at fault, dotted (`dauth.allowed_hosts[1]`), or `-` for the whole file.
    pub key: String,
    /// What is wrong.
    #[source]
    pub problem: Problem,
}

/// What is wrong with a configuration key.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Read(#[source] std::io::Error),
    /// TOML syntax, an unknown key, or a value of the wrong type.
    #[error("{0}")]
    Syntax(#[source] Box<toml::de::Error>),
    /// A key file was refused.
    #[error("{0}")]
    Key(#[source] KeyError),
    /// A CIDR entry does not parse.
    #[error("{0}")]
    Cidr(#[source] crate::net::CidrParseError),
    /// TLS material was refused.
    #[error("{0}")]
    Tls(#[source] crate::tls::TlsError),
    /// A value is out of range or contradicts another.
    #[error("{0}")]
    Invalid(&'static str),
}

impl Config {
    /// What is allowed but probably a mistake, as (key, why): `check-config` prints these and
    /// `serve` logs them at start-up.
    pub fn warnings(&self) -> Vec<(String, &'static str)> {
        routes::warnings(&self.routes)
    }

    /// Reads and checks the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = crate::fs::read_small_file(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            key: "-".into(),
            problem: Problem::Read(e),
        })?;
        Self::from_toml(&text, path)
    }

    /// Checks configuration `text`; `source` names it in errors.
    pub fn from_toml(text: &str, source: &Path) -> Result<Self, ConfigError> {
        let fail = |key: &str, problem: Problem| ConfigError {
            file: source.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let raw = parse(text).map_err(|(key, e)| fail(&key, Problem::Syntax(Box::new(e))))?;
        let listen = raw.server.listen.parse::<SocketAddr>().map_err(|_| {
            fail(
                "server.listen",
                Problem::Invalid("not a socket address such as 127.0.0.1:8080 or [::]:8080"),
            )
        })?;
        let trusted_proxies = cidrs("server.trusted_proxies", &raw.server.trusted_proxies)
            .map_err(|(k, p)| fail(&k, p))?;
        if raw.store.path.trim().is_empty() {
            return Err(fail("store.path", Problem::Invalid("must not be empty")));
        }
        if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
            return Err(fail(
                "log.level",
                Problem::Invalid("not a tracing filter such as \"info\" or \"dauth_proxy=debug\""),
            ));
        }
        let log = LogConfig {
            level: raw.log.level.clone(),
            format: match raw.log.format.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(fail(
                        "log.format",
                        Problem::Invalid("must be \"text\" or \"json\""),
                    ));
                }
            },
        };
        let dauth = dauth(raw.dauth).map_err(|(k, p)| fail(&k, p))?;
        let routes = routes::routes(raw.routes).map_err(|(k, p)| fail(&k, p))?;
        let issuer = identity::issuer(raw.issuer).map_err(|(k, p)| fail(&k, p))?;
        let accounts = identity::accounts(raw.accounts).map_err(|(k, p)| fail(&k, p))?;
        let internal_networks =
            cidrs("internal.networks", &raw.internal.networks).map_err(|(k, p)| fail(&k, p))?;
        let bearer = identity::bearer(raw.bearer, issuer.as_ref()).map_err(|(k, p)| fail(&k, p))?;
        let mail = identity::mail(raw.mail).map_err(|(k, p)| fail(&k, p))?;
        let clients = identity::clients(raw.clients).map_err(|(k, p)| fail(&k, p))?;
        let l = &raw.limits;
        if l.max_verifications_in_flight == 0 {
            return Err(fail(
                "limits.max_verifications_in_flight",
                Problem::Invalid("must be at least 1"),
            ));
        }
        if !(1..=128).contains(&l.ipv6_prefix_len) {
            return Err(fail(
                "limits.ipv6_prefix_len",
                Problem::Invalid("must be 1 to 128"),
            ));
        }
        let limits = LimitsConfig {
            per_ip_rps: l.per_ip_rps,
            per_ip_burst: l.per_ip_burst.unwrap_or(l.per_ip_rps.saturating_mul(2)),
            per_consumer_rps: l.per_consumer_rps,
            per_consumer_burst: l
                .per_consumer_burst
                .unwrap_or(l.per_consumer_rps.saturating_mul(2)),
            max_verifications_in_flight: l.max_verifications_in_flight,
            ipv6_prefix_len: l.ipv6_prefix_len,
            password_per_ip_per_minute: l.password_per_ip_per_minute,
        };
        let s = &raw.server;
        let tls = match (&s.tls_cert, &s.tls_key) {
            (Some(cert), Some(key)) => Some(
                crate::tls::server_config(Path::new(cert), Path::new(key)).map_err(|e| {
                    let key = match e {
                        crate::tls::TlsError::Key { .. } => "server.tls_key",
                        _ => "server.tls_cert",
                    };
                    fail(key, Problem::Tls(e))
                })?,
            ),
            (None, None) => None,
            _ => {
                return Err(fail(
                    "server.tls_key",
                    Problem::Invalid("tls_cert and tls_key must be set together"),
                ));
            }
        };
        let positive = |key: &str, v: u64| {
            if v == 0 {
                Err(fail(key, Problem::Invalid("must be at least 1")))
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
            return Err(fail(
                "server.max_header_bytes",
                Problem::Invalid("must be at least 1024"),
            ));
        }
        let server = ServerConfig {
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
        };
        Ok(Self {
            source: source.to_owned(),
            server,
            store: StoreConfig {
                path: PathBuf::from(raw.store.path),
                cache_bytes: raw.store.cache_mb.saturating_mul(1024 * 1024),
            },
            dauth,
            log,
            routes,
            obp: ObpConfig {
                max_access_rows: raw.obp.max_access_rows,
            },
            issuer,
            accounts,
            internal_networks,
            bearer,
            mail,
            clients,
            limits,
            cache: CacheConfig {
                tokens: raw.cache.tokens,
                users: raw.cache.users,
            },
        })
    }
}

type KeyProblem = (String, Problem);

fn parse(text: &str) -> Result<RawConfig, (String, toml::de::Error)> {
    let de = toml::Deserializer::parse(text).map_err(|e| ("-".to_owned(), e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { "-".to_owned() } else { path };
        (key, e.into_inner())
    })
}

/// Loads the PEM public keys listed under `key`; an error names the entry (`key[i]`).
fn verify_keys(key: &str, raw: Vec<RawKey>) -> Result<Vec<VerifyKey>, KeyProblem> {
    raw.into_iter()
        .enumerate()
        .map(|(i, k)| {
            let (path, kid) = match k {
                RawKey::Path(path) => (path, None),
                RawKey::WithKid { path, kid } => (path, kid),
            };
            load_verify_key(Path::new(&path), kid)
                .map_err(|e| (format!("{key}[{i}]"), Problem::Key(e)))
        })
        .collect()
}

fn cidrs(key: &str, entries: &[String]) -> Result<CidrList, KeyProblem> {
    CidrList::parse(entries).map_err(|(i, e)| (format!("{key}[{i}]"), Problem::Cidr(e)))
}

fn dauth(raw: RawDauth) -> Result<DauthConfig, KeyProblem> {
    let invalid = |key: &str, why| (key.to_owned(), Problem::Invalid(why));
    let allowed_hosts = cidrs("dauth.allowed_hosts", &raw.allowed_hosts)?;
    if raw.enabled && raw.public_keys.is_empty() {
        return Err(invalid(
            "dauth.public_keys",
            "at least one key is required while dauth.enabled = true",
        ));
    }
    let keys = verify_keys("dauth.public_keys", raw.public_keys)?;
    if let Some(bad) = raw
        .networks
        .iter()
        .position(|n| !crate::auth::address::is_valid_network(n))
    {
        return Err(invalid(
            &format!("dauth.networks[{bad}]"),
            "network names are 1 to 64 of A-Z a-z 0-9 . _ - :",
        ));
    }
    if raw.replay_protection && raw.max_token_age_secs == 0 {
        return Err(invalid(
            "dauth.replay_protection",
            "replay protection needs a bounded token age: set dauth.max_token_age_secs > 0",
        ));
    }
    if raw.replay_protection && raw.replay_capacity == 0 {
        return Err(invalid("dauth.replay_capacity", "must be at least 1"));
    }
    Ok(DauthConfig {
        enabled: raw.enabled,
        keys,
        allowed_hosts,
        networks: raw
            .networks
            .iter()
            .map(|n| crate::auth::address::canonical_network(n))
            .collect(),
        max_token_age_secs: raw.max_token_age_secs,
        clock_skew_secs: raw.clock_skew_secs,
        replay_protection: raw.replay_protection,
        replay_capacity: raw.replay_capacity,
        strict_addresses: raw.strict_addresses,
    })
}

#[cfg(test)]
mod tests;
