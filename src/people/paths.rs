//! The user service's paths (`/api/...`, `/.well-known/jwks.json`), grouped by what they need
//! of the caller: anonymous ([`Public`]), an optional caller ([`PeoplePath::Sync`]), or a
//! password user's bearer token ([`Mine`]).

/// What a user-service path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeoplePath {
    /// Anonymous endpoints.
    Public(Public),
    /// `PUT /api/users`: an administrator, or the internal system from an internal peer.
    Sync,
    /// The caller's own user.
    Mine(Mine),
}

/// The anonymous endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Public {
    /// `POST /api/auth/register`
    Register,
    /// `POST /api/auth/confirm`
    Confirm,
    /// `POST /api/auth/login`
    Login,
    /// `POST /api/auth/refresh`
    Refresh,
    /// `POST /api/auth/password-reset`
    ResetRequest,
    /// `POST /api/auth/password-reset/confirm`
    ResetConfirm,
    /// `GET /api/health`
    Health,
    /// `GET /.well-known/jwks.json`
    Jwks,
}

/// The endpoints of the caller's own user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mine {
    /// `GET|PATCH /api/users/me`
    Me,
    /// `GET /api/users/me/profile`
    Profile,
    /// `GET|PUT /api/users/me/attributes`
    Attributes,
    /// `DELETE /api/users/me/attributes/{key}`
    Attribute(String),
}

impl Public {
    /// The methods the path answers, as an `Allow` value.
    pub(crate) fn allow(self) -> &'static str {
        match self {
            Self::Health | Self::Jwks => "GET, HEAD, OPTIONS",
            _ => "POST, OPTIONS",
        }
    }

    /// Register, confirm, login and both reset calls: each may cost a password hash or guess a
    /// password or a code, so they have a per-IP rate of their own.
    pub(crate) fn is_password(self) -> bool {
        matches!(
            self,
            Self::Register | Self::Confirm | Self::Login | Self::ResetRequest | Self::ResetConfirm
        )
    }
}

impl Mine {
    /// The methods the path answers, as an `Allow` value.
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Self::Me => "GET, HEAD, PATCH, OPTIONS",
            Self::Profile => "GET, HEAD, OPTIONS",
            Self::Attributes => "GET, HEAD, PUT, OPTIONS",
            Self::Attribute(_) => "DELETE, OPTIONS",
        }
    }
}

impl PeoplePath {
    /// The methods the path answers, as an `Allow` value.
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Self::Public(p) => p.allow(),
            Self::Sync => "PUT, OPTIONS",
            Self::Mine(m) => m.allow(),
        }
    }
}

/// The user-service path `path`, if it is one.
pub(crate) fn parse(path: &str) -> Option<PeoplePath> {
    use PeoplePath::{Mine as M, Public as P};
    Some(match path {
        "/api/auth/register" => P(Public::Register),
        "/api/auth/confirm" => P(Public::Confirm),
        "/api/auth/login" => P(Public::Login),
        "/api/auth/refresh" => P(Public::Refresh),
        "/api/auth/password-reset" => P(Public::ResetRequest),
        "/api/auth/password-reset/confirm" => P(Public::ResetConfirm),
        "/api/health" => P(Public::Health),
        "/.well-known/jwks.json" => P(Public::Jwks),
        "/api/users/me" => M(Mine::Me),
        "/api/users/me/profile" => M(Mine::Profile),
        "/api/users/me/attributes" => M(Mine::Attributes),
        "/api/users" | "/api/users/" => PeoplePath::Sync,
        _ => {
            let key = path.strip_prefix("/api/users/me/attributes/")?;
            if key.is_empty() || key.contains('/') {
                return None;
            }
            M(Mine::Attribute(key.to_owned()))
        }
    })
}
