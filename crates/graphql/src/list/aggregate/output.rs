//! The per-entity aggregate and group objects: registered from the declaration's fields
//! ([`super::meta`]) and resolved from values computed before resolution.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{resolve_container, ContainerType};
use async_graphql::{Context, ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use frontdesk_db::query::aggregate::Func;

use super::meta::{self, camel};
use super::FUNCS;
use crate::entity::Entity;

type Values = HashMap<(Func, usize), Value>;

/// `<Entity>Aggregate`: `count` and the per-field functions of a set of rows.
#[derive(Debug)]
pub struct Aggregate<T> {
    values: Arc<Values>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Aggregate<T> {
    pub(crate) fn new(values: Values) -> Self {
        Self {
            values: Arc::new(values),
            _t: PhantomData,
        }
    }
}

/// The aggregate fields every aggregate-bearing object has (`count`, `sum`, …), registered
/// for entity `T`; sub-objects without fields are left out.
fn aggregate_fields<T: Entity>(registry: &mut Registry) -> Vec<meta::Field> {
    let mut fields = vec![meta::Field::new("count", "Rows in the set.", "Int!")];
    for (k, (func, name, _)) in FUNCS.iter().enumerate() {
        if !T::aggregate_fields().iter().any(|f| f.supports(*func)) {
            continue;
        }
        let ty = match k {
            0 => Fields::<T, 0>::create_type_info(registry),
            1 => Fields::<T, 1>::create_type_info(registry),
            2 => Fields::<T, 2>::create_type_info(registry),
            3 => Fields::<T, 3>::create_type_info(registry),
            _ => Fields::<T, 4>::create_type_info(registry),
        };
        let doc = match func {
            Func::DistinctCount => "Distinct non-null values per field.",
            Func::Sum => "Sums per numeric field (null over no values).",
            Func::Avg => "Averages per numeric field (integers average to Float).",
            Func::Min => "Smallest value per numeric or time field.",
            _ => "Largest value per numeric or time field.",
        };
        fields.push(meta::Field::new(*name, doc, ty));
    }
    fields
}

async fn resolve_aggregate<T: Entity>(
    values: &Arc<Values>,
    ctx: &Context<'_>,
) -> ServerResult<Option<Value>> {
    let name = ctx.item.node.name.node.as_str();
    if name == "count" {
        return Ok(Some(
            values
                .get(&(Func::Count, usize::MAX))
                .cloned()
                .unwrap_or(Value::from(0)),
        ));
    }
    let Some(k) = FUNCS.iter().position(|(_, n, _)| *n == name) else {
        return Ok(None);
    };
    let sub = ctx.with_selection_set(&ctx.item.node.selection_set);
    let values = values.clone();
    let v = match k {
        0 => Fields::<T, 0>::new(values).resolve(&sub, ctx.item).await?,
        1 => Fields::<T, 1>::new(values).resolve(&sub, ctx.item).await?,
        2 => Fields::<T, 2>::new(values).resolve(&sub, ctx.item).await?,
        3 => Fields::<T, 3>::new(values).resolve(&sub, ctx.item).await?,
        _ => Fields::<T, 4>::new(values).resolve(&sub, ctx.item).await?,
    };
    Ok(Some(v))
}

impl<T: Entity> OutputType for Aggregate<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Aggregate", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let fields = aggregate_fields::<T>(registry);
        let doc = format!(
            "Aggregates over the {} rows a filter selects (paging ignored).",
            T::NAME
        );
        meta::object(registry, &Self::type_name(), &doc, fields);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<T: Entity> ContainerType for Aggregate<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        resolve_aggregate::<T>(&self.values, ctx).await
    }
}

/// `<Entity><Func>Fields`: one function (`FUNCS[F]`) per field it applies to.
#[derive(Debug)]
pub struct Fields<T, const F: usize> {
    values: Arc<Values>,
    _t: PhantomData<fn() -> T>,
}

impl<T, const F: usize> Fields<T, F> {
    fn new(values: Arc<Values>) -> Self {
        Self {
            values,
            _t: PhantomData,
        }
    }
}

