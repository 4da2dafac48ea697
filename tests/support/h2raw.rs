//! HTTP/2 frames written by hand, for what a well-behaved client library will not send
//! (streams beyond the server's limit, no acknowledgements, resets mid-body).

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// An HTTP/2 frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The connection preface and an empty SETTINGS frame.
pub fn preface() -> Vec<u8> {
    [
        &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..],
        &frame(4, 0, 0, &[]),
    ]
    .concat()
}

/// A HEADERS frame (HPACK without the dynamic table) for `method` (2 = GET, 3 = POST, the
/// static table's index) on `path`, ending the stream if `end`.
pub fn headers(stream: u32, method: u8, path: &str, end: bool) -> Vec<u8> {
    let mut block = vec![0x80 | method, 0x86, 0x04, u8::try_from(path.len()).unwrap()];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 1, b'x']);
    frame(1, 0x4 | u8::from(end), stream, &block)
}

/// Reads frames until `want` returns true for one (type, flags, stream, payload); panics when
/// the connection ends first or after 30 s.
pub async fn read_frames_until(
    tcp: &mut TcpStream,
    mut want: impl FnMut(u8, u8, u32, &[u8]) -> bool,
) {
    let read = async {
        loop {
            let mut head = [0u8; 9];
            tcp.read_exact(&mut head)
                .await
                .expect("the connection ended");
            let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            tcp.read_exact(&mut payload)
                .await
                .expect("the connection ended");
            if want(head[3], head[4], stream, &payload) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("no such frame");
}
