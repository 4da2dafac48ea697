//! Header hygiene for forwarded requests and relayed responses.
//!
//! Most real breaches of authentication proxies are header spoofing (see the README's Security
//! section): a backend trusts an identity header that the client, not the gateway, wrote. So,
//! on every route, whatever its `auth` mode:
//! - any inbound header that could pass for identity is removed: a name that, compared
//!   case-insensitively with `_` read as `-`, starts with `x-dauth-` or `x-user-ctx`
//!   (oauth2-proxy GHSA-vjrc-mh2v-45x6 was `X_Forwarded_User` slipping past such a strip);
//! - hop-by-hop headers (RFC 9110 7.6.1), and any header the `Connection` header names, go;
//! - headers that make a backend take its path from a header (`X-Original-URL`, ...) go, from
//!   every peer: the gateway routed and checked the request line's path;
//! - from an untrusted peer, every header that claims the client's address or the hops before
//!   the gateway goes ([`is_client_address_header`]: `Forwarded`, `X-Real-IP`,
//!   `True-Client-IP`, `CF-Connecting-IP`, every `X-Forwarded-*`, in any spelling;
//!   traefik#12657);
//! - `X-Forwarded-For` is rebuilt: the client's chain survives only from a trusted proxy, then
//!   the peer is appended; `X-Forwarded-Proto`/`-Host` are set to one value each (a trusted
//!   proxy's last one, if well formed, else the gateway's own);
//! - the `DAuth` header and a bearer `Authorization` go, unless the route sets `forward_token`
//!   and the gateway verified that credential: an unverified one never reaches a backend;
//! - then, and only then, the gateway's own identity headers are added.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::auth::{AuthMethod, Authorization, Principal};
use crate::net::X_FORWARDED_FOR;

/// Identity header: the user's id.
pub const X_DAUTH_USER_ID: HeaderName = HeaderName::from_static("x-dauth-user-id");
/// Identity header: the username (the contract address for DAuth users).
pub const X_DAUTH_USERNAME: HeaderName = HeaderName::from_static("x-dauth-username");
/// Identity header: the provider (the network name for DAuth users).
pub const X_DAUTH_PROVIDER: HeaderName = HeaderName::from_static("x-dauth-provider");
/// Identity header: the DAuth `consumer_key`.
pub const X_DAUTH_CONSUMER_KEY: HeaderName = HeaderName::from_static("x-dauth-consumer-key");
/// Identity header: the DAuth `msg_sender`, when the token had one.
pub const X_DAUTH_MSG_SENDER: HeaderName = HeaderName::from_static("x-dauth-msg-sender");
/// Identity header: the view that passed the route's permission check.
pub const X_DAUTH_VIEW_ID: HeaderName = HeaderName::from_static("x-dauth-view-id");
/// Identity header: how the caller authenticated (`dauth`, `bearer`, `airnode`).
pub const X_DAUTH_AUTH_METHOD: HeaderName = HeaderName::from_static("x-dauth-auth-method");
/// Identity header: the chain id an Airnode relayed (decimal).
pub const X_DAUTH_CHAIN_ID: HeaderName = HeaderName::from_static("x-dauth-chain-id");
/// Identity header: the on-chain request id an Airnode relayed (`0x` + 64 lowercase hex).
pub const X_DAUTH_REQUEST_ID: HeaderName = HeaderName::from_static("x-dauth-request-id");
/// Identity header: the sponsor an Airnode relayed (EIP-55), when it relayed one.
pub const X_DAUTH_SPONSOR: HeaderName = HeaderName::from_static("x-dauth-sponsor");

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// RFC 9110 7.6.1 hop-by-hop fields, plus the non-standard ones proxies still see.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// A header name's byte as the matchers compare it: ASCII lowercase, `_` read as `-` (many
/// backends and CGI-style frameworks fold both). Names are compared without allocating.
fn fold(b: u8) -> u8 {
    if b == b'_' {
        b'-'
    } else {
        b.to_ascii_lowercase()
    }
}

