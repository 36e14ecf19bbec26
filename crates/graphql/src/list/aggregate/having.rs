//! `having` of `groups` (and the `aggregate` condition of relation filters): conditions on
//! aggregates, typed with each field's own filter input (`sum: { dealValue: { gte: "100" } }`
//! takes a `DecimalFilter`), registered per entity as `<Entity>AggregateFilter`.

use std::borrow::Cow;
use std::marker::PhantomData;

use async_graphql::registry::Registry;
use async_graphql::{InputType, InputValueError, InputValueResult, Value};
use frontdesk_db::query::aggregate::{Func, ALIASES};
use frontdesk_db::query::Cond;

use super::meta::{self, camel};
use super::{lower_as, Plan, FUNCS};
use crate::entity::Entity;
use crate::list::filter::{Budget, IntFilter};
use crate::ApiError;

/// `<Entity>AggregateFilter`: conditions on `count` and on per-field aggregates, all of which
/// must hold.
pub struct Having<T> {
    value: Value,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Having<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Having<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Having({})", self.value)
    }
}

impl<T> serde::Serialize for Having<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// The per-field functions `having` offers (distinct counts are not among them).
const HAVING_FUNCS: [usize; 4] = [1, 2, 3, 4];

fn sub_type_name<T: Entity>(k: usize) -> String {
    format!("{}{}Filter", T::NAME, FUNCS[k].2)
}

impl<T: Entity> InputType for Having<T> {
    type RawValueType = Value;

    fn type_name() -> Cow<'static, str> {
        format!("{}AggregateFilter", T::NAME).into()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let count = <IntFilter as InputType>::create_type_info(registry);
        let mut fields = vec![(
            meta::Field::new(
                "count",
                "Conditions on the number of rows.",
                count.trim_end_matches('!'),
            ),
            None,
        )];
        for k in HAVING_FUNCS {
            let func = FUNCS[k].0;
            let sub: Vec<_> = T::aggregate_fields()
                .iter()
                .filter(|f| f.supports(func))
                .map(|f| {
                    let ty = (f.filter_type)(registry);
                    (
                        meta::Field::new(
                            camel(f.name),
                            format!("Conditions on the {} of `{}`.", FUNCS[k].1, camel(f.name)),
                            ty.trim_end_matches('!'),
                        ),
                        None,
                    )
                })
                .collect();
            if sub.is_empty() {
                continue;
            }
            let name = sub_type_name::<T>(k);
            let doc = format!("Conditions on the {} of {} fields.", FUNCS[k].1, T::NAME);
            meta::input(registry, &name, &doc, sub);
            fields.push((
                meta::Field::new(
                    FUNCS[k].1,
                    format!("Conditions on {}s per field.", FUNCS[k].1),
                    name,
                ),
                None,
            ));
        }
        let doc = format!(
            "Conditions on aggregates of {} rows; all must hold.",
            T::NAME
        );
        meta::input(registry, &Self::type_name(), &doc, fields);
        Self::qualified_type_name()
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        match value {
            Some(value @ Value::Object(_)) => Ok(Self {
                value,
                _t: PhantomData,
            }),
            _ => Err(InputValueError::expected_type(Value::Null)),
        }
    }

    fn to_value(&self) -> Value {
        self.value.clone()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.value)
    }
}

impl<T: Entity> Having<T> {
    /// The condition over the aggregates' aliases, adding what it reads to `plan`; `arg`
    /// names the argument in errors (`having`).
    pub(crate) fn lower(&self, plan: &mut Plan, arg: &str) -> Result<Cond, ApiError> {
        let mut budget = Budget::new(arg);
        let mut out = Vec::new();
        let Value::Object(obj) = &self.value else {
            return Ok(Cond::True);
        };
        for (key, v) in obj {
            if matches!(v, Value::Null) {
                continue;
            }
            if key.as_str() == "count" {
                let col = ALIASES[plan.add::<T>(Func::Count, usize::MAX)?];
                lower_as::<IntFilter>(v, col, &mut out, &mut budget)?;
                continue;
            }
            let Some(k) = FUNCS.iter().position(|(_, n, _)| *n == key.as_str()) else {
                continue;
            };
            let Value::Object(fields) = v else { continue };
            for (name, fv) in fields {
                if matches!(fv, Value::Null) {
                    continue;
                }
                let Some(i) = super::field_index::<T>(name.as_str()) else {
                    continue;
                };
                let field = T::aggregate_fields()[i];
                let mut b = Budget::new(&format!("{arg}.{key}.{name}"));
                let col = ALIASES[plan.add::<T>(FUNCS[k].0, i)?];
                (field.lower)(fv, col, &mut out, &mut b)?;
                budget.spend(1)?;
            }
        }
        Ok(match out.len() {
            0 => Cond::True,
            1 => out.pop().unwrap_or(Cond::True),
            _ => Cond::And(out),
        })
    }
}