impl<T: Entity, const F: usize> OutputType for Fields<T, F> {
    fn type_name() -> Cow<'static, str> {
        format!("{}{}Fields", T::NAME, FUNCS[F].2).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let func = FUNCS[F].0;
        let fields = T::aggregate_fields()
            .iter()
            .filter(|f| f.supports(func))
            .map(|f| {
                let ty = f.result_type(func, registry);
                meta::Field::new(
                    camel(f.name),
                    format!("{} of `{}`.", FUNCS[F].2, camel(f.name)),
                    ty,
                )
            })
            .collect();
        let doc = format!("{} per field of {} rows.", FUNCS[F].2, T::NAME);
        meta::object(registry, &Self::type_name(), &doc, fields);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<T: Entity, const F: usize> ContainerType for Fields<T, F> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        let Some(i) = super::field_index::<T>(name) else {
            return Ok(None);
        };
        let func = FUNCS[F].0;
        let default = if func == Func::DistinctCount {
            Value::from(0)
        } else {
            Value::Null
        };
        Ok(Some(
            self.values.get(&(func, i)).cloned().unwrap_or(default),
        ))
    }
}

/// `<Entity>Group`: one group's keys and aggregates.
#[derive(Debug)]
pub struct Group<T> {
    keys: GroupKeys<T>,
    values: Arc<Values>,
}

impl<T> Group<T> {
    pub(crate) fn new(keys: HashMap<usize, Value>, bucket: Option<Value>, values: Values) -> Self {
        Self {
            keys: GroupKeys {
                keys,
                bucket,
                _t: PhantomData,
            },
            values: Arc::new(values),
        }
    }
}

impl<T: Entity> OutputType for Group<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Group", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let keys = GroupKeys::<T>::create_type_info(registry);
        let mut fields = vec![meta::Field::new(
            "keys",
            "The values this group shares.",
            keys,
        )];
        fields.extend(aggregate_fields::<T>(registry));
        let doc = format!(
            "{} rows sharing keys (and a time bucket), with their aggregates.",
            T::NAME
        );
        meta::object(registry, &Self::type_name(), &doc, fields);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<T: Entity> ContainerType for Group<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        if ctx.item.node.name.node == "keys" {
            let sub = ctx.with_selection_set(&ctx.item.node.selection_set);
            return Ok(Some(self.keys.resolve(&sub, ctx.item).await?));
        }
        resolve_aggregate::<T>(&self.values, ctx).await
    }
}

/// `<Entity>GroupKeys`: a group's key values, typed; the keys not grouped by are null.
#[derive(Debug)]
pub struct GroupKeys<T> {
    keys: HashMap<usize, Value>,
    bucket: Option<Value>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Entity> OutputType for GroupKeys<T> {
    fn type_name() -> Cow<'static, str> {
        format!("{}GroupKeys", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let mut fields = vec![meta::Field::new(
            "bucket",
            "Start of the time bucket (in the requested time zone), when bucketed.",
            <chrono::DateTime<chrono::Utc> as OutputType>::create_type_info(registry)
                .trim_end_matches('!')
                .to_owned(),
        )];
        for f in T::aggregate_fields().iter().filter(|f| f.groupable()) {
            let ty = match f.kind {
                super::FieldKind::Bool => "Boolean".to_owned(),
                super::FieldKind::Enum(e) => {
                    (e.register)(registry).trim_end_matches('!').to_owned()
                }
                _ => "String".to_owned(),
            };
            fields.push(meta::Field::new(
                camel(f.name),
                format!("`{}`, when grouped by it.", camel(f.name)),
                ty,
            ));
        }
        let doc = format!("The keys of a group of {} rows.", T::NAME);
        meta::object(registry, &Self::type_name(), &doc, fields);
        Self::qualified_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<T: Entity> ContainerType for GroupKeys<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        if name == "bucket" {
            return Ok(Some(self.bucket.clone().unwrap_or(Value::Null)));
        }
        Ok(
            super::field_index::<T>(name)
                .map(|i| self.keys.get(&i).cloned().unwrap_or(Value::Null)),
        )
    }
}
