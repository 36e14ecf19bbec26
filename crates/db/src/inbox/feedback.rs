//! Thumbs feedback on a message after the fact (seed 002 `metadata.feedbackRating`).
//!
//! The rating stays where seed 002 keeps it and the `messages.metadata` CHECK validates it,
//! `feedbackRating` (`positive` / `negative`); the comment, the time and the member who rated
//! sit next to it (`feedbackComment`, `feedbackAt`, `feedbackBy`). One statement replaces all
//! four keys, so a rating and its comment always belong together, and the rest of the metadata
//! (`model`, …) is left alone. Only replies are rated (outbound messages: the AI's, an
//! agent's, the system's): a customer's message is not an answer.

use uuid::Uuid;

use super::{acting_member, InboxError};
use crate::TenantTx;

/// Sets (or with `rating` `None`, clears) the feedback of message `id`. `rating` is the stored
/// spelling, `positive` or `negative`; `comment` is kept only with a rating.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn set(
    tx: &mut TenantTx,
    id: Uuid,
    rating: Option<&'static str>,
    comment: Option<&str>,
) -> Result<(), InboxError> {
    let by = acting_member(tx).await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.messages
            SET metadata = (metadata - 'feedbackRating' - 'feedbackComment' - 'feedbackAt'
                                     - 'feedbackBy')
                           || CASE WHEN $2::text IS NULL THEN '{}'::jsonb
                                   ELSE jsonb_strip_nulls(jsonb_build_object(
                                          'feedbackRating', $2::text, 'feedbackComment', $3::text,
                                          'feedbackAt', now(), 'feedbackBy', $4::uuid)) END
          WHERE id = $1 AND direction = 'outbound' RETURNING id",
    )
    .bind(id)
    .bind(rating)
    .bind(comment)
    .bind(by)
    .fetch_optional(tx.conn())
    .await?;
    if done.is_some() {
        return Ok(());
    }
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM app.messages WHERE id = $1)")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
    Err(if found {
        InboxError::NotApplicable("is a customer's message; only replies are rated")
    } else {
        InboxError::NotFound
    })
}
