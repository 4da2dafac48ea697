//! dauth-proxy: an authentication gateway for smart-contract callers.
//!
//! A request's path through the crate:
//! [`server`] accepts a connection -> [`pipeline`] routes, resolves the caller's IP ([`net`]),
//! authenticates ([`auth`], users from [`store`]) and answers from an embedded handler ([`api`]).
//! Everything is configured once from [`config`] into the shared [`app::State`]; every failure
//! is an [`Error`] with a stable code and status.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod fs;
pub mod http;
pub mod limits;
pub mod mail;
pub mod net;
pub mod obp;
pub mod oidc;
pub mod path;
pub mod people;
pub mod pipeline;
pub mod proxy;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;

pub use app::App;
pub use config::Config;
pub use error::Error;
pub use state::State;
