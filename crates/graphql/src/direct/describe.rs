//! What the compiler knows of each entity, derived from its `entity!` declaration: the
//! columns it can render as JSON in SQL, its relations, its table, the role a read takes and
//! how its list arguments lower.
//!
//! A struct field is renderable when its Rust type says how PostgreSQL's value becomes the
//! value GraphQL would serialise ([`JsonOut`]) and the declaration gives it no attribute but
//! its doc comment: a `#[graphql(…)]` field (skipped, renamed, guarded) or a `#[sqlx(json)]`
//! document is served by its resolver, so an operation selecting it is not compiled.

use std::marker::PhantomData;

use async_graphql::{InputType, Value};
use chrono::{DateTime, NaiveDate, Utc};
use frontdesk_db::query::json::Render;
use frontdesk_db::query::{Cond, OrderKey, Table, Via};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::entity::{read_ahead, Entity, Link, Rule};
use crate::list::aggregate::meta::camel;
use crate::list::ListArgs;

/// A Rust column type whose database value PostgreSQL can render as GraphQL's JSON.
pub trait JsonOut {
    /// How.
    fn render() -> Render;
}

macro_rules! plain {
    ($($ty:ty => $render:expr),* $(,)?) => {
        $( impl JsonOut for $ty { fn render() -> Render { $render } } )*
    };
}

plain! {
    String => Render::Plain,
    Uuid => Render::Plain,
    bool => Render::Plain,
    i16 => Render::Plain,
    i32 => Render::Plain,
    i64 => Render::Plain,
    NaiveDate => Render::Plain,
    serde_json::Value => Render::Plain,
    Vec<String> => Render::Plain,
    Decimal => Render::Decimal,
    DateTime<Utc> => Render::Timestamp,
}

impl<T: JsonOut> JsonOut for Option<T> {
    fn render() -> Render {
        T::render()
    }
}

/// Asks a column type for its [`JsonOut`] without requiring one (autoref specialisation:
/// `(&&Probe::<T>::new()).render()` finds [`Renders`] when `T: JsonOut`, else [`Opaque`]).
#[derive(Debug)]
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    /// The probe of `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe of a renderable type.
pub trait Renders {
    /// `Some`.
    fn render(&self) -> Option<Render>;
}

impl<T: JsonOut> Renders for &Probe<T> {
    fn render(&self) -> Option<Render> {
        Some(T::render())
    }
}

/// The probe of any other type.
pub trait Opaque {
    /// `None`.
    fn render(&self) -> Option<Render>;
}

impl<T> Opaque for Probe<T> {
    fn render(&self) -> Option<Render> {
        None
    }
}

/// A column an entity can render, under its GraphQL name.
#[derive(Debug, Clone)]
pub struct JsonField {
    /// The GraphQL field name (camelCase of the column).
    pub graphql: String,
    /// The column (the row struct's field).
    pub column: &'static str,
    /// Its JSON form.
    pub render: Render,
}

impl JsonField {
    /// The field for `column`.
    pub fn new(column: &'static str, render: Render) -> Self {
        Self {
            graphql: camel(column),
            column,
            render,
        }
    }
}

/// An entity as the compiler sees it.
#[derive(Clone, Copy)]
pub struct Described {
    pub(crate) name: &'static str,
    pub(crate) table: &'static Table,
    pub(crate) fields: &'static [JsonField],
    pub(crate) read: Rule,
    /// Its relation named (in GraphQL) so.
    pub(crate) relation: fn(&str) -> Option<Rel>,
    /// Lowers a connection's arguments (`None` when they are not plain: a cursor, `last`, a
    /// refused value; the ordinary path then reports or serves them).
    pub(crate) list: fn(&Arguments) -> Option<Lowered>,
}

impl std::fmt::Debug for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Described({})", self.name)
    }
}

/// A relation of a described entity.
pub(crate) enum Rel {
    /// A connection of children.
    Many { via: Via, target: Described },
    /// A nullable link.
    One {
        column: &'static str,
        target: Described,
    },
}

/// A connection field's arguments, variables substituted.
pub(crate) type Arguments = Vec<(String, Value)>;

/// A connection's arguments in lowered form.
pub(crate) struct Lowered {
    pub(crate) filter: Cond,
    pub(crate) order: Vec<OrderKey>,
    pub(crate) limit: i64,
}

/// The description of `T`.
pub(crate) fn describe<T: Entity>() -> Described {
    Described {
        name: T::NAME,
        table: T::table(),
        fields: T::json_fields(),
        read: T::ACCESS.read,
        relation: relation_of::<T>,
        list: lower_list::<T>,
    }
}

fn relation_of<T: Entity>(name: &str) -> Option<Rel> {
    let rel = read_ahead::relation_named::<T>(name)?;
    match &rel.link {
        Link::Many { via, target, .. } => Some(Rel::Many {
            via: *via,
            target: target(),
        }),
        Link::One {
            column,
            required: false,
            target,
            ..
        } => Some(Rel::One {
            column,
            target: target(),
        }),
        // A required link answers an invisible row with an error, which only the resolver
        // produces.
        Link::One { .. } => None,
    }
}

