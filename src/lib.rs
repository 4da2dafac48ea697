//! dauth-proxy: an authentication gateway for smart-contract callers.
//!
//! A request's path through the crate:
//! [`server`] accepts a connection -> [`pipeline`] routes, resolves the caller's IP ([`net`]),
//! authenticates ([`auth`], users from [`store`]) and answers from an embedded handler ([`api`]).
//! Everything is configured once from [`config`] into the shared [`app::State`]; every failure
//! is an [`Error`] with a stable code and status.

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod body;
pub mod cache;
pub mod chain;
pub mod cli;
pub mod clients;
pub mod config;
pub mod error;
pub mod identity;
pub mod limits;
pub mod net;
pub mod path;
pub mod pipeline;
pub mod proxy;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod views;

pub use app::{App, State};
pub use config::Config;
pub use error::Error;
