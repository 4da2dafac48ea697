//! Airnode retries through a real gateway and a real upstream: the same request id with the
//! same request is served (GET again; POST from the kept first answer, the backend acting
//! once, a retry during the first waiting for it), with another request refused 409, and the
//! bounds of the record failing closed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::Gateway;
use support::airnode::*;
use support::upstream::Upstream;

fn count(upstream: &Upstream, path: &str) -> usize {
    upstream
        .seen()
        .iter()
        .filter(|s| s.uri.starts_with(path))
        .count()
}

#[tokio::test]
async fn a_get_retry_is_forwarded_again() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    for _ in 0..3 {
        let reply = call(&gw, "GET", "/svc/price?coin=eth", &relay_headers(KEY), b"").await;
        assert_eq!(reply.status, 200, "{}", reply.message());
    }
    assert_eq!(count(&upstream, "/svc/price"), 3);
}

#[tokio::test]
async fn a_post_retry_gets_the_first_answer_and_the_backend_acts_once() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let first = call(
        &gw,
        "POST",
        "/svc/pay?to=x",
        &relay_headers(KEY),
        b"{\"n\":1}",
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.message());
    for _ in 0..2 {
        let retry = call(
            &gw,
            "POST",
            "/svc/pay?to=x",
            &relay_headers(KEY),
            b"{\"n\":1}",
        )
        .await;
        assert_eq!(retry.status, 200, "{}", retry.message());
        assert_eq!(retry.body, first.body);
        assert_eq!(retry.header("content-type"), first.header("content-type"));
    }
    assert_eq!(count(&upstream, "/svc/pay"), 1, "the backend acted twice");
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_waits_for_its_answer() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let (addr_gw, headers) = (&gw, relay_headers(KEY));
    let first = async { call(addr_gw, "POST", "/svc/hold", &headers, b"once").await };
    let retry = async {
        upstream.wait_for_held().await;
        let retry = call(addr_gw, "POST", "/svc/hold", &headers, b"once");
        let release = async {
            // Readiness, not a sleep: the retry is parked on the first's entry. (The bound
            // only turns a retry that never waits into a failure instead of a hang.)
            let parked = async {
                while gw.state.shared().airnode_retries.waiting() == 0 {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(60), parked)
                .await
                .expect("the retry never waited for the first");
            upstream.release();
        };
        let (reply, ()) = tokio::join!(retry, release);
        reply
    };
    let (first, retry) = tokio::join!(first, retry);
    assert_eq!(first.status, 200, "{}", first.message());
    assert_eq!(retry.status, 200, "{}", retry.message());
    assert_eq!(retry.body, first.body);
    assert_eq!(count(&upstream, "/svc/hold"), 1, "the backend acted twice");
}

#[tokio::test]
async fn the_same_request_id_for_another_request_is_refused() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let base = relay_headers(KEY);
    assert_eq!(
        call(&gw, "POST", "/svc/a?x=1", &base, b"body").await.status,
        200
    );
    let other_sponsor = with(
        base.clone(),
        "X-Airnode-Sponsor",
        "0x0000000000000000000000000000000000000002",
    );
    let no_wallet = without(base.clone(), "X-Airnode-Sponsor-Wallet");
    let other_requester = with(
        base.clone(),
        "X-Airnode-Requester",
        "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045",
    );
    let cases: [(&str, &str, &Headers, &'static [u8]); 7] = [
        ("PUT", "/svc/a?x=1", &base, b"body"),
        ("POST", "/svc/b?x=1", &base, b"body"),
        ("POST", "/svc/a?x=2", &base, b"body"),
        ("POST", "/svc/a?x=1", &base, b"other body"),
        ("POST", "/svc/a?x=1", &other_sponsor, b"body"),
        ("POST", "/svc/a?x=1", &no_wallet, b"body"),
        ("POST", "/svc/a?x=1", &other_requester, b"body"),
    ];
    for (method, path, headers, body) in cases {
        let reply = call(&gw, method, path, headers, body).await;
        assert_eq!(reply.status, 409, "{method} {path}: {}", reply.message());
        reply.assert_error(409, "DAUTH-2610");
    }
    // The request id in upper case is the same request id.
    let upper = format!("0x{}", REQUEST_ID[2..].to_ascii_uppercase());
    let reply = call(
        &gw,
        "POST",
        "/svc/b",
        &with(base.clone(), "X-Airnode-Request-Id", &upper),
        b"",
    )
    .await;
    reply.assert_error(409, "DAUTH-2610");
    // The same id on another chain is another request.
    let chain1 = with(base.clone(), "X-Airnode-Chain-Id", "1");
    assert_eq!(call(&gw, "POST", "/svc/b", &chain1, b"").await.status, 200);
    assert_eq!(count(&upstream, "/svc/"), 2);
}

