//! The embedded endpoints: which path is which endpoint, which methods it answers, and what it
//! needs of the caller. The one table the pipeline decides by; dispatching is [`super::dispatch`].
//!
//! The table is data: `TABLE` has one row per OpenAPI path template, and a path is served by
//! the first row whose template it fits and whose builder (the product's parser) accepts it.
//! [`listed`] exposes the rows, so `tests/openapi.rs` holds `GET /openapi.json` to them.
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
    /// `GET /openapi.json`: the OpenAPI document of these endpoints.
    ApiDocument,
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
            Self::Open(Open::ApiDocument) => "openapi",
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
            Self::Open(Open::ApiDocument) => "/openapi.json",
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
            Self::Open(Open::Health | Open::ApiDocument)
            | Self::Authenticated(Authenticated::CurrentUser) => "GET, HEAD",
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

/// Who may call an embedded endpoint, as the table says (its [`Endpoint`] variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Anyone; credentials are not read.
    Anyone,
    /// Anyone; credentials are verified when present.
    Optional,
    /// Only an authenticated caller (DAuth, bearer, Airnode or an ERC-8128 signature).
    Required,
}

/// An embedded endpoint as [`TABLE`] lists it: what `GET /openapi.json` documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The OpenAPI path template, e.g. `/users/{userId}`.
    pub template: &'static str,
    /// A path the endpoint serves.
    pub example: &'static str,
    /// The methods it answers (its `Allow` value), e.g. `["GET", "HEAD"]`.
    pub methods: Vec<&'static str>,
    /// Who may call it.
    pub caller: Caller,
}

/// Every embedded endpoint, in table order.
pub fn listed() -> Vec<Listed> {
    TABLE
        .iter()
        .map(|row| {
            let endpoint = (row.build)(row.example);
            Listed {
                template: row.template,
                example: row.example,
                methods: endpoint
                    .as_ref()
                    .map_or(Vec::new(), |e| e.allow().split(", ").collect()),
                caller: match endpoint {
                    Some(Endpoint::Open(_)) | None => Caller::Anyone,
                    Some(Endpoint::Optional(_)) => Caller::Optional,
                    Some(Endpoint::Authenticated(_)) => Caller::Required,
                },
            }
        })
        .collect()
}

/// The template of the table row that serves `path`, if one does.
pub fn template_for(path: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .filter(|row| fits(row.template, path))
        .find(|row| (row.build)(path).is_some())
        .map(|row| row.template)
}

/// Whether a request with `method` to an embedded endpoint has a body its handler reads: the
/// methods that carry one (`POST`, `PUT`, `PATCH`). Any other request's body is not read.
pub(super) fn takes_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

/// The embedded endpoint serving `path`, if any: the first row of [`TABLE`] whose template
/// the path fits and whose builder accepts it.
pub(super) fn endpoint_for(path: &str) -> Option<Endpoint> {
    // Every endpoint lives under one of the namespaces (tests.rs checks it): a forwarded path
    // (most of the traffic) is known not to be one without a walk through the table.
    if !crate::path::EMBEDDED_NAMESPACES
        .iter()
        .any(|ns| path.starts_with(ns))
    {
        return None;
    }
    TABLE
        .iter()
        .filter(|row| fits(row.template, path))
        .find_map(|row| (row.build)(path))
}

/// One row of the endpoint table: the OpenAPI path template (RFC 6570 `{name}` for one
/// segment, which may be any segment, even empty: the builder checks it), a path it serves
/// (the documentation's example and the row's own test), and the builder that names the
/// endpoint (the product's parser, which may still refuse, e.g. a version it does not serve).
struct Row {
    template: &'static str,
    example: &'static str,
    build: fn(&str) -> Option<Endpoint>,
}

/// Whether `path` has the segments of `template`: as many, and the literal ones equal.
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts == ps || (ts.starts_with('{') && ts.ends_with('}')) => {}
            _ => return false,
        }
    }
}

fn open(op: Open) -> Option<Endpoint> {
    Some(Endpoint::Open(op))
}

fn client_user(path: &str) -> Option<Endpoint> {
    let id = path.strip_prefix("/users/")?;
    (!id.is_empty()).then(|| Endpoint::Authenticated(Authenticated::ClientUser(id.to_owned())))
}

