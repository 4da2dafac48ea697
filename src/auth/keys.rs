//! RSA key material: loading, checking and generating, all done once at start-up.
//!
//! Verification keys come from PEM files holding an SPKI public key (`PUBLIC KEY`), a PKCS#1
//! public key (`RSA PUBLIC KEY`) or an X.509 certificate (`CERTIFICATE`; only its key is used,
//! validity dates are not checked, as in OBP). Anything else, a private key included, is
//! refused with a message naming the file. Keys under 2048 bits (counted in bits of the modulus,
//! not in bytes) are refused.
//!
//! Signing keys (for `dauth-proxy token` and the issuer) are PKCS#8 or PKCS#1 private keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey};
use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::signature::ParsedPublicKey;
use jsonwebtoken::{DecodingKey, EncodingKey};

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The size in bits of a big-endian modulus: the position of its highest set bit.
///
/// Counting whole bytes would call a 2041 to 2047-bit modulus (256 bytes) a 2048-bit one, and
/// such a key would pass the size rule at load and then verify nothing (aws-lc refuses RSA
/// keys under 2048 bits when verifying).
fn modulus_bits(n: &[u8]) -> usize {
    let n = &n[n.iter().take_while(|b| **b == 0).count()..];
    n.first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize)
}

/// The modulus of a PKCS#1 `RSAPrivateKey` (RFC 8017 A.1.2: a DER SEQUENCE of INTEGERs,
/// `version` then `modulus`).
fn pkcs1_modulus(der: &[u8]) -> Option<&[u8]> {
    /// One DER TLV with a definite length: (tag, contents, what follows).
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = b.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return None;
            }
            let (len, rest) = rest.split_at(count);
            (len.iter().fold(0, |n, b| (n << 8) | usize::from(*b)), rest)
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }
    let (0x30, body, _) = tlv(der)? else {
        return None;
    };
    let (0x02, _, rest) = tlv(body)? else {
        return None;
    };
    match tlv(rest)? {
        (0x02, n, _) => Some(n),
        _ => None,
    }
}

/// What aws-lc says when it refuses the components of a key it parsed.
const REFUSED: &str = "its components are refused";

/// A key file that does not hold a usable RSA key, with what the parser said.
fn not_rsa(path: &Path, why: &dyn std::fmt::Display) -> KeyError {
    KeyError::NotRsa {
        path: path.to_owned(),
        reason: why.to_string(),
    }
}

/// Refuses a modulus under [`MIN_RSA_BITS`]; returns its size in bits.
fn check_size(n: &[u8], path: &Path) -> Result<usize, KeyError> {
    let bits = modulus_bits(n);
    if bits < MIN_RSA_BITS {
        return Err(KeyError::TooSmall {
            path: path.to_owned(),
            bits,
        });
    }
    Ok(bits)
}

/// A key that verifies token signatures.
#[derive(Clone)]
pub struct VerifyKey {
    /// The `kid` that selects this key, if one was configured.
    pub kid: Option<String>,
    /// Where the key came from, for messages.
    pub source: PathBuf,
    /// Modulus size in bits.
    pub bits: usize,
    /// The key parsed for each of [`super::jws::RSA_ALGORITHMS`], in that order: verification
    /// never parses key material again.
    pub(crate) parsed: Arc<Vec<ParsedPublicKey>>,
    /// SHA-256 of the modulus: which key this is, whatever file or encoding it came from.
    fingerprint: [u8; 32],
}

impl VerifyKey {
    /// Whether `other` is the same RSA key (same modulus), whatever its `kid` or origin.
    pub(crate) fn same_key(&self, other: &VerifyKey) -> bool {
        self.fingerprint == other.fingerprint
    }

    /// When this is one of the development keys shipped in `keys/dev/`, the warning to log.
    pub fn development_key(&self) -> Option<&'static str> {
        development_warning(&self.fingerprint)
    }
}

