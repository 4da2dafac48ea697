//! The embedded endpoints: which path is which endpoint, which methods it answers, and what it
//! needs of the caller. The one table the pipeline decides by; dispatching is [`super::dispatch`].
//!
//! An [`Endpoint`]'s variant is its authentication: [`Endpoint::Open`] never authenticates,
//! [`Endpoint::Optional`] authenticates credentials when there are any, and
//! [`Endpoint::Authenticated`] must find a caller. So the pipeline authenticates in one place and
//! a handler that needs a caller is handed one, never asked to check again.

use http::Method;

use crate::error::Error;
use crate::obp::paths::AccountPath;
use crate::people::paths::{Mine, PeoplePath, Public};

/// An embedded endpoint, found by [`endpoint_for`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// No authentication.
    Open(Open),
    /// Authenticated when credentials are present.
    Optional(Optional),
    /// Only for an authenticated caller.
    Authenticated(Authenticated),
}

/// The endpoints anyone may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    /// `GET /health`: liveness.
    Health,
    /// The user service's anonymous endpoints, and `/.well-known/jwks.json`.
    People(Public),
    /// `POST /oidc/token`.
    Token,
    /// `GET /.well-known/openid-configuration`.
    Discovery,
    /// `POST /auth/siwe/nonce`.
    SiweNonce,
    /// `POST /auth/siwe/login`.
    SiweLogin,
}

/// The endpoints that take a caller when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Optional {
    /// `PUT /api/users`: an administrator, or the internal system (which sends no credentials).
    Sync,
}

/// The endpoints that need a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Authenticated {
    /// `GET /obp/{version}/users/current`.
    CurrentUser,
    /// `/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/...`.
    Account(AccountPath),
    /// `/api/users/me...`: a password user's own user.
    Mine(Mine),
    /// `GET|POST /users`: a client's users.
    ClientUsers,
    /// `GET|DELETE /users/{userId}`.
    ClientUser(String),
}

impl Endpoint {
    /// The endpoint's name in metrics (one of [`crate::metrics::EMBEDDED_ENDPOINTS`]).
    pub(super) fn name(&self) -> &'static str {
        use Authenticated as A;
        match self {
            Self::Open(Open::Health) => "health",
            Self::Open(Open::Token) => "oidc_token",
            Self::Open(Open::Discovery) => "oidc_discovery",
            Self::Open(Open::SiweNonce) => "siwe_nonce",
            Self::Open(Open::SiweLogin) => "siwe_login",
            Self::Open(Open::People(p)) => match p {
                Public::Register => "people_register",
                Public::Confirm => "people_confirm",
                Public::Login => "people_login",
                Public::Refresh => "people_refresh",
                Public::ResetRequest | Public::ResetConfirm => "people_password_reset",
                Public::Health => "people_health",
                Public::Jwks => "jwks",
            },
            Self::Optional(Optional::Sync) => "people_sync",
            Self::Authenticated(A::Mine(_)) => "people_me",
            Self::Authenticated(A::CurrentUser) => "obp_current_user",
            Self::Authenticated(A::Account(_)) => "obp_account",
            Self::Authenticated(A::ClientUsers) => "client_users",
            Self::Authenticated(A::ClientUser(_)) => "client_user",
        }
    }

    /// The path namespace the endpoint lives in (one of [`crate::path::EMBEDDED_NAMESPACES`]).
    /// A route whose prefix matches the path and is at least this long claims the path from the
    /// embedded handler.
    pub(super) fn namespace(&self) -> &'static str {
        match self {
            Self::Open(Open::Health) => "/health",
            Self::Authenticated(Authenticated::CurrentUser | Authenticated::Account(_)) => "/obp/",
            Self::Open(Open::People(Public::Jwks) | Open::Discovery) => "/.well-known/",
            Self::Open(Open::People(_)) | Self::Optional(Optional::Sync) => "/api/",
            Self::Authenticated(Authenticated::Mine(_)) => "/api/",
            Self::Open(Open::Token) => "/oidc/",
            Self::Open(Open::SiweNonce | Open::SiweLogin) => "/auth/siwe/",
            Self::Authenticated(Authenticated::ClientUsers | Authenticated::ClientUser(_)) => {
                "/users"
            }
        }
    }

    /// The methods the endpoint answers, as an `Allow` header value.
    pub(super) fn allow(&self) -> &'static str {
        match self {
            Self::Open(Open::Health) | Self::Authenticated(Authenticated::CurrentUser) => {
                "GET, HEAD"
            }
            Self::Open(Open::People(p)) => p.allow(),
            Self::Open(Open::Token) => "POST, OPTIONS",
            Self::Open(Open::SiweNonce | Open::SiweLogin) => "POST",
            Self::Open(Open::Discovery) => "GET, HEAD, OPTIONS",
            Self::Optional(Optional::Sync) => PeoplePath::Sync.allow(),
            Self::Authenticated(Authenticated::Account(p)) => p.op.allow(),
            Self::Authenticated(Authenticated::Mine(m)) => m.allow(),
            Self::Authenticated(Authenticated::ClientUsers) => "GET, HEAD, POST",
            Self::Authenticated(Authenticated::ClientUser(_)) => "GET, HEAD, DELETE",
        }
    }

    /// Refuses methods the endpoint does not answer.
    pub(super) fn check_method(&self, method: &Method) -> Result<(), Error> {
        let allow = self.allow();
        if allow.split(", ").any(|m| m == method.as_str()) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed { allow })
        }
    }

    /// Whether the endpoint answers `OPTIONS` itself (seed 001's endpoints do).
    pub(super) fn answers_options(&self) -> bool {
        self.allow().contains("OPTIONS")
    }

    /// Whether the endpoint is one of the anonymous password endpoints, which have a per-IP
    /// rate of their own (`limits.password_per_ip_per_minute`).
    pub(super) fn is_anonymous_password(&self) -> bool {
        matches!(self, Self::Open(Open::People(p)) if p.is_password())
    }
}

