//! The one reading of the `Authorization` header: what the verifier verifies and what the
//! header filter strips are both decided here, so the two can never disagree on what a bearer
//! credential is.
//!
//! RFC 9110 11.6.2: `Authorization = credentials`, one credential per request, and
//! section 11.4: `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]` with the scheme
//! compared case-insensitively. Read here:
//! - more than one `Authorization` line is refused (a verifier reading the first and a backend
//!   reading the last, or all, would see different credentials);
//! - so is one line that holds a second credential after a comma (`Basic x, Bearer y`);
//! - the scheme runs to the first space or tab and is compared ignoring ASCII case; the token
//!   follows after any run of spaces and tabs (`Bearer<TAB>t`, `bEaReR   t`);
//! - `Bearer` with an empty token, or with bytes that are not ASCII text, is still a bearer
//!   credential (one the verifier refuses), never "another scheme" that would be forwarded.

use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName};

use crate::error::Error;

/// The `DAuth` header's name (matched case-insensitively: header maps store names lowercased).
/// A parsed name: a lookup by `&str` parses the name again each time.
pub const DAUTH_HEADER: HeaderName = HeaderName::from_static("dauth");

/// What the `Authorization` header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization<'a> {
    /// No `Authorization` header.
    Absent,
    /// Scheme `Bearer`, in any case, with its token: possibly empty or malformed, which the
    /// verifier refuses (a token that is not ASCII text is given as the empty token).
    Bearer(&'a str),
    /// Another scheme (`Basic`, ...), or an empty value: not the gateway's to judge.
    Other,
}

/// Reads `headers` as the module docs say.
pub fn authorization(headers: &HeaderMap) -> Result<Authorization<'_>, Error> {
    let mut lines = headers.get_all(AUTHORIZATION).iter();
    let Some(line) = lines.next() else {
        return Ok(Authorization::Absent);
    };
    if lines.next().is_some() {
        return Err(Error::AmbiguousAuthorization);
    }
    let value = trim(line.as_bytes());
    let (scheme, rest) = split_scheme(value);
    // A later list element that is itself a bearer credential is a second credential.
    if value
        .split(|b| *b == b',')
        .skip(1)
        .any(|element| is_bearer(split_scheme(trim(element)).0))
    {
        return Err(Error::AmbiguousAuthorization);
    }
    if !is_bearer(scheme) {
        return Ok(Authorization::Other);
    }
    Ok(Authorization::Bearer(
        std::str::from_utf8(rest)
            .ok()
            .filter(|t| {
                t.bytes()
                    .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
            })
            .unwrap_or(""),
    ))
}

fn is_bearer(scheme: &[u8]) -> bool {
    scheme.eq_ignore_ascii_case(b"bearer")
}

fn is_space(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if !is_space(first) {
            break;
        }
        v = rest;
    }
    while let [rest @ .., last] = v {
        if !is_space(last) {
            break;
        }
        v = rest;
    }
    v
}

/// (scheme, what follows the run of spaces and tabs after it).
fn split_scheme(value: &[u8]) -> (&[u8], &[u8]) {
    let end = value.iter().position(is_space).unwrap_or(value.len());
    let (scheme, rest) = value.split_at(end);
    (scheme, trim(rest))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(lines: &[&[u8]]) -> Result<Authorization<'static>, Error> {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append(AUTHORIZATION, HeaderValue::from_bytes(l).unwrap());
        }
        // Leaked so the borrowed answer can be returned; a test-only convenience.
        authorization(Box::leak(Box::new(h)))
    }

    #[test]
    fn bearer_in_any_case_after_any_run_of_spaces_and_tabs() {
        for (line, token) in [
            (&b"Bearer abc"[..], "abc"),
            (b"bearer abc", "abc"),
            (b"bEaReR   abc", "abc"),
            (b"Bearer\tabc", "abc"),
            (b"BEARER \t \tabc \t", "abc"),
            (b"  Bearer abc", "abc"),
            (b"Bearer", ""),
            (b"Bearer   ", ""),
            (b"Bearer a b", "a b"),
            (b"Bearer \xffabc", ""),
        ] {
            assert_eq!(
                read(&[line]).unwrap(),
                Authorization::Bearer(token),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn other_schemes_are_not_bearer() {
        for line in [
            &b"Basic dXNlcjpwdw=="[..],
            b"Bearerx abc",
            b"Bearer,abc",
            b"Digest username=\"a\", realm=\"b\"",
            b"",
            b"DPoP abc",
        ] {
            assert_eq!(
                read(&[line]).unwrap(),
                Authorization::Other,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert_eq!(read(&[]).unwrap(), Authorization::Absent);
    }

    #[test]
    fn a_second_credential_is_refused() {
        for lines in [
            &[&b"Basic dXNlcjpwdw=="[..], b"Bearer abc"][..],
            &[b"Bearer abc", b"Bearer abc"],
            &[b"Basic a", b"Basic b"],
            &[b"Basic dXNlcjpwdw==, Bearer abc"],
            &[b"Basic a,bearer\tabc"],
            &[b"Bearer abc, BEARER def"],
        ] {
            assert!(
                matches!(read(lines), Err(Error::AmbiguousAuthorization)),
                "{lines:?}"
            );
        }
    }
}
