//! Configuration: the TOML file checked into a typed [`Config`], once, at start-up.
//!
//! Everything that can be checked before serving is checked here: unknown keys, CIDRs, socket
//! addresses, key files (read, parsed and size-checked; never again per request) and
//! combinations that would be insecure. A failure is a [`ConfigError`] naming the file and the
//! key. Relative paths in the file are relative to the file's own directory (`paths`).
//!
//! This module owns the file's shape (`file`) and the checks, one file per group of sections;
//! a section's checked type lives with what it configures when that is below the configuration
//! (the DAuth policy in [`crate::auth::dauth`], bearer issuers in [`crate::auth::bearer`], the
//! issuer in [`crate::auth::issuer`], mail in `crate::mail`) and is re-exported here. It does
//! not build anything that runs: the state does ([`crate::state`]).

mod airnode;
mod dauth;
mod error;
mod file;
mod identity;
mod jwks;
mod limits;
mod ops;
mod paths;
mod replay;
mod routes;
mod server;
mod store;
mod values;
mod wallets;

pub use crate::auth::airnode::AirnodeConfig;
pub use crate::auth::bearer::{BearerConfig, ExternalIssuer};
pub use crate::auth::dauth::DauthConfig;
pub use crate::auth::issuer::IssuerConfig;
pub use crate::mail::MailConfig;
pub use crate::store::replay::{ReplayBackend, ReplayConfig};
pub use error::{ConfigError, Problem};
pub use identity::AccountsConfig;
pub use limits::{CacheConfig, LimitsConfig, ObpConfig};
pub use ops::{AdminConfig, DEFAULT_ADMIN_LISTEN, TracingConfig};
pub use routes::{AuthMode, RouteConfig, Upstream, ViewCheck};
pub use server::{LogConfig, LogFormat, ServerConfig, StoreConfig};
pub use store::{PostgresConfig, redacted};
pub use wallets::{AUTH_METHOD_NAMES, WalletsConfig};

use std::path::{Path, PathBuf};

use crate::net::CidrList;

/// The default configuration file.
pub const DEFAULT_PATH: &str = "config/dauth.toml";

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub source: PathBuf,
    /// Every file it names but the store (keys, JWKS files, certificates, CAs): what a reload
    /// reads and watches beside `source`.
    pub files: Vec<PathBuf>,
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
    /// `[wallets]`
    pub wallets: WalletsConfig,
    /// `[[clients]]`, keys parsed.
    pub clients: Vec<crate::auth::clients::ClientDef>,
    /// `[limits]`
    pub limits: LimitsConfig,
    /// `[cache]`
    pub cache: CacheConfig,
    /// (key, warning) for each configured key that is a shipped development key.
    development_keys: Vec<(String, &'static str)>,
    /// `[[airnode]]`, in file order.
    pub airnodes: Vec<AirnodeConfig>,
    /// `[replay]` (and the shared rate of `[limits]`).
    pub replay: ReplayConfig,
    /// `[admin]`
    pub admin: AdminConfig,
    /// `[tracing]`
    pub tracing: TracingConfig,
}

impl Config {
    /// What is allowed but probably a mistake, as (key, why): `check-config` prints these and
    /// `serve` logs them at start-up.
    /// Each configured key that is one of the development keys of `keys/dev/` is one.
    pub fn warnings(&self) -> Vec<(String, &'static str)> {
        let mut all = self.development_keys.clone();
        all.extend(routes::warnings(&self.routes));
        all.extend(airnode::warnings(&self.airnodes));
        // The store is each replica's own (sled) here; with a shared store backend this is
        // true when `store.backend` is shared.
        all.extend(replay::warnings(
            self.store.postgres.is_some(),
            &self.replay,
        ));
        all
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

    /// Checks configuration `text`; `source` names it in errors, and relative paths in it are
    /// taken from `source`'s directory. Sections are checked in a
    /// fixed order, so a file with several problems is always reported by the same key.
    pub fn from_toml(text: &str, source: &Path) -> Result<Self, ConfigError> {
        let fail = |(key, problem): (String, Problem)| ConfigError {
            file: source.to_owned(),
            key,
            problem,
        };
        let mut raw =
            values::parse(text).map_err(|(key, e)| fail((key, Problem::Syntax(Box::new(e)))))?;
        paths::resolve(&mut raw, source.parent().unwrap_or(Path::new("")));
        let files = paths::named_files(&raw);
        let (listen, trusted_proxies) = server::address(&raw.server).map_err(fail)?;
        let store = server::store(raw.store).map_err(fail)?;
        let log = server::log(&raw.log).map_err(fail)?;
        let dauth = dauth::dauth(raw.dauth).map_err(fail)?;
        let routes = routes::routes(raw.routes).map_err(fail)?;
        let issuer = identity::issuer(raw.issuer).map_err(fail)?;
        let accounts = identity::accounts(raw.accounts).map_err(fail)?;
        let internal_networks =
            values::cidrs("internal.networks", &raw.internal.networks).map_err(fail)?;
        let jwks = |file: &Option<String>| file.is_some();
        let bearer_jwks: Vec<bool> = raw
            .bearer
            .issuers
            .iter()
            .map(|b| jwks(&b.jwks_file))
            .collect();
        let client_jwks: Vec<bool> = raw.clients.iter().map(|c| jwks(&c.jwks_file)).collect();
        let bearer = identity::bearer(raw.bearer, issuer.as_ref()).map_err(fail)?;
        let mail = identity::mail(raw.mail).map_err(fail)?;
        let clients = identity::clients(raw.clients).map_err(fail)?;
        let wallets = wallets::wallets(raw.wallets).map_err(fail)?;
        let limits = limits::limits(&raw.limits).map_err(fail)?;
        let rate = replay::RawSharedRate {
            per_minute: raw.limits.shared_per_consumer_per_minute,
            burst: raw.limits.shared_per_consumer_burst,
        };
        let replay = replay::replay(raw.replay, rate, store.postgres.is_some()).map_err(fail)?;
        let server = server::server(&raw.server, listen, trusted_proxies).map_err(fail)?;
        let development_keys = values::development_keys(
            &dauth.keys,
            issuer.as_ref(),
            &bearer
                .issuers
                .iter()
                .zip(bearer_jwks)
                .map(|(b, j)| (b.keys.as_slice(), j))
                .collect::<Vec<_>>(),
            &clients
                .iter()
                .zip(client_jwks)
                .map(|(c, j)| (c.keys.as_slice(), j))
                .collect::<Vec<_>>(),
        );
        let airnodes = airnode::airnodes(raw.airnode).map_err(fail)?;
        let admin = ops::admin(&raw.admin, listen).map_err(fail)?;
        let tracing = ops::tracing(&raw.tracing).map_err(fail)?;
        Ok(Self {
            source: source.to_owned(),
            files,
            server,
            store,
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
            wallets,
            limits,
            cache: CacheConfig {
                tokens: raw.cache.tokens,
                users: raw.cache.users,
            },
            development_keys,
            airnodes,
            replay,
            admin,
            tracing,
        })
    }
}

#[cfg(test)]
mod tests;
