//! The configuration file as written: serde types with every default, nothing checked yet.
//!
//! Every section and key is optional; unknown keys are refused. [`super::Config::from_toml`]
//! turns this into the typed, checked configuration.

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    default,
    expecting = "the configuration file's tables"
)]
pub(super) struct RawConfig {
    pub(super) server: RawServer,
    pub(super) store: RawStore,
    pub(super) dauth: RawDauth,
    pub(super) log: RawLog,
    pub(super) obp: RawObp,
    pub(super) routes: Vec<RawRoute>,
    pub(super) issuer: Option<RawIssuer>,
    pub(super) accounts: RawAccounts,
    pub(super) internal: RawInternal,
    pub(super) bearer: RawBearer,
    pub(super) mail: Option<RawMail>,
    pub(super) clients: Vec<RawClient>,
    pub(super) wallets: super::wallets::RawWallets,
    pub(super) limits: RawLimits,
    pub(super) cache: RawCache,
    pub(super) airnode: Vec<RawAirnode>,
    pub(super) replay: super::replay::RawReplay,
    pub(super) admin: super::ops::RawAdmin,
    pub(super) tracing: super::ops::RawTracing,
}

/// `[[airnode]]`: an API3 Airnode calling with a key and relay headers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAirnode {
    pub(super) name: String,
    pub(super) api_key_sha256: Option<String>,
    pub(super) api_key_file: Option<String>,
    pub(super) key_header: String,
    pub(super) allowed_hosts: Vec<String>,
    pub(super) airnode_address: Option<String>,
    pub(super) chains: std::collections::BTreeMap<String, String>,
    pub(super) requester_header: String,
    pub(super) chain_id_header: String,
    pub(super) chain_type_header: String,
    pub(super) request_id_header: String,
    pub(super) sponsor_header: String,
    pub(super) sponsor_wallet_header: String,
    pub(super) sponsors: Vec<String>,
    pub(super) requesters: Vec<String>,
    pub(super) retry_window_secs: u64,
    pub(super) max_replay_bytes: u64,
    pub(super) retry_capacity: usize,
    pub(super) replay_memory_bytes: u64,
    pub(super) rpc_urls: std::collections::BTreeMap<String, String>,
    pub(super) rrp_address: std::collections::BTreeMap<String, String>,
    pub(super) rpc_timeout_secs: u64,
}

impl Default for RawAirnode {
    fn default() -> Self {
        Self {
            name: String::new(),
            api_key_sha256: None,
            api_key_file: None,
            key_header: "X-Airnode-Key".into(),
            allowed_hosts: Vec::new(),
            airnode_address: None,
            chains: Default::default(),
            requester_header: "X-Airnode-Requester".into(),
            chain_id_header: "X-Airnode-Chain-Id".into(),
            chain_type_header: "X-Airnode-Chain-Type".into(),
            request_id_header: "X-Airnode-Request-Id".into(),
            sponsor_header: "X-Airnode-Sponsor".into(),
            sponsor_wallet_header: "X-Airnode-Sponsor-Wallet".into(),
            sponsors: Vec::new(),
            requesters: Vec::new(),
            retry_window_secs: 7200,
            max_replay_bytes: 1024 * 1024,
            retry_capacity: 100_000,
            replay_memory_bytes: 64 * 1024 * 1024,
            rpc_urls: Default::default(),
            rrp_address: Default::default(),
            rpc_timeout_secs: 5,
        }
    }
}

/// `[cache]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [cache] table")]
pub(super) struct RawCache {
    pub(super) tokens: usize,
    pub(super) users: usize,
}

impl Default for RawCache {
    fn default() -> Self {
        Self {
            tokens: 100_000,
            users: 100_000,
        }
    }
}

