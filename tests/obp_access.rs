//! OBP account-access endpoints over real HTTP: each endpoint's success and each listed error,
//! the transactionality of grant and revoke under concurrent requests, and route view checks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::client::{Reply, build, send};
use support::upstream::Upstream;
use support::{Gateway, route, token};

const A: &str = "0x00000000000000000000000000000000000000a1";
const B: &str = "0x00000000000000000000000000000000000000b2";
const C: &str = "0x00000000000000000000000000000000000000c3";
const V4: &str = "/obp/v4.0.0/banks/gh.29.uk/accounts/acc-1";
const V51: &str = "/obp/v5.1.0/banks/gh.29.uk/accounts/acc-1";

/// Sends `method path` as the DAuth user of `contract`, with a JSON body.
async fn call(gw: &Gateway, method: &str, path: &str, contract: &str, body: Value) -> Reply {
    let t = token(contract, "ETHEREUM");
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
            &[("DAuth", &t), ("content-type", "application/json")],
            body,
        ),
    )
    .await
}

async fn user_id(gw: &Gateway, contract: &str) -> String {
    let r = gw.current_user(&token(contract, "ETHEREUM")).await;
    r.json()["user_id"].as_str().unwrap().to_owned()
}

async fn views_of(gw: &Gateway, contract: &str) -> Vec<String> {
    let r = gw.current_user(&token(contract, "ETHEREUM")).await;
    let mut v: Vec<String> = r.json()["views"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            format!(
                "{}/{}/{}",
                row["bank_id"].as_str().unwrap(),
                row["account_id"].as_str().unwrap(),
                row["view_id"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// A gateway with account gh.29.uk/acc-1 held by A.
async fn with_account(extra: &str) -> Gateway {
    with_account_dauth("", extra).await
}

async fn with_account_dauth(dauth_extra: &str, extra: &str) -> Gateway {
    let gw = Gateway::start(dauth_extra, extra).await;
    let r = call(&gw, "PUT", V4, A, json!({"label": "Savings"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    gw
}

fn grant_body(user: &str, view: &str, system: bool) -> Value {
    json!({"user_id": user, "view": {"view_id": view, "is_system": system}})
}

#[tokio::test]
async fn creating_an_account_makes_the_caller_its_owner() {
    let gw = with_account("").await;
    assert_eq!(views_of(&gw, A).await, vec!["gh.29.uk/acc-1/owner"]);
    call(&gw, "PUT", V4, B, json!({"label": "x"}))
        .await
        .assert_error(409, "OBP-30208");
    call(
        &gw,
        "PUT",
        "/obp/v4.0.0/banks/bad%20bank/accounts/a",
        A,
        json!({}),
    )
    .await
    .assert_error(400, "DAUTH-1401");
    call(&gw, "PUT", "/obp/v4.0.0/banks/b/accounts/a2", A, json!([1]))
        .await
        .assert_error(400, "OBP-10001");
    send(gw.addr, build("PUT", V4, &[], "{}"))
        .await
        .assert_error(401, "OBP-20001");
    call(&gw, "DELETE", V4, A, Value::Null)
        .await
        .assert_error(405, "DAUTH-1405");
}

#[tokio::test]
async fn user_account_access_creates_the_dauth_user_the_core_would() {
    let gw = with_account("").await;
    let body = json!({"username": B, "provider": "dauth.ETHEREUM", "views": [{"view_id": "auditor", "is_system": true}]});
    let r = call(&gw, "POST", &format!("{V4}/user-account-access"), A, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let views = r.json();
    assert_eq!(views.as_array().unwrap().len(), 1);
    assert_eq!(views[0]["id"], "auditor");
    assert_eq!(views[0]["can_see_transaction_amount"], true);
    assert_eq!(views[0]["is_system"], true);
    assert_eq!(views_of(&gw, B).await, vec!["gh.29.uk/acc-1/auditor"]);
    // The network-name form of provider means the same user.
    let body = json!({"username": B.to_uppercase().replace("0X", "0x"), "provider": "ETHEREUM", "views": [{"view_id": "accountant", "is_system": true}]});
    assert_eq!(
        call(&gw, "POST", &format!("{V4}/user-account-access"), A, body)
            .await
            .status,
        201
    );
    assert_eq!(
        views_of(&gw, B).await,
        vec!["gh.29.uk/acc-1/accountant", "gh.29.uk/acc-1/auditor"]
    );
    // Network names are case-insensitive here as in the DAuth core: still the same user.
    for provider in ["dauth.ethereum", "DAUTH.Ethereum", "ethereum"] {
        let body = json!({"username": B, "provider": provider, "views": [{"view_id": "standard", "is_system": true}]});
        let r = call(&gw, "POST", &format!("{V4}/user-account-access"), A, body).await;
        assert_eq!(r.status, 201, "{provider}: {:?}", r.body);
    }
    assert_eq!(
        views_of(&gw, B).await,
        vec![
            "gh.29.uk/acc-1/accountant",
            "gh.29.uk/acc-1/auditor",
            "gh.29.uk/acc-1/standard"
        ]
    );
}

#[tokio::test]
async fn user_account_access_errors() {
    let gw = with_account_dauth("networks = [\"ETHEREUM\"]", "").await;
    let uaa = format!("{V4}/user-account-access");
    let body = |username: &str, provider: &str, view: &str, system: bool| json!({"username": username, "provider": provider, "views": [{"view_id": view, "is_system": system}]});
    call(
        &gw,
        "POST",
        &uaa,
        A,
        body(C, "dauth.bad name", "auditor", true),
    )
    .await
    .assert_error(400, "OBP-20103");
    call(
        &gw,
        "POST",
        &uaa,
        A,
        body(C, "dauth.GOERLI", "auditor", true),
    )
    .await
    .assert_error(400, "OBP-20103");
    call(
        &gw,
        "POST",
        &uaa,
        A,
        body("felixsmith", "dauth.ETHEREUM", "auditor", true),
    )
    .await
    .assert_error(400, "DAUTH-1402");
    call(
        &gw,
        "POST",
        &uaa,
        A,
        body(C, "dauth.ETHEREUM", "nope", true),
    )
    .await
    .assert_error(400, "OBP-30252");
    call(
        &gw,
        "POST",
        &uaa,
        A,
        body(C, "dauth.ETHEREUM", "_nope", false),
    )
    .await
    .assert_error(400, "OBP-30005");
    call(&gw, "POST", &uaa, A, json!({"username": C}))
        .await
        .assert_error(400, "OBP-10001");
    let missing = "/obp/v4.0.0/banks/gh.29.uk/accounts/none/user-account-access";
    call(
        &gw,
        "POST",
        missing,
        A,
        body(C, "dauth.ETHEREUM", "auditor", true),
    )
    .await
    .assert_error(404, "OBP-30018");
    let no_bank = "/obp/v4.0.0/banks/nobank/accounts/none/user-account-access";
    call(
        &gw,
        "POST",
        no_bank,
        A,
        body(C, "dauth.ETHEREUM", "auditor", true),
    )
    .await
    .assert_error(404, "OBP-30001");
    // B holds no view: 403, and C is not created by the refused request.
    let r = call(
        &gw,
        "POST",
        &uaa,
        B,
        body(C, "dauth.ETHEREUM", "owner", true),
    )
    .await;
    r.assert_error(403, "OBP-20047");
    assert!(
        r.message()
            .contains("Current ViewId(owner) and current UserId("),
        "{}",
        r.message()
    );
    let store_dir = gw.store_dir.clone();
    let users_before_stop = 2; // A and B, created by their own DAuth calls
    let _keep = gw.stop().await;
    let store = dauth_proxy::store::sled::SledStore::open(&store_dir, 1 << 20).unwrap();
    assert_eq!(
        store.user_count(),
        users_before_stop,
        "refused requests must not create users"
    );
}

#[tokio::test]
async fn grant_and_revoke_v4() {
    let gw = with_account("").await;
    let b = user_id(&gw, B).await;
    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&b, "auditor", true),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["id"], "auditor");
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body("no-such-user", "auditor", true),
    )
    .await
    .assert_error(404, "OBP-20005");
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        json!({"user_id": b}),
    )
    .await
    .assert_error(400, "OBP-10001");
    // B's auditor view may not grant: 403 (OBP says 400).
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        B,
        grant_body(&b, "owner", true),
    )
    .await
    .assert_error(403, "OBP-20047");
    // B may not revoke either, and the code is the revoke one.
    let a = user_id(&gw, A).await;
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/revoke"),
        B,
        grant_body(&a, "owner", true),
    )
    .await
    .assert_error(403, "OBP-20048");

    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/revoke"),
        A,
        grant_body(&b, "auditor", true),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json(), json!({"revoked": true}));
    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/revoke"),
        A,
        grant_body(&b, "auditor", true),
    )
    .await;
    r.assert_error(400, "OBP-30064");
    assert!(
        r.message()
            .contains("OBP-30065: Cannot find account access."),
        "{}",
        r.message()
    );
    // The last holder keeps owner.
    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/revoke"),
        A,
        grant_body(&a, "owner", true),
    )
    .await;
    r.assert_error(400, "OBP-30064");
    assert!(r.message().contains("last holder"), "{}", r.message());
    assert!(views_of(&gw, B).await.is_empty());
}

