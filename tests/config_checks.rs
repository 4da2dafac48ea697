//! Configuration mistakes an operator makes, each refused by `check-config` and `serve` with
//! exit 64 and a message naming the key, in the configuration's words (no internal type
//! names), run as the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use support::binary::{Binary, run};
use support::config_text;

/// `check-config` on `text` written to `dir/bad.toml`: (exit code, stderr).
fn check(dir: &Path, text: &str) -> (i32, String) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    (code, err)
}

/// The test configuration (store under `dir`) with `extra` sections appended.
fn with(dir: &Path, dauth_extra: &str, extra: &str) -> String {
    config_text(&dir.join("store"), dauth_extra, extra)
}

/// Asserts that `text` is refused with exit 64, by a message naming `key` and containing
/// every one of `words`, and that `serve` refuses it too.
fn assert_refused(dir: &Path, text: &str, key: &str, words: &[&str]) {
    let (code, err) = check(dir, text);
    assert_eq!(code, 64, "{text}\n{err}");
    assert!(err.contains(&format!("bad.toml: {key}: ")), "{key}: {err}");
    for w in words {
        assert!(err.contains(w), "{key}: wants {w:?}: {err}");
    }
    let path = dir.join("bad.toml");
    let (code, _, err) = run(&["serve", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 64, "serve refuses too: {text}\n{err}");
}

#[test]
fn log_levels_outside_the_filter_syntax_are_refused_naming_log_level() {
    let dir = tempfile::tempdir().unwrap();
    for level in [
        "warning",
        "debugg",
        "info,,",
        ",info",
        "",
        " ",
        "dauth_proxy",
        "dauth_proxy=",
        "dauth_proxy=verbose",
        "dauth_proxy=debug,hyper=warning",
        "info,dauth_proxy",
        "3",
        "dauth_proxy=4",
        "[span]",
        "in fo",
        "info;debug",
        // tracing refuses some spaces around directives and reads others as part of a target.
        " info , hyper=warn ",
        "info ",
        " info",
        "info, hyper=warn",
        "INFO\n",
    ] {
        let text = with(dir.path(), "", &format!("[log]\nlevel = {level:?}\n"));
        assert_refused(dir.path(), &text, "log.level", &["trace, debug, info"]);
    }
}

#[test]
fn log_levels_in_the_filter_syntax_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for level in [
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "off",
        "INFO",
        "Warn",
        "dauth_proxy=debug,hyper=warn",
        "info,dauth_proxy::server=trace",
        "info,[request]=debug",
        "info,dauth_proxy[conn{peer}]=debug",
    ] {
        let text = with(dir.path(), "", &format!("[log]\nlevel = {level:?}\n"));
        let (code, err) = check(dir.path(), &text);
        assert_eq!(code, 0, "{level:?}: {err}");
    }
}

#[test]
fn an_uppercase_level_still_logs_the_listening_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dauth.toml");
    std::fs::write(&path, with(dir.path(), "", "[log]\nlevel = \"INFO\"\n")).unwrap();
    // Binary::spawn_with_log waits for the listening line and panics without it.
    let gw = Binary::spawn_with_log(None, &path);
    assert_eq!(gw.terminate().code(), Some(0));
}

/// The trusted test public key's path, as a TOML string.
fn key() -> String {
    format!(
        "{:?}",
        support::keys()
            .dir
            .join("trusted_public.pem")
            .display()
            .to_string()
    )
}

#[test]
fn unknown_fields_inside_key_tables_are_refused_in_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let k = key();
    let bearer = |entry: &str| {
        format!(
            "[[bearer.issuers]]\nissuer = \"https://idp.example\"\naudience = \"a\"\npublic_keys = [{entry}]\n"
        )
    };
    let client = |entry: &str| {
        format!("[[clients]]\nclient_id = \"svc\"\nname = \"svc\"\npublic_keys = [{entry}]\n")
    };
    let typo = format!("{{ path = {k}, kd = \"k1\" }}");
    let no_path = format!("{{ pth = {k} }}");
    let cases = [
        (
            format!("[dauth]\npublic_keys = [{typo}]\n[store]\npath = \"s\"\n"),
            "dauth.public_keys[0].kd",
            "unknown field `kd`",
        ),
        (
            with(dir.path(), "", &bearer(&typo)),
            "bearer.issuers[0].public_keys[0].kd",
            "unknown field `kd`",
        ),
        (
            with(dir.path(), "", &client(&format!("{k}, {typo}"))),
            "clients[0].public_keys[1].kd",
            "unknown field `kd`",
        ),
        (
            format!("[dauth]\npublic_keys = [{no_path}]\n"),
            "dauth.public_keys[0].pth",
            "unknown field `pth`, expected `path` or `kid`",
        ),
        (
            with(dir.path(), "", &bearer("{ kid = \"k1\" }")),
            "bearer.issuers[0].public_keys[0]",
            "missing field `path`",
        ),
        (
            with(dir.path(), "", &client("42")),
            "clients[0].public_keys[0]",
            "a key file path",
        ),
    ];
    for (text, key, words) in cases {
        assert_refused(dir.path(), &text, key, &[words]);
        let (_, err) = check(dir.path(), &text);
        for internal in ["RawKey", "untagged", "Raw"] {
            assert!(!err.contains(internal), "{key}: names {internal}: {err}");
        }
    }
}

