//! Who a request's caller is: the [`Principal`] every layer above authentication works with,
//! and how it is made from verified claims (a cached DAuth token, an external issuer's subject).
//! Turning a request's headers into one is the pipeline's step ([`crate::pipeline`]).

use std::sync::Arc;

use super::airnode::relay::Relay;
use super::bearer::BearerClaims;
use super::dauth::DauthClaims;
use crate::store::model::User;

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// An ERC-8128 signed request ([`super::erc8128`]).
    Erc8128,
    /// A bearer token this gateway issued at a Sign-In with Ethereum login.
    Siwe,
    /// A `DAuth` header.
    Dauth,
    /// An `Authorization: Bearer` token.
    Bearer,
    /// An Airnode's key with its relay headers ([`super::airnode`]).
    Airnode,
}

impl AuthMethod {
    /// The name used in logs and in `X-DAuth-Auth-Method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erc8128 => "erc8128",
            Self::Siwe => "siwe",
            Self::Dauth => "dauth",
            Self::Bearer => "bearer",
            Self::Airnode => "airnode",
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
    /// The DAuth `consumer_key`, for DAuth callers (`airnode:<name>` for Airnode callers).
    pub consumer_key: Option<String>,
    /// The DAuth `msg_sender`, when the token carried one.
    pub msg_sender: Option<String>,
    /// The verified bearer claims, for bearer callers.
    pub bearer: Option<Arc<BearerClaims>>,
    /// The relayed facts of the on-chain request, for Airnode callers.
    pub relay: Option<Arc<Relay>>,
}

/// A DAuth token's verified claims and its user, as the cache keeps them.
#[derive(Debug)]
pub struct VerifiedDauth {
    /// The verified claims.
    pub claims: DauthClaims,
    /// The user they name.
    pub user: User,
}

impl VerifiedDauth {
    /// The principal this token authenticates.
    pub fn principal(&self) -> Principal {
        Principal {
            user: self.user.clone(),
            method: AuthMethod::Dauth,
            consumer_key: Some(self.claims.consumer_key.clone()),
            msg_sender: self.claims.msg_sender.clone(),
            bearer: None,
            relay: None,
        }
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
