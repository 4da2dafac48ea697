use super::*;
use crate::auth::AuthMethod;
use crate::store::model::{User, UserKind};

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn ctx(trusted: bool) -> ForwardContext<'static> {
    ForwardContext {
        peer: "::ffff:10.0.0.1".parse().unwrap(),
        peer_trusted: trusted,
        tls: false,
        forward_token: false,
        preserve_host: false,
        host: Some("api.example"),
        view: None,
    }
}

fn principal() -> Principal {
    Principal {
        user: User {
            user_id: "u-1".into(),
            kind: UserKind::Dauth,
            provider: "ETHEREUM".into(),
            username: "0xabc".into(),
            created_at: 0,
        },
        method: AuthMethod::Dauth,
        consumer_key: Some("ck".into()),
        msg_sender: None,
        bearer: None,
        relay: None,
    }
}

#[test]
fn identity_names_in_every_spelling_are_flagged() {
    for name in [
        "x-dauth-user-id",
        "X-DAuth-User-Id",
        "x_dauth_user_id",
        "X_DAUTH-USER_ID",
        "x-dauth-anything",
        "x-user-ctx",
        "X_User_Ctx",
    ] {
        assert!(is_identity_header(name), "{name}");
    }
    for name in [
        "x-dauth",
        "dauth",
        "x-user",
        "authorization",
        "x-dauthx-user",
    ] {
        assert!(!is_identity_header(name), "{name}");
    }
}

#[test]
fn spoofed_identity_is_replaced_by_ours() {
    let mut h = map(&[
        ("x-dauth-user-id", "admin"),
        ("x_dauth_user_id", "admin"),
        ("x-user-ctx", "e30="),
        ("x-dauth-msg-sender", "0xevil"),
    ]);
    prepare_request_headers(&mut h, &ctx(false), Some(&principal()));
    assert_eq!(
        h.get_all("x-dauth-user-id").iter().collect::<Vec<_>>(),
        vec!["u-1"]
    );
    assert!(h.get("x_dauth_user_id").is_none());
    assert!(h.get("x-user-ctx").is_none());
    assert!(
        h.get("x-dauth-msg-sender").is_none(),
        "no msg_sender in the token, so none forwarded"
    );
    assert_eq!(h.get("x-dauth-auth-method").unwrap(), "dauth");
    assert_eq!(h.get("x-dauth-consumer-key").unwrap(), "ck");
}

