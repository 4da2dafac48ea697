//! One accepted connection: the settings it is held to (read from the policy current when it
//! was accepted), and the service hyper calls for each of its requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, watch};

use super::activity::{Activity, Clocks};
use super::gateway::Gateway;
use crate::config::ServerConfig;
use crate::pipeline::ConnInfo;
use crate::state::State;

/// The settings a connection is held to, read from the policy when it is accepted.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnLimits {
    pub(super) header_read_timeout: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) hard_header_limit: usize,
    pub(super) max_concurrent_streams: u32,
}

impl ConnLimits {
    pub(super) fn of(server: &ServerConfig) -> Self {
        Self {
            header_read_timeout: server.header_read_timeout,
            idle_timeout: server.idle_timeout,
            hard_header_limit: hard_header_limit(server),
            max_concurrent_streams: server.max_concurrent_streams,
        }
    }
}

pub(super) struct Connection {
    /// The state, not a policy: each request on the connection loads the current one.
    pub(super) state: Arc<State>,
    pub(super) limits: ConnLimits,
    pub(super) peer: SocketAddr,
    pub(super) stop: watch::Receiver<bool>,
    /// The connection's place under `server.max_connections`, given back when it ends.
    pub(super) _permit: OwnedSemaphorePermit,
    /// Counted in `dauth_open_connections{protocol}` from the handshake until the connection
    /// ends (held here, not by a wrapping `async fn`: one that awaits a future it takes by
    /// value holds that future twice, which made each connection's task 4,024 bytes, not 2,000).
    pub(super) open: Option<crate::metrics::OpenConnection>,
}

impl Connection {
    /// The clocks a connection is held to; `park` only for HTTP/1.
    pub(super) fn clocks(&self, park: Option<Duration>) -> Clocks {
        Clocks {
            header: self.limits.header_read_timeout,
            idle: self.limits.idle_timeout,
            park,
        }
    }

    /// The service hyper calls for each request on this connection.
    pub(super) fn service(&self, activity: &Arc<Activity>, tls: bool) -> Gateway {
        Gateway {
            state: Arc::clone(&self.state),
            activity: Arc::clone(activity),
            info: ConnInfo {
                peer: self.peer,
                tls,
            },
        }
    }
}

/// hyper's own header limit: ours answers with a JSON 431; this larger one is the hard stop.
pub(super) fn hard_header_limit(limits: &ServerConfig) -> usize {
    limits
        .max_header_bytes
        .saturating_mul(2)
        .saturating_add(16 * 1024)
}
