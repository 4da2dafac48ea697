//! Embedded handlers: routing by (method, path) and the JSON in and out of them.
//!
//! This module owns the handlers the gateway answers itself (`/health`, OBP's
//! `/users/current`) and the response helpers every layer uses (JSON bodies, the error shape).
//! It does not authenticate: the pipeline hands each handler an already-checked principal.

use http::{HeaderValue, Method, Request, Response, StatusCode, header};

use std::net::IpAddr;

use crate::auth::Principal;
use crate::config::AuthMode;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::client_body::ClientBody;
pub use crate::http::read::{MAX_JSON_BODY, read_body, read_json};
use crate::http::render::{json, text};
use crate::obp::paths::AccountPath;
use crate::obp::{accounts, users};
use crate::oidc::token as oidc;
use crate::oidc::users as client_users;
use crate::people::paths::IdentityOp;
use crate::people::{login, profile, register as identity, reset};
use crate::state::call::Call;
use crate::state::policy::Policy;
use crate::state::shared::Shared;

/// An embedded endpoint, found by [`endpoint_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /health`: liveness, no authentication.
    Health,
    /// `GET /obp/{version}/users/current`.
    CurrentUser,
    /// `/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/...`.
    Account(AccountPath),
    /// The user service under `/api/`, and `/.well-known/jwks.json`.
    Identity(IdentityOp),
    /// `POST /oidc/token`.
    Token,
    /// `GET /.well-known/openid-configuration`.
    Discovery,
    /// `GET|POST /users`: a client's users.
    ClientUsers,
    /// `GET|DELETE /users/{userId}`.
    ClientUser(String),
}

/// Every [`Endpoint::namespace`]: the prefixes the embedded handlers claim, which
/// [`crate::path::Claims`] compares in every reading of a path.
pub const NAMESPACES: [&str; 6] = [
    "/health",
    "/obp/",
    "/.well-known/",
    "/api/",
    "/oidc/",
    "/users",
];

impl Endpoint {
    /// The path namespace the endpoint lives in (one of [`NAMESPACES`]). A route whose prefix matches the path and is
    /// at least this long claims the path from the embedded handler.
    pub fn namespace(&self) -> &'static str {
        match self {
            Self::Health => "/health",
            Self::CurrentUser | Self::Account(_) => "/obp/",
            Self::Identity(IdentityOp::Jwks) | Self::Discovery => "/.well-known/",
            Self::Identity(_) => "/api/",
            Self::Token => "/oidc/",
            Self::ClientUsers | Self::ClientUser(_) => "/users",
        }
    }

    /// The methods the endpoint answers, as an `Allow` header value.
    pub fn allow(&self) -> &'static str {
        match self {
            Self::Health | Self::CurrentUser => "GET, HEAD",
            Self::Account(p) => p.op.allow(),
            Self::Identity(op) => op.allow(),
            Self::Token => "POST, OPTIONS",
            Self::Discovery => "GET, HEAD, OPTIONS",
            Self::ClientUsers => "GET, HEAD, POST",
            Self::ClientUser(_) => "GET, HEAD, DELETE",
        }
    }

    /// Whether the endpoint authenticates its caller, and must find one.
    pub fn auth(&self) -> AuthMode {
        match self {
            Self::Health => AuthMode::None,
            Self::CurrentUser | Self::Account(_) => AuthMode::Required,
            Self::Identity(op) if op.needs_user() => AuthMode::Required,
            Self::Identity(IdentityOp::Sync) => AuthMode::Optional,
            Self::Identity(_) | Self::Token | Self::Discovery => AuthMode::None,
            Self::ClientUsers | Self::ClientUser(_) => AuthMode::Required,
        }
    }

    /// Refuses methods the endpoint does not answer.
    pub fn check_method(&self, method: &Method) -> Result<(), Error> {
        let allow = self.allow();
        if allow.split(", ").any(|m| m == method.as_str()) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed { allow })
        }
    }

    /// Whether the endpoint is one of the anonymous password endpoints, which have a per-IP
    /// rate of their own (`limits.password_per_ip_per_minute`).
    pub fn is_anonymous_password(&self) -> bool {
        matches!(self, Self::Identity(op) if op.is_anonymous_password())
    }
}

/// The embedded endpoint serving `path`, if any.
pub fn endpoint_for(path: &str) -> Option<Endpoint> {
    match path {
        "/health" => Some(Endpoint::Health),
        "/oidc/token" => Some(Endpoint::Token),
        "/.well-known/openid-configuration" => Some(Endpoint::Discovery),
        "/users" => Some(Endpoint::ClientUsers),
        _ if path.starts_with("/users/") => {
            let id = &path["/users/".len()..];
            (!id.is_empty() && !id.contains('/')).then(|| Endpoint::ClientUser(id.to_owned()))
        }
        _ if users::is_current_user_path(path) => Some(Endpoint::CurrentUser),
        _ if path.starts_with("/api/") || path.starts_with("/.well-known/") => {
            crate::people::paths::parse(path).map(Endpoint::Identity)
        }
        _ => crate::obp::paths::parse(path).map(Endpoint::Account),
    }
}

