use super::*;

fn keyfile(dir: &Path) -> String {
    let p = dir.join("k.pem");
    if !p.exists() {
        std::fs::write(
            &p,
            crate::auth::keys::generate_rsa(2048).unwrap().public_pem,
        )
        .unwrap();
    }
    p.display().to_string()
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("test.toml"))
}

fn err_key(text: &str) -> String {
    let e = parse(text).unwrap_err();
    assert!(e.to_string().starts_with("test.toml: "), "{e}");
    e.key
}

#[test]
fn defaults_are_secure_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let c = parse(&format!(
        "[dauth]\npublic_keys = [{:?}]",
        keyfile(dir.path())
    ))
    .unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080".parse().unwrap());
    assert!(c.server.trusted_proxies.is_empty());
    assert!(c.dauth.enabled && c.dauth.replay_protection && c.dauth.strict_addresses);
    assert!(c.dauth.allowed_hosts.contains("127.0.0.1".parse().unwrap()));
    assert!(c.dauth.allowed_hosts.contains("::1".parse().unwrap()));
    assert!(!c.dauth.allowed_hosts.contains("10.0.0.1".parse().unwrap()));
    assert_eq!(c.dauth.max_token_age_secs, 300);
    assert_eq!(c.dauth.clock_skew_secs, 60);
}

#[test]
fn unknown_keys_are_named() {
    let e = parse("[server]\nlisten = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap_err();
    assert_eq!(e.key, "server.listen_port");
    assert!(e.to_string().contains("listen_port"), "{e}");
    assert!(
        parse("[serverr]\n")
            .unwrap_err()
            .to_string()
            .contains("serverr")
    );
}

#[test]
fn bad_values_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let k = keyfile(dir.path());
    assert_eq!(err_key("[server]\nlisten = \"localhost\""), "server.listen");
    assert_eq!(
        err_key("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"bogus\"]"),
        "server.trusted_proxies[1]"
    );
    assert_eq!(
        err_key(&format!(
            "[dauth]\npublic_keys=[{k:?}]\nallowed_hosts = [\"1.2.3.4/33\"]"
        )),
        "dauth.allowed_hosts[0]"
    );
    assert_eq!(
        err_key(&format!(
            "[dauth]\npublic_keys=[{k:?}]\nnetworks = [\"A B\"]"
        )),
        "dauth.networks[0]"
    );
    assert_eq!(err_key("[dauth]\nenabled = \"yes\""), "dauth.enabled");
    assert_eq!(err_key("[log]\nformat = \"xml\""), "log.format");
}

#[test]
fn key_files_are_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(err_key("[dauth]\npublic_keys = []"), "dauth.public_keys");
    let missing = dir.path().join("missing.pem").display().to_string();
    let e = parse(&format!("[dauth]\npublic_keys = [{missing:?}]")).unwrap_err();
    assert_eq!(e.key, "dauth.public_keys[0]");
    assert!(e.to_string().contains("missing.pem"), "{e}");
    let private = dir.path().join("priv.pem");
    std::fs::write(
        &private,
        crate::auth::keys::generate_rsa(2048).unwrap().private_pem,
    )
    .unwrap();
    let e = parse(&format!(
        "[dauth]\npublic_keys = [{{ path = {:?}, kid = \"x\" }}]",
        private.display().to_string()
    ))
    .unwrap_err();
    assert!(matches!(e.problem, Problem::Key(_)), "{e}");
}

#[test]
fn disabled_dauth_needs_no_keys() {
    let c = parse("[dauth]\nenabled = false").unwrap();
    assert!(!c.dauth.enabled);
}

#[test]
fn replay_protection_needs_a_bounded_age() {
    let dir = tempfile::tempdir().unwrap();
    let k = keyfile(dir.path());
    assert_eq!(
        err_key(&format!(
            "[dauth]\npublic_keys=[{k:?}]\nmax_token_age_secs = 0"
        )),
        "dauth.replay_protection"
    );
    parse(&format!(
        "[dauth]\npublic_keys=[{k:?}]\nmax_token_age_secs = 0\nreplay_protection = false"
    ))
    .unwrap();
}

#[test]
fn shipped_config_is_valid() {
    // Relative paths in the shipped file are relative to the repository root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(DEFAULT_PATH)).unwrap();
    let text = text.replace("\"keys/", &format!("\"{}/keys/", root.display()));
    parse(&text).unwrap();
}
