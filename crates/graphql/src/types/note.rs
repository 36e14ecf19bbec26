//! `ConversationNote`: an internal note agents leave on a conversation (003 internalNotes),
//! never shown to the customer unless marked visible.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};
use uuid::Uuid;

use super::{Conversation, Member};
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter};

entity! {
    /// An internal note.
    ConversationNote in table!(conversation_notes) => {
    /// The conversation.
    conversation_id: Uuid,
    /// The member who wrote it.
    agent_id: Option<Uuid>,
    /// Text.
    content: String,
    /// Shown to the customer too.
    is_visible: bool,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter ConversationNoteFilter {
        id: IdFilter [ConversationNote],
        agent_id: IdFilter [Member],
        is_visible: BooleanFilter,
        created_at: DateTimeFilter,
    }
    /// Text contained in the note (case-insensitive; notes are few per conversation and have
    /// no search column).
    search: contains_any(&[col!(content)]);
    order ConversationNoteOrder, ConversationNoteOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
    }
    // Oldest first: notes read as a log.
    default_order: [CreatedAt asc];
    relations {
        /// The member who wrote it.
        agent: one Member via agent_id,
        /// The conversation.
        conversation: required Conversation via conversation_id,
    }
    access: { read: Viewer + ReadConversations, write: Agent + WriteMessages, delete: Supervisor + WriteMessages };
    constraints {
        "conversation_notes_conversation_fkey" => "input.conversationId":
            NotFound("Conversation"),
    }
    fields {}
}
