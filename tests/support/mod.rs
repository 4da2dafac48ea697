//! Shared test support: real gateways on loopback ports, keys generated per test binary,
//! token minting and small HTTP clients (hyper HTTP/1.1, h2c, and raw bytes).

#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod airnode;
pub mod binary;
pub mod client;
pub mod contracts;
pub mod evm;
pub mod h2raw;
pub mod install;
pub mod jwks;
pub mod otlp;
pub mod postgres;
pub mod redis;
pub mod smtp;
pub mod tls;
pub mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use dauth_proxy::auth::keys::{GeneratedPair, generate_rsa};
use dauth_proxy::auth::mint::{DauthTokenSpec, mint_dauth};
use dauth_proxy::{App, Config, State};
use jsonwebtoken::EncodingKey;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use client::{Reply, get, get_with};

/// A checksummed contract address used across tests.
pub const CONTRACT: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";
/// The same address, lowercase.
pub const CONTRACT_LOWER: &str = "0xd8da6bf26964af9d7eed9e03e53415d37aa96045";

/// Key pairs generated once per test binary, written to a temporary directory.
pub struct Keys {
    /// The pair the gateway trusts.
    pub trusted: GeneratedPair,
    /// A pair the gateway does not trust.
    pub stranger: GeneratedPair,
    /// Directory holding `trusted_public.pem`, `trusted_private.pem`, `stranger_public.pem`.
    pub dir: PathBuf,
    _guard: tempfile::TempDir,
}

/// The per-binary keys.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let guard = tempfile::tempdir().unwrap();
        let dir = guard.path().to_owned();
        let trusted = generate_rsa(2048).unwrap();
        let stranger = generate_rsa(2048).unwrap();
        std::fs::write(dir.join("trusted_public.pem"), &trusted.public_pem).unwrap();
        std::fs::write(dir.join("trusted_private.pem"), &trusted.private_pem).unwrap();
        std::fs::write(dir.join("stranger_public.pem"), &stranger.public_pem).unwrap();
        Keys {
            trusted,
            stranger,
            dir,
            _guard: guard,
        }
    })
}

/// A DAuth token for `contract` on `network`, signed by the trusted key, fresh request id.
pub fn token(contract: &str, network: &str) -> String {
    token_with(&DauthTokenSpec::new(contract, network, "test-consumer"))
}

/// A token for `spec`, signed by the trusted key, dated now.
pub fn token_with(spec: &DauthTokenSpec) -> String {
    sign_with(&keys().trusted.private_pem, spec)
}

/// A token for `spec` signed by the private key in `pem`.
pub fn sign_with(pem: &str, spec: &DauthTokenSpec) -> String {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    mint_dauth(&key, spec, time::OffsetDateTime::now_utc()).unwrap()
}