fn folded_eq(name: &[u8], lower: &str) -> bool {
    name.len() == lower.len() && name.iter().zip(lower.bytes()).all(|(b, l)| fold(*b) == l)
}

fn starts_folded(name: &str, prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| folded_eq(head.as_bytes(), prefix))
}

fn ends_folded(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len() && folded_eq(&name.as_bytes()[name.len() - suffix.len()..], suffix)
}

/// True for a header name a backend could mistake for identity the gateway vouches for.
pub fn is_identity_header(name: &str) -> bool {
    starts_folded(name, "x-dauth-") || starts_folded(name, "x-user-ctx")
}

/// Names (folded) that carry a client's address or the hops before the gateway, as CDNs, load
/// balancers and frameworks spell them (RFC 7239 `Forwarded` included).
const CLIENT_ADDRESS_NAMES: [&str; 12] = [
    "forwarded",
    "forwarded-for",
    "x-forwarded",
    "x-forwarded-for-original",
    "client-ip",
    "remote-addr",
    "x-originating-ip",
    "x-azure-clientip",
    "x-azure-socketip",
    "x-envoy-external-address",
    "front-end-https",
    "x-url-scheme",
];

/// Endings (folded) that mark an address header: `X-Real-IP`, `True-Client-IP`,
/// `CF-Connecting-IPv6`, `X-Remote-Addr`, `X-Original-Forwarded-For`, ...
const CLIENT_ADDRESS_ENDINGS: [&str; 5] = ["-ip", "-ipv4", "-ipv6", "-addr", "-forwarded-for"];

/// True for a header name that claims where the request came from: the client's address
/// (`X-Real-IP`, `True-Client-IP`, `CF-Connecting-IP`, `X-Forwarded-For`, `Forwarded`, ...) or
/// how it reached the first proxy (every `X-Forwarded-*`). Compared case-insensitively with `_`
/// read as `-`. Only a trusted proxy may send these (traefik#12657, oauth2-proxy#1778).
pub fn is_client_address_header(name: &str) -> bool {
    starts_folded(name, "x-forwarded-")
        || CLIENT_ADDRESS_NAMES
            .iter()
            .any(|n| folded_eq(name.as_bytes(), n))
        || CLIENT_ADDRESS_ENDINGS.iter().any(|e| ends_folded(name, e))
}

/// Names (folded) by which a backend or framework takes the request's path from a header
/// instead of the request line (Symfony and IIS `X-Original-URL`/`X-Rewrite-URL`, envoy
/// CVE-2023-27487, oauth2-proxy GHSA-7x63-xv5r-3p2x).
const PATH_OVERRIDE_NAMES: [&str; 6] = [
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-envoy-original-path",
    "x-forwarded-uri",
    "x-forwarded-path",
];

/// True for a header that would make a backend serve a path other than the one the gateway
/// routed and checked. Dropped from every peer, trusted or not.
pub fn is_path_override_header(name: &str) -> bool {
    PATH_OVERRIDE_NAMES
        .iter()
        .any(|n| folded_eq(name.as_bytes(), n))
}

/// Removes every header `matches` flags, in one pass over the names (nothing is allocated
/// when none matches, and a header that is not there costs no lookup).
fn remove_matching(headers: &mut HeaderMap, matches: impl Fn(&HeaderName) -> bool) {
    let names: Vec<HeaderName> = headers.keys().filter(|n| matches(n)).cloned().collect();
    for name in names {
        headers.remove(name);
    }
}

/// The headers the `Connection` header names (a hop-by-hop list of their own).
fn connection_named(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect()
}

/// Removes hop-by-hop headers, including every header named in `Connection`.
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named = connection_named(headers);
    remove_matching(headers, |n| is_hop_by_hop(n.as_str()) || named.contains(n));
}

/// Removes every header named in `names` (lowercase), in every spelling a backend could fold
/// into it: compared case-insensitively with `_` read as `-` (the Airnode relay and key
/// headers, whose names the operator chose).
pub fn remove_named(headers: &mut HeaderMap, names: &[HeaderName]) {
    if names.is_empty() {
        return;
    }
    remove_matching(headers, |n| {
        names
            .iter()
            .any(|m| folded_eq(n.as_str().as_bytes(), m.as_str()))
    });
}

