//! The requests behind tests/openapi/samples.rs: each product's endpoints called as a client
//! would, successes and errors, on one gateway with every product configured.

use std::sync::OnceLock;

use dauth_proxy::auth::keys::{GeneratedPair, generate_rsa};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::samples::{Auth, Run};
use crate::support::smtp::{Smtp, code_in};
use crate::support::{install, keys, now};

const ISSUER: &str = "http://gateway.test";
const SIWE_URI: &str = "http://gateway.test/auth/siwe/login";
/// keccak256("dauth-proxy test key: SIWE signer") (tests/fixtures/wallets/siwe.json).
const SIWE_KEY: &str = "0x6fed41d0ac417c29086b3573554a526e88a9b4d10519d96b247bf8dddd6e7e9c";
const SIWE_ADDRESS: &str = "0x62bD6B7765a02B1C8A262887Ed41fD8db9dAC39B";
const HOLDER: &str = "0x00000000000000000000000000000000000000a1";
const GRANTEE: &str = "0x00000000000000000000000000000000000000b2";
const ACC4: &str = "/obp/v4.0.0/banks/b1/accounts/a1";
const ACC51: &str = "/obp/v5.1.0/banks/b1/accounts/a1/views/owner";
const ADMIN: &str = "admin@example.com";
const NO: Value = Value::Null;

fn client_key() -> &'static (GeneratedPair, tempfile::TempDir) {
    static K: OnceLock<(GeneratedPair, tempfile::TempDir)> = OnceLock::new();
    K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate_rsa(2048).unwrap();
        std::fs::write(dir.path().join("client.pem"), &pair.public_pem).unwrap();
        (pair, dir)
    })
}

/// The issuer, an administrator's address, mail, one client with every scope, and wallets.
pub(crate) fn config(smtp: &Smtp) -> String {
    let issuer_key = keys().dir.join("trusted_private.pem").display().to_string();
    let client = client_key()
        .1
        .path()
        .join("client.pem")
        .display()
        .to_string();
    format!(
        "[issuer]\nurl = \"{ISSUER}\"\nprivate_key = {issuer_key:?}\nkid = \"t\"\n\
         [accounts]\nadmin_emails = [\"{ADMIN}\"]\n{mail}\
         [[clients]]\nclient_id = \"client-a\"\nname = \"Client A\"\npublic_keys = [{client:?}]\n\
         scopes = [\"user:create\", \"user:read\", \"user:delete\"]\n\
         [wallets]\nenabled = true\ndomain = \"gateway.test\"\nuri = {SIWE_URI:?}\n\
         chains = {{ \"1\" = \"ETHEREUM\" }}\n",
        mail = smtp.config()
    )
}

/// Liveness, the document itself, keys and discovery.
pub(crate) async fn gateway(run: &mut Run) {
    for path in [
        "/health",
        "/openapi.json",
        "/api/health",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
    ] {
        run.call("GET", path, &[], "", 200).await;
    }
}

/// OBP: the current user, an account, its views, and every access change, by DAuth callers.
pub(crate) async fn obp(run: &mut Run) {
    let (a, none) = (Auth::Dauth(HOLDER), Auth::None);
    run.json("GET", "/obp/v5.1.0/users/current", &none, NO, 401)
        .await;
    let b = run
        .json(
            "GET",
            "/obp/v3.0.0/users/current",
            &Auth::Dauth(GRANTEE),
            NO,
            200,
        )
        .await;
    let uid = b["user_id"].as_str().unwrap().to_owned();
    let label = json!({"label": "Savings"});
    run.json("PUT", ACC4, &a, label.clone(), 201).await;
    run.json("PUT", ACC4, &a, label, 409).await;
    let views = format!("{ACC4}/views");
    run.json("GET", &views, &a, NO, 200).await;
    run.json("GET", &views, &none, NO, 401).await;
    let custom = json!({"name": "_family", "description": "Family",
                        "allowed_actions": ["can_see_transaction_amount"]});
    run.json("POST", &views, &a, custom, 201).await;
    let uaa = json!({"username": GRANTEE, "provider": "dauth.ETHEREUM",
                     "views": [{"view_id": "auditor", "is_system": true}]});
    run.json("POST", &format!("{ACC4}/user-account-access"), &a, uaa, 201)
        .await;
    let grant = json!({"user_id": uid, "view": {"view_id": "accountant", "is_system": true}});
    let path = format!("{ACC4}/account-access/grant");
    run.json("POST", &path, &a, grant.clone(), 201).await;
    run.json("POST", &path, &a, json!({"user_id": 1}), 400)
        .await;
    run.json(
        "POST",
        &format!("{ACC4}/account-access/revoke"),
        &a,
        grant,
        201,
    )
    .await;
    let v51 = json!({"user_id": uid, "view_id": "accountant"});
    let path = format!("{ACC51}/account-access/grant");
    run.json("POST", &path, &a, v51.clone(), 201).await;
    run.json(
        "POST",
        &format!("{ACC51}/account-access/revoke"),
        &a,
        v51,
        201,
    )
    .await;
    let c3 = json!({"username": "0x00000000000000000000000000000000000000c3",
                    "provider": "ETHEREUM", "view_id": "auditor"});
    run.json("POST", &format!("{ACC51}/user-account-access"), &a, c3, 201)
        .await;
    let own = json!({"views": ["owner", "auditor"]});
    run.json("PUT", &format!("{ACC4}/account-access"), &a, own, 201)
        .await;
    let mine = run
        .json("GET", "/obp/v5.1.0/users/current", &a, NO, 200)
        .await;
    assert!(
        !mine["views"]["list"].as_array().unwrap().is_empty(),
        "{mine}"
    );
}

