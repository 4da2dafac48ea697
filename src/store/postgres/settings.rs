//! The PostgreSQL store's connection settings, as `[store]` in the configuration checks them
//! (`crate::config`), and how a URL is shown without its password.

use std::time::Duration;

/// The PostgreSQL store's settings.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// Where and as whom to connect (the password included; its `Debug` redacts it).
    pub connect: tokio_postgres::Config,
    /// The URL as messages show it: without its password.
    pub display: String,
    /// Most connections the pool opens (`pool_size`).
    pub pool_size: usize,
    /// The longest wait for a new connection, and for a free one in the pool.
    pub connect_timeout: Duration,
    /// The longest a statement may run (the server's `statement_timeout`).
    pub statement_timeout: Duration,
}

/// `postgres://user@host:port/dbname`, never the password.
pub fn redacted(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}
