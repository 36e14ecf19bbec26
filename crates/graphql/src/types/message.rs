//! `Message`: one message of a conversation (003 messages, the embedded messages of 000/002,
//! and the mirror of an SMS or a call in its customer's conversation).

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use frontdesk_db::query::search::full_text;
use frontdesk_db::{col, exprs, sort, table};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::conversation::{lenient_enum, sentiment};
use super::docs::CallEntity;
use super::enums::{
    Direction, DirectionFilter, MessageRole, MessageSender, MessageSenderFilter, MessageStatus,
    MessageStatusFilter, MessageType, MessageTypeFilter, Sentiment,
};
use super::{Call, Conversation, Customer, Member, SmsMessage};
use crate::entity::entity;
use crate::list::filter::{DateTimeFilter, IdFilter};

lenient_enum!(attachment_type, MessageType);

/// A file sent with a message.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `IMAGE`, `DOCUMENT`, `AUDIO` or `VIDEO`.
    #[graphql(name = "type")]
    #[serde(default, rename = "type", deserialize_with = "attachment_type")]
    pub kind: Option<MessageType>,
    /// Where the file is.
    pub url: Option<String>,
    /// File name.
    pub filename: Option<String>,
    /// MIME type.
    pub mime_type: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
}

/// A shared location.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct MessageLocation {
    /// Degrees north (−90…90).
    pub latitude: Option<f64>,
    /// Degrees east (−180…180).
    pub longitude: Option<f64>,
    /// Street address.
    pub address: Option<String>,
    /// Place name.
    pub name: Option<String>,
}

/// A WhatsApp template message.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// Template name.
    pub name: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// Values filled into the template, in order.
    #[serde(default)]
    pub parameters: Vec<serde_json::Value>,
    /// WhatsApp template category (`UTILITY`, `MARKETING`, …).
    pub category: Option<String>,
}

/// One choice of an interactive message.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct InteractiveOption {
    /// The id sent back when chosen.
    pub id: Option<String>,
    /// Label.
    pub title: Option<String>,
    /// Secondary text (list items).
    pub description: Option<String>,
}

/// Buttons or a list the customer can pick from.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interactive {
    /// `button`, `list` or `quick_reply`.
    #[graphql(name = "type")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Buttons.
    #[serde(default)]
    pub buttons: Vec<InteractiveOption>,
    /// List items.
    #[serde(default)]
    pub list_items: Vec<InteractiveOption>,
}

/// What the AI understood of an inbound message.
#[derive(Debug, Clone, Default, SimpleObject, Serialize, Deserialize)]
pub struct AiResponse {
    /// Confidence, 0–1.
    pub confidence: Option<f64>,
    /// Detected intent.
    pub intent: Option<String>,
    /// Entities extracted.
    #[serde(default)]
    pub entities: Vec<CallEntity>,
    /// Detected tone.
    #[serde(default, deserialize_with = "sentiment")]
    pub sentiment: Option<Sentiment>,
}

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
    access: { read: Viewer + ReadConversations, write: Agent + WriteMessages, delete: Supervisor + WriteMessages };
    constraints {
        "messages_tenant_id_provider_message_id_key" => "input.providerMessageId":
            Conflict("another message already has this provider message id"),
        "messages_conversation_fkey" => "input.conversationId": NotFound("Conversation"),
        "messages_reply_to_fkey" => "input.replyToId": NotFound("Message"),
        "messages_customer_fkey" => "input.customerId": NotFound("Customer"),
    }
    fields {}
}
