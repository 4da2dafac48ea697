//! [`Reloader`]: one reload attempt, from the file to the swapped policy (see the module
//! docs of `crate::reload`).

use std::path::PathBuf;
use std::sync::Arc;

use tracing::{error, info, warn};

use super::fixed::restart_only_changes;
use crate::config::Config;
use crate::state::State;
use crate::state::reloads::ReloadResult;

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
        self.state.shared().metrics.reload(result.label());
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
