//! The validation steps every backend takes inside its write transactions, written once.
//!
//! A backend reads what a write relies on in its own transaction (sled: keys in a
//! `TransactionalTree`; PostgreSQL: rows under the account's or the profile's row lock), hands
//! what it read to a rule here, and writes only what the rule allows. So what is allowed, which
//! refusal answers and the order in which the checks run are the same on sled and on
//! PostgreSQL; only the reading and writing are each backend's own.
//!
//! - [`access`]: account writes (the account, then the caller's authority), the per-account row
//!   limit of a grant, and the owner count of a revoke;
//! - [`local`]: password users: the login names a profile claims and drops, the profile change
//!   and the confirmation, and what a counted login attempt answers.
//!
//! The rules read no store and write none: they are plain functions over records, tested on
//! their own (`rules/tests.rs`) and through both backends.

pub mod access;
pub mod local;

#[cfg(test)]
mod tests;
