//! `[[routes]]`: which path prefixes are forwarded where, and how they authenticate.

use std::path::Path;
use std::time::Duration;

use http::uri::{Authority, Scheme};
use rustls_pki_types::CertificateDer;

use super::file::RawRoute;
use super::{KeyProblem, Problem};

/// How a route authenticates callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Unauthenticated requests are refused (401) and never reach the upstream.
    Required,
    /// Credentials are checked when present (bad ones are refused); anonymous requests pass.
    Optional,
    /// No authentication; identity headers are still stripped.
    None,
}

impl AuthMode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::None => "none",
        }
    }
}

/// Where a route forwards to.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host and port.
    pub authority: Authority,
    /// Path prepended to forwarded paths, without a trailing `/` (often empty).
    pub base_path: String,
}

/// One checked `[[routes]]` entry.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// Path prefix matched literally (end it with `/` to match whole segments).
    pub prefix: String,
    /// The backend.
    pub upstream: Upstream,
    /// Remove `prefix` from the forwarded path.
    pub strip_prefix: bool,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Time allowed for the upstream's response head.
    pub timeout: Duration,
    /// Forward the `DAuth` header itself.
    pub forward_token: bool,
    /// Forward the client's `Host` instead of the upstream's authority.
    pub preserve_host: bool,
    /// Extra roots trusted for an `https` upstream, beside the system's.
    pub upstream_ca: Vec<CertificateDer<'static>>,
    /// Request body limit for this route, overriding `server.max_body_bytes`.
    pub max_body_bytes: Option<u64>,
}

pub(super) fn routes(raw: Vec<RawRoute>) -> Result<Vec<RouteConfig>, KeyProblem> {
    let mut out: Vec<RouteConfig> = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("routes[{i}].{field}");
        let invalid = |field: &str, why: &'static str| (key(field), Problem::Invalid(why));
        if !r.prefix.starts_with('/') {
            return Err(invalid("prefix", "must start with /"));
        }
        if out.iter().any(|o| o.prefix == r.prefix) {
            return Err(invalid("prefix", "another route has the same prefix"));
        }
        let upstream = upstream(&r.upstream).map_err(|why| invalid("upstream", why))?;
        let auth = match r.auth.as_str() {
            "required" => AuthMode::Required,
            "optional" => AuthMode::Optional,
            "none" => AuthMode::None,
            _ => {
                return Err(invalid(
                    "auth",
                    "must be \"required\", \"optional\" or \"none\"",
                ));
            }
        };
        if r.timeout_secs == 0 {
            return Err(invalid("timeout_secs", "must be at least 1"));
        }
        let upstream_ca = match &r.upstream_ca {
            Some(path) => crate::tls::read_certs(Path::new(path))
                .map_err(|e| (key("upstream_ca"), Problem::Tls(e)))?,
            None => Vec::new(),
        };
        out.push(RouteConfig {
            prefix: r.prefix,
            upstream,
            strip_prefix: r.strip_prefix,
            auth,
            timeout: Duration::from_secs(r.timeout_secs),
            forward_token: r.forward_token,
            preserve_host: r.preserve_host,
            upstream_ca,
            max_body_bytes: r.max_body_bytes,
        });
    }
    Ok(out)
}

fn upstream(text: &str) -> Result<Upstream, &'static str> {
    const WHY: &str = "must be an http:// or https:// URL with a host, and no query";
    let uri: http::Uri = text.parse().map_err(|_| WHY)?;
    let scheme = uri.scheme().cloned().ok_or(WHY)?;
    if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
        return Err(WHY);
    }
    let authority = uri.authority().cloned().ok_or(WHY)?;
    if uri.query().is_some() || authority.as_str().contains('@') {
        return Err(WHY);
    }
    Ok(Upstream {
        scheme,
        authority,
        base_path: uri.path().trim_end_matches('/').to_owned(),
    })
}
