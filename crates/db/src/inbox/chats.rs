//! Seed 002's chats: a member's conversation with the AI assistant about the tenant (the
//! agency's client), without a customer, addressed by the widget's `conversation_key`, and
//! with the soft lifecycle `active` → `archived` → `deleted`.
//!
//! A chat is a conversation with a `conversation_key` and no customer; its owner is `user_id`
//! (the member who started it; NULL once their membership is removed). Lifecycle moves:
//!
//! | to | allowed from |
//! |---|---|
//! | `archived` | active |
//! | `deleted` | active, archived |
//!
//! `deleted` is final and soft: the row stays (readable, `lifecycle = deleted`) until the
//! retention purge removes it.
//!
//! Retention (seed 002: a TTL index on `createdAt` with `expireAfterSeconds: 7776000`, and a
//! daily job deleting chats marked deleted 90 days ago): `expires_at` is set to creation plus
//! [`RETENTION_DAYS`] when the chat starts, and the lifecycle moves leave it, because the TTL
//! removes every chat 90 days after creation whatever its state, which is never later than 90
//! days after its deletion. The retention pass (`crate::maintenance`) does not act on
//! `expires_at`: it archives and purges by the tenant's retention period instead.

use serde_json::Value;
use uuid::Uuid;

use super::{acting_member, InboxError};
use crate::TenantTx;

/// Days a chat is kept from its creation (seed 002's 90-day TTL).
pub const RETENTION_DAYS: i32 = 90;

/// A new chat.
#[derive(Debug, Clone)]
pub struct NewChat {
    /// The widget's key for it (002 `conversationId`), unique in the tenant.
    pub conversation_key: String,
    /// Title.
    pub title: Option<String>,
    /// Where it happens (database spelling; `web` for the chat widget).
    pub channel: &'static str,
    /// Free-form data (an object: `platformsQueried`, `totalTokensUsed`).
    pub metadata: Option<Value>,
}

/// Starts a chat owned by the acting member ([`InboxError::NotMember`] for a token whose user
/// is not a member: a chat is somebody's). Returns its id.
#[tracing::instrument(skip_all)]
pub async fn start(tx: &mut TenantTx, new: &NewChat) -> Result<Uuid, InboxError> {
    let owner = acting_member(tx).await?.ok_or(InboxError::NotMember)?;
    Ok(sqlx::query_scalar(
        "INSERT INTO app.conversations
           (conversation_key, user_id, title, type, channel, metadata, expires_at)
         VALUES ($1, $2, $3, 'chat', $4, coalesce($5, '{}'::jsonb),
                 now() + make_interval(days => $6))
         RETURNING id",
    )
    .bind(&new.conversation_key)
    .bind(owner)
    .bind(&new.title)
    .bind(new.channel)
    .bind(&new.metadata)
    .bind(RETENTION_DAYS)
    .fetch_one(tx.conn())
    .await?)
}

/// What conversation `id` is to a lifecycle move: `None` when it is not visible, else
/// whether it is a chat and its owner (`None` once the owner's membership is gone).
pub async fn owner(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<(bool, Option<Uuid>)>, InboxError> {
    Ok(sqlx::query_as(
        "SELECT conversation_key IS NOT NULL AND customer_id IS NULL, user_id
           FROM app.conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The lifecycles a move to `target` may start from (see the module table).
pub fn allowed_from(target: &str) -> &'static [&'static str] {
    match target {
        "deleted" => &["active", "archived"],
        _ => &["active"],
    }
}

/// Moves chat `id` to lifecycle `target` (`archived` or `deleted`) when its lifecycle allows
/// it. Refused: not visible ([`InboxError::NotFound`]), not a chat
/// ([`InboxError::NotApplicable`]), or already past it ([`InboxError::Status`] with the
/// current lifecycle). The allowed lifecycles are part of the `UPDATE`'s `WHERE`, so of two
/// concurrent moves the second sees the first's result.
#[tracing::instrument(skip_all, fields(%id, target))]
pub async fn move_lifecycle(
    tx: &mut TenantTx,
    id: Uuid,
    target: &'static str,
) -> Result<(), InboxError> {
    let moved: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversations SET lifecycle = $2
          WHERE id = $1 AND lifecycle = ANY ($3)
            AND conversation_key IS NOT NULL AND customer_id IS NULL
          RETURNING id",
    )
    .bind(id)
    .bind(target)
    .bind(allowed_from(target))
    .fetch_optional(tx.conn())
    .await?;
    if moved.is_some() {
        return Ok(());
    }
    let current: Option<(String, bool)> = sqlx::query_as(
        "SELECT lifecycle, conversation_key IS NOT NULL AND customer_id IS NULL
           FROM app.conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Err(match current {
        None => InboxError::NotFound,
        Some((_, false)) => InboxError::NotApplicable(
            "is a customer conversation, not a chat (chats have no customer)",
        ),
        Some((current, true)) => InboxError::Status { current },
    })
}
