//! `[limits]`, `[cache]` and `[obp]`: rates, caches and the account-access row bound.

use super::error::{KeyProblem, Problem};
use super::file::RawLimits;

/// `[cache]`: in-memory caches (0 turns one off).
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Verified DAuth tokens kept (by digest), each until it stops being acceptable.
    pub tokens: usize,
    /// DAuth users kept in memory, so hot callers skip the store.
    pub users: usize,
}

/// `[limits]`: rates (0 turns a limit off) and the verification bound.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Requests per second per caller IP.
    pub per_ip_rps: u32,
    /// Burst per caller IP (default: twice the rate).
    pub per_ip_burst: u32,
    /// Verified DAuth requests per second per `consumer_key`.
    pub per_consumer_rps: u32,
    /// Burst per `consumer_key` (default: twice the rate).
    pub per_consumer_burst: u32,
    /// DAuth verifications waiting or running at once; beyond it, 503.
    pub max_verifications_in_flight: usize,
    /// IPv6 callers are rate-limited by this prefix of their address (IPv4 by the address).
    pub ipv6_prefix_len: u8,
    /// Calls of the anonymous password endpoints (register, login, confirm, both reset calls)
    /// per minute per caller IP, apart from `per_ip_rps`; 0 turns the limit off.
    pub password_per_ip_per_minute: u32,
}

/// `[obp]`: the embedded account-access endpoints.
#[derive(Debug, Clone)]
pub struct ObpConfig {
    /// Most account-access rows one account may have (OBP-30063 beyond it).
    pub max_access_rows: u64,
}

/// `[limits]`.
pub(super) fn limits(l: &RawLimits) -> Result<LimitsConfig, KeyProblem> {
    let invalid = |key: &str, why| (key.to_owned(), Problem::Invalid(why));
    if l.max_verifications_in_flight == 0 {
        return Err(invalid(
            "limits.max_verifications_in_flight",
            "must be at least 1",
        ));
    }
    if !(1..=128).contains(&l.ipv6_prefix_len) {
        return Err(invalid("limits.ipv6_prefix_len", "must be 1 to 128"));
    }
    Ok(LimitsConfig {
        per_ip_rps: l.per_ip_rps,
        per_ip_burst: l.per_ip_burst.unwrap_or(l.per_ip_rps.saturating_mul(2)),
        per_consumer_rps: l.per_consumer_rps,
        per_consumer_burst: l
            .per_consumer_burst
            .unwrap_or(l.per_consumer_rps.saturating_mul(2)),
        max_verifications_in_flight: l.max_verifications_in_flight,
        ipv6_prefix_len: l.ipv6_prefix_len,
        password_per_ip_per_minute: l.password_per_ip_per_minute,
    })
}