/// Answers a request for an embedded endpoint; `who` is present whenever [`Endpoint::auth`]
/// is `Required`.
pub async fn serve(
    shared: &Shared,
    policy: &Policy,
    endpoint: Endpoint,
    req: Request<ClientBody>,
    who: Option<&Principal>,
    peer: IpAddr,
    now: i64,
) -> Result<Response<Body>, Error> {
    let who_required = || who.ok_or(Error::MissingCredentials);
    let (parts, body) = req.into_parts();
    let method = &parts.method;
    let call = &Call {
        shared,
        policy,
        head: &parts,
        peer,
        now,
    };
    match endpoint {
        Endpoint::Health => Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}))),
        Endpoint::CurrentUser => users::current_user(&*shared.store.access, who_required()?).await,
        Endpoint::Account(path) => accounts::serve(call, path, method, body, who_required()?).await,
        Endpoint::Identity(op) => match op {
            IdentityOp::Register => identity::register(call, body).await,
            IdentityOp::Confirm => identity::confirm(call, body).await,
            IdentityOp::Login => login::login(call, body).await,
            IdentityOp::Refresh => identity::refresh(call, body).await,
            IdentityOp::ResetRequest => reset::reset_request(call, body).await,
            IdentityOp::ResetConfirm => reset::reset_confirm(call, body).await,
            IdentityOp::Jwks => identity::jwks(call),
            IdentityOp::Health => Ok(text(StatusCode::OK, "all good")),
            IdentityOp::Me if method == Method::PATCH => {
                profile::update_names(call, who_required()?, body).await
            }
            IdentityOp::Me => profile::current(call, who_required()?).await,
            IdentityOp::Profile => profile::profile(call, who_required()?).await,
            IdentityOp::Attributes if method == Method::PUT => {
                profile::set_attribute(call, who_required()?, body).await
            }
            IdentityOp::Attributes => profile::list_attributes(call, who_required()?).await,
            IdentityOp::Attribute(key) => {
                profile::delete_attribute(call, who_required()?, key).await
            }
            IdentityOp::Sync => {
                crate::people::sync::sync(call, &parts.headers, peer, who, body).await
            }
        },
        Endpoint::Token => oidc::token(call, &parts.headers, body).await,
        Endpoint::Discovery => oidc::discovery(call),
        Endpoint::ClientUsers if method == Method::POST => {
            client_users::create(call, who_required()?, body).await
        }
        Endpoint::ClientUsers => client_users::list(call, who_required()?, parts.uri.query()).await,
        Endpoint::ClientUser(id) if method == Method::DELETE => {
            client_users::delete(call, who_required()?, &id).await
        }
        Endpoint::ClientUser(id) => client_users::get(call, who_required()?, &id).await,
    }
}

/// The answer to `OPTIONS`: the allowed methods, as text and in `Allow` (seed 001).
pub fn options(endpoint: &Endpoint) -> Response<Body> {
    let allow = endpoint.allow();
    let mut resp = text(StatusCode::OK, allow);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_embedded_paths_and_checks_methods() {
        assert_eq!(endpoint_for("/health"), Some(Endpoint::Health));
        assert!(matches!(
            endpoint_for("/obp/v4.0.0/banks/b/accounts/a/views"),
            Some(Endpoint::Account(_))
        ));
        assert_eq!(
            endpoint_for("/obp/v5.1.0/users/current"),
            Some(Endpoint::CurrentUser)
        );
        assert_eq!(endpoint_for("/nope"), None);
        assert!(matches!(
            Endpoint::Health.check_method(&Method::POST),
            Err(Error::MethodNotAllowed { .. })
        ));
        Endpoint::Health.check_method(&Method::HEAD).unwrap();
    }

    #[test]
    fn every_namespace_is_listed() {
        for path in [
            "/health",
            "/obp/v5.1.0/users/current",
            "/obp/v4.0.0/banks/b/accounts/a/views",
            "/api/auth/login",
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
            "/oidc/token",
            "/users",
            "/users/u-1",
        ] {
            let e = endpoint_for(path).unwrap_or_else(|| panic!("{path}"));
            assert!(NAMESPACES.contains(&e.namespace()), "{path}");
            assert!(path.starts_with(e.namespace()), "{path}");
        }
    }
}
