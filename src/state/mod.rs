//! The gateway's state, in two halves: [`Shared`] (the stores, replay windows, rate tables,
//! caches, mailer, hashing pool and upstream pools), built once and never replaced, and
//! [`Policy`] (everything the configuration decides), immutable, held behind an atomic pointer
//! and loaded once per request.
//!
//! This module owns building both from a [`Config`] and handing out snapshots. It does not
//! serve anything: the server and the pipeline take a [`State`], embedded handlers a [`call::Call`].

pub mod call;
pub mod error;
pub mod policy;
pub mod reloads;
pub mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::store::Stores;
use error::StartError;
use policy::Policy;
use shared::Shared;

/// Both halves (see the module docs). Shared by every connection through an `Arc`; a connection
/// never pins a policy, each request loads the current one.
pub struct State {
    shared: Shared,
    policy: ArcSwap<Policy>,
    generations: AtomicU64,
    /// Held while a policy is built and made current: one build at a time, so a build that
    /// started earlier never replaces one that started later.
    installing: tokio::sync::Mutex<()>,
}

impl State {
    /// The state for `config` over opened `stores`: the shared half, then the first policy.
    pub async fn new(config: Config, stores: Stores) -> Result<Self, StartError> {
        Self::with_replay(config, stores, None).await
    }

    /// As [`State::new`], with the `[replay]` backend's shared window (see
    /// [`Shared::with_replay`]).
    pub async fn with_replay(
        config: Config,
        stores: Stores,
        replay: Option<crate::store::replay::Shared>,
    ) -> Result<Self, StartError> {
        let shared = Shared::with_replay(&config, stores, replay)?;
        let policy = Policy::build(config, &shared, 1).await?;
        Ok(Self {
            shared,
            policy: ArcSwap::from_pointee(policy),
            generations: AtomicU64::new(1),
            installing: tokio::sync::Mutex::new(()),
        })
    }

    /// The shared half.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The current policy: one load per request, kept for the whole request.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Builds the policy of `config` over the same shared half and makes it current: requests
    /// already running keep the snapshot they loaded, the next one (on any connection) sees
    /// the new policy. What a reload does once it has a checked `Config`.
    pub async fn install(&self, config: Config) -> Result<(), StartError> {
        let _one = self.installing.lock().await;
        self.build_and_store(config).await
    }

    /// Builds the current policy again from its own configuration, for what changed outside
    /// it (the stored clients). The configuration is read once the builds before it are done,
    /// so a reload that overlaps it is not undone by the configuration it replaced.
    pub async fn rebuild(&self) -> Result<(), StartError> {
        let _one = self.installing.lock().await;
        let config = self.policy().config.clone();
        self.build_and_store(config).await
    }

    /// Called with `installing` held.
    async fn build_and_store(&self, config: Config) -> Result<(), StartError> {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let policy = Policy::build(config, &self.shared, generation).await?;
        self.policy.store(Arc::new(policy));
        Ok(())
    }
}
