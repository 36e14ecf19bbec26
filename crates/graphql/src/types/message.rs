//! `Message`: one message of a conversation (003 messages, the embedded messages of 000/002,
//! and the mirror of an SMS or a call in its customer's conversation).

use async_graphql::{ComplexObject, Context, SelectionField, SimpleObject};
use chrono::{DateTime, Utc};
use frontdesk_db::query::{OrderKey, Table};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::conversation::{lenient_enum, sentiment};
use super::docs::CallEntity;
use super::enums::{Direction, MessageRole, MessageSender, MessageStatus, MessageType, Sentiment};
use super::{Call, Conversation, Customer, Member, SmsMessage};
use crate::list::filter::{entity_filter, text_search, DateTimeFilter, EnumFilter, UuidFilter};
use crate::list::order::entity_order;
use crate::list::Node;
use crate::prefetch;
use crate::query::Resolve;
use crate::ApiError;

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

/// A message of a conversation.
// `sqlx(default)`: lists read only the columns a query selects (plus ids and links).
#[derive(Debug, Clone, Default, SimpleObject, sqlx::FromRow)]
#[sqlx(default)]
#[graphql(complex)]
pub struct Message {
    /// Id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// Chat-completion role (000/002), for rebuilding LLM context.
    pub role: Option<MessageRole>,
    /// Text (or caption).
    pub content: String,
    /// Kind of content.
    pub r#type: MessageType,
    /// Inbound (from the customer) or outbound.
    pub direction: Direction,
    /// Who wrote it.
    pub sender: MessageSender,
    /// The member who wrote it (agent messages).
    pub agent_id: Option<Uuid>,
    /// The channel provider's message id (e.g. WhatsApp `wamid.…`).
    pub provider_message_id: Option<String>,
    /// Delivery state as the provider last reported it.
    pub provider_status: Option<MessageStatus>,
    /// The provider's time for the message.
    pub provider_timestamp: Option<DateTime<Utc>>,
    /// The provider's delivery error.
    pub provider_error: Option<String>,
    /// Delivery state (only moves forward).
    pub status: MessageStatus,
    /// Files.
    #[sqlx(json)]
    pub attachments: Vec<Attachment>,
    /// Shared location.
    #[sqlx(json(nullable))]
    pub location: Option<MessageLocation>,
    /// Template sent.
    #[sqlx(json(nullable))]
    pub template: Option<MessageTemplate>,
    /// Buttons or list offered.
    #[sqlx(json(nullable))]
    pub interactive: Option<Interactive>,
    /// The AI has processed it.
    pub ai_processed: bool,
    /// What the AI understood.
    #[sqlx(json(nullable))]
    pub ai_response: Option<AiResponse>,
    /// The message it answers.
    pub reply_to_id: Option<Uuid>,
    /// Forwarded from elsewhere.
    pub is_forwarded: bool,
    /// Where it was forwarded from.
    pub forwarded_from: Option<String>,
    /// Free-form data (`model`, `feedbackRating`, …).
    pub metadata: serde_json::Value,
    /// LLM tokens used to write it.
    pub tokens_used: i32,
    /// What writing or sending it cost.
    pub cost: Decimal,
    /// The call it mirrors.
    pub call_id: Option<Uuid>,
    /// The SMS it mirrors.
    pub sms_message_id: Option<Uuid>,
    /// Position in the tenant's commit order of inbox events: the `messageAdded` event that
    /// announced it has this number, so a client can merge a query with a subscription.
    /// Null for imported history.
    pub commit_sequence: Option<i64>,
    /// When it was sent or received.
    pub sent_at: DateTime<Utc>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the recipient read it.
    pub read_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) static MESSAGES: Table = Table {
    name: "app.messages",
    columns: "t.id, t.conversation_id, t.customer_id, t.role, t.content, t.type, t.direction, \
              t.sender, t.agent_id, t.provider_message_id, t.provider_status, \
              t.provider_timestamp, t.provider_error, t.status, t.attachments, t.location, \
              t.template, t.interactive, t.ai_processed, t.ai_response, t.reply_to_id, \
              t.is_forwarded, t.forwarded_from, t.metadata, t.tokens_used, t.cost, t.call_id, \
              t.sms_message_id, t.seq AS commit_sequence, t.sent_at, t.delivered_at, t.read_at, \
              t.created_at, t.updated_at",
};

