//! Entities: each declared once, with [`entity!`](crate::entity::declare), and everything the
//! API serves of it derived from that declaration.
//!
//! A declaration names the table, the columns (the struct's fields), the filterable and
//! sortable columns, the search, the relations to other entities as data, and the role each
//! operation needs. From it come the object type (with Relay's `id`/`rowId`), the filter
//! input, the order enum and input, the connection, the root by-id and list fields, the
//! nested relation fields in both directions, column projection and read-ahead. Relations
//! name their link column as a struct field, so a wrong column or target type is a compile
//! error, never a silent fallback at run time.
//!
//! # One declaration, expanded
//!
//! ```text
//! entity! {
//!     /// A sales lead.
//!     Lead in table!(leads) => {
//!         conversation_id: Option<Uuid>,
//!         name: Option<String>,
//!         status: LeadStatus,
//!     }
//!     filter LeadFilter {
//!         conversation_id: IdFilter [Conversation],
//!         status: LeadStatusFilter,
//!     }
//!     /// Text in the name or e-mail.
//!     search: contains_any(&[col!(name), col!(email)]);
//!     order LeadOrder, LeadOrderField { CreatedAt => sort!(created_at: timestamptz) }
//!     default_order: [CreatedAt desc];
//!     relations {
//!         /// The conversation the lead came from.
//!         conversation: one Conversation via conversation_id,
//!     }
//!     root: LeadQuery { lead, leads };
//!     access: { read: Viewer, write: Agent, delete: Supervisor };
//!     constraints {
//!         "leads_tenant_id_email_key" => "input.email":
//!             Conflict("another lead already has this e-mail address"),
//!     }
//!     fields {}   // extra resolvers of the object (computed fields), if any
//! }
//! ```
//!
//! Optional parts: `root: …;` (entities reached only through relations have none), a column's
//! `= expression` (a derived column, from `frontdesk_db::exprs`), a filter field's
//! `= expression`, `read_ahead: path;` (batched read-ahead of computed fields). Relation kinds
//! are `many` (a connection through the child's link column), `linked` (a connection through a
//! link table: many-to-many), `one` (a nullable link) and `required` (a non-null link).
//!
//! expands to (abridged, attributes and docs kept where they matter):
//!
//! ```text
//! #[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
//! #[sqlx(default)]            // lists read only the columns a query selects
//! #[graphql(complex)]
//! pub struct Lead {
//!     #[graphql(skip)] pub id: Uuid,          // served as `id: ID!` and `rowId: UUID!`
//!     pub conversation_id: Option<Uuid>,
//!     pub name: Option<String>,
//!     pub status: LeadStatus,
//! }
//!
//! #[derive(InputObject, …)] pub struct LeadFilter {
//!     and, or, not, search,
//!     conversation_id: Option<IdFilter>,      // ids checked to name a Conversation
//!     status: Option<LeadStatusFilter>,
//! }
//! impl EntityFilter for LeadFilter { /* lowers to Cond on "t.conversation_id", "t.status" */ }
//!
//! #[derive(Enum, …)] pub enum LeadOrderField { CreatedAt }
//! #[derive(InputObject, …)] pub struct LeadOrder { field: LeadOrderField, direction: OrderDirection }
//!
//! impl Entity for Lead {
//!     const NAME: &str = "Lead";
//!     fn table() -> &'static Table { static T: Table = Table::new("app.leads", &[
//!         column!(id), column!(conversation_id), column!(name), column!(status)]); &T }
//!     type Filter = LeadFilter;
//!     type Order = LeadOrder;
//!     const DEFAULT_ORDER: &[OrderKey] = &[/* t.created_at DESC */];
//!     const RELATIONS: &[Relation<Lead>] = &[Relation::one::<Conversation>(
//!         "conversation", |l: &Lead| l.conversation_id.into())];   // compile-time checked
//!     const ACCESS: Access = Access { read: Viewer, write: Agent, delete: Supervisor };
//!     const CONSTRAINTS: &[Constraint] = &[Constraint { name: "leads_tenant_id_email_key",
//!         field: "input.email", meaning: Meaning::Conflict("another lead already …") }];
//!     fn id(&self) -> Uuid { self.id }
//!     const ROOT: Option<(&str, &str)> = Some(("lead", "leads"));
//!     fn json_fields() -> &'static [JsonField] { /* the columns compiled reads render:
//!         every field without attributes whose type has a `JsonOut` (crate::direct) */ }
//! }
//!
//! #[ComplexObject] impl Lead {
//!     async fn id(&self, …) -> ID { global_id::encode("Lead", self.id) }
//!     async fn row_id(&self) -> Uuid { self.id }
//!     /// The conversation the lead came from.
//!     async fn conversation(&self, ctx) -> Result<Option<Conversation>> { /* by-id loader */ }
//! }
//!
//! #[derive(Default)] pub struct LeadQuery;
//! #[Object] impl LeadQuery {
//!     async fn lead(&self, ctx, id: NodeRef<Lead>) -> Result<Lead>;            // + read-ahead
//!     async fn leads(&self, ctx, first, after, last, before, filter, order_by)
//!         -> Result<Connection<Lead>>;                                           // + read-ahead
//! }
//! ```
//!
//! A `many` relation (`bookings: many Booking via customer_id`) becomes a connection field
//! with the target's `filter` and `orderBy`, read ahead for all parents of a level in one
//! statement. Both directions are declared where they belong: `Booking` declares
//! `customer: one Customer via customer_id`, `Customer` declares `bookings: many Booking via
//! customer_id`.
//!
//! A `linked` relation (`related_tickets: linked Ticket via LINKS`) is a `many` whose children
//! are found through a link table instead of a column of theirs: `LINKS` is a constant in scope
//! holding the SQL of the `(parent, child)` id pairs ([`frontdesk_db::query::Via::Pairs`], e.g.
//! `frontdesk_db::exprs::tickets::LINKS`). It is the same connection field, read ahead the same
//! way (one statement per level for all parents); only the join differs.

