use super::*;

const B1: Binding = [1; 32];
const B2: Binding = [2; 32];

fn kept(n: usize) -> Outcome {
    Outcome::Kept(Arc::new(KeptResponse {
        status: 201,
        headers: vec![("content-type".into(), b"text/plain".to_vec())],
        body: Bytes::from(vec![b'x'; n]),
    }))
}

#[tokio::test]
async fn a_retry_with_the_same_binding_is_served_and_another_binding_conflicts() {
    let r = MemoryRetries::new(10, 1000);
    let k = RetryKey(7);
    assert_eq!(r.bind(k, &B1, false, 100, 0).await.unwrap(), Bind::First);
    assert_eq!(
        r.bind(k, &B1, false, 100, 1).await.unwrap(),
        Bind::Retry(Outcome::Served)
    );
    assert_eq!(r.bind(k, &B2, false, 100, 1).await.unwrap(), Bind::Conflict);
    // After the window the key is free again.
    assert_eq!(r.bind(k, &B2, false, 200, 100).await.unwrap(), Bind::First);
    assert!(r.lock().by_expiry.contains(&(200, k)));
}

#[tokio::test]
async fn a_kept_answer_is_replayed_and_waiters_get_it() {
    let r = Arc::new(MemoryRetries::new(10, 1000));
    let k = RetryKey(1);
    assert_eq!(r.bind(k, &B1, true, 100, 0).await.unwrap(), Bind::First);
    assert_eq!(r.bind(k, &B1, true, 100, 0).await.unwrap(), Bind::InFlight);
    let waiter = {
        let r = Arc::clone(&r);
        tokio::spawn(async move { r.wait(k, Duration::from_secs(30)).await.unwrap() })
    };
    while r.waiting() == 0 {
        tokio::task::yield_now().await;
    }
    r.finish(k, kept(10)).await.unwrap();
    assert_eq!(waiter.await.unwrap(), Some(kept(10)));
    assert_eq!(
        r.bind(k, &B1, true, 100, 1).await.unwrap(),
        Bind::Retry(kept(10))
    );
    // A second finish does not replace the first outcome.
    r.finish(k, Outcome::NotKept).await.unwrap();
    assert_eq!(
        r.bind(k, &B1, true, 100, 1).await.unwrap(),
        Bind::Retry(kept(10))
    );
}

#[tokio::test]
async fn bounds_fail_closed() {
    let r = MemoryRetries::new(2, 30);
    assert_eq!(
        r.bind(RetryKey(1), &B1, true, 100, 0).await.unwrap(),
        Bind::First
    );
    assert_eq!(
        r.bind(RetryKey(2), &B1, true, 100, 0).await.unwrap(),
        Bind::First
    );
    assert_eq!(
        r.bind(RetryKey(3), &B1, true, 100, 0).await.unwrap(),
        Bind::Full
    );
    // Over the memory left: not kept, so a retry is refused rather than forwarded again.
    r.finish(RetryKey(1), kept(10)).await.unwrap();
    r.finish(RetryKey(2), kept(10)).await.unwrap();
    assert_eq!(
        r.bind(RetryKey(2), &B1, true, 100, 0).await.unwrap(),
        Bind::Retry(Outcome::NotKept)
    );
    // Expired entries free both bounds.
    assert_eq!(r.prune(100).await.unwrap(), 2);
    assert_eq!(r.lock().bytes, 0);
    assert_eq!(
        r.bind(RetryKey(3), &B1, true, 200, 100).await.unwrap(),
        Bind::First
    );
}

#[tokio::test]
async fn a_wait_ends_at_its_timeout() {
    let r = MemoryRetries::new(2, 30);
    r.bind(RetryKey(1), &B1, true, 100, 0).await.unwrap();
    assert_eq!(
        r.wait(RetryKey(1), Duration::from_millis(1)).await.unwrap(),
        None
    );
}
