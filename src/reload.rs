//! Hot reload: on `SIGHUP`, or when the configuration file or a file it names changes (the
//! directories are watched, so an editor's or a deployment's replace-by-rename is seen; changes
//! are debounced), the file is loaded and checked exactly as `check-config` checks it
//! ([`Config::load`]), the new policy is built over the same shared state, and only then
//! swapped in ([`State::install`]). Requests already running finish on their snapshot; the
//! next request, on any connection, sees the new policy.
//!
//! Every attempt is counted in [`crate::state::reloads::ReloadStats`]: `unchanged` when the
//! file and every file it names read as before (nothing is rebuilt), `error` when the new
//! configuration fails a check, or changes a key that only a restart can apply (the message
//! names them, see [`RESTART_ONLY`]): then nothing changes, the old policy keeps serving and the
//! error is logged with the file and key.

mod watch;

use std::path::PathBuf;
use std::sync::Arc;

use tracing::{error, info, warn};

use crate::config::Config;
use crate::state::State;
use crate::state::reloads::ReloadResult;

pub(crate) use watch::spawn;

/// A key that a running gateway cannot change, and how to read it from a configuration:
/// the listener, the store, the shared tables sized at start (caches, replay windows, rate
/// tables, hashing threads, mail), and the log set up once.
type Fixed = (&'static str, fn(&Config) -> String);

/// The keys a reload refuses to change (see [`Fixed`]).
pub const RESTART_ONLY: &[Fixed] = &[
    ("server.listen", |c| c.server.listen.to_string()),
    ("server.max_connections", |c| {
        c.server.max_connections.to_string()
    }),
    ("store.path", |c| c.store.path.display().to_string()),
    ("store.cache_mb", |c| c.store.cache_bytes.to_string()),
    ("cache.tokens", |c| c.cache.tokens.to_string()),
    ("cache.users", |c| c.cache.users.to_string()),
    ("log.level", |c| c.log.level.clone()),
    ("log.format", |c| format!("{:?}", c.log.format)),
    ("dauth.replay_capacity", |c| {
        c.dauth.replay_capacity.to_string()
    }),
    ("wallets.replay_capacity", |c| {
        c.wallets.replay_capacity.to_string()
    }),
    ("accounts.hash_slots", |c| c.accounts.hash_slots.to_string()),
    ("accounts.hash_queue", |c| c.accounts.hash_queue.to_string()),
    ("accounts.mail_queue", |c| c.accounts.mail_queue.to_string()),
    ("mail", |c| format!("{:?}", c.mail)),
    ("limits", |c| format!("{:?}", c.limits)),
    ("airnode.retry_capacity", |c| {
        c.airnodes
            .iter()
            .map(|a| a.retry_capacity)
            .sum::<usize>()
            .to_string()
    }),
    ("airnode.replay_memory_bytes", |c| {
        c.airnodes
            .iter()
            .map(|a| a.replay_memory_bytes)
            .sum::<usize>()
            .to_string()
    }),
];

/// The keys of [`RESTART_ONLY`] whose values differ between `old` and `new`.
pub fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    RESTART_ONLY
        .iter()
        .filter(|(_, read)| read(old) != read(new))
        .map(|(key, _)| *key)
        .collect()
}

/// A digest of the configuration file and every file it names (a missing one counts as
/// such), to tell an unchanged reload from one that must rebuild.
fn fingerprint(source: &std::path::Path, files: &[PathBuf]) -> u128 {
    let contents: Vec<Vec<u8>> = std::iter::once(source)
        .chain(files.iter().map(PathBuf::as_path))
        .map(|p| {
            let mut bytes = p.as_os_str().as_encoded_bytes().to_vec();
            match std::fs::read(p) {
                Ok(content) => {
                    bytes.push(1);
                    bytes.extend(content);
                }
                Err(_) => bytes.push(0),
            }
            bytes
        })
        .collect();
    let parts: Vec<&[u8]> = contents.iter().map(Vec::as_slice).collect();
    crate::cache::digest(&parts)
}

/// Reloads the state's configuration; one reload at a time.
pub struct Reloader {
    state: Arc<State>,
    /// The fingerprint of what is installed; held while a reload runs.
    installed: tokio::sync::Mutex<u128>,
}

impl Reloader {
    /// A reloader for `state`, whose current configuration is what is installed.
    pub fn new(state: Arc<State>) -> Self {
        let config = &state.policy().config;
        let installed = fingerprint(&config.source, &config.files);
        Self {
            state,
            installed: tokio::sync::Mutex::new(installed),
        }
    }

    /// The state it reloads.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// One reload attempt, asked for by `trigger` (`SIGHUP`, `file change`): see the module
    /// docs. Counted and logged; returns how it ended.
    pub async fn reload(&self, trigger: &str) -> ReloadResult {
        let mut installed = self.installed.lock().await;
        let result = self.attempt(trigger, &mut installed).await;
        self.state.shared().reloads.record(result);
        result
    }

    async fn attempt(&self, trigger: &str, installed: &mut u128) -> ReloadResult {
        let old = self.state.policy();
        let source = old.config.source.clone();
        let file = source.display().to_string();
        if fingerprint(&source, &old.config.files) == *installed {
            info!(
                file,
                trigger,
                result = "unchanged",
                generation = old.generation,
                "configuration reload: nothing changed"
            );
            return ReloadResult::Unchanged;
        }
        let new = match Config::load(&source) {
            Ok(new) => new,
            Err(e) => {
                error!(file, key = %e.key, trigger, result = "error", "configuration reload refused, the running configuration is kept: {e}");
                return ReloadResult::Error;
            }
        };
        let fixed = restart_only_changes(&old.config, &new);
        if !fixed.is_empty() {
            let keys = fixed.join(", ");
            error!(file, key = %keys, trigger, result = "error", "configuration reload refused, the running configuration is kept: {file}: {keys}: only a restart can change these keys");
            return ReloadResult::Error;
        }
        for (key, why) in new.warnings() {
            warn!(file, key, "{why}");
        }
        let files = new.files.clone();
        if let Err(e) = self.state.install(new).await {
            error!(
                file,
                trigger,
                result = "error",
                "configuration reload refused, the running configuration is kept: {e}"
            );
            return ReloadResult::Error;
        }
        *installed = fingerprint(&source, &files);
        let generation = self.state.policy().generation;
        info!(
            file,
            trigger,
            result = "ok",
            generation,
            "configuration reloaded"
        );
        ReloadResult::Ok
    }
}
