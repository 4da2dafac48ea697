//! Service clients over real HTTP: client-credentials tokens from `private_key_jwt` assertions
//! signed with keys generated in the test, every RFC 6749 error, and the users API with and
//! without each scope.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::OnceLock;

use dauth_proxy::auth::keys::{GeneratedPair, generate_rsa};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::upstream::Upstream;
use support::{Gateway, keys, now, route};

const ISSUER: &str = "http://gateway.test";
const TOKEN_URL: &str = "http://gateway.test/oidc/token";

struct ClientKeys {
    a: GeneratedPair,
    b: GeneratedPair,
    dir: tempfile::TempDir,
}

fn client_keys() -> &'static ClientKeys {
    static K: OnceLock<ClientKeys> = OnceLock::new();
    K.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (generate_rsa(2048).unwrap(), generate_rsa(2048).unwrap());
        std::fs::write(dir.path().join("a.pem"), &a.public_pem).unwrap();
        std::fs::write(dir.path().join("b.pem"), &b.public_pem).unwrap();
        ClientKeys { a, b, dir }
    })
}

fn config(extra: &str) -> String {
    let issuer_key = keys().dir.join("trusted_private.pem").display().to_string();
    let k = client_keys();
    let a = k.dir.path().join("a.pem").display().to_string();
    let b = k.dir.path().join("b.pem").display().to_string();
    format!(
        "[issuer]\nurl = \"{ISSUER}\"\nprivate_key = {issuer_key:?}\nkid = \"test-1\"\n\
         [[clients]]\nclient_id = \"client-a\"\nname = \"Client A\"\npublic_keys = [{a:?}]\nscopes = [\"user:create\", \"user:read\"]\n\
         [[clients]]\nclient_id = \"client-b\"\nname = \"Client B\"\npublic_keys = [{b:?}]\nscopes = [\"user:create\", \"user:read\", \"user:delete\"]\n{extra}"
    )
}

async fn gateway(extra: &str) -> Gateway {
    Gateway::start("", &config(extra)).await
}

