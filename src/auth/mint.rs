//! Minting DAuth tokens: what `dauth-proxy token` prints, and what tests and benchmarks sign.
//!
//! This is the integrator's side of the protocol, kept next to the verifier so the two cannot
//! drift apart.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What goes into a DAuth token.
#[derive(Debug, Clone)]
pub struct DauthTokenSpec {
    /// `smart_contract_address`.
    pub contract: String,
    /// `network_name`.
    pub network: String,
    /// `consumer_key`.
    pub consumer_key: String,
    /// `msg_sender`, if any.
    pub msg_sender: Option<String>,
    /// `request_id`; a random UUID when `None`.
    pub request_id: Option<String>,
    /// Lifetime: `exp` = now + ttl. Zero leaves `exp` out.
    pub ttl_secs: u64,
    /// `kid` header, if any.
    pub kid: Option<String>,
    /// Signing algorithm (RS* or PS*).
    pub alg: Algorithm,
}

impl DauthTokenSpec {
    /// A spec with a fresh random request id, RS256 and a five-minute lifetime.
    pub fn new(contract: &str, network: &str, consumer_key: &str) -> Self {
        Self {
            contract: contract.to_owned(),
            network: network.to_owned(),
            consumer_key: consumer_key.to_owned(),
            msg_sender: None,
            request_id: None,
            ttl_secs: 300,
            kid: None,
            alg: Algorithm::RS256,
        }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    smart_contract_address: &'a str,
    network_name: &'a str,
    consumer_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_sender: Option<&'a str>,
    timestamp: String,
    request_id: String,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// Signs a DAuth token for `spec`, dated `now`.
pub fn mint_dauth(
    key: &EncodingKey,
    spec: &DauthTokenSpec,
    now: OffsetDateTime,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let iat = now.unix_timestamp();
    let ttl = i64::try_from(spec.ttl_secs).unwrap_or(i64::MAX);
    let claims = Claims {
        smart_contract_address: &spec.contract,
        network_name: &spec.network,
        consumer_key: &spec.consumer_key,
        msg_sender: spec.msg_sender.as_deref(),
        timestamp: now.format(&Rfc3339).unwrap_or_default(),
        request_id: spec
            .request_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        iat,
        exp: (ttl > 0).then(|| iat.saturating_add(ttl)),
    };
    let mut header = Header::new(spec.alg);
    header.kid = spec.kid.clone();
    encode(&header, &claims, key)
}

/// Arguments of `dauth-proxy token`.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// PEM file of the RSA private key to sign with (PKCS#8 or PKCS#1).
    #[arg(long)]
    pub private_key: std::path::PathBuf,
    /// `smart_contract_address` claim.
    #[arg(long)]
    pub contract: String,
    /// `network_name` claim.
    #[arg(long)]
    pub network: String,
    /// `consumer_key` claim.
    #[arg(long)]
    pub consumer_key: String,
    /// `msg_sender` claim.
    #[arg(long)]
    pub msg_sender: Option<String>,
    /// `request_id` claim (default: a random UUID).
    #[arg(long)]
    pub request_id: Option<String>,
    /// Seconds until `exp`; 0 leaves `exp` out.
    #[arg(long, default_value_t = 300)]
    pub ttl: u64,
    /// `kid` header naming the verification key.
    #[arg(long)]
    pub kid: Option<String>,
    /// Signing algorithm: RS256, RS384, RS512, PS256, PS384 or PS512.
    #[arg(long, default_value = "RS256")]
    pub alg: String,
}

/// Why `dauth-proxy token` could not print a token.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The private key was refused.
    #[error(transparent)]
    Key(#[from] super::keys::KeyError),
    /// `--alg` is not an RSA algorithm.
    #[error("--alg {0}: choose RS256, RS384, RS512, PS256, PS384 or PS512")]
    Algorithm(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Runs `dauth-proxy token`: the signed token, dated now.
pub fn run_token(args: &TokenArgs) -> Result<String, MintError> {
    let alg = args
        .alg
        .parse::<Algorithm>()
        .ok()
        .filter(|a| super::jws::RSA_ALGORITHMS.contains(a))
        .ok_or_else(|| MintError::Algorithm(args.alg.clone()))?;
    let key = super::keys::load_signing_key(&args.private_key)?;
    let spec = DauthTokenSpec {
        contract: args.contract.clone(),
        network: args.network.clone(),
        consumer_key: args.consumer_key.clone(),
        msg_sender: args.msg_sender.clone(),
        request_id: args.request_id.clone(),
        ttl_secs: args.ttl,
        kid: args.kid.clone(),
        alg,
    };
    Ok(mint_dauth(&key, &spec, OffsetDateTime::now_utc())?)
}
