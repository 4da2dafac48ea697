//! What a client is told about an error: the shape of a row of the table ([`Public`]) and the
//! one header it may carry ([`Header`]), with the challenges a 401 names. The table itself is
//! [`super::table`].

use http::StatusCode;

/// What a client is told about an [`super::Error`] (see `Error::public`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Public {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code, `OBP-...` or `DAUTH-...`.
    pub code: &'static str,
    /// The fixed text.
    pub text: &'static str,
    /// The header that goes with it, if any.
    pub header: Header,
}

/// The one header an error answer may carry beyond `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// None.
    None,
    /// `WWW-Authenticate` with this challenge (RFC 9110 11.6.1: every 401 has one).
    Challenge(&'static str),
    /// `WWW-Authenticate` naming the scope a bearer token lacks (RFC 6750 3.1,
    /// `insufficient_scope`).
    InsufficientScope(&'static str),
    /// `Allow`: the methods the path takes (RFC 9110 15.5.6: a 405 lists them).
    Allow(&'static str),
    /// `Retry-After`, in seconds (RFC 9110 10.2.3).
    RetryAfter(u64),
}

/// The challenge of a 401 that is not about a bearer token: either credential would do.
pub const ANY_CHALLENGE: &str = r#"DAuth realm="dauth-proxy", Bearer realm="dauth-proxy""#;
/// The challenge of a refused bearer token (RFC 6750 3.1, `invalid_token`).
pub const BEARER_REFUSED: &str = r#"Bearer realm="dauth-proxy", error="invalid_token""#;

/// A row of the table, with the header its status implies: a 401 challenges for either
/// credential, a 503 asks to retry in a second. Rows that need another header say so
/// ([`Public::with`]).
pub(super) fn row(status: StatusCode, code: &'static str, text: &'static str) -> Public {
    let header = match status {
        StatusCode::UNAUTHORIZED => Header::Challenge(ANY_CHALLENGE),
        StatusCode::SERVICE_UNAVAILABLE => Header::RetryAfter(1),
        _ => Header::None,
    };
    Public {
        status,
        code,
        text,
        header,
    }
}
