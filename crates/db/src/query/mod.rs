//! The generic read engine behind every list in the API.
//!
//! One mechanism serves every table: a [`Cond`] tree (the typed GraphQL filters lower into
//! it), an ordering of [`OrderKey`]s that always ends with the row id as a unique tie-breaker,
//! and a keyset [`Page`]. [`fetch`] reads one page of a table, or — given parents — one page
//! *per parent* in a single statement (`unnest(parents) CROSS JOIN LATERAL (… LIMIT n)`), which
//! is what keeps nested connections at one statement per level however many parents there are.
//!
//! Column names and SQL expressions come only from `&'static str`s in our own code; every value
//! a caller supplies is a bound parameter. Rows are read through the caller's [`TenantTx`], so
//! row-level security decides what exists; every table the engine reads also carries the
//! scope's tenant as an explicit predicate (see [`tenant`]), so a distributed database can
//! route each statement to one shard. The `*_statement` functions return the statement a read
//! runs without running it, for tests that inspect its plan.

pub mod aggregate;
mod cond;
mod declare;
pub mod json;
mod keyset;
pub mod search;
mod tenant;

use std::sync::OnceLock;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder, Row};
use uuid::Uuid;

/// A statement with its parameters bound, not yet run.
pub type Statement = QueryBuilder<'static, Postgres>;

pub use cond::{CmpOp, Cond, RawPart, Value};

use crate::{DbError, TenantTx};

/// A table the engine can read: where its rows live and the columns an entity maps.
///
/// Entities declare their tables with [`crate::table!`] and [`crate::column!`] (or a derived
/// [`Column`] whose SQL comes from [`crate::exprs`]), so every SQL fragment the read engine
/// renders is written in this crate.
#[derive(Debug)]
pub struct Table {
    /// Qualified name (`app.customers`), or a parenthesised subquery for an entity that is a
    /// join (see [`crate::exprs::members::SOURCE`]).
    pub name: &'static str,
    /// Every column, in the entity's field order.
    pub columns: &'static [Column],
    /// The full select list, rendered once.
    all: OnceLock<String>,
}

/// One column of a [`Table`]: the name the row struct knows it by and the SQL that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The row struct's field (and result column) name.
    pub name: &'static str,
    /// The SQL expression over alias `t` (`t.name`, or a derived expression).
    pub sql: &'static str,
}

impl Column {
    /// The select-list item: the expression, aliased when it is not the plain column.
    fn push_item(&self, out: &mut String) {
        out.push_str(self.sql);
        if self.sql.strip_prefix("t.") != Some(self.name) {
            out.push_str(" AS ");
            out.push_str(self.name);
        }
    }

    /// Whether this is a key column: the id, or a link (`…_id`) that nested reads and
    /// read-ahead need whatever the selection shows.
    pub fn is_key(&self) -> bool {
        self.name == "id" || self.name.ends_with("_id")
    }
}

impl Table {
    /// A table over `name` with `columns`.
    pub const fn new(name: &'static str, columns: &'static [Column]) -> Self {
        Self {
            name,
            columns,
            all: OnceLock::new(),
        }
    }

    /// The select list of every column.
    pub fn select_all(&self) -> &str {
        self.all.get_or_init(|| Self::render(self.columns.iter()))
    }

    /// The select list of the key columns and of the columns `wanted` names.
    pub fn select_only(&self, wanted: impl Fn(&str) -> bool) -> String {
        Self::render(self.columns.iter().filter(|c| c.is_key() || wanted(c.name)))
    }

    /// The select list of the id and the columns `wanted` names, nothing else: for a read
    /// that knows every column it uses (a compiled read's level).
    pub fn select_exactly(&self, wanted: &[&str]) -> String {
        Self::render(
            self.columns
                .iter()
                .filter(|c| c.name == "id" || wanted.contains(&c.name)),
        )
    }

    fn render<'a>(columns: impl Iterator<Item = &'a Column>) -> String {
        let mut out = String::with_capacity(256);
        for (i, column) in columns.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            column.push_item(&mut out);
        }
        out
    }
}

/// One sort key: an SQL expression over alias `t` and the type its text form casts back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    /// Expression, never NULL (nullable columns are wrapped in `coalesce` by the caller).
    pub expr: &'static str,
    /// The SQL type of `expr`, used to cast cursor values back (`timestamptz`, `text`, …).
    pub sql_type: &'static str,
    /// Descending when true.
    pub desc: bool,
}

/// The tie-breaker every ordering ends with, so keyset positions are unique.
pub const ID_KEY: OrderKey = OrderKey {
    expr: "t.id",
    sql_type: "uuid",
    desc: false,
};

