//! A fetched JWKS document (RFC 7517 section 5) read leniently: every RSA key fit to verify
//! signatures is taken, every other entry is skipped with the reason, so one EC or encryption
//! key published beside the signing keys does not make the whole set unusable.
//!
//! Taken: `kty` `RSA` (RFC 7518 section 6.3) with `use` absent or `sig` (RFC 7517 section
//! 4.2), `alg` absent or one of the allow-listed RSA algorithms (RFC 7517 section 4.4), and a
//! modulus of at least [`MIN_RSA_BITS`].

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::auth::keys::{MIN_RSA_BITS, VerifyKey, rsa_verify_key};

/// The algorithm names a JWK's `alg` may carry for it to be taken (the JWS allow-list).
const ALLOWED_ALGS: [&str; 6] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

/// The keys taken from a JWKS document, and one line for each entry skipped.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// Usable keys.
    pub(crate) keys: Vec<VerifyKey>,
    /// `(index, kid, why)` of each entry not taken.
    pub(crate) skipped: Vec<(usize, Option<String>, String)>,
}

/// Reads `text` as a JWKS; `origin` names it in the keys it yields. `None` when `text` is not
/// a JSON object with a `keys` array.
pub(crate) fn parse_jwks(text: &[u8], origin: &Path) -> Option<Parsed> {
    let doc: Value = serde_json::from_slice(text).ok()?;
    let entries = doc.get("keys")?.as_array()?;
    let mut out = Parsed::default();
    for (i, jwk) in entries.iter().enumerate() {
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
        match one_key(jwk, kid.clone(), origin) {
            Ok(key) => out.keys.push(key),
            Err(why) => out.skipped.push((i, kid, why)),
        }
    }
    Some(out)
}

fn one_key(jwk: &Value, kid: Option<String>, origin: &Path) -> Result<VerifyKey, String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    match text("kty") {
        Some("RSA") => {}
        other => return Err(format!("kty {other:?} is not RSA")),
    }
    if let Some(u) = jwk.get("use")
        && u.as_str() != Some("sig")
    {
        return Err(format!("use {u} is not \"sig\""));
    }
    if let Some(a) = jwk.get("alg")
        && !a.as_str().is_some_and(|a| ALLOWED_ALGS.contains(&a))
    {
        return Err(format!("alg {a} is not an allowed RSA algorithm"));
    }
    let component = |name: &str| {
        text(name)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| format!("{name} is missing or not base64url"))
    };
    let (n, e) = (component("n")?, component("e")?);
    rsa_verify_key(&n, &e, kid, origin).map_err(|e| match e {
        crate::auth::keys::KeyError::TooSmall { bits, .. } => {
            format!("a {bits}-bit key; at least {MIN_RSA_BITS} bits are required")
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::generate_rsa;

    /// An RSA JWK of a fresh key, with `extra` members set (a `null` removes one).
    fn rsa_jwk(extra: Value) -> Value {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, generate_rsa(2048).unwrap().private_pem).unwrap();
        let mut jwk = crate::auth::keys::load_signing_key_pair(&path)
            .unwrap()
            .jwk("x");
        let (Some(j), Some(x)) = (jwk.as_object_mut(), extra.as_object()) else {
            unreachable!()
        };
        j.remove("use");
        j.remove("alg");
        for (k, v) in x {
            j.insert(k.clone(), v.clone());
        }
        jwk
    }

    #[test]
    fn takes_rsa_signing_keys_and_skips_the_rest() {
        let doc = serde_json::json!({"keys": [
            rsa_jwk(serde_json::json!({"kid": "a"})),
            rsa_jwk(serde_json::json!({"kid": "b", "use": "sig", "alg": "PS256"})),
            rsa_jwk(serde_json::json!({"kid": "enc", "use": "enc"})),
            rsa_jwk(serde_json::json!({"kid": "hs", "alg": "HS256"})),
            rsa_jwk(serde_json::json!({"kid": "none", "alg": "none"})),
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "secret", "k": "AAAA"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            {"kty": "RSA", "kid": "small", "n": URL_SAFE_NO_PAD.encode([0xff; 128]), "e": "AQAB"},
        ]});
        let parsed = parse_jwks(doc.to_string().as_bytes(), Path::new("u")).unwrap();
        let kids: Vec<_> = parsed.keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["a", "b"]);
        let skipped: Vec<_> = parsed
            .skipped
            .iter()
            .map(|s| s.1.clone().unwrap())
            .collect();
        assert_eq!(
            skipped,
            ["enc", "hs", "none", "ec", "secret", "broken", "small"]
        );
    }

    #[test]
    fn a_document_without_keys_is_none() {
        for doc in ["", "[]", "{}", r#"{"keys": {}}"#, "null"] {
            assert!(
                parse_jwks(doc.as_bytes(), Path::new("u")).is_none(),
                "{doc}"
            );
        }
    }
}
