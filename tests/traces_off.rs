//! Without a configured endpoint no trace is exported, and tracing costs requests nothing
//! beyond the log lines: no exporter exists, and the spans only traces use are disabled at
//! their call sites.
//!
//! A process of its own (the subscriber is global); `traces.rs` is the exporting case.

use std::net::SocketAddr;
use std::time::Duration;

use frontdesk_e2e::otlp::Collector;
use frontdesk_e2e::{spawn_app, Role};
use frontdesk_server::config::LogFormat;
use frontdesk_server::telemetry;
use serde_json::json;
use tracing::Level;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_endpoint_nothing_is_exported_and_trace_only_spans_are_disabled(
) -> anyhow::Result<()> {
    // An SDK that exported by default would send to the OTLP/HTTP default, port 4318 on
    // this host: listen there to see that nothing comes.
    let default: SocketAddr = "127.0.0.1:4318".parse()?;
    let collector = match Collector::start_on(default).await {
        Ok(collector) => Some(collector),
        Err(e) => {
            eprintln!("note: {default} is taken ({e}); checking without listening there");
            None
        }
    };
    // The default log filter, as an operator without RUST_LOG has it (RUST_LOG=debug would
    // turn the DEBUG spans on for the log lines).
    std::env::remove_var("RUST_LOG");
    let telemetry = telemetry::init(LogFormat::Text, None)?;
    assert!(!telemetry::exporting());

    // What the hot path meets: the operation's and the transaction's spans, and sqlx's
    // per-statement event, are all off.
    let operation =
        tracing::debug_span!(target: "frontdesk_graphql::telemetry", "graphql.operation");
    assert!(operation.is_disabled());
    let transaction = tracing::debug_span!(target: "frontdesk_db::scope", "db.transaction");
    assert!(transaction.is_disabled());
    assert!(!tracing::enabled!(target: "sqlx::query", Level::DEBUG));

    let app = spawn_app().await?;
    let tenant = app.new_tenant("Untraced").await?;
    let (_, token) = app.new_member(tenant, Role::Owner).await?;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({ "query": "query Untraced { customers(first: 1) { totalCount } }" }))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert!(response.json::<serde_json::Value>().await?["errors"].is_null());

    tokio::time::sleep(Duration::from_millis(500)).await;
    telemetry.shutdown().await;
    if let Some(collector) = collector {
        assert_eq!(collector.requests(), 0, "something was exported");
    }
    Ok(())
}
