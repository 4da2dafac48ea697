//! Who is calling: from request headers to a [`Principal`].
//!
//! This module turns credentials into an identity; it does not decide what the identity may
//! do (the API and proxy layers do). Credentials are a `DAuth` header (a smart contract) or an
//! `Authorization: Bearer` token (a person or a service), read by [`authorization`], the one
//! parser the header filter uses too; header names are matched case-insensitively, as HTTP
//! requires. Sending both is refused as ambiguous.

pub mod address;
pub mod authorization;
pub mod bearer;
pub mod clients;
pub mod dauth;
pub mod hashpool;
pub mod issuer;
pub mod jws;
pub mod keys;
pub mod mint;
pub mod passwords;
pub mod replay;

use std::net::IpAddr;

use http::HeaderMap;

use std::sync::Arc;

use crate::cache::BoundedCache;
use crate::error::{BearerDefect, Error, TokenDefect};
use crate::limits::Limits;
use crate::store::Stores;
use crate::store::model::{User, UserKind};

pub use authorization::{Authorization, authorization};
pub use bearer::{BearerClaims, BearerVerifier};
pub use dauth::{DauthClaims, DauthVerifier};

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A `DAuth` header.
    Dauth,
    /// An `Authorization: Bearer` token.
    Bearer,
}

impl AuthMethod {
    /// The name used in logs and in `X-DAuth-Auth-Method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dauth => "dauth",
            Self::Bearer => "bearer",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user (for external bearer tokens, described from the token and not stored, with an
    /// id of their own namespace: [`external_user_id`]).
    pub user: User,
    /// How they authenticated.
    pub method: AuthMethod,
    /// The DAuth `consumer_key`, for DAuth callers.
    pub consumer_key: Option<String>,
    /// The DAuth `msg_sender`, when the token carried one.
    pub msg_sender: Option<String>,
    /// The verified bearer claims, for bearer callers.
    pub bearer: Option<Arc<BearerClaims>>,
}

/// The `DAuth` header's name (matched case-insensitively: header maps store names lowercased).
pub const DAUTH_HEADER: &str = "dauth";

/// Everything authentication needs, built once.
pub struct Authenticator {
    /// DAuth tokens.
    pub dauth: DauthVerifier,
    /// Bearer tokens.
    pub bearer: BearerVerifier,
    /// Service clients (for client tokens, and the token endpoint).
    pub clients: crate::auth::clients::ClientRegistry,
    /// DAuth tokens already verified, until they stop being acceptable.
    pub dauth_cache: BoundedCache<Arc<VerifiedDauth>>,
    /// Bearer tokens already verified, until their `exp`.
    pub bearer_cache: BoundedCache<Arc<BearerClaims>>,
}

/// How long a verified DAuth token that nothing else bounds (no `exp`, freshness off) is kept
/// before it is verified again.
const UNBOUNDED_TOKEN_CACHE_SECS: i64 = 300;

/// A DAuth token's verified claims and its user, as the cache keeps them.
#[derive(Debug)]
pub struct VerifiedDauth {
    claims: DauthClaims,
    user: User,
}

impl VerifiedDauth {
    fn principal(&self) -> Principal {
        Principal {
            user: self.user.clone(),
            method: AuthMethod::Dauth,
            consumer_key: Some(self.claims.consumer_key.clone()),
            msg_sender: self.claims.msg_sender.clone(),
            bearer: None,
        }
    }
}

impl Authenticator {
    /// DAuth only: no bearer issuers, no clients, verified tokens cached up to `cache_tokens`
    /// (0: every request is verified). For benchmarks and fuzzing; the gateway builds its own
    /// from the configuration.
    pub fn dauth_only(dauth: DauthVerifier, cache_tokens: usize) -> Self {
        let no_issuers = crate::config::BearerConfig {
            leeway_secs: 30,
            issuers: Vec::new(),
        };
        Self {
            dauth,
            bearer: BearerVerifier::new(None, &no_issuers),
            clients: crate::auth::clients::ClientRegistry::default(),
            dauth_cache: BoundedCache::new(cache_tokens),
            bearer_cache: BoundedCache::new(0),
        }
    }

