//! The pipeline's wallet step: a request signed with ERC-8128 ([`crate::auth::erc8128`]) on a
//! route that accepts `erc8128`.
//!
//! Only there is the body read before forwarding, bounded by the route's limit and within the
//! body read timeout ([`read_body`]), so the `Content-Digest` is checked over exactly the bytes
//! the backend receives. The signature is judged against the request as it arrived
//! ([`Received`], kept before the path is rewritten). The signer is then the user keyed by
//! (`siwe.<chain id>`, EIP-55 address): a provider name no DAuth network can have (DAuth
//! networks are upper-cased), so a wallet never becomes a contract's user. With a `DAuth`
//! header too, the token's `msg_sender` must be the signer (403 otherwise), and the caller is
//! the token's contract user with its `msg_sender` proven.

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::Full;

use super::forward::Forward;
use crate::auth::eip191::Signer;
use crate::auth::erc8128::{self, SignedRequest, Target};
use crate::auth::{AuthMethod, Authorization, DAUTH_HEADER, Principal};
use crate::config::{AuthMode, RouteConfig};
use crate::error::{Error, WalletError};
use crate::http::body::Body;
use crate::http::client_body::{ClientBody, Inbound};
use crate::http::read::read_body;
use crate::state::policy::Policy;
use crate::state::shared::Shared;

/// What the wallet step needs of the request's context.
pub(super) struct At<'a> {
    pub(super) shared: &'a Shared,
    pub(super) policy: &'a Policy,
    /// The TCP peer.
    pub(super) peer: std::net::IpAddr,
    /// Whether the connection is TLS.
    pub(super) tls: bool,
    /// The client IP (trusted proxies applied).
    pub(super) ip: std::net::IpAddr,
    pub(super) now: i64,
}

/// What the log line says about authentication: the method (or `rejected`) and the user.
pub(super) struct Seen<'a> {
    pub(super) auth: &'a mut &'static str,
    pub(super) user_id: &'a mut Option<String>,
}

/// The request-target as the client sent it, before the path was made canonical.
#[derive(Debug, Clone)]
pub(super) struct Received {
    path: String,
    query: Option<String>,
}

impl Received {
    /// Remembers `uri`'s raw path and query.
    pub(super) fn of(uri: &http::Uri) -> Self {
        let path = match uri.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        };
        Self {
            path,
            query: uri.query().map(str::to_owned),
        }
    }
}

/// True when `route` takes method `name` (every enabled method when it has no list).
pub(super) fn accepts(route: &RouteConfig, name: &str) -> bool {
    route
        .auth_methods
        .as_ref()
        .is_none_or(|list| list.contains(&name))
}

/// True when this request goes the wallet way: wallets on, the route authenticates and
/// accepts `erc8128`, and the request carries an ERC-8128 header.
pub(super) fn is_signed<B>(policy: &Policy, route: &RouteConfig, req: &Request<B>) -> bool {
    policy.config.wallets.enabled
        && route.auth != AuthMode::None
        && accepts(route, "erc8128")
        && erc8128::present(req.headers())
}

/// True when an embedded endpoint that needs a caller gets an ERC-8128 signed request.
pub(super) fn signs_embedded<B>(policy: &Policy, req: &Request<B>) -> bool {
    policy.config.wallets.enabled && erc8128::present(req.headers())
}

/// Reads the body (bounded), authenticates the signed request, and forwards it with those
/// same bytes.
pub(super) async fn forward<B: Inbound>(
    at: &At<'_>,
    route: &RouteConfig,
    req: Request<ClientBody<B>>,
    trace: Seen<'_>,
) -> Result<Response<Body>, Error> {
    let limit = route
        .max_body_bytes
        .unwrap_or(at.policy.config.server.max_body_bytes);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Error::BodyTooLarge);
    }
    let (parts, body) = req.into_parts();
    let timeout = body.timeout();
    let bytes = read_body(body, usize::try_from(limit).unwrap_or(usize::MAX)).await?;
    let metrics = &at.shared.metrics;
    let who = principal(at, &parts, &bytes).await.inspect_err(|e| {
        *trace.auth = "rejected";
        metrics.auth_refused("erc8128", e.code());
    })?;
    *trace.auth = who.method.as_str();
    metrics.auth_ok(trace.auth);
    *trace.user_id = Some(who.user.user_id.clone());
    if !accepts(route, who.method.as_str()) {
        return Err(WalletError::MethodNotAccepted(who.method.as_str()).into());
    }
    let req = Request::from_parts(parts, ClientBody::new(Full::new(bytes), timeout));
    let fwd = Forward {
        shared: at.shared,
        policy: at.policy,
        peer: at.peer,
        tls: at.tls,
        route,
        now: at.now,
    };
    fwd.send(req, Some(&who)).await
}

