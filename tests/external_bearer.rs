//! External bearer principals live in their own namespace (issue 11): a token from a
//! `[[bearer.issuers]]` entry whose `sub` is a local or DAuth user's id (which API responses
//! show) is not that user: it sees none of that user's views, cannot grant with them, and is
//! sent to backends under an id no local or DAuth user can have.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::upstream::Upstream;
use support::{CONTRACT, Gateway, keys, now, route, token};

const IDP: &str = "https://idp.example";
const OTHER_IDP: &str = "https://other-idp.example";

async fn gateway(up: &Upstream) -> Gateway {
    let key = |name: &str| keys().dir.join(name).display().to_string();
    let upstream = format!("http://{}", up.addr);
    let view_check = "account_path = \"/bank/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/\"\nrequire_permission = \"can_see_transaction_amount\"";
    let extra = format!(
        "[issuer]\nurl = \"http://gateway.test\"\nprivate_key = {:?}\nkid = \"test-1\"\n\
         [[bearer.issuers]]\nissuer = \"{IDP}\"\naudience = \"dauth-proxy\"\npublic_keys = [{:?}]\n\
         [[bearer.issuers]]\nissuer = \"{OTHER_IDP}\"\naudience = \"dauth-proxy\"\npublic_keys = [{:?}]\n{}{}",
        key("trusted_private.pem"),
        key("stranger_public.pem"),
        key("trusted_public.pem"),
        route("/bank/", &upstream, "required", view_check),
        route("/backend/", &upstream, "required", ""),
    );
    Gateway::start("", &extra).await
}

/// A token of `iss` (signed with its key) for `sub`.
fn external(iss: &str, sub: &str, extra: Value) -> String {
    let pem = if iss == IDP {
        &keys().stranger.private_pem
    } else {
        &keys().trusted.private_pem
    };
    let mut claims = json!({"iss": iss, "aud": "dauth-proxy", "sub": sub, "exp": now() + 300});
    if let (Some(c), Value::Object(more)) = (claims.as_object_mut(), extra) {
        c.extend(more);
    }
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

async fn call(gw: &Gateway, method: &str, path: &str, auth: (&str, &str), body: Value) -> Reply {
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
            &[auth, ("content-type", "application/json")],
            body,
        ),
    )
    .await
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

async fn current(gw: &Gateway, auth: (&str, &str)) -> Value {
    let r = call(gw, "GET", "/obp/v5.1.0/users/current", auth, Value::Null).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.json()
}

const ACC1: &str = "/obp/v4.0.0/banks/b1/accounts/a1";
const ACC2: &str = "/obp/v4.0.0/banks/b2/accounts/a2";

#[tokio::test]
async fn an_external_sub_equal_to_a_local_or_dauth_user_id_is_not_that_user() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    // A password user and a smart contract, each the owner of an account.
    let reg = json!({"email": "owner@example.com", "password": "s3cret-pass"});
    let r = send(
        gw.addr,
        build("POST", "/api/auth/register", &[], reg.to_string()),
    )
    .await;
    assert_eq!(r.status, 201);
    let r = send(
        gw.addr,
        build("POST", "/api/auth/login", &[], reg.to_string()),
    )
    .await;
    let local_token = bearer(r.json()["accessToken"].as_str().unwrap());
    let local = ("authorization", local_token.as_str());
    let local_id = current(&gw, local).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let label = json!({"label": "x"});
    assert_eq!(
        call(&gw, "PUT", ACC1, local, label.clone()).await.status,
        201
    );
    let dauth_token = token(CONTRACT, "ETHEREUM");
    let dauth_id = current(&gw, ("dauth", &dauth_token)).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(
            &gw,
            "PUT",
            ACC2,
            ("dauth", &token(CONTRACT, "ETHEREUM")),
            label
        )
        .await
        .status,
        201
    );

    for (victim, acc, bank) in [
        (&local_id, ACC1, "b1/accounts/a1"),
        (&dauth_id, ACC2, "b2/accounts/a2"),
    ] {
        let t = bearer(&external(
            IDP,
            victim,
            json!({"preferred_username": "owner@example.com"}),
        ));
        let ext = ("authorization", t.as_str());
        let me = current(&gw, ext).await;
        assert_ne!(me["user_id"], json!(victim), "{me}");
        assert_eq!(me["views"]["list"], json!([]), "{me}");
        // No owner view on the victim's account: the view check refuses, nothing is forwarded.
        let seen = up.seen().len();
        call(
            &gw,
            "GET",
            &format!("/bank/banks/{bank}/transactions"),
            ext,
            Value::Null,
        )
        .await
        .assert_error(403, "OBP-20017");
        assert_eq!(up.seen().len(), seen);
        // And nothing to grant with.
        let grant = json!({"user_id": victim, "view": {"view_id": "auditor", "is_system": true}});
        let r = call(
            &gw,
            "POST",
            &format!("{acc}/account-access/grant"),
            ext,
            grant,
        )
        .await;
        assert_eq!(r.status, 403, "{:?}", r.body);
        // The backend gets an id no local or DAuth user has, and the issuer as provider.
        assert_eq!(
            call(&gw, "GET", "/backend/x", ext, Value::Null)
                .await
                .status,
            200
        );
        let headers = up.last().headers;
        let id = headers.get("x-dauth-user-id").unwrap().to_str().unwrap();
        assert_eq!(id, me["user_id"].as_str().unwrap());
        assert!(
            id.starts_with("ext-") && uuid::Uuid::parse_str(id).is_err(),
            "{id}"
        );
        assert_eq!(headers.get("x-dauth-provider").unwrap(), IDP);
    }
}

#[tokio::test]
async fn external_ids_are_stable_per_issuer_and_subject() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let id_of = async |iss: &str, sub: &str| {
        let t = bearer(&external(iss, sub, Value::Null));
        current(&gw, ("authorization", &t)).await["user_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = id_of(IDP, "alice").await;
    assert_eq!(a, id_of(IDP, "alice").await, "stable across tokens");
    assert_ne!(a, id_of(OTHER_IDP, "alice").await, "issuer-qualified");
    assert_ne!(a, id_of(IDP, "alice2").await);
    // The backend sees that same id.
    let t = bearer(&external(IDP, "alice", Value::Null));
    let alice = ("authorization", t.as_str());
    assert_eq!(
        call(&gw, "GET", "/backend/x", alice, Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(
        up.last()
            .headers
            .get("x-dauth-user-id")
            .unwrap()
            .to_str()
            .unwrap(),
        a
    );
}
