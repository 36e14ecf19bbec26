//! OpenTelemetry traces, end to end: the server exports its spans over OTLP/HTTP to a
//! collector (a real OTLP receiver in this process, [`frontdesk_e2e::otlp`]), and one GraphQL
//! request is one trace — the HTTP request, the GraphQL operation, the transaction and every
//! SQL statement — continuing the trace of a caller that sent a W3C `traceparent`.
//!
//! The exporter is process-wide (one global subscriber), so this file holds one test; the
//! case without an endpoint is `traces_off.rs`, a process of its own.

use std::time::Duration;

use frontdesk_e2e::otlp::{Collector, ExportedSpan};
use frontdesk_e2e::{spawn_app, Role};
use frontdesk_server::config::LogFormat;
use frontdesk_server::telemetry::{self, TraceExport};
use serde_json::{json, Value};

/// The W3C example trace: a frontend's trace the server must continue.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

/// `SPAN_KIND_SERVER` and `SPAN_KIND_CLIENT` of the OTLP protocol.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graphql_request_is_one_trace_from_the_http_request_through_its_operation_to_each_sql_statement(
) -> anyhow::Result<()> {
    let collector = Collector::start().await?;
    let export = TraceExport {
        url: collector.traces_url(),
        service_name: Some("frontdesk-under-test".into()),
    };
    let telemetry = telemetry::init(LogFormat::Text, Some(&export))?;
    assert!(telemetry::exporting(), "the exporter is installed");
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Traced").await?;
    let (_, token) = app.new_member(tenant, Role::Owner).await?;

    let document = "query TracedCustomers { customers(first: 3) { totalCount } }";
    let continued: Value = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&json!({ "query": document }))
        .send()
        .await?
        .json()
        .await?;
    assert!(continued["errors"].is_null(), "{continued}");
    let (status, fresh) = app.graphql(Some(&token), document, json!({})).await?;
    assert_eq!(status, 200, "{fresh}");

    // The request span closes just after the body's last byte leaves; then the shutdown
    // exports what the batch still holds, as `serve` does when it stops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    telemetry.shutdown().await;
    let spans = collector.spans();
    assert!(!spans.is_empty(), "nothing was exported");
    assert!(spans.iter().all(|s| s.service == "frontdesk-under-test"));

    // The request that carried a traceparent continues the caller's trace.
    let http = spans
        .iter()
        .find(|s| s.trace_id() == CALLER_TRACE && s.span.name == "POST /graphql")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {}", names(&spans)));
    assert_eq!(http.span.kind, SERVER);
    assert_eq!(
        http.parent_id(),
        CALLER_SPAN,
        "the caller's span is the parent"
    );
    assert_eq!(http.int_attr("http.response.status_code"), Some(200));
    assert_eq!(http.attr("tenant.id"), Some(tenant.to_string()));
    let trace: Vec<&ExportedSpan> = spans
        .iter()
        .filter(|s| s.trace_id() == CALLER_TRACE)
        .collect();

    let operation = trace
        .iter()
        .find(|s| s.span.name == "query TracedCustomers")
        .unwrap_or_else(|| panic!("no operation span: {}", names(&spans)));
    assert_eq!(
        operation.attr("graphql.operation.name").as_deref(),
        Some("TracedCustomers")
    );
    assert_eq!(
        operation.attr("graphql.operation.type").as_deref(),
        Some("query")
    );
    assert_eq!(operation.attr("tenant.id"), Some(tenant.to_string()));
    assert!(
        descends(operation, http, &trace),
        "the operation runs in the request"
    );

    let transaction = trace
        .iter()
        .find(|s| s.span.name == "db.transaction")
        .unwrap_or_else(|| panic!("no transaction span: {}", names(&spans)));
    assert_eq!(transaction.attr("tenant.id"), Some(tenant.to_string()));
    assert!(descends(transaction, operation, &trace));

    let statements: Vec<&&ExportedSpan> = trace.iter().filter(|s| s.span.kind == CLIENT).collect();
    assert!(
        statements.iter().any(|s| s
            .attr("db.query.text")
            .is_some_and(|q| q.contains("customers"))),
        "no statement reading customers: {}",
        names(&spans)
    );
    for statement in &statements {
        assert_eq!(
            statement.attr("db.system.name").as_deref(),
            Some("postgresql")
        );
        assert_eq!(
            statement.attr("tenant.id"),
            Some(tenant.to_string()),
            "{statement:?}"
        );
        assert!(descends(statement, operation, &trace), "{statement:?}");
        // Values are bound, never spliced into the text: not even the tenant's id appears.
        let text = statement.attr("db.query.text").unwrap_or_default();
        assert!(!text.contains(&tenant.to_string()), "{text}");
    }

    // Without a traceparent a request starts a trace of its own.
    let own = spans
        .iter()
        .find(|s| s.span.name == "POST /graphql" && s.trace_id() != CALLER_TRACE)
        .unwrap_or_else(|| panic!("no second request span: {}", names(&spans)));
    assert_eq!(own.parent_id(), "", "a root span");

    // No span carries the access token.
    for span in &spans {
        for kv in &span.span.attributes {
            let value = format!("{:?}", kv.value);
            assert!(!value.contains(&token), "{} carries the token", kv.key);
        }
    }
    Ok(())
}

/// Whether `span` has `ancestor` above it in `trace`.
fn descends(span: &ExportedSpan, ancestor: &ExportedSpan, trace: &[&ExportedSpan]) -> bool {
    let mut parent = span.parent_id();
    for _ in 0..trace.len() {
        if parent == ancestor.span_id() {
            return true;
        }
        match trace.iter().find(|s| s.span_id() == parent) {
            Some(next) => parent = next.parent_id(),
            None => return false,
        }
    }
    false
}

fn names(spans: &[ExportedSpan]) -> String {
    spans
        .iter()
        .map(|s| format!("{} ({})", s.span.name, s.trace_id()))
        .collect::<Vec<_>>()
        .join(", ")
}
