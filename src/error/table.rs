//! The public table: every [`Error`] variant's status, stable code, fixed text and header, in
//! one exhaustive `match` ([`Error::public`]), so a new variant does not compile until it has
//! all four. Pinned row by row by `error/tests.rs`; the README's Errors table lists every code.

use http::StatusCode;

use super::Error;
use super::defects::{AddressClaim, BearerDefect};
use super::public::{BEARER_REFUSED, Header, Public, row};

impl Public {
    /// The row with `header` instead of its status's.
    pub(super) fn with(self, header: Header) -> Self {
        Self { header, ..self }
    }
}

impl Error {
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
            Self::Airnode(e) => e.public(),
            Self::ReplayWindowFull => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5031",
                "Too many fresh tokens in flight; retry shortly.",
            ),
            Self::ReplayUnavailable(_) => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5070",
                "The replay window is unavailable; retry shortly.",
            ),
            Self::Wallet(e) => e.public(),
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
            Self::KeysNotLoaded => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5090",
                "The keys of this token's issuer have not been loaded yet; retry shortly.",
            ),
            Self::KeysExpired => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5091",
                "The keys of this token's issuer could not be refreshed for too long; retry later.",
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
