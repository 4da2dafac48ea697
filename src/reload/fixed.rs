//! The keys a reload refuses to change: what the shared state was sized or opened with at
//! start, and the log set up once.

use crate::config::Config;

/// A key that a running gateway cannot change, and how to read it from a configuration:
/// the listener, the store, the shared tables sized at start (caches, replay windows, rate
/// tables, hashing threads, mail), and the log set up once.
type Fixed = (&'static str, fn(&Config) -> String);

/// The keys a reload refuses to change (see [`Fixed`]).
pub const RESTART_ONLY: &[Fixed] = &[
    ("server.listen", |c| c.server.listen.to_string()),
    // TLS on or off: the listener's acceptor is made once (its certificate is reloadable).
    ("server.tls_cert", |c| c.server.tls.is_some().to_string()),
    ("server.max_connections", |c| {
        c.server.max_connections.to_string()
    }),
    ("store.path", |c| c.store.path.display().to_string()),
    ("store.cache_mb", |c| c.store.cache_bytes.to_string()),
    ("store.backend", |c| c.store.postgres.is_some().to_string()),
    // The URL without its password (the password itself is not kept in a comparison string).
    ("store.url", |c| {
        c.store
            .postgres
            .as_ref()
            .map(|p| p.display.clone())
            .unwrap_or_default()
    }),
    ("store.pool_size", |c| {
        c.store
            .postgres
            .as_ref()
            .map_or(0, |p| p.pool_size)
            .to_string()
    }),
    ("store.connect_timeout_secs", |c| {
        format!("{:?}", c.store.postgres.as_ref().map(|p| p.connect_timeout))
    }),
    ("store.statement_timeout_ms", |c| {
        format!(
            "{:?}",
            c.store.postgres.as_ref().map(|p| p.statement_timeout)
        )
    }),
    ("cache.tokens", |c| c.cache.tokens.to_string()),
    ("cache.users", |c| c.cache.users.to_string()),
    ("log.level", |c| c.log.level.clone()),
    ("log.format", |c| format!("{:?}", c.log.format)),
    ("dauth.replay_capacity", |c| {
        c.dauth.replay_capacity.to_string()
    }),
    ("wallets.replay_capacity", |c| {
        c.wallets.replay_capacity.to_string()
    }),
    ("accounts.hash_slots", |c| c.accounts.hash_slots.to_string()),
    ("accounts.hash_queue", |c| c.accounts.hash_queue.to_string()),
    ("accounts.mail_queue", |c| c.accounts.mail_queue.to_string()),
    ("mail", |c| format!("{:?}", c.mail)),
    ("limits", |c| format!("{:?}", c.limits)),
    ("airnode.retry_capacity", |c| {
        c.airnodes
            .iter()
            .map(|a| a.retry_capacity)
            .sum::<usize>()
            .to_string()
    }),
    ("airnode.replay_memory_bytes", |c| {
        c.airnodes
            .iter()
            .map(|a| a.replay_memory_bytes)
            .sum::<usize>()
            .to_string()
    }),
];

/// The keys of [`RESTART_ONLY`] whose values differ between `old` and `new`.
pub fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    RESTART_ONLY
        .iter()
        .filter(|(_, read)| read(old) != read(new))
        .map(|(key, _)| *key)
        .collect()
}
