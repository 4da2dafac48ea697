//! The ERC-8128 vectors of `tests/fixtures/wallets/erc8128.json` (made and checked by
//! `@slicekit/erc8128` and viem; see FACTS.md), each verified at its own `now`.

use std::path::PathBuf;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::*;
use crate::auth::replay::ReplayGuard;

fn fixture() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallets/erc8128.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn rules(doc: &Value) -> Erc8128Rules {
    let policy = &doc["policy"];
    let chains = policy["chains"]
        .as_object()
        .map(|m| m.keys().filter_map(|k| k.parse().ok()).collect())
        .unwrap_or_default();
    Erc8128Rules {
        chains,
        max_lifetime_secs: policy["max_lifetime_secs"].as_u64().unwrap_or(0),
        clock_skew_secs: policy["clock_skew_secs"].as_u64().unwrap_or(0),
    }
}

fn headers(vector: &Value) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in vector["request"]["headers"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if let (Ok(n), Some(Ok(v))) = (
            HeaderName::try_from(name.as_str()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// The reason code the vectors use for the outcome of verifying `vector`.
fn outcome(vector: &Value, rules: &Erc8128Rules, window: &ReplayGuard) -> String {
    let req = &vector["request"];
    let headers = headers(vector);
    let query = req["query"].as_str().and_then(|q| q.strip_prefix('?'));
    let target = Target {
        method: req["method"].as_str().unwrap_or_default(),
        authority: req["authority"].as_str().unwrap_or_default(),
        path: req["path"].as_str().unwrap_or_default(),
        query: query.filter(|q| !q.is_empty()),
        headers: &headers,
        body: req["body"].as_str().unwrap_or_default().as_bytes(),
    };
    let now = vector["now"].as_i64().unwrap_or_default();
    let signed = match verify(&target, rules, now) {
        Ok(signed) => signed,
        Err(e) => return reason(&e).to_owned(),
    };
    match signed.signer {
        Signer::Eoa => {}
        Signer::Other => return "bad_signature".into(),
        Signer::NotEoaShaped => return "bad_signature_length".into(),
    }
    let consumed = tokio::runtime::Builder::new_current_thread()
        .build()
        .map(|rt| rt.block_on(consume(window, &signed, rules, now)));
    match consumed {
        Ok(Ok(())) => format!("ok {}", signed.address.to_checksum(None)),
        Ok(Err(crate::error::Error::Wallet(e))) => reason(&e).to_owned(),
        other => format!("{other:?}"),
    }
}

fn reason(e: &WalletError) -> &'static str {
    match e {
        WalletError::HeadersMissing => "missing_headers",
        WalletError::Malformed => "bad_signature_input",
        WalletError::LabelNotFound => "label_not_found",
        WalletError::BadKeyid => "bad_keyid",
        WalletError::NotRequestBound => "not_request_bound",
        WalletError::AlgNotAllowed => "alg_not_allowed",
        WalletError::BadTime => "bad_time",
        WalletError::NotYetValid => "not_yet_valid",
        WalletError::Expired => "expired",
        WalletError::LifetimeTooLong => "lifetime_too_long",
        WalletError::NonceRequired => "nonce_required",
        WalletError::Replayed => "replay",
        WalletError::ChainNotAllowed => "chain_not_allowed",
        WalletError::DigestRequired => "digest_required",
        WalletError::DigestMismatch => "digest_mismatch",
        WalletError::CoveredHeaderMissing => "covered_header_missing",
        WalletError::BadSignatureLength => "bad_signature_length",
        WalletError::BadV => "bad_v",
        WalletError::HighS => "high_s",
        WalletError::WrongSigner => "bad_signature",
        _ => "other",
    }
}

#[test]
fn every_library_vector_gets_its_expected_outcome() {
    let doc = fixture();
    let rules = rules(&doc);
    let vectors = doc["vectors"].as_array().cloned().unwrap_or_default();
    assert!(vectors.len() >= 45, "fixture not read");
    let mut wrong = Vec::new();
    for vector in &vectors {
        let id = vector["id"].as_str().unwrap_or_default();
        // A replay vector shares a window with the request it replays, which goes first;
        // every other vector gets a fresh window, so vectors that reuse a nonce by
        // construction are judged on their own.
        let window = ReplayGuard::new(1000);
        if let Some(first) = vector["replay_of"].as_str() {
            let original = vectors.iter().find(|v| v["id"] == first);
            assert!(original.is_some(), "{id}: replays an unknown vector");
            let _ = original.map(|v| outcome(v, &rules, &window));
        }
        let got = outcome(vector, &rules, &window);
        let expected = &vector["expected"];
        let want = if expected["ok"] == true {
            format!("ok {}", expected["signer"].as_str().unwrap_or_default())
        } else {
            expected["reason"].as_str().unwrap_or_default().to_owned()
        };
        if got != want {
            wrong.push(format!("{id}: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_base_is_built_byte_for_byte_as_the_library_signed_it() {
    let doc = fixture();
    let ok = doc["vectors"].as_array().cloned().unwrap_or_default();
    let ok: Vec<_> = ok.iter().filter(|v| v["expected"]["ok"] == true).collect();
    assert!(ok.len() >= 10);
    for vector in ok {
        let headers = headers(vector);
        let req = &vector["request"];
        let target = Target {
            method: req["method"].as_str().unwrap_or_default(),
            authority: req["authority"].as_str().unwrap_or_default(),
            path: req["path"].as_str().unwrap_or_default(),
            query: req["query"].as_str().and_then(|q| q.strip_prefix('?')),
            headers: &headers,
            body: b"",
        };
        let inputs = dictionary(&headers, SIGNATURE_INPUT).ok();
        let sigs = dictionary(&headers, SIGNATURE).ok();
        let (Some(inputs), Some(sigs)) = (inputs, sigs) else {
            panic!("{}: headers", vector["id"]);
        };
        let picked = pick(&inputs, &sigs).ok();
        let Some((label, list, _)) = picked else {
            panic!("{}: label", vector["id"]);
        };
        let names = components(list).unwrap_or_default();
        let base = signature_base(&names, &target, label, list).ok();
        assert_eq!(
            base.as_deref(),
            vector["received_base"].as_str(),
            "{}",
            vector["id"]
        );
    }
}

/// Variants the library never sends: each refused with its own reason.
#[test]
fn components_outside_rfc_9421_are_refused() {
    let doc = fixture();
    let rules = rules(&doc);
    let vectors = doc["vectors"].as_array().cloned().unwrap_or_default();
    let Some(base) = vectors.iter().find(|v| v["id"] == "get_query") else {
        panic!("get_query missing");
    };
    let input = base["request"]["headers"]["signature-input"]
        .as_str()
        .unwrap_or_default();
    let cases = [
        (r#""@query" "@query""#, "bad_signature_input"),
        (r#""@target-uri""#, "bad_signature_input"),
        (r#""Content-Type""#, "bad_signature_input"),
        (r#""@query";req"#, "bad_signature_input"),
    ];
    for (extra, want) in cases {
        let mut vector = base.clone();
        let with = format!("\"@query\" {extra})");
        let changed = input.replacen("\"@query\")", &with, 1);
        vector["request"]["headers"]["signature-input"] = Value::String(changed);
        let got = outcome(&vector, &rules, &ReplayGuard::new(10));
        assert_eq!(got, want, "{extra}");
    }
    let mut vector = base.clone();
    vector["request"]["headers"]["signature-input"] =
        Value::String(input.replace(";expires=", ";created=1767225601;expires="));
    // A duplicated parameter: RFC 8941 keeps the last value, so the parameters are not what
    // was signed and the signature fails.
    assert_eq!(
        outcome(&vector, &rules, &ReplayGuard::new(10)),
        "bad_signature"
    );
}

#[test]
fn a_digest_dictionary_is_checked_member_by_member() {
    let body = br#"{"a":1}"#;
    let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sha256.as_ref());
    let mut headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, v: String| {
        h.insert(
            CONTENT_DIGEST,
            HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("")),
        );
    };
    set(&mut headers, format!("md5=:AAAA:, sha-256=:{b64}:"));
    assert_eq!(digest::check(&headers, body), Ok(()));
    set(&mut headers, "md5=:AAAA:".into());
    assert_eq!(
        digest::check(&headers, body),
        Err(WalletError::DigestRequired)
    );
    set(&mut headers, format!("sha-256=:{b64}:, sha-512=:AAAA:"));
    assert_eq!(
        digest::check(&headers, body),
        Err(WalletError::DigestMismatch)
    );
    set(&mut headers, format!("sha-256=:{b64}:"));
    assert_eq!(
        digest::check(&headers, b"{\"a\":2}"),
        Err(WalletError::DigestMismatch)
    );
}
