use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn generated_pair_round_trips_through_the_loaders() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_rsa(2048).unwrap();
    let public = write(dir.path(), "pub.pem", &pair.public_pem);
    let private = write(dir.path(), "priv.pem", &pair.private_pem);
    let key = load_verify_key(&public, None).unwrap();
    assert_eq!(key.bits, 2048);
    load_signing_key(&private).unwrap();
}

#[test]
fn private_key_is_refused_where_a_public_key_belongs() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_rsa(2048).unwrap();
    let private = write(dir.path(), "priv.pem", &pair.private_pem);
    let err = load_verify_key(&private, None).unwrap_err();
    assert!(matches!(err, KeyError::WrongKind { .. }), "{err}");
    assert!(err.to_string().contains("priv.pem"));
}

#[test]
fn non_pem_and_missing_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write(dir.path(), "junk.pem", "hello");
    assert!(matches!(
        load_verify_key(&junk, None),
        Err(KeyError::NotPem { .. })
    ));
    let missing = dir.path().join("missing.pem");
    let err = load_verify_key(&missing, None).unwrap_err();
    assert!(err.to_string().contains("missing.pem"));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[track_caller]
fn assert_too_small(result: Result<impl std::fmt::Debug, KeyError>, name: &str, want: usize) {
    match result {
        Err(err @ KeyError::TooSmall { bits, .. }) => {
            assert_eq!(bits, want, "{name}: {err}");
            assert!(err.to_string().contains(name), "{err}");
            assert!(err.to_string().contains(&format!("{want}-bit")), "{err}");
        }
        other => panic!("{name}: expected TooSmall({want}), got {other:?}"),
    }
}

/// A 2041 to 2047-bit modulus fills 256 bytes; counted in whole bytes it passed as 2048 bits
/// (tests/fixtures/make-fixtures.sh made these keys with `openssl genrsa 2047` and `2041`).
#[test]
fn keys_a_few_bits_short_of_2048_are_refused_in_every_form() {
    for (name, bits) in [
        ("rsa2047_public.pem", 2047),
        ("rsa2047_public_pkcs1.pem", 2047),
        ("rsa2047_cert.pem", 2047),
        ("rsa2041_public.pem", 2041),
    ] {
        assert_too_small(load_verify_key(&fixture(name), None), name, bits);
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        assert_too_small(
            verify_key_from_pem(&text, Path::new(name), None),
            name,
            bits,
        );
    }
    for name in ["rsa2047_private.pem", "rsa2047_private_pkcs1.pem"] {
        assert_too_small(load_signing_key(&fixture(name)).map(|_| ()), name, 2047);
        assert_too_small(load_signing_key_pair(&fixture(name)), name, 2047);
    }
    let name = "rsa2047_jwks.json";
    assert_too_small(load_jwks(&fixture(name)), name, 2047);
}

#[test]
fn key_sizes_are_counted_in_bits_of_the_modulus() {
    assert_eq!(modulus_bits(&[]), 0);
    assert_eq!(modulus_bits(&[0, 0]), 0);
    assert_eq!(modulus_bits(&[1]), 1);
    assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
    assert_eq!(modulus_bits(&[0x7f, 0xff]), 15);
    let mut n = vec![0u8; 256];
    n[0] = 0x40;
    assert_eq!(modulus_bits(&n), 2047);
    let dir = tempfile::tempdir().unwrap();
    for size in [2048, 3072] {
        let pair = generate_rsa(size).unwrap();
        let public = write(dir.path(), "pub.pem", &pair.public_pem);
        let private = write(dir.path(), "priv.pem", &pair.private_pem);
        assert_eq!(load_verify_key(&public, None).unwrap().bits, size);
        let signing = load_signing_key_pair(&private).unwrap();
        assert_eq!(signing.verify_key("k").unwrap().bits, size);
    }
}

#[test]
fn every_shipped_development_key_is_known_and_generated_keys_are_not() {
    for (pem, why) in dev::DEV_KEYS {
        let key = verify_key_from_pem(pem, Path::new("dev.pem"), None).unwrap();
        assert_eq!(key.development_key(), Some(why));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for private in ["dauth", "issuer", "client_app"] {
        let pair =
            load_signing_key_pair(&root.join(format!("keys/dev/{private}_private.pem"))).unwrap();
        assert!(pair.development_key().is_some(), "{private}");
        assert!(pair.verify_key("k").unwrap().development_key().is_some());
    }
    let fresh = generate_rsa(2048).unwrap();
    let key = verify_key_from_pem(&fresh.public_pem, Path::new("fresh.pem"), None).unwrap();
    assert_eq!(key.development_key(), None);
}
