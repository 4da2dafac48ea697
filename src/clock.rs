//! The gateway's one clock: Unix seconds, read once per request by the pipeline and passed
//! down to everything that judges time (token lifetimes, codes, lockouts, record dates).
//!
//! This module owns reading the system clock and writing a Unix second as RFC 3339; it does not
//! decide what a time means.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A Unix second as RFC 3339 (`2026-01-15T08:00:00Z`), as the users API shows its dates; an
/// out-of-range second as the empty string.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