/// Who signed the request (see the module docs).
pub(super) async fn principal(
    at: &At<'_>,
    parts: &http::request::Parts,
    body: &Bytes,
) -> Result<Principal, Error> {
    let wallets = &at.policy.config.wallets;
    let received = parts
        .extensions
        .get::<Received>()
        .cloned()
        .unwrap_or_else(|| Received::of(&parts.uri));
    let authority = authority(parts, at.tls).ok_or(WalletError::Malformed)?;
    let target = Target {
        method: parts.method.as_str(),
        authority: &authority,
        path: &received.path,
        query: received.query.as_deref().filter(|q| !q.is_empty()),
        headers: &parts.headers,
        body,
    };
    let signed = erc8128::verify(&target, &wallets.rules, at.now)?;
    let contract = prove(at.policy, &signed).await?;
    let signer = signed.address.to_checksum(None);
    let who = match crate::auth::authorization(&parts.headers)? {
        Authorization::Bearer(_) => return Err(Error::AmbiguousCredentials),
        Authorization::Absent | Authorization::Other => pinned(at, &parts.headers, &signer).await?,
    };
    erc8128::consume(&*at.shared.wallet_replay, &signed, &wallets.rules, at.now).await?;
    match who {
        Some(dauth) => Ok(dauth),
        None => signer_user(at, &signed, signer, contract).await,
    }
}

/// The signer proven: an EOA's signature recovered to the keyid address (`Ok(false)`), or,
/// where `wallets.rpc_urls` has the chain, a contract account's signature its chain vouches
/// for (EIP-1271 / ERC-6492: `Ok(true)`).
async fn prove(policy: &Policy, signed: &SignedRequest) -> Result<bool, Error> {
    let contract_signed = |e: &WalletError| {
        let e = e.clone();
        async move {
            let asked = policy
                .contracts
                .check(
                    signed.chain_id,
                    signed.address,
                    &signed.hash,
                    &signed.signature,
                )
                .await;
            match asked {
                None => Err(e.into()),
                Some(Ok(true)) => Ok(true),
                Some(Ok(false)) => Err(WalletError::WrongSigner.into()),
                Some(Err(cause)) => Err(WalletError::ChainUnavailable(cause.to_string()).into()),
            }
        }
    };
    match signed.signer {
        Signer::Eoa => Ok(false),
        Signer::Other => contract_signed(&WalletError::WrongSigner).await,
        Signer::NotEoaShaped => contract_signed(&WalletError::BadSignatureLength).await,
    }
}

/// With a `DAuth` header too: the token's principal, whose `msg_sender` must be `signer`.
async fn pinned(
    at: &At<'_>,
    headers: &http::HeaderMap,
    signer: &str,
) -> Result<Option<Principal>, Error> {
    if !headers.contains_key(DAUTH_HEADER) || !at.policy.dauth.policy().enabled {
        return Ok(None);
    }
    let who = super::authenticate::authenticate(at.shared, at.policy, headers, at.ip, at.now)
        .await?
        .ok_or(Error::MissingCredentials)?;
    let same = who
        .msg_sender
        .as_deref()
        .is_some_and(|sender| sender.eq_ignore_ascii_case(signer));
    if !same {
        return Err(WalletError::SenderMismatch.into());
    }
    Ok(Some(Principal {
        msg_sender: Some(signer.to_owned()),
        ..who
    }))
}

/// The user of a signer: an EOA is (`siwe.<chain id>`, EIP-55 address); a contract account
/// is the contract user a DAuth token for it gets (the network `wallets.chains` names).
async fn signer_user(
    at: &At<'_>,
    signed: &SignedRequest,
    signer: String,
    contract: bool,
) -> Result<Principal, Error> {
    let provider = match at.policy.config.wallets.chains.get(&signed.chain_id) {
        Some(network) if contract => network.clone(),
        _ => format!("siwe.{}", signed.chain_id),
    };
    let user = at
        .shared
        .store
        .users
        .get_or_create_dauth_user(&provider, &signer, at.now)
        .await?;
    Ok(Principal {
        user,
        method: AuthMethod::Erc8128,
        consumer_key: None,
        msg_sender: Some(signer),
        bearer: None,
        relay: None,
    })
}

/// `@authority` (RFC 9421 2.2.3): the Host header (HTTP/1.1) or `:authority` (h2), lower-cased,
/// without the scheme's default port.
fn authority(parts: &http::request::Parts, tls: bool) -> Option<String> {
    let raw = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))?;
    let lower = raw.trim().to_ascii_lowercase();
    let default = if tls { ":443" } else { ":80" };
    Some(match lower.strip_suffix(default) {
        Some(host) if !host.is_empty() => host.to_owned(),
        _ => lower,
    })
}
