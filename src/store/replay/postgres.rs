//! The replay window on PostgreSQL: the table `dauth_replay (scope, id, expires_at)` of
//! `migrations/postgres/0002_replay_window.sql`, one statement per id, over its own pool.
//!
//! Recording is the measured rule of issue 13: `INSERT ... ON CONFLICT (scope, id) DO UPDATE
//! SET expires_at = EXCLUDED.expires_at WHERE dauth_replay.expires_at <= $now`, so one row
//! changed means first use (or reuse of an expired id), none means a replay; the primary key
//! decides between replicas racing for one id. Expired rows are deleted in the background in
//! batches of [`PRUNE_BATCH`], never on the request path. Every call is bounded: the wait for
//! a free connection and each statement by the response timeout, a new connection by the
//! connect timeout, so an outage answers 503 at once.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

use super::{ReplayConfig, ServiceUrl, backend, scope_key};
use crate::store::error::StoreError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

/// The table, created if missing (the migration file, applied here until the migration runner
/// applies it).
const SCHEMA: &str = include_str!("../../../migrations/postgres/0002_replay_window.sql");

const RECORD: &str = "INSERT INTO dauth_replay (scope, id, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (scope, id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
     WHERE dauth_replay.expires_at <= $4";

const PRUNE: &str = "DELETE FROM dauth_replay WHERE ctid = ANY (ARRAY( \
     SELECT ctid FROM dauth_replay WHERE expires_at <= $1 LIMIT 10000))";

/// Rows one pruning statement deletes at most.
pub const PRUNE_BATCH: u64 = 10_000;

/// Longest one pruning statement may take (it runs in the background).
const PRUNE_TIMEOUT: Duration = Duration::from_secs(30);

/// Most batches one background pass deletes (the rest waits for the next pass).
const PRUNE_PASSES: usize = 100;

/// The PostgreSQL window.
pub struct PgReplay {
    pool: Pool,
    response_timeout: Duration,
}

/// Connects to `url` and runs `SELECT 1`, changing nothing.
pub(super) async fn probe(url: &ServiceUrl, config: &ReplayConfig) -> Result<(), StoreError> {
    let me = PgReplay::pool(url, config)?;
    let limit = config
        .connect_timeout
        .saturating_add(config.response_timeout);
    let work = async {
        let client = me.pool.get().await.map_err(backend)?;
        client.batch_execute("SELECT 1").await.map_err(backend)
    };
    tokio::time::timeout(limit, work).await.map_err(backend)?
}

impl PgReplay {
    /// Builds the pool for `url`, connects once and creates the table if needed.
    pub async fn connect(url: &ServiceUrl, config: &ReplayConfig) -> Result<Self, StoreError> {
        let me = Self::pool(url, config)?;
        let limit = config
            .connect_timeout
            .saturating_add(config.response_timeout);
        let work = async {
            let client = me.pool.get().await.map_err(backend)?;
            client.batch_execute(SCHEMA).await.map_err(backend)
        };
        tokio::time::timeout(limit, work).await.map_err(backend)??;
        Ok(me)
    }

    /// The window over a pool for `url` that has not connected yet.
    fn pool(url: &ServiceUrl, config: &ReplayConfig) -> Result<Self, StoreError> {
        let mut pg = tokio_postgres::Config::from_str(url.secret()).map_err(backend)?;
        pg.connect_timeout(config.connect_timeout);
        pg.application_name("dauth-proxy replay");
        if !config.synchronous_commit {
            let options = match pg.get_options() {
                Some(given) => format!("{given} -c synchronous_commit=off"),
                None => "-c synchronous_commit=off".to_owned(),
            };
            pg.options(&options);
        }
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(config.response_timeout),
                create: Some(config.connect_timeout),
                recycle: Some(config.response_timeout),
            })
            .build()
            .map_err(backend)?;
        Ok(Self {
            pool,
            response_timeout: config.response_timeout,
        })
    }

    /// Runs `sql` with `params` on a pooled connection (the pool's wait bounded by its own
    /// timeouts), the statement bounded by `limit`; returns the rows changed.
    async fn execute(
        &self,
        limit: Duration,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        // The pool bounds its own wait: a free connection within the response timeout, a new
        // one within the connect timeout, so a cold pool's first burst (each new connection's
        // authentication) is not counted against the statement's time.
        let client = self.pool.get().await.map_err(backend)?;
        let work = async {
            let statement = client.prepare_cached(sql).await.map_err(backend)?;
            client.execute(&statement, params).await.map_err(backend)
        };
        tokio::time::timeout(limit, work).await.map_err(backend)?
    }
}

#[async_trait]
impl ReplayWindow for PgReplay {
    async fn record(
        &self,
        scope: ReplayScope<'_>,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Replay, StoreError> {
        let scope = scope_key(scope);
        let changed = self
            .execute(
                self.response_timeout,
                RECORD,
                &[&scope, &id, &expires_at, &now],
            )
            .await?;
        Ok(if changed == 1 {
            Replay::Fresh
        } else {
            Replay::Seen
        })
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        let mut total = 0u64;
        for _ in 0..PRUNE_PASSES {
            let deleted = self.execute(PRUNE_TIMEOUT, PRUNE, &[&now]).await?;
            total = total.saturating_add(deleted);
            if deleted < PRUNE_BATCH {
                break;
            }
        }
        Ok(usize::try_from(total).unwrap_or(usize::MAX))
    }
}
