//! Logging set-up: tracing to stdout, text or JSON, filtered by `log.level` or `RUST_LOG`; and,
//! when `[tracing] otlp_endpoint` is set, the request spans exported over OTLP ([`super::otlp`]).
//!
//! Each output has its own filter: the log filter decides the lines, and only spans of the
//! [`super::otlp::TARGET`] target reach the exporter (they are at TRACE level, so the log
//! filter leaves them out unless asked for). Nothing in the crate logs a token, an
//! `Authorization`, `DAuth` or `Cookie` value, or a query string; this module only chooses
//! where lines go.

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogConfig, LogFormat, TracingConfig};

/// Installs the global subscriber (a second call is ignored). Returns the OTLP provider to
/// shut down at exit when export is on; an endpoint that cannot be set up is an error.
pub(super) fn init(
    log: &LogConfig,
    tracing: &TracingConfig,
) -> Result<Option<SdkTracerProvider>, String> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi);
    let lines = match log.format {
        LogFormat::Text => fmt.with_filter(filter).boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).with_filter(filter).boxed(),
    };
    let provider = match &tracing.otlp_endpoint {
        Some(endpoint) => Some(super::otlp::provider(endpoint)?),
        None => None,
    };
    let spans = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(super::otlp::tracer(p))
            .with_filter(filter_fn(|m| m.target() == super::otlp::TARGET))
    });
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(spans)
        .try_init();
    Ok(provider)
}
