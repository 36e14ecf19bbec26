//! Every SQL statement as a span of its trace, from the event sqlx already emits for it.
//!
//! sqlx reports each statement once it has finished — on target `sqlx::query`, at DEBUG, with
//! its text, row counts and elapsed time — from inside the future that ran it, so the span
//! entered at that moment is the statement's caller. This layer turns that event into a span
//! child of the caller's, back-dated by the elapsed time. One mechanism covers every statement
//! the crates issue (static `query!`s, the query builder, the dashboards), with nothing to
//! wrap at each call site; and since the event is only built when some layer wants it
//! (`tracing::enabled!` in sqlx), without a collector no statement pays for it.
//!
//! The text is the statement as prepared, with `$1` placeholders: bound values (e-mail
//! addresses, secrets, tokens) are never part of it. A statement outside every traced span
//! (a health probe, the test harness's own SQL) makes no span: it would be a trace of one.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;
use tracing::field::{Field, Visit};
use tracing::{span, Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The field naming the tenant a span acts for, on the request, operation and transaction
/// spans; statements inherit it from the nearest.
const TENANT_FIELD: &str = "tenant.id";

/// sqlx's statement events.
const STATEMENTS: &str = "sqlx::query";

/// Longer statement texts are cut: the query builder's largest reads run to a few kilobytes,
/// and a span is not the place for megabytes of generated SQL.
const MAX_STATEMENT_BYTES: usize = 8 * 1024;

/// What this layer sees: sqlx's statement events, and the traced spans (for their tenant).
pub(super) fn wanted(meta: &Metadata<'_>) -> bool {
    if meta.is_event() {
        meta.target() == STATEMENTS
    } else {
        super::traced(meta)
    }
}

/// Turns statement events into OpenTelemetry spans.
pub(super) struct SqlSpans {
    tracer: SdkTracer,
}

impl SqlSpans {
    pub(super) fn new(tracer: SdkTracer) -> Self {
        Self { tracer }
    }
}

/// The tenant a span (or one of its ancestors) declared.
struct Tenant(String);

impl<S> Layer<S> for SqlSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut visitor = TenantVisitor(None);
        attrs.record(&mut visitor);
        remember(id, visitor.0, &ctx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let mut visitor = TenantVisitor(None);
        values.record(&mut visitor);
        remember(id, visitor.0, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // The OpenTelemetry layer makes the entered span's context current on entry.
        let parent = opentelemetry::Context::current();
        if !parent.has_active_span() {
            return;
        }
        let mut statement = Statement::default();
        event.record(&mut statement);
        let tenant = ctx.event_scope(event).and_then(|mut scope| {
            scope.find_map(|span| span.extensions().get::<Tenant>().map(|t| t.0.clone()))
        });
        let end = SystemTime::now();
        let start = Duration::try_from_secs_f64(statement.elapsed_secs)
            .ok()
            .and_then(|elapsed| end.checked_sub(elapsed))
            .unwrap_or(end);
        let text = statement.text();
        let operation = text
            .split_whitespace()
            .next()
            .unwrap_or("SQL")
            .to_ascii_uppercase();
        let mut attributes = vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.operation.name", operation.clone()),
            KeyValue::new("db.query.text", text),
            KeyValue::new(
                "db.response.returned_rows",
                i64::try_from(statement.rows_returned).unwrap_or(i64::MAX),
            ),
        ];
        if statement.rows_affected > 0 {
            attributes.push(KeyValue::new(
                "db.response.affected_rows",
                i64::try_from(statement.rows_affected).unwrap_or(i64::MAX),
            ));
        }
        if let Some(tenant) = tenant {
            attributes.push(KeyValue::new(TENANT_FIELD, tenant));
        }
        let mut span = self
            .tracer
            .span_builder(operation)
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        span.end_with_timestamp(end);
    }
}

fn remember<S>(id: &span::Id, tenant: Option<String>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let (Some(tenant), Some(span)) = (tenant, ctx.span(id)) {
        span.extensions_mut().replace(Tenant(tenant));
    }
}

/// Reads `tenant.id` off a span's fields.
struct TenantVisitor(Option<String>);

impl Visit for TenantVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == TENANT_FIELD {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == TENANT_FIELD {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

/// The fields of sqlx's statement event.
#[derive(Default)]
struct Statement {
    /// The first words, followed by ` …` when the statement is longer.
    summary: String,
    /// The whole statement when it is longer than `summary`, else empty.
    full: String,
    rows_returned: u64,
    rows_affected: u64,
    elapsed_secs: f64,
}

impl Statement {
    /// The statement's text, cut at [`MAX_STATEMENT_BYTES`] on a character boundary.
    fn text(&self) -> String {
        let text = match self.full.trim() {
            "" => self.summary.trim(),
            full => full,
        };
        if text.len() <= MAX_STATEMENT_BYTES {
            return text.to_owned();
        }
        let mut cut = MAX_STATEMENT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{} …", &text[..cut])
    }
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.full),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed_secs = value;
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn Debug) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_statement_is_its_summary_and_a_long_one_is_cut_on_a_character() {
        let short = Statement {
            summary: "COMMIT".into(),
            ..Statement::default()
        };
        assert_eq!(short.text(), "COMMIT");
        let long = Statement {
            summary: "SELECT a, b …".into(),
            full: format!("\n\nSELECT a, b FROM t WHERE x = 'é{}'\n", "é".repeat(5000)),
            ..Statement::default()
        };
        let text = long.text();
        assert!(text.starts_with("SELECT a, b FROM t"), "{text}");
        assert!(text.ends_with(" …"), "cut statements say so");
        assert!(text.len() <= MAX_STATEMENT_BYTES + " …".len());
    }
}
