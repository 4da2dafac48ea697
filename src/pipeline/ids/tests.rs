use super::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_valid_traceparent_keeps_its_trace_and_gets_a_new_span() {
    let mut h = headers(&[
        ("traceparent", PARENT),
        ("tracestate", "rojo=00f067aa0ba902b7"),
    ]);
    let s = stamp(&mut h, false);
    assert_eq!(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(s.parent_id.as_deref(), Some("00f067aa0ba902b7"));
    let sent = h.get("traceparent").unwrap().to_str().unwrap();
    assert_eq!(sent, format!("00-{}-{}-01", s.trace_id, s.span_id));
    assert_ne!(s.span_id, "00f067aa0ba902b7");
    assert_eq!(h.get("tracestate").unwrap(), "rojo=00f067aa0ba902b7");
}

#[test]
fn invalid_traceparents_start_a_new_trace_and_drop_tracestate() {
    for bad in [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    ] {
        let mut h = headers(&[("traceparent", bad), ("tracestate", "a=b")]);
        let s = stamp(&mut h, true);
        assert_ne!(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "{bad}");
        assert!(s.parent_id.is_none(), "{bad}");
        assert_eq!(s.trace_id.len(), 32);
        assert!(h.get("tracestate").is_none(), "{bad}");
        let sent = h.get("traceparent").unwrap().to_str().unwrap();
        assert_eq!(sent, format!("00-{}-{}-00", s.trace_id, s.span_id));
    }
    let mut two = headers(&[("traceparent", PARENT), ("traceparent", PARENT)]);
    assert!(stamp(&mut two, false).parent_id.is_none());
}

#[test]
fn a_future_version_may_carry_more_fields() {
    let mut h = headers(&[(
        "traceparent",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
    )]);
    let s = stamp(&mut h, false);
    assert_eq!(s.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(
        h.get("traceparent")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("00-")
    );
}

#[test]
fn request_ids_are_kept_only_from_trusted_proxies_and_well_formed() {
    let mut h = headers(&[("x-request-id", "abc-123")]);
    assert_eq!(stamp(&mut h, true).request_id, "abc-123");
    let mut h = headers(&[("x-request-id", "abc-123")]);
    let s = stamp(&mut h, false);
    assert_ne!(s.request_id, "abc-123");
    assert_eq!(h.get("x-request-id").unwrap(), &s.request_id);
    let long = "a".repeat(MAX_REQUEST_ID + 1);
    for bad in ["", "has space", long.as_str(), "tab\there"] {
        let mut h = headers(&[("x-request-id", bad)]);
        let s = stamp(&mut h, true);
        assert_ne!(s.request_id, bad);
        assert_eq!(
            uuid::Uuid::parse_str(s.request_id.to_str().unwrap())
                .unwrap()
                .get_version_num(),
            7
        );
    }
    let mut h = headers(&[("x-request-id", "a"), ("x-request-id", "b")]);
    let s = stamp(&mut h, true);
    assert_eq!(h.get_all("x-request-id").iter().count(), 1);
    assert_eq!(s.request_id.len(), 36);
    let max = "b".repeat(MAX_REQUEST_ID);
    let mut h = headers(&[("x-request-id", max.as_str())]);
    assert_eq!(stamp(&mut h, true).request_id, max.as_str());
}
