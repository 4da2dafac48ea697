//! The stored replay window on PostgreSQL: the `replay` table, (scope, id) -> expiry.
//!
//! An id is recorded by one statement, `INSERT ... ON CONFLICT (scope, id) DO UPDATE SET
//! expires_at = EXCLUDED.expires_at WHERE replay.expires_at <= $now`: a row is written (fresh)
//! when the id is new or its entry expired, and nothing is (seen) otherwise, so two replicas
//! given one id cannot both take it. Expired ids are deleted in batches of
//! [`PRUNE_BATCH`] by [`ReplayWindow::prune`], in the background.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;

use crate::store::error::{BackendError, StoreError};
use crate::store::{Replay, ReplayScope, ReplayWindow};

/// Rows deleted per pruning statement.
pub(super) const PRUNE_BATCH: i64 = 10_000;

const RECORD: &str = "INSERT INTO replay (scope, id, expires_at) VALUES ($1, $2, $3) \
     ON CONFLICT (scope, id) DO UPDATE SET expires_at = EXCLUDED.expires_at \
     WHERE replay.expires_at <= $4";

const PRUNE: &str = "DELETE FROM replay WHERE ctid IN \
     (SELECT ctid FROM replay WHERE expires_at <= $1 LIMIT $2)";

/// The replay window in the `replay` table of a PostgreSQL store (migration 0001). Any number
/// of gateways over one database share it.
#[derive(Clone)]
pub struct PgReplay {
    pool: Pool,
    deadline: Duration,
}

impl PgReplay {
    /// The window over `pool` (a pool of [`super::db::PgStore`]'s database), each call bounded
    /// by `deadline`.
    pub fn new(pool: Pool, deadline: Duration) -> Self {
        Self { pool, deadline }
    }

    /// The window over `pool`, each call bounded by 10 seconds.
    pub fn from_pool(pool: Pool) -> Self {
        Self::new(pool, Duration::from_secs(10))
    }

    async fn bounded<T>(
        &self,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.deadline, op)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Backend(BackendError(
                    "the replay window's database did not answer in time".into(),
                )))
            })
    }
}

/// The scope column: a tag and the scope's own id (ids of two scopes never collide).
fn scope_name(scope: ReplayScope<'_>) -> String {
    match scope {
        ReplayScope::Assertion { client_id } => format!("j:{client_id}"),
        ReplayScope::Dauth { consumer_key } => format!("d:{consumer_key}"),
        ReplayScope::Erc8128 { keyid } => format!("e:{keyid}"),
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
        let scope = scope_name(scope);
        self.bounded(async {
            let c = self.pool.get().await?;
            let s = c.prepare_cached(RECORD).await?;
            let written = c.execute(&s, &[&scope, &id, &expires_at, &now]).await?;
            Ok(if written == 1 {
                Replay::Fresh
            } else {
                Replay::Seen
            })
        })
        .await
    }

    async fn prune(&self, now: i64) -> Result<usize, StoreError> {
        let mut pruned = 0usize;
        loop {
            let n = self
                .bounded(async {
                    let c = self.pool.get().await?;
                    Ok(c.execute(PRUNE, &[&now, &PRUNE_BATCH]).await?)
                })
                .await?;
            pruned += usize::try_from(n).unwrap_or(0);
            if n < PRUNE_BATCH as u64 {
                return Ok(pruned);
            }
        }
    }
}
