//! The replay window on PostgreSQL: the table `dauth_replay (scope, id, expires_at)` of
//! `migrations/postgres/0002_replay_window.sql`, over its own pool (`[replay] url`) or over the
//! PostgreSQL store's ([`PgReplay::over_pool`], the default window of a PostgreSQL store).
//!
//! Recording is the measured rule of issue 13: `INSERT ... ON CONFLICT (scope, id) DO UPDATE
//! SET expires_at = EXCLUDED.expires_at WHERE dauth_replay.expires_at <= $now`, so a row
//! written means first use (or reuse of an expired id), none means a replay; the primary key
//! decides between replicas racing for one id. Ids recorded at the same moment go as one
//! statement over arrays (`unnest`) and one commit ([`crate::store::batch`]): `RETURNING`
//! names the ids written. In a group, an id given twice is written once and its later copies
//! are replays, and rows go in key order, so two groups never wait on each other's rows in
//! opposite orders. Expired rows are deleted in the background in batches of
//! [`PRUNE_BATCH`], never on the request path. Every call is bounded by the response timeout
//! (the wait for its group included), a new connection by the connect timeout, so an outage
//! answers 503 at once.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use tokio_postgres::NoTls;

use super::{ReplayConfig, ServiceUrl, backend, scope_key};
use crate::store::batch::Batcher;
use crate::store::error::StoreError;
use crate::store::{Replay, ReplayScope, ReplayWindow};

/// The table, created if missing (the migration file, applied here until the migration runner
/// applies it).
const SCHEMA: &str = include_str!("../../../migrations/postgres/0002_replay_window.sql");

/// Ids of one group, as arrays; `$4` is the group's earliest `now` (an entry that expired
/// between it and a later call's `now` stays a replay: the careful side).
const RECORD: &str = "INSERT INTO dauth_replay (scope, id, expires_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) \
     ON CONFLICT (scope, id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
     WHERE dauth_replay.expires_at <= $4 \
     RETURNING scope, id";

/// Groups recorded at once, at most (each holds one pooled connection while it runs). Two, not
/// more: more lanes make smaller groups, each a commit of its own (see `store/postgres/onboard.rs`).
const LANES: usize = 2;
/// Ids in one group, at most.
const GROUP: usize = 512;

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
    group: Batcher<Entry, Replay>,
}

/// One id to record.
struct Entry {
    scope: String,
    id: String,
    expires_at: i64,
    now: i64,
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

    /// The window over `pool` (the PostgreSQL store's), whose database has the table (the
    /// store's migrations made it); each call bounded by `response_timeout`.
    pub fn over_pool(pool: Pool, response_timeout: Duration) -> Self {
        let lanes = LANES.min(pool.status().max_size.max(1));
        let (p, limit) = (pool.clone(), response_timeout);
        let group = Batcher::start(lanes, GROUP, move |entries| {
            let p = p.clone();
            async move { record_group(&p, limit, entries).await }
        });
        Self {
            pool,
            response_timeout,
            group,
        }
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
        Ok(Self::over_pool(pool, config.response_timeout))
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
        let entry = Entry {
            scope: scope_key(scope),
            id: id.to_owned(),
            expires_at,
            now,
        };
        tokio::time::timeout(self.response_timeout, self.group.call(entry))
            .await
            .map_err(backend)?
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

/// Records one group of ids in one statement: each first copy of an id that `RETURNING`
/// names is fresh; everything else (a live id, a second copy in the group) is a replay.
async fn record_group(
    pool: &Pool,
    limit: Duration,
    entries: Vec<Entry>,
) -> Result<Vec<Replay>, StoreError> {
    let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        first.entry((e.scope.as_str(), e.id.as_str())).or_insert(i);
    }
    let mut keys: Vec<_> = first.iter().map(|(k, i)| (*k, *i)).collect();
    keys.sort_unstable();
    let scopes: Vec<&str> = keys.iter().map(|((s, _), _)| *s).collect();
    let ids: Vec<&str> = keys.iter().map(|((_, id), _)| *id).collect();
    let expiries: Vec<i64> = keys.iter().map(|(_, i)| entries[*i].expires_at).collect();
    let now = entries.iter().map(|e| e.now).min().unwrap_or(0);
    let client = pool.get().await.map_err(backend)?;
    let work = async {
        let statement = client.prepare_cached(RECORD).await.map_err(backend)?;
        client
            .query(&statement, &[&scopes, &ids, &expiries, &now])
            .await
            .map_err(backend)
    };
    let rows = tokio::time::timeout(limit, work).await.map_err(backend)??;
    let mut written = HashSet::with_capacity(rows.len());
    for row in &rows {
        let scope: &str = row.try_get(0).map_err(backend)?;
        let id: &str = row.try_get(1).map_err(backend)?;
        if let Some(i) = first.get(&(scope, id)) {
            written.insert(*i);
        }
    }
    Ok((0..entries.len())
        .map(|i| {
            if written.contains(&i) {
                Replay::Fresh
            } else {
                Replay::Seen
            }
        })
        .collect())
}
