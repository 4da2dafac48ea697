//! The one error type of the request path.
//!
//! Every way a request can fail is a variant named for its condition. Each variant maps to a
//! stable public code (OBP's where OBP has the condition, `DAUTH-` otherwise), an HTTP status
//! and a fixed public message; the cause, when there is one, stays in the variant for the log
//! and never reaches the client. The mapping is an exhaustive `match`, so a new variant does not
//! compile until it has a code and a status, and a table test pins every pair.
//!
//! Configuration and start-up failures are not here: they are [`crate::config::ConfigError`] and
//! [`crate::app::StartError`], reported once on the console.

use std::fmt;

use http::StatusCode;

use crate::store::StoreError;

/// Why a DAuth token was judged corrupt (OBP-20071). Logged, never sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenDefect {
    /// Not three base64url parts, or a header that is not JSON.
    Malformed,
    /// The header names an algorithm outside RS256/384/512 and PS256/384/512.
    AlgorithmNotAllowed,
    /// The `kid` in the header names no configured key.
    UnknownKey,
    /// No configured key verifies the signature.
    BadSignature,
    /// A required claim is absent, empty or of the wrong type.
    BadClaims,
}

impl TokenDefect {
    /// A short name for the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::UnknownKey => "unknown_kid",
            Self::BadSignature => "bad_signature",
            Self::BadClaims => "bad_claims",
        }
    }
}

impl fmt::Display for TokenDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which address claim an address error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClaim {
    /// `smart_contract_address`
    Contract,
    /// `msg_sender`
    MsgSender,
}

impl AddressClaim {
    /// The claim's name as it appears in the token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contract => "smart_contract_address",
            Self::MsgSender => "msg_sender",
        }
    }
}

/// Everything that can make a request fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No credentials on a request that needs them.
    #[error("no credentials")]
    MissingCredentials,
    /// The caller's IP is outside `dauth.allowed_hosts`.
    #[error("caller IP not in dauth.allowed_hosts")]
    IpNotAllowed,
    /// The DAuth token is malformed, badly signed or lacks a required claim.
    #[error("invalid DAuth token: {0}")]
    InvalidToken(TokenDefect),
    /// More than one `DAuth` header, or a value that is not one single token.
    #[error("more than one DAuth value")]
    AmbiguousDauthHeader,
    /// `exp` is in the past.
    #[error("token expired")]
    TokenExpired,
    /// `nbf` is in the future.
    #[error("token not yet valid")]
    TokenNotYetValid,
    /// `timestamp`/`iat` is older than `dauth.max_token_age_secs`.
    #[error("token too old")]
    TokenStale,
    /// `timestamp`/`iat` is further in the future than `dauth.clock_skew_secs`.
    #[error("token issued in the future")]
    TokenFromFuture,
    /// Freshness is required but the token has neither `timestamp` nor `iat`.
    #[error("token carries neither timestamp nor iat")]
    TokenUndated,
    /// Replay protection is on but the token has no `request_id`.
    #[error("token carries no request_id")]
    RequestIdMissing,
    /// This (consumer_key, request_id) was already accepted.
    #[error("request_id replayed")]
    TokenReplayed,
    /// The replay window is full; fail closed rather than forget.
    #[error("replay window full")]
    ReplayWindowFull,
    /// An address claim is not `0x` + 40 hex digits (or not a sane string in lenient mode).
    #[error("invalid {}", .0.as_str())]
    InvalidAddress(AddressClaim),
    /// A mixed-case address whose EIP-55 checksum is wrong.
    #[error("bad EIP-55 checksum in {}", .0.as_str())]
    BadChecksum(AddressClaim),
    /// `network_name` is not in `dauth.networks` or is not a sane name.
    #[error("network not allowed")]
    NetworkNotAllowed,
    /// No route or handler for this path.
    #[error("not found")]
    NotFound,
    /// The path exists but not for this method; `allow` lists the methods it takes.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Value of the `Allow` header.
        allow: &'static str,
    },
    /// The store failed; the request may be retried.
    #[error("store unavailable")]
    Store(#[from] StoreError),
    /// The path has dot segments, empty segments or encoded separators.
    #[error("malformed path")]
    BadPath,
    /// The request head is over `server.max_header_bytes`.
    #[error("request head too large")]
    HeadersTooLarge,
    /// The request body is over the body limit.
    #[error("request body too large")]
    BodyTooLarge,
    /// The upstream refused, reset or could not be reached.
    #[error("upstream unavailable: {0}")]
    UpstreamUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The upstream did not answer within the route's `timeout_secs`.
    #[error("upstream timed out")]
    UpstreamTimeout,
    /// `server.max_connections` connections are open already.
    #[error("too many connections")]
    Overloaded,
}