/// What the request filter needs to know about the request it is preparing.
#[derive(Debug, Clone, Copy)]
pub struct ForwardContext<'a> {
    /// The TCP peer.
    pub peer: IpAddr,
    /// Whether the peer is in `server.trusted_proxies`.
    pub peer_trusted: bool,
    /// Whether the client connection is TLS.
    pub tls: bool,
    /// Keep the `DAuth` header or bearer `Authorization` that the gateway verified.
    pub forward_token: bool,
    /// Keep the client's `Host`.
    pub preserve_host: bool,
    /// The host the client asked for (`Host`, or the authority of an HTTP/2 request).
    pub host: Option<&'a str>,
    /// The view that passed the route's view check, sent as `X-DAuth-View-Id`.
    pub view: Option<&'a str>,
}

/// Turns the client's headers into the headers the upstream receives (see the module docs).
pub fn prepare_request_headers(
    headers: &mut HeaderMap,
    ctx: &ForwardContext<'_>,
    who: Option<&Principal>,
) {
    // One pass over the names for every rule that judges a header by its name: hop-by-hop,
    // identity, path override, from an untrusted peer client address, the `DAuth` header
    // unless it is forwarded, and `Host` unless it is kept (`set_forwarding_headers` then
    // writes ours).
    let named = connection_named(headers);
    let untrusted = !ctx.peer_trusted;
    let keep_dauth = verified(ctx.forward_token, who, AuthMethod::Dauth);
    remove_matching(headers, |name| {
        let n = name.as_str();
        is_hop_by_hop(n)
            || named.contains(name)
            || is_identity_header(n)
            || is_path_override_header(n)
            || (untrusted && is_client_address_header(n))
            || (!keep_dauth && n == crate::auth::DAUTH_HEADER.as_str())
            || (!ctx.preserve_host && n == header::HOST.as_str())
    });
    remove_unverified_bearer(headers, ctx.forward_token, who);
    set_forwarding_headers(headers, ctx);
    if let Some(who) = who {
        add_identity_headers(headers, who);
        if let Some(view) = ctx.view.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(X_DAUTH_VIEW_ID, view);
        }
    }
}

/// Whether the route forwards tokens and the gateway verified the request's credential of
/// kind `method`.
fn verified(forward_token: bool, who: Option<&Principal>, method: AuthMethod) -> bool {
    forward_token && who.is_some_and(|w| w.method == method)
}

/// Removes a bearer `Authorization` (as [`crate::auth::authorization()`] reads it, so the
/// verifier and this filter agree on what a bearer credential is), unless the route forwards
/// tokens and the gateway verified that very credential. Another scheme passes; an
/// `Authorization` the parser refuses (which the pipeline answered 400) never does. (The
/// `DAuth` header goes by name, with the others.)
fn remove_unverified_bearer(headers: &mut HeaderMap, forward_token: bool, who: Option<&Principal>) {
    if !headers.contains_key(header::AUTHORIZATION) {
        return;
    }
    let other = matches!(
        crate::auth::authorization(headers),
        Ok(Authorization::Absent | Authorization::Other)
    );
    if !other && !verified(forward_token, who, AuthMethod::Bearer) {
        headers.remove(header::AUTHORIZATION);
    }
}