fn assertion_with(pem: &str, claims: &Value, alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn claims(client: &str) -> Value {
    json!({"iss": client, "sub": client, "aud": TOKEN_URL, "iat": now(), "exp": now() + 60, "jti": uuid::Uuid::new_v4().to_string()})
}

fn assertion_a() -> String {
    assertion_with(
        &client_keys().a.private_pem,
        &claims("client-a"),
        Algorithm::RS256,
    )
}

async fn token_request(gw: &Gateway, fields: &[(&str, &str)]) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    send(
        gw.addr,
        build(
            "POST",
            "/oidc/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        ),
    )
    .await
}

async fn token(gw: &Gateway, assertion: &str, scope: Option<&str>) -> Reply {
    let mut f = vec![
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    if let Some(s) = scope {
        f.push(("scope", s));
    }
    token_request(gw, &f).await
}

async fn access(gw: &Gateway, pem: &str, client: &str, scope: &str) -> String {
    let r = token(
        gw,
        &assertion_with(pem, &claims(client), Algorithm::RS256),
        Some(scope),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

#[track_caller]
fn assert_oauth(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(r.json()["error"], error, "{:?}", r.json());
    assert!(r.json()["error_description"].is_string());
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

async fn call(gw: &Gateway, method: &str, path: &str, token: &str, body: Value) -> Reply {
    let auth = format!("Bearer {token}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        gw.addr,
        build(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        ),
    )
    .await
}

#[tokio::test]
async fn client_credentials_token_flow() {
    let gw = gateway("").await;
    let r = token(&gw, &assertion_a(), Some("user:create")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = r.json();
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["scope"], "user:create");
    assert!(b["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Without scope, all of the client's scopes.
    assert_eq!(
        token(&gw, &assertion_a(), None).await.json()["scope"],
        "user:create user:read"
    );
    // curl --form (multipart), as seed 000 shows.
    let boundary = "------------------------d74496d66958873e";
    let parts = [
        ("scope", "user:read"),
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
    ];
    let mut body = String::new();
    let assertion = assertion_a();
    for (k, v) in parts
        .iter()
        .copied()
        .chain([("client_assertion", assertion.as_str())])
    {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let ctype = format!("multipart/form-data; boundary={boundary}");
    let r = send(
        gw.addr,
        build("POST", "/oidc/token", &[("content-type", &ctype)], body),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.json()["scope"], "user:read");
}

#[tokio::test]
async fn every_rfc_6749_error() {
    let gw = gateway("").await;
    let k = client_keys();
    assert_oauth(
        &token_request(&gw, &[("client_assertion", &assertion_a())]).await,
        400,
        "invalid_request",
    );
    let r = token_request(
        &gw,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
    )
    .await;
    assert_oauth(&r, 400, "invalid_request");
    let r = send(
        gw.addr,
        build(
            "POST",
            "/oidc/token",
            &[("content-type", "application/json")],
            "{}",
        ),
    )
    .await;
    assert_oauth(&r, 400, "invalid_request");
    assert_oauth(
        &token_request(&gw, &[("grant_type", "password")]).await,
        400,
        "unsupported_grant_type",
    );
    assert_oauth(
        &token_request(&gw, &[("grant_type", "client_credentials")]).await,
        401,
        "invalid_client",
    );
    let mut unknown = claims("nobody");
    unknown["sub"] = json!("nobody");
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.a.private_pem, &unknown, Algorithm::RS256),
            None,
        )
        .await,
        401,
        "invalid_client",
    );
    // Signed with client B's key but claiming to be A.
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.b.private_pem, &claims("client-a"), Algorithm::RS256),
            None,
        )
        .await,
        401,
        "invalid_client",
    );
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("client-a"),
        &EncodingKey::from_secret(k.a.public_pem.as_bytes()),
    )
    .unwrap();
    assert_oauth(&token(&gw, &hs, None).await, 401, "invalid_client");
    let mut wrong_aud = claims("client-a");
    wrong_aud["aud"] = json!("https://elsewhere.example/oidc/token");
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.a.private_pem, &wrong_aud, Algorithm::RS256),
            None,
        )
        .await,
        400,
        "invalid_grant",
    );
    let mut expired = claims("client-a");
    expired["exp"] = json!(now() - 120);
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.a.private_pem, &expired, Algorithm::RS256),
            None,
        )
        .await,
        400,
        "invalid_grant",
    );
    let mut far = claims("client-a");
    far["exp"] = json!(now() + 3600);
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.a.private_pem, &far, Algorithm::RS256),
            None,
        )
        .await,
        400,
        "invalid_grant",
    );
    let mut other_sub = claims("client-a");
    other_sub["sub"] = json!("client-b");
    assert_oauth(
        &token(
            &gw,
            &assertion_with(&k.a.private_pem, &other_sub, Algorithm::RS256),
            None,
        )
        .await,
        400,
        "invalid_grant",
    );
    let once = assertion_a();
    assert_eq!(token(&gw, &once, None).await.status, 200);
    assert_oauth(&token(&gw, &once, None).await, 400, "invalid_grant");
    assert_oauth(
        &token(&gw, &assertion_a(), Some("user:create user:delete")).await,
        400,
        "invalid_scope",
    );
}

