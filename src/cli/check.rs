//! What `check-config` checks beyond the file: that the listen address can be bound, the
//! store directory created and written (or the PostgreSQL store connected to), and the
//! `[replay]` backend reached, each tried and undone at once. It never opens the store (a
//! running gateway holds its lock) and leaves nothing behind.

use std::io::Write;
use std::path::Path;

use crate::Config;
use crate::config::{ConfigError, Problem};

/// Binds `server.listen` and releases it, then proves `store.path` writable.
pub(super) fn resources(config: &Config) -> Result<(), ConfigError> {
    let fail = |key: &str, why: String| ConfigError {
        file: config.source.clone(),
        key: key.to_owned(),
        problem: Problem::Unavailable(why),
    };
    let addr = config.server.listen;
    drop(
        std::net::TcpListener::bind(addr)
            .map_err(|e| fail("server.listen", format!("cannot listen on {addr}: {e}")))?,
    );
    if let Some(pg) = &config.store.postgres {
        probe_postgres(pg).map_err(|e| {
            fail(
                "store.url",
                format!("{}: cannot connect to the database: {e}", pg.display),
            )
        })?;
    } else {
        let store = &config.store.path;
        writable(store).map_err(|e| {
            fail(
                "store.path",
                format!(
                    "{}: cannot create or write the store directory: {e}",
                    store.display()
                ),
            )
        })?;
    }
    replay_reachable(config).map_err(|why| fail("replay.url", why))
}

/// Connects to the `[replay]` backend and asks it `PING` / `SELECT 1`.
fn replay_reachable(config: &Config) -> Result<(), String> {
    if config.replay.url.is_none() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime for the probe: {e}"))?;
    runtime
        .block_on(crate::store::replay::probe(&config.replay))
        .map_err(|e| format!("cannot reach the {e}"))
}

/// Connects to the PostgreSQL store and runs `SELECT 1` (no migration, nothing written).
fn probe_postgres(pg: &crate::config::PostgresConfig) -> Result<(), String> {
    let rt = super::failure::runtime()?;
    rt.block_on(async {
        let store = crate::store::postgres::PgStore::new(pg).map_err(|e| e.to_string())?;
        let c = tokio::time::timeout(pg.connect_timeout, store.pool().get())
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        c.simple_query("SELECT 1")
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Creates `dir` (and parents) if missing, writes and removes a probe file in it, and removes
/// what it created.
fn writable(dir: &Path) -> std::io::Result<()> {
    let created = crate::fs::first_missing(dir).map(Path::to_owned);
    let probe = dir.join(format!(".dauth-check-config-{}", std::process::id()));
    let attempt = std::fs::create_dir_all(dir).and_then(|()| {
        let written = std::fs::File::create_new(&probe).and_then(|mut f| f.write_all(b"probe"));
        let removed = std::fs::remove_file(&probe);
        written.and(removed)
    });
    let undone = created.map_or(Ok(()), std::fs::remove_dir_all);
    attempt.and(undone)
}
