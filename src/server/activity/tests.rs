use super::*;

const H: Duration = Duration::from_millis(0);
const LONG: Duration = Duration::from_secs(60);

fn clocks(header: Duration, idle: Duration) -> Clocks {
    Clocks {
        header,
        idle,
        park: None,
    }
}

#[test]
fn fresh_connection_waits_for_idle_not_head() {
    let a = Arc::new(Activity::new(false));
    assert_eq!(a.verdict(clocks(LONG, H)), Verdict::Idle);
    assert_eq!(a.verdict(clocks(LONG, LONG)), Verdict::Active);
}

#[test]
fn a_started_head_is_held_to_the_header_timeout() {
    let a = Arc::new(Activity::new(false));
    a.on_read();
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::SlowHead);
    assert_eq!(a.verdict(clocks(LONG, LONG)), Verdict::Active);
}

#[test]
fn a_request_in_flight_is_never_timed_out() {
    let a = Arc::new(Activity::new(false));
    a.on_read();
    let busy = a.begin();
    a.on_read();
    assert_eq!(a.verdict(clocks(H, H)), Verdict::Active);
    drop(busy);
    // After the request, the next head has not started: only idle applies.
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::Active);
    assert_eq!(a.verdict(clocks(H, H)), Verdict::Idle);
}

#[test]
fn a_quiet_connection_parks_before_it_idles_out() {
    let a = Arc::new(Activity::new(false));
    let long = Duration::from_secs(60);
    let park = |p| Clocks {
        header: long,
        idle: long,
        park: Some(p),
    };
    assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Park);
    assert_eq!(a.verdict(park(long)), Verdict::Active);
    // Never while a request is in flight or a head is arriving.
    let busy = a.begin();
    assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Active);
    drop(busy);
    a.on_read();
    assert_eq!(a.verdict(park(Duration::ZERO)), Verdict::Active);
}

#[test]
fn a_streaming_response_is_activity_until_nothing_moves_for_idle() {
    for h2 in [false, true] {
        let a = Arc::new(Activity::new(h2));
        let busy = a.begin().streaming();
        // The client's WINDOW_UPDATE (or anything it sends) starts no header clock.
        a.on_read();
        assert_eq!(a.verdict(clocks(H, LONG)), Verdict::Active, "h2: {h2}");
        // Nothing moving for the idle timeout: stalled, and never parked.
        assert_eq!(a.verdict(clocks(LONG, H)), Verdict::Stalled, "h2: {h2}");
        let park = Clocks {
            header: LONG,
            idle: LONG,
            park: Some(H),
        };
        assert_eq!(a.verdict(park), Verdict::Active, "h2: {h2}");
        drop(busy);
        assert_eq!(a.verdict(clocks(LONG, LONG)), Verdict::Active, "h2: {h2}");
    }
}

#[test]
fn on_http1_a_head_begun_while_a_response_streams_is_held_to_the_header_clock_after_it() {
    let a = Arc::new(Activity::new(false));
    let busy = a.begin().streaming();
    a.on_read();
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::Active);
    drop(busy);
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::SlowHead);
}

#[test]
fn on_http2_frames_between_requests_start_no_header_clock() {
    let a = Arc::new(Activity::new(true));
    // The preface and SETTINGS: the first request must follow within the header timeout.
    a.on_read();
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::SlowHead);
    drop(a.begin());
    // PING, WINDOW_UPDATE after it: the connection is idle, not receiving a head.
    a.on_read();
    assert_eq!(a.verdict(clocks(H, LONG)), Verdict::Active);
    // ... and those frames do not keep it from idling out.
    assert_eq!(a.verdict(clocks(LONG, H)), Verdict::Idle);
}

#[test]
fn the_watchdog_looks_again_when_a_stalled_stream_would_be_due() {
    let a = Arc::new(Activity::new(true));
    let busy = a.begin().streaming();
    let idle = Duration::from_millis(500);
    let due = a.next_check(clocks(LONG, idle));
    assert!(due <= Instant::now() + idle, "{due:?}");
    drop(busy);
}

#[test]
fn a_graceful_close_that_does_not_complete_is_dropped_unless_busy() {
    let a = Arc::new(Activity::new(true));
    let idle = clocks(LONG, H);
    let mut dog = Watchdog::default();
    assert_eq!(dog.step(&a, idle), Step::Close);
    assert!(dog.closing());
    // The deadline passed and the connection is still idle: the client ignored the GOAWAY.
    assert_eq!(
        dog.step(&a, idle),
        Step::Drop("connection asked to close did not in time")
    );
    // A request still finishing is left to its own clocks.
    let mut dog = Watchdog::default();
    assert_eq!(dog.step(&a, idle), Step::Close);
    let busy = a.begin();
    assert_eq!(dog.step(&a, idle), Step::Wait);
    drop(busy);
    // Shutdown: a connection not yet idle, with nothing in flight, goes at the deadline too.
    let mut dog = Watchdog::default();
    dog.close(clocks(LONG, LONG));
    assert!(matches!(dog.step(&a, clocks(LONG, LONG)), Step::Drop(_)));
}

