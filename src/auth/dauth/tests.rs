use std::sync::OnceLock;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use super::*;
use crate::auth::jws::RSA_ALGORITHMS;
use crate::auth::keys::{GeneratedPair, generate_rsa, load_verify_key};
use crate::net::CidrList;

const NOW: i64 = 1_800_000_000;
const CONTRACT: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";

struct Keys {
    a: GeneratedPair,
    b: GeneratedPair,
    dir: tempfile::TempDir,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let a = generate_rsa(2048).unwrap();
        let b = generate_rsa(2048).unwrap();
        std::fs::write(dir.path().join("a.pem"), &a.public_pem).unwrap();
        std::fs::write(dir.path().join("b.pem"), &b.public_pem).unwrap();
        Keys { a, b, dir }
    })
}

fn policy() -> DauthConfig {
    let k = keys();
    DauthConfig {
        enabled: true,
        keys: vec![
            load_verify_key(&k.dir.path().join("a.pem"), Some("key-a".into())).unwrap(),
            load_verify_key(&k.dir.path().join("b.pem"), Some("key-b".into())).unwrap(),
        ],
        allowed_hosts: CidrList::parse(&["127.0.0.1"]).unwrap(),
        networks: Vec::new(),
        max_token_age_secs: 300,
        clock_skew_secs: 60,
        replay_protection: true,
        replay_capacity: 1000,
        strict_addresses: true,
        jwks_url: None,
    }
}

fn claims() -> Value {
    json!({
        "smart_contract_address": CONTRACT.to_lowercase(),
        "network_name": "ETHEREUM",
        "consumer_key": "ck",
        "timestamp": "2027-01-15T08:00:00Z",
        "iat": NOW,
        "request_id": "r-1",
    })
}

fn sign_with(pem: &str, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(&keys().a.private_pem, Algorithm::RS256, None, claims)
}

fn verify(token: &str) -> Result<DauthClaims, Error> {
    DauthVerifier::new(policy()).verify(token, NOW)
}

/// `timestamp` for NOW is 2027-01-15T08:00:00Z.
#[test]
fn valid_token_yields_normalised_claims() {
    let c = verify(&sign(&claims())).unwrap();
    assert_eq!(c.contract, CONTRACT);
    assert_eq!(c.network, "ETHEREUM");
    assert_eq!(c.consumer_key, "ck");
}

#[test]
fn every_rsa_algorithm_is_accepted() {
    for alg in RSA_ALGORITHMS {
        let mut c = claims();
        c["request_id"] = json!(format!("{alg:?}"));
        let v = DauthVerifier::new(policy());
        v.verify(&sign_with(&keys().a.private_pem, alg, None, &c), NOW)
            .unwrap();
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let header = Header::new(Algorithm::HS256);
    let key = EncodingKey::from_secret(keys().a.public_pem.as_bytes());
    let token = encode(&header, &claims(), &key).unwrap();
    assert!(matches!(
        verify(&token),
        Err(Error::InvalidToken(TokenDefect::AlgorithmNotAllowed))
    ));
}

#[test]
fn alg_none_is_refused() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims().to_string())
    );
    assert!(matches!(verify(&token), Err(Error::InvalidToken(_))));
}

#[test]
fn ec_signed_token_is_refused() {
    let pair = aws_lc_rs::signature::EcdsaKeyPair::generate(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    )
    .unwrap();
    let der = pair.to_pkcs8v1().unwrap();
    let token = encode(
        &Header::new(Algorithm::ES256),
        &claims(),
        &EncodingKey::from_ec_der(der.as_ref()),
    )
    .unwrap();
    assert!(matches!(
        verify(&token),
        Err(Error::InvalidToken(TokenDefect::AlgorithmNotAllowed))
    ));
}

#[test]
fn token_signed_by_unknown_key_is_refused() {
    let other = generate_rsa(2048).unwrap();
    let token = sign_with(&other.private_pem, Algorithm::RS256, None, &claims());
    assert!(matches!(
        verify(&token),
        Err(Error::InvalidToken(TokenDefect::BadSignature))
    ));
}

#[test]
fn kid_selects_the_key() {
    let b = &keys().b.private_pem;
    verify(&sign_with(b, Algorithm::RS256, Some("key-b"), &claims())).unwrap();
    // Signed by b but claiming a's kid: only a is tried.
    let wrong = sign_with(b, Algorithm::RS256, Some("key-a"), &claims());
    assert!(matches!(
        verify(&wrong),
        Err(Error::InvalidToken(TokenDefect::BadSignature))
    ));
    let unknown = sign_with(b, Algorithm::RS256, Some("nope"), &claims());
    assert!(matches!(
        verify(&unknown),
        Err(Error::InvalidToken(TokenDefect::UnknownKey))
    ));
}

