//! Request paths: one canonical form that routes, view checks, embedded handlers and the
//! upstream all see, and refusal (400 `DAUTH-1400`) of what a backend could read differently.
//!
//! [`canonical`] (RFC 3986 6.2.2) decodes percent-encoded unreserved characters (6.2.2.2:
//! `%70rivate` is `private`), writes the remaining escapes in uppercase hex (6.2.2.1), and
//! percent-encodes raw bytes RFC 3986 does not allow in a path (non-ASCII, `"`, `{`, ...). It
//! refuses:
//! - a path that does not start with `/`, a `\`, a `%` not followed by two hex digits;
//! - encoded `/`, `\`, `;`, NUL and other controls: a backend that decodes before splitting or
//!   before reading path parameters would see other segments;
//! - `%25` followed by two hex digits: a backend that decodes twice would see another escape;
//! - escapes that do not decode to UTF-8 (overlong `%C0%AE`, surrogates, stray bytes);
//! - dot segments (`.`, `..`, also encoded, also with path parameters after `;` as servlet
//!   containers read them: `..;`, `.;x`, `%2e%2e;`), segments of dots and spaces only (`...`,
//!   `.. `), empty segments (`//`) and segments starting with `;`;
//! - characters whose compatibility form (NFKC, UAX #15) holds `/ \ . ; % ? #`: some servers
//!   fold fullwidth `．` and `／` to ASCII.
//!
//! [`readings`] gives the other ways a backend may compare the canonical path: decoded,
//! case-folded (after NFKC, with Unicode letters that case-map to ASCII read as ASCII), and
//! leniently (path parameters and trailing dots removed from segments). [`Claims`] refuses a path that one of those readings would send to
//! another route or embedded namespace than the gateway does.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::decompose_compatible;

use crate::error::Error;

/// The path prefixes the embedded endpoints claim (each endpoint's namespace is one of them):
/// [`Claims`] compares every reading of a path against these as against the routes' prefixes.
pub const EMBEDDED_NAMESPACES: [&str; 8] = [
    "/auth/siwe/",
    "/health",
    "/openapi.json",
    "/obp/",
    "/.well-known/",
    "/api/",
    "/oidc/",
    "/users",
];

/// RFC 3986 2.3 unreserved characters.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Allowed raw in a path segment (RFC 3986 3.3 `pchar` without escapes), or `/`: looked up,
/// since every byte of every request's path is.
fn is_path_char(b: u8) -> bool {
    PATH_CHARS[usize::from(b)]
}

/// [`is_path_char`]'s table, made from its definition at compile time.
const PATH_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = defines_path_char(b as u8);
        b += 1;
    }
    table
};

const fn defines_path_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_escape(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

/// The canonical form of `path`, or [`Error::BadPath`] (see the module docs). Borrowed when
/// `path` is canonical already.
pub fn canonical(path: &str) -> Result<Cow<'_, str>, Error> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(Error::BadPath);
    }
    // Most paths hold only characters that stay as they are (no escape, nothing to encode):
    // the loop below would copy them byte for byte.
    if bytes.iter().all(|&b| is_path_char(b)) {
        check_segments(path)?;
        return Ok(Cow::Borrowed(path));
    }
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let pair = bytes
                .get(i + 1)
                .and_then(|h| hex(*h))
                .zip(bytes.get(i + 2).and_then(|l| hex(*l)));
            let (high, low) = pair.ok_or(Error::BadPath)?;
            let v = (high << 4) | low;
            if v.is_ascii_control() || matches!(v, b'/' | b'\\' | b';') {
                return Err(Error::BadPath);
            }
            if is_unreserved(v) {
                out.push(char::from(v));
            } else {
                push_escape(&mut out, v);
            }
            i += 3;
            continue;
        }
        if b == b'\\' || b.is_ascii_control() {
            return Err(Error::BadPath);
        }
        if is_path_char(b) {
            out.push(char::from(b));
        } else {
            push_escape(&mut out, b);
        }
        i += 1;
    }
    check_segments(&out)?;
    Ok(if out == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(out)
    })
}

