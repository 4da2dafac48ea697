//! `jwks_url`, `discovery_url`, `jwks_ca` and the `jwks_*` timing keys of `[dauth]` and each
//! `[[bearer.issuers]]` entry, checked into a [`JwksUrlConfig`]: the URL is HTTPS (plain HTTP
//! only to a loopback host), the CA file parses, the clocks are in order.

use std::path::Path;
use std::time::Duration;

use super::error::{KeyProblem, Problem};
use super::file::RawJwksTiming;
use crate::auth::remote::{JwksUrlConfig, allowed_url};

/// The URL keys of one table at `prefix` (`dauth.`, `bearer.issuers[0].`), as written.
pub(super) struct RawUrl<'a> {
    pub(super) jwks_url: Option<&'a str>,
    pub(super) discovery_url: Option<&'a str>,
    pub(super) jwks_ca: Option<&'a str>,
    pub(super) timing: RawJwksTiming,
}

/// The checked URL source of a table, if it names one.
pub(super) fn url_source(
    prefix: &str,
    raw: RawUrl<'_>,
    label: &str,
) -> Result<Option<JwksUrlConfig>, KeyProblem> {
    let invalid = |k: &str, why| (format!("{prefix}{k}"), Problem::Invalid(why));
    let (name, url, discovery) = match (raw.jwks_url, raw.discovery_url) {
        (Some(u), None) => ("jwks_url", u, false),
        (None, Some(u)) => ("discovery_url", u, true),
        (None, None) => {
            if raw.jwks_ca.is_some() {
                return Err(invalid("jwks_ca", "needs a jwks_url or discovery_url"));
            }
            return Ok(None);
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "discovery_url",
                "set one of jwks_url and discovery_url",
            ));
        }
    };
    allowed_url(url).map_err(|why| invalid(name, why))?;
    let roots = match raw.jwks_ca {
        Some(ca) => crate::tls::read_certs(Path::new(ca))
            .map_err(|e| (format!("{prefix}jwks_ca"), Problem::Tls(e)))?,
        None => Vec::new(),
    };
    let t = raw.timing;
    for (key, value) in [
        ("jwks_min_refresh_secs", t.min_refresh),
        ("jwks_min_refetch_secs", t.min_refetch),
        ("jwks_max_stale_secs", t.max_stale),
    ] {
        if value == 0 {
            return Err(invalid(key, "must be at least 1"));
        }
    }
    if t.max_refresh < t.min_refresh {
        return Err(invalid(
            "jwks_max_refresh_secs",
            "must be at least jwks_min_refresh_secs",
        ));
    }
    Ok(Some(JwksUrlConfig {
        url: url.to_owned(),
        discovery,
        key: format!("{prefix}{name}"),
        label: label.to_owned(),
        roots,
        min_refresh: Duration::from_secs(t.min_refresh),
        max_refresh: Duration::from_secs(t.max_refresh),
        max_stale: Duration::from_secs(t.max_stale),
        min_refetch: Duration::from_secs(t.min_refetch),
    }))
}
