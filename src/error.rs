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

use crate::store::error::StoreError;

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
    /// The header carries `crit` (RFC 7515 4.1.11) or `b64` (RFC 7797): an extension the
    /// verifier does not implement.
    CriticalHeader,
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
            Self::CriticalHeader => "crit_header",
        }
    }
}

impl fmt::Display for TokenDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerDefect {
    /// Malformed, bad signature, disallowed algorithm, missing claim, wrong `token_use`.
    Invalid,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iss` names no trusted issuer.
    Issuer,
    /// `aud` is not the issuer's configured audience.
    Audience,
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
    /// No byte of the request body arrived for `server.body_read_timeout_secs`.
    #[error("request body timed out")]
    BodyTimeout,
    /// The client's request body could not be read: malformed chunked framing, fewer bytes
    /// than its `Content-Length`, a reset stream. The client's fault, never the upstream's.
    #[error("client request body unreadable: {0}")]
    BadBody(String),
    /// The upstream refused, reset or could not be reached.
    #[error("upstream unavailable: {0}")]
    UpstreamUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The upstream did not answer within the route's `timeout_secs`.
    #[error("upstream timed out")]
    UpstreamTimeout,
    /// `server.max_connections` connections are open already.
    #[error("too many connections")]
    Overloaded,
    /// A JSON body does not parse into what the endpoint takes.
    #[error("invalid JSON body for {expected}")]
    InvalidJson {
        /// OBP's name for the expected body.
        expected: &'static str,
    },
    /// A `BANK_ID`, `ACCOUNT_ID` or `VIEW_ID` is not well formed.
    #[error("invalid id")]
    InvalidId,
    /// A `username` is not an address under the gateway's address rules.
    #[error("invalid username")]
    InvalidUsername,
    /// A custom view definition is refused.
    #[error("invalid view: {0}")]
    InvalidView(String),
    /// A `provider` is neither `dauth.<NETWORK>` nor a network name.
    #[error("invalid provider")]
    InvalidProvider,
    /// No account exists at this `BANK_ID`.
    #[error("bank not found")]
    BankNotFound,
    /// No such account.
    #[error("account not found")]
    AccountNotFound,
    /// The account exists already.
    #[error("account exists")]
    AccountExists,
    /// The custom view id is taken on this account.
    #[error("view exists")]
    ViewExists,
    /// No user has this id.
    #[error("user {0} not found")]
    UserNotFoundById(String),
    /// No system view has this id.
    #[error("system view {0} not found")]
    SystemViewNotFound(String),
    /// The account has no custom view with this id.
    #[error("custom view {0} not found")]
    ViewNotFound(String),
    /// The grant cannot be recorded (the account's access-row limit).
    #[error("cannot grant {0}")]
    CannotGrant(String),
    /// The revoke cannot be done: no such access row, or the last owner.
    #[error("cannot revoke {view}")]
    CannotRevoke {
        /// The view.
        view: String,
        /// True when the user does not hold the view (OBP-30065 is chained).
        missing: bool,
    },
    /// No view of the caller on the account may grant the target views.
    #[error("caller lacks grant permission")]
    LacksGrant {
        /// The target view ids, concatenated as OBP does.
        views: String,
        /// The caller.
        user_id: String,
    },
    /// No view of the caller on the account may revoke the target views.
    #[error("caller lacks revoke permission")]
    LacksRevoke {
        /// The target view ids, concatenated as OBP does.
        views: String,
        /// The caller.
        user_id: String,
    },
    /// The caller does not hold the source view named in the path.
    #[error("caller does not hold view {0}")]
    NoViewAccess(String),
    /// The caller holds no view on the account with the route's required permission.
    #[error("caller lacks permission {0}")]
    MissingPermission(String),
    /// The source view may not grant the (system) target view.
    #[error("source view cannot grant")]
    SourceCannotGrant {
        /// Source view.
        source_view: String,
        /// Target view.
        target: String,
    },
    /// The source view may not grant custom views.
    #[error("source view cannot grant custom views")]
    SourceCannotGrantCustom {
        /// Source view.
        source_view: String,
        /// Target view.
        target: String,
    },
    /// The source view may not revoke the (system) target view.
    #[error("source view cannot revoke")]
    SourceCannotRevoke {
        /// Source view.
        source_view: String,
        /// Target view.
        target: String,
    },
    /// The source view may not revoke custom views.
    #[error("source view cannot revoke custom views")]
    SourceCannotRevokeCustom {
        /// Source view.
        source_view: String,
        /// Target view.
        target: String,
    },
    /// No view of the caller on the account has `can_create_custom_view`.
    #[error("caller cannot create views")]
    CannotCreateView,
    /// A new custom view would carry permissions its creator lacks.
    #[error("view exceeds its creator's permissions")]
    ViewExceedsCreator,
    /// The caller's authorising view was revoked while the request ran.
    #[error("caller's access changed during the request")]
    AccessChanged,
    /// A bearer token was refused.
    #[error("bearer token refused: {0:?}")]
    InvalidBearer(BearerDefect),
    /// Both a `DAuth` and an `Authorization: Bearer` header.
    #[error("two kinds of credentials")]
    AmbiguousCredentials,
    /// More than one `Authorization` line, or one line with a second credential after a comma.
    #[error("more than one Authorization credential")]
    AmbiguousAuthorization,
    /// Login for an email or username nobody has.
    #[error("user not found")]
    LoginUnknownUser,
    /// Login with the wrong password.
    #[error("wrong password")]
    LoginWrongPassword,
    /// Login to a locked account; the number is seconds until it unlocks.
    #[error("account locked")]
    AccountLocked(u64),
    /// Login before the email is confirmed.
    #[error("email not confirmed")]
    EmailNotConfirmed,
    /// Register or sync with an email or username another user has.
    #[error("email or username taken")]
    UserExists,
    /// Not an email address.
    #[error("invalid email")]
    InvalidEmail,
    /// The password does not meet the policy.
    #[error("weak password")]
    WeakPassword,
    /// A confirmation or reset code that is unknown, used or expired.
    #[error("invalid code")]
    InvalidCode,
    /// A refresh token that is invalid, expired or reused.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// The caller is not an administrator (nor the internal system).
    #[error("admin required")]
    AdminRequired,
    /// An attribute key or value out of bounds.
    #[error("invalid attribute")]
    InvalidAttribute,
    /// No attribute with this key.
    #[error("attribute not found")]
    AttributeNotFound,
    /// A seed-002 login names a client that is not configured, or the wrong secret.
    #[error("invalid login client")]
    InvalidLoginClient,
    /// An endpoint for password users called by another kind of principal.
    #[error("password users only")]
    PasswordUsersOnly,
    /// Mail could not be sent.
    #[error("mail unavailable: {0}")]
    MailUnavailable(#[source] Cause),
    /// `accounts.hash_slots + accounts.hash_queue` password hashes are running or waiting.
    #[error("password hashing queue full")]
    HashBusy,
    /// `accounts.mail_queue` password resets are already waiting for their mail.
    #[error("password-reset queue full")]
    ResetQueueFull,
    /// Over a rate limit; the number is seconds until a retry can succeed.
    #[error("rate limited")]
    TooManyRequests(u64),
    /// `limits.max_verifications_in_flight` verifications are already waiting or running.
    #[error("verifier busy")]
    VerifierBusy,
    /// A users-API call without a client-credentials token.
    #[error("client token required")]
    ClientTokenRequired,
    /// A client token without the call's scope.
    #[error("scope {0} missing")]
    InsufficientScope(&'static str),
    /// No such user for this client.
    #[error("client user not found")]
    ClientUserNotFound,
    /// The `clientUserId` is taken for this client.
    #[error("clientUserId taken")]
    ClientUserIdTaken,
    /// `limit` or `offset` out of range.
    #[error("invalid paging")]
    InvalidPaging,
    /// A fault inside the gateway (a crypto library failing); never caused by input.
    #[error("internal: {what}: {cause}")]
    Internal {
        /// What failed (for the log).
        what: &'static str,
        /// Why.
        #[source]
        cause: Cause,
    },
}

/// The public side of an error: status, stable code and message.
/// The cause of a failure, kept in its error for the log and never shown to the client.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What a client is told about an [`Error`] (see [`Error::public`]).
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
fn row(status: StatusCode, code: &'static str, text: &'static str) -> Public {
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

impl Public {
    /// The row with `header` instead of its status's.
    fn with(self, header: Header) -> Self {
        Self { header, ..self }
    }
}

impl Error {
    /// The stable public code, e.g. `OBP-20001` or `DAUTH-2001`.
    pub fn code(&self) -> &'static str {
        self.public().code
    }

    /// The HTTP status this condition answers with.
    pub fn status(&self) -> StatusCode {
        self.public().status
    }

    /// Whether an HTTP/1.1 connection must close after this answer: its request body was not
    /// read to its end, so what the client sends next cannot be told from what it sent before.
    pub fn closes_connection(&self) -> bool {
        matches!(self, Self::BodyTimeout | Self::BadBody(_))
    }

    /// The public message, `"<CODE>: <text>"`, with OBP's dynamic suffix where it has one.
    pub fn message(&self) -> String {
        let Public { code, text, .. } = self.public();
        format!("{code}: {text}{}", self.detail())
    }

    /// The dynamic part OBP appends to some messages (ids the request named).
    fn detail(&self) -> String {
        match self {
            Self::InvalidJson { expected } => format!(" The Json body should be the {expected} "),
            Self::InvalidView(why) => format!(" {why}"),
            Self::UserNotFoundById(id) => format!(" Current USER_ID({id})"),
            Self::SystemViewNotFound(v) | Self::ViewNotFound(v) | Self::NoViewAccess(v) => {
                format!(". Current ViewId is {v}")
            }
            Self::CannotGrant(v) => format!(" Current ViewId is {v}"),
            Self::CannotRevoke {
                view,
                missing: true,
            } => {
                format!(" Current ViewId is {view} <- OBP-30065: Cannot find account access.")
            }
            Self::CannotRevoke {
                view,
                missing: false,
            } => {
                format!(
                    " Current ViewId is {view}. The owner view cannot be revoked from the account's last holder."
                )
            }
            Self::LacksGrant { views, user_id } | Self::LacksRevoke { views, user_id } => {
                format!("Current ViewId({views}) and current UserId({user_id})")
            }
            Self::MissingPermission(p) => format!(" Required permission({p})"),
            Self::AccountLocked(secs) => format!(" It unlocks in {secs} seconds."),
            Self::InsufficientScope(scope) => format!(" Required scope({scope})"),
            Self::SourceCannotGrant {
                source_view,
                target,
            }
            | Self::SourceCannotGrantCustom {
                source_view,
                target,
            }
            | Self::SourceCannotRevoke {
                source_view,
                target,
            }
            | Self::SourceCannotRevokeCustom {
                source_view,
                target,
            } => {
                format!("Current source viewId({source_view}) and target viewId ({target})")
            }
            _ => String::new(),
        }
    }

    /// The single mapping of every condition to (status, code, text).
    /// The public side of the error: status, code, text and headers. The one table: every
    /// variant is mapped here, and nowhere else decides what a client sees.
    pub fn public(&self) -> Public {
        use StatusCode as S;
        match self {
            Self::MissingCredentials => row(
                S::UNAUTHORIZED,
                "OBP-20001",
                "User not logged in. Authentication is required!",
            ),
            Self::IpNotAllowed => row(
                S::UNAUTHORIZED,
                "OBP-20069",
                "DAuth login can be done only from allowed addresses.",
            ),
            Self::InvalidToken(_) => row(
                S::UNAUTHORIZED,
                "OBP-20071",
                "The DAuth JWT is corrupted/changed during a transport.",
            ),
            Self::AmbiguousDauthHeader => row(
                S::BAD_REQUEST,
                "OBP-20072",
                "DAuth Header value should be one single string.",
            ),
            Self::TokenExpired => row(
                S::UNAUTHORIZED,
                "DAUTH-2001",
                "The token has expired (exp).",
            ),
            Self::TokenNotYetValid => row(
                S::UNAUTHORIZED,
                "DAUTH-2002",
                "The token is not valid yet (nbf).",
            ),
            Self::TokenStale => row(
                S::UNAUTHORIZED,
                "DAUTH-2003",
                "The token is too old (timestamp or iat).",
            ),
            Self::TokenFromFuture => row(
                S::UNAUTHORIZED,
                "DAUTH-2004",
                "The token is dated in the future (timestamp or iat).",
            ),
            Self::TokenUndated => row(
                S::UNAUTHORIZED,
                "DAUTH-2005",
                "The token must carry a timestamp or iat claim.",
            ),
            Self::RequestIdMissing => row(
                S::UNAUTHORIZED,
                "DAUTH-2006",
                "The token must carry a request_id claim.",
            ),
            Self::TokenReplayed => row(
                S::UNAUTHORIZED,
                "DAUTH-2007",
                "This request_id has already been used.",
            ),
            Self::InvalidAddress(AddressClaim::Contract) => row(
                S::UNAUTHORIZED,
                "DAUTH-2008",
                "smart_contract_address is not a valid address.",
            ),
            Self::InvalidAddress(AddressClaim::MsgSender) => row(
                S::UNAUTHORIZED,
                "DAUTH-2008",
                "msg_sender is not a valid address.",
            ),
            Self::BadChecksum(AddressClaim::Contract) => row(
                S::UNAUTHORIZED,
                "DAUTH-2009",
                "smart_contract_address has a wrong EIP-55 checksum.",
            ),
            Self::BadChecksum(AddressClaim::MsgSender) => row(
                S::UNAUTHORIZED,
                "DAUTH-2009",
                "msg_sender has a wrong EIP-55 checksum.",
            ),
            Self::NetworkNotAllowed => row(
                S::UNAUTHORIZED,
                "DAUTH-2010",
                "network_name is not allowed.",
            ),
            Self::NotFound => row(S::NOT_FOUND, "DAUTH-1404", "Not found."),
            Self::MethodNotAllowed { allow } => row(
                S::METHOD_NOT_ALLOWED,
                "DAUTH-1405",
                "Method not allowed for this path.",
            )
            .with(Header::Allow(allow)),
            Self::ReplayWindowFull => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5031",
                "Too many fresh tokens in flight; retry shortly.",
            ),
            Self::Store(_) => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5030",
                "The user store is unavailable; retry shortly.",
            ),
            Self::Overloaded => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5032",
                "The gateway is at its connection limit; retry shortly.",
            ),
            Self::BadPath => row(S::BAD_REQUEST, "DAUTH-1400", "Malformed request path."),
            Self::BodyTooLarge => row(
                S::PAYLOAD_TOO_LARGE,
                "DAUTH-1413",
                "Request body too large.",
            ),
            Self::BodyTimeout => row(
                S::REQUEST_TIMEOUT,
                "DAUTH-1408",
                "The request body did not arrive in time.",
            ),
            Self::BadBody(_) => row(
                S::BAD_REQUEST,
                "DAUTH-1406",
                "Malformed or incomplete request body.",
            ),
            Self::HeadersTooLarge => row(
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "DAUTH-1431",
                "Request header fields too large.",
            ),
            Self::UpstreamUnavailable(_) => row(
                S::BAD_GATEWAY,
                "DAUTH-5020",
                "The upstream service is unavailable.",
            ),
            Self::UpstreamTimeout => row(
                S::GATEWAY_TIMEOUT,
                "DAUTH-5040",
                "The upstream service did not answer in time.",
            ),
            Self::InvalidJson { .. } => row(S::BAD_REQUEST, "OBP-10001", "Incorrect json format."),
            Self::InvalidId => row(
                S::BAD_REQUEST,
                "DAUTH-1401",
                "BANK_ID, ACCOUNT_ID and VIEW_ID are 1 to 128 of A-Z a-z 0-9 . _ -",
            ),
            Self::InvalidUsername => row(
                S::BAD_REQUEST,
                "DAUTH-1402",
                "username is not a valid smart contract address.",
            ),
            Self::InvalidView(_) => row(S::BAD_REQUEST, "DAUTH-1403", "Invalid view definition."),
            Self::InvalidProvider => row(
                S::BAD_REQUEST,
                "OBP-20103",
                "Invalid DAuth User Provider. The provider must be dauth.<NETWORK_NAME> or a network name.",
            ),
            Self::BankNotFound => row(
                S::NOT_FOUND,
                "OBP-30001",
                "Bank not found. Please specify a valid value for BANK_ID.",
            ),
            Self::AccountNotFound => row(
                S::NOT_FOUND,
                "OBP-30018",
                "Bank Account not found. Please specify valid values for BANK_ID and ACCOUNT_ID.",
            ),
            Self::AccountExists => row(
                S::CONFLICT,
                "OBP-30208",
                "Account_ID already exists at the Bank.",
            ),
            Self::ViewExists => row(
                S::CONFLICT,
                "DAUTH-3002",
                "A view with this VIEW_ID already exists on the account.",
            ),
            Self::UserNotFoundById(_) => row(
                S::NOT_FOUND,
                "OBP-20005",
                "User not found. Please specify a valid value for USER_ID.",
            ),
            Self::SystemViewNotFound(_) => row(
                S::BAD_REQUEST,
                "OBP-30252",
                "System view not found. Please specify a valid value for VIEW_ID",
            ),
            Self::ViewNotFound(_) => row(
                S::BAD_REQUEST,
                "OBP-30005",
                "View not found for Account. Please specify a valid value for VIEW_ID",
            ),
            Self::CannotGrant(_) => {
                row(S::BAD_REQUEST, "OBP-30063", "Cannot grant account access.")
            }
            Self::CannotRevoke { .. } => {
                row(S::BAD_REQUEST, "OBP-30064", "Cannot revoke account access.")
            }
            Self::LacksGrant { .. } => row(
                S::FORBIDDEN,
                "OBP-20047",
                "If target viewId is system view,  the current view.can_grant_access_to_views does not contains it. Orif target viewId is custom view, the current view.can_grant_access_to_custom_views is false.",
            ),
            Self::LacksRevoke { .. } => row(
                S::FORBIDDEN,
                "OBP-20048",
                "If target viewId is system view,  the current view.can_revoke_access_to_views does not contains it. Orif target viewId is custom view, the current view.can_revoke_access_to_custom_views is false.",
            ),
            Self::NoViewAccess(_) | Self::MissingPermission(_) => row(
                S::FORBIDDEN,
                "OBP-20017",
                "Current user does not have access to the view. Please specify a valid value for VIEW_ID.",
            ),
            Self::SourceCannotGrant { .. } => row(
                S::FORBIDDEN,
                "OBP-20084",
                "The current source view.can_grant_access_to_views does not contains target view.",
            ),
            Self::SourceCannotGrantCustom { .. } => row(
                S::FORBIDDEN,
                "OBP-20085",
                "The current source view.can_grant_access_to_custom_views is false.",
            ),
            Self::SourceCannotRevoke { .. } => row(
                S::FORBIDDEN,
                "OBP-20086",
                "The current source view.can_revoke_access_to_views does not contains target view.",
            ),
            Self::SourceCannotRevokeCustom { .. } => row(
                S::FORBIDDEN,
                "OBP-20087",
                "The current source view.can_revoke_access_to_custom_views is false.",
            ),
            Self::CannotCreateView => row(
                S::FORBIDDEN,
                "DAUTH-3001",
                "No view of the current user on this account has can_create_custom_view.",
            ),
            Self::InvalidBearer(BearerDefect::Invalid) => row(
                S::UNAUTHORIZED,
                "DAUTH-2101",
                "The bearer token is invalid.",
            )
            .with(Header::Challenge(BEARER_REFUSED)),
            Self::InvalidBearer(BearerDefect::Expired) => row(
                S::UNAUTHORIZED,
                "DAUTH-2102",
                "The bearer token has expired.",
            )
            .with(Header::Challenge(BEARER_REFUSED)),
            Self::InvalidBearer(BearerDefect::NotYetValid) => row(
                S::UNAUTHORIZED,
                "DAUTH-2103",
                "The bearer token is not valid yet.",
            )
            .with(Header::Challenge(BEARER_REFUSED)),
            Self::InvalidBearer(BearerDefect::Issuer) => row(
                S::UNAUTHORIZED,
                "DAUTH-2104",
                "The bearer token's issuer is not trusted.",
            )
            .with(Header::Challenge(BEARER_REFUSED)),
            Self::InvalidBearer(BearerDefect::Audience) => row(
                S::UNAUTHORIZED,
                "DAUTH-2105",
                "The bearer token is not meant for this gateway (aud).",
            )
            .with(Header::Challenge(BEARER_REFUSED)),
            Self::AmbiguousCredentials => row(
                S::BAD_REQUEST,
                "DAUTH-2011",
                "Send either a DAuth header or an Authorization: Bearer header, not both.",
            ),
            Self::AmbiguousAuthorization => row(
                S::BAD_REQUEST,
                "DAUTH-2012",
                "Send at most one Authorization header, holding one credential.",
            ),
            Self::LoginUnknownUser => row(S::UNAUTHORIZED, "DAUTH-4001", "User not found."),
            Self::LoginWrongPassword => row(
                S::UNAUTHORIZED,
                "DAUTH-4002",
                "Invalid email, username or password.",
            ),
            Self::AccountLocked(_) => row(
                S::UNAUTHORIZED,
                "OBP-20013",
                "The account has been locked, please contact an administrator!",
            ),
            Self::EmailNotConfirmed => row(
                S::FORBIDDEN,
                "DAUTH-4003",
                "The email address is not confirmed yet.",
            ),
            Self::UserExists => row(
                S::CONFLICT,
                "DAUTH-4004",
                "A user with this email or username already exists.",
            ),
            Self::InvalidEmail => row(S::BAD_REQUEST, "DAUTH-4005", "Invalid email address."),
            Self::WeakPassword => row(
                S::BAD_REQUEST,
                "DAUTH-4006",
                "The password must be 8 to 1024 characters.",
            ),
            Self::InvalidCode => row(
                S::BAD_REQUEST,
                "DAUTH-4007",
                "The code is invalid, used or expired.",
            ),
            Self::InvalidRefreshToken => row(
                S::UNAUTHORIZED,
                "DAUTH-4008",
                "The refresh token is invalid, expired or already used.",
            ),
            Self::AdminRequired => row(
                S::FORBIDDEN,
                "DAUTH-4009",
                "Administrator permission is required.",
            ),
            Self::InvalidAttribute => row(
                S::BAD_REQUEST,
                "DAUTH-4010",
                "Attribute keys are 1 to 128 of A-Z a-z 0-9 . _ - and values at most 4096 bytes; at most 100 attributes.",
            ),
            Self::AttributeNotFound => {
                row(S::NOT_FOUND, "DAUTH-4011", "No attribute with this key.")
            }
            Self::InvalidLoginClient => row(
                S::UNAUTHORIZED,
                "DAUTH-4012",
                "Unknown clientId or wrong clientSecret.",
            ),
            Self::PasswordUsersOnly => row(
                S::FORBIDDEN,
                "DAUTH-4013",
                "This endpoint is for password users.",
            ),
            Self::TooManyRequests(secs) => {
                row(S::TOO_MANY_REQUESTS, "OBP-10018", "Too Many Requests.")
                    .with(Header::RetryAfter(*secs))
            }
            Self::VerifierBusy => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5034",
                "Too many token verifications in flight; retry shortly.",
            ),
            Self::ClientTokenRequired => row(
                S::FORBIDDEN,
                "DAUTH-4101",
                "A client-credentials token from POST /oidc/token is required.",
            ),
            Self::InsufficientScope(scope) => row(
                S::FORBIDDEN,
                "DAUTH-4102",
                "The token lacks the scope this call needs.",
            )
            .with(Header::InsufficientScope(scope)),
            Self::ClientUserNotFound => row(S::NOT_FOUND, "DAUTH-4104", "User not found."),
            Self::ClientUserIdTaken => row(
                S::CONFLICT,
                "DAUTH-4105",
                "This clientUserId is already used by another user of the client.",
            ),
            Self::InvalidPaging => row(
                S::BAD_REQUEST,
                "DAUTH-4106",
                "limit is 1 to 1000 and offset a non-negative integer.",
            ),
            Self::Internal { .. } => row(S::INTERNAL_SERVER_ERROR, "DAUTH-5000", "Internal error."),
            Self::MailUnavailable(_) => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5033",
                "Mail could not be sent; retry shortly.",
            ),
            Self::HashBusy => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5035",
                "Too many password checks are running or waiting; retry shortly.",
            ),
            Self::ResetQueueFull => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5036",
                "Too many password resets are waiting to be mailed; retry shortly.",
            ),
            Self::AccessChanged => row(
                S::CONFLICT,
                "DAUTH-3005",
                "The current user's access changed while the request ran; retry.",
            ),
            Self::ViewExceedsCreator => row(
                S::FORBIDDEN,
                "DAUTH-3003",
                "A custom view cannot carry a permission its creator lacks on the account.",
            ),
        }
    }
}

#[cfg(test)]
mod tests;
