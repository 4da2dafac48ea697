//! Hot reload (issue 14, section 2): a change to the configuration file or a key file it names,
//! or `SIGHUP`, swaps in a new policy checked as `check-config` checks it; a bad file or a
//! restart-only key changes nothing and is counted and logged; open connections see the new
//! policy on their next request; a token verified by a removed key is refused on its next use;
//! new TLS handshakes present a new certificate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dauth_proxy::state::reloads::ReloadResult;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use support::binary::Binary;
use support::client::{Reply, build, h2c};
use support::tls::TestCert;
use support::{CONTRACT, Gateway, keys, now, sign_with};

/// A configuration directory: the file, copies of the test keys, the store.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for name in ["trusted_public.pem", "stranger_public.pem"] {
            std::fs::copy(keys().dir.join(name), dir.path().join(name)).unwrap();
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> PathBuf {
        self.path("dauth.toml")
    }

    /// Replaces `name` as an editor or a deployment does: a new file renamed over the old.
    fn replace(&self, name: &str, content: &str) {
        let tmp = self.path(&format!(".{name}.tmp"));
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, self.path(name)).unwrap();
    }

    fn write_config(&self, text: &str) {
        self.replace("dauth.toml", text);
    }
}

/// A configuration trusting `dauth_key` for DAuth and `bearer_key` for `https://idp.example`.
fn text(dauth_key: &str, bearer_key: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_grace_secs = 5\n{extra}\n\
         [store]\npath = \"store\"\n\
         [dauth]\npublic_keys = [\"{dauth_key}_public.pem\"]\n\
         [[bearer.issuers]]\nissuer = \"https://idp.example\"\naudience = \"dauth-proxy\"\n\
         public_keys = [\"{bearer_key}_public.pem\"]\n"
    )
}

/// A DAuth token signed by `who` (`trusted` or `stranger`).
fn dauth_token(who: &str) -> String {
    let pem = match who {
        "trusted" => &keys().trusted.private_pem,
        _ => &keys().stranger.private_pem,
    };
    sign_with(
        pem,
        &dauth_proxy::auth::mint::DauthTokenSpec::new(CONTRACT, "ethereum", "reload-test"),
    )
}

/// A bearer token of `https://idp.example` signed by `who`.
fn bearer_token(who: &str) -> String {
    let pem = match who {
        "trusted" => &keys().trusted.private_pem,
        _ => &keys().stranger.private_pem,
    };
    let claims = json!({"iss": "https://idp.example", "aud": "dauth-proxy", "sub": "alice",
        "exp": now() + 300});
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

/// Waits until `gw` has counted `n` reloads with `result`.
async fn reloaded(gw: &Gateway, result: ReloadResult, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let stats = &gw.state.shared().reloads;
    while stats.count(result) < n {
        assert!(
            Instant::now() < deadline,
            "no {result:?} reload counted: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn current(gw: &Gateway, dauth: &str) -> u16 {
    gw.current_user(dauth).await.status
}

#[tokio::test]
async fn a_changed_file_is_reloaded_and_an_identical_one_counted_unchanged() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 401);
    assert_eq!(gw.state.policy().generation, 1);

    dir.write_config(&text("stranger", "trusted", ""));
    reloaded(&gw, ReloadResult::Ok, 1).await;
    assert_eq!(gw.state.policy().generation, 2);
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 200);
    assert_eq!(current(&gw, &dauth_token("trusted")).await, 401);

    // The same bytes written again: counted, nothing rebuilt.
    dir.write_config(&text("stranger", "trusted", ""));
    reloaded(&gw, ReloadResult::Unchanged, 1).await;
    assert_eq!(gw.state.policy().generation, 2);
    assert_eq!(gw.state.shared().reloads.count(ReloadResult::Error), 0);
}

#[tokio::test]
async fn a_changed_key_file_reloads_too() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 401);
    // The file the configuration names gets the other key; the configuration is unchanged.
    dir.replace("trusted_public.pem", &keys().stranger.public_pem);
    reloaded(&gw, ReloadResult::Ok, 1).await;
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 200);
    assert_eq!(current(&gw, &dauth_token("trusted")).await, 401);
}

#[tokio::test]
async fn a_bad_configuration_changes_nothing_and_is_counted() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    assert_eq!(current(&gw, &dauth_token("trusted")).await, 200);
    let bad = [
        text("trusted", "trusted", "")
            .replace("[dauth]\n", "[dauth]\nallowed_hosts = [\"nope\"]\n"),
        text("missing", "trusted", ""),
        text("trusted", "trusted", "no_such_key = 1"),
        "[server\n".to_owned(),
    ];
    for (i, b) in bad.iter().enumerate() {
        dir.write_config(b);
        reloaded(&gw, ReloadResult::Error, i as u64 + 1).await;
        assert_eq!(gw.state.policy().generation, 1, "{b}");
        assert_eq!(current(&gw, &dauth_token("trusted")).await, 200, "{b}");
    }
    // Fixed again: reloads.
    dir.write_config(&text("stranger", "trusted", ""));
    reloaded(&gw, ReloadResult::Ok, 1).await;
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 200);
}

