//! The sled backend: every store trait over one embedded sled database. The only place that
//! touches sled, and the only one that knows its key encodings (`keys`).
//!
//! Trees:
//! - `users`: `user_id` -> JSON [`crate::store::model::User`]; `identities`:
//!   identity key -> `user_id` (see `users`);
//! - `accounts`, `views`, `access`: see `access`;
//! - `profiles`, `codes`, `refresh`: see `local` (and `logins` for the lockout's counter);
//! - `clients`, `client_users`: see `clients`; `assertions`: see `replay`.
//!
//! Every write that touches several rows is one transaction, then a flush before returning, so
//! what a response reveals is on disk before the client sees it (`db`). The one exception is
//! the hot path's get-or-create of a DAuth user: two compare-and-swaps, the identity first, so
//! that concurrent new users share flushes (a sled transaction writes the log out twice); an
//! identity a crash left without its record gets it on the next call (`db::claim_dauth_user`). A reader that finds a
//! record while some write is still flushing flushes too (see `pending`), so it cannot reveal
//! something that is not yet on disk either. Writes run in their own task so a client that hangs
//! up cannot cancel a flush half-way.

mod access;
mod clients;
mod db;
mod dump;
mod flush;
mod keys;
mod local;
mod logins;
mod migrate;
mod open;
mod replay;
mod users;

pub use db::SledStore;
