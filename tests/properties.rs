//! Property tests: invariants that must hold for every input, not only for the examples the
//! unit tests pick.
//!
//! - one user per (network, address), whatever the letter case of the address;
//! - IPv4-mapped IPv6 peers match IPv4 networks exactly as the IPv4 address does;
//! - no header that could pass for identity survives the request filter;
//! - a signed token changed in any one byte is refused;
//! - canonical paths are a fixed point of canonicalisation.
//!
//! Case counts are small so the file runs in a few seconds in a debug build; the fuzz targets
//! in `fuzz/` explore the same ground for longer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use alloy_primitives::Address;
use dauth_proxy::auth::address::normalize_address;
use dauth_proxy::auth::keys::{generate_rsa, load_verify_key};
use dauth_proxy::auth::{AuthMethod, DauthVerifier, Principal};
use dauth_proxy::config::DauthConfig;
use dauth_proxy::error::AddressClaim;
use dauth_proxy::net::CidrList;
use dauth_proxy::proxy::headers::{
    ForwardContext, is_client_address_header, is_identity_header, prepare_request_headers,
};
use dauth_proxy::store::UserStore;
use dauth_proxy::store::model::{User, UserKind};
use dauth_proxy::store::sled::SledStore as Store;
use http::{HeaderMap, HeaderName, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::json;

// === one user per (network, address) ===

/// The hex digits of `address` with each letter upper-cased where `upper` says so.
fn cased(lower_hex: &str, upper: &[bool]) -> String {
    let hex: String = lower_hex
        .chars()
        .zip(upper)
        .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
        .collect();
    format!("0x{hex}")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn every_casing_of_an_address_is_one_user_or_refused(
        bytes in any::<[u8; 20]>(),
        mixes in prop::collection::vec(prop::collection::vec(any::<bool>(), 40), 3),
        network in "[A-Za-z0-9._:-]{1,64}",
    ) {
        let address = Address::from(bytes);
        let checksummed = address.to_checksum(None);
        let lower = checksummed.to_lowercase();
        let lower_hex = &lower[2..];
        let mut accepted = vec![
            lower.clone(),
            format!("0x{}", lower_hex.to_ascii_uppercase()),
            checksummed.clone(),
        ];
        for form in &accepted {
            let normal = normalize_address(form, true, AddressClaim::Contract).unwrap();
            prop_assert_eq!(&normal, &checksummed, "form {}", form);
        }
        // Arbitrary per-letter casings: the same user when the checksum holds (or there is no
        // mixed case), refused otherwise; never a different address.
        for mix in &mixes {
            let form = cased(lower_hex, mix);
            match normalize_address(&form, true, AddressClaim::Contract) {
                Ok(normal) => {
                    prop_assert_eq!(&normal, &checksummed, "form {}", &form);
                    accepted.push(form);
                }
                Err(e) => {
                    prop_assert_ne!(&form, &checksummed);
                    prop_assert_eq!(e.code(), "DAUTH-2009", "form {}", &form);
                }
            }
        }

        let store = Store::temporary().unwrap();
        let rt = runtime();
        let mut ids = Vec::new();
        for form in &accepted {
            let normal = normalize_address(form, true, AddressClaim::Contract).unwrap();
            let user = rt.block_on(store.get_or_create_dauth_user(&network, &normal, 0)).unwrap();
            prop_assert_eq!(&user.username, &checksummed);
            prop_assert_eq!(&user.provider, &network);
            ids.push(user.user_id);
        }
        prop_assert!(ids.windows(2).all(|w| w[0] == w[1]), "ids {:?}", ids);
        let other = rt
            .block_on(store.get_or_create_dauth_user(&format!("{network}-2"), &checksummed, 0))
            .unwrap();
        prop_assert_ne!(&other.user_id, &ids[0], "another network must be another user");
    }
}

// === IPv4-mapped addresses match IPv4 CIDRs ===

/// Whether `ip` is in `net/prefix`, computed without the library.
fn in_v4_net(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mapped_v6_peer_matches_v4_networks_like_the_v4_peer(
        nets in prop::collection::vec((any::<u32>(), 0u8..=32), 1..4),
        near in any::<bool>(),
        addr in any::<u32>(),
        written_mapped in any::<bool>(),
    ) {
        let nets: Vec<(Ipv4Addr, u8)> =
            nets.into_iter().map(|(n, p)| (Ipv4Addr::from(n), p)).collect();
        // Half the time, pick an address next to the first network so hits are common.
        let ip = if near {
            Ipv4Addr::from(u32::from(nets[0].0) ^ (addr & 0xff))
        } else {
            Ipv4Addr::from(addr)
        };
        let entries: Vec<String> = nets
            .iter()
            .map(|(n, p)| {
                if written_mapped {
                    format!("{}/{}", n.to_ipv6_mapped(), u16::from(*p) + 96)
                } else {
                    format!("{n}/{p}")
                }
            })
            .collect();
        let list = CidrList::parse(&entries).unwrap();
        let expected = nets.iter().any(|(n, p)| in_v4_net(ip, *n, *p));
        prop_assert_eq!(list.contains(IpAddr::V4(ip)), expected, "{} in {:?}", ip, entries);
        prop_assert_eq!(
            list.contains(IpAddr::V6(ip.to_ipv6_mapped())),
            expected,
            "{} in {:?}",
            ip.to_ipv6_mapped(),
            entries
        );
    }
}

// === no identity header survives the filter ===

/// Identity prefixes in every `-`/`_` spelling, with a random suffix and random letter case.
fn identity_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["x-dauth-", "x-user-ctx"]),
        "[a-zA-Z0-9_-]{0,12}",
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(prefix, suffix, upper, underscore)| {
            let name: String = prefix
                .chars()
                .enumerate()
                .map(|(i, c)| match c {
                    '-' if underscore >> i & 1 == 1 => '_',
                    c if upper >> i & 1 == 1 => c.to_ascii_uppercase(),
                    c => c,
                })
                .collect();
            format!("{name}{suffix}")
        })
}

