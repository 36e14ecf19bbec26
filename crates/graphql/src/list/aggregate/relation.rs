//! Relation aggregates in filters: every one-to-many (and many-to-many) relation an entity
//! declares becomes a field of its filter, e.g.
//! `customers(filter: { bookings: { aggregate: { count: { gte: 3 } }, filter: { status: { eq: CONFIRMED } } } })`.
//!
//! The fields are added to every entity filter by one flattened [`Relations`] input, built from
//! the declaration's `relations`; each relation's input is `<Child>RelationFilter` (the child's
//! filter and its `<Child>AggregateFilter`). Without `aggregate`, it means "at least one related
//! row matches". Lowered to [`frontdesk_db::query::aggregate::Related`]: the children grouped by
//! parent under the same row-level security as everything else.

use std::borrow::Cow;
use std::marker::PhantomData;

use async_graphql::registry::Registry;
use async_graphql::{InputObjectType, InputType, InputValueResult, Name, Value};
use frontdesk_db::query::aggregate::{Func, Related, ALIASES};
use frontdesk_db::query::{CmpOp, Cond, Value as DbValue, Via};

use super::having::Having;
use super::meta::{self, camel};
use super::Plan;
use crate::entity::{Entity, Link};
use crate::list::filter::{Budget, EntityFilter};
use crate::ApiError;

/// What a relation needs to filter by its children: generic functions of the child type.
#[derive(Clone, Copy, Debug)]
pub struct RelationHooks {
    /// Registers `<Child>RelationFilter` and returns its name.
    pub register: fn(&mut Registry) -> String,
    /// Lowers a value of it into a condition on the parent (`via`), at filter nesting `depth`.
    pub lower: fn(&Value, Via, &mut Budget, usize) -> Result<Cond, ApiError>,
    /// The child's table.
    pub table: fn() -> &'static frontdesk_db::query::Table,
}

/// The hooks of child type `C`.
pub const fn hooks<C: Entity>() -> RelationHooks {
    RelationHooks {
        register: register::<C>,
        lower: lower::<C>,
        table: C::table,
    }
}

fn register<C: Entity>(registry: &mut Registry) -> String {
    let name = format!("{}RelationFilter", C::NAME);
    let having = Having::<C>::create_type_info(registry);
    let filter = <C::Filter as InputType>::create_type_info(registry);
    meta::input(
        registry,
        &name,
        &format!(
            "Conditions on related {} rows: the aggregates of those `filter` selects (without `aggregate`: at least one exists).",
            C::NAME
        ),
        vec![
            (
                meta::Field::new("aggregate", "Conditions on the related rows' aggregates.", having.trim_end_matches('!')),
                None,
            ),
            (
                meta::Field::new("filter", "Which related rows count (all unless given).", filter.trim_end_matches('!')),
                None,
            ),
        ],
    );
    name
}

fn lower<C: Entity>(
    v: &Value,
    via: Via,
    budget: &mut Budget,
    depth: usize,
) -> Result<Cond, ApiError> {
    let Value::Object(obj) = v else {
        return Ok(Cond::True);
    };
    let filter = match obj.get("filter") {
        Some(f) if !matches!(f, Value::Null) => {
            let f = <C::Filter as InputType>::parse(Some(f.clone()))
                .map_err(|e| budget.refuse(e.into_server_error(Default::default()).message))?;
            f.lower(budget, depth + 1)?
        }
        _ => Cond::True,
    };
    let mut plan = Plan::default();
    let having = match obj.get("aggregate") {
        Some(a) if !matches!(a, Value::Null) => {
            let h = Having::<C>::parse(Some(a.clone()))
                .map_err(|e| budget.refuse(e.into_server_error(Default::default()).message))?;
            h.lower(&mut plan, "filter")?
        }
        _ => {
            let i = plan.add::<C>(Func::Count, usize::MAX)?;
            Cond::Cmp(ALIASES[i], CmpOp::Gte, DbValue::Int(1))
        }
    };
    budget.spend(1 + plan.aggs.len())?;
    Ok(Cond::Related(Box::new(Related {
        table: C::table().name,
        via,
        filter,
        aggs: plan.aggs,
        having,
    })))
}

/// The relation fields of `T`'s filter (flattened into it): the values given, by relation.
pub struct Relations<T> {
    items: Vec<(usize, Value)>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Default for Relations<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            _t: PhantomData,
        }
    }
}

impl<T> Clone for Relations<T> {
    fn clone(&self) -> Self {
        Self {
            items: self.items.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Relations<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.items.iter().map(|(i, v)| (i, v.to_string())))
            .finish()
    }
}

impl<T: Entity> serde::Serialize for Relations<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.items.len()))?;
        for (i, v) in &self.items {
            map.serialize_entry(T::RELATIONS[*i].field, v)?;
        }
        map.end()
    }
}

/// The relations of `T` that are connections, with their positions.
fn many<T: Entity>() -> impl Iterator<Item = (usize, &'static str, Via, RelationHooks)> {
    T::RELATIONS
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.link {
            Link::Many { via, hooks, .. } => Some((i, r.field, *via, *hooks)),
            Link::One { .. } => None,
        })
}

