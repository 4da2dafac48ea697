//! Path rules over real HTTP: the gateway routes, checks views, answers embedded endpoints and
//! forwards on one canonical path (RFC 3986 6.2.2), and refuses (400 `DAUTH-1400`) what a
//! backend could read as another path: percent-encoded tricks, case variants of a more specific
//! route, path parameters on dot segments, and dot segments that `strip_prefix` creates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::client::{self, build, send};
use support::upstream::Upstream;
use support::{CONTRACT, Gateway, route, token};

/// `raw` on the wire as the request target, so no client library rewrites it.
async fn raw_get(gw: &Gateway, target: &str, headers: &str) -> (u16, String) {
    let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
    client::raw(gw.addr, raw.as_bytes()).await
}

#[track_caller]
fn assert_bad_path((status, body): (u16, String), path: &str) {
    assert_eq!(status, 400, "{path}: {body}");
    assert!(body.contains("DAUTH-1400"), "{path}: {body}");
}

/// Routes `/` (auth none) to `open` and `/private/` (auth required) to `private`.
async fn two_routes() -> (Upstream, Upstream, Gateway) {
    let (open, private) = (Upstream::start().await, Upstream::start().await);
    let routes = format!(
        "{}{}",
        route("/", &format!("http://{}", open.addr), "none", ""),
        route(
            "/private/",
            &format!("http://{}", private.addr),
            "required",
            ""
        ),
    );
    let gw = Gateway::start("", &routes).await;
    (open, private, gw)
}

