//! Airnode retries, on a forwarded route and at an embedded endpoint: the request's binding recorded under its request id
//! ([`crate::store::retry`]), a retry served, a conflicting one refused, and for methods that may
//! act (not GET or HEAD) the first response kept and replayed, so the backend acts once.
//!
//! The body is read whole (within the route's or the endpoint's body limit) to digest it into
//! the binding; the request then goes upstream (or to the handler) from memory. A first response is kept up to the block's
//! `max_replay_bytes`, read within the route's timeout; a larger or slower one streams on to
//! its caller unkept, and its retries are refused (409). A first that ends without a response
//! (the client went away) is recorded as not kept too. A gateway error for the first (502, 504)
//! is kept like a backend's answer: whether the backend acted is unknown, so it must not be
//! asked again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_lc_rs::digest;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;

use crate::auth::Principal;
use crate::auth::airnode::relay::Relay;
use crate::config::AirnodeConfig;
use crate::error::{AirnodeError, Error};
use crate::http::body::{Body, BoxError, full};
use crate::http::client_body::{ClientBody, Inbound};
use crate::http::read::read_body;
use crate::http::render::error_response;
use crate::state::policy::Policy;
use crate::state::shared::Shared;
use crate::store::retry::{Bind, Binding, KeptResponse, Outcome, RetryKey, RetryRecord};

/// A request whose body was read into memory.
pub(super) type Buffered = ClientBody<Full<Bytes>>;

/// One Airnode request on its way upstream.
pub(super) struct Retries<'a> {
    pub(super) record: &'a Arc<dyn RetryRecord>,
    pub(super) airnode: &'a AirnodeConfig,
    pub(super) relay: &'a Relay,
    /// The route's body limit.
    pub(super) body_limit: u64,
    /// The route's upstream timeout.
    pub(super) upstream_timeout: Duration,
    pub(super) now: i64,
}

impl<'a> Retries<'a> {
    /// The retries of `who`'s request when `who` is an Airnode caller: bodies up to
    /// `body_limit`, the answer expected within `upstream_timeout`.
    pub(super) fn of(
        shared: &'a Shared,
        policy: &'a Policy,
        who: &'a Principal,
        body_limit: u64,
        upstream_timeout: Duration,
        now: i64,
    ) -> Option<Self> {
        let relay = who.relay.as_deref()?;
        let airnode = policy
            .airnodes
            .by_consumer_key(who.consumer_key.as_deref()?)?;
        Some(Self {
            record: &shared.airnode_retries,
            airnode,
            relay,
            body_limit,
            upstream_timeout,
            now,
        })
    }

    /// Binds `req`, then forwards it with `forward`, replays the first answer, or refuses it.
    pub(super) async fn send<B, F, Fut>(
        &self,
        req: Request<ClientBody<B>>,
        forward: F,
    ) -> Result<Response<Body>, Error>
    where
        B: Inbound,
        F: FnOnce(Request<Buffered>) -> Fut,
        Fut: Future<Output = Result<Response<Body>, Error>>,
    {
        let (parts, body) = req.into_parts();
        let timeout = body.timeout();
        let limit = usize::try_from(self.body_limit).unwrap_or(usize::MAX);
        let bytes = read_body(body, limit).await?;
        let keep = !matches!(parts.method, Method::GET | Method::HEAD);
        let key = self.key();
        let binding = self.binding(&parts, &bytes);
        let until = self
            .now
            .saturating_add_unsigned(self.airnode.retry_window_secs);
        let req = Request::from_parts(parts, ClientBody::new(Full::new(bytes), timeout));
        match self
            .record
            .bind(key, &binding, keep, until, self.now)
            .await?
        {
            Bind::Full => Err(Error::Airnode(AirnodeError::RetryWindowFull)),
            Bind::Conflict => Err(Error::Airnode(AirnodeError::RetryConflict)),
            Bind::First if keep => self.first(key, forward(req)).await,
            Bind::First | Bind::Retry(Outcome::Served) => forward(req).await,
            Bind::Retry(outcome) => replay(outcome),
            Bind::InFlight => {
                // The first is bounded by the upstream's answer and the reading of its body.
                let wait = self.upstream_timeout.saturating_mul(2);
                match self.record.wait(key, wait).await? {
                    Some(outcome) => replay(outcome),
                    None => Err(Error::UpstreamTimeout),
                }
            }
        }
    }

    /// The key: the block, the chain and the request id (lowercase, as parsed).
    fn key(&self) -> RetryKey {
        RetryKey(crate::cache::digest(&[
            b"airnode-retry",
            self.airnode.name.as_bytes(),
            &self.relay.chain_id.to_be_bytes(),
            self.relay.request_id.as_slice(),
        ]))
    }

