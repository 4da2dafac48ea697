//! The request's id and its W3C Trace Context, set on the request before anything else reads
//! it, so the upstream, the log line and the response all see the same values.
//!
//! - `X-Request-Id`: kept when the TCP peer is one of `server.trusted_proxies` and it is well
//!   formed: one header, 1 to [`MAX_REQUEST_ID`] visible ASCII characters (0x21..=0x7E: no
//!   space, no control character, nothing outside ASCII). Otherwise, from any other peer or
//!   when malformed, it is replaced by a new UUID v7 (RFC 9562, section 5.7).
//! - `traceparent` (W3C Trace Context, section 3.2): a valid one keeps its trace id and flags,
//!   gets this gateway's new span id as parent id, and its `tracestate` is passed on; a
//!   missing or invalid one (section 3.2.2: bad length, version `ff`, upper-case or non-hex
//!   digits, an all-zero trace or parent id, more than one header) starts a new trace, and
//!   any `tracestate` is dropped with it (section 3.3: tracestate without a valid traceparent
//!   is not propagated).

use http::{HeaderMap, HeaderName, HeaderValue};

/// `X-Request-Id`.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The longest request id kept from a trusted proxy.
pub(crate) const MAX_REQUEST_ID: usize = 128;
/// The longest `tracestate` passed on (W3C Trace Context section 3.3.1.5 asks for at least 512
/// characters; one longer is dropped rather than cut).
const MAX_TRACESTATE: usize = 512;

/// What the request was stamped with.
pub(crate) struct Stamp {
    /// The request id, as sent upstream and returned.
    pub(crate) request_id: HeaderValue,
    /// The trace id (32 lower-case hex digits).
    pub(crate) trace_id: String,
    /// This gateway's span id (16 lower-case hex digits).
    pub(crate) span_id: String,
    /// The caller's span id when its `traceparent` was kept.
    pub(crate) parent_id: Option<String>,
    /// Whether the trace is sampled (the `traceparent` flags' low bit).
    pub(crate) sampled: bool,
    /// Whether the caller's `tracestate` is passed on.
    keep_state: bool,
}

/// The request id and trace context of a request with `headers` (see the module docs);
/// `trusted` is whether the TCP peer is a trusted proxy. Nothing is changed yet:
/// [`Stamp::apply`] writes them.
pub(crate) fn read(headers: &HeaderMap, trusted: bool) -> Stamp {
    let request_id = kept_request_id(headers, trusted).unwrap_or_else(new_request_id);
    let span_id = new_span_id();
    let parent = single(headers, &TRACEPARENT).and_then(parse_traceparent);
    let keep_state = parent.is_some() && tracestate_ok(headers);
    let (trace_id, flags, parent_id) = match parent {
        Some(p) => (p.trace_id, p.flags, Some(p.parent_id)),
        None => (new_trace_id(), "00", None),
    };
    Stamp {
        request_id,
        trace_id,
        span_id,
        parent_id,
        sampled: flags == "01",
        keep_state,
    }
}

impl Stamp {
    /// Writes the request id and trace context onto the request's `headers`, replacing what
    /// the client sent.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        headers.insert(X_REQUEST_ID, self.request_id.clone());
        // Built by hand and handed over whole (no formatting machinery, no second copy): this
        // runs on every request.
        let mut traceparent = String::with_capacity(55);
        for part in ["00-", &self.trace_id, "-", &self.span_id] {
            traceparent.push_str(part);
        }
        traceparent.push_str(if self.sampled { "-01" } else { "-00" });
        if let Ok(v) = HeaderValue::try_from(traceparent) {
            headers.insert(TRACEPARENT, v);
        }
        if !self.keep_state {
            headers.remove(TRACESTATE);
        }
    }
}

impl Stamp {
    /// Takes the trace and span ids of the exported request span, so that what the upstream
    /// is told is the span that the collector receives.
    pub(crate) fn adopt(&mut self, trace_id: String, span_id: String, sampled: bool) {
        self.trace_id = trace_id;
        self.span_id = span_id;
        self.sampled = sampled;
    }
}

/// [`read`] then [`Stamp::apply`].
#[cfg(test)]
fn stamp(headers: &mut HeaderMap, trusted: bool) -> Stamp {
    let s = read(headers, trusted);
    s.apply(headers);
    s
}

fn kept_request_id(headers: &HeaderMap, trusted: bool) -> Option<HeaderValue> {
    if !trusted {
        return None;
    }
    let v = single(headers, &X_REQUEST_ID)?;
    let b = v.as_bytes();
    let ok =
        !b.is_empty() && b.len() <= MAX_REQUEST_ID && b.iter().all(|c| (0x21..=0x7e).contains(c));
    ok.then(|| v.clone())
}

fn new_request_id() -> HeaderValue {
    let id = uuid::Uuid::now_v7();
    let mut buf = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// The one value of `name`, `None` when absent or repeated.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    let mut all = headers.get_all(name).iter();
    let first = all.next()?;
    all.next().is_none().then_some(first)
}

struct Parent {
    trace_id: String,
    parent_id: String,
    flags: &'static str,
}

/// A `traceparent` value (W3C Trace Context section 3.2.2). Version `00` is exactly 55
/// characters; a higher version may append `-` and more, which is ignored (section 4.3).
fn parse_traceparent(v: &HeaderValue) -> Option<Parent> {
    let s = v.to_str().ok()?;
    if s.len() < 55 || (s.len() > 55 && s.as_bytes().get(55) != Some(&b'-')) {
        return None;
    }
    let version = s.get(0..2)?;
    if !lower_hex(version) || version == "ff" || (version == "00" && s.len() != 55) {
        return None;
    }
    let (trace_id, parent_id, flags) = (s.get(3..35)?, s.get(36..52)?, s.get(53..55)?);
    let dashes = [2, 35, 52]
        .iter()
        .all(|&i| s.as_bytes().get(i) == Some(&b'-'));
    let valid = dashes
        && lower_hex(trace_id)
        && lower_hex(parent_id)
        && lower_hex(flags)
        && trace_id.bytes().any(|b| b != b'0')
        && parent_id.bytes().any(|b| b != b'0');
    valid.then(|| Parent {
        trace_id: trace_id.to_owned(),
        parent_id: parent_id.to_owned(),
        // Only the sampled bit is defined for version 00; other bits are not passed on.
        flags: if u8::from_str_radix(flags, 16).is_ok_and(|f| f & 1 == 1) {
            "01"
        } else {
            "00"
        },
    })
}

fn lower_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether the `tracestate` headers can be passed on: visible ASCII and short enough.
fn tracestate_ok(headers: &HeaderMap) -> bool {
    let mut len = 0;
    for v in headers.get_all(TRACESTATE) {
        len += v.len() + 1;
        if v.as_bytes().iter().any(|c| !(0x20..=0x7e).contains(c)) {
            return false;
        }
    }
    len <= MAX_TRACESTATE + 1
}

fn new_trace_id() -> String {
    hex(uuid::Uuid::new_v4().as_bytes())
}

fn new_span_id() -> String {
    loop {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        // Bytes 8..16 minus the variant bits of byte 8: take 9..16 and byte 0.
        let mut span = [0u8; 8];
        span[0] = bytes[0];
        span[1..].copy_from_slice(&bytes[9..16]);
        if span.iter().any(|b| *b != 0) {
            return hex(&span);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests;
