//! `Message`: one message of a conversation (003 messages, the embedded messages of 000/002,
//! and the mirror of an SMS or a call in its customer's conversation). Its documents are in
//! `message_docs.rs`.

use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, exprs, sort, table};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::enums::{
    Direction, DirectionFilter, FeedbackRatingFilter, MessageRole, MessageSender,
    MessageSenderFilter, MessageStatus, MessageStatusFilter, MessageType, MessageTypeFilter,
};
pub use super::message_docs::{
    AiResponse, Attachment, Interactive, InteractiveOption, MessageFeedback, MessageLocation,
    MessageTemplate,
};
use super::{Call, Conversation, Customer, Member, SmsMessage};
use crate::entity::entity;
use crate::list::filter::{DateTimeFilter, IdFilter};

entity! {
    /// A message of a conversation.
    Message in table!(messages) => {
    /// The conversation.
    conversation_id: Uuid,
    /// The customer, when known.
    customer_id: Option<Uuid>,
    /// Chat-completion role (000/002), for rebuilding LLM context.
    role: Option<MessageRole>,
    /// Text (or caption).
    content: String,
    /// Kind of content.
    r#type: MessageType,
    /// Inbound (from the customer) or outbound.
    direction: Direction,
    /// Who wrote it.
    sender: MessageSender,
    /// The member who wrote it (agent messages).
    agent_id: Option<Uuid>,
    /// The channel provider's message id (e.g. WhatsApp `wamid.…`).
    provider_message_id: Option<String>,
    /// Delivery state as the provider last reported it.
    provider_status: Option<MessageStatus>,
    /// The provider's time for the message.
    provider_timestamp: Option<DateTime<Utc>>,
    /// The provider's delivery error.
    provider_error: Option<String>,
    /// Delivery state (only moves forward).
    status: MessageStatus,
    /// Files.
    #[sqlx(json)]
    attachments: Vec<Attachment>,
    /// Shared location.
    #[sqlx(json(nullable))]
    location: Option<MessageLocation>,
    /// Template sent.
    #[sqlx(json(nullable))]
    template: Option<MessageTemplate>,
    /// Buttons or list offered.
    #[sqlx(json(nullable))]
    interactive: Option<Interactive>,
    /// The AI has processed it.
    ai_processed: bool,
    /// What the AI understood.
    #[sqlx(json(nullable))]
    ai_response: Option<AiResponse>,
    /// The message it answers.
    reply_to_id: Option<Uuid>,
    /// Forwarded from elsewhere.
    is_forwarded: bool,
    /// Where it was forwarded from.
    forwarded_from: Option<String>,
    /// Free-form data (`model`, `feedbackRating`, …).
    metadata: serde_json::Value,
    /// The thumbs feedback it got (kept in `metadata`; see `setMessageFeedback`).
    #[sqlx(json(nullable))]
    feedback: Option<MessageFeedback> = exprs::messages::FEEDBACK,
    /// LLM tokens used to write it.
    tokens_used: i32,
    /// What writing or sending it cost.
    cost: Decimal,
    /// The call it mirrors.
    call_id: Option<Uuid>,
    /// The SMS it mirrors.
    sms_message_id: Option<Uuid>,
    /// Position in the tenant's commit order of inbox events: the `messageAdded` event that
    /// announced it has this number, so a client can merge a query with a subscription.
    /// Null for imported history.
    commit_sequence: Option<i64> = exprs::messages::COMMIT_SEQUENCE,
    /// When it was sent or received.
    sent_at: DateTime<Utc>,
    /// When it was delivered.
    delivered_at: Option<DateTime<Utc>>,
    /// When the recipient read it.
    read_at: Option<DateTime<Utc>>,
    /// Created.
    created_at: DateTime<Utc>,
    /// Last changed.
    updated_at: DateTime<Utc>,
    }
    filter MessageFilter {
        id: IdFilter [Message],
        direction: DirectionFilter,
        sender: MessageSenderFilter,
        r#type: MessageTypeFilter,
        status: MessageStatusFilter,
        agent_id: IdFilter [Member],
        sent_at: DateTimeFilter,
        /// The thumbs feedback it got (`isNull: true` for messages without any).
        feedback_rating: FeedbackRatingFilter = exprs::messages::FEEDBACK_RATING,
    }
    /// Words in the content (web-search syntax).
    search: full_text(col!(search));
    order MessageOrder, MessageOrderField {
        /// When it was sent or received.
        SentAt => sort!(sent_at: timestamptz),
        /// Creation time.
        CreatedAt => sort!(created_at: timestamptz),
    }
    // Newest first, the order a chat view scrolls back in.
    default_order: [SentAt desc];
    relations {
        /// The conversation.
        conversation: required Conversation via conversation_id,
        /// The customer, when known.
        customer: one Customer via customer_id,
        /// The member who wrote it (agent messages).
        agent: one Member via agent_id,
        /// The call it mirrors.
        call: one Call via call_id,
        /// The SMS it mirrors.
        sms_message: one SmsMessage via sms_message_id,
        /// The message it answers.
        reply_to: one Message via reply_to_id,
    }
    access: {
        read: Viewer + ReadConversations,
        write: Agent + WriteMessages,
        delete: Supervisor + WriteMessages,
        // Rating a reply changes nothing but its rating, and the chat users of seed 002 who
        // rate the AI's answers may hold no more than read access: whoever reads it may rate.
        feedback: Viewer + ReadConversations,
    };
    constraints {
        "messages_tenant_id_provider_message_id_key" => "input.providerMessageId":
            Conflict("another message already has this provider message id"),
        "messages_conversation_fkey" => "input.conversationId": NotFound("Conversation"),
        "messages_reply_to_fkey" => "input.replyToId": NotFound("Message"),
        "messages_customer_fkey" => "input.customerId": NotFound("Customer"),
    }
    fields {}
}