/// The user service: an administrator registers, confirms, logs in, edits itself, syncs a
/// user, and resets its password.
pub(crate) async fn people(run: &mut Run, smtp: &Smtp) {
    let none = Auth::None;
    let password = "correct horse battery";
    let reg = json!({"email": ADMIN, "password": password, "firstname": "Ada"});
    run.json("POST", "/api/auth/register", &none, reg, 201)
        .await;
    run.json(
        "POST",
        "/api/auth/register",
        &none,
        json!({"email": 1}),
        400,
    )
    .await;
    let code = code_in(&smtp.wait_for(ADMIN).await, "confirmation code is ");
    run.json(
        "POST",
        "/api/auth/confirm",
        &none,
        json!({"code": code}),
        200,
    )
    .await;
    let creds = json!({"email": ADMIN, "password": password});
    let login = run.json("POST", "/api/auth/login", &none, creds, 200).await;
    let wrong = json!({"email": "nobody@example.com", "password": password});
    run.json("POST", "/api/auth/login", &none, wrong, 401).await;
    let refresh = json!({"refreshToken": login["refreshToken"]});
    let fresh = run
        .json("POST", "/api/auth/refresh", &none, refresh, 200)
        .await;
    let me = Auth::Bearer(fresh["accessToken"].as_str().unwrap().to_owned());
    run.json("GET", "/api/users/me", &me, NO, 200).await;
    run.json("GET", "/api/users/me", &none, NO, 401).await;
    run.json(
        "PATCH",
        "/api/users/me",
        &me,
        json!({"firstname": "Ada"}),
        200,
    )
    .await;
    run.json("GET", "/api/users/me/profile", &me, NO, 200).await;
    let attr = json!({"attributeKey": "k", "attributeText": "v"});
    run.json("PUT", "/api/users/me/attributes", &me, attr, 200)
        .await;
    run.json("GET", "/api/users/me/attributes", &me, NO, 200)
        .await;
    run.json("DELETE", "/api/users/me/attributes/k", &me, NO, 200)
        .await;
    let sync = json!({"email": "synced@example.com", "password": "synced-password",
                      "emailVerified": true});
    run.json("PUT", "/api/users", &me, sync.clone(), 200).await;
    run.json("PUT", "/api/users", &none, sync.clone(), 401)
        .await;
    run.json("PUT", "/api/users/", &me, sync, 200).await;
    let reset = json!({"email": ADMIN});
    run.json("POST", "/api/auth/password-reset", &none, reset, 200)
        .await;
    let mail = smtp.wait_for_text(ADMIN, "reset code is ").await;
    let code = code_in(&mail, "reset code is ");
    let confirm = json!({"email": ADMIN, "code": code, "password": "another horse battery"});
    run.json(
        "POST",
        "/api/auth/password-reset/confirm",
        &none,
        confirm,
        200,
    )
    .await;
}

/// A `private_key_jwt` client assertion for the token endpoint (RFC 7523 3).
fn assertion() -> String {
    let aud = format!("{ISSUER}/oidc/token");
    let claims = json!({"iss": "client-a", "sub": "client-a", "aud": aud, "iat": now(),
                        "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string()});
    let key = EncodingKey::from_rsa_pem(client_key().0.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

/// A client-credentials token, then the users API with it.
pub(crate) async fn services(run: &mut Run) {
    let form = |fields: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
    };
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    let jwt = assertion();
    let body = form(&[
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", &jwt),
    ]);
    let r = run.call("POST", "/oidc/token", &ct, &body, 200).await;
    let client = Auth::Bearer(r.json()["access_token"].as_str().unwrap().to_owned());
    run.call("POST", "/oidc/token", &ct, &form(&[("scope", "x")]), 400)
        .await;
    let made = run
        .json(
            "POST",
            "/users",
            &client,
            json!({"clientUserId": "c-1"}),
            201,
        )
        .await;
    run.json("POST", "/users", &Auth::None, json!({}), 401)
        .await;
    run.json("GET", "/users?limit=10", &client, NO, 200).await;
    let path = format!("/users/{}", made["userId"].as_str().unwrap());
    run.json("GET", &path, &client, NO, 200).await;
    run.json("DELETE", &path, &client, NO, 200).await;
    run.json("GET", "/users/no-such-user", &client, NO, 404)
        .await;
}

/// A SIWE nonce, the message signed by a wallet (viem, as in tests/siwe.rs), the login, and
/// the same message again (its nonce is spent).
pub(crate) async fn wallets(run: &mut Run) {
    let none = Auth::None;
    let ask = json!({"address": SIWE_ADDRESS, "chain_id": 1});
    let n = run.json("POST", "/auth/siwe/nonce", &none, ask, 200).await;
    run.json(
        "POST",
        "/auth/siwe/nonce",
        &none,
        json!({"address": 1}),
        400,
    )
    .await;
    let script = install::npm_tool("siwe-sign.mjs");
    install::npm_tool("node_modules/viem/package.json");
    let spec = json!({"private_key": SIWE_KEY, "domain": "gateway.test", "uri": SIWE_URI,
                      "chain_id": 1, "nonce": n["nonce"]});
    let signed = install::run_node(&script, &spec);
    let login = json!({"message": signed["message"], "signature": signed["signature"]});
    run.json("POST", "/auth/siwe/login", &none, login.clone(), 200)
        .await;
    run.json("POST", "/auth/siwe/login", &none, login, 401)
        .await;
}
