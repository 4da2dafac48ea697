//! The identity service's paths (`/api/...`, `/.well-known/jwks.json`) and their methods.

/// What an identity path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityOp {
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
    /// `GET|PATCH /api/users/me`
    Me,
    /// `GET /api/users/me/profile`
    Profile,
    /// `GET|PUT /api/users/me/attributes`
    Attributes,
    /// `DELETE /api/users/me/attributes/{key}`
    Attribute(String),
    /// `PUT /api/users`
    Sync,
    /// `GET /api/health`
    Health,
    /// `GET /.well-known/jwks.json`
    Jwks,
}

impl IdentityOp {
    /// The methods the path answers (besides `OPTIONS`), as an `Allow` value.
    pub fn allow(&self) -> &'static str {
        match self {
            Self::Register
            | Self::Confirm
            | Self::Login
            | Self::Refresh
            | Self::ResetRequest
            | Self::ResetConfirm => "POST, OPTIONS",
            Self::Me => "GET, HEAD, PATCH, OPTIONS",
            Self::Attributes => "GET, HEAD, PUT, OPTIONS",
            Self::Attribute(_) => "DELETE, OPTIONS",
            Self::Sync => "PUT, OPTIONS",
            Self::Profile | Self::Health | Self::Jwks => "GET, HEAD, OPTIONS",
        }
    }

    /// Register, confirm, login and both reset calls: anonymous, and each may cost a password
    /// hash or guess a password or a code.
    pub fn is_anonymous_password(&self) -> bool {
        matches!(
            self,
            Self::Register | Self::Confirm | Self::Login | Self::ResetRequest | Self::ResetConfirm
        )
    }

    /// Whether the endpoint needs a password user's bearer token.
    pub fn needs_user(&self) -> bool {
        matches!(
            self,
            Self::Me | Self::Profile | Self::Attributes | Self::Attribute(_)
        )
    }
}

/// The identity operation for `path`, if any.
pub fn parse(path: &str) -> Option<IdentityOp> {
    Some(match path {
        "/api/auth/register" => IdentityOp::Register,
        "/api/auth/confirm" => IdentityOp::Confirm,
        "/api/auth/login" => IdentityOp::Login,
        "/api/auth/refresh" => IdentityOp::Refresh,
        "/api/auth/password-reset" => IdentityOp::ResetRequest,
        "/api/auth/password-reset/confirm" => IdentityOp::ResetConfirm,
        "/api/users/me" => IdentityOp::Me,
        "/api/users/me/profile" => IdentityOp::Profile,
        "/api/users/me/attributes" => IdentityOp::Attributes,
        "/api/users" | "/api/users/" => IdentityOp::Sync,
        "/api/health" => IdentityOp::Health,
        "/.well-known/jwks.json" => IdentityOp::Jwks,
        _ => {
            let key = path.strip_prefix("/api/users/me/attributes/")?;
            if key.is_empty() || key.contains('/') {
                return None;
            }
            IdentityOp::Attribute(key.to_owned())
        }
    })
}
