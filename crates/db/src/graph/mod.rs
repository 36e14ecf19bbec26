//! Writes to the customer graph: customers, bookings, calls and SMS messages, leads and
//! tickets.
//!
//! This module owns the SQL of every API write to those four tables and the rule that keeps
//! the customers' denormalised counters true: each public write function here ends by calling
//! [`counters::refresh`] for every customer it touched (the old and the new owner when a row
//! moves), so a caller cannot forget it. Everything runs in the caller's [`TenantTx`], the
//! request's one transaction, so row-level security decides what exists and the writes of one
//! request commit or roll back together. Leads ([`leads`]), the team ([`members`]), the
//! voice assistants ([`assistants`]) and integrations ([`integrations`], which seal their
//! tokens) use the same machinery for their own tables; no counter counts them. So do the
//! assistant's knowledge ([`faqs`], [`system_prompts`]) and the tenant's own configuration
//! ([`tenants`], [`tenant_settings`]).
//!
//! Inputs are plain Rust structs whose fields are [`Patch`]es named exactly like their columns
//! (validated and normalised by the caller; nothing here knows about GraphQL). A field left at
//! [`Patch::Keep`] is not written: an insert gets the column default, an update leaves the
//! column alone. Column names only ever come from `stringify!` on those field names; every
//! value is a bound parameter.
//!
//! Errors: a database error stays a [`DbError`] (the API layer maps constraint names to its
//! codes), and the outcomes a caller must tell apart — the row is not visible, a referenced
//! row is not visible, a booking is not in a status the change allows — are [`WriteError`]
//! variants, found by cheap look-ups before the write so the caller can name the input field.

pub mod assistants;
pub mod bookings;
pub mod calls;
pub mod counters;
pub mod customers;
pub mod demo_requests;
pub mod faqs;
pub mod integrations;
pub mod leads;
pub mod members;
pub mod merge;
pub mod sms;
pub mod system_prompts;
pub mod tenant_settings;
pub mod tenants;
pub mod tickets;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One column of a write: leave it as it is (or at its default, for an insert), or set it.
/// Nullable columns are `Patch<Option<T>>`, so `Set(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not written.
    #[default]
    Keep,
    /// Written with this value.
    Set(T),
}

impl<T> Patch<T> {
    /// Whether the write carries this column.
    pub fn is_set(&self) -> bool {
        matches!(self, Patch::Set(_))
    }

    /// The value, when set.
    pub fn as_set(&self) -> Option<&T> {
        match self {
            Patch::Set(v) => Some(v),
            Patch::Keep => None,
        }
    }
}

/// A write of a JSON object column: replace the stored document, or merge keys
/// into it. Merging keeps the keys the change does not name, including those the API does not
/// model (a provider's newer settings in an assistant's `voice`), so a client that changes one
/// setting cannot wipe what it never saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// The document becomes this value.
    Replace(serde_json::Value),
    /// Top-level keys of `set` are written (`doc || set`), keys in `remove` are dropped.
    Merge {
        /// Keys to write.
        set: serde_json::Map<String, serde_json::Value>,
        /// Keys to drop.
        remove: Vec<String>,
    },
}

/// A row another row points at, when it is not visible in the tenant (missing, deleted, or
/// another tenant's: row-level security makes those indistinguishable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// `customer_id`.
    Customer,
    /// `booking_id`.
    Booking,
    /// `call_id`.
    Call,
    /// `assistant_id`.
    Assistant,
    /// `preferred_agent_id` (a member of the tenant).
    Member,
    /// `conversation_id`.
    Conversation,
}

impl Ref {
    /// The look-up that proves the row exists in the current tenant. Memberships need the
    /// explicit tenant predicate: their policy also shows the acting user's memberships of
    /// other tenants.
    fn exists_sql(self) -> &'static str {
        match self {
            Ref::Customer => "SELECT EXISTS (SELECT 1 FROM app.customers WHERE id = $1)",
            Ref::Booking => "SELECT EXISTS (SELECT 1 FROM app.bookings WHERE id = $1)",
            Ref::Call => "SELECT EXISTS (SELECT 1 FROM app.calls WHERE id = $1)",
            Ref::Assistant => "SELECT EXISTS (SELECT 1 FROM app.assistants WHERE id = $1)",
            Ref::Conversation => "SELECT EXISTS (SELECT 1 FROM app.conversations WHERE id = $1)",
            Ref::Member => {
                "SELECT EXISTS (SELECT 1 FROM app.memberships
                                WHERE tenant_id = app.current_tenant_id() AND user_id = $1)"
            }
        }
    }
}