/// Every escape of a canonical path decoded; `None` unless the bytes are UTF-8.
fn decode(canonical: &str) -> Option<String> {
    let bytes = canonical.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let high = hex(*bytes.get(i + 1)?)?;
            let low = hex(*bytes.get(i + 2)?)?;
            out.push((high << 4) | low);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The refusals on the normalised path that are about its segments and what it decodes to.
fn check_segments(normalised: &str) -> Result<(), Error> {
    // Without an escape the path is its own decoding: nothing to copy, no double escape.
    let escaped = normalised.as_bytes().contains(&b'%');
    let double = escaped
        && normalised
            .as_bytes()
            .windows(5)
            .any(|w| w.starts_with(b"%25") && hex(w[3]).is_some() && hex(w[4]).is_some());
    if double {
        return Err(Error::BadPath);
    }
    let decoded: Cow<'_, str> = if escaped {
        Cow::Owned(decode(normalised).ok_or(Error::BadPath)?)
    } else {
        Cow::Borrowed(normalised)
    };
    // Split as bytes: `/`, `;`, `.` and ` ` are ASCII, so never part of a longer character.
    let mut segments = decoded.as_bytes().split(|&b| b == b'/').skip(1).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        let name = segment.split(|&b| b == b';').next().unwrap_or_default();
        let dots_only = !name.is_empty() && trim_spaces(name).iter().all(|&b| b == b'.');
        if dots_only || (name.is_empty() && (!last || !segment.is_empty())) {
            return Err(Error::BadPath);
        }
    }
    if !decoded.is_ascii()
        && decoded
            .chars()
            .any(|c| !c.is_ascii() && folds_to_punctuation(c))
    {
        return Err(Error::BadPath);
    }
    Ok(())
}

/// `bytes` without the spaces (only ` `) it starts or ends with.
fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Whether the compatibility decomposition of `c` holds a character that separates or escapes
/// paths (`．` U+FF0E, `／` U+FF0F, `‥` U+2025, `﹔` U+FE54, ...).
fn folds_to_punctuation(c: char) -> bool {
    let mut found = false;
    decompose_compatible(c, |d| {
        found |= matches!(d, '/' | '\\' | '.' | ';' | '%' | '?' | '#') || d.is_ascii_control();
    });
    found
}

/// A letter as a case-insensitive comparison sees it: ASCII lowercase, and a non-ASCII letter
/// whose upper- or lowercase is one ASCII letter read as that letter (`ı` U+0131 uppercases to
/// `I`, `ſ` U+017F to `S`, the Kelvin sign U+212A lowercases to `k`; Java's `equalsIgnoreCase`
/// compares such pairs equal).
fn fold_char(c: char) -> char {
    fn one_ascii(mut it: impl Iterator<Item = char>) -> Option<char> {
        let first = it.next()?;
        (first.is_ascii() && it.next().is_none()).then(|| first.to_ascii_lowercase())
    }
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    one_ascii(c.to_uppercase())
        .or_else(|| one_ascii(c.to_lowercase()))
        .unwrap_or(c)
}

/// How many readings [`readings`] gives.
pub const READINGS: usize = 4;