fn principal() -> Principal {
    Principal {
        user: User {
            user_id: "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b".into(),
            kind: UserKind::Dauth,
            provider: "ETHEREUM".into(),
            username: "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045".into(),
            created_at: 0,
        },
        method: AuthMethod::Dauth,
        consumer_key: Some("ck".into()),
        msg_sender: None,
        bearer: None,
        relay: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_identity_header_survives_the_filter(
        spoofed in prop::collection::vec(identity_name(), 1..6),
        benign in "x-app-[a-z]{1,8}",
        trusted in any::<bool>(),
        authenticated in any::<bool>(),
    ) {
        // `x-app-ip` and the like claim a client address: removed from an untrusted peer by
        // design, so not benign.
        prop_assume!(!is_client_address_header(&benign));
        let mut headers = HeaderMap::new();
        for name in &spoofed {
            prop_assert!(is_identity_header(name), "{} not flagged", name);
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static("spoofed"),
            );
        }
        headers.append(
            HeaderName::from_bytes(benign.as_bytes()).unwrap(),
            HeaderValue::from_static("kept"),
        );
        let ctx = ForwardContext {
            peer: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            peer_trusted: trusted,
            tls: false,
            forward_token: false,
            preserve_host: false,
            host: Some("api.example"),
            view: None,
        };
        let who = principal();
        prepare_request_headers(&mut headers, &ctx, authenticated.then_some(&who));

        prop_assert_eq!(headers.get(benign.as_str()).unwrap(), "kept");
        for (name, value) in &headers {
            if is_identity_header(name.as_str()) {
                prop_assert!(authenticated, "{} survived for an anonymous caller", name);
                prop_assert_ne!(value, "spoofed", "client's {} survived", name);
            }
        }
        if authenticated {
            let ids: Vec<_> = headers.get_all("x-dauth-user-id").iter().collect();
            prop_assert_eq!(ids, [who.user.user_id.as_str()]);
        }
    }
}

