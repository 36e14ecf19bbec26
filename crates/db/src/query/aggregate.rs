//! Aggregates and grouped aggregates over a filtered table, in one statement each.
//!
//! The API asks for exactly the aggregates a query selects ([`Agg`]: a function over a column
//! expression of the entity's table) and, for groups, the keys to group by and an optional
//! time bucket cut in a time zone. Everything runs through the caller's [`TenantTx`], so
//! row-level security decides which rows are counted, exactly as for the connection's rows.
//!
//! Aggregate and key columns are aliased by position (`a0`, `k0`, `b`), so conditions on them
//! (`having`) are ordinary [`Cond`]s over the static names of [`ALIASES`], rendered on an outer
//! query over the grouped rows.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use uuid::Uuid;

use super::{tenant, Cond, Scope, Statement, Table, Via};
use crate::{DbError, TenantTx};

/// What an aggregate computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `count(*)`
    Count,
    /// `count(DISTINCT expr)`
    DistinctCount,
    /// `sum(expr)`
    Sum,
    /// `avg(expr)`
    Avg,
    /// `min(expr)`
    Min,
    /// `max(expr)`
    Max,
}

/// The type of a column an aggregate reads, which decides its SQL cast and decoded type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Any integer column: sums, minima and maxima are `bigint`, averages `float8`.
    Int,
    /// `numeric` (money): every result stays `numeric`.
    Decimal,
    /// `timestamptz`: minima and maxima.
    Time,
    /// Anything else (text, ids, booleans): distinct counts only.
    Other,
}

/// One aggregate: a function over a column expression (alias `t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agg {
    /// The function.
    pub func: Func,
    /// The column expression (static SQL from our code); ignored by `Count`.
    pub expr: &'static str,
    /// The column's kind.
    pub kind: Kind,
}

/// A computed aggregate (NULL over no rows, except counts, which are 0).
#[derive(Debug, Clone, PartialEq)]
pub enum AggValue {
    /// A count, or a sum, minimum or maximum of integers.
    Int(Option<i64>),
    /// An average of integers.
    Float(Option<f64>),
    /// A sum, average, minimum or maximum of money.
    Decimal(Option<Decimal>),
    /// A minimum or maximum of timestamps.
    Time(Option<DateTime<Utc>>),
}

impl Agg {
    fn push(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        let (f, cast) = match (self.func, self.kind) {
            (Func::Count, _) => {
                qb.push("count(*)::bigint");
                return;
            }
            (Func::DistinctCount, _) => {
                qb.push("count(DISTINCT ").push(self.expr).push(")::bigint");
                return;
            }
            (Func::Avg, Kind::Int) => ("avg", "float8"),
            (func, Kind::Int) => (fname(func), "bigint"),
            (func, Kind::Decimal) => (fname(func), "numeric"),
            (func, _) => (fname(func), "timestamptz"),
        };
        qb.push(f).push("(").push(self.expr).push(")::").push(cast);
    }

    /// Whether an empty group's value is 0 rather than NULL.
    fn counts(&self) -> bool {
        matches!(self.func, Func::Count | Func::DistinctCount)
    }

    fn decode(&self, row: &PgRow, col: &str) -> Result<AggValue, DbError> {
        Ok(match (self.func, self.kind) {
            (Func::Count | Func::DistinctCount, _) => {
                AggValue::Int(Some(row.try_get::<Option<i64>, _>(col)?.unwrap_or(0)))
            }
            (Func::Avg, Kind::Int) => AggValue::Float(row.try_get(col)?),
            (_, Kind::Int) => AggValue::Int(row.try_get(col)?),
            (_, Kind::Decimal) => AggValue::Decimal(row.try_get(col)?),
            _ => AggValue::Time(row.try_get(col)?),
        })
    }
}

fn fname(func: Func) -> &'static str {
    match func {
        Func::Sum => "sum",
        Func::Avg => "avg",
        Func::Min => "min",
        Func::Max => "max",
        Func::Count | Func::DistinctCount => "count",
    }
}

