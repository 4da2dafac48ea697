//! [`Policy`]: what the configuration decides, built from a checked [`Config`] by one function
//! ([`Policy::build`]) and immutable afterwards: the verifiers and their keys, the client
//! registry (configured and stored clients), the issuer, the route table, and the config itself
//! (limits' quotas, accounts, OBP settings, server clocks).
//!
//! The state holds the current policy behind an atomic pointer ([`super::State`]); a request
//! loads it once and keeps that snapshot to its end. A reload builds a new `Policy` from
//! a new `Config` over the same [`Shared`] and swaps it in; requests already running finish on
//! the old one. Each policy has its own `generation`, which keys the verified-token caches, so
//! a token verified by old keys is verified again under new ones.

use crate::auth::airnode::Airnodes;
use crate::auth::clients::{ClientDef, ClientRegistry};
use crate::auth::erc6492::ContractCheck;
use crate::auth::issuer::Issuer;
use crate::auth::remote::{FIRST_FETCH_WAIT, JwksSource, JwksUrlConfig};
use crate::auth::{BearerVerifier, DauthVerifier};
use crate::config::Config;
use crate::error::Error;
use crate::metrics::ready::{KeySource, Loaded};
use crate::proxy::Routes;
use std::sync::Arc;

use super::error::StartError;
use super::shared::Shared;

/// The immutable half of the gateway's state (see the module docs).
pub struct Policy {
    /// Which policy this is: 1 for the first, one more for each built after it.
    pub generation: u64,
    /// The checked configuration.
    pub config: Config,
    /// DAuth tokens: keys and rules.
    pub dauth: DauthVerifier,
    /// Bearer tokens: this gateway's issuer and the trusted external ones.
    pub(crate) bearer: BearerVerifier,
    /// Service clients, configured and stored.
    pub(crate) clients: ClientRegistry,
    /// This gateway's token issuer, when `[issuer]` is configured.
    /// `wallets.rpc_urls`' nodes, for contract accounts' signatures.
    pub(crate) contracts: ContractCheck,
    pub(crate) issuer: Option<Issuer>,
    /// Forwarding routes and their upstream clients.
    pub(crate) routes: Routes,
    /// `[[airnode]]` blocks, with their chains' clients.
    pub(crate) airnodes: Airnodes,
    /// Every JWKS URL source this policy's verifiers read (readiness: each loaded once).
    pub jwks: Vec<Arc<JwksSource>>,
    /// Every source of verification keys, for `/ready` (a JWKS URL is not ready until its
    /// first fetch).
    pub key_sources: Vec<Arc<dyn KeySource>>,
}

impl Policy {
    /// The policy of `config`, number `generation`, over `shared` (its stored clients are read
    /// from the store, its routes' clients taken from the shared pools).
    pub async fn build(
        config: Config,
        shared: &Shared,
        generation: u64,
    ) -> Result<Self, StartError> {
        let stored = shared
            .store
            .clients
            .stored_clients()
            .await
            .map_err(|source| StartError::Store {
                path: config.store.shown(),
                source,
            })?
            .iter()
            .map(|c| ClientDef::from_stored(c).map_err(StartError::StoredClient))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = Routes::new(&config.routes, &shared.upstreams, &shared.metrics)
            .map_err(StartError::UpstreamTls)?;
        let tls = node_tls(&config)?;
        let airnodes = Airnodes::new(&config.airnodes, &tls).map_err(StartError::Chain)?;
        let (dauth_remote, bearer_remotes) = jwks_sources(&config, shared).await?;
        let wallets = &config.wallets;
        let contracts = ContractCheck::new(&wallets.rpc_urls, &tls, wallets.rpc_timeout)
            .map_err(StartError::WalletChain)?;
        shared.metrics.config_generation(generation);
        Ok(Self {
            key_sources: key_sources(&config, dauth_remote.as_ref(), &bearer_remotes),
            airnodes,
            contracts,
            generation,
            jwks: dauth_remote
                .iter()
                .chain(bearer_remotes.iter().flatten())
                .cloned()
                .collect(),
            dauth: DauthVerifier::new(config.dauth.clone()).with_remote(dauth_remote),
            bearer: BearerVerifier::with_remotes(
                config.issuer.as_ref(),
                &config.bearer,
                &bearer_remotes,
            ),
            clients: ClientRegistry::new(&config.clients, stored),
            issuer: config.issuer.clone().map(Issuer::new),
            routes,
            config,
        })
    }

