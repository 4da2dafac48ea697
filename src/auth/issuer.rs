//! This gateway's token issuer: signs access, refresh and client-credentials tokens and
//! publishes its keys. Bearer validation is in [`crate::auth::bearer`].

use jsonwebtoken::{Algorithm, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::keys::SigningKey;
use crate::store::model::{Profile, User};

/// `[issuer]`: tokens this gateway issues.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// `iss` of issued tokens, and the base of the token endpoint.
    pub url: String,
    /// The signing key, parsed.
    pub key: SigningKey,
    /// `kid` of issued tokens, published in the JWKS.
    pub kid: String,
    /// `aud` of issued tokens.
    pub audience: String,
    /// Access token lifetime.
    pub access_ttl_secs: u64,
    /// Refresh token lifetime.
    pub refresh_ttl_secs: u64,
}

/// `token_use` of access tokens for users.
pub const USE_ACCESS: &str = "access";
/// `token_use` of refresh tokens.
pub const USE_REFRESH: &str = "refresh";
/// `token_use` of client-credentials tokens.
pub const USE_CLIENT: &str = "client";

/// Why a token could not be issued or a refresh token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The refresh token is not one of ours, or is expired or malformed.
    #[error("invalid refresh token")]
    InvalidRefresh,
}

/// A token that could not be signed is the gateway's failure (500, its cause logged); a
/// refresh token refused is the client's (`DAUTH-4008`).
impl From<TokenError> for crate::error::Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Sign(_) => Self::Internal {
                what: "token signing",
                cause: Box::new(e),
            },
            TokenError::InvalidRefresh => Self::InvalidRefreshToken,
        }
    }
}

/// The access token payload: seed 001's keys plus `iss`, `sub`, `aud`, `jti`, `token_use`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// First name ("" when unset).
    pub firstname: String,
    /// Last name ("" when unset).
    pub lastname: String,
    /// Language.
    pub language: String,
    /// 0, or 100 for administrators.
    pub permission_level: i64,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Token id.
    pub jti: String,
    /// Always `access`.
    #[serde(rename = "token_use")]
    pub token_use: String,
}

/// The refresh token payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct RefreshClaims {
    /// User id (seed 001's `id`).
    pub id: String,
    /// Subject: the user id.
    pub sub: String,
    /// Refresh family (one per login).
    pub fam: String,
    /// Token id, rotated on every refresh.
    pub jti: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Always `refresh`.
    pub token_use: String,
}

/// Signs this gateway's tokens and publishes its keys.
pub struct Issuer {
    config: IssuerConfig,
    jwks: Value,
}

impl Issuer {
    /// The issuer for a checked `[issuer]` section.
    pub fn new(config: IssuerConfig) -> Self {
        let jwks = serde_json::json!({ "keys": [config.key.jwk(&config.kid)] });
        Self { config, jwks }
    }

    /// The configuration.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// `GET /.well-known/jwks.json`.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Signs `claims` with the issuer key and `kid`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.config.kid.clone());
        encode(&header, claims, &self.config.key.encoding).map_err(TokenError::Sign)
    }

    /// An access token for a password user; returns it with its lifetime.
    pub fn access_token(
        &self,
        user: &User,
        profile: &Profile,
        admin: bool,
        now: i64,
    ) -> Result<(String, u64), TokenError> {
        let ttl = self.config.access_ttl_secs;
        let claims = AccessClaims {
            id: user.user_id.clone(),
            email: profile.email.clone(),
            firstname: profile.firstname.clone().unwrap_or_default(),
            lastname: profile.lastname.clone().unwrap_or_default(),
            language: profile.language.clone(),
            permission_level: if admin { 100 } else { 0 },
            iat: now,
            exp: now.saturating_add_unsigned(ttl),
            iss: self.config.url.clone(),
            sub: user.user_id.clone(),
            aud: self.config.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            token_use: USE_ACCESS.into(),
        };
        Ok((self.sign(&claims)?, ttl))
    }

    /// A refresh token for `user_id` in family `fam` with id `jti`; returns it with its expiry.
    pub fn refresh_token(
        &self,
        user_id: &str,
        fam: &str,
        jti: &str,
        now: i64,
    ) -> Result<(String, i64), TokenError> {
        let exp = now.saturating_add_unsigned(self.config.refresh_ttl_secs);
        let claims = RefreshClaims {
            id: user_id.to_owned(),
            sub: user_id.to_owned(),
            fam: fam.to_owned(),
            jti: jti.to_owned(),
            iat: now,
            exp,
            iss: self.config.url.clone(),
            aud: self.config.audience.clone(),
            token_use: USE_REFRESH.into(),
        };
        Ok((self.sign(&claims)?, exp))
    }

    /// Checks a refresh token's signature, issuer, audience, expiry and use.
    pub fn verify_refresh(&self, token: &str) -> Result<RefreshClaims, TokenError> {
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.config.url]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 0;
        // Why a client's refresh token is refused is not the gateway's failure to log.
        let data = decode::<RefreshClaims>(token, &self.config.key.decoding_key(), &v)
            .map_err(|_| TokenError::InvalidRefresh)?;
        if data.claims.token_use != USE_REFRESH {
            return Err(TokenError::InvalidRefresh);
        }
        Ok(data.claims)
    }
}
