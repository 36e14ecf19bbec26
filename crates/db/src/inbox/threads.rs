//! AI provider threads behind conversations (seed 003 `ConversationThread`, the renamed
//! `UserThread`): create, change, delete.
//!
//! Rules:
//! - a thread's conversation and customer agree: a new thread of a conversation takes the
//!   conversation's customer unless one is given, and a different one is refused
//!   ([`InboxError::CustomerMismatch`]);
//! - its phone number (003 `userId`, what the legacy bot keyed threads by) defaults to the
//!   customer's number, else the conversation's captured contact number
//!   ([`InboxError::NoPhone`] when there is none);
//! - a conversation has at most one active thread (the partial unique index
//!   `conversation_threads_active_key`): making a thread active, by creating it or by setting
//!   `is_active`, deactivates the conversation's other active thread in the same transaction.
//!   That rotation runs under the conversation's row lock, so two concurrent rotations of one
//!   conversation queue instead of one failing on the index.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{conversations, require_customer, InboxError, Ref};
use crate::graph::{changes, insert, update_row, Patch, WriteError};
use crate::TenantTx;

/// The writable fields of a thread, named like their columns.
#[derive(Debug, Clone, Default)]
pub struct ThreadFields {
    /// The conversation (create only).
    pub conversation_id: Patch<Option<Uuid>>,
    /// The customer (create only; defaults to the conversation's).
    pub customer_id: Patch<Option<Uuid>>,
    /// E.164 number (defaults on create, see the module docs).
    pub phone_number: Patch<String>,
    /// The provider's thread id, unique in the tenant.
    pub thread_id: Patch<String>,
    /// Messages exchanged (>= 0).
    pub message_count: Patch<i32>,
    /// The latest exchange.
    pub last_interaction: Patch<Option<DateTime<Utc>>>,
    /// The latest history trim.
    pub last_cleanup: Patch<Option<DateTime<Utc>>>,
    /// The conversation's current thread (default true on create).
    pub is_active: Patch<bool>,
}

/// Deactivates the other active thread of `conversation`, under the conversation's row lock.
async fn rotate(
    tx: &mut TenantTx,
    conversation: Uuid,
    keep: Option<Uuid>,
) -> Result<(), InboxError> {
    conversations::lock(tx, conversation)
        .await?
        .ok_or(InboxError::MissingRef(Ref::Conversation))?;
    sqlx::query(
        "UPDATE app.conversation_threads SET is_active = false
          WHERE conversation_id = $1 AND is_active AND id IS DISTINCT FROM $2",
    )
    .bind(conversation)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Creates a thread and returns its id (see the module docs for the defaults and rules).
#[tracing::instrument(skip_all)]
pub async fn create(tx: &mut TenantTx, fields: &ThreadFields) -> Result<Uuid, InboxError> {
    let mut f = fields.clone();
    let mut phone: Option<String> = None;
    if let Patch::Set(Some(customer)) = fields.customer_id {
        require_customer(tx, customer).await?;
    }
    if let Patch::Set(Some(conversation)) = fields.conversation_id {
        let found: Option<(Option<Uuid>, Option<String>)> = sqlx::query_as(
            "SELECT c.customer_id, coalesce(cu.phone, c.client_phone)
               FROM app.conversations c LEFT JOIN app.customers cu ON cu.id = c.customer_id
              WHERE c.id = $1",
        )
        .bind(conversation)
        .fetch_optional(tx.conn())
        .await?;
        let (customer, number) = found.ok_or(InboxError::MissingRef(Ref::Conversation))?;
        match (&f.customer_id, customer) {
            (Patch::Set(Some(given)), Some(theirs)) if *given != theirs => {
                return Err(InboxError::CustomerMismatch)
            }
            (Patch::Keep, Some(theirs)) => f.customer_id = Patch::Set(Some(theirs)),
            _ => {}
        }
        phone = number;
    }
    if let (Patch::Set(Some(customer)), None) = (&f.customer_id, &phone) {
        phone = sqlx::query_scalar("SELECT phone FROM app.customers WHERE id = $1")
            .bind(*customer)
            .fetch_one(tx.conn())
            .await?;
    }
    if !f.phone_number.is_set() {
        f.phone_number = Patch::Set(phone.ok_or(InboxError::NoPhone)?);
    }
    let active = !matches!(f.is_active, Patch::Set(false));
    if let (true, Patch::Set(Some(conversation))) = (active, &fields.conversation_id) {
        rotate(tx, *conversation, None).await?;
    }
    let changes = changes!(f; conversation_id, customer_id, phone_number, thread_id,
        message_count, last_interaction, last_cleanup, is_active);
    let mut qb = insert("app.conversation_threads", changes);
    qb.push(" RETURNING id");
    Ok(qb.build_query_scalar().fetch_one(tx.conn()).await?)
}

/// Changes the set fields of thread `id` (its conversation and customer stay).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn update(tx: &mut TenantTx, id: Uuid, fields: &ThreadFields) -> Result<(), InboxError> {
    if let Patch::Set(true) = fields.is_active {
        let conversation: Option<Option<Uuid>> = sqlx::query_scalar(
            "SELECT conversation_id FROM app.conversation_threads WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        match conversation {
            None => return Err(InboxError::NotFound),
            Some(Some(c)) => rotate(tx, c, Some(id)).await?,
            Some(None) => {}
        }
    }
    let changes = changes!(fields; phone_number, thread_id, message_count, last_interaction,
        last_cleanup, is_active);
    update_row(tx, "app.conversation_threads", changes, id)
        .await
        .map_err(|e| match e {
            WriteError::Db(e) => InboxError::Db(e),
            _ => InboxError::NotFound,
        })
}

/// Deletes thread `id`. Nothing references threads.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), InboxError> {
    let deleted: Option<Uuid> =
        sqlx::query_scalar("DELETE FROM app.conversation_threads WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    deleted.map(|_| ()).ok_or(InboxError::NotFound)
}