entity_filter! {
    /// Which messages; fields combine with AND.
    MessageFilter {
        id: UuidFilter => "t.id",
        direction: EnumFilter<Direction> => "t.direction",
        sender: EnumFilter<MessageSender> => "t.sender",
        r#type: EnumFilter<MessageType> => "t.type",
        status: EnumFilter<MessageStatus> => "t.status",
        agent_id: UuidFilter => "t.agent_id",
        sent_at: DateTimeFilter => "t.sent_at",
    }
    /// Words in the content (web-search syntax).
    search => text_search("t.search")
}

entity_order! {
    /// A message sort key.
    MessageOrder, MessageOrderField {
        /// When it was sent or received.
        SentAt => ("t.sent_at", "timestamptz"),
        /// Creation time.
        CreatedAt => ("t.created_at", "timestamptz"),
    }
}

impl Node for Message {
    const NAME: &'static str = "Message";
    const TABLE: &'static Table = &MESSAGES;
    /// Newest first, the order a chat view scrolls back in.
    const DEFAULT_ORDER: &'static [OrderKey] = &[OrderKey {
        expr: "t.sent_at",
        sql_type: "timestamptz",
        desc: true,
    }];
    type Filter = MessageFilter;
    type Order = MessageOrder;
    fn id(&self) -> Uuid {
        self.id
    }

    fn prefetch<'a>(
        r: &'a Resolve<'a>,
        field: SelectionField<'a>,
        path: String,
        rows: &[&Self],
    ) -> Option<prefetch::Task<'a>> {
        let links = |f: fn(&Message) -> Option<Uuid>| rows.iter().filter_map(|m| f(m)).collect();
        Some(match field.name() {
            "conversation" => {
                prefetch::linked::<Conversation>(r, field, path, links(|m| Some(m.conversation_id)))
            }
            "customer" => prefetch::linked::<Customer>(r, field, path, links(|m| m.customer_id)),
            "agent" => prefetch::linked::<Member>(r, field, path, links(|m| m.agent_id)),
            "call" => prefetch::linked::<Call>(r, field, path, links(|m| m.call_id)),
            "smsMessage" => {
                prefetch::linked::<SmsMessage>(r, field, path, links(|m| m.sms_message_id))
            }
            "replyTo" => prefetch::linked::<Message>(r, field, path, links(|m| m.reply_to_id)),
            _ => return None,
        })
    }
}

/// The row `id` links to, when there is a link and the row is visible.
pub(super) async fn link<T: Node>(
    ctx: &Context<'_>,
    id: Option<Uuid>,
) -> async_graphql::Result<Option<T>> {
    let Some(id) = id else {
        return Ok(None);
    };
    let r = Resolve::new(ctx)?;
    r.run(r.loaders.load_by_id::<T>(id)).await
}

#[ComplexObject]
impl Message {
    /// The conversation.
    async fn conversation(&self, ctx: &Context<'_>) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            r.loaders
                .load_by_id::<Conversation>(self.conversation_id)
                .await?
                .ok_or(ApiError::NotFound(Conversation::NAME))
        })
        .await
    }

    /// The customer, when known.
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Customer>> {
        link(ctx, self.customer_id).await
    }

    /// The member who wrote it (agent messages).
    async fn agent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Member>> {
        link(ctx, self.agent_id).await
    }

    /// The call it mirrors.
    async fn call(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Call>> {
        link(ctx, self.call_id).await
    }

    /// The SMS it mirrors.
    async fn sms_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SmsMessage>> {
        link(ctx, self.sms_message_id).await
    }

    /// The message it answers.
    async fn reply_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        link(ctx, self.reply_to_id).await
    }
}
