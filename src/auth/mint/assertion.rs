//! Minting RFC 7523 `private_key_jwt` client assertions: what `dauth-proxy client-assertion`
//! prints, the client's side of the token endpoint (`crate::oidc`'s `assertion` checks them).
//!
//! RFC 7523 section 3 and OpenID Connect Core section 9: `iss` and `sub` are the client id,
//! `aud` the token endpoint's URL, `exp` limits the time window, `jti` is a unique identifier
//! the server accepts once. The token endpoint also wants `exp` at most
//! [`MAX_LIFETIME_SECS`] ahead.

use std::path::PathBuf;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;
use time::OffsetDateTime;

use super::{MintError, rsa_algorithm};
use crate::auth::clients::is_valid_client_id;

/// The most an assertion's `exp` may lie ahead of now at the token endpoint.
pub const MAX_LIFETIME_SECS: u64 = 300;

/// Arguments of `dauth-proxy client-assertion`.
#[derive(Debug, Clone, clap::Args)]
pub struct AssertionArgs {
    /// PEM file of the client's RSA private key (PKCS#8 or PKCS#1).
    #[arg(long)]
    pub private_key: PathBuf,
    /// The client id: the assertion's `iss` and `sub`.
    #[arg(long)]
    pub client_id: String,
    /// The token endpoint's URL, the assertion's `aud`: the gateway's `issuer.url` followed by
    /// `/oidc/token`.
    #[arg(long)]
    pub token_endpoint: String,
    /// Seconds until `exp`, 1 to 300 (the token endpoint refuses more).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ttl: u64,
    /// `kid` header naming the client's verification key.
    #[arg(long)]
    pub kid: Option<String>,
    /// Signing algorithm: RS256, RS384, RS512, PS256, PS384 or PS512.
    #[arg(long, default_value = "RS256")]
    pub alg: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

/// Runs `dauth-proxy client-assertion`: a signed assertion, dated now, with a random `jti`.
pub fn run_client_assertion(args: &AssertionArgs) -> Result<String, MintError> {
    let alg = rsa_algorithm(&args.alg)?;
    let argument = |flag, value: &str, why| MintError::Argument {
        flag,
        value: value.to_owned(),
        why,
    };
    if !is_valid_client_id(&args.client_id) {
        return Err(argument(
            "--client-id",
            &args.client_id,
            "not 1 to 128 of A-Z a-z 0-9 . _ - :",
        ));
    }
    let endpoint = url::Url::parse(&args.token_endpoint).ok();
    if !endpoint.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
        return Err(argument(
            "--token-endpoint",
            &args.token_endpoint,
            "not an http or https URL",
        ));
    }
    if args.ttl == 0 || args.ttl > MAX_LIFETIME_SECS {
        return Err(argument(
            "--ttl",
            &args.ttl.to_string(),
            "must be 1 to 300 seconds",
        ));
    }
    let key = crate::auth::keys::load_signing_key(&args.private_key)?;
    sign(&key, args, alg, OffsetDateTime::now_utc())
}

fn sign(
    key: &EncodingKey,
    args: &AssertionArgs,
    alg: jsonwebtoken::Algorithm,
    now: OffsetDateTime,
) -> Result<String, MintError> {
    let iat = now.unix_timestamp();
    let claims = Claims {
        iss: &args.client_id,
        sub: &args.client_id,
        aud: &args.token_endpoint,
        iat,
        exp: iat.saturating_add(i64::try_from(args.ttl).unwrap_or(0)),
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let mut header = Header::new(alg);
    header.kid = args.kid.clone();
    Ok(encode(&header, &claims, key)?)
}
