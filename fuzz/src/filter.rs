//! The `header_filter` target's call and properties.

use dauth_proxy::auth::{AuthMethod, Authorization, Principal, authorization};
use dauth_proxy::proxy::headers::{
    ForwardContext, is_client_address_header, is_identity_header, prepare_request_headers,
};
use http::{HeaderMap, HeaderName};

use crate::inputs::FilterInput;

/// RFC 9110 7.6.1 hop-by-hop fields, plus the non-standard ones (README, "What is dropped").
pub const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers the gateway sets after the strip, so naming them in `Connection` cannot remove them.
const GATEWAY_SET: [&str; 3] = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"];

/// Runs the filter on a copy of the input's headers.
pub fn filter(input: &FilterInput, who: Option<&Principal>) -> HeaderMap {
    let host = input
        .headers
        .get(http::header::HOST)
        .filter(|_| input.ctx.host_from_header)
        .and_then(|v| v.to_str().ok());
    let ctx = ForwardContext {
        peer: input.ctx.peer(),
        peer_trusted: input.ctx.peer_trusted,
        tls: input.ctx.tls,
        forward_token: input.ctx.forward_token,
        preserve_host: input.ctx.preserve_host,
        host,
        view: None,
    };
    let mut out = input.headers.clone();
    prepare_request_headers(&mut out, &ctx, who);
    out
}

/// The README's rule, written independently of `is_identity_header`.
fn looks_like_identity(name: &str) -> bool {
    let folded = name.to_ascii_lowercase().replace('_', "-");
    folded.starts_with("x-dauth-") || folded.starts_with("x-user-ctx")
}

/// The header names the client's `Connection` header lists (the filter removes them).
fn connection_named(input: &FilterInput) -> Vec<HeaderName> {
    input
        .headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect()
}

/// What must hold whoever the caller is; `added` are the identity headers the gateway added.
/// `bearer_ok`: the caller was verified by a bearer token and the route forwards tokens.
fn check_stripped(input: &FilterInput, out: &HeaderMap, added: &[&str], bearer_ok: bool) {
    for name in out.keys().map(|n| n.as_str()) {
        if added.contains(&name) {
            continue;
        }
        assert!(!is_identity_header(name), "identity header {name} survived");
        assert!(
            !looks_like_identity(name),
            "identity-like header {name} survived"
        );
    }
    for name in HOP_BY_HOP {
        assert!(!out.contains_key(name), "hop-by-hop header {name} survived");
    }
    for name in connection_named(input) {
        let own = GATEWAY_SET.contains(&name.as_str()) || added.contains(&name.as_str());
        assert!(
            own || !out.contains_key(&name),
            "{name} named in Connection survived"
        );
    }
    if !input.ctx.forward_token {
        assert!(!out.contains_key("dauth"), "DAuth header forwarded");
    }
    if !bearer_ok {
        assert!(
            !matches!(authorization(out), Ok(Authorization::Bearer(_)) | Err(_)),
            "an unverified bearer credential was forwarded"
        );
    }
    if !input.ctx.preserve_host {
        assert!(!out.contains_key("host"), "client Host forwarded");
    }
    check_forwarding(input, out);
}

/// The forwarding headers: X-Forwarded-For is one value ending in the peer (only the peer for
/// an untrusted one); X-Forwarded-Proto/-Host are one value each: a trusted proxy's last
/// well-formed one, otherwise the gateway's own (the scheme, and the host if there is one).
fn check_forwarding(input: &FilterInput, out: &HeaderMap) {
    let ctx = &input.ctx;
    let peer = ctx.peer().to_canonical().to_string();
    let xff: Vec<_> = out.get_all("x-forwarded-for").iter().collect();
    assert_eq!(xff.len(), 1, "X-Forwarded-For values: {xff:?}");
    let xff = xff[0].to_str().expect("rebuilt X-Forwarded-For is ASCII");
    assert!(
        xff.ends_with(&peer),
        "{xff:?} does not end with the peer {peer}"
    );
    let named = connection_named(input);
    let proto = if ctx.tls { "https" } else { "http" };
    let host = (ctx.host_from_header)
        .then(|| input.headers.get("host"))
        .flatten()
        .filter(|h| h.to_str().is_ok());
    for (name, ours) in [
        ("x-forwarded-proto", Some(proto.as_bytes())),
        ("x-forwarded-host", host.map(|h| h.as_bytes())),
    ] {
        let sent: Vec<&[u8]> = if named.iter().any(|n| n == name) {
            Vec::new()
        } else {
            input
                .headers
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect()
        };
        let nearest = sent
            .last()
            .filter(|line| {
                line.iter()
                    .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
            })
            .and_then(|line| line.rsplit(|&b| b == b',').next())
            .map(|v| v.trim_ascii())
            .filter(|v| {
                !v.is_empty()
                    && v.iter()
                        .all(|&b| (0x21..0x7f).contains(&b) && !b"\",;".contains(&b))
            });
        let vouched = match (name, nearest) {
            (_, None) => None,
            ("x-forwarded-proto", Some(p)) if p.eq_ignore_ascii_case(b"https") => {
                Some(&b"https"[..])
            }
            ("x-forwarded-proto", Some(p)) if p.eq_ignore_ascii_case(b"http") => Some(&b"http"[..]),
            ("x-forwarded-proto", Some(_)) => None,
            (_, Some(h)) => Some(h),
        };
        let kept: Vec<&[u8]> = out.get_all(name).iter().map(|v| v.as_bytes()).collect();
        let expected: Vec<&[u8]> = match vouched {
            Some(v) if ctx.peer_trusted => vec![v],
            _ => ours.into_iter().collect(),
        };
        assert_eq!(kept, expected, "{name}");
    }
    if !ctx.peer_trusted {
        assert_eq!(xff, peer, "untrusted peer's X-Forwarded-For kept");
        assert!(!out.contains_key("forwarded"), "untrusted Forwarded kept");
        assert!(!out.contains_key("x-real-ip"), "untrusted X-Real-IP kept");
        for name in out.keys().map(|n| n.as_str()) {
            assert!(
                GATEWAY_SET.contains(&name) || !is_client_address_header(name),
                "untrusted {name} kept"
            );
        }
    }
}

/// Properties of an anonymous request's headers.
pub fn check_anonymous(input: &FilterInput, out: &HeaderMap) {
    check_stripped(input, out, &[], false);
}

/// The identity headers `who` must produce, as (name, value).
fn identity_of(who: &Principal) -> Vec<(&'static str, &str)> {
    let mut expected = vec![
        ("x-dauth-user-id", who.user.user_id.as_str()),
        ("x-dauth-username", who.user.username.as_str()),
        ("x-dauth-provider", who.user.provider.as_str()),
        ("x-dauth-auth-method", who.method.as_str()),
    ];
    if let Some(ck) = &who.consumer_key {
        expected.push(("x-dauth-consumer-key", ck));
    }
    if let Some(sender) = &who.msg_sender {
        expected.push(("x-dauth-msg-sender", sender));
    }
    expected
}

/// Properties of an authenticated request's headers: stripped as for anyone, and each
/// identity header exactly once with the principal's value.
pub fn check_principal(input: &FilterInput, out: &HeaderMap, who: &Principal) {
    let expected = identity_of(who);
    let added: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    let bearer_ok = input.ctx.forward_token && who.method == AuthMethod::Bearer;
    check_stripped(input, out, &added, bearer_ok);
    for (name, value) in expected {
        let values: Vec<_> = out.get_all(name).iter().collect();
        assert_eq!(values, [value], "{name} is not exactly the principal's");
    }
}
