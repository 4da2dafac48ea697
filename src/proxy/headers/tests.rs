use super::*;
use crate::auth::AuthMethod;
use crate::store::{User, UserKind};

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
    let mut h = map(&[("dauth", "token"), ("host", "api.example")]);
    let keep = ForwardContext {
        forward_token: true,
        preserve_host: true,
        ..ctx(false)
    };
    prepare_request_headers(&mut h, &keep, None);
    assert_eq!(h.get("dauth").unwrap(), "token");
    assert_eq!(h.get("host").unwrap(), "api.example");
}

#[test]
fn bearer_tokens_are_dropped_but_other_authorization_schemes_pass() {
    let mut h = map(&[("authorization", "Bearer abc")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert!(h.get("authorization").is_none());
    let mut h = map(&[("authorization", "Basic dXNlcjpwdw==")]);
    prepare_request_headers(&mut h, &ctx(false), None);
    assert_eq!(h.get("authorization").unwrap(), "Basic dXNlcjpwdw==");
    let mut h = map(&[("authorization", "bearer abc")]);
    prepare_request_headers(
        &mut h,
        &ForwardContext {
            forward_token: true,
            ..ctx(false)
        },
        None,
    );
    assert_eq!(h.get("authorization").unwrap(), "bearer abc");
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
