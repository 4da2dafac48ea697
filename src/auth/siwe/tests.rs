//! The EIP-4361 vectors of `tests/fixtures/wallets/siwe.json` (spruceid's layout, made by viem
//! and checked by spruceid's ABNF parser): every positive parses to its fields, every negative
//! is refused, and every verification vector gets its expected outcome at the fixture's `now`.

use std::path::PathBuf;

use serde_json::Value;

use super::*;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallets/siwe.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn cases<'a>(doc: &'a Value, group: &str) -> Vec<(&'a String, &'a Value)> {
    doc[group]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

#[test]
fn every_positive_parses_to_its_fields() {
    let doc = fixture();
    let positives = cases(&doc, "parsing_positive");
    assert!(positives.len() >= 10, "fixture not read");
    for (name, case) in positives {
        let parsed = parse(case["message"].as_str().unwrap_or_default());
        let Ok(m) = parsed else {
            panic!("{name}: {parsed:?}");
        };
        let f = &case["fields"];
        assert_eq!(Some(m.domain.as_str()), f["domain"].as_str(), "{name}");
        let address = m.address.to_checksum(None);
        assert_eq!(Some(address.as_str()), f["address"].as_str(), "{name}");
        assert_eq!(Some(m.uri.as_str()), f["uri"].as_str(), "{name}");
        assert_eq!(Some(m.chain_id), f["chainId"].as_u64(), "{name}");
        assert_eq!(Some(m.nonce.as_str()), f["nonce"].as_str(), "{name}");
        assert_eq!(m.statement.as_deref(), f["statement"].as_str(), "{name}");
        let resources = f["resources"].as_array().map(|r| r.len()).unwrap_or(0);
        assert_eq!(m.resources.len(), resources, "{name}");
    }
}

#[test]
fn every_negative_is_refused() {
    let doc = fixture();
    let negatives = cases(&doc, "parsing_negative");
    assert!(negatives.len() >= 40, "fixture not read");
    let accepted: Vec<_> = negatives
        .iter()
        .filter(|(_, case)| parse(case["message"].as_str().unwrap_or_default()).is_ok())
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
}

fn reason(e: &WalletError) -> &'static str {
    match e {
        WalletError::SiweNotValidNow => "time",
        WalletError::SiweWrongDomain => "binding",
        WalletError::ChainNotAllowed => "chain_not_allowed",
        WalletError::HighS => "high_s",
        WalletError::BadV => "bad_v",
        _ => "other",
    }
}

#[test]
fn every_verification_vector_gets_its_outcome() {
    let doc = fixture();
    let mut all = cases(&doc, "verification_positive");
    all.extend(cases(&doc, "verification_negative"));
    assert!(all.len() >= 20, "fixture not read");
    let mut wrong = Vec::new();
    for (name, case) in all {
        let config = &case["config"];
        let rules = SiweRules {
            domain: config["domain"].as_str().unwrap_or_default().to_owned(),
            uri: config["uri"].as_str().unwrap_or_default().to_owned(),
            chains: config["chains"]
                .as_object()
                .map(|m| m.keys().filter_map(|k| k.parse().ok()).collect())
                .unwrap_or_default(),
            clock_skew_secs: config["clock_skew_secs"].as_u64().unwrap_or(0),
        };
        let now = config["now"].as_i64().unwrap_or(0);
        let hex = case["signature"].as_str().unwrap_or_default();
        let sig = alloy_primitives::hex::decode(hex).unwrap_or_default();
        let text = case["message"].as_str().unwrap_or_default();
        let got = match check(text, &sig, &rules, now) {
            Ok(c) if c.signer != Signer::Eoa => "bad_signature".to_owned(),
            Ok(c) if Some(c.message.nonce.as_str()) != config["issued_nonce"].as_str() => {
                "nonce_unknown".to_owned()
            }
            Ok(c) => format!("ok {}", c.message.address.to_checksum(None)),
            Err(e) => reason(&e).to_owned(),
        };
        let expected = &case["expected"];
        let want = match expected["reason"].as_str() {
            None => format!("ok {}", expected["address"].as_str().unwrap_or_default()),
            Some("expired" | "not_yet_valid" | "issued_in_future") => "time".into(),
            Some("domain_mismatch" | "uri_mismatch") => "binding".into(),
            Some(r) => r.to_owned(),
        };
        if got != want {
            wrong.push(format!("{name}: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