impl<T: Entity> InputType for Relations<T> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        format!("{}RelationFilters", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let fields = many::<T>()
            .map(|(_, field, _, hooks)| {
                let ty = (hooks.register)(registry);
                (
                    meta::Field::new(
                        camel(field),
                        format!("Conditions on the related `{}` (their aggregates, or that one exists).", camel(field)),
                        ty,
                    ),
                    None,
                )
            })
            .collect();
        meta::input(
            registry,
            &Self::type_name(),
            "Conditions on related rows.",
            fields,
        );
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let mut items = Vec::new();
        if let Some(Value::Object(obj)) = value {
            for (i, field, _, _) in many::<T>() {
                if let Some(v) = obj.get(camel(field).as_str()) {
                    if !matches!(v, Value::Null) {
                        items.push((i, v.clone()));
                    }
                }
            }
        }
        Ok(Self {
            items,
            _t: PhantomData,
        })
    }

    fn to_value(&self) -> Value {
        Value::Object(
            self.items
                .iter()
                .map(|(i, v)| (Name::new(camel(T::RELATIONS[*i].field)), v.clone()))
                .collect(),
        )
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

impl<T: Entity> InputObjectType for Relations<T> {}

impl<T: Entity> Relations<T> {
    /// Appends one condition per relation given.
    pub fn lower(
        &self,
        out: &mut Vec<Cond>,
        budget: &mut Budget,
        depth: usize,
    ) -> Result<(), ApiError> {
        for (i, v) in &self.items {
            if let Link::Many { via, hooks, .. } = &T::RELATIONS[*i].link {
                out.push((hooks.lower)(v, *via, budget, depth)?);
            }
        }
        Ok(())
    }
}

/// The `relationCount` part of an entity's `orderBy` element (flattened into it; no field when
/// the entity has no one-to-many relations).
pub struct RelationOrder<T> {
    relation: Option<usize>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Default for RelationOrder<T> {
    fn default() -> Self {
        Self {
            relation: None,
            _t: PhantomData,
        }
    }
}

impl<T> Clone for RelationOrder<T> {
    fn clone(&self) -> Self {
        Self {
            relation: self.relation,
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for RelationOrder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelationOrder({:?})", self.relation)
    }
}

impl<T: Entity> serde::Serialize for RelationOrder<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.relation.map(|i| T::RELATIONS[i].field).serialize(s)
    }
}

/// Sort-key SQL of relation counts, rendered once per relation (the read engine takes sort
/// expressions as static SQL).
static COUNT_KEYS: std::sync::Mutex<Vec<(&'static str, usize, &'static str)>> =
    std::sync::Mutex::new(Vec::new());

impl<T: Entity> RelationOrder<T> {
    /// The sort key: the number of related rows (visible ones: row-level security applies
    /// to the subquery too), when given.
    pub fn key(&self) -> Option<frontdesk_db::query::OrderKey> {
        let i = self.relation?;
        let (_, _, via, hooks) = many::<T>().find(|(j, ..)| *j == i)?;
        let mut cache = COUNT_KEYS.lock().ok()?;
        let expr = match cache.iter().find(|(n, j, _)| *n == T::NAME && *j == i) {
            Some((_, _, e)) => *e,
            None => {
                let table = (hooks.table)().name;
                let sql = match via {
                    // Children are tied to the row's tenant as well as to the row, so the
                    // count names the tenant like the statement around it (docs/scaling.md).
                    Via::Column(col) => format!(
                        "(SELECT count(*) FROM {table} c \
                         WHERE c.tenant_id = t.tenant_id AND c.{col} = t.id)"
                    ),
                    Via::Pairs(pairs) => format!(
                        "(SELECT count(*) FROM ({pairs}) j JOIN {table} c ON c.id = j.child \
                         WHERE j.tenant_id = t.tenant_id AND c.tenant_id = t.tenant_id \
                         AND j.parent = t.id)"
                    ),
                };
                let leaked: &'static str = Box::leak(sql.into_boxed_str());
                cache.push((T::NAME, i, leaked));
                leaked
            }
        };
        Some(frontdesk_db::query::OrderKey {
            expr,
            sql_type: "bigint",
            desc: false,
        })
    }
}

impl<T: Entity> InputType for RelationOrder<T> {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        format!("{}RelationOrder", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let values: Vec<(String, String)> = many::<T>()
            .map(|(_, field, _, _)| (meta::upper(field), format!("`{}`.", camel(field))))
            .collect();
        let mut fields = Vec::new();
        if !values.is_empty() {
            let name = format!("{}Relation", T::NAME);
            meta::enumeration(
                registry,
                &name,
                &format!("One-to-many relations of {}.", T::NAME),
                values,
            );
            fields.push((
                meta::Field::new(
                    "relationCount",
                    "Sort by the number of related rows of this relation (instead of `field`).",
                    name,
                ),
                None,
            ));
        }
        meta::input(
            registry,
            &Self::type_name(),
            "Sorting by related rows.",
            fields,
        );
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let mut relation = None;
        if let Some(Value::Object(obj)) = value {
            if let Some(Value::Enum(name)) = obj.get("relationCount") {
                relation = many::<T>()
                    .find(|(_, field, _, _)| meta::upper(field) == name.as_str())
                    .map(|(i, ..)| i);
                if relation.is_none() {
                    return Err(async_graphql::InputValueError::custom(format!(
                        "unknown value {name}"
                    )));
                }
            }
        }
        Ok(Self {
            relation,
            _t: PhantomData,
        })
    }

    fn to_value(&self) -> Value {
        Value::Object(
            self.relation
                .map(|i| {
                    (
                        Name::new("relationCount"),
                        Value::Enum(Name::new(meta::upper(T::RELATIONS[i].field))),
                    )
                })
                .into_iter()
                .collect(),
        )
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

impl<T: Entity> InputObjectType for RelationOrder<T> {}
