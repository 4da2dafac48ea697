//! The one error type of the request path.
//!
//! Every way a request can fail is a variant named for its condition. Each variant maps to a
//! stable public code (OBP's where OBP has the condition, `DAUTH-` otherwise), an HTTP status
//! and a fixed public message; the cause, when there is one, stays in the variant for the log
//! and never reaches the client. The mapping is one exhaustive `match`, in `table`, so a new
//! variant does not compile until it has a code, a status, a text and a header, and a table test
//! pins every row. Each domain's own error converts into this one (`From`, next to the domain
//! error); a store failure converts here, to 503 `DAUTH-5030`.
//!
//! Configuration and start-up failures are not here: they are [`crate::config::ConfigError`] and
//! [`crate::state::error::StartError`], reported once on the console.

mod airnode;
mod defects;
mod public;
mod table;
mod wallet;

use http::StatusCode;

pub use airnode::AirnodeError;
pub use defects::{AddressClaim, BearerDefect, RelayField, TokenDefect};
pub use public::{ANY_CHALLENGE, BEARER_REFUSED, Header, Public};

use crate::store::error::StoreError;
pub use wallet::WalletError;

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
    /// The shared replay window or rate (`[replay]` on PostgreSQL or Redis) did not answer;
    /// fail closed, never a fallback to memory.
    #[error("replay window unavailable")]
    ReplayUnavailable(#[source] StoreError),
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
    /// The token's keys come from a JWKS URL that has not loaded yet.
    #[error("JWKS URL not loaded yet")]
    KeysNotLoaded,
    /// The token's keys come from a JWKS URL whose last good set is older than
    /// `jwks_max_stale_secs`.
    #[error("JWKS URL keys too stale")]
    KeysExpired,
    /// A wallet-signed request or SIWE login refusal ([`WalletError`]).
    #[error("{0}")]
    Wallet(#[from] WalletError),
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
    /// An Airnode relay-mode refusal ([`AirnodeError`]).
    #[error("{0}")]
    Airnode(#[from] AirnodeError),
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

/// The cause of a failure, kept in its error for the log and never shown to the client.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

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
            Self::Airnode(e) => e.detail(),
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
}

#[cfg(test)]
mod tests;