/// Signs arbitrary JSON claims with the trusted key (RS256).
pub fn sign_claims(claims: &serde_json::Value) -> String {
    let key = EncodingKey::from_rsa_pem(keys().trusted.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

/// A `[[routes]]` table forwarding `prefix` to `upstream` with `auth`, plus `extra` lines.
pub fn route(prefix: &str, upstream: &str, auth: &str, extra: &str) -> String {
    format!("[[routes]]\nprefix = {prefix:?}\nupstream = {upstream:?}\nauth = {auth:?}\n{extra}\n")
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The environment switch that runs a test binary's gateways on PostgreSQL: with
/// `DAUTH_TEST_STORE=postgres`, [`config_text`] and [`Gateway::start`] give each gateway a
/// database of its own on this binary's shared cluster ([`postgres::Postgres::shared`])
/// instead of a sled directory. tests/on_postgres.rs re-runs the integration suite with it.
pub const STORE_SWITCH: &str = "DAUTH_TEST_STORE";

/// Whether this test binary runs its gateways on PostgreSQL ([`STORE_SWITCH`]).
pub fn on_postgres() -> bool {
    std::env::var(STORE_SWITCH).is_ok_and(|v| v == "postgres")
}

/// The `[store]` section for a gateway whose sled directory would be `store`: that directory,
/// or (under [`STORE_SWITCH`]) a new database of the shared cluster.
pub fn store_section(store: &Path) -> String {
    let path = format!("[store]\npath = {:?}\n", store.display().to_string());
    if !on_postgres() {
        return path;
    }
    let db = format!("gw_{}", uuid::Uuid::new_v4().simple());
    let url = postgres::Postgres::shared().create_database(&db);
    format!("{path}backend = \"postgres\"\nurl = {url:?}\n")
}

/// The configuration text every test gateway starts from: loopback port 0, the trusted key,
/// a store in `store`. `extra` is appended (later keys of a section must not repeat these).
pub fn config_text(store: &Path, dauth_extra: &str, extra: &str) -> String {
    config_text_with(store, "", dauth_extra, extra)
}

/// Like [`config_text`], with extra `[server]` lines too.
pub fn config_text_with(
    store: &Path,
    server_extra: &str,
    dauth_extra: &str,
    extra: &str,
) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_secs = 5\n{server_extra}\n\
         {store}\
         [dauth]\npublic_keys = [{key:?}]\n{dauth_extra}\n{extra}\n",
        store = store_section(store),
        key = keys().dir.join("trusted_public.pem").display().to_string(),
    )
}

/// A gateway running in this process on a loopback port, stopped on drop.
pub struct Gateway {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its admin listener listens (`admin.listen`; a free port unless the test's
    /// configuration names one).
    pub admin: Option<SocketAddr>,
    /// Its state (the same the server uses), for what a test observes inside the gateway.
    pub state: Arc<State>,
    /// The store directory.
    pub store_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Gateway {
    /// Starts a gateway with the default test configuration plus `dauth_extra` lines in
    /// `[dauth]` and `extra` sections after it.
    pub async fn start(dauth_extra: &str, extra: &str) -> Self {
        Self::start_with("", dauth_extra, extra).await
    }

    /// Like [`Gateway::start`], with extra `[server]` lines too.
    pub async fn start_with(server_extra: &str, dauth_extra: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let mut gw =
            Self::start_text(&config_text_with(&store, server_extra, dauth_extra, extra)).await;
        gw._dir = Some(dir);
        gw
    }

    /// Starts a gateway from full configuration text.
    pub async fn start_text(text: &str) -> Self {
        Self::start_config(Config::from_toml(text, Path::new("test.toml")).unwrap()).await
    }

    /// Starts a gateway from the configuration file at `path` (which it watches for reloads).
    pub async fn start_file(path: &Path) -> Self {
        Self::start_config(Config::load(path).unwrap()).await
    }

    /// Starts a gateway from a checked configuration. An admin listener left on its default
    /// port moves to a free one: many gateways run at once, and the first would take it.
    pub async fn start_config(mut config: Config) -> Self {
        let default_admin = dauth_proxy::config::DEFAULT_ADMIN_LISTEN.parse().ok();
        if config.admin.listen.is_some() && config.admin.listen == default_admin {
            config.admin.listen = Some("127.0.0.1:0".parse().unwrap());
        }
        let store_dir = config.store.path.clone();
        let app = App::bind(config).await.unwrap();
        let addr = app.local_addr();
        let admin = app.admin_addr();
        let state = Arc::clone(app.state());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            app.run(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            admin,
            state,
            store_dir,
            shutdown: Some(tx),
            task: Some(task),
            _dir: None,
        }
    }

    /// Stops the gateway and waits for it to finish draining. Returns the temporary directory
    /// holding its store (if it made one), so the caller can inspect the store after shutdown.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self._dir.take()
    }

    /// `GET path` with one `DAuth` header.
    pub async fn get_dauth(&self, path: &str, token: &str) -> Reply {
        get_with(self.addr, path, &[("DAuth", token)]).await
    }

    /// `GET /obp/v5.1.0/users/current` with `token`.
    pub async fn current_user(&self, token: &str) -> Reply {
        self.get_dauth("/obp/v5.1.0/users/current", token).await
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
