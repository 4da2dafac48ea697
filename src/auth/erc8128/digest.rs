//! `Content-Digest` (RFC 9530 2): a dictionary of algorithm -> byte sequence. Members for
//! `sha-256` and `sha-512` are recomputed over the body and compared in constant time; every
//! supported member must match, and at least one must be there. Others are ignored (RFC 9530
//! 2: a recipient MAY ignore algorithms it does not support).

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, SHA512, digest};
use http::HeaderMap;
use sfv::{BareItem, Dictionary, ListEntry, Parser};

use crate::error::WalletError;

/// `Content-Digest` (RFC 9530 2).
pub const CONTENT_DIGEST: &str = "content-digest";

/// Checks the request's `Content-Digest` against `body`.
pub(super) fn check(headers: &HeaderMap, body: &[u8]) -> Result<(), WalletError> {
    let mut text = String::new();
    for value in headers.get_all(CONTENT_DIGEST) {
        let value = value.to_str().map_err(|_| WalletError::DigestRequired)?;
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(value);
    }
    let members: Dictionary = Parser::new(&text)
        .parse()
        .map_err(|_| WalletError::DigestRequired)?;
    let mut checked = 0;
    for (algorithm, entry) in &members {
        let algorithm = match algorithm.as_str() {
            "sha-256" => &SHA256,
            "sha-512" => &SHA512,
            _ => continue,
        };
        let ListEntry::Item(item) = entry else {
            return Err(WalletError::DigestRequired);
        };
        let BareItem::ByteSequence(expected) = &item.bare_item else {
            return Err(WalletError::DigestRequired);
        };
        let actual = digest(algorithm, body);
        verify_slices_are_equal(actual.as_ref(), expected)
            .map_err(|_| WalletError::DigestMismatch)?;
        checked += 1;
    }
    if checked == 0 {
        return Err(WalletError::DigestRequired);
    }
    Ok(())
}