#[test]
fn unknown_fields_and_wrong_types_are_refused_in_the_configs_words_in_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let base = |extra: &str| with(dir.path(), "", extra);
    let cases = [
        (base("[log]\nlevle = \"info\"\n"), "log.levle"),
        (
            base("").replace("[store]\n", "[store]\ncache = 1\n"),
            "store.cache",
        ),
        (base("[obp]\nmax_rows = 1\n"), "obp.max_rows"),
        (base("[cache]\ntoken = 1\n"), "cache.token"),
        (base("[limits]\nper_ip = 1\n"), "limits.per_ip"),
        (base("[internal]\nnetwork = []\n"), "internal.network"),
        (base("[bearer]\nleeway = 1\n"), "bearer.leeway"),
        (
            base("[accounts]\nadmin_email = []\n"),
            "accounts.admin_email",
        ),
        (
            base(
                "[[accounts.login_clients]]\nclient_id = \"a\"\nclient_secret = \"b\"\nsecret = \"c\"\n",
            ),
            "accounts.login_clients[0].secret",
        ),
        (
            base("[mail]\nsmtp_host = \"h\"\nfrom = \"a@b.example\"\nport = 25\n"),
            "mail.port",
        ),
        (
            base("[[routes]]\nprefix = \"/a/\"\nupstream = \"http://127.0.0.1:1\"\nstrip = true\n"),
            "routes[0].strip",
        ),
        (
            base("").replace("[server]\n", "[server]\nlisten2 = 1\n"),
            "server.listen2",
        ),
        (
            base("").replace("[dauth]\n", "[dauth]\nkeys = []\n"),
            "dauth.keys",
        ),
        (base("[mail]\nsmtp_host = \"h\"\n"), "mail"),
        (format!("log = \"info\"\n{}", base("")), "log"),
        (format!("bogus = 1\n{}", base("")), "bogus"),
        (
            base("[[routes]]\nprefix = \"/a/\"\nupstream = 5\n"),
            "routes[0].upstream",
        ),
        (format!("routes = 5\n{}", base("")), "routes"),
        (base("[[routes]]\nprefix = \"/a/\"\n"), "routes[0]"),
    ];
    for (text, key) in cases {
        let (code, err) = check(dir.path(), &text);
        assert_eq!(code, 64, "{key}: {text}\n{err}");
        assert!(err.contains(&format!("bad.toml: {key}: ")), "{key}: {err}");
        assert!(
            !err.contains("Raw") && !err.contains("struct "),
            "{key}: {err}"
        );
    }
}

#[test]
fn each_check_names_the_key_it_checks() {
    let dir = tempfile::tempdir().unwrap();
    let tls = support::tls::TestCert::new();
    let (cert, tls_key) = (tls.path("cert.pem"), tls.path("key.pem"));
    let other_key = support::keys()
        .dir
        .join("trusted_private.pem")
        .display()
        .to_string();
    let server = |lines: &str| {
        with(dir.path(), "", "").replace("[server]\n", &format!("[server]\n{lines}\n"))
    };
    let issuer = |ttl: &str| {
        with(
            dir.path(),
            "",
            &format!(
                "[issuer]\nurl = \"http://127.0.0.1:8080\"\nprivate_key = {other_key:?}\nkid = \"k\"\n{ttl}\n"
            ),
        )
    };
    let bearer = |issuer: &str, audience: &str| {
        with(
            dir.path(),
            "",
            &format!(
                "[[bearer.issuers]]\nissuer = {issuer:?}\naudience = {audience:?}\npublic_keys = [{}]\n",
                key()
            ),
        )
    };
    let mail = |lines: &str| {
        with(
            dir.path(),
            "",
            &format!("[mail]\nsmtp_host = \"h\"\nfrom = \"a@b.example\"\n{lines}\n"),
        )
    };
    let cases = [
        (issuer("refresh_ttl_secs = 0"), "issuer.refresh_ttl_secs"),
        (issuer("access_ttl_secs = 0"), "issuer.access_ttl_secs"),
        (
            server(&format!(
                "tls_cert = {cert:?}\ntls_key = \"/nonexistent/key.pem\""
            )),
            "server.tls_key",
        ),
        (
            server(&format!(
                "tls_cert = \"/nonexistent/cert.pem\"\ntls_key = {tls_key:?}"
            )),
            "server.tls_cert",
        ),
        // A key that is not the certificate's: the key is what to change.
        (
            server(&format!("tls_cert = {cert:?}\ntls_key = {other_key:?}")),
            "server.tls_key",
        ),
        // One of the pair without the other names the one that is missing.
        (server(&format!("tls_cert = {cert:?}")), "server.tls_key"),
        (server(&format!("tls_key = {tls_key:?}")), "server.tls_cert"),
        (
            bearer("https://idp.example", " "),
            "bearer.issuers[0].audience",
        ),
        (bearer("", "a"), "bearer.issuers[0].issuer"),
        (mail("username = \"u\""), "mail.password"),
        (mail("password = \"p\""), "mail.username"),
    ];
    for (text, key) in cases {
        assert_refused(dir.path(), &text, key, &[]);
    }
}

