//! Attacks on the user service from outside (issue 11): parallel guesses against the lockout,
//! an administrator's address registered by a stranger, and a password reset that must answer
//! at once whether or not the address is known, and never wait for SMTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::smtp::{Smtp, code_in};
use support::{Gateway, keys};

fn issuer_section(accounts: &str) -> String {
    let key = keys().dir.join("trusted_private.pem").display().to_string();
    format!(
        "[issuer]\nurl = \"http://gateway.test\"\nprivate_key = {key:?}\nkid = \"test-1\"\n[accounts]\n{accounts}\n"
    )
}

async fn gateway(accounts: &str, extra: &str) -> Gateway {
    Gateway::start("", &format!("{}{extra}", issuer_section(accounts))).await
}

async fn post(gw: &Gateway, path: &str, body: Value) -> Reply {
    send(gw.addr, json_request("POST", path, &body, None)).await
}

fn json_request(
    method: &str,
    path: &str,
    body: &Value,
    bearer: Option<&str>,
) -> http::Request<Full<Bytes>> {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    build(method, path, &headers, body.to_string())
}

async fn register(gw: &Gateway, email: &str, password: &str) -> Value {
    let r = post(
        gw,
        "/api/auth/register",
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.json()["user"].clone()
}

async fn login(gw: &Gateway, email: &str, password: &str) -> Reply {
    post(
        gw,
        "/api/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

/// Opens one connection per request, then sends them all at once and reads every answer.
async fn all_at_once(addr: SocketAddr, requests: Vec<http::Request<Full<Bytes>>>) -> Vec<Reply> {
    let start = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                start.wait().await;
                let resp = sender.send_request(req).await.unwrap();
                let (parts, body) = resp.into_parts();
                Reply {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body: body.collect().await.unwrap().to_bytes(),
                }
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn code_of(r: &Reply) -> String {
    r.message().split(':').next().unwrap_or_default().to_owned()
}

/// 39 wrong passwords and the right one at once, with `max_failed_logins = 5`: the lock is
/// always reached (40 attempts), and once it is, no attempt gets tokens, wherever the right one
/// sits in the burst. Several rounds, several positions.
#[tokio::test]
async fn parallel_guesses_never_get_past_the_lockout() {
    let no_rate = "[limits]\npassword_per_ip_per_minute = 0\n";
    let gw = gateway(
        "max_failed_logins = 5\nlockout_secs = 600\nhash_queue = 64",
        no_rate,
    )
    .await;
    for (round, right_at) in [0usize, 13, 26, 39, 0, 39].into_iter().enumerate() {
        let email = format!("lock{round}@example.com");
        register(&gw, &email, "right-password").await;
        let requests = (0..40)
            .map(|i| {
                let pw = if i == right_at {
                    "right-password".to_owned()
                } else {
                    format!("wrong-{i}")
                };
                json_request(
                    "POST",
                    "/api/auth/login",
                    &json!({"email": email, "password": pw}),
                    None,
                )
            })
            .collect();
        let replies = all_at_once(gw.addr, requests).await;
        let codes: Vec<String> = replies
            .iter()
            .map(|r| {
                if r.status == 200 {
                    "200".to_owned()
                } else {
                    code_of(r)
                }
            })
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| ["OBP-20013", "DAUTH-4002", "200"].contains(&c.as_str())),
            "round {round}: {codes:?}"
        );
        assert!(
            codes.iter().any(|c| c == "OBP-20013"),
            "round {round}: the lock was never reached: {codes:?}"
        );
        assert!(
            !codes.iter().any(|c| c == "200"),
            "round {round}: tokens despite the lock: {codes:?}"
        );
        assert!(
            codes.iter().filter(|c| *c == "DAUTH-4002").count() < 5,
            "round {round}: at most max - 1 wrong passwords are answered as such: {codes:?}"
        );
        // And the lock holds for the right password afterwards.
        login(&gw, &email, "right-password")
            .await
            .assert_error(401, "OBP-20013");
    }
}

/// The sequential rules still hold: max - 1 failures, then the right password, succeeds and
/// clears the count; max failures in a row lock.
#[tokio::test]
async fn a_success_clears_the_count_and_max_failures_in_a_row_lock() {
    let gw = gateway("max_failed_logins = 3\nlockout_secs = 600", "").await;
    register(&gw, "seq@example.com", "right-password").await;
    for _ in 0..3 {
        for _ in 0..2 {
            login(&gw, "seq@example.com", "wrong-password")
                .await
                .assert_error(401, "DAUTH-4002");
        }
        assert_eq!(
            login(&gw, "seq@example.com", "right-password").await.status,
            200
        );
    }
    for _ in 0..2 {
        login(&gw, "seq@example.com", "wrong-password")
            .await
            .assert_error(401, "DAUTH-4002");
    }
    login(&gw, "seq@example.com", "wrong-password")
        .await
        .assert_error(401, "OBP-20013");
    login(&gw, "seq@example.com", "right-password")
        .await
        .assert_error(401, "OBP-20013");
}

fn sync_body(email: &str) -> Value {
    json!({"email": email, "password": "synced-password", "emailVerified": true})
}

/// With `auto_confirm` (the default), a stranger registers the administrator's address in
/// another case: the account works but is not an administrator, and PUT /api/users is refused,
/// until the mailed confirmation code proves the mailbox.
#[tokio::test]
async fn an_admin_address_grants_nothing_until_its_mailbox_is_proven() {
    let smtp = Smtp::start().await;
    let gw = gateway("admin_emails = [\"admin@example.com\"]", &smtp.config()).await;
    let user = register(&gw, "Admin@Example.com", "admin-password").await;
    assert_eq!(user["permissionLevel"], 0, "{user}");
    assert_eq!(
        user["confirmed"], true,
        "auto_confirm: the account is usable"
    );
    let r = login(&gw, "admin@example.com", "admin-password").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["user"]["permissionLevel"], 0);
    let token = r.json()["accessToken"].as_str().unwrap().to_owned();
    let sync = |t: &str| {
        json_request(
            "PUT",
            "/api/users",
            &sync_body("victim@example.com"),
            Some(t),
        )
    };
    send(gw.addr, sync(&token))
        .await
        .assert_error(403, "DAUTH-4009");

    let code = code_in(
        &smtp.wait_for("admin@example.com").await,
        "confirmation code is ",
    );
    let r = post(&gw, "/api/auth/confirm", json!({"code": code})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["user"]["permissionLevel"], 100);
    // A token issued before the proof carries permissionLevel 0 and stays without rights; a
    // login after it gets an administrator's token.
    send(gw.addr, sync(&token))
        .await
        .assert_error(403, "DAUTH-4009");
    let r = login(&gw, "admin@example.com", "admin-password").await;
    assert_eq!(r.json()["user"]["permissionLevel"], 100);
    let admin = r.json()["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(send(gw.addr, sync(&admin)).await.status, 200);
}

/// A stranger registers the administrator's address and keeps a token; the owner takes the
/// account back with a password reset (which proves the mailbox). The stranger's token, issued
/// before, gets no administrator's rights, and the stranger's password is gone.
#[tokio::test]
async fn a_token_from_before_the_proof_never_becomes_an_administrators() {
    let smtp = Smtp::start().await;
    let gw = gateway("admin_emails = [\"admin@example.com\"]", &smtp.config()).await;
    register(&gw, "admin@example.com", "strangers-password").await;
    let r = login(&gw, "admin@example.com", "strangers-password").await;
    let stranger = r.json()["accessToken"].as_str().unwrap().to_owned();
    let refresh = r.json()["refreshToken"].as_str().unwrap().to_owned();
    post(
        &gw,
        "/api/auth/password-reset",
        json!({"email": "admin@example.com"}),
    )
    .await;
    let code = code_in(
        &smtp
            .wait_for_text("admin@example.com", "reset code is ")
            .await,
        "reset code is ",
    );
    let body = json!({"email": "admin@example.com", "code": code, "password": "owners-password"});
    assert_eq!(
        post(&gw, "/api/auth/password-reset/confirm", body)
            .await
            .status,
        200
    );
    let sync = json_request(
        "PUT",
        "/api/users",
        &sync_body("victim@example.com"),
        Some(&stranger),
    );
    send(gw.addr, sync).await.assert_error(403, "DAUTH-4009");
    post(&gw, "/api/auth/refresh", json!({"refreshToken": refresh}))
        .await
        .assert_error(401, "DAUTH-4008");
    login(&gw, "admin@example.com", "strangers-password")
        .await
        .assert_error(401, "DAUTH-4002");
    let r = login(&gw, "admin@example.com", "owners-password").await;
    assert_eq!(r.json()["user"]["permissionLevel"], 100);
}

/// A password-reset code proves the mailbox too; the address is compared on its normalised
/// form, whatever the case in the configuration; a trusted sync (the internal system) may say
/// the mailbox is verified, an administrator's sync may take it back.
#[tokio::test]
async fn a_reset_code_or_a_trusted_sync_proves_an_admin_mailbox() {
    let smtp = Smtp::start().await;
    let accounts = "admin_emails = [\" Boss@Example.COM \", \"chief@example.com\"]";
    let internal = "[internal]\nnetworks = [\"127.0.0.1/32\"]\n";
    let gw = gateway(accounts, &format!("{}{internal}", smtp.config())).await;
    register(&gw, "BOSS@example.com", "boss-password").await;
    smtp.wait_for("boss@example.com").await;
    let r = post(
        &gw,
        "/api/auth/password-reset",
        json!({"email": "boss@example.com"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let mail = smtp
        .wait_for_text("boss@example.com", "reset code is ")
        .await;
    let code = code_in(&mail, "reset code is ");
    let r = post(
        &gw,
        "/api/auth/password-reset/confirm",
        json!({"email": "boss@example.com", "code": code, "password": "new-boss-password"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["user"]["permissionLevel"], 100);

    // The internal system is trusted to say a mailbox was verified.
    let ctx = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(json!({"id": "__system", "user": "__system"}).to_string())
    };
    let r = send(
        gw.addr,
        build(
            "PUT",
            "/api/users",
            &[("x-user-ctx", &ctx)],
            sync_body("chief@example.com").to_string(),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = login(&gw, "chief@example.com", "synced-password").await;
    assert_eq!(r.json()["user"]["permissionLevel"], 100);
    // An administrator's sync with emailVerified false takes it back.
    let boss = login(&gw, "boss@example.com", "new-boss-password").await;
    let boss = boss.json()["accessToken"].as_str().unwrap().to_owned();
    let body = json!({"email": "chief@example.com", "emailVerified": false});
    assert_eq!(
        send(
            gw.addr,
            json_request("PUT", "/api/users", &body, Some(&boss))
        )
        .await
        .status,
        200
    );
    let r = login(&gw, "chief@example.com", "synced-password").await;
    r.assert_error(403, "DAUTH-4003");
}

/// The reset request answers before the mail is delivered: the SMTP server holds its answer
/// to the message, and the gateway's answer arrives meanwhile. Then the mail arrives, and its
/// code works. An unknown address gets the same answer.
#[tokio::test]
async fn password_reset_answers_without_waiting_for_smtp() {
    let smtp = Smtp::start().await;
    let gw = gateway("", &smtp.config()).await;
    register(&gw, "slow@example.com", "old-password").await;
    smtp.hold();
    for email in ["slow@example.com", "nobody@example.com"] {
        let r = tokio::time::timeout(
            Duration::from_secs(20),
            post(&gw, "/api/auth/password-reset", json!({"email": email})),
        )
        .await
        .expect("the reset answer waited for the SMTP server");
        assert_eq!(
            (r.status, r.json()),
            (200, json!({"status": "success"})),
            "{email}"
        );
    }
    // The mail reaches the server, which is still holding it: it was sent after the answer.
    let mail = smtp.wait_for("slow@example.com").await;
    smtp.release();
    let code = code_in(&mail, "reset code is ");
    let r = post(
        &gw,
        "/api/auth/password-reset/confirm",
        json!({"email": "slow@example.com", "code": code, "password": "new-password"}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        login(&gw, "slow@example.com", "new-password").await.status,
        200
    );
    assert_eq!(smtp.count(), 1, "no mail for an unknown address");
}

/// With `accounts.mail_queue = 1` and every sender busy (the SMTP server holds their mails),
/// one more request waits in the queue and the next is refused at once, for a registered
/// address as for an unknown one. Released, every queued reset is mailed.
#[tokio::test]
async fn a_full_reset_queue_refuses_every_address_alike() {
    let smtp = Smtp::start().await;
    let gw = gateway("mail_queue = 1", &smtp.config()).await;
    let users: Vec<String> = (0..6).map(|i| format!("q{i}@example.com")).collect();
    for u in &users {
        register(&gw, u, "some-password").await;
    }
    smtp.hold();
    let reset = |email: &str| post(&gw, "/api/auth/password-reset", json!({"email": email}));
    for u in &users[..4] {
        assert_eq!(reset(u).await.status, 200);
        smtp.wait_for_text(u, "reset code is ").await; // being sent, and held
    }
    assert_eq!(
        reset(&users[4]).await.status,
        200,
        "the one the queue holds"
    );
    for email in [users[5].as_str(), "nobody@example.com"] {
        let r = reset(email).await;
        r.assert_error(503, "DAUTH-5036");
        assert!(r.header("retry-after").is_some());
    }
    smtp.release();
    smtp.wait_for_text(&users[4], "reset code is ").await;
    assert_eq!(reset(&users[5]).await.status, 200, "room again");
}