/// Static column names of the grouped rows, as [`Cond`]s and sort keys name them: `t.a{i}`
/// is aggregate `i`.
pub const ALIASES: [&str; 32] = [
    "t.a0", "t.a1", "t.a2", "t.a3", "t.a4", "t.a5", "t.a6", "t.a7", "t.a8", "t.a9", "t.a10",
    "t.a11", "t.a12", "t.a13", "t.a14", "t.a15", "t.a16", "t.a17", "t.a18", "t.a19", "t.a20",
    "t.a21", "t.a22", "t.a23", "t.a24", "t.a25", "t.a26", "t.a27", "t.a28", "t.a29", "t.a30",
    "t.a31",
];
/// Most aggregates one request computes (the length of [`ALIASES`]).
pub const MAX_AGGREGATES: usize = ALIASES.len();
/// Most keys one `groups` request groups by.
pub const MAX_KEYS: usize = 8;
const KEY_ALIASES: [&str; MAX_KEYS] = [
    "t.k0", "t.k1", "t.k2", "t.k3", "t.k4", "t.k5", "t.k6", "t.k7",
];
/// The bucket start of the grouped rows (local time).
pub const BUCKET_ALIAS: &str = "t.b";

/// The key alias of key `i`.
pub fn key_alias(i: usize) -> &'static str {
    KEY_ALIASES[i]
}

/// The FROM and WHERE of rows `scope` and `filter` select (children of all `parents`
/// together: one aggregate over their union) in `tenant`.
fn push_source(
    qb: &mut QueryBuilder<'_, Postgres>,
    tenant: Uuid,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
) {
    qb.push(" FROM ").push(table.name).push(" t WHERE ");
    tenant::push_and(qb, "t", tenant);
    match scope {
        Scope::All => {}
        Scope::Children {
            via: Via::Column(col),
            parents,
        } => {
            qb.push("t.")
                .push(col)
                .push(" = ANY(")
                .push_bind(parents.to_vec())
                .push(") AND ");
        }
        Scope::Children {
            via: Via::Pairs(pairs),
            parents,
        } => {
            qb.push("t.id IN (SELECT j.child FROM (")
                .push(pairs)
                .push(") j WHERE ");
            tenant::push_and(qb, "j", tenant);
            qb.push("j.parent = ANY(")
                .push_bind(parents.to_vec())
                .push(")) AND ");
        }
    }
    filter.push(qb, tenant);
}

/// Computes `aggs` over the rows of `table` that `scope` and `filter` select, in one
/// statement; the values come back in the order of `aggs`.
#[tracing::instrument(skip_all, fields(table = table.name, n = aggs.len()))]
pub async fn aggregate(
    tx: &mut TenantTx,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
    aggs: &[Agg],
) -> Result<Vec<AggValue>, DbError> {
    let mut qb = aggregate_statement(tx.ctx().tenant_id, table, scope, filter, aggs);
    let row = qb.build().fetch_one(tx.conn()).await?;
    aggs.iter()
        .enumerate()
        .map(|(i, a)| a.decode(&row, &format!("a{i}")))
        .collect()
}

/// The statement [`aggregate`] runs for `tenant`.
pub fn aggregate_statement(
    tenant: Uuid,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
    aggs: &[Agg],
) -> Statement {
    let mut qb = Statement::new("SELECT ");
    for (i, agg) in aggs.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        agg.push(&mut qb);
        qb.push(" AS a").push(i.to_string());
    }
    if aggs.is_empty() {
        qb.push("1");
    }
    push_source(&mut qb, tenant, table, scope, filter);
    qb
}

/// A group key: a column expression and whether it is boolean (otherwise read as text: enum
/// spellings and strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The column expression (alias `t`).
    pub expr: &'static str,
    /// A boolean column.
    pub boolean: bool,
}

/// A key's value in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// Text (an enum's stored spelling, a string).
    Text(Option<String>),
    /// A boolean.
    Bool(Option<bool>),
}

/// A time bucket: rows are grouped by the start of the `unit` their `expr` falls in, in the
/// time zone `tz` (a name checked against `pg_timezone_names`, or the tenant's when `None`).
#[derive(Debug, Clone)]
pub struct Bucket {
    /// The timestamp expression (alias `t`).
    pub expr: &'static str,
    /// `hour`, `day`, `week`, `month`, `quarter` or `year`.
    pub unit: &'static str,
    /// The time zone; the tenant's when `None`.
    pub tz: Option<String>,
    /// Return empty buckets too: between these bounds (each falling back to the data's first
    /// or last bucket when absent). The upper bound is exclusive when `hi_exclusive`.
    pub fill: Option<Fill>,
    /// The filter's bounds on `expr`, when it has both: the buckets between them are then
    /// listed once and each row finds its own by `width_bucket` (a binary search of
    /// instants) instead of converting its instant to local time (about 0.2 µs a row).
    pub span: Option<Fill>,
}

