//! Reads that PostgreSQL answers as the response's JSON: a read-only GraphQL operation
//! compiled (by `frontdesk_graphql::direct`) into a [`Document`] is rendered here as **one**
//! statement whose single text column is the `data` object, built by `json_build_object` and
//! `json_agg` level by level, so the server forwards it without decoding rows or resolving
//! fields. A document that is one root list of nodes and nothing else is read in the rows
//! form instead ([`rows`]): the same statement without its outermost aggregate, one row per
//! node, which the server writes between the brackets.
//!
//! The statement is the same read the list engine ([`super::fetch`]) makes, nested instead of
//! batched: the same tables and projections, the same [`Cond`] filters with every value
//! bound, the same keyset order (the id tie-breaker included) and limit, the same link
//! columns. Each level reads `LIMIT n` rows of its parent's children in an ordered subquery
//! and aggregates them as that subquery returns them: the aggregate reads a `Limit` over an
//! ordered scan or sort with nothing between that could reorder rows (no join, no grouping;
//! the window that numbers a look-ahead row has an empty `OVER ()`), so the order is the
//! subquery's. Repeating it inside `json_agg(… ORDER BY …)` would sort every level's rows a
//! second time — a sort per parent, which measured 17 % of the hand-written floor's
//! throughput. `tests/compiled_reads.rs` compares every list's order with the resolvers'.
//! Rows are read through the caller's [`TenantTx`], so row-level security decides what
//! exists, exactly as for every other read; every table a level reads also names the scope's
//! tenant explicitly, as the list engine's statements do ([`super::tenant`]).
//!
//! A root may also be a [`Report`]: a statement of its own (a dashboard's), embedded as a
//! materialized CTE with its `$n` parameters renumbered into this statement's, whose rows
//! become a list of objects and whose first row can fill single fields.
//!
//! Every SQL fragment comes from our own `&'static str`s or from names the GraphQL parser
//! accepted (response keys: `[_A-Za-z][_0-9A-Za-z]*`, checked again here); every value is a
//! bound parameter.

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

mod rows;

use super::keyset::{effective_order, order_by_sql};
use super::{tenant, Cond, OrderKey, Table, Via};
use crate::{Db, DbError, Lsn, Membership, RequestMeta, TenantCtx, TenantTx};