/// The public side of an error: status, stable code and message.
impl Error {
    /// The stable public code, e.g. `OBP-20001` or `DAUTH-2001`.
    pub fn code(&self) -> &'static str {
        self.public().1
    }

    /// The HTTP status this condition answers with.
    pub fn status(&self) -> StatusCode {
        self.public().0
    }

    /// The public message, `"<CODE>: <text>"`.
    pub fn message(&self) -> String {
        let (_, code, text) = self.public();
        format!("{code}: {text}")
    }

    /// The single mapping of every condition to (status, code, text).
    fn public(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Self::MissingCredentials => (
                S::UNAUTHORIZED,
                "OBP-20001",
                "User not logged in. Authentication is required!",
            ),
            Self::IpNotAllowed => (
                S::UNAUTHORIZED,
                "OBP-20069",
                "DAuth login can be done only from allowed addresses.",
            ),
            Self::InvalidToken(_) => (
                S::UNAUTHORIZED,
                "OBP-20071",
                "The DAuth JWT is corrupted/changed during a transport.",
            ),
            Self::AmbiguousDauthHeader => (
                S::BAD_REQUEST,
                "OBP-20072",
                "DAuth Header value should be one single string.",
            ),
            Self::TokenExpired => (
                S::UNAUTHORIZED,
                "DAUTH-2001",
                "The token has expired (exp).",
            ),
            Self::TokenNotYetValid => (
                S::UNAUTHORIZED,
                "DAUTH-2002",
                "The token is not valid yet (nbf).",
            ),
            Self::TokenStale => (
                S::UNAUTHORIZED,
                "DAUTH-2003",
                "The token is too old (timestamp or iat).",
            ),
            Self::TokenFromFuture => (
                S::UNAUTHORIZED,
                "DAUTH-2004",
                "The token is dated in the future (timestamp or iat).",
            ),
            Self::TokenUndated => (
                S::UNAUTHORIZED,
                "DAUTH-2005",
                "The token must carry a timestamp or iat claim.",
            ),
            Self::RequestIdMissing => (
                S::UNAUTHORIZED,
                "DAUTH-2006",
                "The token must carry a request_id claim.",
            ),
            Self::TokenReplayed => (
                S::UNAUTHORIZED,
                "DAUTH-2007",
                "This request_id has already been used.",
            ),
            Self::InvalidAddress(AddressClaim::Contract) => (
                S::UNAUTHORIZED,
                "DAUTH-2008",
                "smart_contract_address is not a valid address.",
            ),
            Self::InvalidAddress(AddressClaim::MsgSender) => (
                S::UNAUTHORIZED,
                "DAUTH-2008",
                "msg_sender is not a valid address.",
            ),
            Self::BadChecksum(AddressClaim::Contract) => (
                S::UNAUTHORIZED,
                "DAUTH-2009",
                "smart_contract_address has a wrong EIP-55 checksum.",
            ),
            Self::BadChecksum(AddressClaim::MsgSender) => (
                S::UNAUTHORIZED,
                "DAUTH-2009",
                "msg_sender has a wrong EIP-55 checksum.",
            ),
            Self::NetworkNotAllowed => (
                S::UNAUTHORIZED,
                "DAUTH-2010",
                "network_name is not allowed.",
            ),
            Self::NotFound => (S::NOT_FOUND, "DAUTH-1404", "Not found."),
            Self::MethodNotAllowed { .. } => (
                S::METHOD_NOT_ALLOWED,
                "DAUTH-1405",
                "Method not allowed for this path.",
            ),
            Self::ReplayWindowFull => (
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5031",
                "Too many fresh tokens in flight; retry shortly.",
            ),
            Self::Store(_) => (
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5030",
                "The user store is unavailable; retry shortly.",
            ),
            Self::Overloaded => (
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5032",
                "The gateway is at its connection limit; retry shortly.",
            ),
            Self::BadPath => (S::BAD_REQUEST, "DAUTH-1400", "Malformed request path."),
            Self::BodyTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "DAUTH-1413",
                "Request body too large.",
            ),
            Self::HeadersTooLarge => (
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "DAUTH-1431",
                "Request header fields too large.",
            ),
            Self::UpstreamUnavailable(_) => (
                S::BAD_GATEWAY,
                "DAUTH-5020",
                "The upstream service is unavailable.",
            ),
            Self::UpstreamTimeout => (
                S::GATEWAY_TIMEOUT,
                "DAUTH-5040",
                "The upstream service did not answer in time.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins every variant's (status, code): changing one is a breaking change for clients.
    #[test]
    fn every_condition_keeps_its_status_and_code() {
        let table: Vec<(Error, u16, &str)> = vec![
            (Error::MissingCredentials, 401, "OBP-20001"),
            (Error::IpNotAllowed, 401, "OBP-20069"),
            (
                Error::InvalidToken(TokenDefect::BadSignature),
                401,
                "OBP-20071",
            ),
            (Error::AmbiguousDauthHeader, 400, "OBP-20072"),
            (Error::TokenExpired, 401, "DAUTH-2001"),
            (Error::TokenNotYetValid, 401, "DAUTH-2002"),
            (Error::TokenStale, 401, "DAUTH-2003"),
            (Error::TokenFromFuture, 401, "DAUTH-2004"),
            (Error::TokenUndated, 401, "DAUTH-2005"),
            (Error::RequestIdMissing, 401, "DAUTH-2006"),
            (Error::TokenReplayed, 401, "DAUTH-2007"),
            (
                Error::InvalidAddress(AddressClaim::Contract),
                401,
                "DAUTH-2008",
            ),
            (
                Error::BadChecksum(AddressClaim::MsgSender),
                401,
                "DAUTH-2009",
            ),
            (Error::NetworkNotAllowed, 401, "DAUTH-2010"),
            (Error::NotFound, 404, "DAUTH-1404"),
            (Error::MethodNotAllowed { allow: "GET" }, 405, "DAUTH-1405"),
            (Error::ReplayWindowFull, 503, "DAUTH-5031"),
            (Error::Store(StoreError::Dangling), 503, "DAUTH-5030"),
            (Error::Overloaded, 503, "DAUTH-5032"),
            (Error::BadPath, 400, "DAUTH-1400"),
            (Error::BodyTooLarge, 413, "DAUTH-1413"),
            (Error::HeadersTooLarge, 431, "DAUTH-1431"),
            (
                Error::UpstreamUnavailable("refused".into()),
                502,
                "DAUTH-5020",
            ),
            (Error::UpstreamTimeout, 504, "DAUTH-5040"),
        ];
        for (err, status, code) in table {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code, "{err:?}");
            assert!(err.message().starts_with(&format!("{code}: ")), "{err:?}");
        }
    }

    #[test]
    fn obp_texts_are_verbatim() {
        assert_eq!(
            Error::MissingCredentials.message(),
            "OBP-20001: User not logged in. Authentication is required!"
        );
        assert_eq!(
            Error::InvalidToken(TokenDefect::Malformed).message(),
            "OBP-20071: The DAuth JWT is corrupted/changed during a transport."
        );
    }
}
