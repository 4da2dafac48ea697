//! The identity service over real HTTP: register, confirm (through a real SMTP server), login,
//! refresh and reuse, profile and attributes, reset, lockout, third-party sync, and bearer
//! tokens of this gateway and of an external issuer on forwarded routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::client::{Reply, build, send, send_from};
use support::smtp::{Smtp, code_in};
use support::upstream::Upstream;
use support::{CONTRACT, Gateway, keys, now, route, token};

const ISSUER: &str = "http://gateway.test";

fn issuer_section(accounts: &str) -> String {
    let key = keys().dir.join("trusted_private.pem").display().to_string();
    format!(
        "[issuer]\nurl = \"{ISSUER}\"\nprivate_key = {key:?}\nkid = \"test-1\"\n[accounts]\n{accounts}\n"
    )
}

async fn gateway(accounts: &str, extra: &str) -> Gateway {
    Gateway::start("", &format!("{}{extra}", issuer_section(accounts))).await
}

async fn post(gw: &Gateway, path: &str, body: Value) -> Reply {
    send(
        gw.addr,
        build(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        ),
    )
    .await
}

async fn with_bearer(gw: &Gateway, method: &str, path: &str, token: &str, body: Value) -> Reply {
    let auth = format!("Bearer {token}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        gw.addr,
        build(method, path, &[("authorization", &auth)], body),
    )
    .await
}

