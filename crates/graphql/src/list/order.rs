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

/// An `orderBy` element: a field and a direction.
pub trait OrderInput: async_graphql::InputType + Serialize + Clone + Send + Sync + 'static {
    /// The sort key it stands for, or why the element names none.
    fn key(&self) -> Result<OrderKey, String>;
}
