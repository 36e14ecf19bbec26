//! Ticket writes (seed 003's ticket workflow): open, partial update, assign, escalate, rate,
//! delete here; the status moves in [`status`], notes in [`notes`], related and parent tickets
//! in [`links`].
//!
//! Like the rest of [`crate::graph`], everything runs in the request's [`TenantTx`] (row-level
//! security decides what exists), inputs are validated [`Patch`]es named like their columns,
//! and every value is bound. Writes that change how many tickets a customer has (open,
//! delete) refresh that customer's counters.
//!
//! Rules kept here rather than by the schema, because no constraint can express them:
//! - a ticket opened from a conversation belongs to the conversation's customer: the customer
//!   given must be that one (when the conversation has a customer), and when none is given the
//!   conversation's is taken. The conversation row is share-locked while this is decided, so
//!   its customer cannot change underneath;
//! - tickets are worked by members who can work: an assignee or escalation target must be an
//!   active member of the tenant whose role is above viewer;
//! - every change is activity: `last_activity_at` moves to the transaction's time.
//!
//! The number `TICKET-YYYY-NNNNNN` is assigned by the database (`app.assign_ticket_number`,
//! migration 0005): gap-free per tenant and year, because the counter row is updated in the
//! inserting transaction and rolls back with it.

pub mod links;
pub mod notes;
pub mod status;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{changes, counters, Patch, Ref, WriteError};
use crate::{DbError, TenantTx};

/// Why a ticket write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Not found, a missing customer/conversation/member, a status that does not allow the
    /// move, or a database error.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A ticket the input refers to (parent, related ticket) is not visible.
    #[error("the referenced ticket is not visible")]
    MissingTicket,
    /// Neither a customer was given nor does the conversation have one.
    #[error("no customer: none given and the conversation has none")]
    NoCustomer,
    /// The conversation belongs to another customer than the ticket's.
    #[error("the conversation belongs to another customer")]
    CustomerMismatch,
    /// The member exists but cannot work tickets (a viewer, or deactivated).
    #[error("the member cannot work tickets")]
    NotWorker,
    /// The parent would make the ticket its own ancestor.
    #[error("the ticket would become its own ancestor")]
    Cycle,
    /// Only the author of a note (or a moderator) may change or delete it.
    #[error("not the note's author")]
    NotAuthor,
}

impl From<DbError> for TicketError {
    fn from(e: DbError) -> Self {
        TicketError::Write(WriteError::Db(e))
    }
}

impl From<sqlx::Error> for TicketError {
    fn from(e: sqlx::Error) -> Self {
        TicketError::Write(e.into())
    }
}

/// The statuses of a ticket that is still being worked (not resolved or closed).
pub const ACTIVE: &[&str] = &[
    "open",
    "in_progress",
    "waiting_customer",
    "waiting_internal",
];

/// The statuses of a finished ticket.
pub const FINISHED: &[&str] = &["resolved", "closed"];

/// Minutes from the ticket's creation to now, as `first_response_time` and `resolution_time`
/// store them (never negative: the CHECKs refuse that, and an imported `created_at` may lie
/// in the future).
pub(crate) const MINUTES_SINCE_CREATED: &str =
    "greatest(round(extract(epoch FROM now() - created_at) / 60, 2), 0)";

/// Now as the ISO-8601 text the JSON documents store (`2025-03-14T09:30:00.000Z`).
pub(crate) const NOW_ISO: &str =
    "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

/// The content columns of a ticket, written by [`open`] and [`update`]. For `open`, `subject`,
/// `description` and `category` must be set. Enumerated columns take their database spelling;
/// the documents (`attachments`, `location`, `labels`) are already in their stored shape.
#[derive(Debug, Clone, Default)]
pub struct TicketFields {
    /// The conversation it came from.
    pub conversation_id: Patch<Option<Uuid>>,
    /// One line, at most 200 characters.
    pub subject: Patch<String>,
    /// The whole story.
    pub description: Patch<String>,
    /// One of the 8 categories.
    pub category: Patch<&'static str>,
    /// Finer classification.
    pub subcategory: Patch<Option<String>>,
    /// `low`, `medium` (the default), `high` or `urgent`.
    pub priority: Patch<&'static str>,
    /// `standard` (the default), `priority` or `vip`.
    pub sla_level: Patch<&'static str>,
    /// When it should be resolved.
    pub estimated_resolution: Patch<Option<DateTime<Utc>>>,
    /// JSON array of attachment documents.
    pub attachments: Patch<Value>,
    /// JSON location document.
    pub location: Patch<Option<Value>>,
    /// Free labels.
    pub tags: Patch<Vec<String>>,
    /// JSON array of `{name, color}`.
    pub labels: Patch<Value>,
    /// Its id in an external system.
    pub external_id: Patch<Option<String>>,
    /// Its page in an external system.
    pub external_url: Patch<Option<String>>,
}

