//! One fetch of a JWKS URL (through its discovery document when configured): an HTTP GET
//! with a deadline and a size cap over the gateway's rustls client configuration, then the
//! lenient JWKS read of [`super::parse`].

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;

use super::config::{FetchError, JwksUrlConfig};
use super::parse::{Parsed, parse_jwks};

/// The HTTP client of one source.
pub(super) type Client =
    hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The longest a fetch (connect, TLS, answer read whole) may take.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest JWKS or discovery document read.
pub(super) const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// A client trusting the system roots and `extra`.
pub(super) fn client(extra: &[CertificateDer<'static>]) -> Result<Client, rustls::Error> {
    let tls = crate::tls::client_config(crate::tls::upstream_roots(extra))?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(FETCH_TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https))
}

/// Whether `url` may be fetched: HTTPS, or HTTP to a loopback host; no user info.
pub fn allowed_url(url: &str) -> Result<(), &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "not a URL")?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry user information");
    }
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("must name a host"),
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must be https:// (plain http:// only to a loopback host)"),
        _ => Err("must be an https:// URL"),
    }
}

/// Fetches the key set of `config`: the keys and the answer's `max-age`, if any.
pub(super) async fn fetch(
    client: &Client,
    config: &JwksUrlConfig,
) -> Result<(Parsed, Option<Duration>), FetchError> {
    let jwks_url = if config.discovery {
        let (body, _) = get(client, &config.url).await?;
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| FetchError::Document("discovery"))?;
        let uri = doc
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or(FetchError::Document("discovery"))?
            .to_owned();
        allowed_url(&uri).map_err(|why| FetchError::Url(format!("jwks_uri {uri}: {why}")))?;
        uri
    } else {
        config.url.clone()
    };
    let (body, max_age) = get(client, &jwks_url).await?;
    let parsed = parse_jwks(&body, Path::new(&jwks_url)).ok_or(FetchError::Document("JWKS"))?;
    if parsed.keys.is_empty() {
        return Err(FetchError::NoKey);
    }
    Ok((parsed, max_age))
}

/// `GET url` within [`FETCH_TIMEOUT`], at most [`MAX_DOCUMENT_BYTES`]; (body, max-age).
async fn get(client: &Client, url: &str) -> Result<(Bytes, Option<Duration>), FetchError> {
    let request = Request::get(url)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "dauth-proxy")
        .body(Empty::new())
        .map_err(|e| FetchError::Url(e.to_string()))?;
    let exchange = async {
        let resp = client
            .request(request)
            .await
            .map_err(|e| FetchError::Request(error_chain(&e)))?;
        if resp.status() != http::StatusCode::OK {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
        let max_age = max_age(resp.headers());
        let body = Limited::new(resp.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge(MAX_DOCUMENT_BYTES)
                } else {
                    FetchError::Request(e.to_string())
                }
            })?
            .to_bytes();
        Ok((body, max_age))
    };
    tokio::time::timeout(FETCH_TIMEOUT, exchange)
        .await
        .map_err(|_| FetchError::Request(format!("no answer within {FETCH_TIMEOUT:?}")))?
}

/// The error and its causes on one line (hyper's own message is only "client error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `Cache-Control: max-age=N` (RFC 9111 section 5.2.2.1); `no-store` and `no-cache` read as 0
/// (then clamped up to the minimum refresh by the caller).
fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        for directive in value.to_str().unwrap_or_default().split(',') {
            let d = directive.trim().to_ascii_lowercase();
            if d == "no-store" || d == "no-cache" {
                return Some(Duration::ZERO);
            }
            if let Some(secs) = d.strip_prefix("max-age=") {
                found = secs.trim_matches('"').parse().ok().map(Duration::from_secs);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        for ok in [
            "https://idp.example/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://[::1]/jwks",
            "http://localhost/jwks",
        ] {
            assert!(allowed_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example/jwks",
            "http://10.0.0.1/jwks",
            "ftp://idp.example/jwks",
            "https://user:pw@idp.example/jwks",
            "jwks.json",
            "http://127.0.0.1.evil.example/jwks",
        ] {
            assert!(allowed_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        let mut h = http::HeaderMap::new();
        assert_eq!(max_age(&h), None);
        h.insert(
            header::CACHE_CONTROL,
            "public, max-age=120".parse().unwrap(),
        );
        assert_eq!(max_age(&h), Some(Duration::from_secs(120)));
        h.insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(max_age(&h), Some(Duration::ZERO));
        h.insert(header::CACHE_CONTROL, "max-age=junk".parse().unwrap());
        assert_eq!(max_age(&h), None);
    }
}