#[tokio::test]
async fn percent_encoded_unreserved_characters_route_as_what_they_decode_to() {
    let (open, private, gw) = two_routes().await;
    for path in [
        "/%70rivate/secret",
        "/pr%69vate/secret",
        "/%70%72%69%76%61%74%65/secret",
        "/private/%73ecret",
    ] {
        let (status, body) = raw_get(&gw, path, "").await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.contains("OBP-20001"), "{path}: {body}");
        let t = token(CONTRACT, "ETHEREUM");
        let r = send(gw.addr, build("GET", path, &[("DAuth", &t)], "")).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert_eq!(private.last().uri, "/private/secret", "{path}");
    }
    // So do absolute-form targets and HTTP/2 requests.
    let (status, body) = raw_get(&gw, "http://x/%70rivate/secret", "").await;
    assert_eq!(status, 401, "{body}");
    assert_bad_path(
        raw_get(&gw, "http://x/PRIVATE/secret", "").await,
        "absolute",
    );
    let r = client::send_h2(gw.addr, build("GET", "/%70rivate/secret", &[], "")).await;
    r.assert_error(401, "OBP-20001");
    let r = client::send_h2(gw.addr, build("GET", "/PRIVATE/secret", &[], "")).await;
    r.assert_error(400, "DAUTH-1400");
    assert!(open.seen().is_empty(), "{:?}", open.seen());
    // The escapes that stay are forwarded in uppercase hex (RFC 3986 6.2.2.1), the query as it
    // came.
    let r = send(gw.addr, build("GET", "/x/a%3fb%e2%82%ac?q=%7e%2f", &[], "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(open.last().uri, "/x/a%3Fb%E2%82%AC?q=%7e%2f");
}

#[tokio::test]
async fn what_a_backend_decodes_or_folds_differently_is_refused() {
    let (open, private, gw) = two_routes().await;
    for path in [
        // letter case: a case-insensitive backend would serve /private/
        "/PRIVATE/secret",
        "/Private/secret",
        "/pr%C4%B1vate/secret",
        "/%EF%BD%90rivate/secret",
        "/OBP/v5.1.0/users/current",
        // path parameters and trailing dots that servlet or Windows backends drop
        "/private;x/secret",
        "/private;jsessionid=1/secret",
        "/private./secret",
        // double encoding, encoded ';', bytes that are not UTF-8, overlong dots
        "/%2570rivate/secret",
        "/x/%252e%252e/private/secret",
        "/x/..%3b/private/secret",
        "/x/%c0%ae%c0%ae/private/secret",
        "/x/%ff",
        "/x/%ef%bc%8e%ef%bc%8e/private/secret",
        "/x%zz",
    ] {
        assert_bad_path(raw_get(&gw, path, "").await, path);
    }
    assert!(open.seen().is_empty(), "{:?}", open.seen());
    assert!(private.seen().is_empty(), "{:?}", private.seen());
}

#[tokio::test]
async fn embedded_endpoints_answer_on_the_canonical_path() {
    let (open, _private, gw) = two_routes().await;
    for path in ["/%6fbp/v5.1.0/users/current", "/obp/v5.1.0/users/%63urrent"] {
        let t = token(CONTRACT, "ETHEREUM");
        let r = send(gw.addr, build("GET", path, &[("DAuth", &t)], "")).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert_eq!(r.json()["provider"], "ETHEREUM", "{path}");
    }
    assert!(open.seen().is_empty(), "{:?}", open.seen());
}

#[tokio::test]
async fn view_checks_see_the_decoded_path() {
    let up = Upstream::start().await;
    let u = format!("http://{}", up.addr);
    let routes = format!(
        "{}{}",
        route("/", &u, "required", ""),
        route(
            "/bank/",
            &u,
            "required",
            "account_path = \"/bank/banks/{BANK_ID}/accounts/{ACCOUNT_ID}/\"\nrequire_permission = \"can_see_transaction_description\"",
        ),
    );
    let gw = Gateway::start("", &routes).await;
    let holder = "0x00000000000000000000000000000000000000a1";
    let stranger = "0x00000000000000000000000000000000000000b2";
    let put = build(
        "PUT",
        "/obp/v4.0.0/banks/gh.29.uk/accounts/acc-1",
        &[
            ("DAuth", &token(holder, "ETHEREUM")),
            ("content-type", "application/json"),
        ],
        json!({"label": "Savings"}).to_string(),
    );
    assert_eq!(send(gw.addr, put).await.status, 201);
    for path in [
        "/b%61nk/banks/gh.29.uk/accounts/acc-1/transactions",
        "/bank/b%61nks/gh.29.uk/accounts/acc-1/transactions",
        "/%62%61%6e%6b/banks/gh.29.uk/accounts/acc-1/transactions",
    ] {
        let t = token(stranger, "ETHEREUM");
        send(gw.addr, build("GET", path, &[("DAuth", &t)], ""))
            .await
            .assert_error(403, "OBP-20017");
        let t = token(holder, "ETHEREUM");
        let r = send(gw.addr, build("GET", path, &[("DAuth", &t)], "")).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        assert_eq!(up.last().headers.get("x-dauth-view-id").unwrap(), "owner");
        assert_eq!(
            up.last().uri,
            "/bank/banks/gh.29.uk/accounts/acc-1/transactions"
        );
    }
    for path in [
        "/BANK/banks/gh.29.uk/accounts/acc-1/transactions",
        "/bank;x/banks/gh.29.uk/accounts/acc-1/transactions",
        "/bank/banks/gh.29.uk/accounts/acc-1/..;/acc-2/transactions",
    ] {
        let t = format!("DAuth: {}\r\n", token(stranger, "ETHEREUM"));
        assert_bad_path(raw_get(&gw, path, &t).await, path);
    }
}

#[tokio::test]
async fn dot_segments_with_path_parameters_are_refused() {
    let up = Upstream::start().await;
    let gw = Gateway::start(
        "",
        &route("/open/", &format!("http://{}", up.addr), "none", ""),
    )
    .await;
    for path in [
        "/open/..;/x",
        "/open/.;/x",
        "/open/..;jsessionid=x/x",
        "/open/%2e%2e;/x",
        "/open/.%2e;/x",
        "/open/%2E;x/x",
        "/open/..%3b/x",
        "/open/%2e%2e%3B/x",
        "/open/x/..;",
        "/open/;/x",
    ] {
        assert_bad_path(raw_get(&gw, path, "").await, path);
    }
    assert!(up.seen().is_empty(), "{:?}", up.seen());
}

#[tokio::test]
async fn a_path_that_strip_prefix_rewrites_is_checked_again() {
    let up = Upstream::start().await;
    let routes = route(
        "/svc",
        &format!("http://{}/public", up.addr),
        "none",
        "strip_prefix = true",
    );
    let gw = Gateway::start("", &routes).await;
    for path in [
        "/svc../admin",
        "/svc./admin",
        "/svc%2e%2e/admin",
        "/svc..;/admin",
        "/svc.%2E;x/admin",
    ] {
        assert_bad_path(raw_get(&gw, path, "").await, path);
    }
    assert!(up.seen().is_empty(), "{:?}", up.seen());
    let r = send(gw.addr, build("GET", "/svc/ok", &[], "")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(up.last().uri, "/public/ok");
}
