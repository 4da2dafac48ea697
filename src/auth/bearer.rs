//! `Authorization: Bearer` tokens: from this gateway's issuer or a configured external one.
//!
//! The unverified `iss` only picks which issuer's keys and rules apply; then the signature is
//! verified with that issuer's keys (by `kid` when present) and `iss`, `aud`, `exp` and `nbf`
//! are always checked, with the same RSA-only algorithm rule as DAuth (mod_auth_openidc
//! GHSA-wcvh-g65p-v576 was a validator that checked the signature only). Tokens of this
//! gateway's issuer must also be access tokens (`token_use`), so a refresh token is no bearer.

use std::sync::Arc;

use jsonwebtoken::dangerous::insecure_decode_claims;
use serde_json::Value;

use super::issuer::IssuerConfig;
use super::jws::Jws;
use super::keys::VerifyKey;
use super::remote::{JwksSource, Keys};
use crate::auth::issuer::{USE_ACCESS, USE_CLIENT};
use crate::error::{BearerDefect, Error};

/// An external issuer whose bearer tokens are accepted.
#[derive(Debug, Clone)]
pub struct ExternalIssuer {
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// Its keys (empty when they come from `jwks_url`).
    pub keys: Vec<VerifyKey>,
    /// `jwks_url` or `discovery_url`: its keys fetched.
    pub jwks_url: Option<crate::auth::remote::JwksUrlConfig>,
}

/// `[bearer]`
#[derive(Debug, Clone)]
pub struct BearerConfig {
    /// Leeway for `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Trusted external issuers.
    pub issuers: Vec<ExternalIssuer>,
}

/// Longest token looked at.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

struct TrustedIssuer {
    issuer: String,
    audience: String,
    keys: Vec<VerifyKey>,
    /// `jwks_url` or `discovery_url`'s source (then `keys` is empty).
    remote: Option<Arc<JwksSource>>,
    own: bool,
}

/// A verified bearer token's claims and where it came from.
#[derive(Debug, Clone)]
pub struct BearerClaims {
    /// The claims.
    pub claims: Value,
    /// `iss`.
    pub issuer: String,
    /// Issued by this gateway.
    pub own: bool,
}

impl BearerClaims {
    /// A string claim.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `token_use` of this gateway's tokens.
    pub fn token_use(&self) -> Option<&str> {
        self.str("token_use")
    }
}

/// Verifies bearer tokens for every trusted issuer.
pub struct BearerVerifier {
    issuers: Vec<TrustedIssuer>,
    leeway: i64,
}

impl BearerVerifier {
    /// Builds the verifier once from checked configuration, with no fetched keys (an issuer
    /// with a `jwks_url` then verifies nothing until given its source: see
    /// [`BearerVerifier::with_remotes`]).
    pub fn new(own: Option<&IssuerConfig>, config: &BearerConfig) -> Self {
        Self::with_remotes(own, config, &[])
    }

    /// The verifier with `remotes[i]` as the source of `config.issuers[i]` (when `Some`).
    pub fn with_remotes(
        own: Option<&IssuerConfig>,
        config: &BearerConfig,
        remotes: &[Option<Arc<JwksSource>>],
    ) -> Self {
        let mut issuers: Vec<TrustedIssuer> = own
            .map(|o| TrustedIssuer {
                issuer: o.url.clone(),
                audience: o.audience.clone(),
                keys: o.key.verify_key(&o.kid).into_iter().collect(),
                remote: None,
                own: true,
            })
            .into_iter()
            .collect();
        issuers.extend(
            config
                .issuers
                .iter()
                .enumerate()
                .map(|(i, e)| TrustedIssuer {
                    issuer: e.issuer.clone(),
                    audience: e.audience.clone(),
                    keys: e.keys.clone(),
                    remote: remotes.get(i).cloned().flatten(),
                    own: false,
                }),
        );
        Self {
            issuers,
            leeway: i64::try_from(config.leeway_secs).unwrap_or(i64::MAX),
        }
    }

    /// The `jwks_url` source worth a refetch for `token`: its (unverified) `iss` is an issuer
    /// whose keys are fetched, and its `kid` is not in the current set.
    pub fn refetch_for(&self, token: &str) -> Option<&Arc<JwksSource>> {
        // Nothing to keep: only picks which source to ask; the token is verified again after.
        let unverified: Value = insecure_decode_claims(token).ok()?;
        let iss = unverified.get("iss").and_then(Value::as_str)?;
        let remote = self
            .issuers
            .iter()
            .find(|i| i.issuer == iss)?
            .remote
            .as_ref()?;
        let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
        (!remote.has_kid(&kid)).then_some(remote)
    }

    /// Checks a bearer token at `now` (see the module docs).
    pub fn verify(&self, token: &str, now: i64) -> Result<BearerClaims, Error> {
        let invalid = || Error::InvalidBearer(BearerDefect::Invalid);
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        // Nothing to keep here or below: a bearer token that does not parse is the caller's.
        let jws = Jws::parse(token).map_err(|_| invalid())?;
        // Nothing to keep: the caller's token.
        let unverified: Value = insecure_decode_claims(token).map_err(|_| invalid())?;
        let iss = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        let trusted = self
            .issuers
            .iter()
            .find(|i| i.issuer == iss)
            .ok_or(Error::InvalidBearer(BearerDefect::Issuer))?;
        let fetched = match trusted.remote.as_deref().map(JwksSource::keys) {
            None => None,
            Some(Keys::Ready(keys)) => Some(keys),
            Some(Keys::NeverLoaded) => return Err(Error::KeysNotLoaded),
            Some(Keys::Expired) => return Err(Error::KeysExpired),
        };
        let keys = fetched
            .as_deref()
            .map_or(trusted.keys.as_slice(), Vec::as_slice);
        if !jws.candidates(keys, true).any(|k| jws.verified_by(k)) {
            return Err(invalid());
        }
        // Nothing to keep: the caller's token.
        let claims: Value = jws.claims().map_err(|_| invalid())?;
        check_claims(&claims, &trusted.audience, now, self.leeway)?;
        let claims = BearerClaims {
            claims,
            issuer: trusted.issuer.clone(),
            own: trusted.own,
        };
        if trusted.own && !matches!(claims.token_use(), Some(USE_ACCESS | USE_CLIENT)) {
            return Err(invalid());
        }
        Ok(claims)
    }
}

/// `exp` (required), `nbf`, `aud` (a string or a list holding `audience`) and `sub` (required).
fn check_claims(c: &Value, audience: &str, now: i64, leeway: i64) -> Result<(), Error> {
    let defect = |d| Err(Error::InvalidBearer(d));
    let time = |name: &str| {
        c.get(name)
            .and_then(Value::as_f64)
            .map(|t| t.floor() as i64)
    };
    let Some(exp) = time("exp") else {
        return defect(BearerDefect::Invalid);
    };
    if now >= exp.saturating_add(leeway) {
        return defect(BearerDefect::Expired);
    }
    if time("nbf").is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
        return defect(BearerDefect::NotYetValid);
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return defect(BearerDefect::Audience);
    }
    if !c.get("sub").is_some_and(Value::is_string) {
        return defect(BearerDefect::Invalid);
    }
    Ok(())
}