/// The interval between the starts of two `unit` buckets.
fn step(unit: &str) -> &'static str {
    match unit {
        "quarter" => "3 months",
        "week" => "1 week",
        "hour" => "1 hour",
        "day" => "1 day",
        "month" => "1 month",
        _ => "1 year",
    }
}

/// `date_trunc('<unit>', (<bound>) AT TIME ZONE <zone>)`, the local start of the bucket a
/// bound falls in (an exclusive upper bound: of the instant just before it).
fn push_local_start(
    qb: &mut QueryBuilder<'_, Postgres>,
    unit: &str,
    at: DateTime<Utc>,
    exclusive: bool,
) {
    qb.push("date_trunc('")
        .push(unit)
        .push("', (")
        .push_bind(at)
        .push("::timestamptz")
        .push(if exclusive {
            " - interval '1 microsecond'"
        } else {
            ""
        })
        .push(") AT TIME ZONE (SELECT tz FROM z))");
}

/// The range of buckets `fillGaps` returns.
#[derive(Debug, Clone, Default)]
pub struct Fill {
    /// Lower bound (inclusive).
    pub lo: Option<DateTime<Utc>>,
    /// Upper bound.
    pub hi: Option<DateTime<Utc>>,
    /// The upper bound itself is excluded (`lt`).
    pub hi_exclusive: bool,
}

/// A `groups` request in lowered form.
#[derive(Debug, Clone)]
pub struct GroupQuery<'a> {
    /// Keys to group by.
    pub keys: &'a [Key],
    /// The time bucket, if any.
    pub bucket: Option<Bucket>,
    /// Aggregates per group (`t.a{i}` in `having` and `order`).
    pub aggs: &'a [Agg],
    /// Which groups, over [`ALIASES`], [`key_alias`] and [`BUCKET_ALIAS`].
    pub having: Cond,
    /// Sort: alias and descending, in priority order (keys and bucket follow as ties).
    pub order: Vec<(&'static str, bool)>,
    /// Most groups returned.
    pub limit: i64,
}

/// One group: its keys, its bucket start and its aggregates.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Key values, in the order of [`GroupQuery::keys`].
    pub keys: Vec<KeyValue>,
    /// The bucket's start, when bucketed.
    pub bucket: Option<DateTime<Utc>>,
    /// Aggregates, in the order of [`GroupQuery::aggs`].
    pub values: Vec<AggValue>,
}

/// Groups, each with its aggregates, in one statement; `total` is how many groups matched
/// before the limit.
#[tracing::instrument(skip_all, fields(table = table.name))]
pub async fn groups(
    tx: &mut TenantTx,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
    q: &GroupQuery<'_>,
) -> Result<(Vec<GroupRow>, i64), DbError> {
    let mut qb = groups_statement(tx.ctx().tenant_id, table, scope, filter, q);
    let rows = qb.build().fetch_all(tx.conn()).await?;
    decode_groups(&rows, q)
}

