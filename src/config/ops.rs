//! `[admin]` (the admin listener: `/metrics`, `/ready`, `/health`) and `[tracing]` (OTLP span
//! export): the operator's side of the gateway.

use std::net::SocketAddr;

use serde::Deserialize;

use super::error::{KeyProblem, Problem};

/// `[admin]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "an [admin] table")]
pub(super) struct RawAdmin {
    listen: String,
}

impl Default for RawAdmin {
    fn default() -> Self {
        Self {
            listen: DEFAULT_ADMIN_LISTEN.into(),
        }
    }
}

/// Where the admin listener binds unless `admin.listen` says otherwise.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9901";

/// `[tracing]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default, expecting = "a [tracing] table")]
pub(super) struct RawTracing {
    otlp_endpoint: String,
}

/// `[admin]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `admin.listen`: the admin listener's address, `None` when `""` (off).
    pub listen: Option<SocketAddr>,
}

/// `[tracing]`, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TracingConfig {
    /// `tracing.otlp_endpoint`: the OTLP/HTTP collector's base URL (spans go to
    /// `{endpoint}/v1/traces`), `None` when `""` (off, the default).
    pub otlp_endpoint: Option<url::Url>,
}

/// `[admin]`: a socket address or `""`, and never the public listener's.
pub(super) fn admin(raw: &RawAdmin, public: SocketAddr) -> Result<AdminConfig, KeyProblem> {
    let bad = |why| ("admin.listen".to_owned(), Problem::Invalid(why));
    let listen = raw.listen.trim();
    if listen.is_empty() {
        return Ok(AdminConfig { listen: None });
    }
    let addr = listen.parse::<SocketAddr>().map_err(|_| {
        bad("not a socket address such as 127.0.0.1:9901, or \"\" for no admin listener")
    })?;
    if addr.port() != 0 && addr.port() == public.port() {
        return Err(bad(
            "is the public listener's port: the admin endpoints must not be served to clients",
        ));
    }
    Ok(AdminConfig { listen: Some(addr) })
}

/// `[tracing]`: an `http` or `https` URL, or `""`.
pub(super) fn tracing(raw: &RawTracing) -> Result<TracingConfig, KeyProblem> {
    let bad = |why| ("tracing.otlp_endpoint".to_owned(), Problem::Invalid(why));
    let text = raw.otlp_endpoint.trim();
    if text.is_empty() {
        return Ok(TracingConfig::default());
    }
    let url = url::Url::parse(text).map_err(|_| bad("not a URL such as http://127.0.0.1:4318"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("must be an http:// or https:// URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    Ok(TracingConfig {
        otlp_endpoint: Some(url),
    })
}
