//! A real OTLP/HTTP receiver on loopback: `POST /v1/traces` with an
//! `ExportTraceServiceRequest` in protobuf, decoded with the `opentelemetry-proto` types; the
//! spans it received are kept for the test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// One received span, with its service name.
#[derive(Debug, Clone)]
pub struct Received {
    /// The resource's `service.name`.
    pub service: String,
    /// The span.
    pub span: Span,
}

/// A running receiver.
pub struct Receiver {
    /// Where it listens (the gateway's `otlp_endpoint` is `http://{addr}`).
    pub addr: SocketAddr,
    spans: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    /// Starts the receiver.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let spans = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (s, a) = (Arc::clone(&spans), Arc::clone(&arrived));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (s, a) = (Arc::clone(&s), Arc::clone(&a));
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (s, a) = (Arc::clone(&s), Arc::clone(&a));
                        async move {
                            let path = req.uri().path().to_owned();
                            let kind = req
                                .headers()
                                .get("content-type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let mut status = 200;
                            if path == "/v1/traces" && kind == "application/x-protobuf" {
                                let export = ExportTraceServiceRequest::decode(body).unwrap();
                                let mut got = s.lock().unwrap();
                                for rs in export.resource_spans {
                                    let service = rs
                                        .resource
                                        .iter()
                                        .flat_map(|r| r.attributes.iter())
                                        .find(|kv| kv.key == "service.name")
                                        .and_then(|kv| kv.value.as_ref())
                                        .map(|v| format!("{:?}", v.value))
                                        .unwrap_or_default();
                                    for ss in rs.scope_spans {
                                        for span in ss.spans {
                                            got.push(Received {
                                                service: service.clone(),
                                                span,
                                            });
                                        }
                                    }
                                }
                                a.notify_waiters();
                            } else {
                                status = 415;
                            }
                            let answer = ExportTraceServiceResponse::default().encode_to_vec();
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/x-protobuf")
                                    .body(Full::new(Bytes::from(answer)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            spans,
            arrived,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Received> {
        self.spans.lock().unwrap().clone()
    }
}