/// The statement [`groups`] runs for `tenant`.
pub fn groups_statement(
    tenant: Uuid,
    table: &Table,
    scope: Scope<'_>,
    filter: &Cond,
    q: &GroupQuery<'_>,
) -> Statement {
    let mut qb = Statement::new("WITH z AS (SELECT ");
    match q.bucket.as_ref().and_then(|b| b.tz.clone()) {
        Some(tz) => qb.push_bind(tz).push("::text"),
        // `tenants` is distributed by `id`: naming the tenant routes this read with the rest.
        None => qb
            .push("(SELECT timezone FROM app.tenants WHERE id = ")
            .push_bind(tenant)
            .push(")"),
    };
    qb.push(" AS tz)");
    let span = q.bucket.as_ref().and_then(|b| Some((b, b.span.as_ref()?)));
    if let Some((
        b,
        Fill {
            lo: Some(lo),
            hi: Some(hi),
            hi_exclusive,
        },
    )) = span
    {
        // Every bucket the filter's range touches: local starts, and the instants they begin.
        qb.push(", p AS (SELECT array_agg(s AT TIME ZONE (SELECT tz FROM z) ORDER BY s) AS utc, ")
            .push("array_agg(s ORDER BY s) AS local FROM generate_series(");
        push_local_start(&mut qb, b.unit, *lo, false);
        qb.push(", ");
        push_local_start(&mut qb, b.unit, *hi, *hi_exclusive);
        qb.push(", interval '").push(step(b.unit)).push("') s)");
    }
    qb.push(", g AS (SELECT ");
    let mut group_by = Vec::new();
    for (i, key) in q.keys.iter().enumerate() {
        qb.push(key.expr)
            .push(if key.boolean { "::boolean" } else { "::text" })
            .push(" AS k")
            .push(i.to_string())
            .push(", ");
        group_by.push((i + 1).to_string());
    }
    if let Some(b) = &q.bucket {
        if matches!(
            span,
            Some((
                _,
                Fill {
                    lo: Some(_),
                    hi: Some(_),
                    ..
                }
            ))
        ) {
            qb.push("(SELECT local FROM p)[width_bucket(")
                .push(b.expr)
                .push(", (SELECT utc FROM p))] AS b, ");
        } else {
            qb.push("date_trunc('")
                .push(b.unit)
                .push("', ")
                .push(b.expr)
                .push(" AT TIME ZONE (SELECT tz FROM z)) AS b, ");
        }
        group_by.push((q.keys.len() + 1).to_string());
    }
    for (i, agg) in q.aggs.iter().enumerate() {
        agg.push(&mut qb);
        qb.push(" AS a").push(i.to_string()).push(", ");
    }
    qb.push("1 AS _one");
    push_source(&mut qb, tenant, table, scope, filter);
    if !group_by.is_empty() {
        qb.push(" GROUP BY ").push(group_by.join(", "));
    }
    qb.push(")");
    let mut from = "g";
    if let Some(
        b @ Bucket {
            fill: Some(fill), ..
        },
    ) = &q.bucket
    {
        from = "f";
        qb.push(", s AS (SELECT generate_series(");
        match fill.lo {
            Some(lo) => push_local_start(&mut qb, b.unit, lo, false),
            None => {
                qb.push("(SELECT min(b) FROM g)");
            }
        };
        qb.push(", ");
        match fill.hi {
            Some(hi) => push_local_start(&mut qb, b.unit, hi, fill.hi_exclusive),
            None => {
                qb.push("(SELECT max(b) FROM g)");
            }
        };
        qb.push(", interval '").push(step(b.unit)).push("') AS b)");
        let keys: Vec<String> = (0..q.keys.len()).map(|i| format!("k{i}")).collect();
        qb.push(", f AS (SELECT ");
        for k in &keys {
            qb.push("k.").push(k).push(", ");
        }
        qb.push("s.b, ");
        for (i, agg) in q.aggs.iter().enumerate() {
            if agg.counts() {
                qb.push(format!("coalesce(g.a{i}, 0) AS a{i}, "));
            } else {
                qb.push(format!("g.a{i}, "));
            }
        }
        qb.push("1 AS _one FROM s");
        if keys.is_empty() {
            qb.push(" LEFT JOIN g ON g.b = s.b");
        } else {
            qb.push(" CROSS JOIN (SELECT DISTINCT ")
                .push(keys.join(", "))
                .push(" FROM g) k LEFT JOIN g ON g.b = s.b");
            for k in &keys {
                qb.push(format!(" AND g.{k} IS NOT DISTINCT FROM k.{k}"));
            }
        }
        qb.push(")");
    }
    qb.push(" SELECT t.*, count(*) OVER () AS _total");
    if q.bucket.is_some() {
        qb.push(", (t.b AT TIME ZONE (SELECT tz FROM z)) AS _start");
    }
    qb.push(" FROM ").push(from).push(" t WHERE ");
    q.having.push(&mut qb, tenant);
    let mut order: Vec<String> = q
        .order
        .iter()
        .map(|(alias, desc)| format!("{alias} {} NULLS LAST", if *desc { "DESC" } else { "ASC" }))
        .collect();
    if q.bucket.is_some() {
        order.push("t.b ASC".into());
    }
    order.extend((0..q.keys.len()).map(|i| format!("t.k{i} ASC NULLS LAST")));
    if !order.is_empty() {
        qb.push(" ORDER BY ").push(order.join(", "));
    }
    qb.push(" LIMIT ").push_bind(q.limit);
    qb
}

