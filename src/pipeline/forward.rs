//! The pipeline's forward step: the route's view check, then the request with its headers made
//! safe ([`crate::proxy::headers`]) streams to the route's upstream ([`crate::proxy`]). An
//! Airnode caller's request goes through its retry record first (`relay`).

use http::{Request, Response};

use super::head::host_of;
use super::relay::Retries;
use crate::auth::Principal;
use crate::config::RouteConfig;
use crate::error::Error;
use crate::http::body::Body;
use crate::http::client_body::{ClientBody, Inbound};
use crate::proxy::headers::ForwardContext;
use crate::state::policy::Policy;
use crate::state::shared::Shared;

/// A request on its way to `route`'s upstream.
pub(super) struct Forward<'a> {
    pub(super) shared: &'a Shared,
    pub(super) policy: &'a Policy,
    /// The TCP peer.
    pub(super) peer: std::net::IpAddr,
    /// Whether the client connection is TLS.
    pub(super) tls: bool,
    pub(super) route: &'a RouteConfig,
    /// The time the request is judged at.
    pub(super) now: i64,
}

impl Forward<'_> {
    /// Checks the route's view requirement for `who`, then forwards `req`; the body streams.
    pub(super) async fn send<B: Inbound>(
        &self,
        mut req: Request<ClientBody<B>>,
        who: Option<&Principal>,
    ) -> Result<Response<Body>, Error> {
        let route = self.route;
        let view = match (&route.view_check, who) {
            (Some(check), Some(who)) => Some(
                crate::obp::route_check::view_for_route(
                    &*self.shared.store.access,
                    check,
                    req.uri().path(),
                    who,
                )
                .await?,
            ),
            // A route with a view check has `auth = "required"` (the configuration says so).
            (Some(_), None) => return Err(Error::MissingCredentials),
            (None, _) => None,
        };
        // Relay facts and Airnode keys reach a backend only as the gateway's own headers.
        crate::proxy::headers::remove_named(req.headers_mut(), self.policy.airnodes.header_names());
        let view = view.as_deref();
        let limit = route
            .max_body_bytes
            .unwrap_or(self.policy.config.server.max_body_bytes);
        let retries = who.and_then(|who| {
            Retries::of(
                self.shared,
                self.policy,
                who,
                limit,
                route.timeout,
                self.now,
            )
        });
        if let Some(retries) = retries {
            // Boxed: it holds an upstream future of its own, which would double this one.
            return Box::pin(retries.send(req, |req| self.upstream(req, who, view))).await;
        }
        self.upstream(req, who, view).await
    }

    /// Forwards `req` with its headers made safe; the body streams.
    async fn upstream<B: Inbound>(
        &self,
        req: Request<ClientBody<B>>,
        who: Option<&Principal>,
        view: Option<&str>,
    ) -> Result<Response<Body>, Error> {
        let route = self.route;
        let server = &self.policy.config.server;
        let host = host_of(&req);
        let peer = self.peer;
        let ctx = ForwardContext {
            peer,
            peer_trusted: server.trusted_proxies.contains(peer),
            tls: self.tls,
            forward_token: route.forward_token,
            preserve_host: route.preserve_host,
            host: host.as_deref(),
            view,
        };
        self.policy
            .routes
            .forward(route, req, &ctx, who, server.max_body_bytes)
            .await
    }
}