#[test]
fn check_config_refuses_a_listen_address_in_use_without_holding_it() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let text = with(dir.path(), "", "")
        .replace("listen = \"127.0.0.1:0\"", &format!("listen = \"{addr}\""));
    let (code, err) = check(dir.path(), &text);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("bad.toml: server.listen: "), "{err}");
    assert!(err.contains(&addr.to_string()), "{err}");
    // An address the machine does not have.
    let text =
        with(dir.path(), "", "").replace("listen = \"127.0.0.1:0\"", "listen = \"192.0.2.1:8080\"");
    let (code, err) = check(dir.path(), &text);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("bad.toml: server.listen: "), "{err}");
    // Free again: ok, and check-config did not keep it.
    drop(taken);
    let text = with(dir.path(), "", "")
        .replace("listen = \"127.0.0.1:0\"", &format!("listen = \"{addr}\""));
    let (code, err) = check(dir.path(), &text);
    assert_eq!(code, 0, "{err}");
    std::net::TcpListener::bind(addr).unwrap();
}

#[test]
fn check_config_refuses_a_store_directory_it_cannot_write_and_leaves_nothing_behind() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config_for = |store: &Path| config_text(store, "", "");
    // A file where the directory should be, and a directory under it.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for store in [file.clone(), file.join("store")] {
        let (code, err) = check(dir.path(), &config_for(&store));
        assert_eq!(code, 64, "{}: {err}", store.display());
        assert!(err.contains("bad.toml: store.path: "), "{err}");
        assert!(err.contains(&store.display().to_string()), "{err}");
    }
    // A read-only parent (root ignores permissions, so only when they hold).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let writable_anyway = std::fs::write(ro.join("probe"), "").is_ok();
    let _ = std::fs::remove_file(ro.join("probe"));
    for store in [ro.join("store"), ro.clone()] {
        let (code, err) = check(dir.path(), &config_for(&store));
        if writable_anyway {
            assert_eq!(code, 0, "{err}");
        } else {
            assert_eq!(code, 64, "{}: {err}", store.display());
            assert!(err.contains("bad.toml: store.path: "), "{err}");
        }
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(
        std::fs::read_dir(&ro).unwrap().count(),
        0,
        "left behind in ro/"
    );
    // A store that does not exist yet: ok, and not created.
    let fresh = dir.path().join("new/deeper/store");
    let (code, err) = check(dir.path(), &config_for(&fresh));
    assert_eq!(code, 0, "{err}");
    assert!(
        !dir.path().join("new").exists(),
        "check-config created new/"
    );
    // An existing store directory: ok, and nothing added to it.
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    let (code, err) = check(dir.path(), &config_for(&existing));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 0);
}

#[test]
fn check_config_does_not_lock_a_store_a_gateway_is_using() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dauth.toml");
    std::fs::write(&path, with(dir.path(), "", "")).unwrap();
    let gw = Binary::spawn(&path);
    let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(gw.terminate().code(), Some(0));
}

#[test]
fn check_config_file_only_skips_the_listen_and_store_checks() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let text = config_text(&file.join("store"), "", "").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"{}\"", taken.local_addr().unwrap()),
    );
    let path = dir.path().join("other-machine.toml");
    std::fs::write(&path, text).unwrap();
    let (code, out, err) = run(&[
        "check-config",
        "--file-only",
        "--config",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": ok"), "{out}");
    let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 64, "{err}");
}

