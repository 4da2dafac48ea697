//! The label sets of the `dauth_*` families: every value a configured name or a fixed word.

use prometheus_client::encoding::EncodeLabelSet;

/// `route`, `method` (class), `status` (class).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestLabels {
    pub(super) route: String,
    pub(super) method: &'static str,
    pub(super) status: &'static str,
}

/// `route` alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabel {
    pub(super) route: String,
}

/// `route` and a failure `kind`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteKind {
    pub(super) route: String,
    pub(super) kind: &'static str,
}

/// An authentication `method` and the public error `code` (or "ok").
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AuthLabels {
    pub(super) method: &'static str,
    pub(super) code: &'static str,
}

/// A fixed `kind`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabel {
    pub(super) kind: &'static str,
}

/// A connection `protocol`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProtocolLabel {
    pub(super) protocol: &'static str,
}

/// A `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ResultLabel {
    pub(super) result: &'static str,
}

/// A JWKS `issuer` label and the fetch's `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct IssuerResult {
    pub(super) issuer: String,
    pub(super) result: &'static str,
}

/// A store operation `op`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OpLabel {
    pub(super) op: &'static str,
}

/// A verified-token cache's token `kind` and lookup `result`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CacheLabels {
    pub(super) kind: &'static str,
    pub(super) result: &'static str,
}
