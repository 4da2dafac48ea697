//! Wallet-signed requests' refusals (ERC-8128 signatures, SIWE logins, EIP-1271 checks): one
//! enum, one variant of [`super::Error`], with its own part of the public table in one
//! exhaustive `match` (pinned with the rest by `error/tests.rs`).

use http::StatusCode;

use super::public::{Public, row};

/// Why a wallet-signed request or a SIWE login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// `Signature-Input` without `Signature` or the reverse.
    #[error("Signature-Input and Signature must come together")]
    HeadersMissing,
    /// `Signature-Input`, `Signature` or a covered component is not what RFC 9421 allows.
    #[error("malformed signature headers")]
    Malformed,
    /// No `Signature-Input` member has a `Signature` member of the same label.
    #[error("no signature label in both headers")]
    LabelNotFound,
    /// `keyid` is not `erc8128:<chain id>:<0x + 40 hex>`.
    #[error("bad keyid")]
    BadKeyid,
    /// The covered components do not bind the request (method, authority, path, query, body).
    #[error("signature does not cover the request")]
    NotRequestBound,
    /// An `alg` parameter: the algorithm is EIP-191, never named by the sender.
    #[error("alg parameter refused")]
    AlgNotAllowed,
    /// `expires <= created`, or a time parameter missing.
    #[error("bad created/expires")]
    BadTime,
    /// `created` is in the future beyond the skew.
    #[error("signature not yet valid")]
    NotYetValid,
    /// `expires` has passed (beyond the skew).
    #[error("signature expired")]
    Expired,
    /// `expires - created` exceeds `wallets.max_lifetime_secs`.
    #[error("signature lifetime too long")]
    LifetimeTooLong,
    /// No (or an empty) `nonce` parameter.
    #[error("nonce required")]
    NonceRequired,
    /// The (keyid, nonce) pair was already used.
    #[error("nonce replayed")]
    Replayed,
    /// The chain id is not in `wallets.chains`.
    #[error("chain not allowed")]
    ChainNotAllowed,
    /// `content-digest` is covered but the header is absent or has no usable member.
    #[error("Content-Digest required")]
    DigestRequired,
    /// The body forwarded does not hash to the `Content-Digest`.
    #[error("Content-Digest mismatch")]
    DigestMismatch,
    /// A covered header field is absent.
    #[error("covered header missing")]
    CoveredHeaderMissing,
    /// A signature that is not 65 bytes where no contract check is possible.
    #[error("signature length")]
    BadSignatureLength,
    /// `v` outside {0, 1, 27, 28}.
    #[error("bad v")]
    BadV,
    /// `s` above n/2 (malleable).
    #[error("high s")]
    HighS,
    /// The signature was not made by the keyid's (or the message's) address.
    #[error("wrong signer")]
    WrongSigner,
    /// A DAuth token's `msg_sender` differs from the wallet that signed the request.
    #[error("msg_sender is not the signer")]
    SenderMismatch,
    /// The route does not accept this authentication method.
    #[error("authentication method {0} not accepted on this route")]
    MethodNotAccepted(&'static str),
    /// The chain's node could not answer an EIP-1271 / ERC-6492 check.
    #[error("chain unavailable: {0}")]
    ChainUnavailable(String),
    /// A SIWE message that does not parse as EIP-4361.
    #[error("malformed SIWE message")]
    SiweMalformed,
    /// A SIWE message for another domain or URI.
    #[error("SIWE domain or URI mismatch")]
    SiweWrongDomain,
    /// A SIWE message issued in the future, expired, or not yet valid.
    #[error("SIWE message outside its validity")]
    SiweNotValidNow,
    /// A SIWE nonce that was not issued, was used, expired, or was issued to another address.
    #[error("SIWE nonce unknown")]
    SiweNonceUnknown,
    /// Wallet sign-in is not enabled.
    #[error("wallets disabled")]
    Disabled,
}