mod access;
#[macro_use]
mod declare;
pub mod global_id;
pub(crate) mod read_ahead;
mod registry;

use std::fmt;

use async_graphql::{OutputType, SelectionField};
use frontdesk_db::query::{OrderKey, Table, Via};
use sqlx::postgres::PgRow;
use sqlx::FromRow;
use uuid::Uuid;

use crate::list::filter::EntityFilter;
use crate::list::order::OrderInput;
use crate::query::Resolve;
#[allow(unused_imports)] // used by operations outside any one entity
pub(crate) use access::{authorize, check};
pub use access::{Access, Grants, Op, Rule};
pub(crate) use declare::entity;
pub use global_id::NodeRef;
pub(crate) use registry::{checked_field, constraint, direct_root, load_node};
pub use registry::{AnyNode, EntityQuery};

/// A type the API lists, links and identifies: generated by [`entity!`].
pub trait Entity:
    OutputType + for<'r> FromRow<'r, PgRow> + Clone + Send + Sync + Unpin + 'static
{
    /// The GraphQL type name (connection, edge and global id names derive from it).
    const NAME: &'static str;
    /// Its `filter` input.
    type Filter: EntityFilter;
    /// Its `orderBy` element input.
    type Order: OrderInput;
    /// The order of a list whose `orderBy` is absent or empty (the engine appends the id).
    const DEFAULT_ORDER: &'static [OrderKey];
    /// Its links to other entities.
    const RELATIONS: &'static [Relation<Self>];
    /// The role each operation needs.
    const ACCESS: Access;
    /// The constraints of its table whose violation a write's input can cause.
    const CONSTRAINTS: &'static [Constraint];
    /// Where its rows live.
    fn table() -> &'static Table;
    /// Its filtered columns as aggregates see them (from the filter lines).
    fn aggregate_fields() -> &'static [crate::list::aggregate::AggField];
    /// The row id.
    fn id(&self) -> Uuid;
    /// The columns a compiled read can render as JSON in SQL ([`crate::direct`]).
    fn json_fields() -> &'static [crate::direct::JsonField];
    /// The root fields (`one`, `many`, snake_case) when the entity has them.
    const ROOT: Option<(&'static str, &'static str)> = None;
    /// Read-ahead for a selected field that is not a relation (a computed field that batches,
    /// like a conversation's `unreadCount`); `None` for plain fields.
    fn read_ahead_field<'a>(
        _r: &'a Resolve<'a>,
        _field: SelectionField<'a>,
        _rows: &[&Self],
    ) -> Option<read_ahead::Task<'a>> {
        None
    }
}

