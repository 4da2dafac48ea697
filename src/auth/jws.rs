//! Compact JWS verification against keys parsed at start-up.
//!
//! `jsonwebtoken::decode` re-parses the RSA key on every call (its aws-lc verifier builds an
//! `UnparsedPublicKey` each time); here each configured key is parsed once per algorithm
//! ([`VerifyKey`]), the signature is checked with it, and only then is the payload decoded.
//! The header is read as `jsonwebtoken::decode_header` reads it (decoded once); tokens are minted with
//! `jsonwebtoken::encode`. Only RS256/384/512 and PS256/384/512 are ever verified, and a header
//! that names an extension (`crit`, RFC 7515 4.1.11; `b64`, RFC 7797) is refused: none is
//! implemented. DAuth tokens, bearer tokens and client assertions all pass through here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};

use super::keys::VerifyKey;

/// The algorithms a DAuth token, a bearer token or a client assertion may use: the RSA family
/// only.
pub(crate) const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// Why a token was refused before its claims were looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// Not three base64url parts, or a header that does not parse.
    Malformed,
    /// An algorithm outside the RSA family.
    Algorithm,
    /// A payload that is not base64url JSON of the expected shape.
    Payload,
    /// A `crit` (or `b64`) header: an extension this verifier does not implement.
    Critical,
}

/// A parsed, not yet verified, compact JWS.
pub(crate) struct Jws<'a> {
    /// The protected header.
    pub header: Header,
    alg_index: usize,
    signing_input: &'a [u8],
    payload: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Splits and decodes `token`; refuses non-RSA algorithms.
    pub(crate) fn parse(token: &'a str) -> Result<Self, JwsError> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(JwsError::Malformed)?;
        let (head, payload) = signing_input.split_once('.').ok_or(JwsError::Malformed)?;
        if payload.contains('.') {
            return Err(JwsError::Malformed);
        }
        // Nothing to keep here or below: a token that does not parse is the caller's, and the
        // defect is what the log says of it. Decoded once, read twice: as `jsonwebtoken` reads
        // a header (what `decode_header` does), then for the members it does not act on.
        let head = URL_SAFE_NO_PAD
            .decode(head)
            .map_err(|_| JwsError::Malformed)?;
        let header: Header = serde_json::from_slice(&head).map_err(|_| JwsError::Malformed)?;
        if names_an_extension(&head) {
            return Err(JwsError::Critical);
        }
        let alg_index = RSA_ALGORITHMS
            .iter()
            .position(|a| *a == header.alg)
            .ok_or(JwsError::Algorithm)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            // Nothing to keep: the caller's token (see above).
            .map_err(|_| JwsError::Malformed)?;
        Ok(Self {
            header,
            alg_index,
            signing_input: signing_input.as_bytes(),
            payload,
            signature,
        })
    }

    /// Whether `key` verifies the signature.
    pub(crate) fn verified_by(&self, key: &VerifyKey) -> bool {
        key.parsed
            .get(self.alg_index)
            .is_some_and(|k| k.verify_sig(self.signing_input, &self.signature).is_ok())
    }

    /// Keys worth trying: every key when the header names no `kid`; otherwise the keys with
    /// that `kid`, and also keys configured without one when `unkeyed_too` (a PEM file has no
    /// `kid`, while the tokens of most issuers carry one).
    pub(crate) fn candidates<'k>(
        &self,
        keys: &'k [VerifyKey],
        unkeyed_too: bool,
    ) -> impl Iterator<Item = &'k VerifyKey> + use<'k, '_> {
        keys.iter().filter(move |k| {
            self.header.kid.is_none()
                || k.kid == self.header.kid
                || (unkeyed_too && k.kid.is_none())
        })
    }

    /// The payload decoded as `T` (call only after verifying).
    pub(crate) fn claims<T: DeserializeOwned>(&self) -> Result<T, JwsError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(self.payload)
            // Nothing to keep: the caller's token (see `parse`).
            .map_err(|_| JwsError::Payload)?;
        // Nothing to keep: the caller's token (see `parse`).
        serde_json::from_slice(&bytes).map_err(|_| JwsError::Payload)
    }
}

