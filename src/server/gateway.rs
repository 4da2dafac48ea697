//! The service hyper calls for each request: the policy loaded once for the request, the body
//! wrapped in its clock, the pipeline, and the response counted as activity while it streams.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

use super::activity::Activity;
use super::response::Streaming;
use crate::http::client_body::ClientBody;
use crate::pipeline::{ConnInfo, handle};
use crate::state::State;

/// What a request's handling returns to hyper.
type Handled = Pin<Box<dyn Future<Output = Result<Response<Streaming>, Infallible>> + Send>>;

/// The per-connection service: the pipeline, with the request counted as in flight until its
/// response has streamed out, and its body read through a [`ClientBody`].
#[derive(Clone)]
pub(super) struct Gateway {
    pub(super) state: Arc<State>,
    pub(super) activity: Arc<Activity>,
    pub(super) info: ConnInfo,
}

impl hyper::service::Service<Request<Incoming>> for Gateway {
    type Response = Response<Streaming>;
    type Error = Infallible;
    type Future = Handled;

    fn call(&self, req: Request<Incoming>) -> Handled {
        let state = Arc::clone(&self.state);
        let busy = self.activity.begin();
        let info = self.info;
        Box::pin(async move {
            // The one load of the policy for this request: every step sees this snapshot.
            let policy = state.policy();
            let server = &policy.config.server;
            let req = req.map(|body| ClientBody::new(body, server.body_read_timeout));
            let resp = handle(state.shared(), &policy, req, info).await;
            let idle = server.idle_timeout;
            Ok(resp.map(|body| Streaming::new(body, busy, idle)))
        })
    }
}