/// `[limits]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [limits] table")]
pub(super) struct RawLimits {
    pub(super) per_ip_rps: u32,
    pub(super) per_ip_burst: Option<u32>,
    pub(super) per_consumer_rps: u32,
    pub(super) per_consumer_burst: Option<u32>,
    pub(super) max_verifications_in_flight: usize,
    pub(super) ipv6_prefix_len: u8,
    pub(super) password_per_ip_per_minute: u32,
    pub(super) shared_per_consumer_per_minute: u32,
    pub(super) shared_per_consumer_burst: Option<u32>,
}

impl Default for RawLimits {
    fn default() -> Self {
        Self {
            per_ip_rps: 1000,
            per_ip_burst: None,
            per_consumer_rps: 500,
            per_consumer_burst: None,
            max_verifications_in_flight: 1024,
            ipv6_prefix_len: 64,
            password_per_ip_per_minute: 60,
            shared_per_consumer_per_minute: 0,
            shared_per_consumer_burst: None,
        }
    }
}

/// `[[clients]]`: a service that gets client-credentials tokens with a `private_key_jwt`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[clients]] table")]
pub(super) struct RawClient {
    pub(super) client_id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) public_keys: Vec<RawKey>,
    #[serde(default)]
    pub(super) jwks_file: Option<String>,
    #[serde(default)]
    pub(super) scopes: Vec<String>,
}

/// `[issuer]`: the gateway's own token issuer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [issuer] table")]
pub(super) struct RawIssuer {
    pub(super) url: String,
    pub(super) private_key: String,
    pub(super) kid: String,
    #[serde(default = "default_audience")]
    pub(super) audience: String,
    #[serde(default = "default_access_ttl")]
    pub(super) access_ttl_secs: u64,
    #[serde(default = "default_refresh_ttl")]
    pub(super) refresh_ttl_secs: u64,
}

fn default_audience() -> String {
    "dauth-proxy".into()
}

fn default_access_ttl() -> u64 {
    900
}

fn default_refresh_ttl() -> u64 {
    30 * 24 * 3600
}

/// `[accounts]`: password users.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "an [accounts] table")]
pub(super) struct RawAccounts {
    pub(super) auto_confirm: bool,
    pub(super) admin_emails: Vec<String>,
    pub(super) max_failed_logins: u32,
    pub(super) lockout_secs: u64,
    pub(super) code_ttl_secs: u64,
    pub(super) mail_queue: usize,
    pub(super) hash_slots: usize,
    pub(super) hash_queue: usize,
    pub(super) login_clients: Vec<RawLoginClient>,
}

impl Default for RawAccounts {
    fn default() -> Self {
        Self {
            auto_confirm: true,
            admin_emails: Vec::new(),
            max_failed_logins: 5,
            lockout_secs: 900,
            code_ttl_secs: 900,
            mail_queue: 100,
            hash_slots: 4,
            hash_queue: 32,
            login_clients: Vec::new(),
        }
    }
}

/// `[[accounts.login_clients]]`: the `clientId`/`clientSecret` pairs a seed-002 login may name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[accounts.login_clients]] table")]
pub(super) struct RawLoginClient {
    pub(super) client_id: String,
    pub(super) client_secret: String,
}

/// `[internal]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "an [internal] table")]
pub(super) struct RawInternal {
    pub(super) networks: Vec<String>,
}

/// `[bearer]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [bearer] table")]
pub(super) struct RawBearer {
    pub(super) leeway_secs: u64,
    pub(super) issuers: Vec<RawBearerIssuer>,
}

impl Default for RawBearer {
    fn default() -> Self {
        Self {
            leeway_secs: 30,
            issuers: Vec::new(),
        }
    }
}