/// Whether a request with `method` to an embedded endpoint has a body its handler reads: the
/// methods that carry one (`POST`, `PUT`, `PATCH`). Any other request's body is not read.
pub(super) fn takes_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// The embedded endpoint serving `path`, if any.
pub(super) fn endpoint_for(path: &str) -> Option<Endpoint> {
    use Endpoint::{Authenticated as A, Open as O};
    match path {
        "/health" => Some(O(Open::Health)),
        "/oidc/token" => Some(O(Open::Token)),
        "/auth/siwe/nonce" => Some(O(Open::SiweNonce)),
        "/auth/siwe/login" => Some(O(Open::SiweLogin)),
        "/.well-known/openid-configuration" => Some(O(Open::Discovery)),
        "/users" => Some(A(Authenticated::ClientUsers)),
        _ if path.starts_with("/users/") => {
            let id = &path["/users/".len()..];
            (!id.is_empty() && !id.contains('/'))
                .then(|| A(Authenticated::ClientUser(id.to_owned())))
        }
        _ if crate::obp::users::is_current_user_path(path) => Some(A(Authenticated::CurrentUser)),
        _ if path.starts_with("/api/") || path.starts_with("/.well-known/") => {
            crate::people::paths::parse(path).map(|p| match p {
                PeoplePath::Public(p) => O(Open::People(p)),
                PeoplePath::Sync => Endpoint::Optional(Optional::Sync),
                PeoplePath::Mine(m) => A(Authenticated::Mine(m)),
            })
        }
        _ => crate::obp::paths::parse(path).map(|p| A(Authenticated::Account(p))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::EMBEDDED_NAMESPACES as NAMESPACES;

    #[test]
    fn finds_embedded_paths_and_checks_methods() {
        let health = Endpoint::Open(Open::Health);
        assert_eq!(endpoint_for("/health"), Some(health.clone()));
        assert!(matches!(
            endpoint_for("/obp/v4.0.0/banks/b/accounts/a/views"),
            Some(Endpoint::Authenticated(Authenticated::Account(_)))
        ));
        assert_eq!(
            endpoint_for("/obp/v5.1.0/users/current"),
            Some(Endpoint::Authenticated(Authenticated::CurrentUser))
        );
        assert_eq!(endpoint_for("/nope"), None);
        assert!(matches!(
            health.check_method(&Method::POST),
            Err(Error::MethodNotAllowed { .. })
        ));
        health.check_method(&Method::HEAD).unwrap();
    }

    #[test]
    fn every_endpoint_name_is_a_metrics_label() {
        for path in [
            "/health",
            "/oidc/token",
            "/.well-known/openid-configuration",
            "/.well-known/jwks.json",
            "/auth/siwe/nonce",
            "/auth/siwe/login",
            "/api/auth/register",
            "/api/auth/confirm",
            "/api/auth/login",
            "/api/auth/refresh",
            "/api/auth/password-reset",
            "/api/auth/password-reset/confirm",
            "/api/health",
            "/api/users",
            "/api/users/me",
            "/obp/v5.1.0/users/current",
            "/obp/v4.0.0/banks/b/accounts/a/views",
            "/users",
            "/users/u1",
        ] {
            let e = endpoint_for(path).unwrap();
            assert!(
                crate::metrics::EMBEDDED_ENDPOINTS.contains(&e.name()),
                "{path}: {}",
                e.name()
            );
        }
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
            "/auth/siwe/nonce",
            "/users",
            "/users/u-1",
        ] {
            let e = endpoint_for(path).unwrap_or_else(|| panic!("{path}"));
            assert!(NAMESPACES.contains(&e.namespace()), "{path}");
            assert!(path.starts_with(e.namespace()), "{path}");
        }
    }

    #[test]
    fn authentication_follows_the_endpoint() {
        let kind = |p: &str| match endpoint_for(p) {
            Some(Endpoint::Open(_)) => "open",
            Some(Endpoint::Optional(_)) => "optional",
            Some(Endpoint::Authenticated(_)) => "authenticated",
            None => "none",
        };
        assert_eq!(kind("/api/auth/register"), "open");
        assert_eq!(kind("/.well-known/jwks.json"), "open");
        assert_eq!(kind("/api/users"), "optional");
        assert_eq!(kind("/api/users/me/attributes/k"), "authenticated");
        assert_eq!(kind("/users/u-1"), "authenticated");
    }
}
