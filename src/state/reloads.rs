//! [`ReloadStats`]: what configuration reloads count, by result, for the metrics
//! (`dauth_config_reloads_total{result}`) and tests. The reload itself is `crate::reload`'s.

use std::sync::atomic::{AtomicU64, Ordering};

/// How a reload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// A new policy was built and swapped in.
    Ok,
    /// The file and every file it names were as before: nothing was swapped.
    Unchanged,
    /// The new configuration failed its checks (or needs a restart): nothing changed.
    Error,
}

impl ReloadResult {
    /// The metric label value: `ok`, `unchanged` or `error`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unchanged => "unchanged",
            Self::Error => "error",
        }
    }
}

/// Reload attempts by result since start.
#[derive(Debug, Default)]
pub struct ReloadStats {
    ok: AtomicU64,
    unchanged: AtomicU64,
    error: AtomicU64,
}

impl ReloadStats {
    /// Attempts that ended with `result`.
    pub fn count(&self, result: ReloadResult) -> u64 {
        self.counter(result).load(Ordering::Relaxed)
    }

    /// Every attempt so far.
    pub fn attempts(&self) -> u64 {
        [
            ReloadResult::Ok,
            ReloadResult::Unchanged,
            ReloadResult::Error,
        ]
        .into_iter()
        .map(|r| self.count(r))
        .sum()
    }

    /// Counts one attempt.
    pub(crate) fn record(&self, result: ReloadResult) {
        self.counter(result).fetch_add(1, Ordering::Relaxed);
    }

    fn counter(&self, result: ReloadResult) -> &AtomicU64 {
        match result {
            ReloadResult::Ok => &self.ok,
            ReloadResult::Unchanged => &self.unchanged,
            ReloadResult::Error => &self.error,
        }
    }
}
