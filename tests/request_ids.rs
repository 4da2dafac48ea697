//! Request ids and W3C Trace Context through a real gateway to a real upstream: an id on every
//! response (errors too), the same id upstream and in the log line, a trusted proxy's id kept
//! when well formed, the caller's trace continued with a new span id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use support::client::{build, send_from};
use support::upstream::Upstream;
use support::{Gateway, get, get_with, route};

const TRUSTED: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const UNTRUSTED: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn gateway() -> (Upstream, Gateway) {
    let up = Upstream::start().await;
    let routes = route("/svc/", &format!("http://{}", up.addr), "none", "");
    let gw = Gateway::start_with("trusted_proxies = [\"127.0.0.2/32\"]", "", &routes).await;
    (up, gw)
}

fn is_uuid_v7(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.get_version_num() == 7 && id.len() == 36)
}

#[tokio::test]
async fn every_response_has_a_request_id_and_the_upstream_gets_the_same() {
    let (up, gw) = gateway().await;
    let ok = get(gw.addr, "/svc/a").await;
    let id = ok.header("x-request-id").unwrap().to_owned();
    assert!(is_uuid_v7(&id), "{id}");
    let seen = up.last();
    assert_eq!(seen.headers.get_all("x-request-id").iter().count(), 1);
    assert_eq!(seen.headers["x-request-id"], id.as_str());
    // Errors too: no route, a refused token, a bad method, a refused path.
    for reply in [
        get(gw.addr, "/nothing").await,
        gw.current_user("not-a-token").await,
        get(gw.addr, "/svc/%2e%2e/admin").await,
        support::client::send(gw.addr, build("DELETE", "/health", &[], "")).await,
    ] {
        assert!(reply.status >= 400);
        let id = reply.header("x-request-id").unwrap();
        assert!(is_uuid_v7(id), "{id}");
    }
    let second = get(gw.addr, "/svc/a").await;
    assert_ne!(second.header("x-request-id"), Some(id.as_str()));
}

#[tokio::test]
async fn a_trusted_proxys_well_formed_id_is_kept_and_anyone_elses_replaced() {
    let (up, gw) = gateway().await;
    let req = |id: &str| build("GET", "/svc/a", &[("x-request-id", id)], "");
    let kept = send_from(TRUSTED, gw.addr, req("edge-42.abc")).await;
    assert_eq!(kept.header("x-request-id"), Some("edge-42.abc"));
    assert_eq!(up.last().headers["x-request-id"], "edge-42.abc");
    let longest = "x".repeat(128);
    let kept = send_from(TRUSTED, gw.addr, req(&longest)).await;
    assert_eq!(kept.header("x-request-id"), Some(longest.as_str()));
    // From a client that is not a trusted proxy, even a well-formed id is replaced.
    let replaced = send_from(UNTRUSTED, gw.addr, req("edge-42.abc")).await;
    let id = replaced.header("x-request-id").unwrap();
    assert!(is_uuid_v7(id), "{id}");
    assert_eq!(up.last().headers["x-request-id"], id);
    // Malformed from a trusted proxy: too long, a space, a repeated header.
    let too_long = "x".repeat(129);
    for bad in [too_long.as_str(), "has space", "tab\there"] {
        let r = send_from(TRUSTED, gw.addr, req(bad)).await;
        let id = r.header("x-request-id").unwrap();
        assert!(is_uuid_v7(id), "{bad:?} -> {id}");
    }
    let two = build(
        "GET",
        "/svc/a",
        &[("x-request-id", "a"), ("x-request-id", "b")],
        "",
    );
    let r = send_from(TRUSTED, gw.addr, two).await;
    assert!(is_uuid_v7(r.header("x-request-id").unwrap()));
    assert_eq!(up.last().headers.get_all("x-request-id").iter().count(), 1);
}

#[tokio::test]
async fn the_callers_trace_continues_upstream_with_a_new_span_id() {
    let (up, gw) = gateway().await;
    let r = get_with(
        gw.addr,
        "/svc/a",
        &[("traceparent", PARENT), ("tracestate", "congo=t61rcWkgMzE")],
    )
    .await;
    assert_eq!(r.status, 200);
    let seen = up.last();
    let sent = seen.headers["traceparent"].to_str().unwrap();
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "{sent}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(parts[2], "00f067aa0ba902b7");
    assert_eq!(parts[2].len(), 16);
    assert_eq!(parts[3], "01");
    assert_eq!(seen.headers["tracestate"], "congo=t61rcWkgMzE");
}

#[tokio::test]
async fn an_invalid_or_missing_traceparent_starts_a_new_trace() {
    let (up, gw) = gateway().await;
    for bad in [
        None,
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"),
        Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        Some("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        Some("00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"),
    ] {
        let mut headers = vec![("tracestate", "congo=t61rcWkgMzE")];
        headers.extend(bad.map(|b| ("traceparent", b)));
        assert_eq!(get_with(gw.addr, "/svc/a", &headers).await.status, 200);
        let seen = up.last();
        let sent = seen.headers["traceparent"].to_str().unwrap();
        let parts: Vec<&str> = sent.split('-').collect();
        assert_eq!(parts.len(), 4, "{sent}");
        assert_eq!(parts[1].len(), 32);
        assert_ne!(parts[1], "4bf92f3577b34da6a3ce929d0e0e4736", "{bad:?}");
        assert_ne!(parts[1], "0".repeat(32));
        assert!(seen.headers.get("tracestate").is_none(), "{bad:?}");
    }
}

#[test]
fn the_request_log_line_names_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _) = support::binary::Binary::spawn_default_in(dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reply = rt.block_on(get(gw.addr, "/health"));
    let id = reply.header("x-request-id").unwrap().to_owned();
    let line = gw
        .wait_for_line(&["request", &id], Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no log line with request_id {id}"));
    assert!(line.contains(&format!("request_id=\"{id}\"")), "{line}");
    assert!(line.contains("trace_id="), "{line}");
}