/// The warning for the development key ([`dev::DEV_KEYS`]) with this fingerprint, if any.
fn development_warning(fingerprint: &[u8; 32]) -> Option<&'static str> {
    static KNOWN: std::sync::OnceLock<Vec<([u8; 32], &'static str)>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            dev::DEV_KEYS
                .iter()
                .filter_map(|(pem, why)| {
                    let key = verify_key_from_pem(pem, Path::new("keys/dev"), None).ok()?;
                    Some((key.fingerprint, *why))
                })
                .collect()
        })
        .iter()
        .find(|(known, _)| known == fingerprint)
        .map(|(_, why)| *why)
}

/// Parses the public key (`n`, `e`) once per RSA algorithm.
fn parse_for_every_algorithm(n: &[u8], e: &[u8]) -> Option<Arc<Vec<ParsedPublicKey>>> {
    use aws_lc_rs::signature as s;
    let params: [&'static s::RsaParameters; 6] = [
        &s::RSA_PKCS1_2048_8192_SHA256,
        &s::RSA_PKCS1_2048_8192_SHA384,
        &s::RSA_PKCS1_2048_8192_SHA512,
        &s::RSA_PSS_2048_8192_SHA256,
        &s::RSA_PSS_2048_8192_SHA384,
        &s::RSA_PSS_2048_8192_SHA512,
    ];
    let components = s::RsaPublicKeyComponents { n, e };
    params
        .iter()
        .map(|p| components.to_parsed_public_key(p).ok())
        .collect::<Option<Vec<_>>>()
        .map(Arc::new)
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("source", &self.source)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

/// Why a key file was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no PEM block.
    #[error("{} is not a PEM file", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
    },
    /// The PEM block is of a kind this place does not take.
    #[error("{} holds a {tag:?} PEM block; expected {expected}", path.display())]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The PEM label found.
        tag: String,
        /// What was wanted.
        expected: &'static str,
    },
    /// The key is not an RSA key, or is malformed.
    #[error("{} does not hold a valid RSA key ({reason})", path.display())]
    NotRsa {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The RSA key is too small to be safe.
    #[error("{} holds a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required", path.display())]
    TooSmall {
        /// The file.
        path: PathBuf,
        /// Its size.
        bits: usize,
    },
    /// Only 2048, 3072 and 4096-bit keys are generated.
    #[error("cannot generate a {0}-bit key: choose 2048, 3072 or 4096")]
    UnsupportedSize(usize),
    /// Key generation failed in the crypto library.
    #[error("RSA key generation failed")]
    Generate,
}

/// Loads an RSA public key (SPKI, PKCS#1 or X.509 certificate PEM) for verification.
pub fn load_verify_key(path: &Path, kid: Option<String>) -> Result<VerifyKey, KeyError> {
    verify_key_from_pem(&read(path)?, path, kid)
}

/// Parses PEM `text` as [`load_verify_key`] does; `path` names its origin in errors.
pub fn verify_key_from_pem(
    text: &str,
    path: &Path,
    kid: Option<String>,
) -> Result<VerifyKey, KeyError> {
    let block = first_pem(path, text)?;
    let tag = block.tag();
    if !matches!(tag, "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE") {
        return Err(KeyError::WrongKind {
            path: path.to_owned(),
            tag: tag.to_owned(),
            expected: "an RSA public key or certificate",
        });
    }
    let encoded = pem::encode(&block);
    let not_rsa = |why: &dyn std::fmt::Display| not_rsa(path, why);
    let decoding = DecodingKey::from_rsa_pem(encoded.as_bytes()).map_err(|e| not_rsa(&e))?;
    let pkcs1_der = decoding.try_get_as_bytes().map_err(|e| not_rsa(&e))?;
    let parsed = PublicKey::from_der(pkcs1_der).map_err(|e| not_rsa(&e))?;
    let n = parsed.modulus().big_endian_without_leading_zero().to_vec();
    let bits = check_size(&n, path)?;
    let e = parsed.exponent().big_endian_without_leading_zero().to_vec();
    let parsed = parse_for_every_algorithm(&n, &e).ok_or_else(|| not_rsa(&REFUSED))?;
    Ok(VerifyKey {
        kid,
        source: path.to_owned(),
        bits,
        parsed,
        fingerprint: dev::fingerprint(&n),
    })
}

