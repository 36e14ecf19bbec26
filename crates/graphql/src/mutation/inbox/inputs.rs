//! The inbox mutations' input objects and their lowering: every argument is validated and
//! normalised here, before any SQL, and a failure names its field (`input.content`).

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};
use frontdesk_db::inbox::conversations::{Contact, ConversationCustomer, NewConversation};
use frontdesk_db::inbox::messages::{
    Inbound, MessageBody, MessageKey, Reply, ReplySender as DbReplySender, StatusReport,
};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::documents::{
    attachments, AttachmentInput, InteractiveInput, MessageLocationInput, MessageTemplateInput,
};
use super::metadata::{conversation_metadata, message_metadata};
use crate::mutation::inputs::bad;
use crate::types::enums::{
    Channel, ConversationCategory, ConversationPriority, ConversationType, DbEnum, MessageStatus,
    MessageType,
};
use crate::types::{Conversation, Customer, Member, Message};
use crate::validate::{self, NAME_MAX, PROVIDER_ERROR_MAX, SHORT_TEXT_MAX};
use crate::{ApiError, NodeRef};

/// Who writes a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReplySender {
    /// The calling member (recorded as the message's agent).
    Agent,
    /// The AI assistant.
    Ai,
}

/// Who a new conversation is with, when they may not be a customer yet.
#[derive(Debug, Clone, InputObject)]
pub struct ConversationCustomerInput {
    /// Name (used only if a new customer is created).
    pub name: String,
    /// Phone number in international format: the customer with this number is used, or
    /// created when there is none.
    pub phone: String,
    /// E-mail (used only if a new customer is created).
    pub email: Option<String>,
}

/// A new conversation. Give exactly one of `customerId` and `customer`.
#[derive(Debug, Clone, InputObject)]
pub struct StartConversationInput {
    /// An existing customer.
    pub customer_id: Option<NodeRef<Customer>>,
    /// Find the customer by phone number, or create them.
    pub customer: Option<ConversationCustomerInput>,
    /// Where it happens.
    pub channel: Channel,
    /// The medium (default: the channel's: WhatsApp, Instagram, e-mail, voice for phone, else
    /// chat).
    #[graphql(name = "type")]
    pub kind: Option<ConversationType>,
    /// Title.
    pub title: Option<String>,
    /// Priority (default `MEDIUM`).
    pub priority: Option<ConversationPriority>,
    /// Category (default `SUPPORT`).
    pub category: Option<ConversationCategory>,
    /// Labels.
    pub tags: Option<Vec<String>>,
    /// Assign it right away to this member (status `ASSIGNED`).
    pub assigned_agent_id: Option<NodeRef<Member>>,
    /// Whether the AI may answer (default true).
    pub is_ai_enabled: Option<bool>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
}

/// A reply by the calling agent or the AI.
#[derive(Debug, Clone, InputObject)]
pub struct PostMessageInput {
    /// The conversation (not closed).
    pub conversation_id: NodeRef<Conversation>,
    /// Text; may be empty only when the message carries attachments, a location, a template
    /// or an interactive part.
    pub content: String,
    /// `AGENT` (default) or `AI`.
    pub sender: Option<ReplySender>,
    /// Kind of content (default: from what the message carries, else `TEXT`).
    #[graphql(name = "type")]
    pub kind: Option<MessageType>,
    /// Files.
    pub attachments: Option<Vec<AttachmentInput>>,
    /// A shared location.
    pub location: Option<MessageLocationInput>,
    /// A WhatsApp template.
    pub template: Option<MessageTemplateInput>,
    /// Buttons or a list.
    pub interactive: Option<InteractiveInput>,
    /// The message this one answers (in the same conversation).
    pub reply_to_id: Option<NodeRef<Message>>,
    /// The channel provider's id, when the message was already sent through the provider
    /// (delivery reports find it by this id).
    pub provider_message_id: Option<String>,
    /// LLM tokens spent on it.
    pub tokens_used: Option<i32>,
    /// What it cost (at most 4 decimals).
    pub cost: Option<Decimal>,
    /// Free-form data (a JSON object; `model` a string, `feedbackRating` positive or negative).
    pub metadata: Option<Value>,
}

/// Who wrote an inbound message, as the channel identifies them.
#[derive(Debug, Clone, InputObject)]
pub struct InboundContactInput {
    /// Phone number in international format.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Display name (for a new customer).
    pub name: Option<String>,
}

