//! What `/ready` asks besides the store and the drain: has every key source loaded at least
//! once? A key file is loaded when the policy is built, so it is ready from the start; a
//! source fetched over the network (a JWKS URL) is not until its first fetch succeeds.

use std::sync::Arc;

/// A source of verification keys, as readiness sees it.
pub trait KeySource: Send + Sync {
    /// Its name in `/ready`'s answer: the configuration key it comes from
    /// (`dauth.public_keys`, `bearer.issuers[0].jwks_url`, ...). Never a key or a secret.
    fn name(&self) -> &str;

    /// Whether it has loaded keys at least once.
    fn loaded(&self) -> bool;
}

/// A source that was loaded when the configuration was checked (a key file, inline PEM).
pub struct Loaded(pub String);

impl KeySource for Loaded {
    fn name(&self) -> &str {
        &self.0
    }

    fn loaded(&self) -> bool {
        true
    }
}

/// The names of the sources in `sources` that have not loaded yet.
pub fn not_loaded(sources: &[Arc<dyn KeySource>]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| !s.loaded())
        .map(|s| s.name().to_owned())
        .collect()
}