/// Loads an RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) for signing.
pub fn load_signing_key(path: &Path) -> Result<EncodingKey, KeyError> {
    let text = read(path)?;
    let block = first_pem(path, &text)?;
    if !matches!(block.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY") {
        return Err(KeyError::WrongKind {
            path: path.to_owned(),
            tag: block.tag().to_owned(),
            expected: "an RSA private key",
        });
    }
    let key =
        EncodingKey::from_rsa_pem(pem::encode(&block).as_bytes()).map_err(|e| not_rsa(path, &e))?;
    // Sized before aws-lc parses it: aws-lc refuses a key under 2048 bits without saying why.
    let modulus = pkcs1_modulus(key.as_bytes()).ok_or_else(|| not_rsa(path, &"no modulus"))?;
    check_size(modulus, path)?;
    KeyPair::from_der(key.as_bytes()).map_err(|e| not_rsa(path, &e))?;
    Ok(key)
}

/// An RSA private key for signing tokens, with its public half for verifying them and
/// publishing them as a JWK.
#[derive(Clone)]
pub struct SigningKey {
    /// For `jsonwebtoken::encode`.
    pub encoding: EncodingKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("bits", &modulus_bits(&self.n))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The public half, for verification.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_raw_components(&self.n, &self.e)
    }

    /// The public half as a verification key with `kid` (`None` only if aws-lc refuses the
    /// components, which a key it generated or parsed cannot cause).
    pub fn verify_key(&self, kid: &str) -> Option<VerifyKey> {
        Some(VerifyKey {
            kid: Some(kid.to_owned()),
            source: PathBuf::from("[issuer]"),
            bits: modulus_bits(&self.n),
            parsed: parse_for_every_algorithm(&self.n, &self.e)?,
            fingerprint: dev::fingerprint(&self.n),
        })
    }

    /// When this is (the private half of) a development key shipped in `keys/dev/`, the
    /// warning to log.
    pub fn development_key(&self) -> Option<&'static str> {
        development_warning(&dev::fingerprint(&self.n))
    }

    /// The public half as an RFC 7517 JWK for RS256 with `kid`.
    pub fn jwk(&self, kid: &str) -> serde_json::Value {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64.encode(&self.n), "e": b64.encode(&self.e)})
    }
}

/// Loads an RSA private key with its public half (see [`SigningKey`]).
pub fn load_signing_key_pair(path: &Path) -> Result<SigningKey, KeyError> {
    let encoding = load_signing_key(path)?;
    let pair = KeyPair::from_der(encoding.as_bytes()).map_err(|e| not_rsa(path, &e))?;
    let public = pair.public_key();
    Ok(SigningKey {
        n: public.modulus().big_endian_without_leading_zero().to_vec(),
        e: public.exponent().big_endian_without_leading_zero().to_vec(),
        encoding,
    })
}

/// A verification key from the big-endian RSA components `n` and `e` (a JWK's), with `kid`;
/// `origin` names where it came from. Refuses moduli under [`MIN_RSA_BITS`].
pub(crate) fn rsa_verify_key(
    n: &[u8],
    e: &[u8],
    kid: Option<String>,
    origin: &Path,
) -> Result<VerifyKey, KeyError> {
    let bits = check_size(n, origin)?;
    let parsed = parse_for_every_algorithm(n, e).ok_or_else(|| not_rsa(origin, &REFUSED))?;
    Ok(VerifyKey {
        kid,
        source: origin.to_owned(),
        bits,
        parsed,
        fingerprint: dev::fingerprint(n),
    })
}

/// Loads the RSA keys of a JWKS file (`{"keys": [...]}`); any other key type is refused.
pub fn load_jwks(path: &Path) -> Result<Vec<VerifyKey>, KeyError> {
    jwks_from_json(&read(path)?, path)
}

