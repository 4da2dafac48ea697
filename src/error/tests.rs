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
        (
            Error::ReplayUnavailable(StoreError::Dangling),
            503,
            "DAUTH-5070",
        ),
        (
            Error::Wallet(WalletError::HeadersMissing),
            401,
            "DAUTH-2801",
        ),
        (Error::Wallet(WalletError::Malformed), 401, "DAUTH-2802"),
        (Error::Wallet(WalletError::LabelNotFound), 401, "DAUTH-2803"),
        (Error::Wallet(WalletError::BadKeyid), 401, "DAUTH-2804"),
        (
            Error::Wallet(WalletError::NotRequestBound),
            401,
            "DAUTH-2805",
        ),
        (Error::Wallet(WalletError::AlgNotAllowed), 401, "DAUTH-2806"),
        (Error::Wallet(WalletError::BadTime), 401, "DAUTH-2807"),
        (Error::Wallet(WalletError::NotYetValid), 401, "DAUTH-2808"),
        (Error::Wallet(WalletError::Expired), 401, "DAUTH-2809"),
        (
            Error::Wallet(WalletError::LifetimeTooLong),
            401,
            "DAUTH-2810",
        ),
        (Error::Wallet(WalletError::NonceRequired), 401, "DAUTH-2811"),
        (Error::Wallet(WalletError::Replayed), 401, "DAUTH-2812"),
        (
            Error::Wallet(WalletError::ChainNotAllowed),
            401,
            "DAUTH-2813",
        ),
        (
            Error::Wallet(WalletError::DigestRequired),
            401,
            "DAUTH-2814",
        ),
        (
            Error::Wallet(WalletError::DigestMismatch),
            401,
            "DAUTH-2815",
        ),
        (
            Error::Wallet(WalletError::CoveredHeaderMissing),
            401,
            "DAUTH-2816",
        ),
        (
            Error::Wallet(WalletError::BadSignatureLength),
            401,
            "DAUTH-2817",
        ),
        (Error::Wallet(WalletError::BadV), 401, "DAUTH-2818"),
        (Error::Wallet(WalletError::HighS), 401, "DAUTH-2819"),
        (Error::Wallet(WalletError::WrongSigner), 401, "DAUTH-2820"),
        (
            Error::Wallet(WalletError::SenderMismatch),
            403,
            "DAUTH-2821",
        ),
        (
            Error::Wallet(WalletError::MethodNotAccepted("siwe")),
            401,
            "DAUTH-2822",
        ),
        (
            Error::Wallet(WalletError::ChainUnavailable("down".into())),
            503,
            "DAUTH-5050",
        ),
        (Error::Wallet(WalletError::SiweMalformed), 400, "DAUTH-2823"),
        (
            Error::Wallet(WalletError::SiweWrongDomain),
            401,
            "DAUTH-2824",
        ),
        (
            Error::Wallet(WalletError::SiweNotValidNow),
            401,
            "DAUTH-2825",
        ),
        (
            Error::Wallet(WalletError::SiweNonceUnknown),
            401,
            "DAUTH-2826",
        ),
        (Error::Wallet(WalletError::Disabled), 404, "DAUTH-2827"),
        (Error::Store(StoreError::Dangling), 503, "DAUTH-5030"),
        (Error::Overloaded, 503, "DAUTH-5032"),
        (Error::BadPath, 400, "DAUTH-1400"),
        (Error::BodyTooLarge, 413, "DAUTH-1413"),
        (Error::BodyTimeout, 408, "DAUTH-1408"),
        (Error::BadBody("cut short".into()), 400, "DAUTH-1406"),
        (Error::HeadersTooLarge, 431, "DAUTH-1431"),
        (
            Error::UpstreamUnavailable("refused".into()),
            502,
            "DAUTH-5020",
        ),
        (Error::UpstreamTimeout, 504, "DAUTH-5040"),
        (Error::InvalidJson { expected: "X" }, 400, "OBP-10001"),
        (Error::InvalidId, 400, "DAUTH-1401"),
        (Error::InvalidUsername, 400, "DAUTH-1402"),
        (Error::InvalidView("x".into()), 400, "DAUTH-1403"),
        (Error::InvalidProvider, 400, "OBP-20103"),
        (Error::BankNotFound, 404, "OBP-30001"),
        (Error::AccountNotFound, 404, "OBP-30018"),
        (Error::AccountExists, 409, "OBP-30208"),
        (Error::ViewExists, 409, "DAUTH-3002"),
        (Error::UserNotFoundById("u".into()), 404, "OBP-20005"),
        (Error::SystemViewNotFound("v".into()), 400, "OBP-30252"),
        (Error::ViewNotFound("v".into()), 400, "OBP-30005"),
        (Error::CannotGrant("v".into()), 400, "OBP-30063"),
        (
            Error::CannotRevoke {
                view: "v".into(),
                missing: true,
            },
            400,
            "OBP-30064",
        ),
        (
            Error::LacksGrant {
                views: "v".into(),
                user_id: "u".into(),
            },
            403,
            "OBP-20047",
        ),
        (
            Error::LacksRevoke {
                views: "v".into(),
                user_id: "u".into(),
            },
            403,
            "OBP-20048",
        ),
        (Error::NoViewAccess("v".into()), 403, "OBP-20017"),
        (Error::MissingPermission("p".into()), 403, "OBP-20017"),
        (
            Error::SourceCannotGrant {
                source_view: "a".into(),
                target: "b".into(),
            },
            403,
            "OBP-20084",
        ),
        (
            Error::SourceCannotGrantCustom {
                source_view: "a".into(),
                target: "b".into(),
            },
            403,
            "OBP-20085",
        ),
        (
            Error::SourceCannotRevoke {
                source_view: "a".into(),
                target: "b".into(),
            },
            403,
            "OBP-20086",
        ),
        (
            Error::SourceCannotRevokeCustom {
                source_view: "a".into(),
                target: "b".into(),
            },
            403,
            "OBP-20087",
        ),
        (Error::CannotCreateView, 403, "DAUTH-3001"),
        (Error::ViewExceedsCreator, 403, "DAUTH-3003"),
        (Error::AccessChanged, 409, "DAUTH-3005"),
        (
            Error::InvalidBearer(BearerDefect::Invalid),
            401,
            "DAUTH-2101",
        ),
        (
            Error::InvalidBearer(BearerDefect::Expired),
            401,
            "DAUTH-2102",
        ),
        (
            Error::InvalidBearer(BearerDefect::NotYetValid),
            401,
            "DAUTH-2103",
        ),
        (
            Error::InvalidBearer(BearerDefect::Issuer),
            401,
            "DAUTH-2104",
        ),
        (
            Error::InvalidBearer(BearerDefect::Audience),
            401,
            "DAUTH-2105",
        ),
        (Error::AmbiguousCredentials, 400, "DAUTH-2011"),
        (Error::AmbiguousAuthorization, 400, "DAUTH-2012"),
        (Error::LoginUnknownUser, 401, "DAUTH-4001"),
        (Error::LoginWrongPassword, 401, "DAUTH-4002"),
        (Error::AccountLocked(5), 401, "OBP-20013"),
        (Error::EmailNotConfirmed, 403, "DAUTH-4003"),
        (Error::UserExists, 409, "DAUTH-4004"),
        (Error::InvalidEmail, 400, "DAUTH-4005"),
        (Error::WeakPassword, 400, "DAUTH-4006"),
        (Error::InvalidCode, 400, "DAUTH-4007"),
        (Error::InvalidRefreshToken, 401, "DAUTH-4008"),
        (Error::AdminRequired, 403, "DAUTH-4009"),
        (Error::InvalidAttribute, 400, "DAUTH-4010"),
        (Error::AttributeNotFound, 404, "DAUTH-4011"),
        (Error::InvalidLoginClient, 401, "DAUTH-4012"),
        (Error::PasswordUsersOnly, 403, "DAUTH-4013"),
        (
            Error::MailUnavailable("SMTP refused".into()),
            503,
            "DAUTH-5033",
        ),
        (Error::Airnode(AirnodeError::KeyInvalid), 401, "DAUTH-2601"),
        (
            Error::Airnode(AirnodeError::HostNotAllowed),
            401,
            "DAUTH-2602",
        ),
        (Error::Airnode(AirnodeError::Ambiguous), 400, "DAUTH-2603"),
        (
            Error::Airnode(AirnodeError::HeaderMissing(RelayField::Requester)),
            400,
            "DAUTH-2604",
        ),
        (
            Error::Airnode(AirnodeError::HeaderRepeated(RelayField::ChainId)),
            400,
            "DAUTH-2605",
        ),
        (
            Error::Airnode(AirnodeError::HeaderInvalid(RelayField::RequestId)),
            400,
            "DAUTH-2606",
        ),
        (
            Error::Airnode(AirnodeError::BadChecksum(RelayField::Sponsor)),
            400,
            "DAUTH-2607",
        ),
        (
            Error::Airnode(AirnodeError::ChainNotAllowed),
            403,
            "DAUTH-2608",
        ),
        (
            Error::Airnode(AirnodeError::NotAllowed(RelayField::Requester)),
            403,
            "DAUTH-2609",
        ),
        (
            Error::Airnode(AirnodeError::RetryConflict),
            409,
            "DAUTH-2610",
        ),
        (
            Error::Airnode(AirnodeError::ReplayUnavailable),
            409,
            "DAUTH-2611",
        ),
        (
            Error::Airnode(AirnodeError::RequestNotOnChain),
            403,
            "DAUTH-2612",
        ),
        (
            Error::Airnode(AirnodeError::RequestNotAwaiting),
            403,
            "DAUTH-2613",
        ),
        (
            Error::Airnode(AirnodeError::RequestMismatch(RelayField::SponsorWallet)),
            403,
            "DAUTH-2614",
        ),
        (
            Error::Airnode(AirnodeError::RetryWindowFull),
            503,
            "DAUTH-5037",
        ),
        (
            Error::Airnode(AirnodeError::ChainUnavailable("down".into())),
            503,
            "DAUTH-5038",
        ),
        (Error::ResetQueueFull, 503, "DAUTH-5036"),
        (Error::HashBusy, 503, "DAUTH-5035"),
        (
            Error::Internal {
                what: "x",
                cause: "boom".into(),
            },
            500,
            "DAUTH-5000",
        ),
        (Error::ClientTokenRequired, 403, "DAUTH-4101"),
        (Error::InsufficientScope("user:read"), 403, "DAUTH-4102"),
        (Error::ClientUserNotFound, 404, "DAUTH-4104"),
        (Error::ClientUserIdTaken, 409, "DAUTH-4105"),
        (Error::InvalidPaging, 400, "DAUTH-4106"),
        (Error::TooManyRequests(3), 429, "OBP-10018"),
        (Error::VerifierBusy, 503, "DAUTH-5034"),
        (Error::KeysNotLoaded, 503, "DAUTH-5090"),
        (Error::KeysExpired, 503, "DAUTH-5091"),
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

