//! OTLP export against a real OTLP/HTTP receiver (tests/support/otlp.rs): the gateway binary
//! with `[tracing] otlp_endpoint` exports one `request` span per request with `verify`,
//! `store` and `upstream` children, in the caller's trace, and the upstream is told the
//! exported request span as its parent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::binary::Binary;
use support::otlp::Receiver;
use support::upstream::Upstream;
use support::{get_with, route, token};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_arrive_in_the_callers_trace_with_their_children() {
    let receiver = Receiver::start().await;
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}[tracing]\notlp_endpoint = \"http://{}\"\n",
        route("/svc/", &format!("http://{}", up.addr), "required", ""),
        receiver.addr
    );
    let text = support::config_text(&dir.path().join("store"), "", &extra);
    let path = dir.path().join("gw.toml");
    std::fs::write(&path, text).unwrap();
    let gw = Binary::spawn(&path);
    let parent = format!("00-{TRACE}-{CALLER_SPAN}-01");
    let dauth = token(support::CONTRACT, "ETHEREUM");
    let reply = get_with(
        gw.addr,
        "/svc/a",
        &[("traceparent", &parent), ("DAuth", &dauth)],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let sent = up.last().headers["traceparent"]
        .to_str()
        .unwrap()
        .to_owned();
    // A new trace for a request without a traceparent, unsampled by its caller: not exported.
    let unsampled = format!("00-{}-{CALLER_SPAN}-00", "1".repeat(32));
    assert_eq!(
        get_with(gw.addr, "/health", &[("traceparent", &unsampled)])
            .await
            .status,
        200
    );
    // SIGTERM: the gateway drains and exports what it still holds before it exits.
    assert!(gw.terminate().success());
    let spans = receiver.spans();
    let in_trace: Vec<_> = spans
        .iter()
        .filter(|r| hex(&r.span.trace_id) == TRACE)
        .collect();
    let request = in_trace
        .iter()
        .find(|r| r.span.name == "request")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {spans:#?}"));
    assert!(
        request.service.contains("dauth-proxy"),
        "{}",
        request.service
    );
    assert_eq!(hex(&request.span.parent_span_id), CALLER_SPAN);
    let request_id = hex(&request.span.span_id);
    // The upstream's parent is the exported request span.
    assert_eq!(sent, format!("00-{TRACE}-{request_id}-01"));
    for child in ["verify", "store", "upstream"] {
        let c = in_trace
            .iter()
            .find(|r| r.span.name.starts_with(child))
            .unwrap_or_else(|| panic!("no {child} span: {in_trace:#?}"));
        assert_eq!(hex(&c.span.parent_span_id), request_id, "{child}");
    }
    assert!(
        spans
            .iter()
            .all(|r| hex(&r.span.trace_id) != "1".repeat(32)),
        "an unsampled caller's request was exported"
    );
    // No credential in any attribute.
    let all = format!("{spans:?}");
    assert!(!all.contains(&dauth[..20]));
}

#[test]
fn the_endpoint_must_be_an_http_url_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "127.0.0.1:4318",
        "ftp://collector:21",
        "http://user:pw@collector:4318",
        "nonsense",
    ] {
        let text = support::config_text(
            &dir.path().join("s"),
            "",
            &format!("[tracing]\notlp_endpoint = {bad:?}\n"),
        );
        let err =
            dauth_proxy::Config::from_toml(&text, std::path::Path::new("t.toml")).unwrap_err();
        assert_eq!(err.key, "tracing.otlp_endpoint", "{bad}");
    }
    let off = support::config_text(&dir.path().join("s"), "", "");
    let config = dauth_proxy::Config::from_toml(&off, std::path::Path::new("t.toml")).unwrap();
    assert!(config.tracing.otlp_endpoint.is_none());
}
