//! The inbox's mutations: starting conversations, replies and inbound messages, internal
//! notes, assignment, the workflow status moves, per-agent read markers and delivery reports.
//!
//! Same sequence as every other mutation (see the parent module): authenticate and authorise
//! (viewers may not write, with one exception: `markConversationRead` moves only the caller's
//! own read marker, which a read-only member needs as much as anyone to keep their unread
//! counts meaningful), validate and normalise every argument before any SQL, write through
//! `frontdesk_db::inbox` in the request's transaction, read the result back. The semantics
//! (what each write does to the conversation, the allowed status moves, idempotency, locking)
//! are documented where they are implemented, in `frontdesk_db::inbox`.

use async_graphql::{Context, Enum, InputObject, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::inbox::conversations::{self, Contact, ConversationCustomer, NewConversation};
use frontdesk_db::inbox::messages::{
    self, Inbound, MessageBody, MessageKey, Reply, ReplySender as DbReplySender, StatusReport,
};
use frontdesk_db::inbox::{notes, reads, InboxError, Ref};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::inbox_inputs::{
    attachments, conversation_metadata, message_metadata, AttachmentInput, InteractiveInput,
    MessageLocationInput, MessageTemplateInput,
};
use super::inputs::bad;
use super::{db_error, not_found, read_back, writer, Target};
use crate::query::Resolve;
use crate::types::enums::{
    Channel, ConversationCategory, ConversationPriority, ConversationStatus, ConversationType,
    DbEnum, MessageStatus, MessageType,
};
use crate::types::{Conversation, ConversationNote, Message};
use crate::validate::{self, NAME_MAX, NOTES_MAX, PROVIDER_ERROR_MAX, SHORT_TEXT_MAX};
use crate::ApiError;

// ------------------------------------------------------------------------------------------------
// Inputs
// ------------------------------------------------------------------------------------------------

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
    pub customer_id: Option<Uuid>,
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
    pub assigned_agent_id: Option<Uuid>,
    /// Whether the AI may answer (default true).
    pub is_ai_enabled: Option<bool>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
}

/// A reply by the calling agent or the AI.
#[derive(Debug, Clone, InputObject)]
pub struct PostMessageInput {
    /// The conversation (not closed).
    pub conversation_id: Uuid,
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
    pub reply_to_id: Option<Uuid>,
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
    pub conversation_id: Option<Uuid>,
    /// The customer who wrote.
    pub customer_id: Option<Uuid>,
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
    pub reply_to_id: Option<Uuid>,
    /// Free-form data (a JSON object).
    pub metadata: Option<Value>,
}

/// An internal note on a conversation.
#[derive(Debug, Clone, InputObject)]
pub struct AddConversationNoteInput {
    /// The conversation.
    pub conversation_id: Uuid,
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
    pub message_id: Option<Uuid>,
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
    fn lower(self) -> Result<MessageBody, ApiError> {
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
    fn lower(self) -> Result<NewConversation, ApiError> {
        let customer = match (self.customer_id, self.customer) {
            (Some(id), None) => ConversationCustomer::Id(id),
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
            assigned_agent_id: self.assigned_agent_id,
            is_ai_enabled: self.is_ai_enabled,
            metadata: match self.metadata {
                Some(m) => Some(conversation_metadata("input.metadata", m)?),
                None => None,
            },
        })
    }
}

