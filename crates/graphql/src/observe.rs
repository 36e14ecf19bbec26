//! GraphQL operations on `/metrics`: how many ran, how long they took and how complex they
//! were, by operation name and type.
//!
//! Label values must stay few, or every client that names its operations freely grows the
//! Prometheus series without bound: the first [`MAX_NAMES`] distinct operation names a schema
//! sees (a server process has one) are kept (a deployed client uses a fixed set, so these are
//! its names), later ones are counted as `other`, and unnamed operations as `anonymous`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use metrics::{Counter, Histogram};

/// Most distinct operation names used as label values.
pub const MAX_NAMES: usize = 200;

/// The metric handles of the operations a schema has run, by label values.
///
/// Each handle is registered with the recorder once, on its label values' first use, and kept:
/// looking a metric up by name and labels on every call (building the key, hashing it, finding
/// it in the registry) cost a GraphQL request more than counting it. Handles bind to the
/// recorder that was installed when they were registered, so a schema registers them on its
/// first operations, after the server installed its recorder, never when it is built.
#[derive(Default)]
pub(crate) struct Meters {
    /// Operation name label → the handles of each operation type under it.
    known: Mutex<HashMap<Box<str>, ByType>>,
}

/// The handles of one operation name, by [`kind_index`] (query, mutation, subscription).
type ByType = [Option<Arc<Handles>>; 3];

/// One operation label set's handles, each registered when it is first recorded (a metric
/// the operation never records, like a subscription's duration, stays off `/metrics`).
struct Handles {
    name: Box<str>,
    kind: &'static str,
    operations: OnceLock<Counter>,
    complexity: OnceLock<Histogram>,
    duration: OnceLock<Histogram>,
    compiled: OnceLock<Counter>,
}

/// An operation's labels, and its metrics.
#[derive(Clone)]
pub(crate) struct Operation {
    handles: Arc<Handles>,
}

impl Meters {
    /// The operation `doc` runs for `wanted` (the request's `operationName`); `None` when
    /// there is no such operation (the schema reports that).
    pub(crate) fn operation(
        &self,
        doc: &ExecutableDocument,
        wanted: Option<&str>,
    ) -> Option<Operation> {
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
        Some(Operation {
            handles: self.handles(name, op.node.ty),
        })
    }

    /// The handles of operation `name` of type `kind`, made on first use. The parser
    /// keeps only an unnamed operation as `Single`; names come from the document, so they are
    /// GraphQL names (`[_A-Za-z][_0-9A-Za-z]*`), safe as labels.
    fn handles(&self, name: Option<&str>, kind: OperationType) -> Arc<Handles> {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let label = match name {
            None => "anonymous",
            Some(name) if known.contains_key(name) || known.len() < MAX_NAMES => name,
            Some(_) => "other",
        };
        let i = kind_index(kind);
        if let Some(handles) = known.get(label).and_then(|slots| slots[i].clone()) {
            return handles;
        }
        known.entry(label.into()).or_default()[i]
            .get_or_insert_with(|| Arc::new(Handles::new(label, kind_label(kind))))
            .clone()
    }
}

impl Handles {
    fn new(name: &str, kind: &'static str) -> Self {
        Self {
            name: name.into(),
            kind,
            operations: OnceLock::new(),
            complexity: OnceLock::new(),
            duration: OnceLock::new(),
            compiled: OnceLock::new(),
        }
    }

    /// The operation's name and type as labels.
    fn typed(&self) -> [(&'static str, String); 2] {
        [
            ("operation", self.name.to_string()),
            ("type", self.kind.to_owned()),
        ]
    }
}

fn kind_index(kind: OperationType) -> usize {
    match kind {
        OperationType::Query => 0,
        OperationType::Mutation => 1,
        OperationType::Subscription => 2,
    }
}

fn kind_label(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

impl Operation {
    /// Whether it is a subscription.
    pub(crate) fn is_subscription(&self) -> bool {
        self.handles.kind == kind_label(OperationType::Subscription)
    }

    /// Counts a validated operation and records its complexity.
    pub(crate) fn validated(&self, complexity: usize) {
        let h = &*self.handles;
        h.operations
            .get_or_init(|| metrics::counter!("frontdesk_graphql_operations_total", &h.typed()))
            .increment(1);
        h.complexity
            .get_or_init(|| {
                metrics::histogram!("frontdesk_graphql_operation_complexity", &h.typed())
            })
            .record(complexity as f64);
    }

    /// Counts a read answered by one compiled statement ([`crate::direct`]).
    pub(crate) fn compiled(&self) {
        let h = &*self.handles;
        h.compiled
            .get_or_init(|| {
                let named = [("operation", h.name.to_string())];
                metrics::counter!("frontdesk_graphql_compiled_reads_total", &named)
            })
            .increment(1);
    }

    /// Records how long a query or mutation took to execute.
    pub(crate) fn executed(&self, took: Duration) {
        let h = &*self.handles;
        h.duration
            .get_or_init(|| {
                metrics::histogram!("frontdesk_graphql_operation_duration_seconds", &h.typed())
            })
            .record(took.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_label_set_is_registered_once_and_then_reused() {
        let meters = Meters::default();
        let first = meters.handles(Some("Dashboard"), OperationType::Query);
        let again = meters.handles(Some("Dashboard"), OperationType::Query);
        let mutation = meters.handles(Some("Dashboard"), OperationType::Mutation);
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &mutation));
        assert_eq!(mutation.kind, "mutation");
    }

    #[test]
    fn names_beyond_the_bound_are_counted_as_other_and_unnamed_ones_as_anonymous() {
        let meters = Meters::default();
        for i in 0..MAX_NAMES {
            meters.handles(Some(&format!("Op{i}")), OperationType::Query);
        }
        let late = meters.handles(Some("LateComer"), OperationType::Query);
        assert_eq!(&*late.name, "other");
        let known = meters.handles(Some("Op7"), OperationType::Query);
        assert_eq!(&*known.name, "Op7");
        let unnamed = meters.handles(None, OperationType::Subscription);
        assert_eq!(&*unnamed.name, "anonymous");
        assert_eq!(unnamed.kind, "subscription");
    }
}
