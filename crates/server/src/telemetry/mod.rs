//! Logs and traces via `tracing`: log lines on stderr always, and OpenTelemetry traces over
//! OTLP only when a collector is configured.
//!
//! Without a collector the subscriber is the logging one it always was (`RUST_LOG`, or the
//! default below, as its one filter), and no exporter, thread or client exists. The spans only
//! traces need (a GraphQL operation, a transaction) are DEBUG, so there they are disabled at
//! their call site and cost a comparison. With a collector each output gets its own filter:
//! `RUST_LOG` still decides what is logged, and [`traced`] what becomes a span. Each request's
//! trace is then: the HTTP request ([`http`], which continues the caller's W3C `traceparent`),
//! the GraphQL operation (`frontdesk-graphql`), the database functions and transactions
//! (`frontdesk-db`), and every SQL statement ([`sql`]).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

mod http;
mod otlp;
mod sql;

pub use http::{on_response, request_span};
pub use otlp::TraceExport;

/// What is logged unless `RUST_LOG` says otherwise. sqlx logs every statement at debug
/// (and slow ones at warn); statements are for debugging, or for traces.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Whether traces are being exported: set once the exporting subscriber is installed. The
/// request span reads it to skip `traceparent` parsing when nothing would use it.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// True when an OTLP exporter is installed.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The installed telemetry; [`Telemetry::shutdown`] exports what is still buffered.
#[derive(Debug)]
#[must_use = "shut it down to export the last spans"]
pub struct Telemetry {
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered and stops the exporter (a no-op without one). Runs
    /// the blocking flush off the async workers, which the export itself needs.
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        EXPORTING.store(false, Ordering::Relaxed);
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        match flushed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "exporting the last traces failed"),
            Err(e) => tracing::warn!(error = %e, "exporting the last traces failed"),
        }
    }
}

/// Installs the global subscriber once: logs in `format`, and traces to `traces` when given.
/// `RUST_LOG` overrides the default log filter. A second call (tests) keeps the first
/// subscriber and exports nothing.
pub fn init(format: LogFormat, traces: Option<&TraceExport>) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let Some(export) = traces else {
        // Without a collector the subscriber is the plain logging one: one global filter,
        // no per-layer bookkeeping, no layer that could want a DEBUG span.
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(log_lines(format))
            .try_init();
        return Ok(Telemetry { provider: None });
    };
    let pipeline = otlp::Pipeline::new(export)?;
    let spans = tracing_opentelemetry::layer()
        .with_tracer(pipeline.tracer.clone())
        // Thread ids say nothing in a work-stealing runtime.
        .with_threads(false)
        .with_filter(filter_fn(traced));
    let statements =
        sql::SqlSpans::new(pipeline.tracer.clone()).with_filter(filter_fn(sql::wanted));
    let installed = tracing_subscriber::registry()
        .with(log_lines(format).with_filter(filter))
        .with(spans)
        .with(statements)
        .try_init();
    if installed.is_err() {
        // Another subscriber was there first: this one's spans would go nowhere.
        let _ = pipeline.provider.shutdown();
        return Ok(Telemetry { provider: None });
    }
    EXPORTING.store(true, Ordering::Relaxed);
    tracing::info!(endpoint = %pipeline.endpoint, "exporting traces over OTLP");
    Ok(Telemetry {
        provider: Some(pipeline.provider),
    })
}

/// The log lines on stderr, in `format`.
fn log_lines<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    // Colour codes only for a person at a terminal: piped or redirected logs
    // (`frontdesk seed | tee`, a container's log file) stay plain text.
    let ansi = std::io::stderr().is_terminal();
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => lines.json().boxed(),
        LogFormat::Text => lines.compact().boxed(),
    }
}

/// What becomes part of a trace: the spans of Frontdesk's own crates down to DEBUG (the
/// request, the operation, database functions and transactions), and their events from INFO
/// (they become span events). Everything else — other crates' spans, sqlx's statement
/// events, which [`sql`] turns into spans — stays out.
fn traced(meta: &Metadata<'_>) -> bool {
    let ours = meta.target().starts_with("frontdesk");
    if meta.is_span() {
        ours && *meta.level() <= Level::DEBUG
    } else {
        ours && *meta.level() <= Level::INFO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontdesk_spans_down_to_debug_are_traced_and_other_crates_spans_are_not() {
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::layer::Identity::new().with_filter(filter_fn(traced)));
        tracing::subscriber::with_default(subscriber, || {
            let op = tracing::debug_span!(target: "frontdesk_graphql::telemetry", "op");
            assert!(!op.is_disabled());
            let request = tracing::info_span!(target: "frontdesk_server::telemetry::http", "http");
            assert!(!request.is_disabled());
            let fine = tracing::trace_span!(target: "frontdesk_db::scope", "fine");
            assert!(fine.is_disabled());
            let foreign = tracing::info_span!(target: "hyper::proto", "foreign");
            assert!(foreign.is_disabled());
        });
    }
}