#[tokio::test]
async fn a_first_answer_too_large_to_keep_is_served_but_not_replayed() {
    let upstream = Upstream::start().await;
    let block = "max_replay_bytes = 1000\nreplay_memory_bytes = 100000";
    let gw = Gateway::start("", &config(&upstream, block)).await;
    let path = "/svc/download?bytes=5000";
    let first = call(&gw, "POST", path, &relay_headers(KEY), b"").await;
    assert_eq!(first.status, 200, "{}", first.message());
    assert_eq!(
        first.body.len(),
        5000,
        "the first caller gets the whole answer"
    );
    call(&gw, "POST", path, &relay_headers(KEY), b"")
        .await
        .assert_error(409, "DAUTH-2611");
    assert_eq!(count(&upstream, "/svc/download"), 1);
    // A small answer under the same bound is kept.
    let small = with(
        relay_headers(KEY),
        "X-Airnode-Request-Id",
        &format!("0x{}", "ab".repeat(32)),
    );
    let path = "/svc/download?bytes=500";
    let first = call(&gw, "POST", path, &small, b"").await;
    let retry = call(&gw, "POST", path, &small, b"").await;
    assert_eq!((first.status, retry.status), (200, 200));
    assert_eq!(first.body, retry.body);
}

#[tokio::test]
async fn a_full_record_refuses_new_request_ids() {
    let upstream = Upstream::start().await;
    // Both blocks' capacities are summed: 1 here plus the second block's default.
    let block = "retry_capacity = 1";
    let text = config(&upstream, block).replace(
        "name = \"strict\"\n",
        "name = \"strict\"\nretry_capacity = 1\n",
    );
    let gw = Gateway::start("", &text).await;
    let base = relay_headers(KEY);
    assert_eq!(call(&gw, "GET", "/svc/1", &base, b"").await.status, 200);
    let second = with(
        base.clone(),
        "X-Airnode-Request-Id",
        &format!("0x{}", "01".repeat(32)),
    );
    assert_eq!(call(&gw, "GET", "/svc/2", &second, b"").await.status, 200);
    let third = with(
        base.clone(),
        "X-Airnode-Request-Id",
        &format!("0x{}", "02".repeat(32)),
    );
    call(&gw, "GET", "/svc/3", &third, b"")
        .await
        .assert_error(503, "DAUTH-5037");
    // Retries of what is recorded are still served.
    assert_eq!(call(&gw, "GET", "/svc/1", &base, b"").await.status, 200);
}

#[tokio::test]
async fn an_embedded_endpoint_acts_once_for_an_airnode_retry() {
    let upstream = Upstream::start().await;
    let gw = gateway(&upstream).await;
    let path = "/obp/v4.0.0/banks/airbank/accounts/acct-1";
    let body: &[u8] = b"{\"label\": \"airnode account\"}";
    let first = call(&gw, "PUT", path, &relay_headers(KEY), body).await;
    assert_eq!(first.status, 201, "{}", first.message());
    // Without the record, a second create would be 409 OBP-30208 (the account exists).
    let retry = call(&gw, "PUT", path, &relay_headers(KEY), body).await;
    assert_eq!(retry.status, 201, "{}", retry.message());
    assert_eq!(retry.body, first.body);
    call(
        &gw,
        "PUT",
        path,
        &relay_headers(KEY),
        b"{\"label\": \"other\"}",
    )
    .await
    .assert_error(409, "DAUTH-2610");
    // A new request id is a new request: now the account exists.
    let next = with(
        relay_headers(KEY),
        "X-Airnode-Request-Id",
        &format!("0x{}", "cd".repeat(32)),
    );
    call(&gw, "PUT", path, &next, body)
        .await
        .assert_error(409, "OBP-30208");
}

#[tokio::test]
async fn a_gateway_error_for_the_first_is_what_its_retries_get() {
    let upstream = Upstream::start().await;
    let slow = support::route(
        "/slow",
        &format!("http://{}", upstream.addr),
        "required",
        "timeout_secs = 1",
    );
    let gw = Gateway::start("", &format!("{}{slow}", config(&upstream, ""))).await;
    // The backend never answers: whether it acted is unknown, so it is not asked again.
    let first = call(&gw, "POST", "/slow/hang", &relay_headers(KEY), b"pay").await;
    first.assert_error(504, "DAUTH-5040");
    let retry = call(&gw, "POST", "/slow/hang", &relay_headers(KEY), b"pay").await;
    retry.assert_error(504, "DAUTH-5040");
    assert_eq!(
        count(&upstream, "/slow/hang"),
        1,
        "the retry was forwarded again"
    );
}
