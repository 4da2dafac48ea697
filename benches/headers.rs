//! The header filter on the forwarding path, `proxy::headers::prepare_request_headers`.
//!
//! - `headers/prepare_request`: a realistic request head (18 headers: browser-ish ones, a
//!   `Connection` naming another header, a `DAuth` token, forwarding headers from an untrusted
//!   peer and four spoofed identity headers in various spellings) prepared for an
//!   authenticated caller. The map is cloned per iteration outside the timed part.
//! - `headers/prepare_dauth_request`: D's request as wrk sends it (`Host` and a `DAuth`
//!   token, in a map with room for just those, as hyper parses it) prepared for a DAuth caller:
//!   two headers go, three forwarding and five identity headers come.
//! - `headers/prepare_plain_request`: a plain request (`Host`, `User-Agent`, `Accept`), no
//!   caller.
//! - `path/canonical_and_check`: a request path (an OBP-style one with a dotted version and
//!   bank id) made canonical and checked against the routes' claims (`path::canonical`, then
//!   `path::Claims::check`, as every request is).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dauth_proxy::auth::{AuthMethod, Principal};
use dauth_proxy::path::{Claims, canonical};
use dauth_proxy::proxy::headers::{ForwardContext, prepare_request_headers};
use dauth_proxy::store::model::{User, UserKind};
use http::{HeaderMap, HeaderName, HeaderValue};

fn request_headers() -> HeaderMap {
    let token = format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}.{}",
        "a".repeat(380),
        "b".repeat(342)
    );
    let pairs: [(&str, &str); 18] = [
        ("host", "api.example.com"),
        ("user-agent", "airnode/0.14 (+https://api3.org)"),
        ("accept", "application/json, text/plain;q=0.9, */*;q=0.8"),
        ("accept-encoding", "gzip, deflate, br"),
        ("accept-language", "en-GB,en;q=0.9"),
        ("content-type", "application/json"),
        ("content-length", "128"),
        ("connection", "keep-alive, x-debug-trace"),
        ("x-debug-trace", "1"),
        ("dauth", &token),
        ("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("x-forwarded-for", "203.0.113.7, 198.51.100.2"),
        ("x-real-ip", "203.0.113.7"),
        ("cookie", "session=abcdef0123456789; theme=dark"),
        ("x-dauth-user-id", "00000000-0000-0000-0000-000000000000"),
        (
            "x_dauth_username",
            "0x0000000000000000000000000000000000000000",
        ),
        ("x-user-ctx", "admin"),
        ("X-DAuth-Auth-Method", "bearer"),
    ];
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn principal() -> Principal {
    Principal {
        user: User {
            user_id: "b49f3cd6-8706-4cc0-bbf7-e78e22e80ba8".into(),
            kind: UserKind::Dauth,
            provider: "ETHEREUM".into(),
            username: "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045".into(),
            created_at: 1_700_000_000,
        },
        method: AuthMethod::Dauth,
        consumer_key: Some("bench-consumer".into()),
        msg_sender: Some("0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045".into()),
        bearer: None,
        relay: None,
    }
}

fn bench_headers(c: &mut Criterion) {
    let headers = request_headers();
    let who = principal();
    let ctx = ForwardContext {
        peer: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        peer_trusted: false,
        tls: false,
        forward_token: false,
        preserve_host: false,
        host: Some("api.example.com"),
        view: None,
    };
    // Check once that the spoofed headers go, so the bench times the real filter.
    let mut check = headers.clone();
    prepare_request_headers(&mut check, &ctx, Some(&who));
    assert_eq!(check["x-dauth-user-id"], who.user.user_id.as_str());
    assert!(!check.contains_key("x-user-ctx") && !check.contains_key("dauth"));
    assert!(!check.contains_key("x_dauth_username") && !check.contains_key("x-debug-trace"));

    let mut group = c.benchmark_group("headers");
    group.bench_function("prepare_request", |b| {
        b.iter_batched(
            || headers.clone(),
            |mut h| {
                prepare_request_headers(&mut h, &ctx, Some(&who));
                h
            },
            BatchSize::SmallInput,
        )
    });
    // What most requests carry: nothing to remove but `Host`, no identity to add.
    let mut plain = HeaderMap::new();
    for (name, value) in [
        ("host", "api.example.com"),
        ("user-agent", "curl/8.5.0"),
        ("accept", "*/*"),
    ] {
        plain.insert(name, HeaderValue::from_static(value));
    }
    group.bench_function("prepare_plain_request", |b| {
        b.iter_batched(
            || plain.clone(),
            |mut h| {
                prepare_request_headers(&mut h, &ctx, None);
                h
            },
            BatchSize::SmallInput,
        )
    });
    // D's request as wrk sends it, in a map with room for just those (as hyper parses it):
    // the `DAuth` header and `Host` go, three forwarding and five identity headers come.
    let mut dauth = HeaderMap::with_capacity(2);
    dauth.insert("host", HeaderValue::from_static("api.example.com"));
    dauth.insert(
        "dauth",
        HeaderValue::from_static("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
    );
    group.bench_function("prepare_dauth_request", |b| {
        b.iter_batched(
            || dauth.clone(),
            |mut h| {
                prepare_request_headers(&mut h, &ctx, Some(&who));
                h
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn bench_path(c: &mut Criterion) {
    const NAMESPACES: [&str; 3] = ["/health", "/obp/", "/users"];
    let claims = Claims::new(["/", "/api/", "/Private/"].into_iter(), &NAMESPACES);
    let path = "/api/v5.1.0/banks/gh.29.uk/accounts/8ca8a7e4-6d02-40e3/views/owner/transactions";
    assert!(claims.check(&canonical(path).unwrap()).is_ok());
    assert!(claims.check(&canonical("/PRIVATE/x").unwrap()).is_err());
    let mut group = c.benchmark_group("path");
    group.bench_function("canonical_and_check", |b| {
        b.iter(|| {
            let canonical = canonical(std::hint::black_box(path)).unwrap();
            claims.check(&canonical).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, bench_headers, bench_path);
criterion_main!(benches);
