//! The rows form of a compiled read: a document that is one root connection's `nodes` and
//! nothing else — a dashboard's list, the shape of the benchmark's NESTED read — is read as
//! one row per node, and [`read`] writes them into the `data` object between brackets.
//!
//! # Why
//! As one document, the whole answer is aggregated into one value the size of the response
//! (200 kB for NESTED): PostgreSQL grows it by doubling, copies it again to wrap and cast it,
//! and each of those large allocations faults in fresh pages. As rows, every node is a few
//! kilobytes built in the executor's ordinary memory. Under `pgbench` (2 clients, the NESTED
//! shape, PostgreSQL 15), the rows form answered 20–30 % more reads per second than the same
//! statement aggregated into one document.
//!
//! # Order
//! The nodes come out of the page's ordered subquery ([`Sql::page`]) as they do for every
//! other level, and every join above it is a nested loop that keeps them in that order: both
//! joins are `LEFT JOIN`s whose preserved side is the one-row relation, and neither has a
//! clause a hash or merge join could use. `tests/compiled_reads.rs` compares every list's
//! order with the resolvers'.
//!
//! # The same as the document form
//! The same levels, tenant predicates, filters, order and limit ([`Sql::object`],
//! [`Sql::page`]); the membership read beside the answer, on a row of its own when the page
//! is empty (then `node` is NULL); one statement.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::{is_name, membership_of, Answer, Part, Read, Root, Sql, Text};
use super::{Document, List, Object};
use crate::DbError;

/// The keys the rows are written between: `{"<root>":{"<nodes>":[…]}}`.
pub(super) struct Shell<'a> {
    root: &'a str,
    nodes: &'a str,
}

/// The rows form of `doc` read in `tenant` by `member`, when `doc` has that shape (see the
/// module docs); `None` otherwise, or when it cannot be rendered (the document form then
/// declines it too).
pub(super) fn render(
    doc: &Document,
    tenant: Uuid,
    member: Uuid,
) -> Option<(QueryBuilder<'static, Postgres>, Shell<'_>)> {
    let [(root, Root::List(list))] = doc.roots.as_slice() else {
        return None;
    };
    let [(nodes, Part::Nodes(object))] = list.parts.as_slice() else {
        return None;
    };
    if list.via.is_some() || !is_name(root) || !is_name(nodes) {
        return None;
    }
    let mut sql = Sql {
        qb: Text::new(QueryBuilder::new(
            "SELECT ms.role, ms.permissions, ms.is_active, r.node FROM (SELECT 1) one \
             LEFT JOIN app.memberships ms ON ms.tenant_id = ",
        )),
        aliases: 0,
        tenant,
    };
    sql.qb
        .push_bind(tenant)
        .push(" AND ms.user_id = ")
        .push_bind(member)
        .push(" LEFT JOIN LATERAL (");
    sql.nodes(list, object).ok()?;
    sql.qb.push(") r ON true");
    Some((sql.qb.finish(), Shell { root, nodes }))
}

impl Sql {
    /// `SELECT <object>::text AS node FROM (<page>) a`: one row per node of the root `list`.
    fn nodes(&mut self, list: &List, object: &Object) -> Result<(), super::Refused> {
        let a = self.alias();
        self.qb.push("SELECT ");
        self.object(object, &a)?;
        self.qb.push("::text AS node");
        self.page(list, None, &a, false)
    }
}

/// The answer and membership of a rows-form statement's `rows`.
pub(super) fn read(rows: &[PgRow], shell: &Shell<'_>) -> Result<Option<Read>, DbError> {
    // A left join from one row returns one row at least; no row is not an answer to give.
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let membership = membership_of(first)?;
    let mut size = shell.root.len() + shell.nodes.len() + 16;
    for row in rows {
        size += row
            .try_get::<Option<&str>, _>("node")?
            .map_or(0, |n| n.len() + 1);
    }
    let mut data = String::with_capacity(size);
    data.push_str("{\"");
    data.push_str(shell.root);
    data.push_str("\":{\"");
    data.push_str(shell.nodes);
    data.push_str("\":[");
    let mut first_node = true;
    for row in rows {
        if let Some(node) = row.try_get::<Option<&str>, _>("node")? {
            if !first_node {
                data.push(',');
            }
            first_node = false;
            data.push_str(node);
        }
    }
    data.push_str("]}}");
    Ok(Some(Read {
        answer: Answer {
            data,
            missing: false,
        },
        membership,
    }))
}
