//! Internal notes on a conversation (003 `internalNotes`): a child table, so agents append
//! concurrently without rewriting the conversation row. The note's author is the acting
//! member; a note is hidden from the customer unless `is_visible`. Only the author changes a
//! note; the author or a supervisor deletes it (the caller says which, see [`delete`]).

use uuid::Uuid;

use super::{acting_member, InboxError};
use crate::TenantTx;

/// Adds a note to conversation `conversation_id` (any status: notes are for the team, and a
/// closed conversation may still need one). Returns the note's id.
#[tracing::instrument(skip_all, fields(%conversation_id))]
pub async fn add(
    tx: &mut TenantTx,
    conversation_id: Uuid,
    content: &str,
    is_visible: Option<bool>,
) -> Result<Uuid, InboxError> {
    let agent = acting_member(tx).await?;
    // INSERT … SELECT from the conversation: an invisible one (missing, another tenant's)
    // inserts nothing.
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO app.conversation_notes (conversation_id, agent_id, content, is_visible)
         SELECT c.id, $2, $3, coalesce($4, false) FROM app.conversations c WHERE c.id = $1
         RETURNING id",
    )
    .bind(conversation_id)
    .bind(agent)
    .bind(content)
    .bind(is_visible)
    .fetch_optional(tx.conn())
    .await?;
    id.ok_or(InboxError::NotFound)
}

/// After a note write that matched nothing: not visible, or someone else's.
async fn why_not(tx: &mut TenantTx, id: Uuid) -> Result<InboxError, InboxError> {
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.conversation_notes WHERE id = $1)")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    Ok(if found {
        InboxError::NotAuthor
    } else {
        InboxError::NotFound
    })
}

/// Changes note `id`'s text and/or visibility (`None` keeps either). Only its author may:
/// the acting member must be the note's `agent_id`, else [`InboxError::NotAuthor`] (a note
/// whose author left, `agent_id` NULL, can no longer be edited, only deleted by a
/// supervisor). The author test is part of the `UPDATE`'s `WHERE`, so it is exact.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    content: Option<&str>,
    is_visible: Option<bool>,
) -> Result<(), InboxError> {
    let me = acting_member(tx).await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversation_notes
            SET content = coalesce($2, content), is_visible = coalesce($3, is_visible)
          WHERE id = $1 AND agent_id = $4 RETURNING id",
    )
    .bind(id)
    .bind(content)
    .bind(is_visible)
    .bind(me)
    .fetch_optional(tx.conn())
    .await?;
    match done {
        Some(_) => Ok(()),
        None => Err(why_not(tx, id).await?),
    }
}

/// Deletes note `id`: the author's own, or any note when `any_author` (the caller holds the
/// note's delete rule, supervisors and up). [`InboxError::NotAuthor`] for someone else's
/// note without `any_author`.
#[tracing::instrument(skip_all, fields(%id, any_author))]
pub async fn delete(tx: &mut TenantTx, id: Uuid, any_author: bool) -> Result<(), InboxError> {
    let me = acting_member(tx).await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "DELETE FROM app.conversation_notes
          WHERE id = $1 AND ($2 OR agent_id = $3) RETURNING id",
    )
    .bind(id)
    .bind(any_author)
    .bind(me)
    .fetch_optional(tx.conn())
    .await?;
    match done {
        Some(_) => Ok(()),
        None => Err(why_not(tx, id).await?),
    }
}
