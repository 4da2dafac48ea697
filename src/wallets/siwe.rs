//! `POST /auth/siwe/nonce` and `POST /auth/siwe/login` (see [`super`]).
//!
//! The nonce endpoint binds a fresh random nonce (22 alphanumerics, at least the issue's 16) to
//! the address for `wallets.nonce_ttl_secs` and returns a ready-to-sign EIP-4361 message for
//! `wallets.domain` and `wallets.uri`. Login takes that message (or one a client built around
//! the nonce, as viem does), checks it ([`crate::auth::siwe::check`]: grammar, domain, URI,
//! chain, times, signature) and only then takes the nonce, which must have been issued for the
//! message's address and not used.

use http::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::eip191::Signer;
use crate::auth::siwe::{SiweRules, check};
use crate::error::{Error, WalletError};
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::http::render::json;
use crate::state::call::Call;
use crate::store::model::Profile;
use crate::store::nonces::Issued;

/// Characters of an issued nonce: EIP-4361 allows only ALPHA / DIGIT.
const NONCE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Length of an issued nonce (about 131 bits).
const NONCE_LEN: usize = 22;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NonceRequest {
    address: String,
    chain_id: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    message: String,
    signature: String,
}

/// `POST /auth/siwe/nonce {"address", "chain_id"}` -> `{"nonce", "message", "expires_at"}`.
pub(crate) async fn nonce(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let wallets = &call.policy.config.wallets;
    if !wallets.enabled {
        return Err(WalletError::Disabled.into());
    }
    let req: NonceRequest = body.json("SiweNonceJson")?;
    let address = crate::auth::address::normalize_address(
        &req.address,
        true,
        crate::error::AddressClaim::MsgSender,
    )?;
    if !wallets.chains.contains_key(&req.chain_id) {
        return Err(WalletError::ChainNotAllowed.into());
    }
    let nonce = random_nonce()?;
    let now = call.now;
    let expires_at = now.saturating_add_unsigned(wallets.nonce_ttl_secs);
    match call
        .shared
        .siwe_nonces
        .issue(&nonce, &address, expires_at, now)
        .await?
    {
        Issued::Stored => {}
        Issued::Full => return Err(Error::ReplayWindowFull),
    }
    let message = format!(
        "{domain} wants you to sign in with your Ethereum account:\n{address}\n\n\n\
         URI: {uri}\nVersion: 1\nChain ID: {chain}\nNonce: {nonce}\nIssued At: {issued}\n\
         Expiration Time: {expires}",
        domain = wallets.domain,
        uri = wallets.uri,
        chain = req.chain_id,
        issued = rfc3339(now)?,
        expires = rfc3339(expires_at)?,
    );
    Ok(json(
        StatusCode::OK,
        &json!({"nonce": nonce, "message": message, "expires_at": expires_at}),
    ))
}

/// `POST /auth/siwe/login {"message", "signature"}` -> access and refresh tokens.
pub(crate) async fn login(call: &Call<'_>, body: Payload) -> Result<Response<Body>, Error> {
    let wallets = &call.policy.config.wallets;
    if !wallets.enabled {
        return Err(WalletError::Disabled.into());
    }
    let issuer = call.policy.issuer()?;
    let req: LoginRequest = body.json("SiweLoginJson")?;
    let signature = req
        .signature
        .strip_prefix("0x")
        .and_then(|h| alloy_primitives::hex::decode(h).ok())
        .ok_or(WalletError::WrongSigner)?;
    let rules = SiweRules {
        domain: wallets.domain.clone(),
        uri: wallets.uri.clone(),
        chains: wallets.rules.chains.clone(),
        clock_skew_secs: wallets.rules.clock_skew_secs,
    };
    let checked = check(&req.message, &signature, &rules, call.now)?;
    let message = checked.message;
    let contract = checked.signer != Signer::Eoa;
    if contract {
        let asked = call
            .policy
            .contracts
            .check(message.chain_id, message.address, &checked.hash, &signature)
            .await;
        match asked {
            Some(Ok(true)) => {}
            Some(Err(cause)) => return Err(WalletError::ChainUnavailable(cause.to_string()).into()),
            None | Some(Ok(false)) => return Err(WalletError::WrongSigner.into()),
        }
    }
    let address = message.address.to_checksum(None);
    let taken = call
        .shared
        .siwe_nonces
        .take(&message.nonce, &address, call.now)
        .await?;
    if !taken {
        return Err(WalletError::SiweNonceUnknown.into());
    }
    // A contract account is the contract user DAuth would give it; an EOA a wallet user.
    let provider = match wallets.chains.get(&message.chain_id) {
        Some(network) if contract => network.clone(),
        _ => format!("siwe.{}", message.chain_id),
    };
    let user = call
        .shared
        .store
        .users
        .get_or_create_dauth_user(&provider, &address, call.now)
        .await?;
    let profile = wallet_profile();
    let (access, _) = issuer.access_token(&user, &profile, false, call.now)?;
    let jti = uuid::Uuid::new_v4().to_string();
    let exp = call
        .now
        .saturating_add_unsigned(issuer.config().refresh_ttl_secs);
    let family = call
        .shared
        .store
        .passwords
        .start_refresh_family(&user.user_id, &jti, exp)
        .await?;
    let (refresh, _) = issuer.refresh_token(&user.user_id, &family, &jti, call.now)?;
    Ok(json(
        StatusCode::OK,
        &json!({
            "status": "success",
            "user": {"id": user.user_id, "address": address, "chain_id": message.chain_id},
            "accessToken": access,
            "refreshToken": refresh,
        }),
    ))
}

/// The profile a wallet user's access token is made from: no email, no names.
pub(crate) fn wallet_profile() -> Profile {
    Profile {
        language: "en".into(),
        ..Profile::default()
    }
}

fn random_nonce() -> Result<String, Error> {
    let mut bytes = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Internal {
        what: "random nonce",
        cause: "the system random source failed".into(),
    })?;
    // `% 62` is slightly biased (256 = 4 * 62 + 8): 22 characters still carry over 128 bits.
    Ok(bytes
        .iter()
        .map(|b| char::from(NONCE_ALPHABET[usize::from(*b) % NONCE_ALPHABET.len()]))
        .collect())
}

fn rfc3339(at: i64) -> Result<String, Error> {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .ok_or(Error::Internal {
            what: "SIWE time",
            cause: "a time out of range".into(),
        })
}