#[tokio::test]
async fn keys_that_need_a_restart_refuse_the_reload() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    assert_eq!(current(&gw, &dauth_token("stranger")).await, 401);
    let cert = TestCert::new();
    dir.replace("cert.pem", &cert.cert_pem);
    dir.replace("key.pem", &cert.key_pem);
    let changes = [
        // TLS turned on: the listener's acceptor is made once.
        text(
            "stranger",
            "trusted",
            "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"",
        ),
        text("stranger", "trusted", "").replace("127.0.0.1:0", "127.0.0.1:1"),
        text("stranger", "trusted", "").replace("path = \"store\"", "path = \"elsewhere\""),
        format!("{}[cache]\ntokens = 7\n", text("stranger", "trusted", "")),
        format!(
            "{}[limits]\nper_ip_rps = 7\n",
            text("stranger", "trusted", "")
        ),
        format!(
            "{}[log]\nlevel = \"debug\"\n",
            text("stranger", "trusted", "")
        ),
    ];
    for (i, change) in changes.iter().enumerate() {
        dir.write_config(change);
        reloaded(&gw, ReloadResult::Error, i as u64 + 1).await;
        assert_eq!(gw.state.policy().generation, 1, "{change}");
        assert_eq!(
            current(&gw, &dauth_token("stranger")).await,
            401,
            "{change}"
        );
    }
    let old = dauth_proxy::Config::load(&dir.config()).unwrap();
    let mut moved = old.clone();
    moved.server.listen = "127.0.0.1:1".parse().unwrap();
    assert_eq!(
        dauth_proxy::reload::restart_only_changes(&old, &moved),
        ["server.listen"]
    );
}

/// Sends `req` on an open HTTP/1.1 connection.
async fn on(sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>, token: &str) -> u16 {
    let req = build("GET", "/obp/v5.1.0/users/current", &[("DAuth", token)], "");
    sender.send_request(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn open_connections_serve_their_next_request_with_the_new_policy() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    let stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut h2 = h2c::<Full<Bytes>>(gw.addr).await;
    let h2_get = |token: String| {
        let mut req = build("GET", "/obp/v5.1.0/users/current", &[("DAuth", &token)], "");
        *req.uri_mut() = "http://gateway.test/obp/v5.1.0/users/current"
            .parse()
            .unwrap();
        req
    };
    assert_eq!(on(&mut h1, &dauth_token("stranger")).await, 401);
    let r = h2
        .send_request(h2_get(dauth_token("stranger")))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    dir.write_config(&text("stranger", "trusted", ""));
    reloaded(&gw, ReloadResult::Ok, 1).await;
    assert_eq!(on(&mut h1, &dauth_token("stranger")).await, 200);
    let r = h2
        .send_request(h2_get(dauth_token("stranger")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_cached_token_of_a_removed_key_is_refused_on_its_next_use() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let gw = Gateway::start_file(&dir.config()).await;
    let token = format!("Bearer {}", bearer_token("trusted"));
    let headers = [("Authorization", token.as_str())];
    let get = || support::get_with(gw.addr, "/obp/v5.1.0/users/current", &headers);
    // Twice: the second answer comes from the verified-token cache.
    assert_eq!(get().await.status, 200);
    assert_eq!(get().await.status, 200);
    dir.write_config(&text("trusted", "stranger", ""));
    reloaded(&gw, ReloadResult::Ok, 1).await;
    let r: Reply = get().await;
    r.assert_error(401, "DAUTH-2101");
}

/// The status of `GET /health` over a new TLS connection trusting `cert`, or `None` when the
/// handshake fails.
async fn tls_health(addr: std::net::SocketAddr, cert: &TestCert) -> Option<u16> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = cert.connector(b"http/1.1").connect(name, tcp).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .ok()?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(build("GET", "/health", &[], ""))
        .await
        .ok()?;
    Some(resp.status().as_u16())
}

#[tokio::test]
async fn new_tls_handshakes_use_the_reloaded_certificate() {
    let dir = Dir::new();
    let (first, second) = (TestCert::new(), TestCert::new());
    dir.replace("cert.pem", &first.cert_pem);
    dir.replace("key.pem", &first.key_pem);
    let tls = "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"";
    dir.write_config(&text("trusted", "trusted", tls));
    let gw = Gateway::start_file(&dir.config()).await;
    assert_eq!(tls_health(gw.addr, &first).await, Some(200));
    assert_eq!(tls_health(gw.addr, &second).await, None);

    // The key first, then the certificate: the pair in between does not match, and that
    // reload is refused; the second completes it.
    dir.replace("key.pem", &second.key_pem);
    dir.replace("cert.pem", &second.cert_pem);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tls_health(gw.addr, &second).await != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tls_health(gw.addr, &first).await, None);
}

/// Waits for a log line of `bin` holding every one of `needles`.
fn line(bin: &Binary, needles: &[&str]) -> String {
    bin.wait_for_line(needles, Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no log line with {needles:?}"))
}

#[test]
fn sighup_reloads_and_refusals_are_logged_with_file_and_key() {
    let dir = Dir::new();
    dir.write_config(&text("trusted", "trusted", ""));
    let bin = Binary::spawn(&dir.config());
    let hup = || {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &bin.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    hup();
    line(&bin, &["SIGHUP", "unchanged"]);
    // Written in place and then signalled: the signal (or the watcher) reloads it.
    std::fs::write(dir.config(), text("stranger", "trusted", "")).unwrap();
    hup();
    line(&bin, &["configuration reloaded", "ok"]);

    let file = dir.config().display().to_string();
    dir.write_config(&text("stranger", "trusted", "").replace("127.0.0.1:0", "127.0.0.1:1"));
    let refused = line(&bin, &["reload refused", "server.listen", "restart"]);
    assert!(refused.contains(&file), "{refused}");

    dir.write_config(
        &text("stranger", "trusted", "")
            .replace("[dauth]\n", "[dauth]\nallowed_hosts = [\"nope\"]\n"),
    );
    let refused = line(&bin, &["reload refused", "dauth.allowed_hosts[0]"]);
    assert!(refused.contains(&file), "{refused}");
    let status = bin.terminate();
    assert!(status.success());
}
