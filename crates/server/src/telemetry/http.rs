//! The span of one HTTP request: the root of the request's log context and, when traces are
//! exported, of its trace — continuing the caller's when it sent a W3C `traceparent`, so a
//! frontend's trace runs on into the server's.

use std::time::Duration;

use axum::http::{Request, Response};
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower_http::trace::{DefaultOnResponse, OnResponse as _};
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The routes whose path is also their route (`http.route`); any other path (a 404, a
/// GraphiQL asset) is not named in the span name, which must stay low-cardinality.
const ROUTES: &[&str] = &[
    "/graphql",
    "/",
    "/graphiql",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The request's span. The OpenTelemetry fields are declared empty and only filled when
/// exporting, so the log lines stay as they were without a collector.
pub fn request_span<B>(req: &Request<B>) -> Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let path = req.uri().path();
    let span = tracing::info_span!(
        "http",
        method = %req.method(),
        path = %path,
        request_id = %id,
        otel.name = Empty,
        otel.kind = Empty,
        otel.status_code = Empty,
        http.response.status_code = Empty,
        tenant.id = Empty,
    );
    if !super::exporting() || span.is_disabled() {
        return span;
    }
    let route = ROUTES.contains(&path).then_some(path);
    match route {
        Some(route) => span.record("otel.name", format!("{} {route}", req.method())),
        None => span.record("otel.name", req.method().as_str()),
    };
    span.record("otel.kind", "server");
    span.set_attribute("http.request.method", req.method().as_str().to_owned());
    span.set_attribute("url.path", path.to_owned());
    if let Some(route) = route {
        span.set_attribute("http.route", route.to_owned());
    }
    span.set_attribute("request.id", id.to_owned());
    // Only a valid `traceparent` makes a parent; without one the request starts a trace.
    let remote = TraceContextPropagator::new().extract_with_context(
        &opentelemetry::Context::new(),
        &HeaderExtractor(req.headers()),
    );
    if remote.span().span_context().is_valid() {
        let _ = span.set_parent(remote);
    }
    span
}

/// Logs the response as tower-http does by default, and when exporting records its status
/// (a 5xx marks the span failed, as the HTTP conventions say for servers).
pub fn on_response<B>(response: &Response<B>, latency: Duration, span: &Span) {
    DefaultOnResponse::default().on_response(response, latency, span);
    if super::exporting() {
        // As a signed integer: OpenTelemetry has no unsigned one, and a u64 arrives as text.
        span.record(
            "http.response.status_code",
            i64::from(response.status().as_u16()),
        );
        if response.status().is_server_error() {
            span.record("otel.status_code", "error");
        }
    }
}