/// A customer's message as a channel webhook reports it. Posting the same
/// `providerMessageId` again returns the message the first post created and changes nothing.
/// Say who wrote it with `conversationId`, `customerId` or `from` (phone or e-mail).
#[derive(Debug, Clone, InputObject)]
pub struct RecordInboundMessageInput {
    /// The provider's message id: the idempotency key.
    pub provider_message_id: String,
    /// The channel it came on.
    pub channel: Channel,
    /// Text; may be empty only when the message carries attachments, a location or an
    /// interactive reply.
    pub content: String,
    /// Put it into this conversation (on the same channel, not closed).
    pub conversation_id: Option<NodeRef<Conversation>>,
    /// The customer who wrote.
    pub customer_id: Option<NodeRef<Customer>>,
    /// Who wrote: the customer with this phone number, else this e-mail; created from these
    /// details when unknown and a phone number is given.
    pub from: Option<InboundContactInput>,
    /// Kind of content (default: from what the message carries, else `TEXT`).
    #[graphql(name = "type")]
    pub kind: Option<MessageType>,
    /// When the customer sent it (default: now).
    pub sent_at: Option<DateTime<Utc>>,
    /// Files.
    pub attachments: Option<Vec<AttachmentInput>>,
    /// A shared location.
    pub location: Option<MessageLocationInput>,
    /// The customer's choice from buttons or a list.
    pub interactive: Option<InteractiveInput>,
    /// The message this one answers (in the same conversation).
    pub reply_to_id: Option<NodeRef<Message>>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
}

/// An internal note on a conversation.
#[derive(Debug, Clone, InputObject)]
pub struct AddConversationNoteInput {
    /// The conversation.
    pub conversation_id: NodeRef<Conversation>,
    /// Text.
    pub content: String,
    /// Whether the customer may see it (default false).
    pub is_visible: Option<bool>,
}

/// A delivery report. Name the message by exactly one of `messageId` and
/// `providerMessageId`.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateMessageStatusInput {
    /// Our id of the message.
    pub message_id: Option<NodeRef<Message>>,
    /// The channel provider's id of the message.
    pub provider_message_id: Option<String>,
    /// `SENT`, `DELIVERED`, `READ` or `FAILED`. Only forward moves apply: a report that
    /// would move the status back (or repeats it) leaves the message unchanged.
    pub status: MessageStatus,
    /// The provider's error (with `FAILED` only).
    pub error: Option<String>,
    /// When it happened, as the provider says (default: now).
    pub at: Option<DateTime<Utc>>,
}

// ------------------------------------------------------------------------------------------------
// Lowering
// ------------------------------------------------------------------------------------------------

/// The parts of a message both replies and inbound messages carry.
struct BodyParts {
    content: String,
    kind: Option<MessageType>,
    attachments: Option<Vec<AttachmentInput>>,
    location: Option<MessageLocationInput>,
    template: Option<MessageTemplateInput>,
    interactive: Option<InteractiveInput>,
    reply_to_id: Option<Uuid>,
    metadata: Option<Value>,
}

impl BodyParts {
    /// Validated; `type` defaults to what the message carries (a location, a template, an
    /// interactive part, the first attachment's kind), else the column default `text`.
    pub(super) fn lower(self) -> Result<MessageBody, ApiError> {
        let content = validate::text("input.content", &self.content, validate::MESSAGE_MAX)?;
        let attachments = match self.attachments {
            Some(list) => Some(attachments("input.attachments", list)?),
            None => None,
        };
        let first_attachment = attachments
            .as_ref()
            .and_then(|a| a.get(0))
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .and_then(MessageType::from_db);
        let location = match self.location {
            Some(l) => Some(l.lower("input.location")?),
            None => None,
        };
        let template = match self.template {
            Some(t) => Some(t.lower("input.template")?),
            None => None,
        };
        let interactive = match self.interactive {
            Some(i) => Some(i.lower("input.interactive")?),
            None => None,
        };
        if content.is_empty()
            && first_attachment.is_none()
            && location.is_none()
            && template.is_none()
            && interactive.is_none()
        {
            return Err(bad(
                "input.content",
                "is required unless the message carries attachments, a location, a template \
                 or an interactive part",
            ));
        }
        let kind = self.kind.or(if location.is_some() {
            Some(MessageType::Location)
        } else if template.is_some() {
            Some(MessageType::Template)
        } else if interactive.is_some() {
            Some(MessageType::Interactive)
        } else {
            first_attachment
        });
        let metadata = match self.metadata {
            Some(m) => Some(message_metadata("input.metadata", m)?),
            None => None,
        };
        Ok(MessageBody {
            content,
            kind: kind.map(DbEnum::as_db),
            attachments,
            location,
            template,
            interactive,
            reply_to_id: self.reply_to_id,
            metadata,
        })
    }
}

/// An optional e-mail (blank = absent).
fn optional_email(field: &str, raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(e) if !e.trim().is_empty() => validate::email(field, &e).map(Some),
        _ => Ok(None),
    }
}

/// An optional phone number (blank = absent).
fn optional_phone(field: &str, raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(p) if !p.trim().is_empty() => validate::phone(field, &p).map(Some),
        _ => Ok(None),
    }
}

