//! The pipeline's authentication step: from a request's credentials to a [`Principal`].
//!
//! Credentials are a `DAuth` header (a smart contract), an Airnode's key with its relay
//! headers (a smart contract, as an Airnode relays it: [`crate::auth::airnode`], looked at
//! first, since an Airnode's key may be a bearer token), or an `Authorization: Bearer` token (a
//! person or a service), read by [`authorization()`], the one parser the header filter uses too;
//! header names are matched case-insensitively, as HTTP requires. Sending both is refused as
//! ambiguous. The verifiers are the policy's ([`crate::auth`]); this step adds what needs the
//! shared state: the verified-token caches (keyed by the policy's generation, so a token is
//! verified again under new keys), the bound on verifications in flight, the replay window,
//! the per-consumer rate and the stored users.

use std::net::IpAddr;
use std::sync::Arc;

use http::HeaderMap;

use crate::auth::airnode::Identified;
use crate::auth::{
    AuthMethod, Authorization, BearerClaims, DAUTH_HEADER, Principal, VerifiedDauth, authorization,
    external_user_id,
};
use crate::cache::digest;
use crate::error::{BearerDefect, Error, TokenDefect};
use crate::state::policy::Policy;
use crate::state::shared::Shared;
use crate::store::model::{User, UserKind};
use crate::store::{Replay, ReplayScope};
use tracing::Instrument;

/// How long a verified DAuth token that nothing else bounds (no `exp`, freshness off) is kept
/// before it is verified again.
const UNBOUNDED_TOKEN_CACHE_SECS: i64 = 300;

/// Authenticates a request from its headers and caller IP, at `now`.
///
/// `Ok(None)` means no credentials were presented (or DAuth is disabled and only a `DAuth`
/// header was, or `Authorization` uses another scheme), and the caller decides whether that is
/// acceptable.
pub async fn authenticate(
    shared: &Shared,
    policy: &Policy,
    headers: &HeaderMap,
    client_ip: IpAddr,
    now: i64,
) -> Result<Option<Principal>, Error> {
    if let Some(found) = policy.airnodes.identify(headers, client_ip)? {
        // Boxed: the chain check makes it the largest way in, and unboxed every request's
        // future would be as large (and copied).
        return Box::pin(airnode(shared, found, now)).await.map(Some);
    }
    let bearer = match authorization(headers)? {
        Authorization::Bearer(token) => Some(token),
        Authorization::Absent | Authorization::Other => None,
    };
    let has_dauth = headers.contains_key(DAUTH_HEADER) && policy.dauth.policy().enabled;
    match (has_dauth, bearer) {
        (true, Some(_)) => Err(Error::AmbiguousCredentials),
        (true, None) => dauth(shared, policy, headers, client_ip, now).await,
        (false, Some(token)) => bearer_token(shared, policy, token, now).await.map(Some),
        (false, None) => Ok(None),
    }
}

/// The principal of an accepted Airnode request: the chain checked (when the block says so),
/// then exactly the user a DAuth token naming (`chains[chain id]`, EIP-55 requester) gets.
async fn airnode(shared: &Shared, found: Identified<'_>, now: i64) -> Result<Principal, Error> {
    let consumer_key = found.airnode.config.consumer_key();
    shared.limits.charge_consumer(&consumer_key).await?;
    found.airnode.check_chain(&found.relay).await?;
    let requester = found.relay.requester.to_checksum(None);
    let user = shared
        .store
        .users
        .get_or_create_dauth_user(found.network, &requester, now)
        .await?;
    Ok(Principal {
        user,
        method: AuthMethod::Airnode,
        consumer_key: Some(consumer_key),
        msg_sender: None,
        bearer: None,
        relay: Some(Arc::new(found.relay)),
    })
}

/// The exported child span of a signature verification (see `pipeline/otel.rs`).
fn verify_span() -> tracing::Span {
    tracing::span!(target: "dauth_otel", tracing::Level::TRACE, "verify", otel.name = "verify")
}

