//! What a JWKS URL source is configured with ([`JwksUrlConfig`], checked by the
//! configuration) and why one of its fetches failed ([`FetchError`]).

use std::time::Duration;

use rustls_pki_types::CertificateDer;

/// A checked `jwks_url` or `discovery_url` with its table's timing keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrlConfig {
    /// The URL: a JWKS document, or an OpenID Connect discovery document when `discovery`.
    pub url: String,
    /// `url` is a discovery document whose `jwks_uri` names the JWKS.
    pub discovery: bool,
    /// The configuration key that names it (`bearer.issuers[0].jwks_url`), for logs.
    pub key: String,
    /// Who the keys are for (`dauth`, or the issuer's URL), for logs and metrics.
    pub label: String,
    /// `jwks_ca`: roots trusted beside the system's.
    pub roots: Vec<CertificateDer<'static>>,
    /// `jwks_min_refresh_secs`
    pub min_refresh: Duration,
    /// `jwks_max_refresh_secs`
    pub max_refresh: Duration,
    /// `jwks_max_stale_secs`
    pub max_stale: Duration,
    /// `jwks_min_refetch_secs`
    pub min_refetch: Duration,
}

/// Why a fetch brought no key set.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL could not be used (a discovered `jwks_uri` that is not HTTPS, say).
    #[error("{0}")]
    Url(String),
    /// Connection, TLS or timeout.
    #[error("request failed: {0}")]
    Request(String),
    /// Not 200.
    #[error("status {0}")]
    Status(u16),
    /// Larger than the cap.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// Not a JWKS (or discovery) document.
    #[error("not a {0} document")]
    Document(&'static str),
    /// A JWKS with no usable key.
    #[error("the JWKS holds no usable RSA signing key")]
    NoKey,
}