fn lower_list<T: Entity>(args: &Arguments) -> Option<Lowered> {
    let mut list = ListArgs::<T>::default();
    for (name, value) in args {
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            ("first", v) => list.first = Some(<i32 as InputType>::parse(Some(v.clone())).ok()?),
            ("filter", v) => {
                list.filter = Some(<T::Filter as InputType>::parse(Some(v.clone())).ok()?)
            }
            ("orderBy", v) => {
                list.order_by = Some(<Vec<T::Order> as InputType>::parse(Some(v.clone())).ok()?)
            }
            _ => return None,
        }
    }
    let (limit, cond, order) = list.lower_uncursored().ok()?;
    Some(Lowered {
        filter: cond,
        order,
        limit: limit.into(),
    })
}

/// A row type of a report's statement (a dashboard's periods): the fields compiled reads can
/// render, each read from the statement's column of the field's own name.
pub trait JsonRow {
    /// Its GraphQL type name.
    const NAME: &'static str;
    /// The renderable fields.
    fn json_fields() -> &'static [JsonField];
}

/// The renderable fields of a declaration (`entity!`'s and [`json_row!`]'s `json_fields`):
/// each field whose type has a [`JsonOut`] and that carries no attribute but its doc comment,
/// so a `#[graphql(…)]` or `#[sqlx(json)]` field is left to its resolver. Fields come as
/// `(attributes) name: Type`, each attribute's tokens in brackets.
macro_rules! json_fields {
    (@attributed) => { false };
    (@attributed [doc $($doc:tt)*] $($rest:tt)*) => { $crate::direct::json_fields!(@attributed $($rest)*) };
    (@attributed [$($other:tt)*] $($rest:tt)*) => { true };
    ($( ($([$($fattr:tt)*])*) $field:ident : $fty:ty ),* $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::direct::{Opaque as _, Renders as _};
        static FIELDS: std::sync::LazyLock<Vec<$crate::direct::JsonField>> =
            std::sync::LazyLock::new(|| {
                let mut fields = Vec::new();
                $(
                    if !$crate::direct::json_fields!(@attributed $([$($fattr)*])*) {
                        if let Some(render) = (&&$crate::direct::Probe::<$fty>::new()).render() {
                            fields.push($crate::direct::JsonField::new(stringify!($field), render));
                        }
                    }
                )*
                fields
            });
        &*FIELDS
    }};
}
pub(crate) use json_fields;

/// Declares a struct as written and its [`JsonRow`]: a field is rendered by SQL when its type
/// has a [`JsonOut`] and it carries no attribute but its doc comment (as in `entity!`).
macro_rules! json_row {
    (
        $(#[$($attr:tt)*])*
        $vis:vis struct $name:ident {
            $( $(#[$($fattr:tt)*])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$($attr)*])*
        $vis struct $name {
            $( $(#[$($fattr)*])* $fvis $field: $fty, )*
        }

        impl $crate::direct::JsonRow for $name {
            const NAME: &'static str = stringify!($name);

            fn json_fields() -> &'static [$crate::direct::JsonField] {
                $crate::direct::json_fields!($( ($([$($fattr)*])*) $field: $fty ),*)
            }
        }
    };
}
pub(crate) use json_row;

/// A root field answered by a statement of its own (a dashboard), as the compiler sees it.
pub(crate) struct DescribedReport {
    /// The report's GraphQL type.
    pub(crate) name: &'static str,
    /// What reading it takes.
    pub(crate) read: Rule,
    /// The statement for these arguments, or `None` when the resolver must answer (a refused
    /// argument, which it reports).
    pub(crate) statement: fn(&Arguments) -> Option<Statement>,
    /// The report's fields read from the statement's first row.
    pub(crate) first: Vec<JsonField>,
    /// The report's list of rows: its field name, its row type and the row's fields.
    pub(crate) rows: (&'static str, &'static str, &'static [JsonField]),
}

/// A report's statement for one request's arguments.
pub(crate) struct Statement {
    pub(crate) sql: &'static str,
    pub(crate) params: Vec<frontdesk_db::query::json::Param>,
    /// The report's fields that echo arguments: GraphQL name and value.
    pub(crate) echoed: Vec<(&'static str, Value)>,
}

impl DescribedReport {
    /// The description of a report whose rows are `R`, listed in its field `rows`.
    pub(crate) fn new<R: JsonRow>(
        name: &'static str,
        read: Rule,
        statement: fn(&Arguments) -> Option<Statement>,
        first: Vec<JsonField>,
        rows: &'static str,
    ) -> Self {
        Self {
            name,
            read,
            statement,
            first,
            rows: (rows, R::NAME, R::json_fields()),
        }
    }
}
