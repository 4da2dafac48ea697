//! The details some errors carry for the log: why a DAuth or bearer token was refused, and
//! which address claim an address error is about. Never sent to the client.

use std::fmt;

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

/// Which fact an Airnode relay error is about: the relay header that carries it (its name is
/// the operator's choice, so errors name the fact, not the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayField {
    /// `relayRequesterAddress`: the requester contract.
    Requester,
    /// `relayChainId`.
    ChainId,
    /// `relayChainType`.
    ChainType,
    /// `relayRequestId`.
    RequestId,
    /// `relaySponsorAddress`.
    Sponsor,
    /// `relaySponsorWalletAddress`.
    SponsorWallet,
}

impl RelayField {
    /// Every field, in the order the relay headers are read.
    pub const ALL: [Self; 6] = [
        Self::Requester,
        Self::ChainId,
        Self::ChainType,
        Self::RequestId,
        Self::Sponsor,
        Self::SponsorWallet,
    ];

    /// The fact's name, as error messages give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requester => "requester",
            Self::ChainId => "chain_id",
            Self::ChainType => "chain_type",
            Self::RequestId => "request_id",
            Self::Sponsor => "sponsor",
            Self::SponsorWallet => "sponsor_wallet",
        }
    }
}