fn current_user(path: &str) -> Option<Endpoint> {
    crate::obp::users::is_current_user_path(path)
        .then_some(Endpoint::Authenticated(Authenticated::CurrentUser))
}

fn people(path: &str) -> Option<Endpoint> {
    crate::people::paths::parse(path).map(|p| match p {
        PeoplePath::Public(p) => Endpoint::Open(Open::People(p)),
        PeoplePath::Sync => Endpoint::Optional(Optional::Sync),
        PeoplePath::Mine(m) => Endpoint::Authenticated(Authenticated::Mine(m)),
    })
}

fn account(path: &str) -> Option<Endpoint> {
    crate::obp::paths::parse(path).map(|p| Endpoint::Authenticated(Authenticated::Account(p)))
}

/// Shorthand for a row.
const fn row(
    template: &'static str,
    example: &'static str,
    build: fn(&str) -> Option<Endpoint>,
) -> Row {
    Row {
        template,
        example,
        build,
    }
}

/// Every embedded endpoint: the one table routing reads (and `GET /openapi.json` documents,
/// `tests/openapi.rs` checking the document against it both ways).
const TABLE: &[Row] = &[
    row("/health", "/health", |_| open(Open::Health)),
    row("/openapi.json", "/openapi.json", |_| {
        open(Open::ApiDocument)
    }),
    row("/oidc/token", "/oidc/token", |_| open(Open::Token)),
    row("/auth/siwe/nonce", "/auth/siwe/nonce", |_| {
        open(Open::SiweNonce)
    }),
    row("/auth/siwe/login", "/auth/siwe/login", |_| {
        open(Open::SiweLogin)
    }),
    row(
        "/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
        |_| open(Open::Discovery),
    ),
    row("/.well-known/jwks.json", "/.well-known/jwks.json", people),
    row("/users", "/users", |_| {
        Some(Endpoint::Authenticated(Authenticated::ClientUsers))
    }),
    row("/users/{userId}", "/users/u-1", client_user),
    row(
        "/obp/{version}/users/current",
        "/obp/v5.1.0/users/current",
        current_user,
    ),
    row("/api/auth/register", "/api/auth/register", people),
    row("/api/auth/confirm", "/api/auth/confirm", people),
    row("/api/auth/login", "/api/auth/login", people),
    row("/api/auth/refresh", "/api/auth/refresh", people),
    row(
        "/api/auth/password-reset",
        "/api/auth/password-reset",
        people,
    ),
    row(
        "/api/auth/password-reset/confirm",
        "/api/auth/password-reset/confirm",
        people,
    ),
    row("/api/health", "/api/health", people),
    row("/api/users", "/api/users", people),
    row("/api/users/", "/api/users/", people),
    row("/api/users/me", "/api/users/me", people),
    row("/api/users/me/profile", "/api/users/me/profile", people),
    row(
        "/api/users/me/attributes",
        "/api/users/me/attributes",
        people,
    ),
    row(
        "/api/users/me/attributes/{key}",
        "/api/users/me/attributes/k",
        people,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}",
        "/obp/v4.0.0/banks/b1/accounts/a1",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/views",
        "/obp/v4.0.0/banks/b1/accounts/a1/views",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/user-account-access",
        "/obp/v4.0.0/banks/b1/accounts/a1/user-account-access",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/account-access/grant",
        "/obp/v4.0.0/banks/b1/accounts/a1/account-access/grant",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/account-access/revoke",
        "/obp/v4.0.0/banks/b1/accounts/a1/account-access/revoke",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/account-access",
        "/obp/v4.0.0/banks/b1/accounts/a1/account-access",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/views/{VIEW_ID}/user-account-access",
        "/obp/v5.1.0/banks/b1/accounts/a1/views/owner/user-account-access",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/views/{VIEW_ID}/account-access/grant",
        "/obp/v5.1.0/banks/b1/accounts/a1/views/owner/account-access/grant",
        account,
    ),
    row(
        "/obp/{version}/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/views/{VIEW_ID}/account-access/revoke",
        "/obp/v5.1.0/banks/b1/accounts/a1/views/owner/account-access/revoke",
        account,
    ),
];

#[cfg(test)]
mod tests;
