//! [`Shared`]: what every request of the gateway's life shares and changes, built once at
//! start-up and never replaced. A new policy ([`super::policy`]) is built over the same
//! `Shared`, so a reload keeps the replay window, the rate counts, the caches, the hashing
//! threads, the mail queue and the upstream connection pools.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::passwords::Hasher;
use crate::auth::replay::ReplayGuard;
use crate::auth::{BearerClaims, VerifiedDauth};
use crate::cache::BoundedCache;
use crate::config::Config;
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::mail::outbox::ResetQueue;
use crate::proxy::Upstreams;
use crate::store::retry::{MemoryRetries, RetryRecord};
use crate::store::{ReplayWindow, Stores};

use super::error::StartError;

/// The mutable half of the gateway's state (see the module docs).
pub struct Shared {
    /// Every store, as trait objects.
    pub store: Stores,
    /// ERC-8128 (keyid, nonce) pairs already accepted (in memory, bounded:
    /// `wallets.replay_capacity`).
    pub(crate) wallet_replay: Arc<dyn ReplayWindow>,
    /// Issued SIWE nonces (in memory, bounded: `wallets.replay_capacity`).
    pub(crate) siwe_nonces: Arc<dyn crate::store::nonces::SiweNonces>,
    /// DAuth `request_id`s already accepted (in memory, bounded: `dauth.replay_capacity`; or
    /// the `[replay]` backend's window, shared with the other replicas).
    pub(crate) dauth_replay: Arc<dyn ReplayWindow>,
    /// Airnode request ids and their first answers (in memory, bounded by the blocks'
    /// `retry_capacity` and `replay_memory_bytes`).
    pub airnode_retries: Arc<dyn RetryRecord>,
    /// Rate tables and the verification bound (`[limits]`).
    pub(crate) limits: Limits,
    /// Verified DAuth tokens, by digest of the policy generation and the token: an entry never
    /// outlives the keys that verified it.
    pub(crate) dauth_tokens: BoundedCache<Arc<VerifiedDauth>>,
    /// Verified bearer tokens, keyed likewise.
    pub(crate) bearer_tokens: BoundedCache<Arc<BearerClaims>>,
    /// Outgoing mail.
    pub(crate) mailer: Mailer,
    /// Password hashing: its threads and bounded queue.
    pub(crate) passwords: Hasher,
    /// Password resets waiting for their lookup and mail (see [`crate::people::reset`]).
    pub(crate) resets: ResetQueue,
    /// The upstream clients' connection pools.
    pub(crate) upstreams: Upstreams,
    /// What the server counts about its connections.
    pub connections: Connections,
    /// What reloads count (see [`crate::state::reloads`]).
    pub reloads: super::reloads::ReloadStats,
    /// The JWKS URL sources in use, by configuration: kept across reloads.
    pub jwks: crate::auth::remote::JwksSources,
    /// The metrics registry (`dauth_*`), served by the admin listener.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What the server counts about its connections (read by tests; not metrics).
#[derive(Debug, Default)]
pub struct Connections {
    parks: AtomicU64,
    draining: std::sync::atomic::AtomicBool,
}

impl Connections {
    /// How many times an HTTP/1 connection has been parked (see `server/h1.rs`) since start.
    pub fn parks(&self) -> u64 {
        self.parks.load(Ordering::Relaxed)
    }

    /// A connection was parked.
    pub(crate) fn parked(&self) {
        self.parks.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the server has stopped accepting and is draining (`/ready` answers 503).
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// The server stopped accepting: it drains from now on.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    /// The shared state for the first configuration, over opened stores, with the replicas'
    /// own replay windows.
    pub fn new(config: &Config, store: Stores) -> Result<Self, StartError> {
        Self::with_replay(config, store, None)
    }

    /// As [`Shared::new`]; with `replay` (the `[replay]` backend, opened) the DAuth and the
    /// client-assertion windows are both the shared one, and the shared per-consumer rate is
    /// charged.
    pub fn with_replay(
        config: &Config,
        mut store: Stores,
        replay: Option<crate::store::replay::Shared>,
    ) -> Result<Self, StartError> {
        let a = &config.accounts;
        // Counted only when the admin listener can serve it (see `metrics`).
        let metrics = Arc::new(crate::metrics::Metrics::new(
            &crate::metrics::EMBEDDED_ENDPOINTS,
            config.admin.listen.is_some(),
        ));
        let dauth_replay: Arc<dyn ReplayWindow> = match &replay {
            Some(shared) => {
                store.assertions = Arc::clone(&shared.window);
                Arc::clone(&shared.window)
            }
            None => Arc::new(ReplayGuard::new(config.dauth.replay_capacity)),
        };
        let rate = replay.and_then(|r| r.rate);
        Ok(Self {
            store,
            wallet_replay: Arc::new(ReplayGuard::new(config.wallets.replay_capacity)),
            siwe_nonces: Arc::new(crate::store::nonces::MemoryNonces::new(
                config.wallets.replay_capacity,
            )),
            dauth_replay,
            airnode_retries: Arc::new(MemoryRetries::new(
                config.airnodes.iter().map(|a| a.retry_capacity).sum(),
                config.airnodes.iter().map(|a| a.replay_memory_bytes).sum(),
            )),
            limits: Limits::metered(&config.limits, Arc::clone(&metrics)).with_shared(rate),
            dauth_tokens: BoundedCache::new(config.cache.tokens),
            bearer_tokens: BoundedCache::new(config.cache.tokens),
            mailer: Mailer::new(config.mail.as_ref()).map_err(StartError::Mail)?,
            passwords: Hasher::new(a.hash_slots, a.hash_queue).map_err(StartError::Threads)?,
            resets: ResetQueue::new(a.mail_queue),
            upstreams: Upstreams::new(),
            connections: Connections::default(),
            reloads: super::reloads::ReloadStats::default(),
            jwks: crate::auth::remote::JwksSources::new(Arc::clone(&metrics)),
            metrics,
        })
    }
}