/// Runs the binary with `args` in `cwd`, with `DAUTH_CONFIG` set to `env` or unset: (exit
/// code, stdout, stderr).
fn run_in(cwd: &Path, env: Option<&Path>, args: &[&str]) -> (i32, String, String) {
    let mut command = std::process::Command::new(support::binary::exe());
    command
        .args(args)
        .current_dir(cwd)
        .env("DAUTH_ADMIN_LISTEN", "127.0.0.1:0")
        .env_remove("DAUTH_CONFIG");
    if let Some(path) = env {
        command.env("DAUTH_CONFIG", path);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_default_config_says_where_it_looked_and_how_to_name_another() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    for args in [
        &["check-config"][..],
        &["serve"],
        &["admin", "client", "list"],
    ] {
        let (code, _, err) = run_in(&cwd, None, args);
        assert_eq!(code, 64, "{args:?}: {err}");
        let looked = cwd.join("config/dauth.toml").display().to_string();
        assert!(err.contains(&looked), "{args:?}: {err}");
        assert!(
            err.contains("--config") && err.contains("DAUTH_CONFIG"),
            "{err}"
        );
    }
    // A named file that is missing says where it looked too.
    let (code, _, err) = run_in(&cwd, None, &["check-config", "--config", "nope.toml"]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains(&cwd.join("nope.toml").display().to_string()),
        "{err}"
    );
}

/// A configuration in `dir/conf/` whose key and store are given relative to it.
fn relative_config(dir: &Path) -> std::path::PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(conf.join("keys")).unwrap();
    std::fs::copy(
        support::keys().dir.join("trusted_public.pem"),
        conf.join("keys/dauth_public.pem"),
    )
    .unwrap();
    std::fs::copy(
        support::keys().dir.join("trusted_private.pem"),
        conf.join("keys/issuer.pem"),
    )
    .unwrap();
    let tls = support::tls::TestCert::new();
    std::fs::write(conf.join("keys/cert.pem"), &tls.cert_pem).unwrap();
    std::fs::write(conf.join("keys/key.pem"), &tls.key_pem).unwrap();
    let pair =
        dauth_proxy::auth::keys::load_signing_key_pair(&conf.join("keys/issuer.pem")).unwrap();
    std::fs::write(
        conf.join("keys/svc.json"),
        serde_json::json!({"keys": [pair.jwk("svc-1")]}).to_string(),
    )
    .unwrap();
    std::fs::write(
        conf.join("keys/airnode.key"),
        "airnode-secret-of-the-test\n",
    )
    .unwrap();
    let path = conf.join("gw.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"keys/cert.pem\"\ntls_key = \"keys/key.pem\"\n\
         [store]\npath = \"data/store\"\n\
         [dauth]\npublic_keys = [\"keys/dauth_public.pem\", { path = \"./keys/dauth_public.pem\", kid = \"k\" }]\n\
         [issuer]\nurl = \"http://127.0.0.1:8080\"\nprivate_key = \"keys/issuer.pem\"\nkid = \"k\"\n\
         [[clients]]\nclient_id = \"svc\"\nname = \"svc\"\njwks_file = \"keys/svc.json\"\n\
         [[airnode]]\nname = \"a\"\napi_key_file = \"keys/airnode.key\"\n\
         allowed_hosts = [\"127.0.0.1/32\"]\nchains = { \"1\" = \"ETHEREUM\" }\n\
         [[routes]]\nprefix = \"/b/\"\nupstream = \"https://127.0.0.1:9\"\nupstream_ca = \"keys/cert.pem\"\n",
    )
    .unwrap();
    path
}

#[test]
fn dauth_config_names_the_file_for_every_subcommand_and_config_wins_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = relative_config(dir.path());
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, out, err) = run_in(elsewhere.path(), Some(&path), &["check-config"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("gw.toml: ok"), "{out}");
    let (code, out, err) = run_in(elsewhere.path(), Some(&path), &["admin", "client", "list"]);
    assert_eq!(code, 0, "{out}{err}");
    // --config wins over the environment.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"nowhere\"\n").unwrap();
    let (code, _, err) = run_in(
        elsewhere.path(),
        Some(&path),
        &["check-config", "--config", bad.to_str().unwrap()],
    );
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("bad.toml: server.listen"), "{err}");
    let (code, _, err) = run_in(elsewhere.path(), Some(&bad), &["serve"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("bad.toml: server.listen"), "{err}");
}