/// Rebuilds the forwarding headers; an untrusted peer's client-address headers are already gone
/// (`prepare_request_headers`).
fn set_forwarding_headers(headers: &mut HeaderMap, ctx: &ForwardContext<'_>) {
    let chain = if ctx.peer_trusted {
        let prior: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let peer = ctx.peer.to_canonical();
        if prior.is_empty() {
            address_value(peer)
        } else {
            HeaderValue::try_from(format!("{}, {peer}", prior.join(", "))).ok()
        }
    } else {
        // The client-address headers of an untrusted peer went with the other spellings.
        address_value(ctx.peer.to_canonical())
    };
    // `insert` replaces every earlier line of the name.
    match chain {
        Some(v) => headers.insert(X_FORWARDED_FOR, v),
        None => headers.remove(&X_FORWARDED_FOR),
    };
    let proto = ctx
        .peer_trusted
        .then(|| last_forwarded(headers, &X_FORWARDED_PROTO))
        .flatten()
        .and_then(|p| match p.to_ascii_lowercase().as_str() {
            "https" => Some("https"),
            "http" => Some("http"),
            _ => None,
        })
        .unwrap_or(if ctx.tls { "https" } else { "http" });
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    let host = ctx
        .peer_trusted
        .then(|| last_forwarded(headers, &X_FORWARDED_HOST))
        .flatten()
        .or(ctx.host)
        .and_then(|h| HeaderValue::from_str(h).ok());
    match host {
        Some(host) => headers.insert(X_FORWARDED_HOST, host),
        None => headers.remove(&X_FORWARDED_HOST),
    };
}

/// An address as a header value, written into a stack buffer and copied once into the value:
/// cheaper than its `String` handed over (criterion `headers/prepare_plain_request`, 347 against
/// 370 ns). `None` cannot happen for an address's text.
fn address_value(ip: IpAddr) -> Option<HeaderValue> {
    use std::io::Write as _;
    // The longest IPv6 text is 39 bytes (45 with an embedded IPv4 address).
    let mut buf = [0u8; 48];
    let len = match ip {
        IpAddr::V4(v4) => ipv4_text(v4, &mut buf),
        IpAddr::V6(_) => {
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            write!(cursor, "{ip}").ok()?;
            usize::try_from(cursor.position()).ok()?
        }
    };
    HeaderValue::from_bytes(buf.get(..len)?).ok()
}

/// An IPv4 address's dotted-decimal text (as `Display` writes it) into `buf`; its length. By
/// hand: the formatting machinery took about 1,000 instructions a request (bench/instructions).
fn ipv4_text(ip: std::net::Ipv4Addr, buf: &mut [u8; 48]) -> usize {
    let mut len = 0;
    let mut put = |b: u8| {
        buf[len] = b;
        len += 1;
    };
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            put(b'.');
        }
        if octet >= 100 {
            put(b'0' + octet / 100);
        }
        if octet >= 10 {
            put(b'0' + octet / 10 % 10);
        }
        put(b'0' + octet % 10);
    }
    len
}

/// The value the nearest proxy wrote: the last element of the comma-separated list over
/// every `name` line, if it is a non-empty token (no spaces, quotes or controls).
///
/// A trusted proxy that appends rather than replaces leaves the client's claim in front of
/// its own (`https, http`); the backend gets one value, the one the proxy vouches for.
fn last_forwarded<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let line = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let last = line.rsplit(',').next()?.trim();
    let token = !last.is_empty()
        && last
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';'));
    token.then_some(last)
}

/// Adds the gateway's identity headers for `who`.
pub fn add_identity_headers(headers: &mut HeaderMap, who: &Principal) {
    let mut put = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put(X_DAUTH_USER_ID, &who.user.user_id);
    put(X_DAUTH_USERNAME, &who.user.username);
    put(X_DAUTH_PROVIDER, &who.user.provider);
    put(X_DAUTH_AUTH_METHOD, who.method.as_str());
    if let Some(ck) = &who.consumer_key {
        put(X_DAUTH_CONSUMER_KEY, ck);
    }
    if let Some(sender) = &who.msg_sender {
        put(X_DAUTH_MSG_SENDER, sender);
    }
    if let Some(relay) = &who.relay {
        put(X_DAUTH_CHAIN_ID, &relay.chain_id.to_string());
        put(X_DAUTH_REQUEST_ID, &relay.request_id.to_string());
        if let Some(sponsor) = relay.sponsor {
            put(X_DAUTH_SPONSOR, &sponsor.to_checksum(None));
        }
    }
}

#[cfg(test)]
mod tests;
