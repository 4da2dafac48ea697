use super::*;

use http_body_util::BodyExt;
use tokio::sync::mpsc;

/// A body fed by the test; `Err` items become body errors.
struct Fed(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl Body for Fed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|f| f.map(|r| r.map(Frame::data)))
    }
}

fn fed(timeout_ms: u64) -> (mpsc::Sender<Result<Bytes, std::io::Error>>, ClientBody<Fed>) {
    let (tx, rx) = mpsc::channel(8);
    (
        tx,
        ClientBody::new(Fed(rx), Duration::from_millis(timeout_ms)),
    )
}

#[tokio::test]
async fn frames_and_the_end_pass_through() {
    let (tx, body) = fed(60_000);
    tx.send(Ok(Bytes::from_static(b"ab"))).await.unwrap();
    tx.send(Ok(Bytes::from_static(b"c"))).await.unwrap();
    drop(tx);
    assert_eq!(body.collect().await.unwrap().to_bytes(), "abc");
}

#[tokio::test]
async fn a_stall_times_out_and_stays_timed_out() {
    let (tx, mut body) = fed(50);
    tx.send(Ok(Bytes::from_static(b"a"))).await.unwrap();
    assert!(body.frame().await.unwrap().is_ok());
    let err = body.frame().await.unwrap().unwrap_err();
    assert!(matches!(err, ClientBodyError::TimedOut(_)), "{err}");
    // A late byte does not revive it.
    tx.send(Ok(Bytes::from_static(b"b"))).await.unwrap();
    assert!(matches!(
        body.frame().await,
        Some(Err(ClientBodyError::TimedOut(_)))
    ));
}

#[tokio::test]
async fn the_clock_runs_only_while_the_reader_waits() {
    let (tx, mut body) = fed(50);
    tx.send(Ok(Bytes::from_static(b"a"))).await.unwrap();
    assert!(body.frame().await.unwrap().is_ok());
    // Not read for longer than the timeout: the reader was slow, not the client.
    tokio::time::sleep(Duration::from_millis(150)).await;
    tx.send(Ok(Bytes::from_static(b"b"))).await.unwrap();
    assert_eq!(
        body.frame().await.unwrap().unwrap().into_data().unwrap(),
        "b"
    );
}

#[tokio::test]
async fn waits_for_the_client_are_counted() {
    let (tx, mut body) = fed(60_000);
    let waits = body.waits();
    let reading = tokio::spawn(async move { body.frame().await.map(|f| f.is_ok()) });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(waits.waiting());
    assert!(waits.total() >= Duration::from_millis(90));
    tx.send(Ok(Bytes::from_static(b"a"))).await.unwrap();
    assert_eq!(reading.await.unwrap(), Some(true));
    assert!(!waits.waiting());
    let total = waits.total();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(waits.total(), total);
}

/// An upstream client's error that wraps the body's, as hyper does.
#[derive(Debug)]
struct Wrapper(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending the request failed")
    }
}

impl std::error::Error for Wrapper {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

#[tokio::test]
async fn stream_failures_are_tagged_and_found_in_a_chain() {
    let (tx, mut body) = fed(60_000);
    tx.send(Err(std::io::Error::other("invalid chunk size")))
        .await
        .unwrap();
    let err = body.frame().await.unwrap().unwrap_err();
    assert!(matches!(err, ClientBodyError::Broken(_)));
    assert_eq!(
        err.to_string(),
        "the request body could not be read: invalid chunk size"
    );
    let wrapped = Wrapper(Box::new(err));
    assert!(matches!(
        client_fault(&wrapped),
        Some(ClientBodyError::Broken(_))
    ));
    assert!(client_fault(&std::io::Error::other("upstream reset")).is_none());
}
