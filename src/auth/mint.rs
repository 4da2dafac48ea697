//! Minting DAuth tokens: what `dauth-proxy token` prints, and what tests and benchmarks sign.
//!
//! This is the integrator's side of the protocol, kept next to the verifier so the two cannot
//! drift apart. [`assertion`] mints a service client's `private_key_jwt` assertion.

pub mod assertion;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::address::{MAX_OPAQUE, is_sane, is_valid_network, normalize_address};
use crate::error::AddressClaim;

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
    /// Sign the claims as given, even those the gateway refuses (for testing it).
    #[arg(long)]
    pub unchecked: bool,
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
    /// An argument the gateway would refuse in what is signed.
    #[error("{flag} {value:?}: {why}")]
    Argument {
        /// The flag that gave it.
        flag: &'static str,
        /// What it gave.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
    /// A claim the gateway would refuse (see [`check_claims`]).
    #[error(
        "{flag} {value:?}: {why}, so the gateway would refuse the token (--unchecked signs it anyway)"
    )]
    Claim {
        /// The flag that gave it.
        flag: &'static str,
        /// What it gave.
        value: String,
        /// The rule it breaks.
        why: &'static str,
    },
}

/// Refuses what the gateway's verifier would refuse in its default, strict mode
/// (`dauth.strict_addresses`): addresses that are not `0x` + 40 hex digits or whose mixed case
/// is not a valid EIP-55 checksum, network names that are not 1 to 64 of `A-Z a-z 0-9 . _ - :`,
/// and a consumer key or request id that is blank, longer than 256 bytes or holds a control
/// character. The same functions decide it as in the verifier ([`super::address`]).
pub fn check_claims(args: &TokenArgs) -> Result<(), MintError> {
    let claim = |flag, value: &str, why| MintError::Claim {
        flag,
        value: value.to_owned(),
        why,
    };
    let address = |flag, value: &str, which| match normalize_address(value, true, which) {
        Ok(_) => Ok(()),
        Err(crate::error::Error::BadChecksum(_)) => Err(claim(
            flag,
            value,
            "a mixed-case address must be a valid EIP-55 checksum",
        )),
        Err(_) => Err(claim(flag, value, "not 0x followed by 40 hex digits")),
    };
    address("--contract", &args.contract, AddressClaim::Contract)?;
    if let Some(sender) = &args.msg_sender {
        address("--msg-sender", sender, AddressClaim::MsgSender)?;
    }
    if !is_valid_network(&args.network) {
        return Err(claim(
            "--network",
            &args.network,
            "not 1 to 64 of A-Z a-z 0-9 . _ - :",
        ));
    }
    let opaque = "blank, over 256 bytes, or holding a control character";
    if !is_sane(&args.consumer_key, MAX_OPAQUE) {
        return Err(claim("--consumer-key", &args.consumer_key, opaque));
    }
    if let Some(id) = args
        .request_id
        .as_deref()
        .filter(|r| !is_sane(r, MAX_OPAQUE))
    {
        return Err(claim("--request-id", id, opaque));
    }
    Ok(())
}

/// `--alg`: one of the RSA algorithms the gateway's verifiers allow.
fn rsa_algorithm(name: &str) -> Result<Algorithm, MintError> {
    name.parse::<Algorithm>()
        .ok()
        .filter(|a| super::jws::RSA_ALGORITHMS.contains(a))
        .ok_or_else(|| MintError::Algorithm(name.to_owned()))
}

/// Runs `dauth-proxy token`: the signed token, dated now; claims the gateway would refuse are
/// refused unless `--unchecked`.
pub fn run_token(args: &TokenArgs) -> Result<String, MintError> {
    let alg = rsa_algorithm(&args.alg)?;
    let key = super::keys::load_signing_key(&args.private_key)?;
    if !args.unchecked {
        check_claims(args)?;
    }
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
