//! The schema: versioned SQL files under `migrations/postgres/`, embedded in the binary and
//! applied in order at start-up (and by `dauth-proxy admin migrate`).
//!
//! All of it runs in one transaction under `pg_advisory_xact_lock`, so replicas starting
//! together do not race: the first applies, the others wait and then find nothing to do. Each
//! applied file is recorded in `schema_migrations` with the SHA-256 of its text; a recorded
//! file whose text changed since, or a version this binary does not know (a newer gateway
//! migrated), refuses the start rather than run on a schema nobody checked.

use deadpool_postgres::Pool;

use crate::store::error::StoreError;

/// One migration: its version, its name (the file's stem) and its SQL.
pub struct Migration {
    /// Applied in increasing order.
    pub version: i32,
    /// The file name without `.sql`.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial",
        sql: include_str!("../../../migrations/postgres/0001_initial.sql"),
    },
    // The `[replay]` window's table for a database of its own (`replay.url`); idempotent,
    // since that window also applies it on a database that is not a store.
    Migration {
        version: 2,
        name: "0002_replay_window",
        sql: include_str!("../../../migrations/postgres/0002_replay_window.sql"),
    },
    // The store's own ids move into `dauth_replay`: one table, one rule.
    Migration {
        version: 3,
        name: "0003_one_replay_table",
        sql: include_str!("../../../migrations/postgres/0003_one_replay_table.sql"),
    },
];

/// The advisory lock key the migrations hold (any constant; "dauthmig" in ASCII).
const LOCK_KEY: i64 = 0x6461_7574_686d_6967;

/// Hex SHA-256 of a migration's text.
pub fn checksum(sql: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, sql.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies the migrations not yet applied; returns the names applied now.
pub async fn apply(pool: &Pool) -> Result<Vec<&'static str>, StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             checksum text NOT NULL,
             applied_at bigint NOT NULL)",
    )
    .await?;
    let applied = tx
        .query("SELECT version, name, checksum FROM schema_migrations", &[])
        .await?;
    let mut done = Vec::new();
    for row in &applied {
        let (version, name, sum): (i32, String, String) = (row.get(0), row.get(1), row.get(2));
        match MIGRATIONS.iter().find(|m| m.version == version) {
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {name} (version {version}), which this \
                     gateway does not know: a newer gateway migrated it"
                )));
            }
            Some(m) if checksum(m.sql) != sum => {
                return Err(StoreError::Migration(format!(
                    "migration {} was changed after it was applied (recorded checksum {sum}, \
                     this gateway's {}); refusing to run on an unchecked schema",
                    m.name,
                    checksum(m.sql)
                )));
            }
            Some(_) => done.push(version),
        }
    }
    let mut now_applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        tx.batch_execute(m.sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
            &[&m.version, &m.name, &checksum(m.sql), &crate::clock::now()],
        )
        .await?;
        now_applied.push(m.name);
    }
    tx.commit().await?;
    Ok(now_applied)
}