#[test]
fn relative_paths_in_a_config_are_taken_from_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = relative_config(dir.path());
    // From an unrelated working directory, by absolute and by relative --config.
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, _, err) = run_in(
        elsewhere.path(),
        None,
        &["check-config", "--config", path.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_in(
        dir.path(),
        None,
        &["check-config", "--config", "conf/gw.toml"],
    );
    assert_eq!(code, 0, "{err}");
    // A key that is not there is reported at the path it was looked for.
    let missing = dir.path().join("conf/missing.toml");
    std::fs::write(&missing, "[dauth]\npublic_keys = [\"keys/none.pem\"]\n").unwrap();
    let (code, _, err) = run_in(
        elsewhere.path(),
        None,
        &["check-config", "--config", missing.to_str().unwrap()],
    );
    assert_eq!(code, 64, "{err}");
    let looked = dir.path().join("conf").join("keys/none.pem");
    assert!(err.contains(&looked.display().to_string()), "{err}");
    // A key file that cannot be read is not the configuration file: no hint about --config.
    assert!(!err.contains("DAUTH_CONFIG"), "{err}");
    // The gateway's store lands beside the config, not in the working directory.
    let gw = support::binary::Binary::spawn_in(elsewhere.path(), &path);
    assert!(dir.path().join("conf/data/store").is_dir());
    assert!(!elsewhere.path().join("data").exists());
    assert_eq!(gw.terminate().code(), Some(0));
}

#[test]
fn the_shipped_configs_work_from_any_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let elsewhere = tempfile::tempdir().unwrap();
    for file in ["config/dauth.toml", "config/dev.toml"] {
        let path = root.join(file);
        let (code, _, err) = run_in(
            elsewhere.path(),
            None,
            &[
                "check-config",
                "--file-only",
                "--config",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{file}: {err}");
    }
}

#[test]
fn each_configured_development_key_is_warned_about_once_wherever_it_was_copied() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| {
        let to = dir.path().join(to);
        std::fs::copy(root.join(from), &to).unwrap();
        to.display().to_string()
    };
    let dauth = copy("keys/dev/dauth_public.pem", "mine.pem");
    let issuer = copy("keys/dev/issuer_private.pem", "signing.pem");
    // The client's development key in another encoding (PKCS#1): compared by key, not bytes.
    let client = dir.path().join("client_pkcs1.pem");
    let status = std::process::Command::new("openssl")
        .args(["rsa", "-pubin", "-RSAPublicKey_out", "-in"])
        .arg(root.join("keys/dev/client_app_public.pem"))
        .arg("-out")
        .arg(&client)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // A JWKS holding the issuer's development key.
    let pair =
        dauth_proxy::auth::keys::load_signing_key_pair(&root.join("keys/dev/issuer_private.pem"))
            .unwrap();
    let jwks = dir.path().join("idp.json");
    std::fs::write(
        &jwks,
        serde_json::json!({"keys": [pair.jwk("idp-1")]}).to_string(),
    )
    .unwrap();
    let text = config_text(&dir.path().join("store"), "", "")
        .replace("public_keys = [", &format!("public_keys = [{dauth:?}, "))
        + &format!(
            "[issuer]\nurl = \"http://127.0.0.1:8080\"\nprivate_key = {issuer:?}\nkid = \"k\"\n\
             [[bearer.issuers]]\nissuer = \"https://idp.example\"\naudience = \"a\"\njwks_file = {:?}\n\
             [[clients]]\nclient_id = \"svc\"\nname = \"svc\"\npublic_keys = [{}, {:?}]\n",
            jwks.display().to_string(),
            key(),
            client.display().to_string(),
        );
    let path = dir.path().join("dauth.toml");
    std::fs::write(&path, &text).unwrap();
    let expected = [
        "dauth.public_keys[0]",
        "issuer.private_key",
        "bearer.issuers[0].jwks_file",
        "clients[0].public_keys[1]",
    ];
    let gw = Binary::spawn(&path);
    let warned: Vec<&String> = gw
        .startup
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("DEVELOPMENT KEY"))
        .collect();
    assert_eq!(warned.len(), expected.len(), "{:#?}", gw.startup);
    for key in expected {
        assert_eq!(
            warned
                .iter()
                .filter(|l| l.contains(&format!("key=\"{key}\"")))
                .count(),
            1,
            "{key}: {warned:#?}"
        );
    }
    assert_eq!(gw.terminate().code(), Some(0));
    // check-config says so too, and still succeeds.
    let (code, out, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": ok"));
    assert_eq!(err.matches("DEVELOPMENT KEY").count(), 4, "{err}");
    // The test keys are nobody's development keys.
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, config_text(&dir.path().join("store"), "", "")).unwrap();
    let (code, _, err) = run(&["check-config", "--config", plain.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("DEVELOPMENT KEY"), "{err}");
}
