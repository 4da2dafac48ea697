use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::*;

/// A connected pair on loopback: (ours, the peer's).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = TcpStream::connect(listener.local_addr().unwrap());
    let (ours, accepted) = tokio::join!(ours, listener.accept());
    (ours.unwrap(), accepted.unwrap().0)
}

/// Bounds a test that would hang if bytes were lost.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("finished in time")
}

#[tokio::test]
async fn small_writes_wait_for_the_batch_end_and_arrive_in_order() {
    let (ours, mut peer) = pair().await;
    let mut io = Coalesced::new(ours);
    io.write_all(b"one ").await.unwrap();
    io.write_all(b"two ").await.unwrap();
    io.flush().await.unwrap();
    // Nothing is on the wire while this task is still running.
    let mut probe = [0u8; 16];
    assert!(
        peer.try_read(&mut probe)
            .is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock)
    );
    // Once the runtime has been round its tasks, the flusher has written both.
    tokio::task::yield_now().await;
    let mut got = [0u8; 8];
    within(peer.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"one two ");
    // A write over the batching size goes out directly, after what waits.
    io.write_all(b"three ").await.unwrap();
    let big = vec![b'x'; MOST + 1];
    io.write_all(&big).await.unwrap();
    io.shutdown().await.unwrap();
    let mut rest = Vec::new();
    within(peer.read_to_end(&mut rest)).await.unwrap();
    assert_eq!(&rest[..6], b"three ");
    assert_eq!(&rest[6..], &big[..]);
}

#[tokio::test]
async fn bytes_a_full_socket_left_behind_still_arrive_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(4096).unwrap();
    let ours = socket.connect(listener.local_addr().unwrap());
    let (ours, accepted) = tokio::join!(ours, listener.accept());
    let mut peer = accepted.unwrap().0;
    let mut io = Coalesced::new(ours.unwrap());
    let expected: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let sent = expected.clone();
    let writer = tokio::spawn(async move {
        for chunk in sent.chunks(1000) {
            io.write_all(chunk).await.unwrap();
            io.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        io.shutdown().await.unwrap();
    });
    // A slow reader: the socket fills, and the flusher leaves bytes behind.
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = within(peer.read(&mut buf)).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        tokio::task::yield_now().await;
    }
    within(writer).await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes out of order");
}

#[tokio::test]
async fn writes_to_a_reset_connection_fail() {
    let (ours, peer) = pair().await;
    let mut io = Coalesced::new(ours);
    // The peer closes with bytes unread: it resets the connection.
    io.write_all(b"unread").await.unwrap();
    tokio::task::yield_now().await;
    let mut probe = [0u8; 1];
    within(peer.readable()).await.unwrap();
    assert!(peer.try_read(&mut probe).is_ok());
    drop(peer);
    let mut failed = false;
    for _ in 0..1000 {
        if io.write_all(b"ping").await.is_err() || io.flush().await.is_err() {
            failed = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(failed, "writes to a reset connection kept succeeding");
}

#[tokio::test]
async fn bytes_written_before_the_stream_is_dropped_still_go_out() {
    let (ours, mut peer) = pair().await;
    let mut io = Coalesced::new(ours);
    io.write_all(b"last words").await.unwrap();
    drop(io);
    let mut got = Vec::new();
    within(peer.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"last words");
}

#[tokio::test]
async fn a_stream_keeps_no_large_buffer_once_its_bytes_are_out() {
    let (ours, mut peer) = pair().await;
    let mut io = Coalesced::new(ours);
    // A small batch: its buffer is kept for the next one.
    io.write_all(b"small").await.unwrap();
    tokio::task::yield_now().await;
    let mut got = [0u8; 5];
    within(peer.read_exact(&mut got)).await.unwrap();
    assert!(io.lock().waiting.is_empty());
    assert!(io.lock().waiting.capacity() > 0, "a small buffer is kept");
    // A batch of several writes over `KEEP` together, each under `MOST`: once out, the buffer
    // is given back (an idle connection holds none).
    let chunk = vec![b'y'; KEEP / 2 + 1];
    for _ in 0..3 {
        io.write_all(&chunk).await.unwrap();
    }
    assert!(io.lock().waiting.capacity() > KEEP, "batched, not written");
    tokio::task::yield_now().await;
    let mut got = vec![0u8; chunk.len() * 3];
    within(peer.read_exact(&mut got)).await.unwrap();
    assert!(got.iter().all(|&b| b == b'y'));
    let inner = io.lock();
    assert!(inner.waiting.is_empty());
    assert!(
        inner.waiting.capacity() <= KEEP,
        "{} bytes kept",
        inner.waiting.capacity()
    );
}