/// `[[bearer.issuers]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[bearer.issuers]] table")]
pub(super) struct RawBearerIssuer {
    pub(super) issuer: String,
    pub(super) audience: String,
    #[serde(default)]
    pub(super) public_keys: Vec<RawKey>,
    #[serde(default)]
    pub(super) jwks_file: Option<String>,
    #[serde(default)]
    pub(super) jwks_url: Option<String>,
    #[serde(default)]
    pub(super) discovery_url: Option<String>,
    #[serde(default)]
    pub(super) jwks_ca: Option<String>,
    #[serde(default = "default_min_refresh")]
    pub(super) jwks_min_refresh_secs: u64,
    #[serde(default = "default_max_refresh")]
    pub(super) jwks_max_refresh_secs: u64,
    #[serde(default = "default_max_stale")]
    pub(super) jwks_max_stale_secs: u64,
    #[serde(default = "default_min_refetch")]
    pub(super) jwks_min_refetch_secs: u64,
}

/// The `jwks_*` timing keys of a table with a `jwks_url` or `discovery_url`, as written.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawJwksTiming {
    pub(super) min_refresh: u64,
    pub(super) max_refresh: u64,
    pub(super) max_stale: u64,
    pub(super) min_refetch: u64,
}

fn default_min_refresh() -> u64 {
    60
}

fn default_max_refresh() -> u64 {
    3600
}

fn default_max_stale() -> u64 {
    86_400
}

fn default_min_refetch() -> u64 {
    30
}

impl RawBearerIssuer {
    /// Its timing keys.
    pub(super) fn timing(&self) -> RawJwksTiming {
        RawJwksTiming {
            min_refresh: self.jwks_min_refresh_secs,
            max_refresh: self.jwks_max_refresh_secs,
            max_stale: self.jwks_max_stale_secs,
            min_refetch: self.jwks_min_refetch_secs,
        }
    }
}

impl RawDauth {
    /// Its timing keys.
    pub(super) fn timing(&self) -> RawJwksTiming {
        RawJwksTiming {
            min_refresh: self.jwks_min_refresh_secs,
            max_refresh: self.jwks_max_refresh_secs,
            max_stale: self.jwks_max_stale_secs,
            min_refetch: self.jwks_min_refetch_secs,
        }
    }
}

/// `[mail]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [mail] table")]
pub(super) struct RawMail {
    pub(super) smtp_host: String,
    #[serde(default = "default_smtp_port")]
    pub(super) smtp_port: u16,
    pub(super) from: String,
    #[serde(default)]
    pub(super) username: Option<String>,
    #[serde(default)]
    pub(super) password: Option<String>,
    #[serde(default = "default_true")]
    pub(super) starttls: bool,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_true() -> bool {
    true
}

/// `[obp]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "an [obp] table")]
pub(super) struct RawObp {
    pub(super) max_access_rows: u64,
}

impl Default for RawObp {
    fn default() -> Self {
        Self {
            max_access_rows: 10_000,
        }
    }
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [server] table")]
pub(super) struct RawServer {
    pub(super) listen: String,
    pub(super) trusted_proxies: Vec<String>,
    pub(super) shutdown_grace_secs: u64,
    pub(super) tls_cert: Option<String>,
    pub(super) tls_key: Option<String>,
    pub(super) max_body_bytes: u64,
    pub(super) max_header_bytes: usize,
    pub(super) header_read_timeout_secs: u64,
    pub(super) idle_timeout_secs: u64,
    pub(super) body_read_timeout_secs: Option<u64>,
    pub(super) max_connections: usize,
    pub(super) max_concurrent_streams: u32,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            trusted_proxies: Vec::new(),
            shutdown_grace_secs: 30,
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 16 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            body_read_timeout_secs: None,
            max_connections: 10_000,
            max_concurrent_streams: 100,
        }
    }
}