#[test]
fn obp_suffixes_are_appended_as_obp_does() {
    let e = Error::LacksGrant {
        views: "owner_work".into(),
        user_id: "u-1".into(),
    };
    assert!(
        e.message()
            .ends_with("is false.Current ViewId(owner_work) and current UserId(u-1)"),
        "{}",
        e.message()
    );
    let e = Error::CannotRevoke {
        view: "auditor".into(),
        missing: true,
    };
    assert_eq!(
        e.message(),
        "OBP-30064: Cannot revoke account access. Current ViewId is auditor <- OBP-30065: Cannot find account access."
    );
    let e = Error::SystemViewNotFound("nope".into());
    assert_eq!(
        e.message(),
        "OBP-30252: System view not found. Please specify a valid value for VIEW_ID. Current ViewId is nope"
    );
}

#[test]
fn body_failures_close_http1_and_keep_their_cause_out_of_the_answer() {
    let e = Error::BadBody("invalid chunk size line".into());
    assert_eq!(
        e.message(),
        "DAUTH-1406: Malformed or incomplete request body."
    );
    assert!(e.closes_connection());
    assert!(Error::BodyTimeout.closes_connection());
    assert!(!Error::BodyTooLarge.closes_connection());
    assert!(!Error::UpstreamTimeout.closes_connection());
}