fn to_changes(f: &TicketFields) -> super::Changes {
    changes!(f; conversation_id, subject, description, category, subcategory, priority,
        sla_level, estimated_resolution, attachments, location, tags, labels, external_id,
        external_url)
}

/// A ticket to open.
#[derive(Debug, Clone)]
pub struct Opening {
    /// The customer; when `None`, the conversation's.
    pub customer_id: Option<Uuid>,
    /// The member who opens it (recorded as `opened_by`).
    pub opened_by: Uuid,
    /// The member to work on it.
    pub assigned_agent_id: Option<Uuid>,
    /// The ticket it is part of.
    pub parent_ticket_id: Option<Uuid>,
    /// Its content (and conversation).
    pub fields: TicketFields,
}

/// The customer of conversation `id` (`Some(None)`: the conversation has none), share-locked
/// until the transaction ends; [`WriteError::MissingRef`] when it is not visible.
async fn conversation_customer(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, TicketError> {
    let found: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT customer_id FROM app.conversations WHERE id = $1 FOR SHARE")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    found.ok_or(TicketError::Write(WriteError::MissingRef(
        Ref::Conversation,
    )))
}

/// Fails unless `id` is an active member of the tenant above viewer:
/// [`WriteError::MissingRef`]`(Member)` when not a member at all, [`TicketError::NotWorker`]
/// when a viewer or deactivated. Memberships need the explicit tenant predicate: their policy
/// also shows the acting user's memberships of other tenants.
pub async fn require_worker(tx: &mut TenantTx, id: Uuid) -> Result<(), TicketError> {
    let works: Option<bool> = sqlx::query_scalar(
        "SELECT is_active AND role <> 'viewer' FROM app.memberships
          WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match works {
        Some(true) => Ok(()),
        Some(false) => Err(TicketError::NotWorker),
        None => Err(WriteError::MissingRef(Ref::Member).into()),
    }
}

/// `user` when they are a member of the tenant, else `None`: the member recorded as a
/// ticket's opener or a note's author. (Every caller is a member once requests read their
/// membership; until then a token's user may not be, and the record is left empty rather than
/// failing the write on the foreign key.)
pub(crate) async fn as_member(tx: &mut TenantTx, user: Uuid) -> Result<Option<Uuid>, TicketError> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM app.memberships
          WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
    )
    .bind(user)
    .fetch_optional(tx.conn())
    .await?)
}

/// Fails with [`TicketError::MissingTicket`] unless ticket `id` is visible.
pub(crate) async fn require_ticket(tx: &mut TenantTx, id: Uuid) -> Result<(), TicketError> {
    let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.tickets WHERE id = $1)")
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    if found {
        Ok(())
    } else {
        Err(TicketError::MissingTicket)
    }
}

/// Opens a ticket and returns its id; the database numbers it.
#[tracing::instrument(skip_all)]
pub async fn open(tx: &mut TenantTx, t: &Opening) -> Result<Uuid, TicketError> {
    let from_conversation = match &t.fields.conversation_id {
        Patch::Set(Some(c)) => Some(conversation_customer(tx, *c).await?),
        _ => None,
    };
    let customer = match (t.customer_id, from_conversation) {
        (Some(given), Some(Some(theirs))) if given != theirs => {
            return Err(TicketError::CustomerMismatch)
        }
        (Some(given), _) => given,
        (None, Some(Some(theirs))) => theirs,
        (None, _) => return Err(TicketError::NoCustomer),
    };
    super::require(tx, Ref::Customer, customer).await?;
    if let Some(agent) = t.assigned_agent_id {
        require_worker(tx, agent).await?;
    }
    if let Some(parent) = t.parent_ticket_id {
        require_ticket(tx, parent).await?;
    }
    let mut changes = to_changes(&t.fields);
    changes.push(("customer_id", customer.into()));
    changes.push(("opened_by", as_member(tx, t.opened_by).await?.into()));
    changes.push(("assigned_agent_id", t.assigned_agent_id.into()));
    changes.push(("parent_ticket_id", t.parent_ticket_id.into()));
    let mut qb = super::insert("app.tickets", changes);
    qb.push(" RETURNING id");
    let id: Uuid = qb.build_query_scalar().fetch_one(tx.conn()).await?;
    counters::refresh(tx, &[Some(customer)]).await?;
    Ok(id)
}

