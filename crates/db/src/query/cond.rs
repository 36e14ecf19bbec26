//! Filter conditions as a tree, rendered to SQL with every value bound.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// A value compared against a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `uuid`
    Uuid(Uuid),
    /// `text`
    Text(String),
    /// Any integer column.
    Int(i64),
    /// `numeric`
    Decimal(Decimal),
    /// `timestamptz`
    Timestamp(DateTime<Utc>),
    /// `boolean`
    Bool(bool),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>` (NULLs do not match, as in SQL)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => " = ",
            CmpOp::Ne => " <> ",
            CmpOp::Lt => " < ",
            CmpOp::Lte => " <= ",
            CmpOp::Gt => " > ",
            CmpOp::Gte => " >= ",
        }
    }
}

/// A condition on the rows of one table (alias `t`). Columns are static SQL from our code.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// Always true (an empty filter).
    True,
    /// All of them.
    And(Vec<Cond>),
    /// Any of them (an empty list is false).
    Or(Vec<Cond>),
    /// The negation (`NOT coalesce(c, false)`, so NULL comparisons negate to true).
    Not(Box<Cond>),
    /// `col op value`
    Cmp(&'static str, CmpOp, Value),
    /// `col = ANY(values)`, or its negation.
    In(&'static str, Vec<Value>, bool),
    /// `col [I]LIKE pattern` (the caller's pattern, `%` and `_` included).
    Like {
        /// Column.
        col: &'static str,
        /// LIKE pattern.
        pattern: String,
        /// ILIKE instead of LIKE.
        insensitive: bool,
    },
    /// `col IS NULL` when true, `IS NOT NULL` when false.
    IsNull(&'static str, bool),
    /// `jsonb_col @> value`
    JsonContains(&'static str, serde_json::Value),
    /// `jsonb_col ?| keys` (any) or `?& keys` (all).
    JsonHasKeys(&'static str, Vec<String>, bool),
    /// `array_col && values` (any shared element) or `@> values` (all of them).
    ArrayHas(&'static str, Vec<String>, bool),
    /// `cardinality(array_col) = 0` when true.
    ArrayEmpty(&'static str, bool),
    /// Full-text match of `websearch_to_tsquery('simple', query)` on a tsvector column.
    Search(&'static str, String),
    /// A condition no operator above expresses (a correlated `EXISTS`, a function of the
    /// acting user): static SQL from our code with bound values between, rendered in order
    /// inside parentheses.
    Raw(Vec<RawPart>),
    /// Aggregates of related rows satisfy a condition (relation filters).
    Related(Box<super::aggregate::Related>),
}

/// A piece of [`Cond::Raw`].
#[derive(Debug, Clone, PartialEq)]
pub enum RawPart {
    /// SQL text, from our code only.
    Sql(&'static str),
    /// A bound parameter.
    Bind(Value),
    /// The scope's tenant, bound: for a subquery that must name the tenant itself because the
    /// planner may run it apart from the outer row (a hashed subplan under an `OR`).
    Tenant,
}

impl Cond {
    /// Appends the condition as one parenthesised boolean expression; tables it reads itself
    /// (relation filters) carry `tenant` as an explicit predicate.
    pub fn push(&self, qb: &mut QueryBuilder<'_, Postgres>, tenant: Uuid) {
        match self {
            Cond::True => {
                qb.push("TRUE");
            }
            Cond::And(items) => join(qb, items, " AND ", "TRUE", tenant),
            Cond::Or(items) => join(qb, items, " OR ", "FALSE", tenant),
            Cond::Not(inner) => {
                qb.push("NOT coalesce(");
                inner.push(qb, tenant);
                qb.push(", false)");
            }
            Cond::Cmp(col, op, value) => {
                qb.push("(").push(*col).push(op.sql());
                push_value(qb, value);
                qb.push(")");
            }
            Cond::In(col, values, negate) => push_in(qb, col, values, *negate),
            Cond::Like {
                col,
                pattern,
                insensitive,
            } => {
                qb.push("(")
                    .push(*col)
                    .push(if *insensitive { " ILIKE " } else { " LIKE " })
                    .push_bind(pattern.clone())
                    .push(")");
            }
            Cond::IsNull(col, is_null) => {
                qb.push("(").push(*col).push(if *is_null {
                    " IS NULL)"
                } else {
                    " IS NOT NULL)"
                });
            }
            Cond::JsonContains(col, value) => {
                qb.push("(")
                    .push(*col)
                    .push(" @> ")
                    .push_bind(sqlx::types::Json(value.clone()))
                    .push("::jsonb)");
            }
            Cond::JsonHasKeys(col, keys, all) => {
                qb.push("(")
                    .push(*col)
                    .push(if *all { " ?& " } else { " ?| " })
                    .push_bind(keys.clone())
                    .push("::text[])");
            }
            Cond::ArrayHas(col, values, all) => {
                qb.push("(")
                    .push(*col)
                    .push(if *all { " @> " } else { " && " })
                    .push_bind(values.clone())
                    .push("::text[])");
            }
            Cond::ArrayEmpty(col, empty) => {
                qb.push("((cardinality(")
                    .push(*col)
                    .push(") = 0) = ")
                    .push(if *empty { "TRUE)" } else { "FALSE)" });
            }
            Cond::Search(col, query) => {
                qb.push("(")
                    .push(*col)
                    .push(" @@ websearch_to_tsquery('simple', ")
                    .push_bind(query.clone())
                    .push("))");
            }
            Cond::Related(related) => related.push(qb, tenant),
            Cond::Raw(parts) => {
                qb.push("(");
                for part in parts {
                    match part {
                        RawPart::Sql(sql) => {
                            qb.push(*sql);
                        }
                        RawPart::Bind(value) => push_value(qb, value),
                        RawPart::Tenant => {
                            qb.push_bind(tenant);
                        }
                    }
                }
                qb.push(")");
            }
        }
    }
}

fn join(qb: &mut QueryBuilder<'_, Postgres>, items: &[Cond], sep: &str, empty: &str, tenant: Uuid) {
    if items.is_empty() {
        qb.push(empty);
        return;
    }
    qb.push("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            qb.push(sep);
        }
        item.push(qb, tenant);
    }
    qb.push(")");
}

fn push_value(qb: &mut QueryBuilder<'_, Postgres>, value: &Value) {
    match value {
        Value::Uuid(v) => qb.push_bind(*v),
        Value::Text(v) => qb.push_bind(v.clone()),
        Value::Int(v) => qb.push_bind(*v),
        Value::Decimal(v) => qb.push_bind(*v),
        Value::Timestamp(v) => qb.push_bind(*v),
        Value::Bool(v) => qb.push_bind(*v),
    };
}

/// `col = ANY($n)` with one array parameter of the values' type; mixed types cannot occur
/// (each filter field has one type), and an empty list matches nothing.
fn push_in(qb: &mut QueryBuilder<'_, Postgres>, col: &str, values: &[Value], negate: bool) {
    if values.is_empty() {
        qb.push(if negate { "TRUE" } else { "FALSE" });
        return;
    }
    qb.push(if negate { "NOT coalesce(" } else { "(" })
        .push(col)
        .push(" = ANY(");
    macro_rules! bind_all {
        ($variant:ident) => {
            qb.push_bind(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::$variant(x) => Some(x.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )
        };
    }
    match &values[0] {
        Value::Uuid(_) => bind_all!(Uuid),
        Value::Text(_) => bind_all!(Text),
        Value::Int(_) => bind_all!(Int),
        Value::Decimal(_) => bind_all!(Decimal),
        Value::Timestamp(_) => bind_all!(Timestamp),
        Value::Bool(_) => bind_all!(Bool),
    };
    qb.push(if negate { "), false)" } else { "))" });
}