#[tokio::test]
async fn discovery_describes_the_token_endpoint() {
    let gw = gateway("").await;
    let d = support::get(gw.addr, "/.well-known/openid-configuration")
        .await
        .json();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["token_endpoint"], TOKEN_URL);
    assert_eq!(d["jwks_uri"], "http://gateway.test/.well-known/jwks.json");
    assert_eq!(d["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert!(
        d["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
}

#[tokio::test]
async fn users_api_with_and_without_each_scope() {
    let gw = gateway("").await;
    let k = client_keys();
    let create = access(&gw, &k.a.private_pem, "client-a", "user:create").await;
    let read = access(&gw, &k.a.private_pem, "client-a", "user:read").await;
    let r = call(
        &gw,
        "POST",
        "/users",
        &create,
        json!({"clientUserId": "my-id"}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let u = r.json();
    for f in [
        "userId",
        "clientUserId",
        "clientId",
        "createdAt",
        "updatedAt",
        "scopes",
        "managedBy",
        "lastAccessed",
        "deletedAt",
        "userType",
        "clientName",
        "connectionIds",
    ] {
        assert!(u.get(f).is_some(), "{f} missing from {u}");
    }
    assert_eq!(
        (
            u["clientUserId"].as_str(),
            u["clientId"].as_str(),
            u["clientName"].as_str()
        ),
        (Some("my-id"), Some("client-a"), Some("Client A"))
    );
    assert_eq!(u["managedBy"], "client");
    assert_eq!(u["deletedAt"], Value::Null);
    let id = u["userId"].as_str().unwrap().to_owned();
    call(
        &gw,
        "POST",
        "/users",
        &create,
        json!({"clientUserId": "my-id"}),
    )
    .await
    .assert_error(409, "DAUTH-4105");
    assert_eq!(
        call(&gw, "POST", "/users", &create, Value::Null)
            .await
            .status,
        201,
        "clientUserId is optional"
    );
    let r = call(&gw, "POST", "/users", &read, json!({})).await;
    r.assert_error(403, "DAUTH-4102");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );

    let r = call(&gw, "GET", &format!("/users/{id}"), &read, Value::Null).await;
    assert_eq!(r.json()["userId"], id.as_str());
    call(&gw, "GET", &format!("/users/{id}"), &create, Value::Null)
        .await
        .assert_error(403, "DAUTH-4102");
    call(&gw, "GET", "/users/no-such-user", &read, Value::Null)
        .await
        .assert_error(404, "DAUTH-4104");
    let list = call(&gw, "GET", "/users?limit=1&offset=0", &read, Value::Null)
        .await
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["meta"]["total"], 2);
    let filtered = call(&gw, "GET", "/users?clientUserId=my-id", &read, Value::Null)
        .await
        .json();
    assert_eq!(filtered["data"][0]["userId"], id.as_str());
    call(&gw, "GET", "/users?limit=0", &read, Value::Null)
        .await
        .assert_error(400, "DAUTH-4106");
    call(&gw, "GET", "/users", &create, Value::Null)
        .await
        .assert_error(403, "DAUTH-4102");
    // Client A has no user:delete.
    call(&gw, "DELETE", &format!("/users/{id}"), &read, Value::Null)
        .await
        .assert_error(403, "DAUTH-4102");
    send(gw.addr, build("GET", "/users", &[], ""))
        .await
        .assert_error(401, "OBP-20001");
}

#[tokio::test]
async fn clients_see_only_their_own_users_and_deleted_users_get_no_tokens() {
    let up = Upstream::start().await;
    let gw = gateway(&route(
        "/backend/",
        &format!("http://{}", up.addr),
        "required",
        "",
    ))
    .await;
    let k = client_keys();
    let b_all = access(
        &gw,
        &k.b.private_pem,
        "client-b",
        "user:create user:read user:delete",
    )
    .await;
    let r = call(
        &gw,
        "POST",
        "/users",
        &b_all,
        json!({"clientUserId": "b-user"}),
    )
    .await;
    let id = r.json()["userId"].as_str().unwrap().to_owned();
    let a_read = access(&gw, &k.a.private_pem, "client-a", "user:read").await;
    call(&gw, "GET", &format!("/users/{id}"), &a_read, Value::Null)
        .await
        .assert_error(404, "DAUTH-4104");
    assert_eq!(
        call(&gw, "GET", "/users", &a_read, Value::Null)
            .await
            .json()["meta"]["total"],
        0
    );

    // A token acting for the user (seed 000's ongoing access) works until the user is deleted.
    let r = acting(&gw, &id).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let user_token = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&gw, "GET", "/backend/me", &user_token, Value::Null)
            .await
            .status,
        200
    );
    let seen = up.last().headers;
    assert_eq!(seen.get("x-dauth-user-id").unwrap(), id.as_str());
    assert_eq!(seen.get("x-dauth-provider").unwrap(), "client-b");
    assert_eq!(seen.get("x-dauth-username").unwrap(), "b-user");
    assert!(
        call(&gw, "GET", &format!("/users/{id}"), &b_all, Value::Null)
            .await
            .json()["lastAccessed"]
            .is_string()
    );
    // The acting token is not a client token for the users API.
    call(&gw, "GET", "/users", &user_token, Value::Null)
        .await
        .assert_error(403, "DAUTH-4101");

    let r = call(&gw, "DELETE", &format!("/users/{id}"), &b_all, Value::Null).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["deletedAt"].is_string());
    call(&gw, "DELETE", &format!("/users/{id}"), &b_all, Value::Null)
        .await
        .assert_error(404, "DAUTH-4104");
    assert_oauth(&acting(&gw, &id).await, 400, "invalid_grant");
    call(&gw, "GET", "/backend/me", &user_token, Value::Null)
        .await
        .assert_error(401, "DAUTH-2101");
    assert_eq!(
        call(&gw, "GET", "/users", &b_all, Value::Null).await.json()["meta"]["total"],
        0
    );
}

