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
