//! The files an operator starts from: `config/dev.toml` runs the README's echo walkthrough (the
//! real binary, the real echo backend of `examples/echo.rs`), `config/container.toml` passes
//! `check-config`, and the container and systemd files agree with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

#[path = "../examples/echo.rs"]
#[allow(dead_code)]
mod echo;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::binary::{Binary, run};

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// Replaces `from` with `to` in `text`, insisting that `from` is there (so a test does not go
/// on silently with a file that changed under it).
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "{from:?} not found in the shipped file"
    );
    text.replace(from, to)
}

/// `config/dev.toml` as a test can run it: a free port, a temporary store, its echo route sent
/// to `echo`, the repository's key paths (relative to `config/`) made absolute.
fn dev_config(store: &Path, echo: &str) -> String {
    let text = read("config/dev.toml");
    let text = swap(
        &text,
        "listen = \"127.0.0.1:8080\"",
        "listen = \"127.0.0.1:0\"",
    );
    let text = swap(
        &text,
        "path = \"../data/dev-store\"",
        &format!("path = {:?}", store.display().to_string()),
    );
    let text = swap(&text, "\"http://127.0.0.1:9000\"", &format!("{echo:?}"));
    swap(
        &text,
        "\"../keys/",
        &format!("\"{}/keys/", root().display()),
    )
}

/// Mints a DAuth token the way the README does, with the development key.
fn dev_token(contract: &str) -> String {
    let key = root().join("keys/dev/dauth_private.pem");
    let (code, out, err) = run(&[
        "token",
        "--private-key",
        key.to_str().unwrap(),
        "--contract",
        contract,
        "--network",
        "ETHEREUM",
        "--consumer-key",
        "demo-consumer",
    ]);
    assert_eq!(code, 0, "{err}");
    out.trim().to_owned()
}

/// Header names a backend could take for identity: `x-dauth-*` and `x-user-ctx*`, any case,
/// `_` read as `-`.
fn identity_like(name: &str) -> bool {
    let folded = name.to_ascii_lowercase().replace('_', "-");
    folded.starts_with("x-dauth-") || folded.starts_with("x-user-ctx")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_config_echo_walkthrough_shows_identity_and_no_spoofed_header() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = listener.local_addr().unwrap();
    let echo_task = tokio::spawn(echo::accept_loop(listener));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dev.toml");
    let text = dev_config(&dir.path().join("store"), &format!("http://{echo_addr}"));
    std::fs::write(&config, text).unwrap();
    let gateway = Binary::spawn(&config);

    let token = dev_token("0xd8da6bf26964af9d7eed9e03e53415d37aa96045");
    let spoofed = [
        ("X-DAuth-User-Id", "evil"),
        ("X_DAuth_User_Id", "evil"),
        ("x-dauth-username", "evil"),
        ("X-DAUTH-PROVIDER", "evil"),
        ("x_dauth_auth_method", "evil"),
        ("X-DAuth-View-Id", "evil"),
        ("X-DAuth-Anything", "evil"),
        ("X-User-Ctx", "evil"),
        ("x_user_ctx", "evil"),
    ];
    let mut headers = vec![("DAuth", token.as_str())];
    headers.extend(spoofed);
    let reply = support::get_with(gateway.addr, "/echo/hello?greeting=hi", &headers).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let seen = reply.json();
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/echo/hello");
    assert_eq!(seen["query"], "greeting=hi");
    assert_eq!(seen["body_bytes"], 0);
    let got = seen["headers"].as_object().unwrap();

    // What the gateway vouches for arrived...
    let user_id = got["x-dauth-user-id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(user_id).is_ok(), "{user_id}");
    assert_eq!(
        got["x-dauth-username"],
        "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
    );
    assert_eq!(got["x-dauth-provider"], "ETHEREUM");
    assert_eq!(got["x-dauth-consumer-key"], "demo-consumer");
    assert_eq!(got["x-dauth-auth-method"], "dauth");
    // ... and nothing the client claimed: each identity-like name is the gateway's, once.
    let identity: Vec<&String> = got.keys().filter(|n| identity_like(n)).collect();
    assert_eq!(
        identity,
        [
            "x-dauth-auth-method",
            "x-dauth-consumer-key",
            "x-dauth-provider",
            "x-dauth-user-id",
            "x-dauth-username"
        ],
        "{seen}"
    );
    for name in identity {
        assert!(got[name].is_string(), "{name} arrived twice: {seen}");
        assert_ne!(got[name], "evil", "{seen}");
    }
    // The token itself is not forwarded (the route does not set forward_token).
    assert!(!got.contains_key("dauth"), "{seen}");

    // Without credentials the route refuses, and the spoofed headers alone prove nothing.
    let refused = support::get_with(gateway.addr, "/echo/hello", &spoofed).await;
    refused.assert_error(401, "OBP-20001");

    drop(gateway);
    echo_task.abort();
}

#[tokio::test]
async fn echo_describes_what_it_received_and_counts_the_body() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(echo::accept_loop(listener));
    let req = support::client::build(
        "POST",
        "/a/b?c=d",
        &[
            ("X-Repeated", "1"),
            ("x-repeated", "2"),
            ("X_DAuth_User_Id", "evil"),
        ],
        vec![b'x'; 100_000],
    );
    let reply = support::client::send(addr, req).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let seen: Value = reply.json();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/a/b");
    assert_eq!(seen["query"], "c=d");
    assert_eq!(seen["body_bytes"], 100_000);
    assert_eq!(seen["headers"]["x-repeated"], serde_json::json!(["1", "2"]));
    // Straight to the echo, with no gateway in front, a spoofed header does arrive: the echo
    // hides nothing, which is what makes the walkthrough above a proof.
    assert_eq!(seen["headers"]["x_dauth_user_id"], "evil");
    let names: Vec<&String> = seen["headers"].as_object().unwrap().keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);

    // No query string is null; a broken chunked body is a 400 that says so, not a hang or a
    // dropped connection.
    let reply = support::get(addr, "/").await;
    assert_eq!(reply.json()["query"], Value::Null);
    let (status, text) = support::client::raw(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("body_error"), "{text}");
    task.abort();
}