/// Parses JWKS `text` as [`load_jwks`] does; `path` names its origin in errors.
pub fn jwks_from_json(text: &str, path: &Path) -> Result<Vec<VerifyKey>, KeyError> {
    // Nothing to keep: the file is named, and it is not a JWKS document.
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(text).map_err(|_| KeyError::NotPem {
            path: path.to_owned(),
        })?;
    if set.keys.is_empty() {
        return Err(not_rsa(path, &"the JWKS holds no key"));
    }
    set.keys
        .iter()
        .map(|jwk| {
            let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
                return Err(not_rsa(path, &"a key that is not RSA"));
            };
            use base64::Engine;
            let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|e| not_rsa(path, &e))?;
            let bits = check_size(&n, path)?;
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&rsa.e)
                .map_err(|e| not_rsa(path, &e))?;
            let parsed =
                parse_for_every_algorithm(&n, &e).ok_or_else(|| not_rsa(path, &REFUSED))?;
            Ok(VerifyKey {
                kid: jwk.common.key_id.clone(),
                source: path.to_owned(),
                bits,
                parsed,
                fingerprint: dev::fingerprint(&n),
            })
        })
        .collect()
}

/// A freshly generated RSA key pair, PEM encoded.
pub struct GeneratedPair {
    /// PKCS#8 `PRIVATE KEY`.
    pub private_pem: String,
    /// SPKI `PUBLIC KEY`.
    pub public_pem: String,
}

/// Generates an RSA key pair of `bits` (2048, 3072 or 4096).
pub fn generate_rsa(bits: usize) -> Result<GeneratedPair, KeyError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(KeyError::UnsupportedSize(bits)),
    };
    // Nothing to keep here and below: aws-lc's error is `Unspecified`.
    let pair = KeyPair::generate(size).map_err(|_| KeyError::Generate)?;
    // Nothing to keep: `Unspecified`, as above.
    let private = pair.as_der().map_err(|_| KeyError::Generate)?;
    // Nothing to keep: `Unspecified`, as above.
    let public = pair.public_key().as_der().map_err(|_| KeyError::Generate)?;
    Ok(GeneratedPair {
        private_pem: pem::encode(&pem::Pem::new("PRIVATE KEY", private.as_ref().to_vec())),
        public_pem: pem::encode(&pem::Pem::new("PUBLIC KEY", public.as_ref().to_vec())),
    })
}

/// Writes a new pair as `DIR/NAME_private.pem` (mode 0600) and `DIR/NAME_public.pem`.
/// Refuses to overwrite either file unless `force`. Returns the two paths.
pub fn write_pair(
    dir: &Path,
    name: &str,
    bits: usize,
    force: bool,
) -> std::io::Result<(PathBuf, PathBuf)> {
    use std::io::Write;
    let private = dir.join(format!("{name}_private.pem"));
    let public = dir.join(format!("{name}_public.pem"));
    for p in [&private, &public] {
        if p.exists() && !force {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists; pass --force to overwrite", p.display()),
            ));
        }
    }
    let pair = generate_rsa(bits).map_err(|e| match e {
        KeyError::UnsupportedSize(_) => std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        _ => std::io::Error::other(e),
    })?;
    std::fs::create_dir_all(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&private)?
        .write_all(pair.private_pem.as_bytes())?;
    #[cfg(unix)]
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    std::fs::write(&public, pair.public_pem)?;
    Ok((private, public))
}

fn read(path: &Path) -> Result<String, KeyError> {
    crate::fs::read_small_file(path).map_err(|source| KeyError::Read {
        path: path.to_owned(),
        source,
    })
}

fn first_pem(path: &Path, text: &str) -> Result<pem::Pem, KeyError> {
    pem::parse_many(text)
        .ok()
        .and_then(|blocks| blocks.into_iter().next())
        .ok_or_else(|| KeyError::NotPem {
            path: path.to_owned(),
        })
}

mod dev;

#[cfg(test)]
mod tests;
