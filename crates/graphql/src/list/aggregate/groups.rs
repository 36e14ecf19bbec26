//! `groups` of a connection: rows grouped by keys and an optional time bucket cut in a time
//! zone, each group with its aggregates, in one statement.
//!
//! Limits are checked before any SQL: at most [`MAX_GROUPS`] groups (`first` defaults to and
//! caps at it; with `fillGaps` and a bounded filter the bucket count is computed up front),
//! and `HOUR` buckets only over a filter bounding the bucket field on both sides. The time
//! zone defaults to the tenant's; a given one must be known to `pg_timezone_names`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Mutex;

use async_graphql::registry::Registry;
use async_graphql::{Enum, InputType, InputValueError, InputValueResult, SelectionField, Value};
use chrono::{DateTime, Datelike, Utc};
use frontdesk_db::query::aggregate::{
    self as db, Bucket, Fill, Func, GroupQuery, Key, KeyValue, ALIASES, BUCKET_ALIAS,
};
use frontdesk_db::query::{CmpOp, Cond, Scope, Value as DbValue};

use super::having::Having;
use super::meta::{self, camel, upper};
use super::{FieldKind, Group, Plan, FUNCS};
use crate::entity::Entity;
use crate::list::order::OrderDirection;
use crate::query::Resolve;
use crate::ApiError;