impl WalletError {
    /// The public row of this refusal.
    pub(super) fn public(&self) -> Public {
        use StatusCode as S;
        let unauthorized = |code, text| row(S::UNAUTHORIZED, code, text);
        match self {
            Self::HeadersMissing => unauthorized(
                "DAUTH-2801",
                "Signature-Input and Signature must both be present.",
            ),
            Self::Malformed => unauthorized(
                "DAUTH-2802",
                "Signature-Input or Signature is malformed (RFC 9421).",
            ),
            Self::LabelNotFound => unauthorized(
                "DAUTH-2803",
                "No signature label is present in both Signature-Input and Signature.",
            ),
            Self::BadKeyid => {
                unauthorized("DAUTH-2804", "keyid must be erc8128:<chain id>:<address>.")
            }
            Self::NotRequestBound => unauthorized(
                "DAUTH-2805",
                "The signature must cover @method, @authority, @path, @query when there is a query, and content-digest when there is a body.",
            ),
            Self::AlgNotAllowed => {
                unauthorized("DAUTH-2806", "The alg signature parameter is not allowed.")
            }
            Self::BadTime => unauthorized(
                "DAUTH-2807",
                "created and expires are required, and expires must be after created.",
            ),
            Self::NotYetValid => unauthorized("DAUTH-2808", "The signature is not valid yet."),
            Self::Expired => unauthorized("DAUTH-2809", "The signature has expired."),
            Self::LifetimeTooLong => unauthorized(
                "DAUTH-2810",
                "The signature's lifetime exceeds wallets.max_lifetime_secs.",
            ),
            Self::NonceRequired => unauthorized("DAUTH-2811", "The signature needs a nonce."),
            Self::Replayed => unauthorized("DAUTH-2812", "This nonce has already been used."),
            Self::ChainNotAllowed => unauthorized("DAUTH-2813", "This chain id is not allowed."),
            Self::DigestRequired => unauthorized(
                "DAUTH-2814",
                "A covered Content-Digest (sha-256 or sha-512) is required.",
            ),
            Self::DigestMismatch => {
                unauthorized("DAUTH-2815", "The body does not match its Content-Digest.")
            }
            Self::CoveredHeaderMissing => {
                unauthorized("DAUTH-2816", "A covered header field is missing.")
            }
            Self::BadSignatureLength => {
                unauthorized("DAUTH-2817", "The signature must be 65 bytes.")
            }
            Self::BadV => unauthorized("DAUTH-2818", "The signature's v must be 0, 1, 27 or 28."),
            Self::HighS => unauthorized(
                "DAUTH-2819",
                "The signature's s must be in the lower half of the curve order.",
            ),
            Self::WrongSigner => unauthorized(
                "DAUTH-2820",
                "The signature was not made by the named address.",
            ),
            Self::SenderMismatch => row(
                S::FORBIDDEN,
                "DAUTH-2821",
                "The DAuth token's msg_sender is not the wallet that signed the request.",
            ),
            Self::MethodNotAccepted(_) => unauthorized(
                "DAUTH-2822",
                "This authentication method is not accepted on this route.",
            ),
            Self::ChainUnavailable(_) => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5050",
                "The chain's node could not check the signature; retry shortly.",
            ),
            Self::SiweMalformed => row(
                S::BAD_REQUEST,
                "DAUTH-2823",
                "The message is not an EIP-4361 message.",
            ),
            Self::SiweWrongDomain => {
                unauthorized("DAUTH-2824", "The message is for another domain or URI.")
            }
            Self::SiweNotValidNow => {
                unauthorized("DAUTH-2825", "The message is not valid at this time.")
            }
            Self::SiweNonceUnknown => unauthorized(
                "DAUTH-2826",
                "The nonce was not issued to this address, has expired or was used.",
            ),
            Self::Disabled => row(S::NOT_FOUND, "DAUTH-2827", "Wallet sign-in is not enabled."),
        }
    }
}