impl PostMessageInput {
    fn lower(self) -> Result<(Uuid, Reply), ApiError> {
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
            reply_to_id: self.reply_to_id,
            metadata: self.metadata,
        }
        .lower()?;
        let sender = match self.sender.unwrap_or(ReplySender::Agent) {
            ReplySender::Agent => DbReplySender::Agent,
            ReplySender::Ai => DbReplySender::Ai,
        };
        Ok((
            self.conversation_id,
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
    fn lower(self) -> Result<Inbound, ApiError> {
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
            reply_to_id: self.reply_to_id,
            metadata: self.metadata,
        }
        .lower()?;
        Ok(Inbound {
            provider_message_id,
            channel: self.channel.as_db(),
            conversation_id: self.conversation_id,
            customer_id: self.customer_id,
            from,
            body,
            sent_at: self.sent_at,
        })
    }
}

impl UpdateMessageStatusInput {
    fn lower(self) -> Result<(MessageKey, StatusReport), ApiError> {
        let key = match (self.message_id, self.provider_message_id) {
            (Some(id), None) => MessageKey::Id(id),
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

// ------------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------------

const CONVERSATION: Target = Target {
    what: "Conversation",
    field: "id",
};

/// How one mutation names what its errors are about.
#[derive(Debug, Clone, Copy)]
struct Names {
    /// The object the mutation acts on, for [`InboxError::NotFound`].
    target: Target,
    /// The argument naming an agent (`agentId`, `input.assignedAgentId`).
    member: &'static str,
}

impl Names {
    const fn of(target: Target) -> Self {
        Names {
            target,
            member: "agentId",
        }
    }
}

/// The API spelling (`RESOLVED`) of a stored conversation status (`resolved`).
fn status_name(db: &str) -> String {
    db.to_uppercase()
}

/// Maps a failed inbox write.
fn inbox_error(e: InboxError, names: Names) -> ApiError {
    match e {
        InboxError::NotFound => not_found(names.target.what, names.target.field),
        InboxError::MissingRef(r) => {
            let (field, what) = match r {
                Ref::Customer => ("input.customerId", "Customer"),
                Ref::Conversation => ("input.conversationId", "Conversation"),
                Ref::Member => (names.member, "Member"),
                Ref::ReplyTo => ("input.replyToId", "Message"),
                Ref::UpTo => ("upTo", "Message"),
            };
            not_found(what, field)
        }
        InboxError::Status { current } => ApiError::Conflict(format!(
            "the conversation is {}, which does not allow this change",
            status_name(&current)
        )),
        InboxError::NoAgent => ApiError::Conflict(
            "the conversation has no assigned agent: use assignConversation".into(),
        ),
        InboxError::NotAssignable(why) => bad(names.member, why),
        InboxError::Channel { current } => bad(
            "input.channel",
            format!(
                "does not match the conversation's channel {}",
                current.to_uppercase()
            ),
        ),
        InboxError::CustomerMismatch => {
            bad("input.customerId", "is not the conversation's customer")
        }
        InboxError::NotMember => ApiError::Forbidden(
            "read markers belong to members of the tenant, and this token's user is not one".into(),
        ),
        InboxError::Db(e) => db_error(e),
    }
}

// ------------------------------------------------------------------------------------------------
// Resolvers
// ------------------------------------------------------------------------------------------------

async fn start(r: &Resolve<'_>, input: StartConversationInput) -> Result<Conversation, ApiError> {
    writer(r)?;
    let new = input.lower()?;
    let mut tx = r.session.tx().await?;
    let started = conversations::start(&mut tx, &new).await.map_err(|e| {
        inbox_error(
            e,
            Names {
                target: CONVERSATION,
                member: "input.assignedAgentId",
            },
        )
    })?;
    read_back(&mut tx, started.id).await
}

async fn post(r: &Resolve<'_>, input: PostMessageInput) -> Result<Message, ApiError> {
    writer(r)?;
    let (conversation, reply) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = messages::post(&mut tx, conversation, &reply)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Conversation",
                    field: "input.conversationId",
                }),
            )
        })?;
    read_back(&mut tx, id).await
}

async fn inbound(r: &Resolve<'_>, input: RecordInboundMessageInput) -> Result<Message, ApiError> {
    writer(r)?;
    let inbound = input.lower()?;
    let mut tx = r.session.tx().await?;
    let recorded = messages::record_inbound(&mut tx, &inbound)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Message",
                    field: "input.providerMessageId",
                }),
            )
        })?;
    read_back(&mut tx, recorded.id).await
}

async fn add_note(
    r: &Resolve<'_>,
    input: AddConversationNoteInput,
) -> Result<ConversationNote, ApiError> {
    writer(r)?;
    let content = validate::required_text("input.content", &input.content, NOTES_MAX)?;
    let mut tx = r.session.tx().await?;
    let id = notes::add(&mut tx, input.conversation_id, &content, input.is_visible)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Conversation",
                    field: "input.conversationId",
                }),
            )
        })?;
    read_back(&mut tx, id).await
}

/// Maps a failed write on conversation `id` (the `id` argument), or reads it back.
async fn conversation_after(
    tx: &mut frontdesk_db::TenantTx,
    id: Uuid,
    written: Result<(), InboxError>,
) -> Result<Conversation, ApiError> {
    written.map_err(|e| inbox_error(e, Names::of(CONVERSATION)))?;
    read_back(tx, id).await
}

async fn update_status(
    r: &Resolve<'_>,
    input: UpdateMessageStatusInput,
) -> Result<Message, ApiError> {
    writer(r)?;
    let field = if input.message_id.is_some() {
        "input.messageId"
    } else {
        "input.providerMessageId"
    };
    let (key, report) = input.lower()?;
    let mut tx = r.session.tx().await?;
    let id = messages::update_status(&mut tx, &key, &report)
        .await
        .map_err(|e| {
            inbox_error(
                e,
                Names::of(Target {
                    what: "Message",
                    field,
                }),
            )
        })?;
    read_back(&mut tx, id).await
}