/// Most groups one `groups` field returns.
pub const MAX_GROUPS: i32 = 1000;

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadUserInput {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The length of a time bucket.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum BucketUnit {
    /// An hour (needs a filter bounding the bucket field on both sides).
    Hour,
    /// A calendar day.
    Day,
    /// An ISO week (from Monday).
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

impl BucketUnit {
    fn sql(self) -> &'static str {
        match self {
            BucketUnit::Hour => "hour",
            BucketUnit::Day => "day",
            BucketUnit::Week => "week",
            BucketUnit::Month => "month",
            BucketUnit::Quarter => "quarter",
            BucketUnit::Year => "year",
        }
    }

    /// Buckets between `lo` and `hi`, at most one more than exact (time zones shift the
    /// boundaries by less than a bucket).
    fn count(self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> i64 {
        let secs = (hi - lo).num_seconds().max(0);
        let months =
            i64::from(hi.year() - lo.year()) * 12 + i64::from(hi.month0()) - i64::from(lo.month0());
        match self {
            BucketUnit::Hour => secs / 3600 + 2,
            BucketUnit::Day => secs / 86_400 + 2,
            BucketUnit::Week => secs / 604_800 + 2,
            BucketUnit::Month => months + 1,
            BucketUnit::Quarter => months / 3 + 2,
            BucketUnit::Year => i64::from(hi.year() - lo.year()) + 1,
        }
    }
}

/// A field picked from an entity's declaration by a generated enum (`<Entity>GroupField`,
/// `<Entity>TimeField`): `M` says which fields qualify.
pub struct Pick<T, const M: u8>(usize, PhantomData<fn() -> T>);

impl<T, const M: u8> Clone for Pick<T, M> {
    fn clone(&self) -> Self {
        Self(self.0, PhantomData)
    }
}

const GROUP: u8 = 0;
const TIME: u8 = 1;

/// `by` elements.
pub type GroupField<T> = Pick<T, GROUP>;
/// `bucket.field`.
pub type TimeField<T> = Pick<T, TIME>;

impl<T: Entity, const M: u8> Pick<T, M> {
    fn qualifies(f: &super::AggField) -> bool {
        if M == GROUP {
            f.groupable()
        } else {
            matches!(f.kind, FieldKind::Time)
        }
    }
}

impl<T: Entity, const M: u8> InputType for Pick<T, M> {
    type RawValueType = usize;

    fn type_name() -> Cow<'static, str> {
        let what = if M == GROUP {
            "GroupField"
        } else {
            "TimeField"
        };
        format!("{}{what}", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let values = T::aggregate_fields()
            .iter()
            .filter(|f| Self::qualifies(f))
            .map(|f| (upper(f.name), format!("`{}`.", camel(f.name))))
            .collect();
        let doc = if M == GROUP {
            format!("Fields {} rows can be grouped by.", T::NAME)
        } else {
            format!("Time fields {} rows can be bucketed by.", T::NAME)
        };
        meta::enumeration(registry, &Self::type_name(), &doc, values);
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let Some(Value::Enum(name)) = value else {
            return Err(InputValueError::expected_type(value.unwrap_or_default()));
        };
        T::aggregate_fields()
            .iter()
            .position(|f| Self::qualifies(f) && upper(f.name) == name.as_str())
            .map(|i| Pick(i, PhantomData))
            .ok_or_else(|| InputValueError::custom(format!("unknown value {name}")))
    }

    fn to_value(&self) -> Value {
        Value::Enum(async_graphql::Name::new(upper(
            T::aggregate_fields()[self.0].name,
        )))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }
}

/// `bucket`: `{ field, unit }`.
pub struct BucketArg<T> {
    field: TimeField<T>,
    unit: BucketUnit,
}

impl<T: Entity> InputType for BucketArg<T> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        format!("{}Bucket", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let field = TimeField::<T>::create_type_info(registry);
        let unit = BucketUnit::create_type_info(registry);
        let doc = format!("A time bucket for groups of {} rows.", T::NAME);
        meta::input(
            registry,
            &Self::type_name(),
            &doc,
            vec![
                (
                    meta::Field::new("field", "The time field to bucket by.", field),
                    None,
                ),
                (meta::Field::new("unit", "The bucket length.", unit), None),
            ],
        );
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let Some(Value::Object(mut obj)) = value else {
            return Err(InputValueError::expected_type(value.unwrap_or_default()));
        };
        Ok(Self {
            field: TimeField::<T>::parse(obj.shift_remove("field"))
                .map_err(InputValueError::propagate)?,
            unit: BucketUnit::parse(obj.shift_remove("unit"))
                .map_err(InputValueError::propagate)?,
        })
    }

    fn to_value(&self) -> Value {
        let mut obj = async_graphql::indexmap::IndexMap::new();
        obj.insert(async_graphql::Name::new("field"), self.field.to_value());
        obj.insert(async_graphql::Name::new("unit"), self.unit.to_value());
        Value::Object(obj)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// What a group order sorts by.
#[derive(Clone, Copy, Debug)]
enum OrderTarget {
    Count,
    Bucket,
    Key(usize),
    Agg(Func, usize),
}

/// `orderBy` elements of `groups`: `{ field: <Entity>GroupOrderField, direction }`.
pub struct GroupOrder<T> {
    target: OrderTarget,
    desc: bool,
    _t: PhantomData<fn() -> T>,
}

fn order_values<T: Entity>() -> Vec<(String, String, OrderTarget)> {
    let fields = T::aggregate_fields();
    let mut v = vec![
        (
            "COUNT".to_owned(),
            "The number of rows.".to_owned(),
            OrderTarget::Count,
        ),
        (
            "BUCKET".to_owned(),
            "The bucket start.".to_owned(),
            OrderTarget::Bucket,
        ),
    ];
    for (i, f) in fields.iter().enumerate().filter(|(_, f)| f.groupable()) {
        v.push((
            upper(f.name),
            format!("The `{}` key.", camel(f.name)),
            OrderTarget::Key(i),
        ));
    }
    for (func, gname, _) in &FUNCS[1..] {
        for (i, f) in fields.iter().enumerate().filter(|(_, f)| f.supports(*func)) {
            v.push((
                format!("{}_{}", upper(gname), upper(f.name)),
                format!("The {gname} of `{}`.", camel(f.name)),
                OrderTarget::Agg(*func, i),
            ));
        }
    }
    v
}

impl<T: Entity> InputType for GroupOrder<T> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        format!("{}GroupOrder", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let field_enum = format!("{}GroupOrderField", T::NAME);
        let values = order_values::<T>()
            .into_iter()
            .map(|(n, d, _)| (n, d))
            .collect();
        let doc = format!("What groups of {} rows can be sorted by.", T::NAME);
        meta::enumeration(registry, &field_enum, &doc, values);
        let dir = OrderDirection::create_type_info(registry);
        meta::input(
            registry,
            &Self::type_name(),
            &format!("A sort key of groups of {} rows.", T::NAME),
            vec![
                (
                    meta::Field::new("field", "What to sort by.", format!("{field_enum}!")),
                    None,
                ),
                (
                    meta::Field::new(
                        "direction",
                        "The direction (ascending unless given).",
                        dir.trim_end_matches('!'),
                    ),
                    Some("ASC"),
                ),
            ],
        );
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let Some(Value::Object(mut obj)) = value else {
            return Err(InputValueError::expected_type(value.unwrap_or_default()));
        };
        let Some(Value::Enum(name)) = obj.shift_remove("field") else {
            return Err(InputValueError::custom("`field` is required"));
        };
        let target = order_values::<T>()
            .into_iter()
            .find(|(n, _, _)| n == name.as_str())
            .map(|(_, _, t)| t)
            .ok_or_else(|| InputValueError::custom(format!("unknown value {name}")))?;
        let dir = match obj.shift_remove("direction") {
            None | Some(Value::Null) => OrderDirection::Asc,
            v => OrderDirection::parse(v).map_err(InputValueError::propagate)?,
        };
        Ok(Self {
            target,
            desc: dir == OrderDirection::Desc,
            _t: PhantomData,
        })
    }

    fn to_value(&self) -> Value {
        Value::Null
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// The arguments of `groups`.
pub struct GroupArgs<T: Entity> {
    pub by: Option<Vec<GroupField<T>>>,
    pub bucket: Option<BucketArg<T>>,
    pub time_zone: Option<String>,
    pub having: Option<Having<T>>,
    pub order_by: Option<Vec<GroupOrder<T>>>,
    pub first: Option<i32>,
    pub fill_gaps: Option<bool>,
}

/// The bounds `cond` puts on column `expr` at its top level (AND): lower, upper, upper
/// exclusive.
fn bounds(cond: &Cond, expr: &str) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>, bool) {
    let items: &[Cond] = match cond {
        Cond::And(items) => items,
        other => std::slice::from_ref(other),
    };
    let (mut lo, mut hi, mut excl) = (None, None, false);
    for c in items {
        if let Cond::Cmp(col, op, DbValue::Timestamp(v)) = c {
            if *col != expr {
                continue;
            }
            match op {
                CmpOp::Gte | CmpOp::Gt | CmpOp::Eq => {
                    lo = Some(lo.map_or(*v, |l: DateTime<Utc>| l.max(*v)))
                }
                _ => {}
            }
            match op {
                CmpOp::Lte | CmpOp::Eq if hi.is_none_or(|h| *v < h) => {
                    (hi, excl) = (Some(*v), false);
                }
                CmpOp::Lt if hi.is_none_or(|h| *v <= h) => (hi, excl) = (Some(*v), true),
                _ => {}
            }
        }
    }
    (lo, hi, excl)
}

/// Time zone names known to the database, learned as they are asked for.
static KNOWN_ZONES: Mutex<Option<HashSet<String>>> = Mutex::new(None);

async fn check_zone(r: &Resolve<'_>, name: &str) -> Result<(), ApiError> {
    let known = KNOWN_ZONES
        .lock()
        .map(|g| g.as_ref().is_some_and(|s| s.contains(name)))
        .unwrap_or(false);
    if known {
        return Ok(());
    }
    let exists = if name.is_empty() || name.len() > 64 {
        false
    } else {
        let mut tx = r.session.tx().await?;
        db::time_zone_exists(&mut tx, name).await?
    };
    if !exists {
        return Err(bad(
            "timeZone",
            format!("unknown time zone {name:?} (use an IANA name such as Europe/Berlin)"),
        ));
    }
    if let Ok(mut g) = KNOWN_ZONES.lock() {
        g.get_or_insert_with(HashSet::new).insert(name.to_owned());
    }
    Ok(())
}

/// Most buckets a `groups` statement lists up front from its filter's range.
const MAX_LISTED_BUCKETS: i64 = 10_000;

/// `groups` of a connection over the rows `scope` and `cond` select.
pub(crate) async fn groups<T: Entity>(
    r: &Resolve<'_>,
    sel: SelectionField<'_>,
    scope: Scope<'_>,
    cond: &Cond,
    args: GroupArgs<T>,
) -> Result<Vec<Group<T>>, ApiError> {
    let fields = T::aggregate_fields();
    let limit = args.first.unwrap_or(MAX_GROUPS);
    if !(0..=MAX_GROUPS).contains(&limit) {
        return Err(bad("first", format!("must be between 0 and {MAX_GROUPS}")));
    }
    let mut by: Vec<usize> = Vec::new();
    for f in args.by.iter().flatten() {
        if !by.contains(&f.0) {
            by.push(f.0);
        }
    }
    if by.len() > db::MAX_KEYS {
        return Err(bad("by", format!("at most {} keys", db::MAX_KEYS)));
    }
    let fill = args.fill_gaps.unwrap_or(false);
    let bucket = match &args.bucket {
        None if fill => {
            return Err(bad(
                "fillGaps",
                "fills gaps between time buckets; give `bucket`",
            ))
        }
        None => None,
        Some(b) => {
            let field = fields[b.field.0];
            let (lo, hi, excl) = bounds(cond, field.expr);
            if b.unit == BucketUnit::Hour && (lo.is_none() || hi.is_none()) {
                return Err(bad(
                    "bucket.unit",
                    format!(
                        "HOUR buckets need a filter bounding `{}` on both sides (gte/gt and lte/lt)",
                        camel(field.name)
                    ),
                ));
            }
            if fill {
                if let (Some(lo), Some(hi)) = (lo, hi) {
                    let n = b.unit.count(lo, hi);
                    if n > i64::from(limit) {
                        return Err(bad(
                            "fillGaps",
                            format!("the filter spans about {n} buckets, more than `first` ({limit}); narrow it or use a longer unit"),
                        ));
                    }
                }
            }
            let range = Fill {
                lo,
                hi,
                hi_exclusive: excl,
            };
            // Buckets listed up front when the filter bounds them (see `Bucket::span`), up to
            // a year of hours.
            let listed = lo
                .zip(hi)
                .is_some_and(|(lo, hi)| lo <= hi && b.unit.count(lo, hi) <= MAX_LISTED_BUCKETS);
            Some(Bucket {
                expr: field.expr,
                unit: b.unit.sql(),
                tz: None,
                fill: fill.then(|| range.clone()),
                span: listed.then_some(range),
            })
        }
    };
    let mut plan = Plan::default();
    let having = match &args.having {
        Some(h) => h.lower(&mut plan, "having")?,
        None => Cond::True,
    };
    let mut order = Vec::new();
    for (n, o) in args.order_by.iter().flatten().enumerate() {
        let alias = match o.target {
            OrderTarget::Count => ALIASES[plan.add::<T>(Func::Count, usize::MAX)?],
            OrderTarget::Bucket if bucket.is_some() => BUCKET_ALIAS,
            OrderTarget::Key(i) if by.contains(&i) => {
                db::key_alias(by.iter().position(|k| *k == i).unwrap_or(0))
            }
            OrderTarget::Agg(func, i) => ALIASES[plan.add::<T>(func, i)?],
            _ => {
                return Err(bad(
                    &format!("orderBy.{n}.field"),
                    "sorts by a key or bucket the groups are not grouped by",
                ))
            }
        };
        order.push((alias, o.desc));
    }
    plan.select::<T>(sel)?;
    let bucket = match (bucket, &args.time_zone) {
        (b, Some(tz)) => {
            check_zone(r, tz).await?;
            b.map(|b| Bucket {
                tz: Some(tz.clone()),
                ..b
            })
        }
        (b, None) => b,
    };
    let keys: Vec<Key> = by
        .iter()
        .map(|i| Key {
            expr: fields[*i].expr,
            boolean: matches!(fields[*i].kind, FieldKind::Bool),
        })
        .collect();
    let q = GroupQuery {
        keys: &keys,
        bucket,
        aggs: &plan.aggs,
        having,
        order,
        limit: i64::from(limit) + i64::from(fill),
    };
    let (rows, total) = {
        let mut tx = r.session.tx().await?;
        db::groups(&mut tx, T::table(), scope, cond, &q).await?
    };
    if fill && total > i64::from(limit) {
        return Err(bad(
            "fillGaps",
            format!(
                "the filled buckets number {total}, more than `first` ({limit}); narrow the filter"
            ),
        ));
    }
    Ok(rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|row| {
            let keys: HashMap<usize, Value> = by
                .iter()
                .zip(row.keys)
                .map(|(i, v)| {
                    let value = match (v, fields[*i].kind) {
                        (KeyValue::Bool(Some(b)), _) => Value::Boolean(b),
                        (KeyValue::Text(Some(s)), FieldKind::Enum(e)) => {
                            (e.value)(&s).unwrap_or(Value::Null)
                        }
                        (KeyValue::Text(Some(s)), _) => Value::String(s),
                        _ => Value::Null,
                    };
                    (*i, value)
                })
                .collect();
            let bucket = row.bucket.map(|t| async_graphql::ScalarType::to_value(&t));
            Group::new(keys, bucket, plan.values(&row.values))
        })
        .collect())
}