#[tokio::test]
async fn unread_bytes_come_back_first_in_stream_order() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut client, server) = tokio::io::duplex(64);
    client.write_all(b" world").await.unwrap();
    drop(client);
    let mut io = TrackedIo::new(server, Arc::new(Activity::new(false)));
    io.unread(Bytes::from_static(b"lo"));
    // Given back later, read earlier: it goes in front.
    io.unread(Bytes::from_static(b"hel"));
    assert!(io.has_unread());
    let mut small = [0u8; 2];
    io.read_exact(&mut small).await.unwrap();
    assert_eq!(&small, b"he");
    let mut rest = String::new();
    io.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "llo world");
    assert!(!io.has_unread());
}

/// hyper's read buffer, as `into_parts` gives it back: bytes cut from one larger allocation.
fn hyper_buffer() -> Bytes {
    Bytes::from(vec![b'x'; 8192])
}

#[test]
fn an_empty_leftover_does_not_keep_hypers_read_buffer() {
    // As hyper reads: the request's head is split off the buffer, and what is left (nothing)
    // is frozen into the `read_buf` that `into_parts` returns.
    let mut buffer = bytes::BytesMut::from(&[b'x'; 8192][..]);
    let head = buffer.split_to(8192).freeze();
    let leftover = buffer.freeze();
    assert!(leftover.is_empty() && !head.is_unique());
    let mut io = TrackedIo::new(tokio::io::empty(), Arc::new(Activity::new(false)));
    io.unread(leftover);
    assert!(!io.has_unread());
    assert!(
        head.is_unique(),
        "the parked connection still holds the buffer"
    );
}

#[tokio::test]
async fn read_back_leftovers_let_go_of_the_buffer_they_were_cut_from() {
    use tokio::io::AsyncReadExt;
    let whole = hyper_buffer();
    let mut io = TrackedIo::new(tokio::io::empty(), Arc::new(Activity::new(false)));
    io.unread(whole.slice(0..3));
    assert!(!whole.is_unique());
    // Read in two steps: the buffer is held while a byte is still to come, not after.
    let mut got = [0u8; 2];
    io.read_exact(&mut got).await.unwrap();
    assert!(!whole.is_unique(), "let go before its last byte was read");
    let mut last = [0u8; 1];
    io.read_exact(&mut last).await.unwrap();
    assert_eq!([got[0], got[1], last[0]], *b"xxx");
    assert!(
        whole.is_unique(),
        "the buffer outlived its last unread byte"
    );
}

/// Clocks with a park time, header and idle timeouts of a minute.
fn parking(park: Duration) -> Clocks {
    Clocks {
        header: LONG,
        idle: LONG,
        park: Some(park),
    }
}

#[test]
fn a_request_just_begun_is_looked_at_again_within_the_park_time() {
    // Nothing says when the request ends: the watchdog must look by itself, soon enough to
    // park the connection 100 ms after it, not at the next header check a minute on.
    let a = Arc::new(Activity::new(false));
    let park = Duration::from_millis(100);
    let busy = a.begin();
    let due = a.next_check(parking(park));
    assert!(due <= Instant::now() + park, "{due:?}");
    // The same while its response streams.
    let busy = busy.streaming();
    assert!(a.next_check(parking(park)) <= Instant::now() + park);
    drop(busy);
}

#[test]
fn a_long_request_is_looked_at_again_as_long_as_it_has_taken_within_the_timeouts() {
    let ten = Duration::from_secs(10);
    let a = Arc::new(Activity {
        epoch: Instant::now().checked_sub(ten).unwrap(),
        ..Activity::new(false)
    });
    let busy = a.begin();
    // Begun ten seconds ago (at the epoch).
    a.last_request.store(0, Ordering::Relaxed);
    let park = Duration::from_millis(100);
    let due = a.next_check(parking(park));
    let now = Instant::now();
    // Ten seconds and the moments this test took, not the park time nor the minute.
    let second = Duration::from_secs(1);
    assert!(due >= now + ten - second, "{due:?}");
    assert!(due <= now + ten + second, "{due:?}");
    // Never later than the idle timeout, so the idle clock its end starts is seen in time;
    // nor than the header timeout.
    let short = Duration::from_secs(2);
    let idle = Clocks {
        idle: short,
        ..parking(park)
    };
    assert!(a.next_check(idle) <= Instant::now() + short);
    let header = Clocks {
        header: short,
        ..parking(park)
    };
    assert!(a.next_check(header) <= Instant::now() + short);
    drop(busy);
}

#[test]
fn a_head_arriving_is_looked_at_again_within_the_park_time() {
    // The head may become a request that ends before the header timeout, with no word to the
    // watchdog: it looks again soon enough to park the connection once it is quiet.
    let a = Arc::new(Activity::new(false));
    a.on_read();
    let park = Duration::from_millis(100);
    assert!(a.next_check(parking(park)) <= Instant::now() + park);
    // Without a park time, the header timeout bounds it as before.
    assert!(a.next_check(clocks(LONG, LONG)) <= Instant::now() + LONG);
}

#[test]
fn an_http2_request_in_flight_is_looked_at_again_within_the_idle_timeout() {
    // HTTP/2 has no park time: the idle clock, from the last request's end, is what must not
    // be missed, even when the idle timeout is shorter than the header timeout.
    let a = Arc::new(Activity::new(true));
    let busy = a.begin();
    let idle = Duration::from_secs(2);
    assert!(a.next_check(clocks(LONG, idle)) <= Instant::now() + idle);
    assert!(a.next_check(clocks(idle, LONG)) <= Instant::now() + idle);
    drop(busy);
}