/// A constraint whose violation the input of a write can cause, with the input field to blame
/// and what it means for the client. Writes validate first and check references before
/// writing, so these are reached only in races (a row deleted between check and insert, the
/// same unique value written by two requests at once) or through values only the database
/// can compare (uniqueness). Every other violation is mapped by SQLSTATE alone.
#[derive(Debug, Clone, Copy)]
pub struct Constraint {
    /// The constraint's name in the migrations.
    pub name: &'static str,
    /// The input field it blames (`input.phone`, `agentId`).
    pub field: &'static str,
    /// What the violation means.
    pub meaning: Meaning,
}

/// What a known constraint's violation means for the client.
#[derive(Debug, Clone, Copy)]
pub enum Meaning {
    /// `CONFLICT` with this message (a unique value taken).
    Conflict(&'static str),
    /// `NOT_FOUND` of this type (a reference no longer visible).
    NotFound(&'static str),
    /// `BAD_USER_INPUT` with this message.
    Bad(&'static str),
}

/// One link of entity `P` to another entity, as data: read-ahead finds the relation of a
/// selected field here instead of in hand-written code.
pub struct Relation<P: 'static> {
    /// The field's name in snake_case (the GraphQL field is its camelCase).
    pub field: &'static str,
    /// How the related rows are found.
    pub link: Link<P>,
}

/// How a relation's rows are found.
pub enum Link<P: 'static> {
    /// Children tied to the parent `via` their link column or a link table: a connection.
    Many {
        /// How a child is tied to its parent.
        via: Via,
        /// Reads the children of all parents of a level, then their own selection.
        read: read_ahead::ReadMany,
        /// Filters parents by their children's aggregates.
        hooks: crate::list::aggregate::relation::RelationHooks,
        /// The children's entity, for compiled reads.
        target: fn() -> crate::direct::Described,
    },
    /// The row the parent's link column points at.
    One {
        /// The parent's link value.
        key: fn(&P) -> Option<Uuid>,
        /// The parent's link column.
        column: &'static str,
        /// Whether the field is non-null (`required`): an invisible row is an error.
        required: bool,
        /// Reads the linked rows of all parents of a level, then their own selection.
        read: read_ahead::ReadOne,
        /// The linked entity, for compiled reads.
        target: fn() -> crate::direct::Described,
    },
}

impl<P> Relation<P> {
    /// `field: many C via column`.
    pub const fn many<C: Entity>(field: &'static str, column: &'static str) -> Self {
        Self {
            field,
            link: Link::Many {
                via: Via::Column(column),
                read: read_ahead::children::<C>,
                hooks: crate::list::aggregate::relation::hooks::<C>(),
                target: crate::direct::describe::<C>,
            },
        }
    }

    /// `field: linked C via pairs` (a many-to-many connection through a link table).
    pub const fn linked<C: Entity>(field: &'static str, pairs: &'static str) -> Self {
        Self {
            field,
            link: Link::Many {
                via: Via::Pairs(pairs),
                read: read_ahead::children::<C>,
                hooks: crate::list::aggregate::relation::hooks::<C>(),
                target: crate::direct::describe::<C>,
            },
        }
    }

    /// `field: one C via column` (`required`: the non-null form).
    pub const fn one<C: Entity>(
        field: &'static str,
        column: &'static str,
        required: bool,
        key: fn(&P) -> Option<Uuid>,
    ) -> Self {
        Self {
            field,
            link: Link::One {
                key,
                column,
                required,
                read: read_ahead::linked::<C>,
                target: crate::direct::describe::<C>,
            },
        }
    }
}

impl<P> fmt::Debug for Relation<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Relation({} {:?})", self.field, self.link)
    }
}

impl<P> fmt::Debug for Link<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Link::Many { via, .. } => write!(f, "many via {via:?}"),
            Link::One { .. } => f.write_str("one"),
        }
    }
}