/// How a column's value becomes the JSON value GraphQL would have produced for it.
#[derive(Debug, Clone, Copy)]
pub enum Render {
    /// PostgreSQL's own JSON form is GraphQL's: text, numbers, booleans, UUIDs, dates,
    /// `jsonb`, arrays of text.
    Plain,
    /// A JSON string of the number as rust_decimal writes it (`Decimal` travels as a
    /// string): the stored scale, except that zero is `0`.
    Decimal,
    /// RFC 3339 in UTC with `+00:00`, the fraction only as long as it needs to be (0, 3 or 6
    /// digits): what chrono's `to_rfc3339` gives for a `DateTime<Utc>`.
    Timestamp,
    /// A stored spelling mapped to its GraphQL name: `(stored, GraphQL)` pairs.
    Enum(&'static [(&'static str, &'static str)]),
}

/// One JSON object: response keys in selection order.
#[derive(Debug, Default)]
pub struct Object {
    /// `(response key, value)`.
    pub fields: Vec<(String, Field)>,
}

/// One value of an [`Object`], over the row of its level.
#[derive(Debug)]
pub enum Field {
    /// A column of the row (by its name in the level's select list).
    Column {
        /// The result column.
        name: &'static str,
        /// Its JSON form.
        render: Render,
    },
    /// The Relay global id of the row: `{type}:{id}`.
    GlobalId(&'static str),
    /// A constant string (`__typename`).
    Literal(&'static str),
    /// A connection of the row's children.
    Many(Box<List>),
    /// The row the row's link column points at, or null.
    One(Box<Linked>),
}

/// A connection: one page of a table's rows (the children of the enclosing row, or the
/// visible rows at the root) and what the selection shows of it.
#[derive(Debug)]
pub struct List {
    /// Where the rows live.
    pub table: &'static Table,
    /// The select list over alias `t` (ids and link columns included).
    pub columns: String,
    /// How a row is tied to the enclosing row; `None` at the root.
    pub via: Option<Via>,
    /// Which rows.
    pub filter: Cond,
    /// The requested order (the id tie-breaker is appended here).
    pub order: Vec<OrderKey>,
    /// Rows in the page.
    pub limit: i64,
    /// The connection's selected fields, in selection order.
    pub parts: Vec<(String, Part)>,
}

/// A selected field of a connection.
#[derive(Debug)]
pub enum Part {
    /// The page's rows.
    Nodes(Object),
    /// The page's rows as edges (`node` and `__typename` only: cursors are signed by the
    /// server).
    Edges(Vec<(String, EdgePart)>),
    /// Rows the filter selects, paging ignored.
    TotalCount,
    /// Whether rows follow or precede the page, for a page read from the start.
    PageInfo(Vec<(String, PageInfoPart)>),
    /// A constant string (`__typename`).
    Literal(&'static str),
}

/// A selected field of an edge.
#[derive(Debug)]
pub enum EdgePart {
    /// The row.
    Node(Object),
    /// A constant string (`__typename`).
    Literal(&'static str),
}

/// A selected field of `pageInfo` for a page read from the start (no cursor).
#[derive(Debug)]
pub enum PageInfoPart {
    /// Rows follow the page.
    HasNextPage,
    /// Always false: the page starts at the first row.
    HasPreviousPage,
    /// A constant string (`__typename`).
    Literal(&'static str),
}

/// The row a link column points at.
#[derive(Debug)]
pub struct Linked {
    /// Where the row lives.
    pub table: &'static Table,
    /// The select list over alias `t`.
    pub columns: String,
    /// The enclosing row's link column.
    pub column: &'static str,
    /// What the selection shows of it.
    pub object: Object,
}

/// A root answered by a statement of its own (a dashboard) rather than by a table: a few
/// values, and the statement's rows as a list of objects.
#[derive(Debug)]
pub struct Report {
    /// The statement, parameters `$1`, `$2`, … (no other `$` in its text); its rows in
    /// answer order.
    pub sql: &'static str,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// The report object's fields, in selection order.
    pub fields: Vec<(String, ReportPart)>,
}

/// A parameter of a [`Report`]'s statement.
#[derive(Debug, Clone)]
pub enum Param {
    /// A `timestamptz`.
    Timestamp(chrono::DateTime<chrono::Utc>),
    /// A `text`, or NULL.
    Text(Option<String>),
}

/// A field of a [`Report`] object.
#[derive(Debug)]
pub enum ReportPart {
    /// A value fixed before the statement runs (an argument echoed back), as JSON text.
    Constant(String),
    /// A column of the statement's first row.
    First {
        /// The result column.
        name: &'static str,
        /// Its JSON form.
        render: Render,
    },
    /// Every row, in the statement's order.
    Rows(Object),
}

/// A root field.
#[derive(Debug)]
pub enum Root {
    /// A connection over the visible rows.
    List(List),
    /// One row by id, or null when it is not visible (see [`Answer::missing`]).
    ById {
        /// Where the row lives.
        table: &'static Table,
        /// The select list over alias `t`.
        columns: String,
        /// Its id.
        id: Uuid,
        /// What the selection shows of it.
        object: Object,
    },
    /// A statement's report; its object is `missing` when the statement returns no row.
    Report(Report),
}

/// A whole operation's `data`.
#[derive(Debug, Default)]
pub struct Document {
    /// `(response key, root field)`, in selection order.
    pub roots: Vec<(String, Root)>,
}

/// The statement's answer.
#[derive(Debug)]
pub struct Answer {
    /// The `data` object, as JSON text.
    pub data: String,
    /// Whether a by-id root found no visible row (GraphQL answers that with an error, which
    /// the caller produces its own way), or a report's statement returned no row.
    pub missing: bool,
}

/// The SQL of `doc` read in `tenant`, with its parameters bound; `None` for a document that
/// cannot be one statement (an object of more than 50 fields, a response key that is not a
/// GraphQL name), which the caller reads the ordinary way.
pub fn render(doc: &Document, tenant: Uuid) -> Option<QueryBuilder<'static, Postgres>> {
    let mut qb = QueryBuilder::new("");
    render_into(&mut qb, doc, tenant).ok()?;
    Some(qb)
}

/// [`render`]'s statement with the acting member's membership of `tenant` as three more
/// columns (`role`, `permissions`, `is_active`, NULL for a non-member): what
/// `app.begin_scope` returns, for a transaction that opened without reading it.
fn render_with_membership(
    doc: &Document,
    tenant: Uuid,
    member: Uuid,
) -> Option<QueryBuilder<'static, Postgres>> {
    let mut qb =
        QueryBuilder::new("SELECT s.data, s.missing, ms.role, ms.permissions, ms.is_active FROM (");
    render_into(&mut qb, doc, tenant).ok()?;
    qb.push(") s LEFT JOIN app.memberships ms ON ms.tenant_id = ")
        .push_bind(tenant)
        .push(" AND ms.user_id = ")
        .push_bind(member);
    Some(qb)
}

fn render_into(
    qb: &mut QueryBuilder<'static, Postgres>,
    doc: &Document,
    tenant: Uuid,
) -> Result<(), Refused> {
    let mut sql = Sql {
        qb: Text::new(std::mem::replace(qb, QueryBuilder::new(""))),
        aliases: 0,
        tenant,
    };
    let rendered = sql.document(doc);
    *qb = sql.qb.finish();
    rendered
}

impl Sql {
    /// The whole document's statement (see [`render`]).
    fn document(&mut self, doc: &Document) -> Result<(), Refused> {
        // Each by-id or report root is a CTE read once: its object (its rows, for a report) for
        // `data`, its absence for `missing`.
        let mut found = Vec::new();
        for (_, root) in &doc.roots {
            let cte = format!("jr{}", found.len() + 1);
            match root {
                Root::ById {
                    table,
                    columns,
                    id,
                    object,
                } => {
                    self.qb
                        .push(if found.is_empty() { "WITH " } else { ", " })
                        .push(&cte)
                        .push(" AS (SELECT ");
                    let a = self.alias();
                    self.object(object, &a)?;
                    self.qb
                        .push(" AS v FROM (SELECT ")
                        .push(columns)
                        .push(" FROM ")
                        .push(table.name)
                        .push(" t WHERE ");
                    tenant::push_and(self.qb.raw(), "t", self.tenant);
                    self.qb
                        .push("t.id = ")
                        .push_bind(*id)
                        .push(") ")
                        .push(&a)
                        .push(")");
                }
                Root::Report(report) => {
                    self.qb
                        .push(if found.is_empty() { "WITH " } else { ", " })
                        .push(&cte)
                        .push(" AS MATERIALIZED (");
                    self.statement(report)?;
                    self.qb.push(")");
                }
                Root::List(_) => continue,
            }
            found.push(cte);
        }
        self.qb.push(" SELECT json_build_object(");
        let mut ctes = found.iter();
        for (i, (key, root)) in doc.roots.iter().enumerate() {
            self.key(i, key)?;
            match root {
                Root::List(list) => {
                    self.qb.push("(");
                    self.list(list, None)?;
                    self.qb.push(")");
                }
                Root::ById { .. } => {
                    let cte = ctes.next().ok_or(Refused)?;
                    self.qb.push("(SELECT v FROM ").push(cte).push(")");
                }
                Root::Report(report) => {
                    let cte = ctes.next().ok_or(Refused)?;
                    self.report(report, cte)?;
                }
            }
        }
        self.qb.push(")::text AS data, ");
        if found.is_empty() {
            self.qb.push("false");
        }
        for (i, cte) in found.iter().enumerate() {
            if i > 0 {
                self.qb.push(" OR ");
            }
            self.qb
                .push("NOT EXISTS (SELECT 1 FROM ")
                .push(cte)
                .push(")");
        }
        self.qb.push(" AS missing");
        Ok(())
    }
}

/// Runs `doc` as one statement; `None` when it cannot be one (see [`render`]).
#[tracing::instrument(level = "debug", skip_all, fields(roots = doc.roots.len()))]
pub async fn fetch(tx: &mut TenantTx, doc: &Document) -> Result<Option<Answer>, DbError> {
    let Some(mut qb) = render(doc, tx.ctx().tenant_id) else {
        return Ok(None);
    };
    let row = qb.build().fetch_one(tx.conn()).await?;
    Ok(Some(Answer {
        data: row.try_get("data")?,
        missing: row.try_get("missing")?,
    }))
}

/// A compiled read's answer and the membership the caller acted with.
#[derive(Debug)]
pub struct Read {
    /// The statement's answer.
    pub answer: Answer,
    /// The acting member's membership in the tenant (`None`: not a member).
    pub membership: Option<Membership>,
}

/// Reads `doc` for `ctx` (a person: `ctx.user_id` is set) in a read-only transaction of its
/// own, as [`Db::begin_tenant_read`] would route it (a standby that has caught up with the
/// caller and `min_lsn`, else the primary); `None` when the document cannot be one statement
/// or no person acts.
///
/// The whole read is two round trips: `BEGIN` and the scope travel as one message
/// ([`Db::begin_tenant_fused`]), and the statement (in the [`rows`] form when the document
/// has its shape) reads the membership beside the answer.
/// The transaction is then dropped, not committed: it wrote nothing, and the `ROLLBACK` that
/// sqlx queues travels with the connection's release check instead of on the request's
/// path. The caller must check the membership's grants before using the answer; an answer
/// read for a caller who may not see it is discarded unread. On a distributed database,
/// whose scope must send the member's role as `SET LOCAL`, the scope opens the ordinary way
/// and the statement is the one-document form.
///
/// Its span is at DEBUG (exported as part of a trace, not a context of log lines): the
/// request's own span already names the request in every line, and creating and formatting a
/// second one at INFO cost a single-row read about a hundredth of the server's work.
#[tracing::instrument(level = "debug", skip_all, fields(roots = doc.roots.len()))]
pub async fn read(
    db: &Db,
    ctx: TenantCtx,
    meta: &RequestMeta,
    min_lsn: Option<Lsn>,
    doc: &Document,
) -> Result<Option<Read>, DbError> {
    let Some(member) = ctx.user_id else {
        return Ok(None);
    };
    if db.is_distributed() {
        let mut tx = db.begin_tenant_read(ctx, meta, min_lsn).await?;
        let membership = tx.membership().cloned();
        return Ok(fetch(&mut tx, doc)
            .await?
            .map(|answer| Read { answer, membership }));
    }
    if let Some((mut qb, shell)) = rows::render(doc, ctx.tenant_id, member) {
        let rows = db.read_fused(ctx, min_lsn, qb.build()).await?;
        return rows::read(&rows, &shell);
    }
    let Some(mut qb) = render_with_membership(doc, ctx.tenant_id, member) else {
        return Ok(None);
    };
    let rows = db.read_fused(ctx, min_lsn, qb.build()).await?;
    let row = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    Ok(Some(Read {
        answer: Answer {
            data: row.try_get("data")?,
            missing: row.try_get("missing")?,
        },
        membership: membership_of(row)?,
    }))
}

/// The membership a compiled read's statement read beside its answer (`role`, `permissions`
/// and `is_active` of the acting member, all NULL for a non-member).
fn membership_of(row: &PgRow) -> Result<Option<Membership>, DbError> {
    let role: Option<String> = row.try_get("role")?;
    Ok(match role {
        Some(role) => Some(Membership {
            role,
            permissions: row.try_get("permissions")?,
            is_active: row.try_get("is_active")?,
        }),
        None => None,
    })
}

/// Whether `key` is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`), as every response key must be
/// to be written into a statement or a response unquoted.
fn is_name(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// The statement under construction; aliases `jd1`, `jd2`, … name each level's rows.
struct Sql {
    qb: Text,
    aliases: usize,
    /// The tenant every level's table names explicitly.
    tenant: Uuid,
}

/// A document that cannot be rendered as one statement.
#[derive(Debug)]
struct Refused;

fn refuse(_why: &str) -> Refused {
    Refused
}

impl Sql {
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("jd{}", self.aliases)
    }

    /// `, 'key', ` (the comma before all but the first).
    fn key(&mut self, i: usize, key: &str) -> Result<(), Refused> {
        if !is_name(key) {
            return Err(refuse("a response key that is not a GraphQL name"));
        }
        if i > 0 {
            self.qb.push(", ");
        }
        self.qb.push("'").push(key).push("', ");
        Ok(())
    }

    /// A report's statement, its `$n` placeholders bound in the builder's own numbering.
    fn statement(&mut self, report: &Report) -> Result<(), Refused> {
        let mut rest = report.sql;
        while let Some(at) = rest.find('$') {
            self.qb.push(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - at - 1);
            let n: usize = rest[at + 1..at + 1 + digits]
                .parse()
                .map_err(|_| refuse("a `$` that is not a parameter"))?;
            match n.checked_sub(1).and_then(|i| report.params.get(i)) {
                Some(Param::Timestamp(t)) => self.qb.push_bind(*t),
                Some(Param::Text(t)) => self.qb.push_bind(t.clone()),
                None => return Err(refuse("a parameter without a value")),
            };
            rest = &rest[at + 1 + digits..];
        }
        self.qb.push(rest);
        Ok(())
    }

    /// A report's object over its statement's rows in CTE `cte`.
    fn report(&mut self, report: &Report, cte: &str) -> Result<(), Refused> {
        if report.fields.is_empty() || report.fields.len() > 50 {
            return Err(refuse("an object of more than 50 fields"));
        }
        self.qb.push("json_build_object(");
        for (i, (key, part)) in report.fields.iter().enumerate() {
            self.key(i, key)?;
            match part {
                ReportPart::Constant(json) => {
                    self.qb.push_bind(json.clone()).push("::json");
                }
                ReportPart::First { name, render } => {
                    let a = self.alias();
                    self.qb.push("(SELECT ");
                    self.value(*render, &format!("{a}.\"{name}\""));
                    self.qb
                        .push(" FROM ")
                        .push(cte)
                        .push(" ")
                        .push(&a)
                        .push(" LIMIT 1)");
                }
                ReportPart::Rows(object) => {
                    // A CTE is scanned in the order its statement returned the rows.
                    let a = self.alias();
                    self.qb.push("(SELECT coalesce(json_agg(");
                    self.object(object, &a)?;
                    self.qb
                        .push("), '[]') FROM ")
                        .push(cte)
                        .push(" ")
                        .push(&a)
                        .push(")");
                }
            }
        }
        self.qb.push(")");
        Ok(())
    }

    fn literal(&mut self, text: &'static str) {
        self.qb
            .push("'")
            .push(text.replace('\'', "''"))
            .push("'::text");
    }

    fn object(&mut self, object: &Object, row: &str) -> Result<(), Refused> {
        // json_build_object takes at most 100 arguments.
        if object.fields.is_empty() || object.fields.len() > 50 {
            return Err(refuse("an object of more than 50 fields"));
        }
        self.qb.push("json_build_object(");
        for (i, (key, field)) in object.fields.iter().enumerate() {
            self.key(i, key)?;
            self.field(field, row)?;
        }
        self.qb.push(")");
        Ok(())
    }

    fn field(&mut self, field: &Field, row: &str) -> Result<(), Refused> {
        match field {
            Field::Column { name, render } => {
                let mut expr = String::with_capacity(row.len() + name.len() + 3);
                expr.push_str(row);
                expr.push_str(".\"");
                expr.push_str(name);
                expr.push('"');
                self.value(*render, &expr);
            }
            Field::GlobalId(type_name) => {
                // `{type}:{uuid}` (the graphql crate's `global_id`): the row's text after a
                // constant, which costs what the bare UUID does.
                if !type_name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(refuse("a type name that is not letters and digits"));
                }
                self.qb
                    .push("('")
                    .push(*type_name)
                    .push(":' || ")
                    .push(row)
                    .push(".id::text)");
            }
            Field::Literal(text) => self.literal(text),
            Field::Many(list) => {
                self.qb.push("(");
                self.list(list, Some(row))?;
                self.qb.push(")");
            }
            Field::One(linked) => {
                let a = self.alias();
                self.qb.push("(SELECT ");
                self.object(&linked.object, &a)?;
                self.qb
                    .push(" FROM (SELECT ")
                    .push(&linked.columns)
                    .push(" FROM ")
                    .push(linked.table.name)
                    .push(" t WHERE ");
                tenant::push_and(self.qb.raw(), "t", self.tenant);
                self.qb
                    .push("t.id = ")
                    .push(row)
                    .push(".")
                    .push(linked.column)
                    .push(") ")
                    .push(&a)
                    .push(")");
            }
        }
        Ok(())
    }

    fn value(&mut self, render: Render, expr: &str) {
        match render {
            Render::Plain => {
                self.qb.push(expr);
            }
            Render::Decimal => {
                // rust_decimal reads a zero without its scale: `0`, not `0.00`.
                self.qb
                    .push("(CASE WHEN ")
                    .push(expr)
                    .push(" = 0 THEN '0' ELSE ")
                    .push(expr)
                    .push("::text END)");
            }
            Render::Timestamp => {
                let utc = format!("({expr} AT TIME ZONE 'UTC')");
                self.qb
                    .push("to_char(")
                    .push(&utc)
                    .push(", CASE WHEN extract(microseconds FROM ")
                    .push(&utc)
                    .push(")::bigint % 1000000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"' ")
                    .push("WHEN extract(microseconds FROM ")
                    .push(&utc)
                    .push(")::bigint % 1000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"+00:00\"' ")
                    .push("ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"' END)");
            }
            Render::Enum(pairs) => {
                self.qb.push("(CASE ").push(expr);
                for (stored, name) in pairs {
                    self.qb
                        .push(" WHEN '")
                        .push(stored.replace('\'', "''"))
                        .push("' THEN '")
                        .push(name.replace('\'', "''"))
                        .push("'");
                }
                self.qb.push(" END)");
            }
        }
    }

    /// `t.tenant_id = $n AND t.<link> = <parent>.id AND ` (only the tenant at the root).
    fn tie(&mut self, via: Option<Via>, parent: Option<&str>) -> Result<(), Refused> {
        tenant::push_and(self.qb.raw(), "t", self.tenant);
        match (via, parent) {
            (None, None) => {}
            (Some(Via::Column(col)), Some(p)) => {
                self.qb
                    .push("t.")
                    .push(col)
                    .push(" = ")
                    .push(p)
                    .push(".id AND ");
            }
            (Some(Via::Pairs(pairs)), Some(p)) => {
                self.qb
                    .push("t.id IN (SELECT j.child FROM (")
                    .push(pairs)
                    .push(") j WHERE ");
                tenant::push_and(self.qb.raw(), "j", self.tenant);
                self.qb.push("j.parent = ").push(p).push(".id) AND ");
            }
            _ => return Err(refuse("a nested list without its parent")),
        }
        Ok(())
    }

    fn list(&mut self, list: &List, parent: Option<&str>) -> Result<(), Refused> {
        let shows_rows = list
            .parts
            .iter()
            .any(|(_, p)| matches!(p, Part::Nodes(_) | Part::Edges(_) | Part::PageInfo(_)));
        let looks_ahead = list
            .parts
            .iter()
            .any(|(_, p)| matches!(p, Part::PageInfo(parts) if parts.iter().any(|(_, q)| matches!(q, PageInfoPart::HasNextPage))));
        let a = self.alias();
        self.qb.push("SELECT json_build_object(");
        for (i, (key, part)) in list.parts.iter().enumerate() {
            self.key(i, key)?;
            match part {
                Part::Nodes(object) => {
                    self.qb.push("coalesce(json_agg(");
                    self.object(object, &a)?;
                    self.aggregate_tail(&a, looks_ahead.then_some(list.limit));
                }
                Part::Edges(parts) => {
                    if parts.is_empty() {
                        return Err(refuse("an empty edge"));
                    }
                    self.qb.push("coalesce(json_agg(json_build_object(");
                    for (j, (key, part)) in parts.iter().enumerate() {
                        self.key(j, key)?;
                        match part {
                            EdgePart::Node(object) => self.object(object, &a)?,
                            EdgePart::Literal(text) => self.literal(text),
                        }
                    }
                    self.qb.push(")");
                    self.aggregate_tail(&a, looks_ahead.then_some(list.limit));
                }
                Part::TotalCount => {
                    self.qb
                        .push("(SELECT count(*) FROM ")
                        .push(list.table.name)
                        .push(" t WHERE ");
                    self.tie(list.via, parent)?;
                    list.filter.push(self.qb.raw(), self.tenant);
                    self.qb.push(")");
                }
                Part::PageInfo(parts) => {
                    if parts.is_empty() {
                        return Err(refuse("an empty pageInfo"));
                    }
                    self.qb.push("json_build_object(");
                    for (j, (key, part)) in parts.iter().enumerate() {
                        self.key(j, key)?;
                        match part {
                            PageInfoPart::HasNextPage => {
                                self.qb.push("count(*) > ").push_bind(list.limit);
                            }
                            PageInfoPart::HasPreviousPage => {
                                self.qb.push("false");
                            }
                            PageInfoPart::Literal(text) => self.literal(text),
                        }
                    }
                    self.qb.push(")");
                }
                Part::Literal(text) => self.literal(text),
            }
        }
        self.qb.push(")");
        if !shows_rows {
            return Ok(());
        }
        self.page(list, parent, &a, looks_ahead)
    }

    /// ` FROM (…) {a}`: the page of `list`'s rows (the children of `parent`'s row, or the
    /// visible rows at the root) in order, as rows of alias `a`; with the row after the page,
    /// numbered, when the page `looks_ahead`.
    fn page(
        &mut self,
        list: &List,
        parent: Option<&str>,
        a: &str,
        looks_ahead: bool,
    ) -> Result<(), Refused> {
        let keys = effective_order(&list.order, false);
        self.qb.push(" FROM (");
        if looks_ahead {
            // One row beyond the page says whether more follow; it is numbered so the page's
            // aggregates leave it out.
            self.qb
                .push("SELECT jq.*, row_number() OVER () AS _rn FROM (");
        }
        self.qb.push("SELECT ").push(&list.columns);
        self.qb
            .push(" FROM ")
            .push(list.table.name)
            .push(" t WHERE ");
        self.tie(list.via, parent)?;
        list.filter.push(self.qb.raw(), self.tenant);
        self.qb
            .push(" ORDER BY ")
            .push(order_by_sql(&keys))
            .push(" LIMIT ")
            .push_bind(list.limit + i64::from(looks_ahead));
        if looks_ahead {
            self.qb.push(") jq");
        }
        self.qb.push(") ").push(a);
        Ok(())
    }

    /// `) [FILTER (WHERE _rn <= n)], '[]')`: rows aggregate in the order of the level's
    /// subquery (see [`Sql::list`]).
    fn aggregate_tail(&mut self, row: &str, page: Option<i64>) {
        self.qb.push(")");
        if let Some(n) = page {
            self.qb
                .push(" FILTER (WHERE ")
                .push(row)
                .push("._rn <= ")
                .push_bind(n)
                .push(")");
        }
        self.qb.push(", '[]')");
    }
}

/// A [`QueryBuilder`] that gathers the statement's text in a plain `String` between bound
/// values. `QueryBuilder::push` formats every piece through `write!`, and a compiled read's
/// statement is a few hundred pieces: that formatting was most of the server's cost of
/// rendering it.
struct Text {
    qb: QueryBuilder<'static, Postgres>,
    pending: String,
}

impl Text {
    fn new(qb: QueryBuilder<'static, Postgres>) -> Self {
        Self {
            qb,
            pending: String::with_capacity(1024),
        }
    }

    fn push(&mut self, piece: impl AsRef<str>) -> &mut Self {
        self.pending.push_str(piece.as_ref());
        self
    }

    fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + sqlx::Encode<'static, Postgres> + sqlx::Type<Postgres>,
    {
        self.raw().push_bind(value);
        self
    }

    /// The builder itself, with everything pushed so far in it.
    fn raw(&mut self) -> &mut QueryBuilder<'static, Postgres> {
        if !self.pending.is_empty() {
            self.qb.push(&self.pending);
            self.pending.clear();
        }
        &mut self.qb
    }

    fn finish(mut self) -> QueryBuilder<'static, Postgres> {
        self.raw();
        self.qb
    }
}
