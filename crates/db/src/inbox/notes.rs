//! Internal notes on a conversation (003 `internalNotes`): a child table, so agents append
//! concurrently without rewriting the conversation row. The note's author is the acting
//! member; a note is hidden from the customer unless `is_visible`.

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