#[tokio::test]
async fn replace_own_views_v4() {
    let gw = with_account("").await;
    let r = call(
        &gw,
        "PUT",
        &format!("{V4}/account-access"),
        A,
        json!({"views": ["owner", "auditor"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        views_of(&gw, A).await,
        vec!["gh.29.uk/acc-1/auditor", "gh.29.uk/acc-1/owner"]
    );
    call(
        &gw,
        "PUT",
        &format!("{V4}/account-access"),
        A,
        json!({"views": ["owner", "nope"]}),
    )
    .await
    .assert_error(400, "OBP-30252");
    call(
        &gw,
        "PUT",
        &format!("{V4}/account-access"),
        A,
        json!({"views": ["auditor"]}),
    )
    .await
    .assert_error(400, "OBP-30064");
    assert_eq!(
        views_of(&gw, A).await,
        vec!["gh.29.uk/acc-1/auditor", "gh.29.uk/acc-1/owner"]
    );
    let b = user_id(&gw, B).await;
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&b, "auditor", true),
    )
    .await;
    // An auditor cannot revoke its own views, so cannot replace them.
    call(
        &gw,
        "PUT",
        &format!("{V4}/account-access"),
        B,
        json!({"views": ["owner"]}),
    )
    .await
    .assert_error(403, "OBP-20048");
    call(
        &gw,
        "PUT",
        &format!("{V4}/account-access"),
        A,
        json!({"view": []}),
    )
    .await
    .assert_error(400, "OBP-10001");
}

#[tokio::test]
async fn v51_acts_through_the_source_view() {
    let gw = with_account("").await;
    let (b, c) = (user_id(&gw, B).await, user_id(&gw, C).await);
    let grant = |source: &str| format!("{V51}/views/{source}/account-access/grant");
    let revoke = |source: &str| format!("{V51}/views/{source}/account-access/revoke");
    let r = call(
        &gw,
        "POST",
        &grant("owner"),
        A,
        json!({"user_id": b, "view_id": "auditor"}),
    )
    .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json()["id"], "auditor");
    call(
        &gw,
        "POST",
        &grant("accountant"),
        A,
        json!({"user_id": b, "view_id": "auditor"}),
    )
    .await
    .assert_error(403, "OBP-20017");
    call(
        &gw,
        "POST",
        &grant("auditor"),
        B,
        json!({"user_id": c, "view_id": "auditor"}),
    )
    .await
    .assert_error(403, "OBP-20084");
    call(
        &gw,
        "POST",
        &revoke("auditor"),
        B,
        json!({"user_id": c, "view_id": "auditor"}),
    )
    .await
    .assert_error(403, "OBP-20086");
    call(
        &gw,
        "POST",
        &grant("owner"),
        A,
        json!({"user_id": b, "view_id": "standard"}),
    )
    .await;
    call(
        &gw,
        "POST",
        &grant("standard"),
        B,
        json!({"user_id": c, "view_id": "_custom"}),
    )
    .await
    .assert_error(403, "OBP-20085");
    call(
        &gw,
        "POST",
        &revoke("standard"),
        B,
        json!({"user_id": c, "view_id": "_custom"}),
    )
    .await
    .assert_error(403, "OBP-20087");
    call(
        &gw,
        "POST",
        &grant("owner"),
        A,
        json!({"user_id": "nobody", "view_id": "auditor"}),
    )
    .await
    .assert_error(404, "OBP-20005");
    call(
        &gw,
        "POST",
        &grant("owner"),
        A,
        json!({"user_id": c, "view_id": "_nope"}),
    )
    .await
    .assert_error(400, "OBP-30005");
    let r = call(
        &gw,
        "POST",
        &revoke("owner"),
        A,
        json!({"user_id": b, "view_id": "auditor"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json(), json!({"revoked": true}));
    let uaa = format!("{V51}/views/owner/user-account-access");
    let r = call(
        &gw,
        "POST",
        &uaa,
        A,
        json!({"username": C, "provider": "dauth.ETHEREUM", "view_id": "accountant"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["id"], "accountant", "a single view object");
    assert_eq!(views_of(&gw, C).await, vec!["gh.29.uk/acc-1/accountant"]);
}

#[tokio::test]
async fn custom_views_are_created_listed_and_granted() {
    let gw = with_account("").await;
    let view = json!({
        "name": "_family", "description": "Family", "metadata_view": "_family", "is_public": false,
        "which_alias_to_use": "family_alias_is_bad", "hide_metadata_if_alias_used": false,
        "allowed_actions": ["can_see_transaction_amount"]
    });
    call(&gw, "POST", &format!("{V4}/views"), A, view.clone())
        .await
        .assert_error(400, "DAUTH-1403");
    let mut view = view;
    view["which_alias_to_use"] = json!("private");
    let r = call(&gw, "POST", &format!("{V4}/views"), A, view.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.json()["id"], "_family");
    assert_eq!(r.json()["is_system"], false);
    assert_eq!(r.json()["can_see_transaction_amount"], true);
    assert_eq!(r.json()["can_see_transaction_balance"], false);
    call(&gw, "POST", &format!("{V4}/views"), A, view.clone())
        .await
        .assert_error(409, "DAUTH-3002");
    let mut bad = view.clone();
    bad["name"] = json!("family");
    call(&gw, "POST", &format!("{V4}/views"), A, bad)
        .await
        .assert_error(400, "DAUTH-1403");
    let mut greedy = view.clone();
    greedy["name"] = json!("_greedy");
    greedy["allowed_actions"] = json!(["can_create_standing_order"]);
    call(&gw, "POST", &format!("{V4}/views"), A, greedy)
        .await
        .assert_error(403, "DAUTH-3003");

    let listed = call(&gw, "GET", &format!("{V4}/views"), A, Value::Null).await;
    assert_eq!(listed.status, 200);
    let ids: Vec<&str> = listed.json()["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|s| Box::leak(s.to_owned().into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        ids,
        vec!["owner", "accountant", "auditor", "standard", "_family"]
    );

    let b = user_id(&gw, B).await;
    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&b, "_family", false),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(views_of(&gw, B).await, vec!["gh.29.uk/acc-1/_family"]);
    // B's custom view cannot create views or list them.
    call(
        &gw,
        "POST",
        &format!("{V4}/views"),
        B,
        json!({"name": "_x"}),
    )
    .await
    .assert_error(403, "DAUTH-3001");
    call(&gw, "GET", &format!("{V4}/views"), B, Value::Null)
        .await
        .assert_error(403, "OBP-20017");
}

#[tokio::test]
async fn row_limit_is_obp_30063() {
    let gw = with_account("[obp]\nmax_access_rows = 2").await;
    let b = user_id(&gw, B).await;
    assert_eq!(
        call(
            &gw,
            "POST",
            &format!("{V4}/account-access/grant"),
            A,
            grant_body(&b, "auditor", true)
        )
        .await
        .status,
        201
    );
    let r = call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&b, "accountant", true),
    )
    .await;
    r.assert_error(400, "OBP-30063");
    assert!(
        r.message().ends_with("Current ViewId is accountant"),
        "{}",
        r.message()
    );
    // Granting what is already held needs no new row.
    assert_eq!(
        call(
            &gw,
            "POST",
            &format!("{V4}/account-access/grant"),
            A,
            grant_body(&b, "auditor", true)
        )
        .await
        .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_grants_respect_the_row_limit_exactly() {
    let gw = Arc::new(with_account("[obp]\nmax_access_rows = 10").await);
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(user_id(&gw, &format!("0x{:040x}", 0x1000 + i)).await);
    }
    let tasks: Vec<_> = users
        .into_iter()
        .map(|u| {
            let gw = Arc::clone(&gw);
            tokio::spawn(async move {
                call(
                    &gw,
                    "POST",
                    &format!("{V4}/account-access/grant"),
                    A,
                    grant_body(&u, "auditor", true),
                )
                .await
                .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    // The owner row is one of the ten.
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_revokes_never_leave_an_account_without_owner() {
    for round in 0..5 {
        let gw = Arc::new(with_account("").await);
        let (a, b) = (user_id(&gw, A).await, user_id(&gw, B).await);
        assert_eq!(
            call(
                &gw,
                "POST",
                &format!("{V4}/account-access/grant"),
                A,
                grant_body(&b, "owner", true)
            )
            .await
            .status,
            201
        );
        // Each owner revokes the other at the same moment: only one may succeed.
        let one = {
            let gw = Arc::clone(&gw);
            let b = b.clone();
            tokio::spawn(async move {
                call(
                    &gw,
                    "POST",
                    &format!("{V4}/account-access/revoke"),
                    A,
                    grant_body(&b, "owner", true),
                )
                .await
                .status
            })
        };
        let two = {
            let gw = Arc::clone(&gw);
            let a = a.clone();
            tokio::spawn(async move {
                call(
                    &gw,
                    "POST",
                    &format!("{V4}/account-access/revoke"),
                    B,
                    grant_body(&a, "owner", true),
                )
                .await
                .status
            })
        };
        let statuses = [one.await.unwrap(), two.await.unwrap()];
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "round {round}: {statuses:?}"
        );
        let owners = views_of(&gw, A).await.len() + views_of(&gw, B).await.len();
        assert_eq!(owners, 1, "round {round}");
    }
}

#[tokio::test]
async fn route_view_check_forwards_only_permitted_callers() {
    let up = Upstream::start().await;
    let extra = route(
        "/bank/",
        &format!("http://{}", up.addr),
        "required",
        "account_path = \"/bank/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/\"\nrequire_permission = \"can_see_transaction_description\"",
    );
    let gw = with_account(&extra).await;
    let (b, c) = (user_id(&gw, B).await, user_id(&gw, C).await);
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&b, "standard", true),
    )
    .await;
    call(
        &gw,
        "POST",
        &format!("{V4}/account-access/grant"),
        A,
        grant_body(&c, "auditor", true),
    )
    .await;
    let path = "/bank/banks/gh.29.uk/accounts/acc-1/transactions";
    let r = call(&gw, "GET", path, B, Value::Null).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        up.last().headers.get("x-dauth-view-id").unwrap(),
        "standard"
    );
    assert_eq!(call(&gw, "GET", path, A, Value::Null).await.status, 200);
    assert_eq!(up.last().headers.get("x-dauth-view-id").unwrap(), "owner");
    let seen = up.seen().len();
    // The auditor view lacks can_see_transaction_description.
    let r = call(&gw, "GET", path, C, Value::Null).await;
    r.assert_error(403, "OBP-20017");
    assert!(r.message().contains("can_see_transaction_description"));
    call(
        &gw,
        "GET",
        "/bank/banks/gh.29.uk/accounts/other/transactions",
        B,
        Value::Null,
    )
    .await
    .assert_error(403, "OBP-20017");
    call(&gw, "GET", "/bank/other", B, Value::Null)
        .await
        .assert_error(404, "DAUTH-1404");
    // A spoofed view header is no help.
    let t = token(C, "ETHEREUM");
    send(
        gw.addr,
        build(
            "GET",
            path,
            &[("DAuth", &t), ("X-DAuth-View-Id", "owner")],
            "",
        ),
    )
    .await
    .assert_error(403, "OBP-20017");
    assert_eq!(
        up.seen().len(),
        seen,
        "refused callers never reach the upstream"
    );
}
