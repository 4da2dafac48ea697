//! The command line: `token`, `keygen` and `check-config`, run as the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::Value;
use support::binary::run;
use support::{CONTRACT_LOWER, keys};

fn decode_with_trusted(token: &str) -> Value {
    let mut v = Validation::new(Algorithm::RS256);
    v.required_spec_claims.clear();
    let key = DecodingKey::from_rsa_pem(keys().trusted.public_pem.as_bytes()).unwrap();
    decode::<Value>(token, &key, &v).unwrap().claims
}

#[test]
fn token_prints_a_signed_fresh_dauth_jwt() {
    let private = keys().dir.join("trusted_private.pem");
    let (code, out, err) = run(&[
        "token",
        "--private-key",
        private.to_str().unwrap(),
        "--contract",
        CONTRACT_LOWER,
        "--network",
        "ETHEREUM",
        "--consumer-key",
        "ck",
        "--msg-sender",
        CONTRACT_LOWER,
        "--ttl",
        "60",
    ]);
    assert_eq!(code, 0, "{err}");
    let claims = decode_with_trusted(out.trim());
    assert_eq!(claims["smart_contract_address"], CONTRACT_LOWER);
    assert_eq!(claims["network_name"], "ETHEREUM");
    assert_eq!(claims["consumer_key"], "ck");
    assert_eq!(claims["msg_sender"], CONTRACT_LOWER);
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 60);
    assert!((support::now() - iat).abs() < 30);
    assert!(claims["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(uuid::Uuid::parse_str(claims["request_id"].as_str().unwrap()).is_ok());

    // Two runs give two request ids.
    let (_, out2, _) = run(&[
        "token",
        "--private-key",
        private.to_str().unwrap(),
        "--contract",
        CONTRACT_LOWER,
        "--network",
        "ETHEREUM",
        "--consumer-key",
        "ck",
    ]);
    assert_ne!(
        decode_with_trusted(out2.trim())["request_id"],
        claims["request_id"]
    );
}

#[test]
fn token_refuses_non_rsa_algorithms_and_public_keys() {
    let private = keys().dir.join("trusted_private.pem");
    let (code, _, err) = run(&[
        "token",
        "--private-key",
        private.to_str().unwrap(),
        "--contract",
        "0x1",
        "--network",
        "N",
        "--consumer-key",
        "ck",
        "--alg",
        "HS256",
    ]);
    assert_eq!(code, 64);
    assert!(err.contains("--alg HS256"), "{err}");
    let public = keys().dir.join("trusted_public.pem");
    let (code, _, err) = run(&[
        "token",
        "--private-key",
        public.to_str().unwrap(),
        "--contract",
        "0x1",
        "--network",
        "N",
        "--consumer-key",
        "ck",
    ]);
    assert_eq!(code, 64);
    assert!(err.contains("trusted_public.pem"), "{err}");
}

/// `token` with `--private-key` of the trusted pair, `--network ETHEREUM` and
/// `--consumer-key ck` unless `args` gives them, and `args`.
fn token_with(args: &[&str]) -> (i32, String, String) {
    let private = keys().dir.join("trusted_private.pem");
    let mut all = vec!["token", "--private-key", private.to_str().unwrap()];
    for (flag, value) in [("--network", "ETHEREUM"), ("--consumer-key", "ck")] {
        if !args.contains(&flag) {
            all.extend([flag, value]);
        }
    }
    all.extend(args);
    let out = std::process::Command::new(support::binary::exe())
        .args(&all)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn token_refuses_claims_the_gateway_would_refuse_unless_unchecked() {
    let checksummed = support::CONTRACT;
    let bad_checksum = checksummed.replace("dA6", "Da6");
    let upper = format!("0x{}", &CONTRACT_LOWER[2..].to_ascii_uppercase());
    let long = "k".repeat(257);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--contract", "nonsense"], "--contract"),
        (vec!["--contract", "0x1"], "--contract"),
        (vec!["--contract", &CONTRACT_LOWER[2..]], "--contract"),
        (
            vec!["--contract", "0Xd8da6bf26964af9d7eed9e03e53415d37aa96045"],
            "--contract",
        ),
        (
            vec!["--contract", "0xd8da6bf26964af9d7eed9e03e53415d37aa9604"],
            "--contract",
        ),
        (
            vec!["--contract", "0xd8da6bf26964af9d7eed9e03e53415d37aa960455"],
            "--contract",
        ),
        (
            vec!["--contract", "0xg8da6bf26964af9d7eed9e03e53415d37aa96045"],
            "--contract",
        ),
        (
            vec!["--contract", " 0xd8da6bf26964af9d7eed9e03e53415d37aa96045"],
            "--contract",
        ),
        (vec!["--contract", &bad_checksum], "EIP-55"),
        (
            vec!["--contract", CONTRACT_LOWER, "--msg-sender", "0x2"],
            "--msg-sender",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--msg-sender", &bad_checksum],
            "--msg-sender",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--network", ""],
            "--network",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--network", "ETH EREUM"],
            "--network",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--network", "ÉTHER"],
            "--network",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--network", &long[..65]],
            "--network",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--consumer-key", ""],
            "--consumer-key",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--consumer-key", " "],
            "--consumer-key",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--consumer-key", "a\tb"],
            "--consumer-key",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--consumer-key", &long],
            "--consumer-key",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--request-id", &long],
            "--request-id",
        ),
        (
            vec!["--contract", CONTRACT_LOWER, "--request-id", ""],
            "--request-id",
        ),
    ];
    for (args, named) in &cases {
        let (code, out, err) = token_with(args);
        assert_eq!(code, 64, "{args:?} was accepted: {out}");
        assert!(out.is_empty(), "{args:?} printed {out}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(err.contains("--unchecked"), "{args:?}: {err}");
        // With --unchecked the same claims are signed as given, for testing the gateway.
        let mut unchecked = args.clone();
        unchecked.push("--unchecked");
        let (code, out, err) = token_with(&unchecked);
        assert_eq!(code, 0, "{unchecked:?}: {err}");
        assert!(decode_with_trusted(out.trim())["consumer_key"].is_string());
    }
    let (_, out, _) = token_with(&["--contract", "nonsense", "--unchecked"]);
    assert_eq!(
        decode_with_trusted(out.trim())["smart_contract_address"],
        "nonsense"
    );

    // What the gateway accepts is accepted, and signed as given (it normalises, not the CLI).
    for (contract, network) in [
        (CONTRACT_LOWER, "ETHEREUM"),
        (checksummed, "ethereum"),
        (upper.as_str(), "eip155:1"),
        (CONTRACT_LOWER, "AIRNODE.TESTNET.ETH-1_x"),
    ] {
        let (code, out, err) = token_with(&[
            "--contract",
            contract,
            "--network",
            network,
            "--msg-sender",
            checksummed,
        ]);
        assert_eq!(code, 0, "{contract} {network}: {err}");
        let claims = decode_with_trusted(out.trim());
        assert_eq!(claims["smart_contract_address"], contract);
        assert_eq!(claims["network_name"], network);
    }
}

#[test]
fn completions_are_a_bash_script_that_completes_every_subcommand() {
    let (code, script, err) = run(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dauth-proxy.bash");
    std::fs::write(&file, &script).unwrap();
    // Sourced by bash, it registers a completion for the command, offering every subcommand.
    let probe = format!(
        "set -e; source {file:?}; f=$(complete -p dauth-proxy | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p'); \
         COMP_WORDS=(dauth-proxy ''); COMP_CWORD=1; COMP_LINE='dauth-proxy '; COMP_POINT=12; \
         \"$f\" dauth-proxy '' dauth-proxy; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{offered} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for sub in [
        "serve",
        "token",
        "client-assertion",
        "keygen",
        "check-config",
        "completions",
        "man",
        "admin",
    ] {
        assert!(
            offered.lines().any(|l| l == sub),
            "{sub} not offered: {offered}"
        );
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, script, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{err}");
        assert!(script.contains("check-config"), "{shell}: {script}");
    }
    let (code, _, err) = run(&["completions", "nosh"]);
    assert_eq!(code, 64);
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn man_prints_a_manual_page_naming_every_subcommand() {
    let (code, page, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    let th = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_else(|| panic!("no .TH line: {page}"));
    assert!(th.starts_with(".TH dauth-proxy 1 "), "{th}");
    // Before .TH only roff requests (string definitions); after it the sections.
    let head: Vec<&str> = page
        .lines()
        .take_while(|l| !l.starts_with(".TH "))
        .collect();
    assert!(head.iter().all(|l| l.starts_with('.')), "{head:?}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(
            page.lines().any(|l| l == section),
            "{section} missing: {page}"
        );
    }
    // roff escapes the hyphen.
    assert!(page.contains("check\\-config"), "{page}");
    assert!(page.contains("client\\-assertion"), "{page}");
}

#[test]
fn keygen_writes_a_usable_pair_and_will_not_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, _, err) = run(&["keygen", "--out", out]);
    assert_eq!(code, 0, "{err}");
    let private = dir.path().join("dauth_private.pem");
    let public = dir.path().join("dauth_public.pem");
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
    dauth_proxy::auth::keys::load_verify_key(&public, None).unwrap();
    dauth_proxy::auth::keys::load_signing_key(&private).unwrap();

    let before = std::fs::read(&private).unwrap();
    let (code, _, err) = run(&["keygen", "--out", out]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&private).unwrap(), before);

    // Bad arguments are usage errors (64), as the README says, whoever spots them.
    let (code, _, err) = run(&["keygen", "--out", out, "--name", "small", "--bits", "1024"]);
    assert_eq!(code, 64, "{err}");
    let (code, _, err) = run(&["keygen", "--no-such-flag"]);
    assert_eq!(code, 64, "{err}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("keygen"), "{out}");
}

#[test]
fn check_config_names_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[server]\nlisten = \"nowhere\"\n", "server.listen"),
        (
            "[dauth]\nallowed_hosts = [\"10.0.0.0/33\"]\n",
            "dauth.allowed_hosts[0]",
        ),
        (
            "[dauth]\npublic_keys = [\"/nonexistent/key.pem\"]\n",
            "dauth.public_keys[0]",
        ),
        ("[dauth]\nbogus = 1\n", "dauth.bogus"),
        // Devices and directories are refused at once, not read forever.
        (
            "[dauth]\npublic_keys = [\"/dev/zero\"]\n",
            "dauth.public_keys[0]",
        ),
        ("[dauth]\npublic_keys = [\"/\"]\n", "dauth.public_keys[0]"),
        (
            "[dauth]\nenabled = false\n[server]\ntls_cert = \"/dev/zero\"\ntls_key = \"/dev/zero\"\n",
            "server.tls_cert",
        ),
    ];
    for (text, key) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 64, "{text}");
        assert!(
            err.contains("bad.toml") && err.contains(key),
            "{key}: {err}"
        );
        let (code, _, _) = run(&["serve", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 64, "serve refuses too: {text}");
    }
}