impl StartConversationInput {
    pub(super) fn lower(self) -> Result<NewConversation, ApiError> {
        let customer = match (self.customer_id, self.customer) {
            (Some(id), None) => ConversationCustomer::Id(id.row()),
            (None, Some(c)) => ConversationCustomer::ByPhone {
                name: validate::required_text("input.customer.name", &c.name, NAME_MAX)?,
                phone: validate::phone("input.customer.phone", &c.phone)?,
                email: optional_email("input.customer.email", c.email)?,
            },
            (Some(_), Some(_)) => {
                return Err(bad(
                    "input.customer",
                    "give either customerId or customer, not both",
                ))
            }
            (None, None) => {
                return Err(bad(
                    "input.customerId",
                    "is required unless customer (name and phone) is given",
                ))
            }
        };
        Ok(NewConversation {
            customer,
            channel: self.channel.as_db(),
            kind: self.kind.map(DbEnum::as_db),
            title: validate::optional_text("input.title", self.title, SHORT_TEXT_MAX)?,
            priority: self.priority.map(DbEnum::as_db),
            category: self.category.map(DbEnum::as_db),
            tags: match self.tags {
                Some(t) => Some(validate::tags("input.tags", t)?),
                None => None,
            },
            assigned_agent_id: self.assigned_agent_id.map(|a| a.row()),
            is_ai_enabled: self.is_ai_enabled,
            metadata: match self.metadata {
                Some(m) => Some(conversation_metadata("input.metadata", m)?),
                None => None,
            },
        })
    }
}

impl PostMessageInput {
    pub(super) fn lower(self) -> Result<(Uuid, Reply), ApiError> {
        let provider_message_id = match self.provider_message_id {
            Some(p) => Some(validate::provider_id("input.providerMessageId", &p)?),
            None => None,
        };
        let tokens_used = match self.tokens_used {
            Some(t) => Some(validate::non_negative_int("input.tokensUsed", t)?),
            None => None,
        };
        let cost = match self.cost {
            Some(c) => Some(validate::unit_cost("input.cost", c)?),
            None => None,
        };
        let body = BodyParts {
            content: self.content,
            kind: self.kind,
            attachments: self.attachments,
            location: self.location,
            template: self.template,
            interactive: self.interactive,
            reply_to_id: self.reply_to_id.map(|m| m.row()),
            metadata: self.metadata,
        }
        .lower()?;
        let sender = match self.sender.unwrap_or(ReplySender::Agent) {
            ReplySender::Agent => DbReplySender::Agent,
            ReplySender::Ai => DbReplySender::Ai,
        };
        Ok((
            self.conversation_id.row(),
            Reply {
                body,
                sender,
                provider_message_id,
                tokens_used,
                cost,
            },
        ))
    }
}

impl RecordInboundMessageInput {
    pub(super) fn lower(self) -> Result<Inbound, ApiError> {
        let provider_message_id =
            validate::provider_id("input.providerMessageId", &self.provider_message_id)?;
        let from = match self.from {
            Some(f) => Contact {
                phone: optional_phone("input.from.phone", f.phone)?,
                email: optional_email("input.from.email", f.email)?,
                name: validate::optional_text("input.from.name", f.name, NAME_MAX)?,
            },
            None => Contact::default(),
        };
        if self.conversation_id.is_none()
            && self.customer_id.is_none()
            && from.phone.is_none()
            && from.email.is_none()
        {
            return Err(bad(
                "input.from",
                "say who wrote the message: give conversationId, customerId, or from with a \
                 phone number or an e-mail address",
            ));
        }
        let body = BodyParts {
            content: self.content,
            kind: self.kind,
            attachments: self.attachments,
            location: self.location,
            template: None,
            interactive: self.interactive,
            reply_to_id: self.reply_to_id.map(|m| m.row()),
            metadata: self.metadata,
        }
        .lower()?;
        Ok(Inbound {
            provider_message_id,
            channel: self.channel.as_db(),
            conversation_id: self.conversation_id.map(|c| c.row()),
            customer_id: self.customer_id.map(|c| c.row()),
            from,
            body,
            sent_at: self.sent_at,
        })
    }
}

impl UpdateMessageStatusInput {
    pub(super) fn lower(self) -> Result<(MessageKey, StatusReport), ApiError> {
        let key = match (self.message_id, self.provider_message_id) {
            (Some(id), None) => MessageKey::Id(id.row()),
            (None, Some(p)) => {
                MessageKey::Provider(validate::provider_id("input.providerMessageId", &p)?)
            }
            (Some(_), Some(_)) => {
                return Err(bad(
                    "input.providerMessageId",
                    "give either messageId or providerMessageId, not both",
                ))
            }
            (None, None) => {
                return Err(bad(
                    "input.messageId",
                    "is required unless providerMessageId is given",
                ))
            }
        };
        if self.status == MessageStatus::Pending {
            return Err(bad(
                "input.status",
                "a delivery report is SENT, DELIVERED, READ or FAILED; a message never moves \
                 back to PENDING",
            ));
        }
        let error = validate::optional_text("input.error", self.error, PROVIDER_ERROR_MAX)?;
        if error.is_some() && self.status != MessageStatus::Failed {
            return Err(bad("input.error", "is only kept with status FAILED"));
        }
        Ok((
            key,
            StatusReport {
                status: self.status.as_db(),
                error,
                at: self.at,
            },
        ))
    }
}
