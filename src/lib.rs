//! dauth-proxy: an authentication gateway for smart-contract callers (DAuth), people and
//! services.
//!
//! The crate is layered, top to bottom, and no module uses one above it (`tools/modgraph`
//! checks that there is no import cycle, `tests/architecture.rs` the order; ARCHITECTURE.md
//! draws it):
//! - [`cli`] (the command line) and `app` (the composition root: [`App`] binds and runs);
//! - [`reload`]: `SIGHUP` and file changes rebuild the policy and swap it in;
//! - `server`: connections, TLS, HTTP/1.1 and HTTP/2, their clocks;
//! - [`pipeline`]: the request's steps: path and head checks, the endpoint or route,
//!   authentication, dispatch, the log line;
//! - the products, each a folder: `obp` (OBP accounts and views), [`people`] (the password user
//!   service), `oidc` (service clients, the token endpoint, the users API), `wallets` (SIWE),
//!   [`openapi`] (the OpenAPI document of the embedded endpoints);
//! - [`state`]: [`State`] = [`state::shared::Shared`] (built once) + [`state::policy::Policy`]
//!   (built from a [`Config`], swapped atomically, loaded once per request);
//! - [`proxy`] and `limits`, then [`config`], then [`auth`] and `mail`;
//! - the base: [`store`] (traits, records, the sled backend), [`net`], [`http`], [`path`],
//!   [`error`] (the one public [`Error`] table), `tls`, `cache`, [`clock`], `fs`.
//!
//! The library exposes what the binary, the tests, the benchmarks and the fuzz targets use;
//! everything else is crate-private.

#![forbid(unsafe_code)]

mod app;
pub mod auth;
mod cache;
pub mod chain;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
mod fs;
pub mod http;
mod limits;
mod mail;
pub mod metrics;
pub mod net;
mod obp;
mod oidc;
pub mod openapi;
pub mod path;
pub mod people;
pub mod pipeline;
pub mod proxy;
pub mod reload;
mod server;
pub mod state;
pub mod store;
mod tls;
mod wallets;

pub use app::App;
pub use config::Config;
pub use error::Error;
pub use state::State;