/// Why a write did not happen, beyond a database error.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The row to change is not visible in the tenant.
    #[error("not found")]
    NotFound,
    /// A row the input refers to is not visible in the tenant.
    #[error("referenced {0:?} not found")]
    MissingRef(Ref),
    /// A booking status change that the booking's current status does not allow.
    #[error("the booking is {current}")]
    Status {
        /// The booking's status when the change was tried (database spelling).
        current: String,
    },
    /// Anything the database refused or failed at.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Db(e.into())
    }
}

/// Mirroring SMS and calls into the inbox ([`crate::inbox::mirror`]) works on the row just
/// written, so the only failures it can have are database errors; anything else would be a
/// bug, reported as an internal error rather than invented as one of this module's outcomes.
impl From<crate::inbox::InboxError> for WriteError {
    fn from(e: crate::inbox::InboxError) -> Self {
        match e {
            crate::inbox::InboxError::Db(e) => WriteError::Db(e),
            other => WriteError::Db(DbError::Sqlx(sqlx::Error::Protocol(format!(
                "mirroring into the inbox failed: {other}"
            )))),
        }
    }
}

/// Fails with [`WriteError::MissingRef`] unless `id` is a visible row of `what`.
pub(crate) async fn require(tx: &mut TenantTx, what: Ref, id: Uuid) -> Result<(), WriteError> {
    let found: bool = sqlx::query_scalar(what.exists_sql())
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    if found {
        Ok(())
    } else {
        Err(WriteError::MissingRef(what))
    }
}

/// [`require`] for an optional reference being set (`Set(Some(id))`); clearing or keeping
/// needs no check.
pub(crate) async fn require_patch(
    tx: &mut TenantTx,
    what: Ref,
    patch: &Patch<Option<Uuid>>,
) -> Result<(), WriteError> {
    match patch {
        Patch::Set(Some(id)) => require(tx, what, *id).await,
        _ => Ok(()),
    }
}

/// The customer whose primary phone number is `phone` (E.164), if any.
pub async fn customer_by_phone(tx: &mut TenantTx, phone: &str) -> Result<Option<Uuid>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM app.customers WHERE phone = $1")
            .bind(phone)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// A value bound into a write. One variant per SQL type the graph's columns use, so changes
/// of different types can be listed together and pushed by one loop.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Text(Option<String>),
    Int(Option<i32>),
    BigInt(Option<i64>),
    Num(Option<Decimal>),
    Bool(bool),
    Id(Option<Uuid>),
    Json(Option<serde_json::Value>),
    TextArray(Vec<String>),
    Time(Option<DateTime<Utc>>),
    Doc(Doc),
    Bytes(Option<Vec<u8>>),
}

macro_rules! val_from {
    ($($t:ty => $variant:ident($conv:expr)),+ $(,)?) => {
        $(impl From<$t> for Val {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Val::$variant(($conv)(v))
            }
        })+
    };
}

val_from! {
    String => Text(Some),
    Option<String> => Text(|v| v),
    &'static str => Text(|v: &str| Some(v.to_owned())),
    Option<&'static str> => Text(|v: Option<&str>| v.map(str::to_owned)),
    i32 => Int(Some),
    Option<i32> => Int(|v| v),
    Option<i64> => BigInt(|v| v),
    Decimal => Num(Some),
    Option<Decimal> => Num(|v| v),
    bool => Bool(|v| v),
    Uuid => Id(Some),
    Option<Uuid> => Id(|v| v),
    serde_json::Value => Json(Some),
    Option<serde_json::Value> => Json(|v| v),
    Vec<String> => TextArray(|v| v),
    Option<DateTime<Utc>> => Time(|v| v),
    Doc => Doc(|v| v),
    Option<Vec<u8>> => Bytes(|v| v),
}

impl Val {
    /// Pushes the value as the next bound parameter. A [`Doc::Merge`] binds the keys it sets:
    /// what merging them into an insert's empty default gives.
    pub(crate) fn bind_into(self, qb: &mut QueryBuilder<'static, Postgres>) {
        match self {
            Val::Text(v) => qb.push_bind(v),
            Val::Int(v) => qb.push_bind(v),
            Val::BigInt(v) => qb.push_bind(v),
            Val::Num(v) => qb.push_bind(v),
            Val::Bool(v) => qb.push_bind(v),
            Val::Id(v) => qb.push_bind(v),
            Val::Json(v) => qb.push_bind(v),
            Val::TextArray(v) => qb.push_bind(v),
            Val::Time(v) => qb.push_bind(v),
            Val::Doc(Doc::Replace(v)) => qb.push_bind(v),
            Val::Doc(Doc::Merge { set, .. }) => qb.push_bind(serde_json::Value::Object(set)),
            Val::Bytes(v) => qb.push_bind(v),
        };
    }
}

