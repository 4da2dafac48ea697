use super::*;
use crate::fs::{MAX_FILE_BYTES, read_small_file};
use std::time::Duration;

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
    for len in ["0", "129"] {
        assert_eq!(
            err_key(&format!(
                "[dauth]\nenabled = false\n[limits]\nipv6_prefix_len = {len}"
            )),
            "limits.ipv6_prefix_len"
        );
    }
    assert_eq!(err_key("[log]\nformat = \"xml\""), "log.format");
    assert_eq!(
        err_key("[log]\nlevel = \"dauth_proxy=verbose\""),
        "log.level"
    );
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
fn only_small_regular_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
    let e = read_small_file(&big).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    let e = read_small_file(Path::new("/dev/zero")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let e = read_small_file(dir.path()).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
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
    // Relative paths in the shipped file are relative to its directory, config/.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(DEFAULT_PATH);
    let text = std::fs::read_to_string(&path).unwrap();
    let c = Config::from_toml(&text, &path).unwrap();
    assert_eq!(c.store.path, root.join("config/../data/dauth-store"));
    assert_eq!(c.source, path);
}

#[test]
fn routes_are_checked_and_named() {
    let ok = "[dauth]\nenabled = false\n[[routes]]\nprefix = \"/a/\"\nupstream = \"http://127.0.0.1:9000/base/\"\n";
    let c = parse(ok).unwrap();
    assert_eq!(c.routes[0].auth, AuthMode::Required);
    assert_eq!(c.routes[0].upstream.base_path, "/base");
    assert_eq!(c.routes[0].timeout, Duration::from_secs(30));
    let route = |extra: &str| {
        format!(
            "[dauth]\nenabled = false\n[[routes]]\nprefix = \"/a/\"\nupstream = \"http://u\"\n{extra}"
        )
    };
    assert_eq!(err_key(&route("auth = \"sometimes\"")), "routes[0].auth");
    assert_eq!(
        err_key(&route("timeout_secs = 0")),
        "routes[0].timeout_secs"
    );
    assert_eq!(
        err_key(&route("upstream_ca = \"/nonexistent.pem\"")),
        "routes[0].upstream_ca"
    );
    assert_eq!(err_key(&route("bogus = 1")), "routes[0].bogus");
    for bad in ["ftp://u", "u:80", "http://u/?q=1", "http://user:pw@u"] {
        let text =
            format!("[dauth]\nenabled = false\n[[routes]]\nprefix = \"/a/\"\nupstream = {bad:?}\n");
        assert_eq!(err_key(&text), "routes[0].upstream", "{bad}");
    }
    let twice = format!(
        "{}[[routes]]\nprefix = \"/a/\"\nupstream = \"http://v\"\n",
        route("")
    );
    assert_eq!(err_key(&twice), "routes[1].prefix");
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[[routes]]\nprefix = \"a/\"\nupstream = \"http://u\""),
        "routes[0].prefix"
    );
}

/// A prefix or base path that is not canonical could never match (requests are matched on
/// their canonical path) or would join into a path the upstream reads differently.
#[test]
fn route_prefixes_and_base_paths_must_be_canonical() {
    let route = |prefix: &str, upstream: &str| {
        format!(
            "[dauth]\nenabled = false\n[[routes]]\nprefix = {prefix:?}\nupstream = {upstream:?}\n"
        )
    };
    for prefix in [
        "/%70rivate/",
        "/a/../b/",
        "/a//",
        "/a%2fb/",
        "/a%3b/",
        "/a%2a/",
        "/caf\u{e9}/",
    ] {
        assert_eq!(
            err_key(&route(prefix, "http://u")),
            "routes[0].prefix",
            "{prefix}"
        );
    }
    for upstream in [
        "http://u/a/../b",
        "http://u/%7euser",
        "http://u/a//b",
        "http://u/a%2fb",
    ] {
        assert_eq!(
            err_key(&route("/a/", upstream)),
            "routes[0].upstream",
            "{upstream}"
        );
    }
    for (prefix, upstream) in [
        ("/", "http://u"),
        ("/svc", "http://u/public/"),
        ("/a%2A/", "http://u/%2A"),
    ] {
        parse(&route(prefix, upstream)).unwrap_or_else(|e| panic!("{prefix} {upstream}: {e}"));
    }
    // Two prefixes that differ only in letter case would make one of them unreachable.
    let twice = format!(
        "{}[[routes]]\nprefix = \"/API/\"\nupstream = \"http://v\"\n",
        route("/api/", "http://u")
    );
    assert_eq!(err_key(&twice), "routes[1].prefix");
}

