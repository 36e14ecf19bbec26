//! Sort orders: per-entity field enums mapped to SQL sort keys.
//!
//! `orderBy` takes a list, so multi-column orders are free; the engine appends the row id as a
//! unique tie-breaker. Nullable columns sort through `coalesce` to a sentinel (NULL first when
//! ascending), which keeps keyset cursors exact.

use async_graphql::Enum;
use frontdesk_db::query::OrderKey;
use serde::Serialize;

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, Default, Eq, PartialEq, Serialize)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// An entity's sortable fields.
pub trait OrderField: Copy + Send + Sync + Serialize + 'static {
    /// The SQL expression over alias `t` and its type.
    fn column(self) -> (&'static str, &'static str);
}

/// An `orderBy` element: a field and a direction.
pub trait OrderInput: async_graphql::InputType + Serialize + Clone + Send + Sync + 'static {
    /// The sort key it stands for.
    fn key(&self) -> OrderKey;
}

/// Declares an entity's order-field enum and its `orderBy` input.
macro_rules! entity_order {
    (
        $(#[$meta:meta])* $input:ident, $fields:ident {
            $( $(#[$vmeta:meta])* $variant:ident => ($expr:literal, $ty:literal) ),+ $(,)?
        }
    ) => {
        /// Fields a list can be sorted by.
        #[derive(async_graphql::Enum, Copy, Clone, Debug, Eq, PartialEq, serde::Serialize)]
        pub enum $fields {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::list::order::OrderField for $fields {
            fn column(self) -> (&'static str, &'static str) {
                match self { $( $fields::$variant => ($expr, $ty), )+ }
            }
        }

        $(#[$meta])*
        #[derive(async_graphql::InputObject, Clone, Debug, serde::Serialize)]
        pub struct $input {
            /// The field to sort by.
            pub field: $fields,
            /// The direction (ascending unless given).
            #[graphql(default)]
            pub direction: $crate::list::order::OrderDirection,
        }

        impl $crate::list::order::OrderInput for $input {
            fn key(&self) -> frontdesk_db::query::OrderKey {
                use $crate::list::order::OrderField;
                let (expr, sql_type) = self.field.column();
                frontdesk_db::query::OrderKey {
                    expr,
                    sql_type,
                    desc: self.direction == $crate::list::order::OrderDirection::Desc,
                }
            }
        }
    };
}
pub(crate) use entity_order;

/// The order every list uses when none is given: newest first.
pub const NEWEST_FIRST: OrderKey = OrderKey {
    expr: "t.created_at",
    sql_type: "timestamptz",
    desc: true,
};