/// The columns a write carries, in field order.
pub(crate) type Changes = Vec<(&'static str, Val)>;

/// Lists the [`Patch::Set`] fields of `$src` (named like their columns) as [`Changes`].
macro_rules! changes {
    ($src:expr; $($field:ident),+ $(,)?) => {{
        let mut out: $crate::graph::Changes = Vec::new();
        $(
            if let $crate::graph::Patch::Set(v) = &$src.$field {
                out.push((stringify!($field), $crate::graph::Val::from(v.clone())));
            }
        )+
        out
    }};
}
pub(crate) use changes;

/// `INSERT INTO {table} (col, …) VALUES ($1, …)` for `changes` (not terminated: callers add
/// `ON CONFLICT` / `RETURNING`). With no changes at all it inserts the defaults.
pub(crate) fn insert(table: &'static str, changes: Changes) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::new("INSERT INTO ");
    qb.push(table);
    if changes.is_empty() {
        qb.push(" DEFAULT VALUES");
        return qb;
    }
    qb.push(" (");
    for (i, (col, _)) in changes.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push(*col);
    }
    qb.push(") VALUES (");
    for (i, (_, val)) in changes.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        val.bind_into(&mut qb);
    }
    qb.push(")");
    qb
}

/// Pushes `col = $n, …` for `changes` (an `UPDATE`'s SET list; `changes` must not be empty).
/// A [`Doc::Merge`] becomes `col = (col || $n) - $m::text[]`: one statement, so concurrent
/// merges of different keys both land.
pub(crate) fn push_sets(qb: &mut QueryBuilder<'static, Postgres>, changes: Changes) {
    for (i, (col, val)) in changes.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push(col).push(" = ");
        match val {
            Val::Doc(Doc::Merge { set, remove }) => {
                qb.push("(").push(col).push(" || ");
                qb.push_bind(serde_json::Value::Object(set));
                qb.push(") - ").push_bind(remove).push("::text[]");
            }
            val => val.bind_into(qb),
        }
    }
}

/// `UPDATE {table} SET col = $1, … WHERE id = $n` (not terminated: callers may add
/// predicates and `RETURNING`). `changes` must not be empty.
pub(crate) fn update(
    table: &'static str,
    changes: Changes,
    id: Uuid,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::new("UPDATE ");
    qb.push(table).push(" SET ");
    push_sets(&mut qb, changes);
    qb.push(" WHERE id = ").push_bind(id);
    qb
}

/// Writes `changes` to row `id` of `table`; `WriteError::NotFound` when the row is not visible.
/// With nothing to write it only looks the row up, so the caller still learns whether it
/// exists.
pub(crate) async fn update_row(
    tx: &mut TenantTx,
    table: &'static str,
    changes: Changes,
    id: Uuid,
) -> Result<(), WriteError> {
    let found: Option<Uuid> = if changes.is_empty() {
        let sql = format!("SELECT id FROM {table} WHERE id = $1");
        sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
    } else {
        let mut qb = update(table, changes, id);
        qb.push(" RETURNING id");
        qb.build_query_scalar().fetch_optional(tx.conn()).await?
    };
    found.map(|_| ()).ok_or(WriteError::NotFound)
}

/// Why a status move of row `id` of `table` updated nothing (its `UPDATE … WHERE` names the
/// statuses it may leave): the row is in another status ([`WriteError::Status`]), or it is
/// not visible ([`WriteError::NotFound`]).
pub(crate) async fn refused_move(tx: &mut TenantTx, table: &'static str, id: Uuid) -> WriteError {
    let sql = format!("SELECT status FROM {table} WHERE id = $1");
    match sqlx::query_scalar::<_, String>(&sql)
        .bind(id)
        .fetch_optional(tx.conn())
        .await
    {
        Ok(Some(current)) => WriteError::Status { current },
        Ok(None) => WriteError::NotFound,
        Err(e) => WriteError::Db(e.into()),
    }
}

/// Locks the row `id` of `table` (one of the fact tables, which all have `customer_id`) for
/// the rest of the transaction and returns its current customer: `None` when the row is not
/// visible. The lock makes the read-then-write of an update exact: nobody can move the row
/// to another customer between our read of its owner and our counter refresh.
pub(crate) async fn lock_owner(
    tx: &mut TenantTx,
    table: &'static str,
    id: Uuid,
) -> Result<Option<Option<Uuid>>, DbError> {
    let sql = format!("SELECT customer_id FROM {table} WHERE id = $1 FOR NO KEY UPDATE");
    Ok(sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
}
