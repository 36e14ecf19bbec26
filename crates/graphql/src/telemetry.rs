//! The span of one GraphQL operation, for traces: its name and type, the tenant it acts for
//! and the request id.
//!
//! One span per operation, opened by [`crate::execute`], and none per resolved field: an
//! async-graphql extension would run for every field of every row. The span is DEBUG, so
//! unless traces are exported (or `RUST_LOG` asks for it) it is disabled at its call site and
//! nothing here runs. The document's text is not recorded: inline arguments may hold a
//! password or a token.

use async_graphql::{Request, Response};
use tracing::field::{display, Empty};
use tracing::Span;

use crate::RequestCtx;

/// Opens the operation's span (not yet entered) and, when it is enabled, names it after the
/// operation the request selects. The enclosing request span gets the tenant too (the
/// server's declares the field; recording an undeclared field does nothing).
pub(crate) fn operation_span(request: &mut Request, ctx: &RequestCtx) -> Span {
    let span = tracing::debug_span!(
        "graphql.operation",
        otel.name = Empty,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        graphql.error.count = Empty,
        tenant.id = Empty,
        request.id = %ctx.request_id,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some((ty, name)) = selected_operation(request) {
        span.record("graphql.operation.type", ty);
        match &name {
            Some(name) => {
                span.record("graphql.operation.name", name.as_str());
                span.record("otel.name", format!("{ty} {name}"));
            }
            None => {
                span.record("otel.name", ty);
            }
        }
    }
    if let Some(p) = &ctx.principal {
        span.record("tenant.id", display(p.tenant_id));
        Span::current().record("tenant.id", display(p.tenant_id));
    }
    span
}

/// Records how many errors the response carries (not the messages: they may quote input).
pub(crate) fn record_outcome(span: &Span, response: &Response) {
    if !span.is_disabled() && !response.errors.is_empty() {
        span.record(
            "graphql.error.count",
            i64::try_from(response.errors.len()).unwrap_or(i64::MAX),
        );
    }
}

/// The selected operation's type (`query`, `mutation`, `subscription`) and name, or `None`
/// when the document does not parse or names no such operation (the schema reports those).
fn selected_operation(request: &mut Request) -> Option<(&'static str, Option<String>)> {
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    let mut candidates = doc
        .operations
        .iter()
        .filter(|(name, _)| match (&wanted, name) {
            (Some(wanted), Some(name)) => name.as_str() == wanted,
            (Some(_), None) => false,
            (None, _) => true,
        });
    let (name, op) = candidates.next()?;
    if wanted.is_none() && candidates.next().is_some() {
        return None;
    }
    let ty = match op.node.ty {
        async_graphql::parser::types::OperationType::Query => "query",
        async_graphql::parser::types::OperationType::Mutation => "mutation",
        async_graphql::parser::types::OperationType::Subscription => "subscription",
    };
    Some((ty, name.map(|n| n.to_string())))
}