/// The readings of a canonical path (or route prefix) a backend may compare: decoded;
/// decoded, NFKC-normalised and case-folded; decoded and lenient (each segment cut at its first
/// `;`, as servlet containers drop path parameters, and trailing dots and spaces removed, as
/// Windows servers do: `/private./x` is `/private/x` to IIS); and lenient and folded.
pub fn readings(canonical: &str) -> [String; READINGS] {
    let decoded = decode(canonical).unwrap_or_else(|| canonical.to_owned());
    let folded: String = if decoded.is_ascii() {
        decoded.to_ascii_lowercase()
    } else {
        decoded.nfkc().map(fold_char).collect()
    };
    let lenient = |s: &str| {
        s.split('/')
            .map(|seg| {
                seg.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(['.', ' '])
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let lenient_folded = lenient(&folded);
    let lenient_decoded = lenient(&decoded);
    [folded, lenient_folded, decoded, lenient_decoded]
}

/// Where a path goes, as far as the claim rules tell (see [`Claims`]).
#[derive(Debug, PartialEq, Eq)]
enum Claim<'a> {
    Route(&'a str),
    Namespace(&'static str),
    Nothing,
}

/// The prefixes paths are routed on: route prefixes (longest first), each with its
/// [`readings`], and the embedded handlers' namespaces (ASCII lowercase, so every reading of
/// one is itself).
#[derive(Debug)]
pub struct Claims {
    routes: Vec<(String, [String; READINGS])>,
    namespaces: &'static [&'static str],
    /// Per reading: every route prefix reads as itself, so a path that reads as itself is
    /// claimed under that reading exactly as under none.
    plain: [bool; READINGS],
}

impl Claims {
    /// Builds the claims from route `prefixes` and the embedded `namespaces`.
    pub fn new<'p>(
        prefixes: impl Iterator<Item = &'p str>,
        namespaces: &'static [&'static str],
    ) -> Self {
        let mut routes: Vec<_> = prefixes.map(|p| (p.to_owned(), readings(p))).collect();
        routes.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let plain = std::array::from_fn(|r| routes.iter().all(|(p, read)| *p == read[r]));
        Self {
            routes,
            namespaces,
            plain,
        }
    }

    /// The claim on `path` when it and every prefix are read by `read` (`None`: as they are).
    fn claim(&self, path: &str, reading: Option<usize>) -> Claim<'_> {
        let route = self.routes.iter().find_map(|(prefix, read)| {
            let p = reading.map_or(prefix.as_str(), |r| read[r].as_str());
            path.starts_with(p).then_some(prefix.as_str())
        });
        let namespace = self.namespaces.iter().copied().find(|ns| {
            path.strip_prefix(ns)
                .is_some_and(|rest| ns.ends_with('/') || rest.is_empty() || rest.starts_with('/'))
        });
        match (route, namespace) {
            (Some(r), Some(ns)) if r.len() >= ns.len() => Claim::Route(r),
            (_, Some(ns)) => Claim::Namespace(ns),
            (Some(r), None) => Claim::Route(r),
            (None, None) => Claim::Nothing,
        }
    }

    /// Refuses a canonical `path` that some reading would route to another route or namespace
    /// than the exact comparison does (`/PRIVATE/x` with routes `/` and `/private/`,
    /// `/OBP/...` beside a catch-all route, `/private;x/y`).
    pub fn check(&self, path: &str) -> Result<(), Error> {
        let exact = self.claim(path, None);
        // Most paths read as themselves every way: their readings need not be built, nor
        // compared under a reading that leaves every prefix as it is too.
        let read = (!reads_as_itself(path)).then(|| readings(path));
        for r in 0..READINGS {
            if read.is_none() && self.plain[r] {
                continue;
            }
            let reading = read.as_ref().map_or(path, |read| read[r].as_str());
            if self.claim(reading, Some(r)) != exact {
                return Err(Error::BadPath);
            }
        }
        Ok(())
    }
}

/// Whether every one of a canonical path's [`readings`] is the path itself: ASCII without an
/// escape, an uppercase letter or a `;`, and no segment ending in a dot or a space.
fn reads_as_itself(canonical: &str) -> bool {
    canonical
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && !matches!(b, b'%' | b';'))
        && !canonical.ends_with(['.', ' '])
        && !canonical
            .as_bytes()
            .windows(2)
            .any(|w| matches!(w, [b'.' | b' ', b'/']))
}

#[cfg(test)]
mod tests;
