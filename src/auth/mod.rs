//! Who is calling: from request headers to a [`Principal`].
//!
//! This module turns credentials into an identity; it does not decide what the identity may
//! do (the API and proxy layers do). Today the credential is a `DAuth` header; the header name
//! is matched case-insensitively, as HTTP requires.

pub mod address;
pub mod dauth;
pub mod keys;
pub mod mint;
pub mod replay;

use std::net::IpAddr;

use http::HeaderMap;

use crate::error::{Error, TokenDefect};
use crate::store::{Store, User};

pub use dauth::{DauthClaims, DauthVerifier};

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A `DAuth` header.
    Dauth,
}

impl AuthMethod {
    /// The name used in logs and in `X-DAuth-Auth-Method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dauth => "dauth",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The stored user.
    pub user: User,
    /// How they authenticated.
    pub method: AuthMethod,
    /// The DAuth `consumer_key`, for DAuth callers.
    pub consumer_key: Option<String>,
    /// The DAuth `msg_sender`, when the token carried one.
    pub msg_sender: Option<String>,
}

/// The `DAuth` header's name (matched case-insensitively: header maps store names lowercased).
pub const DAUTH_HEADER: &str = "dauth";

/// Authenticates a request from its headers and caller IP.
///
/// `Ok(None)` means no credentials were presented (or DAuth is disabled and only a `DAuth`
/// header was), and the caller decides whether that is acceptable.
pub async fn authenticate(
    verifier: &DauthVerifier,
    store: &Store,
    headers: &HeaderMap,
    client_ip: IpAddr,
    now: i64,
) -> Result<Option<Principal>, Error> {
    let mut values = headers.get_all(DAUTH_HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let policy = verifier.policy();
    if !policy.enabled {
        return Ok(None);
    }
    if !policy.allowed_hosts.contains(client_ip) {
        return Err(Error::IpNotAllowed);
    }
    let token = first
        .to_str()
        .map_err(|_| Error::InvalidToken(TokenDefect::Malformed))?
        .trim();
    if values.next().is_some() || token.is_empty() || token.contains(',') {
        return Err(Error::AmbiguousDauthHeader);
    }
    let claims = verifier.verify(token, now)?;
    let user = store
        .get_or_create_dauth_user(&claims.network, &claims.contract)
        .await?;
    Ok(Some(Principal {
        user,
        method: AuthMethod::Dauth,
        consumer_key: Some(claims.consumer_key),
        msg_sender: claims.msg_sender,
    }))
}
