//! Airnode relay mode's refusals ([`crate::auth::airnode`], [`crate::store::retry`]): one enum,
//! one variant of [`super::Error`], with its own part of the public table in one exhaustive
//! `match` (pinned with the rest by `error/tests.rs`).

use http::StatusCode;

use super::defects::RelayField;
use super::public::{Public, row};

/// The cause of a failure, kept for the log (as [`super::Cause`]).
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why an Airnode request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AirnodeError {
    /// Airnode relay headers, or an Airnode key header, without a valid Airnode credential.
    #[error("no valid Airnode credential")]
    KeyInvalid,
    /// A valid Airnode credential from a host outside the block's `allowed_hosts`.
    #[error("caller IP not in airnode.allowed_hosts")]
    HostNotAllowed,
    /// Airnode relay headers together with a `DAuth` header, or with a bearer credential that is
    /// not the Airnode's key.
    #[error("Airnode relay headers with another credential")]
    Ambiguous,
    /// A required relay header is absent (or the sponsor, when `sponsors` is an allow-list).
    #[error("relay header {} missing", .0.as_str())]
    HeaderMissing(RelayField),
    /// A relay header appears more than once.
    #[error("relay header {} repeated", .0.as_str())]
    HeaderRepeated(RelayField),
    /// A relay header's value is not in its strict format.
    #[error("relay header {} malformed", .0.as_str())]
    HeaderInvalid(RelayField),
    /// A mixed-case relayed address whose EIP-55 checksum is wrong.
    #[error("relay header {} has a bad EIP-55 checksum", .0.as_str())]
    BadChecksum(RelayField),
    /// The relayed chain id is not in the block's `chains`.
    #[error("chain id not configured")]
    ChainNotAllowed,
    /// The relayed requester or sponsor is not on the block's allow-list.
    #[error("{} not allowed", .0.as_str())]
    NotAllowed(RelayField),
    /// The request id was first seen with another binding (requester, sponsor, method, path,
    /// body, ...): not a retry.
    #[error("request id bound to another request")]
    RetryConflict,
    /// A retry of a request whose first response was not kept (larger than
    /// `max_replay_bytes`, over the replay memory, or no response was made).
    #[error("first response not kept for replay")]
    ReplayUnavailable,
    /// The retry-binding record is full of unexpired bindings; fail closed.
    #[error("Airnode retry record full")]
    RetryWindowFull,
    /// The on-chain check found no request with this id made to this Airnode.
    #[error("request not on chain")]
    RequestNotOnChain,
    /// The on-chain request is no longer awaiting fulfillment (fulfilled or failed).
    #[error("request not awaiting fulfillment")]
    RequestNotAwaiting,
    /// The on-chain request names another requester, sponsor or sponsor wallet.
    #[error("on-chain {} differs", .0.as_str())]
    RequestMismatch(RelayField),
    /// A chain's node could not be asked (timeout, refusal, overload); fail closed.
    #[error("chain unavailable: {0}")]
    ChainUnavailable(#[source] Cause),
}

impl AirnodeError {
    /// The public side: status, code, text, header.
    pub(super) fn public(&self) -> Public {
        use StatusCode as S;
        match self {
            Self::KeyInvalid => row(
                S::UNAUTHORIZED,
                "DAUTH-2601",
                "Airnode relay headers need a valid Airnode key.",
            ),
            Self::HostNotAllowed => row(
                S::UNAUTHORIZED,
                "DAUTH-2602",
                "Airnode calls are accepted only from the Airnode's allowed hosts.",
            ),
            Self::Ambiguous => row(
                S::BAD_REQUEST,
                "DAUTH-2603",
                "Airnode relay headers cannot be combined with a DAuth or bearer credential.",
            ),
            Self::HeaderMissing(_) => row(
                S::BAD_REQUEST,
                "DAUTH-2604",
                "A required Airnode relay header is missing.",
            ),
            Self::HeaderRepeated(_) => row(
                S::BAD_REQUEST,
                "DAUTH-2605",
                "An Airnode relay header must appear once.",
            ),
            Self::HeaderInvalid(_) => row(
                S::BAD_REQUEST,
                "DAUTH-2606",
                "An Airnode relay header is malformed.",
            ),
            Self::BadChecksum(_) => row(
                S::BAD_REQUEST,
                "DAUTH-2607",
                "A relayed address has a wrong EIP-55 checksum.",
            ),
            Self::ChainNotAllowed => row(
                S::FORBIDDEN,
                "DAUTH-2608",
                "The relayed chain id is not configured for this Airnode.",
            ),
            Self::NotAllowed(_) => row(
                S::FORBIDDEN,
                "DAUTH-2609",
                "The relayed address is not on this Airnode's allow-list.",
            ),
            Self::RetryConflict => row(
                S::CONFLICT,
                "DAUTH-2610",
                "This Airnode request id was already used for a different request.",
            ),
            Self::ReplayUnavailable => row(
                S::CONFLICT,
                "DAUTH-2611",
                "The first response to this Airnode request was not kept; it cannot be replayed.",
            ),
            Self::RequestNotOnChain => row(
                S::FORBIDDEN,
                "DAUTH-2612",
                "No such request was made to this Airnode on chain.",
            ),
            Self::RequestNotAwaiting => row(
                S::FORBIDDEN,
                "DAUTH-2613",
                "The request is no longer awaiting fulfillment on chain.",
            ),
            Self::RequestMismatch(_) => row(
                S::FORBIDDEN,
                "DAUTH-2614",
                "The request on chain does not match the relayed facts.",
            ),
            Self::RetryWindowFull => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5037",
                "Too many Airnode requests in the retry window; retry shortly.",
            ),
            Self::ChainUnavailable(_) => row(
                S::SERVICE_UNAVAILABLE,
                "DAUTH-5038",
                "The chain could not be checked; retry shortly.",
            ),
        }
    }

    /// The field an error names, as a suffix of its message.
    pub(super) fn detail(&self) -> String {
        match self {
            Self::HeaderMissing(f)
            | Self::HeaderRepeated(f)
            | Self::HeaderInvalid(f)
            | Self::BadChecksum(f)
            | Self::NotAllowed(f)
            | Self::RequestMismatch(f) => format!(" Field: {}.", f.as_str()),
            _ => String::new(),
        }
    }
}
