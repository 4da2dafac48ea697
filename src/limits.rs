//! Load limits: request rates per caller IP and per DAuth `consumer_key` (GCRA, `governor`),
//! a rate of its own per caller IP on the anonymous password endpoints, and a bound on DAuth
//! verifications in flight.
//!
//! The password rate (`limits.password_per_ip_per_minute`) exists because each of those calls
//! can cost a 19 MiB, tens-of-milliseconds argon2 hash (or guess a password or a code): the
//! general per-IP rate, meant for cheap requests, would let one caller fill the hashing queue
//! for everyone. Its burst is the per-minute number itself.
//!
//! Over a rate limit a request answers 429 (`OBP-10018`, as OBP does) with `Retry-After`. The
//! verification bound exists because an RSA verify is the one expensive thing a stranger can make
//! the gateway do: a flood of forged tokens queues for the verifier, and beyond
//! `limits.max_verifications_in_flight` further ones are turned away at once (503) instead of
//! piling up. Tokens already verified (the cache) never enter that queue.
//!
//! These rates are each replica's own. One more, optional, is counted by every replica together:
//! `limits.shared_per_consumer_per_minute`, a GCRA on Redis with the server's clock
//! ([`crate::store::replay::redis`]), charged after the replica's own. It is approximate: a
//! request refused by the replica's own rate is not charged, and one charged but then refused
//! by something else is not refunded.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::LimitsConfig;
use crate::error::Error;
use crate::store::replay::{Charge, SharedRate};

