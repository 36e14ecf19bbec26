//! `ConversationThread`: the AI provider's thread behind a conversation (seed 003's
//! `UserThread`, renamed `ConversationThread`: an OpenAI thread id per WhatsApp number). A
//! conversation may rotate threads over time; at most one of its threads is active.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::contains_any;
use frontdesk_db::{col, sort, table};
use uuid::Uuid;

use super::{Conversation, Customer};
use crate::entity::entity;
use crate::list::filter::{BooleanFilter, DateTimeFilter, IdFilter, StringFilter};

entity! {
    /// An AI provider's conversation thread.
    ConversationThread in table!(conversation_threads) => {
    /// The conversation it serves (legacy threads may have none).
    conversation_id: Option<Uuid>,
    /// The customer, when known.
    customer_id: Option<Uuid>,
    /// The WhatsApp number the legacy bot keyed threads by (003 `userId`), E.164.
    phone_number: String,
    /// The provider's thread id (e.g. OpenAI `thread_…`), unique in the tenant.
    thread_id: String,
    /// Messages exchanged in the thread.
    message_count: i32,
    /// The latest exchange.
    last_interaction: Option<DateTime<Utc>>,
    /// When the thread's history was last trimmed.
    last_cleanup: Option<DateTime<Utc>>,
    /// The thread the conversation currently uses (at most one per conversation).
    is_active: bool,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter ConversationThreadFilter {
        id: IdFilter [ConversationThread],
        conversation_id: IdFilter [Conversation],
        customer_id: IdFilter [Customer],
        thread_id: StringFilter,
        phone_number: StringFilter,
        is_active: BooleanFilter,
        last_interaction: DateTimeFilter,
        created_at: DateTimeFilter,
    }
    /// Text contained in the thread id or the phone number.
    search: contains_any(&[col!(thread_id), col!(phone_number)]);
    order ConversationThreadOrder, ConversationThreadOrderField {
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
        /// Last change.
        UpdatedAt => sort!(updated_at: timestamptz),
        /// The latest exchange (threads without one first when ascending).
        LastInteraction => sort!(last_interaction: timestamptz, nulls_first),
    }
    // Newest first: the current thread leads.
    default_order: [CreatedAt desc];
    relations {
        /// The conversation it serves.
        conversation: one Conversation via conversation_id,
        /// The customer, when known.
        customer: one Customer via customer_id,
    }
    root: ConversationThreadQuery { conversation_thread, conversation_threads };
    access: { read: Viewer + ReadConversations, write: Agent + WriteMessages, delete: Supervisor + WriteMessages };
    constraints {
        "conversation_threads_tenant_id_thread_id_key" => "input.threadId":
            Conflict("another thread already has this thread id"),
        "conversation_threads_conversation_fkey" => "input.conversationId":
            NotFound("Conversation"),
        "conversation_threads_customer_fkey" => "input.customerId": NotFound("Customer"),
        "conversation_threads_active_key" => "input.isActive":
            Conflict("the conversation already has an active thread"),
    }
    fields {}
}
