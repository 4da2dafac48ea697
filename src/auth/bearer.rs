//! `Authorization: Bearer` tokens: from this gateway's issuer or a configured external one.
//!
//! The unverified `iss` only picks which issuer's keys and rules apply; then the signature is
//! verified with that issuer's keys (by `kid` when present) and `iss`, `aud`, `exp` and `nbf`
//! are always checked, with the same RSA-only algorithm rule as DAuth (mod_auth_openidc
//! GHSA-wcvh-g65p-v576 was a validator that checked the signature only). Tokens of this
//! gateway's issuer must also be access tokens (`token_use`), so a refresh token is no bearer.

use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use super::dauth::RSA_ALGORITHMS;
use crate::config::{BearerConfig, IssuerConfig};
use crate::error::{BearerDefect, Error};
use crate::identity::{USE_ACCESS, USE_CLIENT};

/// Longest token looked at.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

struct TrustedIssuer {
    issuer: String,
    audience: String,
    keys: Vec<(Option<String>, DecodingKey)>,
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
    leeway: u64,
}

impl BearerVerifier {
    /// Builds the verifier once from checked configuration.
    pub fn new(own: Option<&IssuerConfig>, config: &BearerConfig) -> Self {
        let mut issuers: Vec<TrustedIssuer> = own
            .map(|o| TrustedIssuer {
                issuer: o.url.clone(),
                audience: o.audience.clone(),
                keys: vec![(Some(o.kid.clone()), o.key.decoding_key())],
                own: true,
            })
            .into_iter()
            .collect();
        issuers.extend(config.issuers.iter().map(|e| {
            TrustedIssuer {
                issuer: e.issuer.clone(),
                audience: e.audience.clone(),
                keys: e
                    .keys
                    .iter()
                    .map(|k| (k.kid.clone(), k.decoding.clone()))
                    .collect(),
                own: false,
            }
        }));
        Self {
            issuers,
            leeway: config.leeway_secs,
        }
    }

    /// Checks a bearer token (see the module docs).
    pub fn verify(&self, token: &str) -> Result<BearerClaims, Error> {
        let invalid = || Error::InvalidBearer(BearerDefect::Invalid);
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid());
        }
        let header = decode_header(token).map_err(|_| invalid())?;
        if !RSA_ALGORITHMS.contains(&header.alg) {
            return Err(invalid());
        }
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
        let mut v = Validation::new(header.alg);
        v.algorithms = RSA_ALGORITHMS.to_vec();
        v.set_issuer(&[&trusted.issuer]);
        v.set_audience(&[&trusted.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        v.leeway = self.leeway;
        let keys = trusted
            .keys
            .iter()
            .filter(|(kid, _)| header.kid.is_none() || kid.is_none() || *kid == header.kid);
        let mut last = BearerDefect::Invalid;
        for (_, key) in keys {
            match decode::<Value>(token, key, &v) {
                Ok(data) => {
                    let claims = BearerClaims {
                        claims: data.claims,
                        issuer: trusted.issuer.clone(),
                        own: trusted.own,
                    };
                    if trusted.own && !matches!(claims.token_use(), Some(USE_ACCESS | USE_CLIENT)) {
                        return Err(invalid());
                    }
                    return Ok(claims);
                }
                Err(e) => {
                    last = match e.kind() {
                        ErrorKind::ExpiredSignature => BearerDefect::Expired,
                        ErrorKind::ImmatureSignature => BearerDefect::NotYetValid,
                        ErrorKind::InvalidAudience => BearerDefect::Audience,
                        ErrorKind::InvalidIssuer => BearerDefect::Issuer,
                        _ => BearerDefect::Invalid,
                    };
                    if last != BearerDefect::Invalid {
                        break;
                    }
                }
            }
        }
        Err(Error::InvalidBearer(last))
    }
}