/// Changes the set fields of ticket `id`. A new conversation must be the ticket's customer's
/// (or have no customer).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &TicketFields) -> Result<(), TicketError> {
    let customer = super::lock_owner(tx, "app.tickets", id)
        .await?
        .flatten()
        .ok_or(WriteError::NotFound)?;
    if let Patch::Set(Some(c)) = fields.conversation_id {
        if conversation_customer(tx, c)
            .await?
            .is_some_and(|theirs| theirs != customer)
        {
            return Err(TicketError::CustomerMismatch);
        }
    }
    let changes = to_changes(fields);
    if changes.is_empty() {
        return Ok(());
    }
    let mut qb = sqlx::QueryBuilder::new("UPDATE app.tickets SET ");
    super::push_sets(&mut qb, changes);
    qb.push(", last_activity_at = now() WHERE id = ")
        .push_bind(id);
    qb.build().execute(tx.conn()).await?;
    Ok(())
}

/// Assigns ticket `id` to `agent` (a member who can work), or unassigns it (`None`).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn assign(tx: &mut TenantTx, id: Uuid, agent: Option<Uuid>) -> Result<(), TicketError> {
    if let Some(agent) = agent {
        require_worker(tx, agent).await?;
    }
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.tickets SET assigned_agent_id = $2, last_activity_at = now()
          WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .bind(agent)
    .fetch_optional(tx.conn())
    .await?;
    done.map(|_| ()).ok_or(WriteError::NotFound.into())
}

/// Escalates an unfinished ticket to member `to` (who can work) for `reason`, recording when.
/// A finished ticket is refused with its status; escalating again re-targets it.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn escalate(
    tx: &mut TenantTx,
    id: Uuid,
    to: Uuid,
    reason: Option<&str>,
) -> Result<(), TicketError> {
    require_worker(tx, to).await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.tickets SET escalated = true, escalated_to = $2, escalated_at = now(),
                escalation_reason = $3, last_activity_at = now()
          WHERE id = $1 AND status = ANY ($4) RETURNING id",
    )
    .bind(id)
    .bind(to)
    .bind(reason)
    .bind(ACTIVE)
    .fetch_optional(tx.conn())
    .await?;
    match done {
        Some(_) => Ok(()),
        None => Err(super::refused_move(tx, "app.tickets", id).await.into()),
    }
}

/// Records the customer's rating of a finished ticket: `feedback` (rating, comment,
/// followUpNeeded) with `submittedAt` = now, replacing an earlier one.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn rate(tx: &mut TenantTx, id: Uuid, feedback: &Value) -> Result<(), TicketError> {
    let sql = format!(
        "UPDATE app.tickets SET customer_feedback = $2 || jsonb_build_object('submittedAt', {NOW_ISO}),
                last_activity_at = now()
          WHERE id = $1 AND status = ANY ($3) RETURNING id"
    );
    let done: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(id)
        .bind(feedback)
        .bind(FINISHED)
        .fetch_optional(tx.conn())
        .await?;
    match done {
        Some(_) => Ok(()),
        None => Err(super::refused_move(tx, "app.tickets", id).await.into()),
    }
}

/// Deletes ticket `id`: its notes and links go with it (cascade), its sub-tickets lose their
/// parent (`SET NULL`), and its customer's ticket count is refreshed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), TicketError> {
    let customer: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.tickets WHERE id = $1 RETURNING customer_id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    let customer = customer.ok_or(WriteError::NotFound)?;
    counters::refresh(tx, &[Some(customer)]).await?;
    Ok(())
}
