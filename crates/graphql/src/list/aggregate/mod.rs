//! `aggregate` and `groups` on every connection, derived from the entity's filter declaration.
//!
//! Each filter line of an `entity!` declaration (`deal_value: DecimalFilter`) becomes an
//! [`AggField`]: its filter type says what the column is ([`FieldKind`]: `IntFilter` and
//! `DecimalFilter` are numeric, `DateTimeFilter` is time, enum filters, `BooleanFilter` and
//! `StringFilter` can be grouped by), so no entity declares anything for aggregates. The
//! per-entity schema types (`LeadAggregate`, `LeadSumFields`, `LeadGroupKeys`, …) are
//! registered from that list ([`meta`]); their resolvers read values computed up front.
//!
//! The aggregates computed are exactly those the selection names (looked ahead), in one
//! statement per `aggregate` or `groups` field, over the connection's filtered rows (paging
//! ignored) in the request's tenant transaction, so row-level security scopes them like the
//! rows.
//!
//! Types: `count` and `distinctCount` are `Int`; `sum`, `min` and `max` have the column's type
//! (`Int`, `Decimal`, `DateTime`); `avg` of an integer column is `Float`, of money `Decimal`.

pub(crate) mod groups;
pub(crate) mod having;
pub(crate) mod meta;
mod output;
pub mod relation;

use std::collections::HashMap;

use async_graphql::registry::Registry;
use async_graphql::{InputType, OutputType, SelectionField, Value};
use frontdesk_db::query::aggregate::{self as db, Agg, AggValue, Func};
use frontdesk_db::query::{Cond, Scope};

use crate::entity::Entity;
use crate::list::filter::{Budget, ColumnFilter};
use crate::query::Resolve;
use crate::ApiError;

pub use output::{Aggregate, Fields, Group, GroupKeys};

/// What a filtered column is, as its filter type tells.
#[derive(Clone, Copy)]
pub enum FieldKind {
    /// Not aggregated (tags, JSON, computed conditions).
    None,
    /// An id: distinct counts.
    Id,
    /// Text: distinct counts, groups.
    Text,
    /// An integer: sums, averages (`Float`), minima, maxima, distinct counts.
    Int,
    /// Money: sums, averages, minima, maxima (all `Decimal`), distinct counts.
    Decimal,
    /// A timestamp: minima, maxima, distinct counts, time buckets.
    Time,
    /// A boolean: distinct counts, groups.
    Bool,
    /// An enum: distinct counts, groups (keys typed with the enum).
    Enum(EnumKey),
}

impl std::fmt::Debug for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            FieldKind::None => "None",
            FieldKind::Id => "Id",
            FieldKind::Text => "Text",
            FieldKind::Int => "Int",
            FieldKind::Decimal => "Decimal",
            FieldKind::Time => "Time",
            FieldKind::Bool => "Bool",
            FieldKind::Enum(_) => "Enum",
        };
        f.write_str(name)
    }
}

/// How an enum column's stored spelling becomes its typed GraphQL value.
#[derive(Clone, Copy, Debug)]
pub struct EnumKey {
    /// Registers the enum type and returns its name.
    pub register: fn(&mut Registry) -> String,
    /// The GraphQL value of a stored spelling.
    pub value: fn(&str) -> Option<Value>,
}

impl EnumKey {
    /// The key of enum `E`.
    pub fn of<E: crate::types::enums::DbEnum + OutputType + InputType + FromDb>() -> Self {
        Self {
            register: |r| <E as OutputType>::create_type_info(r),
            value: |s| E::parse_db(s).map(|e| InputType::to_value(&e)),
        }
    }
}

/// Reads an enum back from its stored spelling (implemented by every `db_enum!`).
pub trait FromDb: Sized {
    /// The variant stored as `s`.
    fn parse_db(s: &str) -> Option<Self>;
}

/// One filtered column of an entity, as aggregates see it (generated from the filter lines).
#[derive(Clone, Copy)]
pub struct AggField {
    /// The field name (snake_case).
    pub name: &'static str,
    /// The column expression (alias `t`).
    pub expr: &'static str,
    /// What it is.
    pub kind: FieldKind,
    /// Registers its filter input type (the declared one) and returns its name.
    pub filter_type: fn(&mut Registry) -> String,
    /// Parses a value of that filter and lowers it on column `col` (for `having`).
    pub lower: LowerFn,
}

/// See [`AggField::lower`].
pub type LowerFn = fn(&Value, &'static str, &mut Vec<Cond>, &mut Budget) -> Result<(), ApiError>;

impl std::fmt::Debug for AggField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AggField({} {:?})", self.name, self.kind)
    }
}

/// Parses `v` as filter `F` and lowers it on `col`.
pub fn lower_as<F: ColumnFilter + InputType>(
    v: &Value,
    col: &'static str,
    out: &mut Vec<Cond>,
    budget: &mut Budget,
) -> Result<(), ApiError> {
    let f = F::parse(Some(v.clone()))
        .map_err(|e| budget.refuse(e.into_server_error(Default::default()).message))?;
    f.lower(col, out, budget)
}

impl AggField {
    /// The database kind of the column.
    fn db_kind(&self) -> db::Kind {
        match self.kind {
            FieldKind::Int => db::Kind::Int,
            FieldKind::Decimal => db::Kind::Decimal,
            FieldKind::Time => db::Kind::Time,
            _ => db::Kind::Other,
        }
    }