#[test]
fn anonymous_requests_carry_no_identity() {
    let mut h = map(&[("X-DAuth-User-Id", "admin")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert!(h.keys().all(|k| !is_identity_header(k.as_str())));
}

#[test]
fn hop_by_hop_and_connection_named_headers_go() {
    let mut h = map(&[
        ("connection", "keep-alive, x-secret"),
        ("x-secret", "1"),
        ("te", "trailers"),
        ("upgrade", "h2c"),
        ("keep-alive", "5"),
        ("x-keep", "1"),
    ]);
    prepare_request_headers(&mut h, &ctx(false), None);
    for gone in ["connection", "x-secret", "te", "upgrade", "keep-alive"] {
        assert!(h.get(gone).is_none(), "{gone}");
    }
    assert_eq!(h.get("x-keep").unwrap(), "1");
}

#[test]
fn connection_cannot_remove_our_identity_headers() {
    let mut h = map(&[("connection", "x-dauth-user-id, x-forwarded-for")]);
    prepare_request_headers(&mut h, &ctx(false), Some(&principal()));
    assert_eq!(h.get("x-dauth-user-id").unwrap(), "u-1");
    assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");
}

#[test]
fn xff_from_untrusted_peer_is_replaced_and_forwarded_dropped() {
    let mut h = map(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("forwarded", "for=1.2.3.4"),
        ("x-real-ip", "1.2.3.4"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil"),
    ]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");
    assert!(h.get("forwarded").is_none());
    assert!(h.get("x-real-ip").is_none());
    assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
    assert_eq!(h.get("x-forwarded-host").unwrap(), "api.example");
}

#[test]
fn xff_from_trusted_peer_is_kept_and_extended() {
    let mut h = map(&[
        ("x-forwarded-for", "1.2.3.4"),
        ("x-forwarded-for", "5.6.7.8"),
        ("forwarded", "for=1.2.3.4"),
        ("x-forwarded-proto", "https"),
    ]);
    prepare_request_headers(&mut h, &ctx(true), None);
    assert_eq!(
        h.get("x-forwarded-for").unwrap(),
        "1.2.3.4, 5.6.7.8, 10.0.0.1"
    );
    assert_eq!(h.get("forwarded").unwrap(), "for=1.2.3.4");
    assert_eq!(h.get("x-forwarded-proto").unwrap(), "https");
}

#[test]
fn dauth_token_and_host_are_dropped_unless_asked_for() {
    let mut h = map(&[("dauth", "token"), ("host", "api.example")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert!(h.get("dauth").is_none() && h.get("host").is_none());
    let keep = ForwardContext {
        forward_token: true,
        preserve_host: true,
        ..ctx(false)
    };
    let mut h = map(&[("dauth", "token"), ("host", "api.example")]);
    prepare_request_headers(&mut h, &keep, Some(&principal()));
    assert_eq!(h.get("dauth").unwrap(), "token");
    assert_eq!(h.get("host").unwrap(), "api.example");
    // forward_token forwards a verified token only.
    let mut h = map(&[("dauth", "token")]);
    prepare_request_headers(&mut h, &keep, None);
    assert!(h.get("dauth").is_none());
}

fn bearer_principal() -> Principal {
    Principal {
        method: AuthMethod::Bearer,
        consumer_key: None,
        ..principal()
    }
}

#[test]
fn bearer_tokens_are_dropped_but_other_authorization_schemes_pass() {
    for value in [
        "Bearer abc",
        "bearer\tabc",
        "bEaReR   abc",
        "Bearer",
        "BEARER \t abc",
    ] {
        let mut h = map(&[("authorization", value)]);
        prepare_request_headers(&mut h, &ctx(false), None);
        assert!(h.get("authorization").is_none(), "{value:?}");
    }
    let mut h = map(&[("authorization", "Basic dXNlcjpwdw==")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert_eq!(h.get("authorization").unwrap(), "Basic dXNlcjpwdw==");
    let forward = ForwardContext {
        forward_token: true,
        ..ctx(false)
    };
    let mut h = map(&[("authorization", "bearer abc")]);
    prepare_request_headers(&mut h, &forward, Some(&bearer_principal()));
    assert_eq!(h.get("authorization").unwrap(), "bearer abc");
    // Not verified (no principal, or one that came from the DAuth header): dropped.
    for who in [None, Some(principal())] {
        let mut h = map(&[("authorization", "bearer abc")]);
        prepare_request_headers(&mut h, &forward, who.as_ref());
        assert!(h.get("authorization").is_none(), "{who:?}");
    }
    // Two lines never both pass (the pipeline refuses them before this).
    let mut h = map(&[("authorization", "Basic a"), ("authorization", "Bearer b")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert!(h.get("authorization").is_none());
}

#[test]
fn trusted_forwarded_proto_and_host_collapse_to_the_nearest_proxys_value() {
    let mut h = map(&[
        ("x-forwarded-proto", "http"),
        ("x-forwarded-proto", "gopher, HTTPS"),
        ("x-forwarded-host", "evil.example, api.example"),
    ]);
    prepare_request_headers(&mut h, &ctx(true), None);
    let proto: Vec<_> = h.get_all("x-forwarded-proto").iter().collect();
    assert_eq!(proto, ["https"]);
    let host: Vec<_> = h.get_all("x-forwarded-host").iter().collect();
    assert_eq!(host, ["api.example"]);
}

#[test]
fn malformed_trusted_forwarded_values_fall_back_to_the_gateways_own() {
    let mut h = map(&[
        ("x-forwarded-proto", "https, gopher"),
        ("x-forwarded-host", "a.example, "),
    ]);
    prepare_request_headers(&mut h, &ctx(true), None);
    assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
    assert_eq!(h.get("x-forwarded-host").unwrap(), "api.example");
}

/// Every header that names the client's address, in every spelling (case, `_` for `-`).
const ADDRESS_HEADERS: [&str; 24] = [
    "X-Real-IP",
    "True-Client-IP",
    "X-Client-IP",
    "CF-Connecting-IP",
    "Fastly-Client-IP",
    "X-Cluster-Client-IP",
    "X-Original-Forwarded-For",
    "X-Forwarded",
    "Forwarded-For",
    "X-Originating-IP",
    "X-Remote-IP",
    "X-Remote-Addr",
    "Client-IP",
    "X-ProxyUser-Ip",
    "Forwarded",
    "X-Forwarded-For",
    "CF-Connecting-IPv6",
    "X-Azure-ClientIP",
    "X-Appengine-User-IP",
    "X-Envoy-External-Address",
    "X-Real-Client-IP",
    "X-Forwarded-Server",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
];

fn spellings(name: &str) -> [String; 4] {
    [
        name.to_owned(),
        name.to_ascii_lowercase(),
        name.to_ascii_uppercase().replace('-', "_"),
        name.to_ascii_lowercase().replacen('-', "_", 1),
    ]
}

#[test]
fn client_address_names_in_every_spelling_are_flagged() {
    for name in ADDRESS_HEADERS {
        for spelled in spellings(name) {
            assert!(is_client_address_header(&spelled), "{spelled}");
        }
    }
    for name in [
        "accept",
        "x-request-id",
        "x-ipsum",
        "zip",
        "x-zip",
        "authorization",
        "x-dauth-user-id",
        "ip-ranges",
    ] {
        assert!(!is_client_address_header(name), "{name}");
    }
}

#[test]
fn client_address_headers_from_untrusted_peers_are_dropped_and_kept_from_trusted_ones() {
    let pairs: Vec<(String, &str)> = ADDRESS_HEADERS
        .iter()
        .flat_map(|n| spellings(n))
        .map(|n| (n, "6.6.6.6"))
        .collect();
    let as_refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut h = map(&as_refs);
    prepare_request_headers(&mut h, &ctx(false), None);
    let left: Vec<_> = h
        .iter()
        .filter(|(_, v)| v.to_str().unwrap().contains("6.6.6.6"))
        .map(|(k, _)| k.as_str().to_owned())
        .collect();
    assert!(left.is_empty(), "reached the upstream: {left:?}");
    assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");

    let mut h = map(&[("true-client-ip", "1.2.3.4"), ("x_real_ip", "1.2.3.4")]);
    prepare_request_headers(&mut h, &ctx(true), None);
    assert_eq!(h.get("true-client-ip").unwrap(), "1.2.3.4");
    assert_eq!(h.get("x_real_ip").unwrap(), "1.2.3.4");
}

/// A backend that honours these serves another path than the one the gateway routed and
/// checked; they are dropped from every peer.
#[test]
fn path_override_headers_are_dropped_from_every_peer() {
    for trusted in [false, true] {
        let mut h = map(&[
            ("x-original-url", "/admin"),
            ("X_Rewrite_URL", "/admin"),
            ("x-original-uri", "/admin"),
            ("x-envoy-original-path", "/admin"),
            ("x-forwarded-uri", "/admin"),
            ("x-forwarded-path", "/admin"),
        ]);
        prepare_request_headers(&mut h, &ctx(trusted), None);
        let left: Vec<_> = h.keys().map(|k| k.as_str().to_owned()).collect();
        assert!(
            left.iter()
                .all(|k| !k.contains("ur") && !k.contains("path")),
            "trusted={trusted}: {left:?}"
        );
    }
}

#[test]
fn forwarded_for_carries_the_whole_peer_address_whatever_its_length() {
    for text in [
        "192.0.2.1",
        "255.255.255.255",
        "2001:db8::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:255.255.255.255",
        "fe80::1:2:3:4",
    ] {
        let peer: IpAddr = text.parse().unwrap();
        let expected = peer.to_canonical().to_string();
        for trusted in [false, true] {
            let ctx = ForwardContext {
                peer,
                peer_trusted: trusted,
                ..ctx(trusted)
            };
            let mut h = map(&[("x-forwarded-for", "198.51.100.7")]);
            prepare_request_headers(&mut h, &ctx, None);
            let want = if trusted {
                format!("198.51.100.7, {expected}")
            } else {
                expected.clone()
            };
            assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1, "{text}");
            assert_eq!(
                h["x-forwarded-for"],
                want.as_str(),
                "{text} trusted={trusted}"
            );
        }
    }
}

/// The hand-written IPv4 text is `Display`'s, for every value of every octet.
#[test]
fn ipv4_text_is_what_display_writes() {
    for v in 0..=255u8 {
        for ip in [
            [v, 0, 0, 0],
            [1, v, 2, 3],
            [10, 20, v, 99],
            [255, 100, 9, v],
            [v; 4],
        ] {
            let ip = std::net::Ipv4Addr::from(ip);
            let mut buf = [0u8; 48];
            let len = ipv4_text(ip, &mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]).unwrap(), ip.to_string());
        }
    }
}