/// Inbox mutations.
#[derive(Debug, Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Starts a new conversation with an existing customer (`customerId`) or with the customer
    /// with the given phone number, created if the tenant has none (`customer`). Always a new
    /// conversation; inbound messages go to the customer's latest open one on the channel.
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        input: StartConversationInput,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(start(&r, input)).await
    }

    /// Posts a reply by the calling agent (or the AI) into a conversation that is not closed.
    /// The conversation's unread count resets, its last message and response times follow,
    /// and an open or assigned conversation becomes `WAITING` (for the customer).
    async fn post_message(
        &self,
        ctx: &Context<'_>,
        input: PostMessageInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(post(&r, input)).await
    }

    /// Records a customer's message from a channel webhook. Idempotent on `providerMessageId`:
    /// a repeated post returns the first one's message and changes nothing. It goes into the
    /// named conversation, else the customer's latest open conversation on the channel, opened
    /// on first contact; a waiting or resolved conversation is open again.
    async fn record_inbound_message(
        &self,
        ctx: &Context<'_>,
        input: RecordInboundMessageInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(inbound(&r, input)).await
    }

    /// Adds an internal note (hidden from the customer unless `isVisible`) by the caller.
    async fn add_conversation_note(
        &self,
        ctx: &Context<'_>,
        input: AddConversationNoteInput,
    ) -> async_graphql::Result<ConversationNote> {
        let r = Resolve::new(ctx)?;
        r.run(add_note(&r, input)).await
    }

    /// Assigns a conversation to an active member who is not a viewer; an `OPEN` conversation
    /// becomes `ASSIGNED`.
    async fn assign_conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        agent_id: Uuid,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            writer(&r)?;
            let mut tx = r.session.tx().await?;
            let written = conversations::assign(&mut tx, id, agent_id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Clears a conversation's assignment; an `ASSIGNED` conversation is `OPEN` again.
    async fn unassign_conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            writer(&r)?;
            let mut tx = r.session.tx().await?;
            let written = conversations::unassign(&mut tx, id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Moves a conversation's workflow status. `OPEN`, `WAITING` and `ASSIGNED` (which needs
    /// an assigned agent) from `OPEN`, `ASSIGNED` or `WAITING`; `RESOLVED` from those too,
    /// recording when, by whom and `resolutionNotes`; `CLOSED` from those or `RESOLVED`,
    /// recording when. Any other move is a `CONFLICT` naming the current status (use
    /// `reopenConversation` for a resolved or closed one).
    async fn set_conversation_status(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        status: ConversationStatus,
        resolution_notes: Option<String>,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            writer(&r)?;
            let notes = validate::optional_text("resolutionNotes", resolution_notes, NOTES_MAX)?;
            if notes.is_some()
                && !matches!(
                    status,
                    ConversationStatus::Resolved | ConversationStatus::Closed
                )
            {
                return Err(bad(
                    "resolutionNotes",
                    "is only kept with status RESOLVED or CLOSED",
                ));
            }
            let mut tx = r.session.tx().await?;
            let written = conversations::set_status(&mut tx, id, status.as_db(), notes).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Reopens a `RESOLVED` or `CLOSED` conversation: `OPEN`, or `ASSIGNED` when it has an
    /// agent; its resolution and closing times are cleared.
    async fn reopen_conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            writer(&r)?;
            let mut tx = r.session.tx().await?;
            let written = conversations::reopen(&mut tx, id).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Marks a conversation read for the caller, up to message `upTo` or its latest message.
    /// Read markers never move back. Allowed to viewers too: it changes only their own marker.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        up_to: Option<Uuid>,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            r.principal()?;
            let mut tx = r.session.tx().await?;
            let written = reads::mark_read(&mut tx, id, up_to).await;
            conversation_after(&mut tx, id, written).await
        })
        .await
    }

    /// Applies a delivery report to a message, forward only (`PENDING` < `SENT` < `DELIVERED`
    /// < `READ`; `FAILED` only from `PENDING` or `SENT`, and final). A report that would move
    /// the status back, or repeats it, returns the message unchanged: webhooks arrive out of
    /// order.
    async fn update_message_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateMessageStatusInput,
    ) -> async_graphql::Result<Message> {
        let r = Resolve::new(ctx)?;
        r.run(update_status(&r, input)).await
    }
}
