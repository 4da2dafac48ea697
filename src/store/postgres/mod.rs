//! The PostgreSQL backend: every store trait over one database, so several gateway replicas
//! share their users, access rows, clients and used ids.
//!
//! Tables are those of `migrations/postgres/` (applied by `migrate` at start-up). The rules
//! that make replicas agree were measured, not guessed (README "Several replicas"):
//! - a DAuth user is got-or-created as hot cache -> `SELECT` -> `INSERT ... ON CONFLICT DO
//!   NOTHING RETURNING` -> `SELECT` when the insert returned nothing (`users`); a one-statement
//!   CTE is not safe under races, its `SELECT` reads the statement's snapshot; users wanted at
//!   the same moment go through those steps together, one statement each (`onboard`);
//! - access writes lock the account row (`SELECT ... FOR UPDATE`) and re-count in the same
//!   transaction (`access`);
//! - a refresh rotation is one `UPDATE ... WHERE jti = $old RETURNING`; zero rows ends the
//!   family, so a token rotated on one replica is reuse on another (`local`);
//! - a login attempt is counted by one atomic `UPDATE` (`logins`);
//! - every session runs with `synchronous_commit = on`: a commit acknowledged is on disk;
//! - used ids (client-assertion jtis, DAuth request ids) are the `[replay]` window's own table
//!   and code (`store::replay::postgres`, over this store's pool).
//!
//! A failing database is a [`StoreError`](crate::store::error::StoreError) (503 `DAUTH-5030`):
//! a connection is waited for at most `connect_timeout`, and every call is bounded by
//! `statement_timeout` plus that, so a request never hangs on a dead database. Stored clients
//! changed by `admin client` reach every replica by `NOTIFY` (`notify`).

mod access;
mod clients;
mod copy;
mod db;
mod local;
mod logins;
pub mod migrate;
pub mod notify;
mod onboard;
mod rows;
mod settings;
mod users;

pub use db::PgStore;
pub use settings::{PostgresConfig, redacted};
