//! The JSON-RPC transport under alloy's RPC client: one POST per request packet over the
//! gateway's own hyper client and rustls configuration, with a bound on the answer's size.
//!
//! alloy's own hyper transport brings native TLS (OpenSSL) and logs the node's URL, API key
//! and all; this one does neither.

use std::task::{Context, Poll};

use alloy_json_rpc::{RequestPacket, ResponsePacket};
use alloy_transport::{RpcError, TransportError, TransportErrorKind, TransportFut};
use bytes::Bytes;
use http::{Method, Request, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

/// Largest answer read from a node. Logs for one request id, or one `eth_call` result, are far
/// smaller; a node that sends more is treated as failing.
pub(super) const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// The connector: TCP, then TLS for `https` nodes.
pub(super) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A JSON-RPC endpoint reached over HTTP(S).
#[derive(Clone, Debug)]
pub(super) struct HyperRpc {
    pub(super) client: Client<Connector, Full<Bytes>>,
    pub(super) uri: Uri,
}

impl tower_service::Service<RequestPacket> for HyperRpc {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, packet: RequestPacket) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.exchange(packet).await })
    }
}

impl HyperRpc {
    async fn exchange(self, packet: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let body = packet.serialize().map_err(TransportError::ser_err)?;
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.get().to_owned())))
            .map_err(TransportErrorKind::custom)?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(TransportErrorKind::custom)?;
        let status = resp.status();
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| RpcError::Transport(TransportErrorKind::Custom(e)))?
            .to_bytes();
        if !status.is_success() {
            // The body of an error page may echo the request URL: keep only its start.
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).into_owned();
            return Err(TransportErrorKind::http_error(status.as_u16(), text));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            TransportError::deser_err(e, String::from_utf8_lossy(&bytes[..bytes.len().min(256)]))
        })
    }
}