#[test]
fn missing_or_empty_required_claims_are_refused() {
    for field in ["smart_contract_address", "network_name", "consumer_key"] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(field);
        assert!(
            matches!(
                verify(&sign(&c)),
                Err(Error::InvalidToken(TokenDefect::BadClaims))
            ),
            "{field}"
        );
        let mut c = claims();
        c[field] = json!("");
        assert!(
            matches!(
                verify(&sign(&c)),
                Err(Error::InvalidToken(TokenDefect::BadClaims))
            ),
            "{field} empty"
        );
        let mut c = claims();
        c[field] = json!(42);
        assert!(
            matches!(
                verify(&sign(&c)),
                Err(Error::InvalidToken(TokenDefect::BadClaims))
            ),
            "{field} number"
        );
    }
}

#[test]
fn time_claims_are_enforced() {
    type Case = (&'static str, Value, fn(&Error) -> bool);
    let cases: Vec<Case> = vec![
        ("exp", json!(NOW - 61), |e| matches!(e, Error::TokenExpired)),
        ("nbf", json!(NOW + 61), |e| {
            matches!(e, Error::TokenNotYetValid)
        }),
        ("iat", json!(NOW - 301), |e| matches!(e, Error::TokenStale)),
        ("iat", json!(NOW + 61), |e| {
            matches!(e, Error::TokenFromFuture)
        }),
        ("timestamp", json!("2027-01-15T07:54:59Z"), |e| {
            matches!(e, Error::TokenStale)
        }),
        ("timestamp", json!("yesterday"), |e| {
            matches!(e, Error::InvalidToken(TokenDefect::BadClaims))
        }),
    ];
    for (field, value, expected) in cases {
        let mut c = claims();
        c[field] = value.clone();
        let err = verify(&sign(&c)).unwrap_err();
        assert!(expected(&err), "{field}={value}: {err:?}");
    }
    // Inside the skew: accepted.
    let mut c = claims();
    c["exp"] = json!(NOW - 59);
    verify(&sign(&c)).unwrap();
}

#[test]
fn undated_token_is_refused_when_age_is_limited() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("iat");
    c.as_object_mut().unwrap().remove("timestamp");
    assert!(matches!(verify(&sign(&c)), Err(Error::TokenUndated)));
    let mut p = policy();
    p.max_token_age_secs = 0;
    p.replay_protection = false;
    DauthVerifier::new(p).verify(&sign(&c), NOW).unwrap();
}

/// Verifies `token` and records its request id in `window`, as the pipeline does.
fn verify_once(
    v: &DauthVerifier,
    window: &crate::auth::replay::ReplayGuard,
    token: &str,
) -> Result<DauthClaims, Error> {
    use crate::store::{Replay, ReplayScope};
    let claims = v.verify(token, NOW)?;
    let scope = ReplayScope::Dauth {
        consumer_key: &claims.consumer_key,
    };
    let id = claims
        .request_id
        .as_deref()
        .ok_or(Error::RequestIdMissing)?;
    let until = NOW.saturating_add_unsigned(v.policy().replay_window_secs());
    match window.check(scope, id, until, NOW) {
        Replay::Fresh => Ok(claims),
        Replay::Seen => Err(Error::TokenReplayed),
        Replay::Full => Err(Error::ReplayWindowFull),
    }
}

#[test]
fn replayed_request_id_is_refused_and_missing_one_too() {
    let v = DauthVerifier::new(policy());
    let window = crate::auth::replay::ReplayGuard::new(1000);
    let token = sign(&claims());
    verify_once(&v, &window, &token).unwrap();
    assert!(matches!(
        verify_once(&v, &window, &token),
        Err(Error::TokenReplayed)
    ));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("request_id");
    assert!(matches!(
        v.verify(&sign(&c), NOW),
        Err(Error::RequestIdMissing)
    ));
}

#[test]
fn refused_token_does_not_use_up_its_request_id() {
    let v = DauthVerifier::new(policy());
    let window = crate::auth::replay::ReplayGuard::new(1000);
    let mut c = claims();
    c["network_name"] = json!("BAD NAME");
    assert!(verify_once(&v, &window, &sign(&c)).is_err());
    verify_once(&v, &window, &sign(&claims())).unwrap();
}

#[test]
fn network_allowlist_and_address_rules() {
    let mut p = policy();
    p.networks = vec!["GOERLI".into()];
    assert!(matches!(
        DauthVerifier::new(p).verify(&sign(&claims()), NOW),
        Err(Error::NetworkNotAllowed)
    ));

    let mut c = claims();
    c["smart_contract_address"] = json!(CONTRACT.replace("dA6", "Da6"));
    assert!(matches!(
        verify(&sign(&c)),
        Err(Error::BadChecksum(AddressClaim::Contract))
    ));
    let mut c = claims();
    c["msg_sender"] = json!("0x1234");
    assert!(matches!(
        verify(&sign(&c)),
        Err(Error::InvalidAddress(AddressClaim::MsgSender))
    ));
}

#[test]
fn any_changed_byte_is_refused() {
    let token = sign(&claims());
    let bytes = token.as_bytes();
    for i in (0..bytes.len()).step_by(7) {
        let mut mutated = bytes.to_vec();
        mutated[i] = if mutated[i] == b'A' { b'B' } else { b'A' };
        let Ok(mutated) = String::from_utf8(mutated) else {
            continue;
        };
        if mutated == token {
            continue;
        }
        assert!(
            verify(&mutated).is_err(),
            "byte {i} changed and still accepted"
        );
    }
}