/// One keyed limiter, or none when its rate is 0.
struct Keyed<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(rps: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(rps).map(|r| {
            let burst = NonZeroU32::new(burst.max(rps)).unwrap_or(r);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(r).allow_burst(burst))
        });
        Self { limiter }
    }

    fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n)));
        Self { limiter }
    }

    fn check(&self, key: &K) -> Result<(), Error> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Error::TooManyRequests(wait.as_secs().max(1))
        })
    }

    fn tidy(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// Every limit, built once from `[limits]`.
pub(crate) struct Limits {
    per_ip: Keyed<IpAddr>,
    ipv6_prefix_len: u8,
    password_per_ip: Keyed<IpAddr>,
    per_consumer: Keyed<String>,
    verifier: Semaphore,
    in_flight: AtomicUsize,
    max_in_flight: usize,
    /// The per-consumer rate every replica counts together (Redis), when configured.
    shared_consumer: Option<Arc<dyn SharedRate>>,
    /// Where refusals are counted (`dauth_rate_limited_total{kind}`).
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// A place in the verifier: held while a token is verified.
pub(crate) struct VerifySlot<'a> {
    _permit: SemaphorePermit<'a>,
    in_flight: &'a AtomicUsize,
}

impl Drop for VerifySlot<'_> {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Limits {
    /// The limits of a configuration, counting refusals in a registry of their own.
    #[cfg(test)]
    pub(crate) fn new(c: &LimitsConfig) -> Self {
        Self::metered(c, std::sync::Arc::default())
    }

    /// The limits of a configuration, counting refusals in `metrics`.
    pub(crate) fn metered(
        c: &LimitsConfig,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            per_ip: Keyed::new(c.per_ip_rps, c.per_ip_burst),
            ipv6_prefix_len: c.ipv6_prefix_len.min(128),
            password_per_ip: Keyed::per_minute(c.password_per_ip_per_minute),
            per_consumer: Keyed::new(c.per_consumer_rps, c.per_consumer_burst),
            verifier: Semaphore::new(cores),
            in_flight: AtomicUsize::new(0),
            max_in_flight: c.max_verifications_in_flight,
            shared_consumer: None,
            metrics,
        }
    }

    /// These limits with a per-consumer rate shared between replicas, charged after the
    /// replica's own (`limits.shared_per_consumer_per_minute`).
    pub(crate) fn with_shared(mut self, rate: Option<Arc<dyn SharedRate>>) -> Self {
        self.shared_consumer = rate;
        self
    }

    /// Counts a verified DAuth request of `consumer_key` against this replica's rate, then the
    /// shared one: 429 over either; 503 `DAUTH-5070` when the shared rate cannot be asked
    /// (fail closed, as the shared replay window).
    pub(crate) async fn charge_consumer(&self, consumer_key: &str) -> Result<(), Error> {
        self.check_consumer(consumer_key)?;
        let Some(shared) = &self.shared_consumer else {
            return Ok(());
        };
        match shared.charge(consumer_key).await {
            Ok(Charge::Allowed) => Ok(()),
            Ok(Charge::Refused(secs)) => {
                self.metrics.rate_limited("shared_consumer");
                Err(Error::TooManyRequests(secs))
            }
            Err(e) => Err(Error::ReplayUnavailable(e)),
        }
    }

    /// Counts a request from `ip`; 429 over the per-IP rate.
    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<(), Error> {
        let checked = self.per_ip.check(&self.caller_key(ip));
        self.count(checked, "ip")
    }

    /// `checked`, its refusal counted as a rate-limit refusal of `kind`.
    fn count(&self, checked: Result<(), Error>, kind: &'static str) -> Result<(), Error> {
        checked.inspect_err(|_| self.metrics.rate_limited(kind))
    }

    /// The key a caller's address is counted under: an IPv4 address (also IPv4-mapped) as it
    /// is, an IPv6 address truncated to `limits.ipv6_prefix_len` bits. One host commonly holds
    /// a whole /64 and can pick any address in it, so counting full IPv6 addresses would give
    /// it 2^64 fresh limits.
    pub(crate) fn caller_key(&self, ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, self.ipv6_prefix_len)
                .map_or(IpAddr::V6(v6), |net| IpAddr::V6(net.network())),
            v4 => v4,
        }
    }

    /// Counts a call of an anonymous password endpoint from `ip`; 429 over
    /// `limits.password_per_ip_per_minute`. Keyed as [`Limits::check_ip`] keys.
    pub(crate) fn check_password_ip(&self, ip: IpAddr) -> Result<(), Error> {
        let checked = self.password_per_ip.check(&self.caller_key(ip));
        self.count(checked, "password_ip")
    }

    /// Counts a verified DAuth request of `consumer_key`; 429 over the per-consumer rate.
    pub(crate) fn check_consumer(&self, consumer_key: &str) -> Result<(), Error> {
        if self.per_consumer.limiter.is_none() {
            return Ok(());
        }
        let checked = self.per_consumer.check(&consumer_key.to_owned());
        self.count(checked, "consumer")
    }

    /// Waits for a place in the verifier, or refuses at once (503) when
    /// `max_verifications_in_flight` are already waiting or verifying.
    pub(crate) async fn verify_slot(&self) -> Result<VerifySlot<'_>, Error> {
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= self.max_in_flight {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            self.metrics.rate_limited("verifier");
            return Err(Error::VerifierBusy);
        }
        match self.verifier.acquire().await {
            Ok(permit) => Ok(VerifySlot {
                _permit: permit,
                in_flight: &self.in_flight,
            }),
            Err(_) => {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                Err(Error::VerifierBusy)
            }
        }
    }

    /// Forgets idle keys, so the limiters' memory follows the active callers.
    pub(crate) fn tidy(&self) {
        self.per_ip.tidy();
        self.password_per_ip.tidy();
        self.per_consumer.tidy();
    }

    /// How often [`Limits::tidy`] should run.
    pub(crate) const TIDY_EVERY: Duration = Duration::from_secs(60);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ip: u32, consumer: u32, in_flight: usize) -> LimitsConfig {
        LimitsConfig {
            per_ip_rps: ip,
            per_ip_burst: ip,
            per_consumer_rps: consumer,
            per_consumer_burst: consumer,
            max_verifications_in_flight: in_flight,
            ipv6_prefix_len: 64,
            password_per_ip_per_minute: 0,
        }
    }

    #[test]
    fn ipv6_callers_are_counted_by_their_prefix() {
        let l = Limits::new(&config(2, 0, 10));
        // Two addresses of one /64 are one caller: rotating the interface id buys nothing.
        l.check_ip("2001:db8:1:2::1".parse().unwrap()).unwrap();
        l.check_ip("2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap())
            .unwrap();
        assert!(matches!(
            l.check_ip("2001:db8:1:2:dead:beef::7".parse().unwrap()),
            Err(Error::TooManyRequests(_))
        ));
        // The neighbouring /64 is another caller.
        l.check_ip("2001:db8:1:3::1".parse().unwrap()).unwrap();
        // IPv4 (and IPv4-mapped) callers are still counted per address.
        l.check_ip("10.0.0.1".parse().unwrap()).unwrap();
        l.check_ip("10.0.0.2".parse().unwrap()).unwrap();
    }

    #[test]
    fn the_ipv6_prefix_is_configurable() {
        let mut c = config(1, 0, 10);
        c.ipv6_prefix_len = 48;
        let l = Limits::new(&c);
        l.check_ip("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(l.check_ip("2001:db8:1:ffff::1".parse().unwrap()).is_err());
        l.check_ip("2001:db8:2::1".parse().unwrap()).unwrap();
        c.ipv6_prefix_len = 128;
        let l = Limits::new(&c);
        l.check_ip("2001:db8::1".parse().unwrap()).unwrap();
        l.check_ip("2001:db8::2".parse().unwrap()).unwrap();
    }

    #[test]
    fn per_ip_limit_refuses_after_the_burst_and_says_when_to_retry() {
        let l = Limits::new(&config(2, 0, 10));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        l.check_ip(ip).unwrap();
        l.check_ip(ip).unwrap();
        assert!(matches!(l.check_ip(ip), Err(Error::TooManyRequests(s)) if s >= 1));
        l.check_ip("10.0.0.2".parse().unwrap()).unwrap();
        // The mapped form is the same caller.
        assert!(l.check_ip("::ffff:10.0.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn the_password_rate_is_per_ip_and_apart_from_the_general_one() {
        let l = Limits::new(&LimitsConfig {
            password_per_ip_per_minute: 3,
            ..config(1000, 0, 10)
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            l.check_password_ip(ip).unwrap();
        }
        assert!(matches!(l.check_password_ip(ip), Err(Error::TooManyRequests(s)) if s >= 1));
        assert!(
            l.check_password_ip("::ffff:10.0.0.1".parse().unwrap())
                .is_err()
        );
        l.check_password_ip("10.0.0.2".parse().unwrap()).unwrap();
        l.check_ip(ip).unwrap();
    }

    #[test]
    fn zero_disables_a_limit() {
        let l = Limits::new(&config(0, 0, 10));
        for _ in 0..1000 {
            l.check_ip("10.0.0.1".parse().unwrap()).unwrap();
            l.check_consumer("ck").unwrap();
        }
    }

    #[tokio::test]
    async fn verifier_turns_away_beyond_its_bound() {
        let l = Limits::new(&config(0, 0, 1));
        let held = l.verify_slot().await.unwrap();
        assert!(matches!(l.verify_slot().await, Err(Error::VerifierBusy)));
        drop(held);
        assert!(l.verify_slot().await.is_ok());
    }
}