/// `[[routes]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[routes]] table")]
pub(super) struct RawRoute {
    pub(super) prefix: String,
    pub(super) upstream: String,
    #[serde(default)]
    pub(super) strip_prefix: bool,
    #[serde(default = "default_auth")]
    pub(super) auth: String,
    #[serde(default = "default_timeout")]
    pub(super) timeout_secs: u64,
    #[serde(default)]
    pub(super) forward_token: bool,
    #[serde(default)]
    pub(super) preserve_host: bool,
    #[serde(default)]
    pub(super) upstream_ca: Option<String>,
    #[serde(default)]
    pub(super) max_body_bytes: Option<u64>,
    #[serde(default)]
    pub(super) account_path: Option<String>,
    #[serde(default)]
    pub(super) require_permission: Option<String>,
    #[serde(default)]
    pub(super) auth_methods: Option<Vec<String>>,
}

fn default_auth() -> String {
    "required".into()
}

fn default_timeout() -> u64 {
    30
}

/// `[store]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [store] table")]
pub(super) struct RawStore {
    pub(super) backend: String,
    pub(super) path: String,
    pub(super) cache_mb: u64,
    pub(super) url: Option<String>,
    pub(super) password_file: Option<String>,
    pub(super) pool_size: usize,
    pub(super) connect_timeout_secs: u64,
    pub(super) statement_timeout_ms: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        Self {
            backend: "sled".into(),
            path: "data/dauth-store".into(),
            cache_mb: 256,
            url: None,
            password_file: None,
            pool_size: 16,
            connect_timeout_secs: 5,
            statement_timeout_ms: 5000,
        }
    }
}

/// One entry of a `public_keys` list: a path, or `{ path, kid }` (nothing else in the table).
#[derive(Debug)]
pub(super) struct RawKey {
    pub(super) path: String,
    pub(super) kid: Option<String>,
}

/// The table form of [`RawKey`].
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table { path = \"...\", kid = \"...\" }"
)]
struct RawKeyTable {
    path: String,
    #[serde(default)]
    kid: Option<String>,
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Form;
        impl<'de> serde::de::Visitor<'de> for Form {
            type Value = RawKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a key file path (\"keys/a.pem\") or a table { path = \"keys/a.pem\", kid = \"k1\" }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, path: &str) -> Result<RawKey, E> {
                Ok(RawKey {
                    path: path.to_owned(),
                    kid: None,
                })
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<RawKey, M::Error> {
                let t =
                    RawKeyTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawKey {
                    path: t.path,
                    kid: t.kid,
                })
            }
        }
        d.deserialize_any(Form)
    }
}

/// `[dauth]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [dauth] table")]
pub(super) struct RawDauth {
    pub(super) enabled: bool,
    pub(super) public_keys: Vec<RawKey>,
    pub(super) allowed_hosts: Vec<String>,
    pub(super) networks: Vec<String>,
    pub(super) max_token_age_secs: u64,
    pub(super) clock_skew_secs: u64,
    pub(super) replay_protection: bool,
    pub(super) replay_capacity: usize,
    pub(super) strict_addresses: bool,
    pub(super) jwks_url: Option<String>,
    pub(super) jwks_ca: Option<String>,
    pub(super) jwks_min_refresh_secs: u64,
    pub(super) jwks_max_refresh_secs: u64,
    pub(super) jwks_max_stale_secs: u64,
    pub(super) jwks_min_refetch_secs: u64,
}

impl Default for RawDauth {
    fn default() -> Self {
        Self {
            enabled: true,
            public_keys: Vec::new(),
            allowed_hosts: vec!["127.0.0.1/32".into(), "::1/128".into()],
            networks: Vec::new(),
            max_token_age_secs: 300,
            clock_skew_secs: 60,
            replay_protection: true,
            replay_capacity: 1_000_000,
            strict_addresses: true,
            jwks_url: None,
            jwks_ca: None,
            jwks_min_refresh_secs: default_min_refresh(),
            jwks_max_refresh_secs: default_max_refresh(),
            jwks_max_stale_secs: default_max_stale(),
            jwks_min_refetch_secs: default_min_refetch(),
        }
    }
}

/// `[log]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [log] table")]
pub(super) struct RawLog {
    pub(super) level: String,
    pub(super) format: String,
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
        }
    }
}
