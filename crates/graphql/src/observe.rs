//! GraphQL operations on `/metrics`: how many ran, how long they took and how complex they
//! were, by operation name and type.
//!
//! Label values must stay few, or every client that names its operations freely grows the
//! Prometheus series without bound: the first [`MAX_NAMES`] distinct operation names the
//! process sees are kept (a deployed client uses a fixed set, so these are its names), later
//! ones are counted as `other`, and unnamed operations as `anonymous`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// Most distinct operation names used as label values.
pub const MAX_NAMES: usize = 200;

/// An operation's labels.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    name: String,
    kind: &'static str,
}

impl Operation {
    /// The operation `doc` runs for `wanted` (the request's `operationName`); `None` when
    /// there is no such operation (the schema reports that).
    pub(crate) fn of(doc: &ExecutableDocument, wanted: Option<&str>) -> Option<Self> {
        let (name, op) = match (&doc.operations, wanted) {
            (DocumentOperations::Single(op), _) => (None, op),
            (DocumentOperations::Multiple(ops), Some(w)) => {
                let (n, op) = ops.iter().find(|(n, _)| n.as_str() == w)?;
                (Some(n.as_str()), op)
            }
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                let (n, op) = ops.iter().next()?;
                (Some(n.as_str()), op)
            }
            (DocumentOperations::Multiple(_), None) => return None,
        };
        // The parser keeps only an unnamed operation as `Single`; names come from the
        // document, so they are GraphQL names (`[_A-Za-z][_0-9A-Za-z]*`), safe as labels.
        Some(Self {
            name: label(name),
            kind: match op.node.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            },
        })
    }

    /// Whether it is a subscription.
    pub(crate) fn is_subscription(&self) -> bool {
        self.kind == "subscription"
    }

    /// Counts a validated operation and records its complexity.
    pub(crate) fn validated(&self, complexity: usize) {
        let labels = [
            ("operation", self.name.clone()),
            ("type", self.kind.to_owned()),
        ];
        metrics::counter!("frontdesk_graphql_operations_total", &labels).increment(1);
        metrics::histogram!("frontdesk_graphql_operation_complexity", &labels)
            .record(complexity as f64);
    }

    /// Counts a read answered by one compiled statement ([`crate::direct`]).
    pub(crate) fn compiled(&self) {
        let labels = [("operation", self.name.clone())];
        metrics::counter!("frontdesk_graphql_compiled_reads_total", &labels).increment(1);
    }

    /// Records how long a query or mutation took to execute.
    pub(crate) fn executed(&self, took: Duration) {
        let labels = [
            ("operation", self.name.clone()),
            ("type", self.kind.to_owned()),
        ];
        metrics::histogram!("frontdesk_graphql_operation_duration_seconds", &labels)
            .record(took.as_secs_f64());
    }
}

/// The label value for an operation name.
fn label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name else {
        return "anonymous".to_owned();
    };
    let mut seen = SEEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(name) {
        return name.to_owned();
    }
    if seen.len() < MAX_NAMES {
        seen.insert(name.to_owned());
        return name.to_owned();
    }
    "other".to_owned()
}
