//! Ticket notes: add, change and delete (seed 003 `notes[]`, a child table because many
//! members append to it).
//!
//! Adding a note is activity on its ticket (`last_activity_at`), and the first note that is
//! not internal, written by a member other than the ticket's opener, is the ticket's first
//! response (`first_response_time`, see [`super::status`]). The ticket row is updated first,
//! which both proves it visible and locks it, so the note cannot be added to a ticket being
//! deleted.
//!
//! Only a note's author may change or delete it, unless the caller is a moderator (the API
//! decides who is: supervisors and above). The note is locked while that is decided.
//! Changing a note (even making it public) is not a response: the response time counts from
//! when something was first said to the customer.

use uuid::Uuid;

use super::{as_member, TicketError, MINUTES_SINCE_CREATED};
use crate::graph::{changes, Patch, WriteError};
use crate::TenantTx;

/// The writable columns of a note.
#[derive(Debug, Clone, Default)]
pub struct NoteFields {
    /// Text.
    pub content: Patch<String>,
    /// Hidden from the customer.
    pub is_internal: Patch<bool>,
    /// URLs of attached files.
    pub attachments: Patch<Vec<String>>,
}

/// Adds a note by `author` to ticket `ticket`; returns the note's id.
/// [`WriteError::NotFound`] when the ticket is not visible.
#[tracing::instrument(skip_all, fields(%ticket))]
pub async fn add(
    tx: &mut TenantTx,
    ticket: Uuid,
    author: Uuid,
    content: &str,
    is_internal: bool,
    attachments: &[String],
) -> Result<Uuid, TicketError> {
    let sql = format!(
        "UPDATE app.tickets SET last_activity_at = now(),
            first_response_time = CASE
              WHEN first_response_time IS NULL AND NOT $3 AND opened_by IS DISTINCT FROM $2
              THEN {MINUTES_SINCE_CREATED} ELSE first_response_time END
          WHERE id = $1 RETURNING id"
    );
    let found: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(ticket)
        .bind(author)
        .bind(is_internal)
        .fetch_optional(tx.conn())
        .await?;
    found.ok_or(WriteError::NotFound)?;
    let author = as_member(tx, author).await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO app.ticket_notes (ticket_id, agent_id, content, is_internal, attachments)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ticket)
    .bind(author)
    .bind(content)
    .bind(is_internal)
    .bind(attachments)
    .fetch_one(tx.conn())
    .await?)
}

/// Locks note `id` and checks that `actor` may change it: its author, or anyone when
/// `moderator`. Returns the note's ticket.
async fn lock_for(
    tx: &mut TenantTx,
    id: Uuid,
    actor: Uuid,
    moderator: bool,
) -> Result<Uuid, TicketError> {
    let found: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "SELECT ticket_id, agent_id FROM app.ticket_notes WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (ticket, author) = found.ok_or(WriteError::NotFound)?;
    if moderator || author == Some(actor) {
        Ok(ticket)
    } else {
        Err(TicketError::NotAuthor)
    }
}

async fn touch(tx: &mut TenantTx, ticket: Uuid) -> Result<(), TicketError> {
    sqlx::query("UPDATE app.tickets SET last_activity_at = now() WHERE id = $1")
        .bind(ticket)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Changes the set fields of note `id` as `actor` (see the module docs for who may).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    actor: Uuid,
    moderator: bool,
    fields: &NoteFields,
) -> Result<(), TicketError> {
    let ticket = lock_for(tx, id, actor, moderator).await?;
    let changes = changes!(fields; content, is_internal, attachments);
    if changes.is_empty() {
        return Ok(());
    }
    crate::graph::update_row(tx, "app.ticket_notes", changes, id).await?;
    touch(tx, ticket).await
}

/// Deletes note `id` as `actor` (see the module docs for who may).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(
    tx: &mut TenantTx,
    id: Uuid,
    actor: Uuid,
    moderator: bool,
) -> Result<(), TicketError> {
    let ticket = lock_for(tx, id, actor, moderator).await?;
    sqlx::query("DELETE FROM app.ticket_notes WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    touch(tx, ticket).await
}
