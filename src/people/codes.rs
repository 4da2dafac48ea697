//! One-time codes (email confirmation, password reset): random, sent once, stored as SHA-256.

use aws_lc_rs::{digest, rand};
use base64::Engine;

/// A fresh code: 24 random bytes, base64url (32 characters).
pub(crate) fn new_code() -> String {
    let mut bytes = [0u8; 24];
    // aws-lc's system RNG does not fail on supported platforms; an all-zero code would still be
    // unusable for guessing since it is checked against its digest and expiry.
    let _ = rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a code, as stored.
pub(crate) fn digest(code: &str) -> String {
    digest::digest(&digest::SHA256, code.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two secrets without leaking where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}
