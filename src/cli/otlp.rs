//! OTLP span export (`[tracing] otlp_endpoint`): spans of the `dauth_otel` target go to
//! `{endpoint}/v1/traces` as OTLP/HTTP protobuf, batched off the request path.
//!
//! The exporter's HTTP client is the gateway's own hyper client ([`HyperClient`]): the SDK's
//! batch processor runs on a thread of its own, so each export is spawned on the gateway's
//! tokio runtime and awaited from there. HTTPS endpoints are checked against the system roots.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::HttpError;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};

/// The target of the spans that are exported (and only those).
pub(crate) const TARGET: &str = "dauth_otel";

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest collector answer read.
const MAX_ANSWER: usize = 64 * 1024;

/// The exporter's HTTP client: hyper on the gateway's runtime.
#[derive(Debug, Clone)]
struct HyperClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for HyperClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let exchange = async {
                let resp = client.request(request.map(Full::new)).await?;
                let (parts, body) = resp.into_parts();
                let bytes = Limited::new(body, MAX_ANSWER).collect().await?.to_bytes();
                Ok::<_, HttpError>(Response::from_parts(parts, bytes))
            };
            match tokio::time::timeout(EXPORT_TIMEOUT, exchange).await {
                Ok(answer) => answer,
                Err(_) => Err("OTLP export timed out".into()),
            }
        });
        sent.await?
    }
}

/// The tracer provider exporting to `endpoint`, batching on its own thread; the caller shuts
/// it down (flushing what is left) when the gateway stops.
pub(super) fn provider(endpoint: &url::Url) -> Result<SdkTracerProvider, String> {
    let tls = crate::tls::client_config(crate::tls::upstream_roots(&[]))
        .map_err(|e| format!("tracing.otlp_endpoint: TLS: {e}"))?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = HyperClient {
        client: Client::builder(TokioExecutor::new()).build(https),
        runtime: tokio::runtime::Handle::current(),
    };
    let traces = format!("{}/v1/traces", endpoint.as_str().trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| format!("tracing.otlp_endpoint: {e}"))?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_secs(1))
                .build(),
        )
        .build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("dauth-proxy")
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_resource(resource)
        .build())
}

/// The tracer the `tracing-opentelemetry` layer records into.
pub(super) fn tracer(provider: &SdkTracerProvider) -> opentelemetry_sdk::trace::Tracer {
    provider.tracer("dauth-proxy")
}