#[test]
fn check_config_accepts_the_shipped_config() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(support::binary::exe())
        // The file only: port 8080 may be taken on a shared test machine.
        .args(["check-config", "--file-only"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn admin_account_create_works_on_a_stopped_gateway_only() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, config) = support::binary::Binary::spawn_default_in(dir.path());
    let cfg = config.to_str().unwrap();
    let contract = "0x00000000000000000000000000000000000000d4";

    let r = support::get_with(
        gw.addr,
        "/obp/v5.1.0/users/current",
        &[("DAuth", &support::token(contract, "ETHEREUM"))],
    )
    .await;
    let user_id = r.json()["user_id"].as_str().unwrap().to_owned();
    let create = [
        "admin",
        "--config",
        cfg,
        "account",
        "create",
        "--bank",
        "b1",
        "--account",
        "a1",
        "--holder",
        &user_id,
    ];
    let (code, _, err) = run(&create);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("in use"), "{err}");
    assert_eq!(gw.terminate().code(), Some(0));

    let (code, out, err) = run(&create);
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(printed["holder"], user_id.as_str());
    let (code, _, err) = run(&create);
    assert_eq!(code, 64);
    assert!(err.contains("already exists"), "{err}");
    let unknown = [
        "admin",
        "--config",
        cfg,
        "account",
        "create",
        "--bank",
        "b1",
        "--account",
        "a2",
        "--holder",
        "nobody",
    ];
    let (code, _, err) = run(&unknown);
    assert_eq!(code, 64);
    assert!(err.contains("no user"), "{err}");

    let gw = support::binary::Binary::spawn(&config);
    let r = support::get_with(
        gw.addr,
        "/obp/v5.1.0/users/current",
        &[("DAuth", &support::token(contract, "ETHEREUM"))],
    )
    .await;
    assert_eq!(
        r.json()["views"]["list"],
        serde_json::json!([{"bank_id": "b1", "account_id": "a1", "view_id": "owner"}])
    );
}

