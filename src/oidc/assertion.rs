//! `private_key_jwt` client assertions (RFC 7523 section 3, OpenID Connect Core 9): who the
//! client is (signature, `iss`), and whether this assertion may be used now (`sub`, `aud`, `exp`,
//! `jti`). Failures carry their RFC 6749 section 5.2 error.
//!
//! The split between errors: an assertion that does not prove a known client (malformed,
//! unknown `iss`, a signature no key of that client verifies, a disallowed algorithm) is
//! `invalid_client`; a proven client's assertion that may not be used (wrong `sub` or `aud`,
//! expired, `exp` too far ahead, no `jti`, a replayed `jti`) is `invalid_grant`.

use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::decode_header;
use serde_json::Value;

use crate::auth::clients::{ClientDef, ClientRegistry};
use crate::auth::jws::RSA_ALGORITHMS;
use crate::auth::jws::{Jws, JwsError};

/// Most an assertion's `exp` may lie ahead of now (what `dauth-proxy client-assertion` keeps to).
pub(crate) const MAX_ASSERTION_LIFETIME: i64 =
    crate::auth::mint::assertion::MAX_LIFETIME_SECS as i64;

/// RFC 6749 section 5.2 errors of the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// Missing, repeated or malformed parameters, or a body that is not a form.
    InvalidRequest(&'static str),
    /// The client could not be authenticated.
    InvalidClient(&'static str),
    /// The assertion proves the client but may not be used.
    InvalidGrant(&'static str),
    /// A requested scope the client does not have.
    InvalidScope(&'static str),
    /// A `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
}

impl TokenError {
    /// The `error` value.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidScope(_) => "invalid_scope",
            Self::UnsupportedGrantType => "unsupported_grant_type",
        }
    }

    /// The `error_description` value.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::InvalidRequest(d)
            | Self::InvalidClient(d)
            | Self::InvalidGrant(d)
            | Self::InvalidScope(d) => d,
            Self::UnsupportedGrantType => "only grant_type=client_credentials is supported",
        }
    }

    /// The HTTP status: 401 for `invalid_client`, 400 otherwise.
    pub(crate) fn status(self) -> u16 {
        match self {
            Self::InvalidClient(_) => 401,
            _ => 400,
        }
    }
}

/// A usable assertion.
#[derive(Debug, Clone)]
pub(crate) struct Assertion<'r> {
    /// The client it proves.
    pub client: &'r ClientDef,
    /// Its `jti`, to be accepted once.
    pub jti: String,
    /// Its `exp`, how long the `jti` must be remembered.
    pub exp: i64,
}

/// Checks `assertion` for the token endpoint at `audience`, at `now` with `leeway` seconds.
pub(crate) fn verify<'r>(
    registry: &'r ClientRegistry,
    assertion: &str,
    audience: &str,
    now: i64,
    leeway: i64,
) -> Result<Assertion<'r>, TokenError> {
    let bad_client = TokenError::InvalidClient;
    if assertion.len() > 16 * 1024 {
        return Err(bad_client("client_assertion is too long"));
    }
    // Nothing to keep: why the client's assertion does not parse is said in its OAuth error.
    let header =
        decode_header(assertion).map_err(|_| bad_client("client_assertion is not a JWT"))?;
    if !RSA_ALGORITHMS.contains(&header.alg) {
        return Err(bad_client(
            "client_assertion must be signed with RS256/384/512 or PS256/384/512",
        ));
    }
    let unverified: Value = insecure_decode_claims(assertion)
        // Nothing to keep: the client's input, answered with its OAuth error.
        .map_err(|_| bad_client("client_assertion is not a JWT"))?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(bad_client("client_assertion has no iss"))?;
    let client = registry.get(iss).ok_or(bad_client("unknown client"))?;
    let jws = Jws::parse(assertion).map_err(|e| match e {
        JwsError::Critical => {
            bad_client("client_assertion header carries crit, which is not supported")
        }
        _ => bad_client("client_assertion is not an RS/PS-signed JWT"),
    })?;
    if !jws
        .candidates(&client.keys, true)
        .any(|k| jws.verified_by(k))
    {
        return Err(bad_client(
            "client_assertion signature does not verify with the client's keys",
        ));
    }
    let claims: Value = jws
        .claims()
        // Nothing to keep: the client's input, answered with its OAuth error.
        .map_err(|_| bad_client("client_assertion claims are not JSON"))?;
    let exp = check_claims(&claims, &client.client_id, audience, now, leeway)?;
    let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
    Ok(Assertion { client, jti, exp })
}

/// Checks the claims of a verified assertion; returns its `exp`.
fn check_claims(
    c: &Value,
    client_id: &str,
    audience: &str,
    now: i64,
    leeway: i64,
) -> Result<i64, TokenError> {
    let grant = TokenError::InvalidGrant;
    if c["sub"].as_str() != Some(client_id) {
        return Err(grant("client_assertion sub must equal iss (the client id)"));
    }
    let aud_ok = match &c["aud"] {
        Value::String(a) => a == audience,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err(grant(
            "client_assertion aud must be this token endpoint's URL",
        ));
    }
    let exp = c["exp"]
        .as_f64()
        .map(|e| e.floor() as i64)
        .ok_or(grant("client_assertion has no exp"))?;
    if exp <= now - leeway {
        return Err(grant("client_assertion has expired"));
    }
    if exp > now + MAX_ASSERTION_LIFETIME + leeway {
        return Err(grant("client_assertion exp is more than 5 minutes ahead"));
    }
    if c["nbf"]
        .as_f64()
        .is_some_and(|nbf| nbf.floor() as i64 > now + leeway)
    {
        return Err(grant("client_assertion is not valid yet (nbf)"));
    }
    let jti_ok = c["jti"]
        .as_str()
        .is_some_and(|j| !j.is_empty() && j.len() <= 256);
    if !jti_ok {
        return Err(grant("client_assertion needs a jti of at most 256 bytes"));
    }
    Ok(exp)
}