/// A token request by client B acting for its user `id`.
async fn acting(gw: &Gateway, id: &str) -> Reply {
    let a = assertion_with(
        &client_keys().b.private_pem,
        &claims("client-b"),
        Algorithm::RS256,
    );
    token_request(
        gw,
        &[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
            ("sub", id),
        ],
    )
    .await
}

#[tokio::test]
async fn other_principals_are_not_clients() {
    let gw = Gateway::start(
        "",
        &format!("{}[accounts]\nauto_confirm = true\n", config("")),
    )
    .await;
    let reg = json!({"email": "p@example.com", "password": "s3cret-pass"}).to_string();
    send(
        gw.addr,
        build("POST", "/api/auth/register", &[], reg.clone()),
    )
    .await;
    let login = send(gw.addr, build("POST", "/api/auth/login", &[], reg))
        .await
        .json();
    let person = login["accessToken"].as_str().unwrap();
    call(&gw, "GET", "/users", person, Value::Null)
        .await
        .assert_error(403, "DAUTH-4101");
}

#[tokio::test]
async fn admin_cli_registers_clients_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dauth.toml");
    let issuer_key = keys().dir.join("trusted_private.pem").display().to_string();
    let text = support::config_text(
        &dir.path().join("store"),
        "",
        &format!("[issuer]\nurl = \"{ISSUER}\"\nprivate_key = {issuer_key:?}\nkid = \"k\"\n"),
    );
    std::fs::write(&cfg, text).unwrap();
    let c = cfg.to_str().unwrap();
    let key = client_keys().dir.path().join("a.pem").display().to_string();
    let add = [
        "admin",
        "--config",
        c,
        "client",
        "add",
        "--client-id",
        "stored-client",
        "--name",
        "Stored",
        "--scope",
        "user:read",
        "--public-key",
        &key,
    ];
    let (code, _, err) = support::binary::run(&add);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = support::binary::run(&add);
    assert_eq!(code, 64, "{err}");
    let (_, out, _) = support::binary::run(&["admin", "--config", c, "client", "list"]);
    assert!(out.contains("stored-client"), "{out}");

    let gw = support::binary::Binary::spawn(&cfg);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion_with(
                    &client_keys().a.private_pem,
                    &claims("stored-client"),
                    Algorithm::RS256,
                ),
            ),
        ])
        .finish();
    let r = send(
        gw.addr,
        build(
            "POST",
            "/oidc/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(gw.terminate().code(), Some(0));

    let (code, _, err) = support::binary::run(&[
        "admin",
        "--config",
        c,
        "client",
        "remove",
        "--client-id",
        "stored-client",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = support::binary::run(&[
        "admin",
        "--config",
        c,
        "client",
        "remove",
        "--client-id",
        "stored-client",
    ]);
    assert_eq!(code, 64);
}

/// `dauth-proxy client-assertion` with the flags of `base`, each replaced by its value in
/// `over` when `over` names it too, then the other flags of `over`.
fn cli_assertion(base: &[(&str, &str)], over: &[(&str, &str)]) -> (i32, String, String) {
    let mut flags: Vec<(&str, &str)> = base.to_vec();
    for &(flag, value) in over {
        match flags.iter_mut().find(|(f, _)| *f == flag) {
            Some(slot) => slot.1 = value,
            None => flags.push((flag, value)),
        }
    }
    let mut args = vec!["client-assertion"];
    args.extend(flags.iter().flat_map(|&(f, v)| [f, v]));
    support::binary::run(&args)
}

#[tokio::test]
async fn the_client_assertion_command_signs_what_the_token_endpoint_accepts() {
    let gw = gateway("").await;
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("a_private.pem");
    std::fs::write(&private, &client_keys().a.private_pem).unwrap();
    let key = private.to_str().unwrap();
    let base = [
        ("--private-key", key),
        ("--client-id", "client-a"),
        ("--token-endpoint", TOKEN_URL),
    ];

    let mut seen = Vec::new();
    for extra in [
        &[][..],
        &[("--alg", "PS256"), ("--kid", "k-1"), ("--ttl", "300")][..],
    ] {
        let (code, out, err) = cli_assertion(&base, extra);
        assert_eq!(code, 0, "{extra:?}: {err}");
        let assertion = out.trim().to_owned();
        let header = jsonwebtoken::decode_header(&assertion).unwrap();
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(&assertion).unwrap();
        assert_eq!(claims["iss"], "client-a");
        assert_eq!(claims["sub"], "client-a");
        assert_eq!(claims["aud"], TOKEN_URL);
        let iat = claims["iat"].as_i64().unwrap();
        assert!((now() - iat).abs() < 30, "{claims}");
        let ttl = if extra.is_empty() { 60 } else { 300 };
        assert_eq!(claims["exp"].as_i64().unwrap() - iat, ttl, "{claims}");
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        if extra.is_empty() {
            assert_eq!(header.alg, Algorithm::RS256);
            assert_eq!(header.kid, None);
        } else {
            assert_eq!(header.alg, Algorithm::PS256);
            assert_eq!(header.kid.as_deref(), Some("k-1"));
        }
        let r = token(&gw, &assertion, Some("user:read")).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.json()["scope"], "user:read");
        // Its jti is fresh each time, and accepted once.
        assert_oauth(&token(&gw, &assertion, None).await, 400, "invalid_grant");
        seen.push(claims["jti"].clone());
    }
    assert_ne!(seen[0], seen[1]);

    // What the token endpoint would refuse is refused here, before anything is signed.
    let public = dir.path().join("a_public.pem");
    std::fs::write(&public, &client_keys().a.public_pem).unwrap();
    let public = public.to_str().unwrap();
    for (args, named) in [
        (vec![("--ttl", "301")], "--ttl"),
        (vec![("--ttl", "0")], "--ttl"),
        (vec![("--alg", "HS256")], "--alg"),
        (vec![("--alg", "ES256")], "--alg"),
        (vec![("--client-id", "")], "--client-id"),
        (vec![("--token-endpoint", "not a url")], "--token-endpoint"),
        (vec![("--private-key", public)], "a_public.pem"),
    ] {
        let (code, out, err) = cli_assertion(&base, &args);
        assert_eq!(code, 64, "{args:?} was accepted: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(named), "{args:?}: {err}");
    }
}
