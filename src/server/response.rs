//! A response body on its way out: the request stays busy until it ends, and it may not stand
//! still for longer than the idle timeout.
//!
//! The connection's watchdog ([`super::activity`]) counts a streaming response as activity, so
//! neither the header clock nor the idle-close of a quiet connection cuts it. What bounds it
//! instead: the body itself fails when its source (an upstream) yields nothing for
//! `server.idle_timeout_secs` while hyper waits for it ([`FrameClock`]), which ends the
//! HTTP/1.1 connection or resets the HTTP/2 stream; and a client that stops reading is caught
//! by the connection's idle clock (nothing moves: [`super::activity::Verdict::Stalled`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as _, Frame, SizeHint};

use super::activity::Busy;
use crate::http::body::{Body, BoxError};
use crate::http::client_body::FrameClock;

/// A response body that keeps its request [`Busy`] until it ends.
pub(super) struct Streaming {
    inner: Body,
    busy: Option<Busy>,
    clock: FrameClock,
}

impl Streaming {
    /// `inner`, the body of the response `busy` produced; it may stand still for `idle`.
    pub(super) fn new(inner: Body, busy: Busy, idle: Duration) -> Self {
        let busy = (!inner.is_end_stream()).then(|| busy.streaming());
        Self {
            inner,
            busy,
            clock: FrameClock::new(idle),
        }
    }
}

impl hyper::body::Body for Streaming {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.clock.arrived();
                if this.inner.is_end_stream() {
                    this.busy = None;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(end_or_error) => {
                this.busy = None;
                Poll::Ready(end_or_error)
            }
            Poll::Pending => match this.clock.poll_waiting(cx) {
                Poll::Ready(()) => {
                    this.busy = None;
                    let secs = this.clock.timeout().as_secs();
                    Poll::Ready(Some(Err(format!(
                        "the response body stood still for {secs} s"
                    )
                    .into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