#[test]
fn a_stripped_prefix_without_a_trailing_slash_is_warned_about() {
    let route = |prefix: &str, strip: bool| {
        format!(
            "[dauth]\nenabled = false\n[[routes]]\nprefix = \"/ok/\"\nupstream = \"http://u\"\nstrip_prefix = true\n[[routes]]\nprefix = {prefix:?}\nupstream = \"http://u\"\nstrip_prefix = {strip}\n"
        )
    };
    let c = parse(&route("/svc", true)).unwrap();
    let warnings = c.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].0, "routes[1].prefix");
    assert!(warnings[0].1.contains("strip_prefix"), "{warnings:?}");
    assert!(parse(&route("/svc", false)).unwrap().warnings().is_empty());
    assert!(parse(&route("/svc/", true)).unwrap().warnings().is_empty());
}

#[test]
fn tls_files_are_checked_together() {
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\ntls_cert = \"c.pem\""),
        "server.tls_key"
    );
    assert_eq!(
        err_key(
            "[dauth]\nenabled = false\n[server]\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\""
        ),
        "server.tls_cert"
    );
    // A readable certificate with an unreadable key names the key.
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("c.pem");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&cert, made.cert.pem()).unwrap();
    assert_eq!(
        err_key(&format!(
            "[dauth]\nenabled = false\n[server]\ntls_cert = {:?}\ntls_key = \"/nonexistent/k.pem\"",
            cert.display().to_string()
        )),
        "server.tls_key"
    );
}

#[test]
fn each_token_lifetime_is_named() {
    let issuer = |ttl: &str| {
        format!(
            "[dauth]\nenabled = false\n[issuer]\nurl = \"http://127.0.0.1:8080\"\nprivate_key = \"keys/dev/issuer_private.pem\"\nkid = \"k\"\n{ttl}"
        )
    };
    assert!(parse(&issuer("")).is_ok());
    assert_eq!(
        err_key(&issuer("access_ttl_secs = 0")),
        "issuer.access_ttl_secs"
    );
    assert_eq!(
        err_key(&issuer("refresh_ttl_secs = 0")),
        "issuer.refresh_ttl_secs"
    );
}

#[test]
fn server_limits_must_be_positive() {
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\nmax_connections = 0"),
        "server.max_connections"
    );
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\nidle_timeout_secs = 0"),
        "server.idle_timeout_secs"
    );
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\nmax_header_bytes = 10"),
        "server.max_header_bytes"
    );
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\nbody_read_timeout_secs = 0"),
        "server.body_read_timeout_secs"
    );
    assert_eq!(
        err_key("[dauth]\nenabled = false\n[server]\nmax_concurrent_streams = 0"),
        "server.max_concurrent_streams"
    );
}

#[test]
fn the_body_read_timeout_defaults_to_the_idle_timeout() {
    let server = |lines: &str| {
        parse(&format!("[dauth]\nenabled = false\n[server]\n{lines}"))
            .unwrap()
            .server
    };
    let defaults = server("");
    assert_eq!(defaults.body_read_timeout, Duration::from_secs(60));
    assert_eq!(defaults.max_concurrent_streams, 100);
    assert_eq!(
        server("idle_timeout_secs = 7").body_read_timeout,
        Duration::from_secs(7)
    );
    let both = server("idle_timeout_secs = 7\nbody_read_timeout_secs = 3");
    assert_eq!(both.body_read_timeout, Duration::from_secs(3));
    assert_eq!(both.idle_timeout, Duration::from_secs(7));
}

