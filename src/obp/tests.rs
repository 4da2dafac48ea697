//! The OBP handlers called directly, without a socket: a request head, a body as bytes, the
//! gateway's state over a temporary store. What a handler answers, an error included, is
//! rendered as the pipeline renders it.

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::auth::{AuthMethod, Principal};
use crate::config::Config;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::read::Payload;
use crate::http::render::error_response;
use crate::state::State;
use crate::state::call::Call;
use crate::store::sled::SledStore;

const NOW: i64 = 1_800_000_000;
const ACCOUNT: &str = "/obp/v4.0.0/banks/bank.1/accounts/acc-1";

async fn state() -> State {
    let config = Config::from_toml(
        "[dauth]\nenabled = false\n",
        std::path::Path::new("obp-tests.toml"),
    )
    .unwrap();
    State::new(config, SledStore::temporary().unwrap().stores(0))
        .await
        .unwrap()
}

/// A DAuth caller for `address`, got-or-created in the store.
async fn caller(state: &State, address: &str) -> Principal {
    let user = state
        .shared()
        .store
        .users
        .get_or_create_dauth_user("ETHEREUM", address, NOW)
        .await
        .unwrap();
    Principal {
        user,
        method: AuthMethod::Dauth,
        consumer_key: Some("obp-tests".into()),
        msg_sender: None,
        bearer: None,
        relay: None,
    }
}

/// What the client gets: a handler's answer, or its error rendered as the pipeline renders it.
async fn answer(result: Result<Response<Body>, Error>) -> (StatusCode, Value) {
    let resp = result.unwrap_or_else(|e| error_response(&e));
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// `method path` with `body`, by `who`, through the account handlers.
async fn account(
    state: &State,
    who: &Principal,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (head, ()) = http::Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .unwrap()
        .into_parts();
    let policy = state.policy();
    let call = Call {
        shared: state.shared(),
        policy: &policy,
        head: &head,
        peer: std::net::Ipv4Addr::LOCALHOST.into(),
        now: NOW,
    };
    let path = super::paths::parse(path).unwrap();
    let body = if body.is_null() {
        Payload::default()
    } else {
        Payload::new(Bytes::from(body.to_string()))
    };
    answer(super::accounts::serve(&call, path, who, body).await).await
}

/// `GET /obp/v5.1.0/users/current` by `who`.
async fn current_user(state: &State, who: &Principal) -> (StatusCode, Value) {
    let (head, ()) = http::Request::get("/obp/v5.1.0/users/current")
        .body(())
        .unwrap()
        .into_parts();
    let policy = state.policy();
    let call = Call {
        shared: state.shared(),
        policy: &policy,
        head: &head,
        peer: std::net::Ipv4Addr::LOCALHOST.into(),
        now: NOW,
    };
    answer(super::users::current_user(&call, who).await).await
}

fn view_ids(views: &Value) -> Vec<String> {
    views["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}/{}/{}", r["bank_id"], r["account_id"], r["view_id"]).replace('"', ""))
        .collect()
}

#[tokio::test]
async fn users_current_shows_the_caller_and_the_views_it_holds() {
    let state = state().await;
    let owner = caller(&state, "0x00000000000000000000000000000000000000a1").await;
    let (status, me) = current_user(&state, &owner).await;
    assert_eq!(status, 200);
    assert_eq!(me["user_id"], json!(owner.user.user_id));
    assert_eq!(me["provider"], "ETHEREUM");
    assert!(view_ids(&me["views"]).is_empty());
    let (status, _) = account(&state, &owner, Method::PUT, ACCOUNT, json!({"label": "L"})).await;
    assert_eq!(status, 201);
    let (_, me) = current_user(&state, &owner).await;
    assert_eq!(view_ids(&me["views"]), ["bank.1/acc-1/owner"]);
}

#[tokio::test]
async fn an_account_is_created_shared_listed_and_unshared() {
    let state = state().await;
    let owner = caller(&state, "0x00000000000000000000000000000000000000a1").await;
    let other = caller(&state, "0x00000000000000000000000000000000000000b2").await;
    let (status, created) = account(
        &state,
        &owner,
        Method::PUT,
        ACCOUNT,
        json!({"label": "Checking"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["views"], json!(["owner"]));

    let grant =
        json!({"user_id": other.user.user_id, "view": {"view_id": "auditor", "is_system": true}});
    let path = format!("{ACCOUNT}/account-access/grant");
    let (status, view) = account(&state, &owner, Method::POST, &path, grant.clone()).await;
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["id"], "auditor");
    let (_, theirs) = current_user(&state, &other).await;
    assert_eq!(view_ids(&theirs["views"]), ["bank.1/acc-1/auditor"]);

    let path = format!("{ACCOUNT}/views");
    let (status, views) = account(&state, &owner, Method::GET, &path, Value::Null).await;
    assert_eq!(status, 200, "{views}");
    let ids: Vec<&str> = views["views"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(ids, ["owner", "accountant", "auditor", "standard"]);

    let path = format!("{ACCOUNT}/account-access/revoke");
    let (status, revoked) = account(&state, &owner, Method::POST, &path, grant).await;
    assert_eq!(status, 201, "{revoked}");
    assert_eq!(revoked, json!({"revoked": true}));
    let (_, theirs) = current_user(&state, &other).await;
    assert!(view_ids(&theirs["views"]).is_empty());
}

#[tokio::test]
async fn refusals_are_rendered_as_the_error_table_says() {
    let state = state().await;
    let owner = caller(&state, "0x00000000000000000000000000000000000000a1").await;
    let other = caller(&state, "0x00000000000000000000000000000000000000b2").await;
    let body = json!({"label": "L"});
    assert_eq!(
        account(&state, &owner, Method::PUT, ACCOUNT, body.clone())
            .await
            .0,
        201
    );
    let expect = |(status, v): (StatusCode, Value), code: u16, prefix: &str| {
        assert_eq!(status.as_u16(), code, "{v}");
        assert_eq!(v["code"], json!(code), "{v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(prefix), "{message}");
    };
    expect(
        account(&state, &owner, Method::PUT, ACCOUNT, body).await,
        409,
        "OBP-30208: ",
    );
    let grant =
        json!({"user_id": owner.user.user_id, "view": {"view_id": "auditor", "is_system": true}});
    let path = format!("{ACCOUNT}/account-access/grant");
    expect(
        account(&state, &other, Method::POST, &path, grant).await,
        403,
        "OBP-20047: ",
    );
    expect(
        account(&state, &owner, Method::POST, &path, json!("not an object")).await,
        400,
        "OBP-10001: Incorrect json format. The Json body should be the PostAccountAccessJsonV400",
    );
    let missing = "/obp/v4.0.0/banks/bank.1/accounts/acc-9/views";
    expect(
        account(&state, &owner, Method::GET, missing, Value::Null).await,
        404,
        "OBP-30018: ",
    );
    let nowhere = "/obp/v4.0.0/banks/bank.9/accounts/acc-1/views";
    expect(
        account(&state, &owner, Method::GET, nowhere, Value::Null).await,
        404,
        "OBP-30001: ",
    );
}