    /// Whether `func` applies to this field.
    pub(crate) fn supports(&self, func: Func) -> bool {
        match func {
            Func::Count => false,
            Func::DistinctCount => !matches!(self.kind, FieldKind::None),
            Func::Sum | Func::Avg => matches!(self.kind, FieldKind::Int | FieldKind::Decimal),
            Func::Min | Func::Max => {
                matches!(
                    self.kind,
                    FieldKind::Int | FieldKind::Decimal | FieldKind::Time
                )
            }
        }
    }

    /// Whether groups can be keyed by it.
    pub(crate) fn groupable(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Text | FieldKind::Bool | FieldKind::Enum(_)
        )
    }

    /// The GraphQL type of `func` over this field (nullable), registering what it needs.
    pub(crate) fn result_type(&self, func: Func, registry: &mut Registry) -> String {
        match (func, self.kind) {
            (Func::Count | Func::DistinctCount, _) => "Int!".into(),
            (Func::Avg, FieldKind::Int) => <f64 as OutputType>::create_type_info(registry)
                .trim_end_matches('!')
                .into(),
            (_, FieldKind::Int) => "Int".into(),
            (_, FieldKind::Decimal) => {
                <rust_decimal::Decimal as OutputType>::create_type_info(registry)
                    .trim_end_matches('!')
                    .into()
            }
            _ => <chrono::DateTime<chrono::Utc> as OutputType>::create_type_info(registry)
                .trim_end_matches('!')
                .into(),
        }
    }
}

/// The functions with per-field sub-objects, with their GraphQL names.
pub(crate) const FUNCS: [(Func, &str, &str); 5] = [
    (Func::DistinctCount, "distinctCount", "DistinctCount"),
    (Func::Sum, "sum", "Sum"),
    (Func::Avg, "avg", "Avg"),
    (Func::Min, "min", "Min"),
    (Func::Max, "max", "Max"),
];

/// The GraphQL value of a computed aggregate.
pub(crate) fn to_value(v: &AggValue) -> Value {
    use async_graphql::ScalarType;
    match v {
        AggValue::Int(Some(n)) => Value::from(*n),
        AggValue::Float(Some(x)) => Value::from(*x),
        AggValue::Decimal(Some(d)) => ScalarType::to_value(d),
        AggValue::Time(Some(t)) => ScalarType::to_value(t),
        _ => Value::Null,
    }
}

/// The aggregates a request computes, each once, with where each is found.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub aggs: Vec<Agg>,
    /// (function, field index or `usize::MAX` for `count`) → position in `aggs`.
    pub index: HashMap<(Func, usize), usize>,
}

impl Plan {
    /// Adds an aggregate (once) and returns its position.
    pub(crate) fn add<T: Entity>(&mut self, func: Func, field: usize) -> Result<usize, ApiError> {
        if let Some(i) = self.index.get(&(func, field)) {
            return Ok(*i);
        }
        if self.aggs.len() >= db::MAX_AGGREGATES {
            return Err(ApiError::BadUserInput {
                field: "aggregate".into(),
                message: format!("at most {} aggregates per field", db::MAX_AGGREGATES),
            });
        }
        let agg = match T::aggregate_fields().get(field) {
            Some(f) => Agg {
                func,
                expr: f.expr,
                kind: f.db_kind(),
            },
            None => Agg {
                func: Func::Count,
                expr: "",
                kind: db::Kind::Other,
            },
        };
        self.aggs.push(agg);
        self.index.insert((func, field), self.aggs.len() - 1);
        Ok(self.aggs.len() - 1)
    }

    /// Adds what the selection of an aggregate object (`count`, `sum { … }`, …) names.
    pub(crate) fn select<T: Entity>(&mut self, sel: SelectionField<'_>) -> Result<(), ApiError> {
        for f in sel.selection_set() {
            if f.name() == "count" {
                self.add::<T>(Func::Count, usize::MAX)?;
                continue;
            }
            let Some((func, _, _)) = FUNCS.iter().find(|(_, n, _)| *n == f.name()) else {
                continue;
            };
            for g in f.selection_set() {
                if let Some(i) = field_index::<T>(g.name()) {
                    self.add::<T>(*func, i)?;
                }
            }
        }
        Ok(())
    }

    /// The computed values by (function, field).
    pub(crate) fn values(&self, values: &[AggValue]) -> HashMap<(Func, usize), Value> {
        self.index
            .iter()
            .map(|(k, i)| (*k, values.get(*i).map(to_value).unwrap_or(Value::Null)))
            .collect()
    }
}

/// The position of the field whose GraphQL name is `name`.
pub(crate) fn field_index<T: Entity>(name: &str) -> Option<usize> {
    T::aggregate_fields()
        .iter()
        .position(|f| meta::camel(f.name) == name)
}

/// `aggregate` of a connection: the selected aggregates over the rows `scope` and `cond` select.
pub(crate) async fn aggregate<T: Entity>(
    r: &Resolve<'_>,
    sel: SelectionField<'_>,
    scope: Scope<'_>,
    cond: &Cond,
) -> Result<Aggregate<T>, ApiError> {
    let mut plan = Plan::default();
    plan.select::<T>(sel)?;
    if plan.aggs.is_empty() {
        return Ok(Aggregate::new(HashMap::new()));
    }
    let values = {
        let mut tx = r.session.tx().await?;
        db::aggregate(&mut tx, T::table(), scope, cond, &plan.aggs).await?
    };
    Ok(Aggregate::new(plan.values(&values)))
}