/// Whether the protected header (`json`, already read as a [`Header`]) has a `crit` member
/// (RFC 7515 4.1.11: extensions the recipient must understand, or refuse the JWS) or a `b64`
/// member (RFC 7797, which must be listed in `crit`). This verifier implements no extension, so
/// either refuses the token, whatever the value (`"crit": null` and `"crit": []` included).
/// `jsonwebtoken`'s `Header` reads `crit` but does not act on it, and drops a `null`, so the
/// member is looked for in the JSON itself: first skipping every other member unread, and, if
/// that does not parse (a member named twice), as a whole map.
fn names_an_extension(json: &[u8]) -> bool {
    if let Ok(named) = serde_json::from_slice::<Extensions>(json) {
        return named.crit.0 || named.b64.0;
    }
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(json)
        .is_ok_and(|h| h.contains_key("crit") || h.contains_key("b64"))
}

/// The header members that name an extension, each present or not, whatever its value.
#[derive(Deserialize)]
struct Extensions {
    #[serde(default)]
    crit: Present,
    #[serde(default)]
    b64: Present,
}

/// A member that is there, with any value (`null` included); absent is the default.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Self(true))
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, encode};
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::keys::{generate_rsa, load_verify_key};

    #[test]
    fn verifies_every_rsa_algorithm_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate_rsa(2048).unwrap();
        std::fs::write(dir.path().join("k.pem"), &pair.public_pem).unwrap();
        let key = load_verify_key(&dir.path().join("k.pem"), None).unwrap();
        let signing = EncodingKey::from_rsa_pem(pair.private_pem.as_bytes()).unwrap();
        for alg in RSA_ALGORITHMS {
            let token = encode(&Header::new(alg), &json!({"a": 1}), &signing).unwrap();
            let jws = Jws::parse(&token).unwrap();
            assert!(jws.verified_by(&key), "{alg:?}");
            assert_eq!(jws.claims::<Value>().unwrap()["a"], 1);
            let mut tampered = token.clone();
            tampered.insert(token.find('.').unwrap() + 3, 'x');
            assert!(
                Jws::parse(&tampered).map_or(true, |j| !j.verified_by(&key)),
                "{alg:?}"
            );
        }
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &json!({}),
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        assert_eq!(Jws::parse(&hs).err(), Some(JwsError::Algorithm));
        assert_eq!(Jws::parse("a.b").err(), Some(JwsError::Malformed));
        assert_eq!(Jws::parse("a.b.c.d").err(), Some(JwsError::Malformed));
    }

    /// A compact JWS with exactly this header JSON, signed RS256 by `pem`.
    fn signed(header: &str, payload: &str, pem: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).unwrap();
        format!("{input}.{sig}")
    }

    /// RFC 7515 4.1.11: a `crit` header names extensions the recipient must understand, and
    /// this verifier implements none (RFC 7797's `b64` included), so any `crit` is refused.
    #[test]
    fn crit_and_b64_headers_are_refused_before_the_signature_counts() {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate_rsa(2048).unwrap();
        std::fs::write(dir.path().join("k.pem"), &pair.public_pem).unwrap();
        let key = load_verify_key(&dir.path().join("k.pem"), None).unwrap();
        let plain = signed(r#"{"alg":"RS256"}"#, r#"{"a":1}"#, &pair.private_pem);
        assert!(Jws::parse(&plain).unwrap().verified_by(&key));
        for header in [
            r#"{"alg":"RS256","crit":["exp"]}"#,
            r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"RS256","crit":["b64"],"b64":true}"#,
            r#"{"alg":"RS256","crit":["x-ext"],"x-ext":1}"#,
            r#"{"alg":"RS256","crit":[]}"#,
            r#"{"alg":"RS256","crit":null}"#,
            r#"{"alg":"RS256","b64":false}"#,
            r#"{"crit":["exp"],"alg":"RS256","typ":"JWT","kid":"k"}"#,
            // Named twice: not read member by member, still found.
            r#"{"alg":"RS256","b64":false,"b64":true}"#,
        ] {
            let token = signed(header, r#"{"a":1}"#, &pair.private_pem);
            assert_eq!(
                Jws::parse(&token).err(),
                Some(JwsError::Critical),
                "{header}"
            );
        }
        // A header that is not a JSON object stays malformed.
        let odd = signed(r#"{"alg":"RS256","crit":"b64"}"#, "{}", &pair.private_pem);
        assert!(Jws::parse(&odd).is_err());
    }
}