// === a token changed in any byte is refused ===

const NOW: i64 = 1_800_000_000;

struct Signed {
    verifier: DauthVerifier,
    token: String,
}

/// One key pair and one valid token per test binary.
fn signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let pair = generate_rsa(2048).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let public = dir.path().join("public.pem");
        std::fs::write(&public, &pair.public_pem).unwrap();
        let policy = DauthConfig {
            enabled: true,
            keys: vec![load_verify_key(&public, None).unwrap()],
            allowed_hosts: CidrList::parse(&["127.0.0.1"]).unwrap(),
            networks: Vec::new(),
            max_token_age_secs: 300,
            clock_skew_secs: 60,
            // Off, so the unchanged token stays valid however often it is checked.
            replay_protection: false,
            replay_capacity: 1,
            strict_addresses: true,
            jwks_url: None,
        };
        let claims = json!({
            "smart_contract_address": "0xd8da6bf26964af9d7eed9e03e53415d37aa96045",
            "network_name": "ETHEREUM",
            "consumer_key": "ck",
            "msg_sender": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "timestamp": "2027-01-15T08:00:00Z",
            "iat": NOW,
            "exp": NOW + 300,
            "request_id": "r-1",
        });
        let key = EncodingKey::from_rsa_pem(pair.private_pem.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap();
        Signed {
            verifier: DauthVerifier::new(policy),
            token,
        }
    })
}

#[test]
fn unchanged_token_is_accepted() {
    let s = signed();
    s.verifier.verify(&s.token, NOW).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn token_changed_in_any_byte_is_refused(at in any::<Index>(), byte in any::<u8>()) {
        let s = signed();
        let mut bytes = s.token.clone().into_bytes();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        // A change that is not UTF-8 cannot even be presented as a header string.
        if let Ok(mutated) = String::from_utf8(bytes) {
            let result = s.verifier.verify(&mutated, NOW);
            prop_assert!(result.is_err(), "byte {} set to {:#04x} was accepted", i, byte);
        }
    }
}

// === one canonical path ===

/// Path-like text: segments of letters, dots, `;`, `%`, hex digits and a few escapes.
fn path_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9._~;=-]{0,4}",
        Just("%".to_owned()),
        "%[0-9a-fA-F]{2}",
        Just("%25".to_owned()),
        Just("%2e".to_owned()),
        Just("%c3%a9".to_owned()),
        Just("\u{e9}".to_owned()),
    ];
    prop::collection::vec(prop::collection::vec(piece, 0..4), 1..5).prop_map(|segs| {
        format!(
            "/{}",
            segs.iter()
                .map(|s| s.concat())
                .collect::<Vec<_>>()
                .join("/")
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Canonicalising is idempotent, and a canonical path holds no escape of an unreserved
    /// character, no lowercase hex and no dot segment; nothing panics.
    #[test]
    fn canonical_paths_are_a_fixed_point(path in path_like()) {
        if let Ok(c) = dauth_proxy::path::canonical(&path) {
            let again = dauth_proxy::path::canonical(&c);
            prop_assert!(matches!(again, Ok(std::borrow::Cow::Borrowed(_))), "{path} -> {c} -> {again:?}");
            let bytes = c.as_bytes();
            for (i, _) in c.match_indices('%') {
                let pair = &bytes[i + 1..i + 3];
                prop_assert!(pair.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)), "{c}");
                let v = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
                prop_assert!(!(v.is_ascii_alphanumeric() || b"-._~".contains(&v)), "{c}");
            }
            for seg in c.split('/') {
                let name = seg.split(';').next().unwrap_or_default();
                prop_assert!(name != "." && name != "..", "{c}");
            }
            let claims = dauth_proxy::path::Claims::new(["/", "/a/", "/A;b/"].into_iter(), &dauth_proxy::path::EMBEDDED_NAMESPACES);
            let _ = claims.check(&c);
        }
    }
}