#[test]
fn issuer_and_client_keys_are_named_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    let k = keyfile(dir.path());
    let off = "[dauth]\nenabled = false\n";
    let issuer = |keys: &str| {
        format!("{off}[[bearer.issuers]]\nissuer = \"https://idp\"\naudience = \"a\"\n{keys}")
    };
    let client = |keys: &str| {
        format!("{off}[[clients]]\nclient_id = \"c\"\nname = \"C\"\nscopes = []\n{keys}")
    };
    let missing = "public_keys = [\"/nonexistent/k.pem\"]";
    let both = format!("public_keys = [{k:?}]\njwks_file = \"j.json\"");
    assert!(parse(&issuer(&format!("public_keys = [{k:?}]"))).is_ok());
    assert_eq!(
        err_key(&issuer(missing)),
        "bearer.issuers[0].public_keys[0]"
    );
    assert_eq!(err_key(&issuer(&both)), "bearer.issuers[0].public_keys");
    assert_eq!(
        err_key(&issuer("jwks_file = \"/nonexistent/j.json\"")),
        "bearer.issuers[0].jwks_file"
    );
    assert!(parse(&client(&format!("public_keys = [{k:?}]"))).is_ok());
    assert_eq!(err_key(&client(missing)), "clients[0].public_keys[0]");
    assert_eq!(err_key(&client(&both)), "clients[0].public_keys");
    assert_eq!(err_key(&client("")), "clients[0].public_keys");
}

#[test]
fn admin_emails_are_normalised_as_registered_addresses_are() {
    let off = "[dauth]\nenabled = false\n[accounts]\n";
    let c = parse(&format!(
        "{off}admin_emails = [\" Boss@Example.COM \", \"'chief@example.com'\"]"
    ))
    .unwrap();
    assert_eq!(
        c.accounts.admin_emails,
        ["boss@example.com", "chief@example.com"]
    );
    for bad in ["x@", "@example.com", "two@@example.com", "a b@example.com"] {
        assert_eq!(
            err_key(&format!(
                "{off}admin_emails = [\"ok@example.com\", {bad:?}]"
            )),
            "accounts.admin_emails[1]",
            "{bad}"
        );
    }
}

#[test]
fn an_external_issuer_must_be_a_url_and_not_the_gateway_itself() {
    let dir = tempfile::tempdir().unwrap();
    let k = keyfile(dir.path());
    let private = dir.path().join("issuer.pem");
    std::fs::write(
        &private,
        crate::auth::keys::generate_rsa(2048).unwrap().private_pem,
    )
    .unwrap();
    let own = format!(
        "[dauth]\nenabled = false\n[issuer]\nurl = \"https://gw.example/auth/\"\nprivate_key = {:?}\nkid = \"k\"\n",
        private.display().to_string()
    );
    let entry = |iss: &str| {
        format!("[[bearer.issuers]]\nissuer = {iss:?}\naudience = \"a\"\npublic_keys = [{k:?}]\n")
    };
    assert!(parse(&format!("{own}{}", entry("https://idp.example"))).is_ok());
    assert!(parse(&format!("{own}{}", entry("https://gw.example/other"))).is_ok());
    for same in [
        "https://gw.example/auth",
        "https://gw.example/auth/",
        "HTTPS://GW.example/auth",
        "https://gw.example:443/auth",
        " https://gw.example/auth ",
    ] {
        assert_eq!(
            err_key(&format!("{own}{}", entry(same))),
            "bearer.issuers[0].issuer",
            "{same}"
        );
    }
    for not_a_url in [
        "local",
        "ETHEREUM",
        "urn:example:idp",
        "ftp://idp.example",
        "https://u@idp",
    ] {
        assert_eq!(
            err_key(&format!("{own}{}", entry(not_a_url))),
            "bearer.issuers[0].issuer",
            "{not_a_url}"
        );
    }
    let twice = format!(
        "{own}{}{}",
        entry("https://idp.example"),
        entry("https://IDP.example/")
    );
    assert_eq!(err_key(&twice), "bearer.issuers[1].issuer");
}
