//! `[[routes]]`: which path prefixes are forwarded where, and how they authenticate.

use std::path::Path;
use std::time::Duration;

use http::uri::{Authority, Scheme};
use rustls_pki_types::CertificateDer;

use super::error::{KeyProblem, Problem};
use super::file::RawRoute;

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
    /// A view check: forward only callers holding a view with this permission on the account
    /// the path names.
    pub view_check: Option<ViewCheck>,
    /// The authentication methods the route accepts (`auth_methods`, names as
    /// `X-DAuth-Auth-Method` says them); `None`: every enabled one.
    pub auth_methods: Option<Vec<&'static str>>,
}

/// `account_path` + `require_permission`.
#[derive(Debug, Clone)]
pub struct ViewCheck {
    /// The pattern's segments; `{BANK_ID}` and `{ACCOUNT_ID}` are captured.
    pub pattern: Vec<String>,
    /// A trailing `/` in the pattern: longer paths match too.
    pub prefix: bool,
    /// The `can_*` permission required.
    pub permission: String,
}

impl ViewCheck {
    /// (bank, account) named by `path`, if it fits the pattern.
    pub fn account_of<'p>(&self, path: &'p str) -> Option<(&'p str, &'p str)> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if segments.len() < self.pattern.len()
            || (!self.prefix && segments.len() != self.pattern.len())
        {
            return None;
        }
        let (mut bank, mut account) = (None, None);
        for (want, got) in self.pattern.iter().zip(&segments) {
            match want.as_str() {
                "{BANK_ID}" => bank = Some(*got),
                "{ACCOUNT_ID}" => account = Some(*got),
                literal if literal == *got => {}
                _ => return None,
            }
        }
        Some((bank?, account?))
    }
}

fn view_check(
    r: &RawRoute,
    auth: AuthMode,
) -> Result<Option<ViewCheck>, (&'static str, &'static str)> {
    let (path, permission) = match (&r.account_path, &r.require_permission) {
        (None, None) => return Ok(None),
        (Some(p), Some(perm)) => (p, perm),
        (Some(_), None) => {
            return Err((
                "require_permission",
                "account_path and require_permission go together",
            ));
        }
        (None, Some(_)) => {
            return Err((
                "account_path",
                "account_path and require_permission go together",
            ));
        }
    };
    if crate::store::model::permissions::index(permission).is_none() {
        return Err(("require_permission", "not a known can_* permission"));
    }
    if auth != AuthMode::Required {
        return Err((
            "auth",
            "a route with require_permission must have auth = \"required\"",
        ));
    }
    let body = path
        .strip_prefix('/')
        .ok_or(("account_path", "must start with /"))?;
    let prefix = body.ends_with('/');
    let pattern: Vec<String> = body
        .trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let count = |p: &str| pattern.iter().filter(|s| *s == p).count();
    if count("{BANK_ID}") != 1 || count("{ACCOUNT_ID}") != 1 {
        return Err((
            "account_path",
            "must contain {BANK_ID} and {ACCOUNT_ID} once each, as whole segments",
        ));
    }
    if !path.starts_with(&r.prefix) {
        return Err(("account_path", "must lie under the route's prefix"));
    }
    Ok(Some(ViewCheck {
        pattern,
        prefix,
        permission: permission.clone(),
    }))
}

pub(super) fn routes(raw: Vec<RawRoute>) -> Result<Vec<RouteConfig>, KeyProblem> {
    let mut out: Vec<RouteConfig> = Vec::with_capacity(raw.len());
    for (i, r) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("routes[{i}].{field}");
        let invalid = |field: &str, why: &'static str| (key(field), Problem::Invalid(why));
        if !r.prefix.starts_with('/') {
            return Err(invalid("prefix", "must start with /"));
        }
        if !is_canonical(&r.prefix) {
            return Err(invalid("prefix", NOT_CANONICAL));
        }
        if out.iter().any(|o| o.prefix == r.prefix) {
            return Err(invalid("prefix", "another route has the same prefix"));
        }
        let folded = |p: &str| crate::path::readings(p)[0].clone();
        if out.iter().any(|o| folded(&o.prefix) == folded(&r.prefix)) {
            return Err(invalid(
                "prefix",
                "another route's prefix differs from this one only in letter case",
            ));
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
        let view_check = view_check(&r, auth).map_err(|(field, why)| invalid(field, why))?;
        let auth_methods = super::wallets::auth_methods(&key("auth_methods"), r.auth_methods)?;
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
            view_check,
            auth_methods,
        });
    }
    Ok(out)
}

fn upstream(text: &str) -> Result<Upstream, &'static str> {
    const WHY: &str = "must be an http:// or https:// URL with a host, and no query";
    // Nothing to keep: the key is named, and WHY says what it must be.
    let uri: http::Uri = text.parse().map_err(|_| WHY)?;
    let scheme = uri.scheme().cloned().ok_or(WHY)?;
    if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
        return Err(WHY);
    }
    let authority = uri.authority().cloned().ok_or(WHY)?;
    if uri.query().is_some() || authority.as_str().contains('@') {
        return Err(WHY);
    }
    let base_path = uri.path().trim_end_matches('/').to_owned();
    if !base_path.is_empty() && !is_canonical(&base_path) {
        return Err(NOT_CANONICAL);
    }
    Ok(Upstream {
        scheme,
        authority,
        base_path,
    })
}

const NOT_CANONICAL: &str = "must be a canonical path: no dot or empty segments, no encoded / \\ ; \
     or controls, A-Z a-z 0-9 - . _ ~ not percent-encoded, other escapes in uppercase hex";

/// Whether `path` is already in the form requests are matched and forwarded in
/// ([`crate::path::canonical`]).
fn is_canonical(path: &str) -> bool {
    matches!(
        crate::path::canonical(path),
        Ok(std::borrow::Cow::Borrowed(_))
    )
}

/// (key, why) for each route that is allowed but probably a mistake.
pub(super) fn warnings(routes: &[RouteConfig]) -> Vec<(String, &'static str)> {
    routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.strip_prefix && !r.prefix.ends_with('/'))
        .map(|(i, _)| {
            (
                format!("routes[{i}].prefix"),
                "strip_prefix is set and the prefix does not end in /: it matches inside a \
                 segment (/svc matches /svcx), and what is left after stripping may not start \
                 a segment; end the prefix in /",
            )
        })
        .collect()
}
