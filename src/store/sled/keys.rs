//! sled's key encodings: how each record's key is made from its parts. Private to the sled
//! backend; another backend keys its records its own way.

use crate::store::model::UserKind;

/// The tag byte of a user kind in identity keys.
pub(super) fn kind_tag(kind: UserKind) -> u8 {
    match kind {
        UserKind::Dauth => b'd',
        UserKind::Local => b'l',
        UserKind::External => b'x',
    }
}

/// The index key of a (kind, provider, username) triple: unambiguous for any strings,
/// because the provider is length-prefixed.
pub(super) fn identity_key(kind: UserKind, provider: &str, username: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + 4 + provider.len() + username.len());
    key.push(kind_tag(kind));
    key.extend_from_slice(&(provider.len() as u32).to_be_bytes());
    key.extend_from_slice(provider.as_bytes());
    key.extend_from_slice(username.as_bytes());
    key
}

/// An unambiguous key: a tag byte, then each part as a big-endian u16 length and its bytes.
pub(super) fn key(tag: u8, parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len() + 2).sum::<usize>());
    k.push(tag);
    for p in parts {
        k.extend_from_slice(&u16::try_from(p.len()).unwrap_or(u16::MAX).to_be_bytes());
        k.extend_from_slice(p.as_bytes());
    }
    k
}

/// The parts of a key made by [`key`] (without its tag).
pub(super) fn parts(mut raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while raw.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([raw[0], raw[1]]));
        let end = (2 + len).min(raw.len());
        out.push(String::from_utf8_lossy(&raw[2..end]).into_owned());
        raw = &raw[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_keys_cannot_collide_across_the_provider_boundary() {
        // ("ab", "c") and ("a", "bc") concatenate to the same bytes without the length prefix.
        assert_ne!(
            identity_key(UserKind::Dauth, "ab", "c"),
            identity_key(UserKind::Dauth, "a", "bc")
        );
    }
}