/// Which columns to read.
#[derive(Debug, Clone, Copy)]
pub struct Select<'a> {
    /// The select list over alias `t` (the table's full list, or a projection of it).
    pub columns: &'a str,
    /// Whether to return each row's sort values (needed only for cursors).
    pub sort_values: bool,
}

/// Which slice of the ordered rows to read.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Rows wanted (the engine reads one more to learn whether more exist).
    pub limit: i64,
    /// Read from the end: `last`/`before`. Results still come back in the requested order.
    pub backward: bool,
    /// Exclusive bound: the sort values (id last) of the row to continue from.
    pub cursor: Option<Vec<String>>,
}

/// A page of rows, each with its sort values for cursors.
#[derive(Debug)]
pub struct Rows<T> {
    /// Rows in the requested order, with their sort values (id last).
    pub rows: Vec<(T, Vec<String>)>,
    /// Whether rows exist beyond the page in the direction of travel.
    pub more: bool,
}

/// Pages keyed by parent (`None` for [`Scope::All`]); parents without rows are absent.
pub type Pages<T> = Vec<(Option<Uuid>, Rows<T>)>;

/// Where rows come from: the whole (tenant's) table, or the children of some parents.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Every visible row.
    All,
    /// The children of each of `parents`, found `via` a column or a link table (one page per
    /// parent).
    Children {
        /// How a child is tied to its parent.
        via: Via,
        /// Parent ids.
        parents: &'a [Uuid],
    },
}

/// How the children of a nested list are tied to their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// One-to-many: the child's foreign-key column holding the parent id (bare name, e.g.
    /// `customer_id`).
    Column(&'static str),
    /// Many-to-many: a link table, given as SQL that selects `(tenant_id, parent, child)`,
    /// for example `SELECT tenant_id, a AS parent, b AS child FROM app.x_links` (see
    /// [`crate::exprs::tickets::LINKS`]). A link read both ways is a `UNION` of both
    /// directions; `UNION` rather than `UNION ALL`, so a pair stored twice counts once. The
    /// engine only ever filters it by `tenant_id` and `parent`, which the planner pushes into
    /// each arm.
    Pairs(&'static str),
}

/// Reads one page (or one page per parent) of `table` in one statement.
#[tracing::instrument(skip_all, fields(table = table.name))]
pub async fn fetch<T>(
    tx: &mut TenantTx,
    table: &Table,
    select: Select<'_>,
    scope: Scope<'_>,
    filter: &Cond,
    order: &[OrderKey],
    page: &Page,
) -> Result<Pages<T>, DbError>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let tenant = tx.ctx().tenant_id;
    let mut qb = fetch_statement(tenant, table, select, scope, filter, order, page)?;
    let rows = qb.build().fetch_all(tx.conn()).await?;
    group(
        rows,
        matches!(scope, Scope::Children { .. }),
        select.sort_values,
        page,
    )
}

/// The statement [`fetch`] runs for `tenant`.
pub fn fetch_statement(
    tenant: Uuid,
    table: &Table,
    select: Select<'_>,
    scope: Scope<'_>,
    filter: &Cond,
    order: &[OrderKey],
    page: &Page,
) -> Result<Statement, DbError> {
    let keys = keyset::effective_order(order, page.backward);
    if page.cursor.as_ref().is_some_and(|c| c.len() != keys.len()) {
        return Err(DbError::CursorMismatch);
    }
    let mut qb = Statement::new("");
    let inner = |qb: &mut Statement, via: Option<Via>| {
        qb.push("SELECT ").push(select.columns);
        if select.sort_values {
            qb.push(", ")
                .push(keyset::sort_values_sql(&keys))
                .push(" AS _sort");
        }
        qb.push(" FROM ").push(table.name).push(" t WHERE ");
        tenant::push_and(qb, "t", tenant);
        match via {
            Some(Via::Column(col)) => {
                qb.push("t.").push(col).push(" = p._parent AND ");
            }
            Some(Via::Pairs(pairs)) => {
                qb.push("t.id IN (SELECT j.child FROM (")
                    .push(pairs)
                    .push(") j WHERE ");
                tenant::push_and(qb, "j", tenant);
                qb.push("j.parent = p._parent) AND ");
            }
            None => {}
        }
        filter.push(qb, tenant);
        if let Some(values) = &page.cursor {
            qb.push(" AND ");
            keyset::push_after(qb, &keys, values);
        }
        qb.push(" ORDER BY ")
            .push(keyset::order_by_sql(&keys))
            .push(" LIMIT ")
            .push_bind(page.limit.saturating_add(1));
    };
    match scope {
        Scope::All => inner(&mut qb, None),
        Scope::Children { via, parents } => {
            qb.push("SELECT p._parent, x.* FROM unnest(")
                .push_bind(parents.to_vec())
                .push("::uuid[]) AS p(_parent) CROSS JOIN LATERAL (");
            inner(&mut qb, Some(via));
            qb.push(") x");
        }
    }
    Ok(qb)
}