async fn register_and_login(gw: &Gateway, email: &str, password: &str) -> (String, String) {
    let r = post(
        gw,
        "/api/auth/register",
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = post(
        gw,
        "/api/auth/login",
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = r.json();
    (
        b["accessToken"].as_str().unwrap().to_owned(),
        b["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn register_login_and_current_user() {
    let gw = gateway("", "").await;
    let r = post(
        &gw,
        "/api/auth/register",
        json!({"email": "Fourth@Example.com", "password": "s3cret-pass"}),
    )
    .await;
    assert_eq!(r.status, 201);
    let user = &r.json()["user"];
    assert_eq!(r.json()["status"], "success");
    assert_eq!(user["email"], "fourth@example.com");
    assert_eq!(user["confirmed"], true);
    assert_eq!(user["firstname"], Value::Null);
    assert_eq!(user["permissionLevel"], 0);
    post(
        &gw,
        "/api/auth/register",
        json!({"email": "fourth@example.com", "password": "another-pass"}),
    )
    .await
    .assert_error(409, "DAUTH-4004");
    post(
        &gw,
        "/api/auth/register",
        json!({"email": "not-an-email", "password": "another-pass"}),
    )
    .await
    .assert_error(400, "DAUTH-4005");
    post(
        &gw,
        "/api/auth/register",
        json!({"email": "x@example.com", "password": "short"}),
    )
    .await
    .assert_error(400, "DAUTH-4006");

    let r = post(
        &gw,
        "/api/auth/login",
        json!({"email": "fourth@example.com", "password": "s3cret-pass"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let access = r.json()["accessToken"].as_str().unwrap().to_owned();
    // The access token carries the seed's keys plus iss, sub, aud, and verifies with the JWKS key.
    let jwks = support::get(gw.addr, "/.well-known/jwks.json").await.json();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
    assert_eq!(jwk.common.key_id.as_deref(), Some("test-1"));
    let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
    v.set_audience(&["dauth-proxy"]);
    v.set_issuer(&[ISSUER]);
    let claims = jsonwebtoken::decode::<Value>(
        &access,
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &v,
    )
    .unwrap()
    .claims;
    for k in [
        "id",
        "email",
        "firstname",
        "lastname",
        "language",
        "permissionLevel",
        "iat",
        "exp",
        "iss",
        "sub",
        "aud",
    ] {
        assert!(claims.get(k).is_some(), "{k} missing from {claims}");
    }
    assert_eq!(claims["email"], "fourth@example.com");

    let me = with_bearer(&gw, "GET", "/api/users/me", &access, Value::Null).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"]["id"], claims["sub"]);
    assert!(me.json()["user"].get("attributes").is_none());
    send(gw.addr, build("GET", "/api/users/me", &[], ""))
        .await
        .assert_error(401, "OBP-20001");
    with_bearer(&gw, "GET", "/api/users/me", "not.a.token", Value::Null)
        .await
        .assert_error(401, "DAUTH-2101");
}

#[tokio::test]
async fn names_and_attributes() {
    let gw = gateway("", "").await;
    let (access, _) = register_and_login(&gw, "barney@example.com", "s3cret-pass").await;
    let r = with_bearer(
        &gw,
        "PATCH",
        "/api/users/me",
        &access,
        json!({"firstname": "Barney", "lastname": "Fife"}),
    )
    .await;
    assert_eq!(r.json()["user"]["firstname"], "Barney");
    let r = with_bearer(
        &gw,
        "PATCH",
        "/api/users/me",
        &access,
        json!({"firstname": "B"}),
    )
    .await;
    assert_eq!(
        r.json()["user"]["lastname"],
        Value::Null,
        "absent fields become null"
    );
    let set = |k: &str, v: &str| json!({"attributeKey": k, "attributeText": v});
    let r = with_bearer(
        &gw,
        "PUT",
        "/api/users/me/attributes",
        &access,
        set("key_one", "env=\"CLIENT_ID=91838\""),
    )
    .await;
    assert_eq!(
        r.json()["user"]["attributes"]["key_one"],
        "env=\"CLIENT_ID=91838\""
    );
    with_bearer(
        &gw,
        "PUT",
        "/api/users/me/attributes",
        &access,
        set("key_two", "two"),
    )
    .await;
    let list = with_bearer(&gw, "GET", "/api/users/me/attributes", &access, Value::Null).await;
    assert_eq!(
        list.json(),
        json!({"key_one": "env=\"CLIENT_ID=91838\"", "key_two": "two"})
    );
    with_bearer(
        &gw,
        "PUT",
        "/api/users/me/attributes",
        &access,
        set("bad key", "x"),
    )
    .await
    .assert_error(400, "DAUTH-4010");
    let r = with_bearer(
        &gw,
        "DELETE",
        "/api/users/me/attributes/key_two",
        &access,
        Value::Null,
    )
    .await;
    assert_eq!(
        r.json()["user"]["attributes"],
        json!({"key_one": "env=\"CLIENT_ID=91838\""})
    );
    with_bearer(
        &gw,
        "DELETE",
        "/api/users/me/attributes/key_two",
        &access,
        Value::Null,
    )
    .await
    .assert_error(404, "DAUTH-4011");
    let profile = with_bearer(&gw, "GET", "/api/users/me/profile", &access, Value::Null).await;
    assert_eq!(profile.json()["user"]["firstname"], "B");
    assert!(profile.json()["user"]["attributes"].is_object());
    // A smart contract has no profile.
    gw.get_dauth("/api/users/me/profile", &token(CONTRACT, "ETHEREUM"))
        .await
        .assert_error(403, "DAUTH-4013");
}

#[tokio::test]
async fn confirmation_by_mailed_code() {
    let smtp = Smtp::start().await;
    let gw = gateway("auto_confirm = false", &smtp.config()).await;
    let r = post(
        &gw,
        "/api/auth/register",
        json!({"email": "new@example.com", "password": "s3cret-pass"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["user"]["confirmed"], false);
    let mail = smtp.wait_for("new@example.com").await;
    let code = code_in(&mail, "confirmation code is ");
    post(
        &gw,
        "/api/auth/login",
        json!({"email": "new@example.com", "password": "s3cret-pass"}),
    )
    .await
    .assert_error(403, "DAUTH-4003");
    post(&gw, "/api/auth/confirm", json!({"code": "wrong"}))
        .await
        .assert_error(400, "DAUTH-4007");
    let r = post(&gw, "/api/auth/confirm", json!({"code": code})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"]["confirmed"], true);
    post(&gw, "/api/auth/confirm", json!({"code": code}))
        .await
        .assert_error(400, "DAUTH-4007");
    assert_eq!(
        post(
            &gw,
            "/api/auth/login",
            json!({"email": "new@example.com", "password": "s3cret-pass"})
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_login() {
    let gw = gateway("", "").await;
    let (_, first) = register_and_login(&gw, "r@example.com", "s3cret-pass").await;
    let r = post(&gw, "/api/auth/refresh", json!({"refreshToken": first})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let second = r.json()["refreshToken"].as_str().unwrap().to_owned();
    let access = r.json()["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        with_bearer(&gw, "GET", "/api/users/me", &access, Value::Null)
            .await
            .status,
        200
    );
    // Reusing the first token is refused, and ends the whole login: the second dies too.
    post(&gw, "/api/auth/refresh", json!({"refreshToken": first}))
        .await
        .assert_error(401, "DAUTH-4008");
    post(&gw, "/api/auth/refresh", json!({"refreshToken": second}))
        .await
        .assert_error(401, "DAUTH-4008");
    // A refresh token is no bearer token.
    let (_, other) = register_and_login(&gw, "s@example.com", "s3cret-pass").await;
    with_bearer(&gw, "GET", "/api/users/me", &other, Value::Null)
        .await
        .assert_error(401, "DAUTH-2101");
    post(&gw, "/api/auth/refresh", json!({"refreshToken": "junk"}))
        .await
        .assert_error(401, "DAUTH-4008");
}

#[tokio::test]
async fn password_reset_with_a_single_use_code() {
    let smtp = Smtp::start().await;
    let gw = gateway("", &smtp.config()).await;
    let (_, refresh) = register_and_login(&gw, "forgot@example.com", "old-password").await;
    let r = post(
        &gw,
        "/api/auth/password-reset",
        json!({"email": "forgot@example.com"}),
    )
    .await;
    assert_eq!(r.json(), json!({"status": "success"}));
    let code = code_in(&smtp.wait_for("forgot@example.com").await, "reset code is ");
    // Unknown emails get the same answer and no mail.
    let before = smtp.count();
    assert_eq!(
        post(
            &gw,
            "/api/auth/password-reset",
            json!({"email": "nobody@example.com"})
        )
        .await
        .json(),
        json!({"status": "success"})
    );
    assert_eq!(smtp.count(), before);
    let confirm =
        |code: &str, pw: &str| json!({"email": "forgot@example.com", "code": code, "password": pw});
    post(
        &gw,
        "/api/auth/password-reset/confirm",
        confirm("wrong", "new-password"),
    )
    .await
    .assert_error(400, "DAUTH-4007");
    assert_eq!(
        post(
            &gw,
            "/api/auth/password-reset/confirm",
            confirm(&code, "new-password")
        )
        .await
        .status,
        200
    );
    post(
        &gw,
        "/api/auth/password-reset/confirm",
        confirm(&code, "newer-password"),
    )
    .await
    .assert_error(400, "DAUTH-4007");
    post(
        &gw,
        "/api/auth/login",
        json!({"email": "forgot@example.com", "password": "old-password"}),
    )
    .await
    .assert_error(401, "DAUTH-4002");
    assert_eq!(
        post(
            &gw,
            "/api/auth/login",
            json!({"email": "forgot@example.com", "password": "new-password"})
        )
        .await
        .status,
        200
    );
    post(&gw, "/api/auth/refresh", json!({"refreshToken": refresh}))
        .await
        .assert_error(401, "DAUTH-4008");
}

#[tokio::test]
async fn failed_logins_lock_the_account() {
    let gw = gateway("max_failed_logins = 3\nlockout_secs = 600", "").await;
    register_and_login(&gw, "lock@example.com", "right-password").await;
    let wrong = json!({"email": "lock@example.com", "password": "wrong-password"});
    post(&gw, "/api/auth/login", wrong.clone())
        .await
        .assert_error(401, "DAUTH-4002");
    post(&gw, "/api/auth/login", wrong.clone())
        .await
        .assert_error(401, "DAUTH-4002");
    let r = post(&gw, "/api/auth/login", wrong).await;
    r.assert_error(401, "OBP-20013");
    assert!(r.message().contains("unlocks in"), "{}", r.message());
    let right = json!({"email": "lock@example.com", "password": "right-password"});
    post(&gw, "/api/auth/login", right)
        .await
        .assert_error(401, "OBP-20013");
}

#[tokio::test]
async fn seed_002_login_body_and_unknown_users() {
    let gw = gateway("", "").await;
    let login = |who: &str, pw: &str| json!({"type": "password", "clientId": "client-app-id", "clientSecret": "client-app-secret", "withPassword": {"emailOrUsername": who, "password": pw}});
    let r = post(
        &gw,
        "/api/auth/login",
        login("none-exists-email@gmail.com", "arbitrary-password"),
    )
    .await;
    r.assert_error(401, "DAUTH-4001");
    assert!(r.message().contains("User not found"));
    register_and_login(&gw, "seed@example.com", "s3cret-pass").await;
    assert_eq!(
        post(
            &gw,
            "/api/auth/login",
            login("seed@example.com", "s3cret-pass")
        )
        .await
        .status,
        200
    );

    let gw = gateway("[[accounts.login_clients]]\nclient_id = \"client-app-id\"\nclient_secret = \"client-app-secret\"", "").await;
    register_and_login(&gw, "seed@example.com", "s3cret-pass").await;
    assert_eq!(
        post(
            &gw,
            "/api/auth/login",
            login("seed@example.com", "s3cret-pass")
        )
        .await
        .status,
        200
    );
    let mut wrong = login("seed@example.com", "s3cret-pass");
    wrong["clientSecret"] = json!("guess");
    post(&gw, "/api/auth/login", wrong)
        .await
        .assert_error(401, "DAUTH-4012");
}

fn sync_body() -> Value {
    json!({"username": "cersei.lannister", "email": "cersei-lannister@gmail.com'", "password": "C3rs3i#L4nnist3r", "emailVerified": true})
}

fn system_ctx() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(json!({"id": "__system", "user": "__system"}).to_string())
}

#[tokio::test]
async fn third_party_sync_by_admin_token() {
    let smtp = Smtp::start().await;
    let gw = gateway("admin_emails = [\"admin@example.com\"]", &smtp.config()).await;
    register_and_login(&gw, "admin@example.com", "admin-password").await;
    // An administrator's address is one only once the mailed code proves the mailbox, and
    // with a token issued after that.
    let code = code_in(
        &smtp.wait_for("admin@example.com").await,
        "confirmation code is ",
    );
    assert_eq!(
        post(&gw, "/api/auth/confirm", json!({"code": code}))
            .await
            .status,
        200
    );
    let r = post(
        &gw,
        "/api/auth/login",
        json!({"email": "admin@example.com", "password": "admin-password"}),
    )
    .await;
    let admin = r.json()["accessToken"].as_str().unwrap().to_owned();
    let (plain, _) = register_and_login(&gw, "plain@example.com", "plain-password").await;
    with_bearer(&gw, "PUT", "/api/users", &plain, sync_body())
        .await
        .assert_error(403, "DAUTH-4009");
    send(
        gw.addr,
        build("PUT", "/api/users", &[], sync_body().to_string()),
    )
    .await
    .assert_error(401, "OBP-20001");
    let r = with_bearer(&gw, "PUT", "/api/users", &admin, sync_body()).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let u = r.json();
    assert_eq!(u["email"], "cersei-lannister@gmail.com");
    assert_eq!(u["username"], "cersei.lannister");
    assert_eq!(u["emailVerified"], true);
    assert!(
        u.get("password").is_none(),
        "no hash, no password in responses"
    );
    for k in [
        "id",
        "_guid",
        "createdBy",
        "createdAt",
        "updatedAt",
        "deletedAt",
        "firstName",
        "lastName",
        "isActive",
        "isLocked",
    ] {
        assert!(u.get(k).is_some(), "{k}");
    }
    let login = json!({"type": "password", "withPassword": {"emailOrUsername": "cersei.lannister", "password": "C3rs3i#L4nnist3r"}});
    assert_eq!(post(&gw, "/api/auth/login", login).await.status, 200);
    // A second sync updates the same user.
    let mut again = sync_body();
    again["firstName"] = json!("Cersei");
    let r = with_bearer(&gw, "PUT", "/api/users", &admin, again).await;
    assert_eq!(r.json()["id"], u["id"]);
    assert_eq!(r.json()["firstName"], "Cersei");
}

#[tokio::test]
async fn sync_by_internal_header_only_from_internal_peers() {
    let internal = gateway("", "[internal]\nnetworks = [\"127.0.0.1/32\"]\n").await;
    let headers = [("x-user-ctx", system_ctx())];
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = send(
        internal.addr,
        build("PUT", "/api/users", &h, sync_body().to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["createdBy"], "__system");
    // The same header from a peer outside [internal] networks is ignored.
    let r = send_from(
        "127.0.0.2".parse().unwrap(),
        internal.addr,
        build("PUT", "/api/users", &h, sync_body().to_string()),
    )
    .await;
    r.assert_error(401, "OBP-20001");
}

#[tokio::test]
async fn imported_bcrypt_hashes_verify() {
    let gw = gateway("", "[internal]\nnetworks = [\"127.0.0.1/32\"]\n").await;
    let ctx = system_ctx();
    let hash = bcrypt::hash("imported-password", 6).unwrap();
    let body = json!({"email": "old@example.com", "passwordHash": hash, "emailVerified": true});
    assert_eq!(
        send(
            gw.addr,
            build(
                "PUT",
                "/api/users",
                &[("x-user-ctx", &ctx)],
                body.to_string()
            )
        )
        .await
        .status,
        200
    );
    for _ in 0..2 {
        // The second login runs on the argon2id hash the first one stored.
        let r = post(
            &gw,
            "/api/auth/login",
            json!({"email": "old@example.com", "password": "imported-password"}),
        )
        .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    // A hash too dear to check (cost 31: about a day per login) is refused at import.
    let dear = format!("$2b$31${}", &hash[7..]);
    let body = json!({"email": "dear@example.com", "passwordHash": dear});
    send(
        gw.addr,
        build(
            "PUT",
            "/api/users",
            &[("x-user-ctx", &ctx)],
            body.to_string(),
        ),
    )
    .await
    .assert_error(400, "OBP-10001");
}

#[tokio::test]
async fn bearer_tokens_on_forwarded_routes() {
    let up = Upstream::start().await;
    let stranger_pub = keys().dir.join("stranger_public.pem").display().to_string();
    let external = format!(
        "[[bearer.issuers]]\nissuer = \"https://idp.example\"\naudience = \"dauth-proxy\"\npublic_keys = [{stranger_pub:?}]\n"
    );
    let gw = gateway(
        "",
        &format!(
            "{external}{}",
            route("/backend/", &format!("http://{}", up.addr), "required", "")
        ),
    )
    .await;
    let idp = EncodingKey::from_rsa_pem(keys().stranger.private_pem.as_bytes()).unwrap();
    let mint = |iss: &str, aud: &str, exp: i64| {
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &json!({"iss": iss, "aud": aud, "sub": "idp-user-7", "exp": exp, "email": "p@idp.example"}), &idp).unwrap()
    };
    let r = with_bearer(
        &gw,
        "GET",
        "/backend/x",
        &mint("https://idp.example", "dauth-proxy", now() + 300),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-auth-method").unwrap(), "bearer");
    // External subjects have ids of their own namespace, never their bare `sub`.
    assert_eq!(
        seen.get("x-dauth-user-id").unwrap(),
        dauth_proxy::auth::external_user_id("https://idp.example", "idp-user-7").as_str()
    );
    assert_eq!(seen.get("x-dauth-provider").unwrap(), "https://idp.example");
    assert_eq!(seen.get("x-dauth-username").unwrap(), "p@idp.example");
    assert!(
        seen.get("authorization").is_none(),
        "the verified token is not forwarded"
    );
    let count = up.seen().len();
    with_bearer(
        &gw,
        "GET",
        "/backend/x",
        &mint("https://idp.example", "dauth-proxy", now() - 300),
        Value::Null,
    )
    .await
    .assert_error(401, "DAUTH-2102");
    with_bearer(
        &gw,
        "GET",
        "/backend/x",
        &mint("https://idp.example", "someone-else", now() + 300),
        Value::Null,
    )
    .await
    .assert_error(401, "DAUTH-2105");
    with_bearer(
        &gw,
        "GET",
        "/backend/x",
        &mint("https://evil.example", "dauth-proxy", now() + 300),
        Value::Null,
    )
    .await
    .assert_error(401, "DAUTH-2104");
    // Right issuer name, wrong key.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &json!({"iss": "https://idp.example", "aud": "dauth-proxy", "sub": "x", "exp": now() + 300}),
        &EncodingKey::from_rsa_pem(keys().trusted.private_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    let r = with_bearer(&gw, "GET", "/backend/x", &forged, Value::Null).await;
    r.assert_error(401, "DAUTH-2101");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        up.seen().len(),
        count,
        "refused tokens never reach the upstream"
    );

    // This gateway's own access tokens work on routes too, as the stored user.
    let (access, _) = register_and_login(&gw, "local@example.com", "s3cret-pass").await;
    assert_eq!(
        with_bearer(&gw, "GET", "/backend/y", &access, Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(
        up.last().headers.get("x-dauth-username").unwrap(),
        "local@example.com"
    );
    assert_eq!(up.last().headers.get("x-dauth-provider").unwrap(), "local");
}

#[tokio::test]
async fn dauth_and_bearer_together_are_ambiguous() {
    let gw = gateway("", "").await;
    let (access, _) = register_and_login(&gw, "both@example.com", "s3cret-pass").await;
    let t = token(CONTRACT, "ETHEREUM");
    let auth = format!("Bearer {access}");
    let r = send(
        gw.addr,
        build(
            "GET",
            "/obp/v5.1.0/users/current",
            &[("DAuth", &t), ("authorization", &auth)],
            "",
        ),
    )
    .await;
    r.assert_error(400, "DAUTH-2011");
}

#[tokio::test]
async fn options_and_health_answers() {
    let gw = gateway("", "").await;
    let r = send(gw.addr, build("OPTIONS", "/api/auth/login", &[], "")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    assert_eq!(String::from_utf8_lossy(&r.body), "POST, OPTIONS");
    let r = support::get(gw.addr, "/api/health").await;
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).into_owned()),
        (200, "all good".to_owned())
    );
    send(gw.addr, build("GET", "/api/auth/login", &[], ""))
        .await
        .assert_error(405, "DAUTH-1405");
}

#[tokio::test]
async fn identity_endpoints_do_not_exist_without_an_issuer() {
    let gw = Gateway::start("", "").await;
    post(
        &gw,
        "/api/auth/register",
        json!({"email": "a@example.com", "password": "s3cret-pass"}),
    )
    .await
    .assert_error(404, "DAUTH-1404");
    support::get(gw.addr, "/.well-known/jwks.json")
        .await
        .assert_error(404, "DAUTH-1404");
}

/// A mail that cannot be sent answers 503 `DAUTH-5033`, and the log says why (the SMTP
/// failure, with its source), never a bare "mail unavailable".
#[tokio::test]
async fn a_mail_that_cannot_be_sent_answers_503_and_logs_why() {
    // A port nothing listens on: the SMTP connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dauth.toml");
    let mail = format!(
        "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nfrom = \"gw@example.com\"\n\
         starttls = false\n"
    );
    let extra = format!("{}{mail}", issuer_section("auto_confirm = false"));
    std::fs::write(
        &cfg,
        support::config_text(&dir.path().join("store"), "", &extra),
    )
    .unwrap();
    let gw = support::binary::Binary::spawn(&cfg);
    let body = json!({"email": "m@example.com", "password": "correct horse"}).to_string();
    let r = send(
        gw.addr,
        build(
            "POST",
            "/api/auth/register",
            &[("content-type", "application/json")],
            body,
        ),
    )
    .await;
    r.assert_error(503, "DAUTH-5033");
    let logged = gw
        .wait_for_line(
            &["mail not sent", "DAUTH-5033"],
            std::time::Duration::from_secs(10),
        )
        .expect("the failure is logged");
    assert!(logged.contains("SMTP"), "{logged}");
}