/// A key a few bits short of 2048 (its modulus still fills 256 bytes) is refused wherever a key
/// is loaded, with the file and the key named (tests/fixtures/make-fixtures.sh made the keys).
#[test]
fn keys_a_few_bits_short_of_2048_are_refused_at_load_by_file_and_key() {
    let fixture = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
            .display()
            .to_string()
    };
    let (public, pkcs1, cert, jwks, private) = (
        fixture("rsa2047_public.pem"),
        fixture("rsa2047_public_pkcs1.pem"),
        fixture("rsa2047_cert.pem"),
        fixture("rsa2047_jwks.json"),
        fixture("rsa2047_private.pem"),
    );
    let good = keys().dir.join("trusted_public.pem").display().to_string();
    let off = "[dauth]\nenabled = false\n";
    let cases = [
        (
            format!("[dauth]\npublic_keys = [{public:?}]\n"),
            "dauth.public_keys[0]",
            "rsa2047_public.pem",
        ),
        (
            format!("[dauth]\npublic_keys = [{good:?}, {pkcs1:?}]\n"),
            "dauth.public_keys[1]",
            "rsa2047_public_pkcs1.pem",
        ),
        (
            format!("[dauth]\npublic_keys = [{cert:?}]\n"),
            "dauth.public_keys[0]",
            "rsa2047_cert.pem",
        ),
        (
            format!(
                "{off}[issuer]\nurl = \"http://127.0.0.1:1\"\nprivate_key = {private:?}\nkid = \"k\"\n"
            ),
            "issuer.private_key",
            "rsa2047_private.pem",
        ),
        (
            format!(
                "{off}[[bearer.issuers]]\nissuer = \"https://idp\"\naudience = \"a\"\npublic_keys = [{public:?}]\n"
            ),
            "bearer.issuers[0].public_keys[0]",
            "rsa2047_public.pem",
        ),
        (
            format!(
                "{off}[[bearer.issuers]]\nissuer = \"https://idp\"\naudience = \"a\"\njwks_file = {jwks:?}\n"
            ),
            "bearer.issuers[0].jwks_file",
            "rsa2047_jwks.json",
        ),
        (
            format!(
                "{off}[[clients]]\nclient_id = \"c\"\nname = \"C\"\nscopes = []\npublic_keys = [{public:?}]\n"
            ),
            "clients[0].public_keys[0]",
            "rsa2047_public.pem",
        ),
        (
            format!(
                "{off}[[clients]]\nclient_id = \"c\"\nname = \"C\"\nscopes = []\njwks_file = {jwks:?}\n"
            ),
            "clients[0].jwks_file",
            "rsa2047_jwks.json",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.toml");
    for (text, key, file) in &cases {
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 64, "{key}: {err}");
        assert!(
            err.contains("short.toml")
                && err.contains(key)
                && err.contains(file)
                && err.contains("2047-bit"),
            "{key}: {err}"
        );
    }

    // `admin client add` refuses such a key before storing it, naming the file.
    let store = dir.path().join("store");
    std::fs::write(&path, support::config_text(&store, "", "")).unwrap();
    let c = path.to_str().unwrap();
    for (flag, file) in [("--public-key", &public), ("--jwks-file", &jwks)] {
        let (code, _, err) = run(&[
            "admin",
            "--config",
            c,
            "client",
            "add",
            "--client-id",
            "short",
            "--name",
            "S",
            flag,
            file,
        ]);
        assert_eq!(code, 64, "{flag}: {err}");
        assert!(
            err.contains(file.as_str()) && err.contains("2047-bit"),
            "{flag}: {err}"
        );
    }
    let (_, out, _) = run(&["admin", "--config", c, "client", "list"]);
    assert!(!out.contains("short"), "{out}");
}

/// A stripped prefix that does not end in `/` is allowed but warned about, by `check-config`
/// (stderr, exit 0) and by `serve` (in its log at start-up), naming the file and the key.
#[test]
fn a_stripped_prefix_without_a_trailing_slash_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strip.toml");
    let routes = format!(
        "{}{}",
        support::route("/ok/", "http://127.0.0.1:9", "none", "strip_prefix = true"),
        support::route(
            "/svc",
            "http://127.0.0.1:9/public",
            "none",
            "strip_prefix = true"
        ),
    );
    std::fs::write(
        &path,
        support::config_text(&dir.path().join("store"), "", &routes),
    )
    .unwrap();
    let (code, out, err) = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"), "{out}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("strip.toml") && warnings[0].contains("routes[1].prefix"),
        "{err}"
    );
    let bin = support::binary::Binary::spawn(&path);
    let logged: Vec<&String> = bin
        .startup
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("routes[1].prefix"))
        .collect();
    assert_eq!(logged.len(), 1, "{:?}", bin.startup);
    assert!(logged[0].contains("strip.toml"), "{logged:?}");
}