/// Splits the flat result into per-parent pages, trimming the look-ahead row and restoring
/// the requested order for backward pages.
fn group<T>(
    rows: Vec<PgRow>,
    by_parent: bool,
    sort_values: bool,
    page: &Page,
) -> Result<Pages<T>, DbError>
where
    T: for<'r> FromRow<'r, PgRow>,
{
    let mut out: Vec<(Option<Uuid>, Rows<T>)> = Vec::new();
    for row in rows {
        let parent: Option<Uuid> = if by_parent {
            Some(row.try_get("_parent")?)
        } else {
            None
        };
        let sort: Vec<String> = if sort_values {
            row.try_get("_sort")?
        } else {
            Vec::new()
        };
        let item = T::from_row(&row)?;
        match out.last_mut() {
            Some((p, rows)) if *p == parent => rows.rows.push((item, sort)),
            _ => out.push((
                parent,
                Rows {
                    rows: vec![(item, sort)],
                    more: false,
                },
            )),
        }
    }
    let limit = usize::try_from(page.limit).unwrap_or(0);
    for (_, rows) in &mut out {
        if rows.rows.len() > limit {
            rows.rows.truncate(limit);
            rows.more = true;
        }
        if page.backward {
            rows.rows.reverse();
        }
    }
    Ok(out)
}

/// Counts the rows matching `filter` (per parent for [`Scope::Children`]) in one statement.
#[tracing::instrument(skip_all, fields(table = table.name))]
pub async fn count(
    tx: &mut TenantTx,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
) -> Result<Vec<(Option<Uuid>, i64)>, DbError> {
    let mut qb = count_statement(tx.ctx().tenant_id, table, scope, filter);
    let rows = qb.build().fetch_all(tx.conn()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("parent")?, r.try_get("n")?)))
        .collect()
}

/// The statement [`count`] runs for `tenant`.
pub fn count_statement(tenant: Uuid, table: &Table, scope: Scope<'_>, filter: &Cond) -> Statement {
    let mut qb = Statement::new("");
    match scope {
        Scope::All => {
            qb.push("SELECT NULL::uuid AS parent, count(*) AS n FROM ")
                .push(table.name)
                .push(" t WHERE ");
            tenant::push_and(&mut qb, "t", tenant);
            filter.push(&mut qb, tenant);
        }
        Scope::Children {
            via: Via::Column(column),
            parents,
        } => {
            qb.push("SELECT t.")
                .push(column)
                .push(" AS parent, count(*) AS n FROM ")
                .push(table.name)
                .push(" t WHERE ");
            tenant::push_and(&mut qb, "t", tenant);
            qb.push("t.")
                .push(column)
                .push(" = ANY(")
                .push_bind(parents.to_vec())
                .push(") AND ");
            filter.push(&mut qb, tenant);
            qb.push(" GROUP BY 1");
        }
        Scope::Children {
            via: Via::Pairs(pairs),
            parents,
        } => {
            qb.push("SELECT j.parent, count(*) AS n FROM (")
                .push(pairs)
                .push(") j JOIN ")
                .push(table.name)
                .push(" t ON t.id = j.child WHERE ");
            tenant::push_and(&mut qb, "j", tenant);
            tenant::push_and(&mut qb, "t", tenant);
            qb.push("j.parent = ANY(")
                .push_bind(parents.to_vec())
                .push(") AND ");
            filter.push(&mut qb, tenant);
            qb.push(" GROUP BY 1");
        }
    }
    qb
}

/// Reads rows by id, in no particular order (absent and invisible ids are simply missing).
#[tracing::instrument(skip_all, fields(table = table.name, n = ids.len()))]
pub async fn by_ids<T>(tx: &mut TenantTx, table: &Table, ids: &[Uuid]) -> Result<Vec<T>, DbError>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut qb = by_ids_statement(tx.ctx().tenant_id, table, ids);
    Ok(qb.build_query_as::<T>().fetch_all(tx.conn()).await?)
}

/// The statement [`by_ids`] runs for `tenant`.
pub fn by_ids_statement(tenant: Uuid, table: &Table, ids: &[Uuid]) -> Statement {
    let mut qb = Statement::new("SELECT ");
    qb.push(table.select_all())
        .push(" FROM ")
        .push(table.name)
        .push(" t WHERE ");
    tenant::push_and(&mut qb, "t", tenant);
    qb.push("t.id = ANY(").push_bind(ids.to_vec()).push(")");
    qb
}