/// `config/container.toml` with the image's paths mapped onto the repository: what the image
/// would load, checked by the real binary.
#[test]
fn container_config_passes_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let text = read("config/container.toml");
    let text = swap(
        &text,
        "listen = \"0.0.0.0:8080\"",
        "listen = \"127.0.0.1:0\"",
    );
    let text = swap(
        &text,
        "\"/var/lib/dauth-proxy/store\"",
        &format!("{:?}", dir.path().join("store").display().to_string()),
    );
    let text = swap(
        &text,
        "\"/etc/dauth-proxy/keys/",
        &format!("\"{}/keys/", root().display()),
    );
    let config = dir.path().join("container.toml");
    std::fs::write(&config, text).unwrap();
    let (code, out, err) = run(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains(": ok"), "{out}");
}

/// The container files agree with each other: every key file the container config names is
/// copied there by the Dockerfile, the store is on the image's volume, the build image is at
/// least the crate's rust-version, and both `docker stop` (compose) and systemd wait longer
/// than the gateway's drain.
#[test]
fn container_and_systemd_files_agree_with_the_configs() {
    let dockerfile = read("Dockerfile");
    let container = read("config/container.toml");
    // Settings only (comments mention the directory too), each a quoted absolute path.
    let settings: Vec<&str> = container
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("\"/etc/dauth-proxy/keys/"))
        .collect();
    assert_eq!(settings.len(), 2, "the DAuth public key and the issuer key");
    for line in settings {
        let start = line.find("/etc/dauth-proxy/keys/").unwrap();
        let path = line[start..].split('"').next().unwrap();
        let file = path.trim_start_matches("/etc/dauth-proxy/");
        assert!(
            root().join(file).is_file(),
            "{file} is not in the repository"
        );
        assert!(
            dockerfile
                .lines()
                .any(|l| l.starts_with("COPY ") && l.contains(file)),
            "the Dockerfile does not copy {file}"
        );
    }
    assert!(container.contains("path = \"/var/lib/dauth-proxy/store\""));
    assert!(dockerfile.contains("VOLUME [\"/var/lib/dauth-proxy\"]"));

    let version = |text: &str, after: &str| -> Vec<u32> {
        let start = text.find(after).unwrap() + after.len();
        text[start..]
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()
            .unwrap()
            .split('.')
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let image = version(&dockerfile, "ARG RUST_IMAGE=rust:");
    let msrv = version(&read("Cargo.toml"), "rust-version = \"");
    assert!(image >= msrv, "rust image {image:?} older than {msrv:?}");

    let seconds = |text: &str, key: &str| -> u64 {
        let start = text.find(key).unwrap() + key.len();
        text[start..]
            .trim_start_matches([' ', '=', ':', '"'])
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let grace = seconds(&container, "shutdown_grace_secs");
    let compose = seconds(&read("compose.yaml"), "stop_grace_period");
    let systemd = seconds(
        &read("contrib/systemd/dauth-proxy.service"),
        "\nTimeoutStopSec",
    );
    assert!(
        compose > grace,
        "compose stop_grace_period {compose} <= {grace}"
    );
    assert!(systemd > grace, "TimeoutStopSec {systemd} <= {grace}");
    assert_eq!(
        grace,
        seconds(&read("config/dev.toml"), "shutdown_grace_secs")
    );
}