    /// The issuer, or 404 when `[issuer]` is not configured (its endpoints do not exist then).
    pub(crate) fn issuer(&self) -> Result<&Issuer, Error> {
        self.issuer.as_ref().ok_or(Error::NotFound)
    }
}

/// The sources of `[dauth] jwks_url` and of each bearer issuer's URL, from the shared registry
/// (a source already alive is reused with its keys). A new source's first fetch is waited for,
/// up to [`FIRST_FETCH_WAIT`]; one that fails is retried in the background, its tokens
/// answered 503 until it loads.
async fn jwks_sources(
    config: &Config,
    shared: &Shared,
) -> Result<(Option<Arc<JwksSource>>, Vec<Option<Arc<JwksSource>>>), StartError> {
    let mut fresh = Vec::new();
    let mut get = |url: Option<&JwksUrlConfig>| -> Result<Option<Arc<JwksSource>>, StartError> {
        let Some(url) = url else { return Ok(None) };
        let (source, new) = shared.jwks.source(url).map_err(StartError::JwksTls)?;
        if new {
            fresh.push(Arc::clone(&source));
        }
        Ok(Some(source))
    };
    let dauth = get(config.dauth.jwks_url.as_ref())?;
    let bearer = config
        .bearer
        .issuers
        .iter()
        .map(|i| get(i.jwks_url.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    for source in &fresh {
        source.first_attempt(FIRST_FETCH_WAIT).await;
        if !source.loaded() {
            let c = source.config();
            tracing::warn!(key = %c.key, url = %c.url, "JWKS URL not loaded; retrying in the background, its tokens are answered 503 until it loads");
        }
    }
    Ok((dauth, bearer))
}

/// The key sources of `config`, for `/ready`: the key files and inline keys (loaded when the
/// configuration was checked) and each JWKS URL source (ready once its first fetch succeeded).
fn key_sources(
    config: &Config,
    dauth: Option<&Arc<JwksSource>>,
    bearer: &[Option<Arc<JwksSource>>],
) -> Vec<Arc<dyn KeySource>> {
    let mut all: Vec<Arc<dyn KeySource>> = Vec::new();
    if !config.dauth.keys.is_empty() || dauth.is_none() {
        all.push(Arc::new(Loaded("dauth.public_keys".into())));
    }
    if let Some(source) = dauth {
        all.push(Arc::clone(source) as Arc<dyn KeySource>);
    }
    all.extend(
        (0..config.bearer.issuers.len()).map(|i| match bearer.get(i) {
            Some(Some(source)) => Arc::clone(source) as Arc<dyn KeySource>,
            _ => Arc::new(Loaded(format!("bearer.issuers[{i}]"))) as Arc<dyn KeySource>,
        }),
    );
    all
}

/// The TLS client configuration of the EVM nodes (`[[airnode]]` and `wallets.rpc_urls`): one for
/// both, with the system roots loaded only when some node is configured.
fn node_tls(config: &Config) -> Result<rustls::ClientConfig, StartError> {
    let any_node =
        config.airnodes.iter().any(|a| !a.rpc.is_empty()) || !config.wallets.rpc_urls.is_empty();
    let roots = if any_node {
        crate::tls::upstream_roots(&[])
    } else {
        rustls::RootCertStore::empty()
    };
    crate::tls::client_config(roots).map_err(StartError::UpstreamTls)
}