/// The groups of [`groups`]' rows, and how many matched.
fn decode_groups(rows: &[PgRow], q: &GroupQuery<'_>) -> Result<(Vec<GroupRow>, i64), DbError> {
    let mut total = 0;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        total = row.try_get("_total")?;
        let keys = q
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let col = format!("k{i}");
                Ok(if k.boolean {
                    KeyValue::Bool(row.try_get(col.as_str())?)
                } else {
                    KeyValue::Text(row.try_get(col.as_str())?)
                })
            })
            .collect::<Result<_, DbError>>()?;
        let bucket = match q.bucket {
            Some(_) => row.try_get("_start")?,
            None => None,
        };
        let values = q
            .aggs
            .iter()
            .enumerate()
            .map(|(i, a)| a.decode(row, &format!("a{i}")))
            .collect::<Result<_, _>>()?;
        out.push(GroupRow {
            keys,
            bucket,
            values,
        });
    }
    Ok((out, total))
}

/// Whether PostgreSQL knows time zone `name` (`pg_timezone_names`).
pub async fn time_zone_exists(tx: &mut TenantTx, name: &str) -> Result<bool, DbError> {
    let row = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
    )
    .bind(name)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// A condition on a parent row's related rows ([`Cond::Related`]): the aggregates of its
/// children that `filter` selects satisfy `having` (over [`ALIASES`]). Rendered as membership
/// of the parent id in the grouped children, one hashed semi-join for every parent; when a
/// parent without children would satisfy `having` (e.g. `count: { eq: 0 }`), as
/// non-membership among the parents whose children fail it.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// The children's table.
    pub table: &'static str,
    /// How a child is tied to its parent.
    pub via: Via,
    /// Which children count.
    pub filter: Cond,
    /// Aggregates per parent (`t.a{i}` in `having`).
    pub aggs: Vec<Agg>,
    /// The condition on them.
    pub having: Cond,
}

impl Related {
    pub(super) fn push(&self, qb: &mut QueryBuilder<'_, Postgres>, tenant: Uuid) {
        // Whether a parent without children satisfies `having`: evaluated by the database on
        // the aggregates of an empty set.
        qb.push("(CASE WHEN (SELECT coalesce(");
        self.having.push(qb, tenant);
        qb.push(", false) FROM (SELECT 1 AS _one");
        for (i, agg) in self.aggs.iter().enumerate() {
            let empty = match (agg.func, agg.kind) {
                (Func::Count | Func::DistinctCount, _) => "0::bigint",
                (Func::Avg, Kind::Int) => "NULL::float8",
                (_, Kind::Int) => "NULL::bigint",
                (_, Kind::Decimal) => "NULL::numeric",
                _ => "NULL::timestamptz",
            };
            qb.push(", ").push(empty).push(format!(" AS a{i}"));
        }
        qb.push(") t) THEN NOT coalesce(t.id IN (");
        self.push_set(qb, true, tenant);
        qb.push("), false) ELSE coalesce(t.id IN (");
        self.push_set(qb, false, tenant);
        qb.push("), false) END)");
    }

    /// The parents whose children's aggregates satisfy `having` (or, `negate`d, fail it).
    fn push_set(&self, qb: &mut QueryBuilder<'_, Postgres>, negate: bool, tenant: Uuid) {
        qb.push("SELECT t._parent FROM (SELECT ");
        match self.via {
            Via::Column(col) => qb.push("t.").push(col),
            Via::Pairs(_) => qb.push("j.parent"),
        };
        qb.push(" AS _parent");
        for (i, agg) in self.aggs.iter().enumerate() {
            qb.push(", ");
            agg.push(qb);
            qb.push(format!(" AS a{i}"));
        }
        match self.via {
            Via::Column(col) => {
                qb.push(" FROM ").push(self.table).push(" t WHERE ");
                tenant::push_and(qb, "t", tenant);
                qb.push("t.").push(col).push(" IS NOT NULL AND ");
            }
            Via::Pairs(pairs) => {
                qb.push(" FROM (")
                    .push(pairs)
                    .push(") j JOIN ")
                    .push(self.table)
                    .push(" t ON t.id = j.child WHERE ");
                tenant::push_and(qb, "j", tenant);
                tenant::push_and(qb, "t", tenant);
            }
        }
        self.filter.push(qb, tenant);
        qb.push(" GROUP BY 1) t WHERE ");
        if negate {
            qb.push("NOT coalesce(");
            self.having.push(qb, tenant);
            qb.push(", false)");
        } else {
            self.having.push(qb, tenant);
        }
    }
}