/// The cache key of `token` under `policy`: its generation and the JWKS URL sources' epoch are
/// part of the digest, so a cached token is verified again under a new policy or after any
/// fetched key set changed (a key removed at the IdP stops verifying at its next fetch).
fn cache_key(kind: &[u8], shared: &Shared, policy: &Policy, token: &str) -> u128 {
    digest(&[
        kind,
        &policy.generation.to_be_bytes(),
        &shared.jwks.epoch().to_be_bytes(),
        token.as_bytes(),
    ])
}

/// Runs `verify` within the bound on verifications in flight; when it fails and `source`
/// names a JWKS URL whose refetch may help (an unknown `kid`), asks for one (rate-limited,
/// single flight; no verification slot is held while waiting) and, if the key set changed,
/// verifies once more. Each verification is timed (`dauth` or bearer) and spanned.
async fn verify_with_refetch<T>(
    shared: &Shared,
    dauth: bool,
    verify: impl Fn() -> Result<T, Error>,
    source: impl FnOnce() -> Option<Arc<crate::auth::remote::JwksSource>>,
) -> Result<T, Error> {
    let timed = || {
        let started = shared.metrics.clock();
        let out = verify_span().in_scope(&verify);
        shared.metrics.verified(dauth, started);
        out
    };
    let slot = shared.limits.verify_slot().await?;
    let first = timed();
    drop(slot);
    let Err(e) = first else { return first };
    match source() {
        Some(src) if src.refetch().await => {
            let _slot = shared.limits.verify_slot().await?;
            timed()
        }
        _ => Err(e),
    }
}

