//! The request's span for OTLP export (`[tracing] otlp_endpoint`): one `request` span per
//! request, child of the caller's `traceparent` when it had a valid one, with `verify`,
//! `store` and `upstream` children created where that work happens. Spans have the
//! `dauth_otel` target at TRACE level: without export no subscriber enables them and
//! creating one costs a cached interest check.

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::ids::Stamp;

/// The request span, its trace and span ids taken into `stamp` when it is exported.
pub(super) fn request_span(stamp: &mut Stamp, method: &http::Method) -> Span {
    let span = tracing::span!(
        target: "dauth_otel",
        tracing::Level::TRACE,
        "request",
        otel.name = "request",
        otel.kind = "server",
        http.request.method = %method,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        request_id = stamp.request_id.to_str().unwrap_or("-"),
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(parent) = &stamp.parent_id
        && let (Ok(trace), Ok(parent)) =
            (TraceId::from_hex(&stamp.trace_id), SpanId::from_hex(parent))
    {
        let flags = if stamp.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let remote = SpanContext::new(trace, parent, flags, true, TraceState::default());
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
    let cx = span.context();
    let own = cx.span().span_context().clone();
    if own.is_valid() {
        stamp.adopt(
            own.trace_id().to_string(),
            own.span_id().to_string(),
            own.is_sampled(),
        );
    }
    span
}
