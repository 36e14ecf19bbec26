//! `updateConversationNote` and `deleteConversationNote`: changing or removing an internal
//! note after the fact (adding one is `addConversationNote`).
//!
//! Authorship rules (seed 003 keeps the `agent` who wrote each note):
//! - only a note's author changes it; anyone else, supervisors included, is `FORBIDDEN` (a
//!   note says what its author wrote);
//! - its author deletes it, and so may anyone holding the note's `delete` rule (supervisors
//!   and up, with `write:messages`), to remove what should not have been written;
//! - every caller first needs the note's `write` rule (agents and up).
//!
//! Another tenant's note is `NOT_FOUND`, like a missing one.

use async_graphql::{Context, Object, SimpleObject, ID};
use frontdesk_db::inbox::notes;

use super::errors::{inbox_error, Names};
use crate::entity::{authorize, global_id, NodeRef, Op};
use crate::mutation::{read_back, Target};
use crate::query::Resolve;
use crate::types::ConversationNote;
use crate::validate::{self, NOTES_MAX};
use crate::ApiError;

const NOTE: Names = Names::of(Target {
    what: "ConversationNote",
    field: "id",
});

/// The result of `deleteConversationNote`.
#[derive(Debug, Clone, SimpleObject)]
pub struct DeleteConversationNotePayload {
    /// The global id of the note that was deleted.
    pub deleted_id: ID,
}

/// Note mutations.
#[derive(Debug, Default)]
pub struct NoteMutation;

#[Object]
impl NoteMutation {
    /// Changes an internal note's text (and, when given, whether the customer may see it).
    /// Only its author may; anyone else is refused with `FORBIDDEN`.
    async fn update_conversation_note(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<ConversationNote>,
        content: String,
        is_visible: Option<bool>,
    ) -> async_graphql::Result<ConversationNote> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<ConversationNote>(&r, Op::Write).await?;
            let content = validate::required_text("content", &content, NOTES_MAX)?;
            let mut tx = r.session.tx().await?;
            notes::update(&mut tx, id, Some(&content), is_visible)
                .await
                .map_err(|e| inbox_error(e, NOTE))?;
            read_back(&mut tx, id).await
        })
        .await
    }

    /// Deletes an internal note: the author's own, or any note for supervisors and up.
    async fn delete_conversation_note(
        &self,
        ctx: &Context<'_>,
        id: NodeRef<ConversationNote>,
    ) -> async_graphql::Result<DeleteConversationNotePayload> {
        let id = id.row();
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<ConversationNote>(&r, Op::Write).await?;
            let any_author = authorize::<ConversationNote>(&r, Op::Delete).await.is_ok();
            let mut tx = r.session.tx().await?;
            notes::delete(&mut tx, id, any_author)
                .await
                .map_err(|e| inbox_error(e, NOTE))?;
            Ok::<_, ApiError>(DeleteConversationNotePayload {
                deleted_id: global_id::encode("ConversationNote", id),
            })
        })
        .await
    }
}