/// Pins the header each kind of answer carries: a 401 always challenges, a 405 lists its
/// methods, a 429 and a 503 say when to retry, a missing scope names it.
#[test]
fn every_condition_keeps_its_header() {
    let any = Header::Challenge(ANY_CHALLENGE);
    let bearer = Header::Challenge(BEARER_REFUSED);
    let table: Vec<(Error, Header)> = vec![
        (Error::MissingCredentials, any),
        (Error::IpNotAllowed, any),
        (Error::InvalidToken(TokenDefect::Malformed), any),
        (Error::TokenReplayed, any),
        (Error::InvalidAddress(AddressClaim::Contract), any),
        (Error::LoginWrongPassword, any),
        (Error::InvalidBearer(BearerDefect::Invalid), bearer),
        (Error::InvalidBearer(BearerDefect::Expired), bearer),
        (Error::InvalidBearer(BearerDefect::Audience), bearer),
        (
            Error::InsufficientScope("user:read"),
            Header::InsufficientScope("user:read"),
        ),
        (
            Error::MethodNotAllowed { allow: "GET, HEAD" },
            Header::Allow("GET, HEAD"),
        ),
        (Error::TooManyRequests(7), Header::RetryAfter(7)),
        (Error::Store(StoreError::Dangling), Header::RetryAfter(1)),
        (Error::ReplayWindowFull, Header::RetryAfter(1)),
        (
            Error::ReplayUnavailable(StoreError::Dangling),
            Header::RetryAfter(1),
        ),
        (Error::VerifierBusy, Header::RetryAfter(1)),
        (Error::HashBusy, Header::RetryAfter(1)),
        (Error::ResetQueueFull, Header::RetryAfter(1)),
        (
            Error::MailUnavailable("SMTP refused".into()),
            Header::RetryAfter(1),
        ),
        (Error::Overloaded, Header::RetryAfter(1)),
        (Error::NotFound, Header::None),
        (Error::BodyTooLarge, Header::None),
        (Error::AdminRequired, Header::None),
        (Error::UpstreamTimeout, Header::None),
    ];
    for (err, header) in table {
        assert_eq!(err.public().header, header, "{err:?}");
    }
}
