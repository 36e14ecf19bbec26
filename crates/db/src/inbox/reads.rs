//! Per-member read markers (`app.conversation_reads`), the input of `app.unread_count`.
//!
//! A marker holds a position in commit order: every message whose `seq` is at most
//! `last_read_seq` is read (seeded history, which has no `seq`, compares `sent_at` with
//! `last_read_at`). Why `seq` and not a time: `seq` is assigned when the writing transaction
//! commits (migration 0008), so every message this transaction can see has a `seq` no larger
//! than the largest one it sees, and a message it cannot see yet will get a larger one. Marking
//! "read up to the largest visible `seq`" therefore never marks read a message the reader has
//! not been able to see, which a timestamp cannot promise (a message inserted earlier but
//! committed later carries an older `sent_at`).
//!
//! Markers only move forward: each field is the `GREATEST` of the stored and the new value,
//! in one upsert, so concurrent or out-of-order marks (two tabs) cannot move one back.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{acting_member, conversations, InboxError, Ref};
use crate::TenantTx;

/// Marks conversation `conversation_id` read for the acting member: up to message `up_to`
/// (which must be in the conversation), or up to its latest visible message. For `up_to`
/// the time part of the marker is that message's `sent_at`, so seeded history after it stays
/// unread; without it, the time part is now.
#[tracing::instrument(skip_all, fields(%conversation_id))]
pub async fn mark_read(
    tx: &mut TenantTx,
    conversation_id: Uuid,
    up_to: Option<Uuid>,
) -> Result<(), InboxError> {
    let member = acting_member(tx).await?.ok_or(InboxError::NotMember)?;
    if conversations::peek(tx, conversation_id).await?.is_none() {
        return Err(InboxError::NotFound);
    }
    let (message, seq, at): (Option<Uuid>, Option<i64>, Option<DateTime<Utc>>) = match up_to {
        Some(id) => sqlx::query_as(
            "SELECT id, seq, sent_at FROM app.messages WHERE id = $1 AND conversation_id = $2",
        )
        .bind(id)
        .bind(conversation_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(InboxError::MissingRef(Ref::UpTo))?,
        // The latest message in commit order (live messages), else by time (seeded history).
        None => sqlx::query_as(
            "SELECT id, seq, now() FROM app.messages WHERE conversation_id = $1
             ORDER BY seq DESC NULLS LAST, sent_at DESC, id DESC LIMIT 1",
        )
        .bind(conversation_id)
        .fetch_optional(tx.conn())
        .await?
        .unwrap_or((None, None, None)),
    };
    sqlx::query(
        "INSERT INTO app.conversation_reads AS r
           (conversation_id, user_id, last_read_seq, last_read_at, last_read_message_id)
         VALUES ($1, $2, $3, coalesce($4, now()), $5)
         ON CONFLICT (tenant_id, conversation_id, user_id) DO UPDATE SET
           last_read_seq = greatest(r.last_read_seq, excluded.last_read_seq),
           last_read_at = greatest(r.last_read_at, excluded.last_read_at),
           last_read_message_id = CASE
             WHEN coalesce(excluded.last_read_seq, -1) > coalesce(r.last_read_seq, -1)
               OR (excluded.last_read_seq IS NULL AND r.last_read_seq IS NULL
                   AND excluded.last_read_at > r.last_read_at)
             THEN coalesce(excluded.last_read_message_id, r.last_read_message_id)
             ELSE r.last_read_message_id END
         WHERE coalesce(excluded.last_read_seq, -1) > coalesce(r.last_read_seq, -1)
            OR excluded.last_read_at > r.last_read_at",
    )
    .bind(conversation_id)
    .bind(member)
    .bind(seq)
    .bind(at)
    .bind(message)
    .execute(tx.conn())
    .await?;
    Ok(())
}