    /// SHA-256 of the binding's parts, each length-prefixed: requester, sponsor, sponsor
    /// wallet, method, path and query, and the body's own SHA-256.
    fn binding(&self, parts: &http::request::Parts, body: &[u8]) -> Binding {
        let r = self.relay;
        let body = digest::digest(&digest::SHA256, body);
        let sponsor = r.sponsor.map(|a| a.0.0).unwrap_or_default();
        let wallet = r.sponsor_wallet.map(|a| a.0.0).unwrap_or_default();
        let flags = [
            u8::from(r.sponsor.is_some()),
            u8::from(r.sponsor_wallet.is_some()),
        ];
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in [
            r.requester.as_slice(),
            &flags,
            &sponsor,
            &wallet,
            parts.method.as_str().as_bytes(),
            target.as_bytes(),
            body.as_ref(),
        ] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        let mut out = [0; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Forwards the first request with `key` and keeps its answer.
    async fn first(
        &self,
        key: RetryKey,
        sent: impl Future<Output = Result<Response<Body>, Error>>,
    ) -> Result<Response<Body>, Error> {
        let mut pending = Pending {
            record: Arc::clone(self.record),
            key,
            done: false,
        };
        match sent.await {
            Err(err) => {
                let kept = rendered(&err).await;
                pending.finish(kept).await;
                Err(err)
            }
            Ok(resp) => self.keep(resp, pending).await,
        }
    }

    /// Reads the first answer's body into memory, up to `max_replay_bytes` and within the
    /// upstream timeout, and keeps it; past either, the answer streams on unkept.
    async fn keep(
        &self,
        resp: Response<Body>,
        mut pending: Pending,
    ) -> Result<Response<Body>, Error> {
        let (parts, mut body) = resp.into_parts();
        let deadline = tokio::time::Instant::now() + self.upstream_timeout;
        let mut buf = BytesMut::new();
        while buf.len() <= self.airnode.max_replay_bytes {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => break,
                Ok(None) => {
                    let kept = KeptResponse {
                        status: parts.status.as_u16(),
                        headers: lines(&parts.headers),
                        body: buf.freeze(),
                    };
                    let body = kept.body.clone();
                    pending.finish(Outcome::Kept(Arc::new(kept))).await;
                    return Ok(Response::from_parts(parts, full(body)));
                }
                Ok(Some(Err(e))) => {
                    pending.finish(Outcome::NotKept).await;
                    return Err(Error::UpstreamUnavailable(e));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            // Trailers are not kept (nor relayed: the answer is replayed without them).
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
            }
        }
        pending.finish(Outcome::NotKept).await;
        let rest = Prefixed {
            head: Some(buf.freeze()),
            rest: body,
        };
        Ok(Response::from_parts(parts, rest.boxed()))
    }
}

/// The kept form of the gateway's own answer to `err`.
async fn rendered(err: &Error) -> Outcome {
    let (parts, body) = error_response(err).into_parts();
    match body.collect().await {
        Ok(body) => Outcome::Kept(Arc::new(KeptResponse {
            status: parts.status.as_u16(),
            headers: lines(&parts.headers),
            body: body.to_bytes(),
        })),
        Err(_) => Outcome::NotKept,
    }
}

fn lines(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// A retry's answer: the first one again, or 409 when it was not kept.
fn replay(outcome: Outcome) -> Result<Response<Body>, Error> {
    let Outcome::Kept(kept) = outcome else {
        return Err(Error::Airnode(AirnodeError::ReplayUnavailable));
    };
    let status = StatusCode::from_u16(kept.status)
        .map_err(|_| Error::Airnode(AirnodeError::ReplayUnavailable))?;
    let mut resp = Response::new(full(kept.body.clone()));
    *resp.status_mut() = status;
    for (name, value) in &kept.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
    Ok(resp)
}

/// A first request's entry until its outcome is recorded; dropped before (the client went
/// away mid-request), it records [`Outcome::NotKept`], so waiting retries do not wait in vain.
struct Pending {
    record: Arc<dyn RetryRecord>,
    key: RetryKey,
    done: bool,
}

impl Pending {
    async fn finish(&mut self, outcome: Outcome) {
        self.done = true;
        if let Err(e) = self.record.finish(self.key, outcome).await {
            tracing::warn!(error = %e, "recording an Airnode first response failed");
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (record, key) = (Arc::clone(&self.record), self.key);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = record.finish(key, Outcome::NotKept).await;
            });
        }
    }
}

/// The bytes already read, then the rest of the body.
struct Prefixed {
    head: Option<Bytes>,
    rest: Body,
}

impl hyper::body::Body for Prefixed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(head) = self.head.take().filter(|h| !h.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }
}
