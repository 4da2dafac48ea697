//! The replay window on Redis: `SET dauth:replay:<kind>:<name>:<id> 1 NX EX <ttl>`, one
//! round trip per id, the key expiring with the token (Redis forgets it; nothing to prune). And
//! the shared per-consumer rate: GCRA in a Lua script on the server's clock.
//!
//! One [`ConnectionManager`] (a multiplexed connection that reconnects in the background) with
//! explicit connect and response timeouts: while Redis is down every call fails within the
//! response timeout (the request answers 503, fail closed) and the manager reconnects when it
//! is back, without a gateway restart.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Charge, ReplayConfig, ServiceUrl, SharedRate, backend, escape, scope_key, ttl_secs};
use crate::store::error::StoreError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

/// GCRA (the generic cell rate algorithm of ITU-T I.371, as a "theoretical arrival time" per
/// key), in microseconds of the server's clock, so replicas with skewed clocks agree. KEYS[1]:
/// the consumer's key; ARGV[1]: the emission interval (µs per request); ARGV[2]: the burst
/// tolerance (µs). Returns {1, 0} when allowed, {0, µs to wait} when not. Commands after
/// `TIME` are replicated as effects (Redis 5+ does so by default, 7+ always).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, allow_at - now}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1)
return {1, 0}
";

/// The Redis window and rate.
pub struct RedisReplay {
    conn: ConnectionManager,
    gcra: redis::Script,
    response_timeout: Duration,
    /// Emission interval and burst tolerance of the shared rate, in µs.
    interval_us: u64,
    tolerance_us: u64,
}

impl RedisReplay {
    /// Connects to `url` within the configured timeouts and checks that Redis answers.
    pub async fn connect(url: &ServiceUrl, config: &ReplayConfig) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.secret()).map_err(backend)?;
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let first = ConnectionManager::new_with_config(client, settings);
        let conn = tokio::time::timeout(config.connect_timeout.saturating_mul(3), first)
            .await
            .map_err(backend)?
            .map_err(backend)?;
        let per_minute = u64::from(config.shared_per_consumer_per_minute.max(1));
        let interval_us = 60_000_000 / per_minute;
        let burst = u64::from(config.shared_per_consumer_burst.max(1));
        let me = Self {
            conn,
            gcra: redis::Script::new(GCRA),
            response_timeout: config.response_timeout,
            interval_us,
            tolerance_us: interval_us.saturating_mul(burst - 1),
        };
        let _: String = me.run(redis::cmd("PING")).await?;
        Ok(me)
    }

    /// Runs one command, bounded by the response timeout.
    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(self.response_timeout, cmd.query_async(&mut conn))
            .await
            .map_err(backend)?
            .map_err(backend)
    }
}

/// The key of `id` in `scope`.
pub fn key(scope: ReplayScope<'_>, id: &str) -> String {
    format!("dauth:replay:{}:{}", scope_key(scope), escape(id))
}

#[async_trait]
impl ReplayWindow for RedisReplay {
    async fn record(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key(scope, id))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs(expires_at, now));
        let set: Option<String> = self.run(cmd).await?;
        Ok(if set.is_some() {
            Replay::Fresh
        } else {
            Replay::Seen
        })
    }

    async fn prune(&self, _now: i64) -> Result<usize, StoreError> {
        // Keys expire on their own.
        Ok(0)
    }
}

#[async_trait]
impl SharedRate for RedisReplay {
    async fn charge(&self, consumer: &str) -> Result<Charge, StoreError> {
        let mut conn = self.conn.clone();
        let mut call = self.gcra.prepare_invoke();
        call.key(format!("dauth:rate:consumer:{}", escape(consumer)))
            .arg(self.interval_us)
            .arg(self.tolerance_us);
        // EVALSHA, and EVAL (loading the script) when the server does not know it yet.
        let (allowed, wait_us): (i64, i64) =
            tokio::time::timeout(self.response_timeout, call.invoke_async(&mut conn))
                .await
                .map_err(backend)?
                .map_err(backend)?;
        Ok(if allowed == 1 {
            Charge::Allowed
        } else {
            let secs = u64::try_from(wait_us).unwrap_or(0).div_ceil(1_000_000);
            Charge::Refused(secs.max(1))
        })
    }
}