    /// Authenticates a request from its headers and caller IP.
    ///
    /// `Ok(None)` means no credentials were presented (or DAuth is disabled and only a `DAuth`
    /// header was, or `Authorization` uses another scheme), and the caller decides whether that
    /// is acceptable.
    pub async fn authenticate(
        &self,
        store: &Stores,
        limits: &Limits,
        headers: &HeaderMap,
        client_ip: IpAddr,
        now: i64,
    ) -> Result<Option<Principal>, Error> {
        let bearer = match authorization(headers)? {
            Authorization::Bearer(token) => Some(token),
            Authorization::Absent | Authorization::Other => None,
        };
        let has_dauth = headers.contains_key(DAUTH_HEADER) && self.dauth.policy().enabled;
        match (has_dauth, bearer) {
            (true, Some(_)) => Err(Error::AmbiguousCredentials),
            (true, None) => {
                self.authenticate_dauth(store, limits, headers, client_ip, now)
                    .await
            }
            (false, Some(token)) => {
                let key = crate::cache::digest(&[b"bearer", token.as_bytes()]);
                let claims = match self.bearer_cache.get(key, now) {
                    Some(hit) => hit,
                    None => {
                        let slot = limits.verify_slot().await?;
                        let claims = self.bearer.verify(token);
                        drop(slot);
                        let claims = Arc::new(claims?);
                        let until = claims
                            .claims
                            .get("exp")
                            .and_then(serde_json::Value::as_i64)
                            .unwrap_or(now);
                        self.bearer_cache.insert(key, Arc::clone(&claims), until);
                        claims
                    }
                };
                self.bearer_principal(store, &claims).await.map(Some)
            }
            (false, None) => Ok(None),
        }
    }

    async fn authenticate_dauth(
        &self,
        store: &Stores,
        limits: &Limits,
        headers: &HeaderMap,
        client_ip: IpAddr,
        now: i64,
    ) -> Result<Option<Principal>, Error> {
        let mut values = headers.get_all(DAUTH_HEADER).iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if !self.dauth.policy().allowed_hosts.contains(client_ip) {
            return Err(Error::IpNotAllowed);
        }
        let token = first
            .to_str()
            .map_err(|_| Error::InvalidToken(TokenDefect::Malformed))?
            .trim();
        if values.next().is_some() || token.is_empty() || token.contains(',') {
            return Err(Error::AmbiguousDauthHeader);
        }
        let key = crate::cache::digest(&[token.as_bytes()]);
        if let Some(hit) = self.dauth_cache.get(key, now) {
            limits.check_consumer(&hit.claims.consumer_key)?;
            return Ok(Some(hit.principal()));
        }
        let slot = limits.verify_slot().await?;
        let claims = self.dauth.verify(token, now);
        drop(slot);
        let claims = claims?;
        limits.check_consumer(&claims.consumer_key)?;
        let user = store
            .users
            .get_or_create_dauth_user(&claims.network, &claims.contract, now)
            .await?;
        let until = claims
            .fresh_until
            .unwrap_or(now.saturating_add(UNBOUNDED_TOKEN_CACHE_SECS));
        let verified = Arc::new(VerifiedDauth { claims, user });
        // Under replay protection a token is good once, so keeping it would only cost memory.
        if !self.dauth.policy().replay_protection {
            self.dauth_cache.insert(key, Arc::clone(&verified), until);
        }
        Ok(Some(verified.principal()))
    }

    /// The principal of verified bearer claims. Looked up on every request, even for cached
    /// tokens, so a deleted client user or a removed client stops at once.
    async fn bearer_principal(
        &self,
        store: &Stores,
        claims: &Arc<BearerClaims>,
    ) -> Result<Principal, Error> {
        let claims = Arc::clone(claims);
        let sub = claims.str("sub").unwrap_or_default().to_owned();
        let user = if claims.own && claims.token_use() == Some(crate::auth::issuer::USE_ACCESS) {
            store
                .users
                .user_by_id(&sub)
                .await?
                .ok_or(Error::InvalidBearer(BearerDefect::Invalid))?
        } else if claims.own {
            self.client_subject(store, &claims, sub).await?
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
        Ok(Principal {
            user,
            method: AuthMethod::Bearer,
            consumer_key: None,
            msg_sender: None,
            bearer: Some(claims),
        })
    }

    /// Who a client-credentials token speaks for: the client itself, or one of its users (who
    /// must still exist and not be deleted). A client removed from the registry is refused.
    async fn client_subject(
        &self,
        store: &Stores,
        claims: &BearerClaims,
        sub: String,
    ) -> Result<User, Error> {
        let invalid = || Error::InvalidBearer(BearerDefect::Invalid);
        let client_id = claims.str("client_id").ok_or_else(invalid)?;
        let client = self.clients.get(client_id).ok_or_else(invalid)?;
        if sub == client.client_id {
            return Ok(User {
                user_id: sub,
                kind: UserKind::External,
                provider: claims.issuer.clone(),
                username: client.client_id.clone(),
                created_at: 0,
            });
        }
        let user = store
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
}

/// The user id of an external issuer's subject: `ext-` and 32 hex digits, a digest of the issuer
/// and `sub` (length-prefixed, so no two pairs share an input). Stable for a pair, different for
/// the same `sub` at two issuers, and never the id of a local or DAuth user (a UUID): nothing an
/// external issuer signs can name one of those, whatever its `sub`.
pub fn external_user_id(issuer: &str, sub: &str) -> String {
    let digest = crate::cache::digest(&[b"external-principal", issuer.as_bytes(), sub.as_bytes()]);
    format!("ext-{digest:032x}")
}