async fn dauth(
    shared: &Shared,
    policy: &Policy,
    headers: &HeaderMap,
    client_ip: IpAddr,
    now: i64,
) -> Result<Option<Principal>, Error> {
    let mut values = headers.get_all(DAUTH_HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let rules = policy.dauth.policy();
    if !rules.allowed_hosts.contains(client_ip) {
        return Err(Error::IpNotAllowed);
    }
    let token = first
        .to_str()
        // Nothing to keep: a header value that is not text is the caller's.
        .map_err(|_| Error::InvalidToken(TokenDefect::Malformed))?
        .trim();
    if values.next().is_some() || token.is_empty() || token.contains(',') {
        return Err(Error::AmbiguousDauthHeader);
    }
    // Under replay protection a token is good once, so it is never cached (below) and the
    // digest of a kilobyte of token would be wasted work on every request.
    let key = (!rules.replay_protection).then(|| cache_key(b"dauth", shared, policy, token));
    if let Some(key) = key {
        let cached = shared.dauth_tokens.get(key, now);
        shared.metrics.token_cache(true, cached.is_some());
        if let Some(hit) = cached {
            shared
                .limits
                .charge_consumer(&hit.claims.consumer_key)
                .await?;
            return Ok(Some(hit.principal()));
        }
    }
    let claims = verify_with_refetch(
        shared,
        true,
        || policy.dauth.verify(token, now),
        || policy.dauth.refetch_for(token).cloned(),
    )
    .await?;
    if rules.replay_protection {
        // The verifier required a request_id; recorded last, so a token refused for another
        // reason does not use up its id.
        let id = claims
            .request_id
            .as_deref()
            .ok_or(Error::RequestIdMissing)?;
        let scope = ReplayScope::Dauth {
            consumer_key: &claims.consumer_key,
        };
        let until = now.saturating_add_unsigned(rules.replay_window_secs());
        let seen = shared.dauth_replay.record(scope, id, until, now).await;
        match seen.map_err(Error::ReplayUnavailable)? {
            Replay::Fresh => {}
            Replay::Seen => return Err(Error::TokenReplayed),
            Replay::Full => return Err(Error::ReplayWindowFull),
        }
    }
    shared.limits.charge_consumer(&claims.consumer_key).await?;
    let started = shared.metrics.clock();
    let user = shared
        .store
        .users
        .get_or_create_dauth_user(&claims.network, &claims.contract, now)
        .instrument(tracing::span!(target: "dauth_otel", tracing::Level::TRACE, "store", otel.name = "store get_or_create_user"))
        .await;
    shared
        .metrics
        .store("get_or_create_user", started, user.is_err());
    let user = user?;
    // Created by this call: dated now (a user found is older, or made in this same second by
    // a concurrent first request, which this may count twice).
    if user.created_at == now {
        shared.metrics.user_created();
    }
    let until = claims
        .fresh_until
        .unwrap_or(now.saturating_add(UNBOUNDED_TOKEN_CACHE_SECS));
    let verified = Arc::new(VerifiedDauth { claims, user });
    // Under replay protection a token is good once, so keeping it would only cost memory.
    if let Some(key) = key {
        shared
            .dauth_tokens
            .insert(key, Arc::clone(&verified), until);
    }
    Ok(Some(verified.principal()))
}

async fn bearer_token(
    shared: &Shared,
    policy: &Policy,
    token: &str,
    now: i64,
) -> Result<Principal, Error> {
    let key = cache_key(b"bearer", shared, policy, token);
    let cached = shared.bearer_tokens.get(key, now);
    shared.metrics.token_cache(false, cached.is_some());
    let claims = match cached {
        Some(hit) => hit,
        None => {
            let claims = Arc::new(
                verify_with_refetch(
                    shared,
                    false,
                    || policy.bearer.verify(token, now),
                    || policy.bearer.refetch_for(token).cloned(),
                )
                .await?,
            );
            let until = claims
                .claims
                .get("exp")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(now);
            shared.bearer_tokens.insert(key, Arc::clone(&claims), until);
            claims
        }
    };
    bearer_principal(shared, policy, claims).await
}

/// The principal of verified bearer claims. Looked up on every request, even for cached
/// tokens, so a deleted client user or a removed client stops at once.
async fn bearer_principal(
    shared: &Shared,
    policy: &Policy,
    claims: Arc<BearerClaims>,
) -> Result<Principal, Error> {
    let sub = claims.str("sub").unwrap_or_default().to_owned();
    let user = if claims.own && claims.token_use() == Some(crate::auth::issuer::USE_ACCESS) {
        shared
            .store
            .users
            .user_by_id(&sub)
            .await?
            .ok_or(Error::InvalidBearer(BearerDefect::Invalid))?
    } else if claims.own {
        client_subject(shared, policy, &claims, sub).await?
    } else {
        let username = ["preferred_username", "email", "client_id"]
            .iter()
            .find_map(|c| claims.str(c))
            .unwrap_or(&sub)
            .to_owned();
        User {
            user_id: external_user_id(&claims.issuer, &sub),
            kind: UserKind::External,
            provider: claims.issuer.clone(),
            username,
            created_at: 0,
        }
    };
    // This gateway issues access tokens to contract-keyed users (an EOA under `siwe.<chain>`,
    // a contract account under its network) only at a SIWE login.
    let siwe_login = claims.own
        && claims.token_use() == Some(crate::auth::issuer::USE_ACCESS)
        && user.kind == UserKind::Dauth;
    let method = if siwe_login {
        AuthMethod::Siwe
    } else {
        AuthMethod::Bearer
    };
    Ok(Principal {
        user,
        method,
        consumer_key: None,
        msg_sender: None,
        bearer: Some(claims),
        relay: None,
    })
}

/// Who a client-credentials token speaks for: the client itself, or one of its users (who
/// must still exist and not be deleted). A client removed from the registry is refused.
async fn client_subject(
    shared: &Shared,
    policy: &Policy,
    claims: &BearerClaims,
    sub: String,
) -> Result<User, Error> {
    let invalid = || Error::InvalidBearer(BearerDefect::Invalid);
    let client_id = claims.str("client_id").ok_or_else(invalid)?;
    let client = policy.clients.get(client_id).ok_or_else(invalid)?;
    if sub == client.client_id {
        return Ok(User {
            user_id: sub,
            kind: UserKind::External,
            provider: claims.issuer.clone(),
            username: client.client_id.clone(),
            created_at: 0,
        });
    }
    let user = shared
        .store
        .clients
        .client_user(client_id, &sub)
        .await?
        .filter(|u| u.deleted_at.is_none())
        .ok_or_else(invalid)?;
    Ok(User {
        username: user.client_user_id.unwrap_or_else(|| sub.clone()),
        user_id: sub,
        kind: UserKind::External,
        provider: client.client_id.clone(),
        created_at: 0,
    })
}
