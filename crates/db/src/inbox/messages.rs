//! Message writes: an agent's or the AI's reply ([`post`]), a customer's message as a channel
//! webhook reports it ([`record_inbound`], idempotent on the provider's message id), and
//! delivery-status reports ([`update_status`], forward-only).
//!
//! Every insert is followed, in the same transaction and under the conversation's row lock, by
//! [`conversations::apply_new_message`] (the conversation's counters, preview, response times
//! and status) and by the customer's counter refresh (they count chat messages).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use super::conversations::{self, Contact};
use super::{acting_member, advisory_lock, customer_by_email, require_customer, InboxError, Ref};
use crate::graph::{counters, customer_by_phone, customers, Changes, Val};
use crate::{DbError, TenantTx};

/// What a message says, shared by replies and inbound messages. Documents are JSON already
/// shaped and validated by the caller; `None` leaves the column at its default.
#[derive(Debug, Clone, Default)]
pub struct MessageBody {
    /// Text (required).
    pub content: String,
    /// `type` (database spelling; default `text`).
    pub kind: Option<&'static str>,
    /// Attached files (an array of objects).
    pub attachments: Option<Value>,
    /// A shared location (an object).
    pub location: Option<Value>,
    /// A template message (an object).
    pub template: Option<Value>,
    /// Buttons or a list (an object).
    pub interactive: Option<Value>,
    /// The message this one answers (must be in the same conversation).
    pub reply_to_id: Option<Uuid>,
    /// Free-form data (an object).
    pub metadata: Option<Value>,
}

fn body_changes(b: &MessageBody) -> Changes {
    let mut out: Changes = vec![("content", Val::from(b.content.clone()))];
    if let Some(v) = b.kind {
        out.push(("type", Val::from(v)));
    }
    for (col, v) in [
        ("attachments", &b.attachments),
        ("location", &b.location),
        ("template", &b.template),
        ("interactive", &b.interactive),
        ("metadata", &b.metadata),
    ] {
        if let Some(v) = v {
            out.push((col, Val::from(v.clone())));
        }
    }
    if let Some(v) = b.reply_to_id {
        out.push(("reply_to_id", Val::from(v)));
    }
    out
}

/// Fails unless message `reply_to` is in `conversation`.
async fn require_in_conversation(
    tx: &mut TenantTx,
    message: Uuid,
    conversation: Uuid,
    what: Ref,
) -> Result<(), InboxError> {
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM app.messages WHERE id = $1 AND conversation_id = $2)",
    )
    .bind(message)
    .bind(conversation)
    .fetch_one(tx.conn())
    .await?;
    if found {
        Ok(())
    } else {
        Err(InboxError::MissingRef(what))
    }
}

// ------------------------------------------------------------------------------------------------
// postMessage
// ------------------------------------------------------------------------------------------------

/// Who writes a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplySender {
    /// The acting member (recorded as `agent_id` when they are a member).
    Agent,
    /// The AI assistant (no `agent_id`).
    Ai,
}

impl ReplySender {
    fn as_db(self) -> &'static str {
        match self {
            ReplySender::Agent => "agent",
            ReplySender::Ai => "ai",
        }
    }
}

/// An outbound reply.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What it says.
    pub body: MessageBody,
    /// Who writes it.
    pub sender: ReplySender,
    /// The channel provider's id for it, when already sent through the provider (delivery
    /// reports find it by this id).
    pub provider_message_id: Option<String>,
    /// LLM tokens spent on it (>= 0).
    pub tokens_used: Option<i32>,
    /// What it cost (>= 0, 4 decimals).
    pub cost: Option<Decimal>,
}

/// Posts a reply into conversation `conversation_id`: an outbound message, `pending` until the
/// channel's provider reports it (see [`update_status`]), with chat-completion role
/// `assistant` (for LLM context an agent's reply and the AI's are both the business's turn; who
/// wrote it is `sender`). Refused in a closed conversation ([`InboxError::Status`]).
#[tracing::instrument(skip_all, fields(%conversation_id))]
pub async fn post(
    tx: &mut TenantTx,
    conversation_id: Uuid,
    reply: &Reply,
) -> Result<Uuid, InboxError> {
    let conversation = conversations::lock(tx, conversation_id)
        .await?
        .ok_or(InboxError::NotFound)?;
    if conversation.status == "closed" {
        return Err(InboxError::Status {
            current: conversation.status,
        });
    }
    if let Some(to) = reply.body.reply_to_id {
        require_in_conversation(tx, to, conversation_id, Ref::ReplyTo).await?;
    }
    let agent = match reply.sender {
        ReplySender::Agent => acting_member(tx).await?,
        ReplySender::Ai => None,
    };
    let mut changes = body_changes(&reply.body);
    changes.extend([
        ("conversation_id", Val::from(conversation_id)),
        ("customer_id", Val::from(conversation.customer_id)),
        ("role", Val::from("assistant")),
        ("direction", Val::from("outbound")),
        ("sender", Val::from(reply.sender.as_db())),
        ("agent_id", Val::from(agent)),
        (
            "provider_message_id",
            Val::from(reply.provider_message_id.clone()),
        ),
    ]);
    if let Some(v) = reply.tokens_used {
        changes.push(("tokens_used", Val::from(v)));
    }
    if let Some(v) = reply.cost {
        changes.push(("cost", Val::from(v)));
    }
    let mut qb = crate::graph::insert("app.messages", changes);
    qb.push(" RETURNING id");
    let id: Uuid = qb.build_query_scalar().fetch_one(tx.conn()).await?;
    conversations::apply_new_message(tx, id).await?;
    counters::refresh(tx, &[conversation.customer_id]).await?;
    Ok(id)
}

// ------------------------------------------------------------------------------------------------
// recordInboundMessage
// ------------------------------------------------------------------------------------------------

/// A customer's message as a channel provider reports it.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The provider's message id: the idempotency key.
    pub provider_message_id: String,
    /// The channel it came on (database spelling).
    pub channel: &'static str,
    /// Put it into this conversation (it must be on `channel` and not closed).
    pub conversation_id: Option<Uuid>,
    /// The customer who wrote.
    pub customer_id: Option<Uuid>,
    /// Who wrote, as the provider identifies them (normalised phone / e-mail).
    pub from: Contact,
    /// What it says.
    pub body: MessageBody,
    /// When the customer sent it (default: now).
    pub sent_at: Option<DateTime<Utc>>,
}

/// A recorded inbound message.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// The message.
    pub id: Uuid,
    /// Whether this post created it (false: a duplicate of an earlier post, returned as is).
    pub created: bool,
}

/// The customer an inbound message is from: the one named, else the one with the contact's
/// phone number, else the one with its e-mail, else a new customer created from the contact
/// when it has a phone number (customers are keyed by phone); `None` for an unknown contact
/// without a phone number.
async fn inbound_customer(
    tx: &mut TenantTx,
    explicit: Option<Uuid>,
    from: &Contact,
) -> Result<Option<Uuid>, InboxError> {
    if let Some(id) = explicit {
        require_customer(tx, id).await?;
        return Ok(Some(id));
    }
    if let Some(phone) = &from.phone {
        if let Some(id) = customer_by_phone(tx, phone).await? {
            return Ok(Some(id));
        }
    }
    if let Some(email) = &from.email {
        if let Some(id) = customer_by_email(tx, email).await? {
            return Ok(Some(id));
        }
    }
    match &from.phone {
        Some(phone) => {
            let name = from.name.as_deref().unwrap_or(phone);
            let (id, _) =
                customers::find_or_create_by_phone(tx, name, phone, from.email.as_deref()).await?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

/// A conversation an inbound message names explicitly must be on the message's channel and
/// not closed (closed is final: the customer's next contact opens a new conversation).
fn check_named(c: &conversations::Locked, channel: &str) -> Result<(), InboxError> {
    if c.channel != channel {
        return Err(InboxError::Channel {
            current: c.channel.clone(),
        });
    }
    if c.status == "closed" {
        return Err(InboxError::Status {
            current: c.status.clone(),
        });
    }
    Ok(())
}

/// The message with provider id `provider_message_id`, if any.
async fn by_provider_id(
    tx: &mut TenantTx,
    provider_message_id: &str,
) -> Result<Option<Uuid>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM app.messages WHERE provider_message_id = $1")
            .bind(provider_message_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Records a customer's inbound message, once per provider message id: a repeated post
/// (sequential or concurrent) returns the message the first one created and writes nothing.
///
/// The conversation is the one named (on the same channel, not closed; a customer named with
/// it must be its customer), else the customer's (or unknown contact's) latest active, not
/// closed conversation on the channel, opened on first contact
/// ([`conversations::find_or_open`]). See the module doc of [`super`] for the locking order.
#[tracing::instrument(skip_all, fields(channel = m.channel))]
pub async fn record_inbound(tx: &mut TenantTx, m: &Inbound) -> Result<Recorded, InboxError> {
    // Duplicates of one webhook wait here for the first, then find its message.
    advisory_lock(tx, &format!("message:provider:{}", m.provider_message_id)).await?;
    if let Some(id) = by_provider_id(tx, &m.provider_message_id).await? {
        return Ok(Recorded { id, created: false });
    }

    let (conversation_id, resolved) = match m.conversation_id {
        Some(id) => {
            // Peek without a lock: customers are found or created before any conversation is
            // locked, the same order as everywhere else (checked again under the lock below).
            let peeked = conversations::peek(tx, id)
                .await?
                .ok_or(InboxError::MissingRef(Ref::Conversation))?;
            check_named(&peeked, m.channel)?;
            let resolved = match (peeked.customer_id, m.customer_id) {
                (Some(a), Some(b)) if a != b => return Err(InboxError::CustomerMismatch),
                (Some(a), _) => Some(a),
                (None, explicit) => inbound_customer(tx, explicit, &m.from).await?,
            };
            (id, resolved)
        }
        None => {
            let customer = inbound_customer(tx, m.customer_id, &m.from).await?;
            let (id, _) = conversations::find_or_open(tx, customer, &m.from, m.channel).await?;
            (id, customer)
        }
    };
    let conversation = conversations::lock(tx, conversation_id)
        .await?
        .ok_or(InboxError::MissingRef(Ref::Conversation))?;
    if m.conversation_id.is_some() {
        check_named(&conversation, m.channel)?;
    }
    // The conversation's customer wins: one conversation, one customer.
    let customer = conversation.customer_id.or(resolved);
    if let Some(to) = m.body.reply_to_id {
        require_in_conversation(tx, to, conversation_id, Ref::ReplyTo).await?;
    }

    let mut changes = body_changes(&m.body);
    changes.extend([
        ("conversation_id", Val::from(conversation_id)),
        ("customer_id", Val::from(customer)),
        ("role", Val::from("user")),
        ("direction", Val::from("inbound")),
        ("sender", Val::from("customer")),
        (
            "provider_message_id",
            Val::from(m.provider_message_id.clone()),
        ),
        // It reached us: delivered, as far as delivery goes for an inbound message.
        ("status", Val::from("delivered")),
    ]);
    if let Some(at) = m.sent_at {
        changes.push(("sent_at", Val::from(Some(at))));
    }
    let mut qb = crate::graph::insert("app.messages", changes);
    qb.push(" ON CONFLICT (tenant_id, provider_message_id) DO NOTHING RETURNING id");
    let inserted: Option<Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    let Some(id) = inserted else {
        // Only another kind of writer (a reply posted with this provider id) can get here: the
        // advisory lock serialises inbound posts. Same id, same message.
        let id = by_provider_id(tx, &m.provider_message_id)
            .await?
            .ok_or(InboxError::NotFound)?;
        return Ok(Recorded { id, created: false });
    };
    sqlx::query("UPDATE app.messages SET delivered_at = now() WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    conversations::apply_new_message(tx, id).await?;
    counters::refresh(tx, &[customer]).await?;
    Ok(Recorded { id, created: true })
}

// ------------------------------------------------------------------------------------------------
// updateMessageStatus
// ------------------------------------------------------------------------------------------------

/// SQL that is true when delivery status `new` is a forward move from `current` (both SQL
/// expressions): `pending` < `sent` < `delivered` < `read`; `failed` only from `pending` or
/// `sent`, and nothing after `failed`. A repeated status is not a move.
pub(crate) fn forward_sql(current: &str, new: &str) -> String {
    format!(
        "(({new} = 'failed' AND {current} IN ('pending', 'sent'))
          OR ({new} <> 'failed' AND {current} <> 'failed'
              AND array_position(ARRAY['pending', 'sent', 'delivered', 'read'], {new})
                > array_position(ARRAY['pending', 'sent', 'delivered', 'read'], {current})))"
    )
}

/// How a delivery report names its message.
#[derive(Debug, Clone)]
pub enum MessageKey {
    /// Our id.
    Id(Uuid),
    /// The channel provider's id.
    Provider(String),
}

/// A delivery report.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// `sent`, `delivered`, `read` or `failed` (database spelling).
    pub status: &'static str,
    /// The provider's error text (kept only with `failed`).
    pub error: Option<String>,
    /// When the provider says it happened (default: now).
    pub at: Option<DateTime<Utc>>,
}

/// Applies a delivery report to a message, forward only: `pending` < `sent` < `delivered` <
/// `read`, and `failed` only from `pending` or `sent`, and final. A report that would move the
/// status back, or repeats it, changes nothing (webhooks arrive out of order and more than
/// once) and the message is returned as it is. Sets `provider_status`, `provider_timestamp`,
/// `provider_error` (failed), `delivered_at` (delivered, and read when delivered was skipped)
/// and `read_at` (read), the times only when not set before.
///
/// One `UPDATE … WHERE rank(new) > rank(current)`: two concurrent reports serialise on the row,
/// and the second re-evaluates its `WHERE` against the first one's result.
#[tracing::instrument(skip_all, fields(status = report.status))]
pub async fn update_status(
    tx: &mut TenantTx,
    key: &MessageKey,
    report: &StatusReport,
) -> Result<Uuid, InboxError> {
    let predicate = match key {
        MessageKey::Id(_) => "id = $1::uuid",
        MessageKey::Provider(_) => "provider_message_id = $1",
    };
    let key_text = match key {
        MessageKey::Id(id) => id.to_string(),
        MessageKey::Provider(p) => p.clone(),
    };
    let sql = format!(
        "UPDATE app.messages SET
           status = $2,
           provider_status = $2,
           provider_timestamp = coalesce($3, now()),
           provider_error = CASE WHEN $2 = 'failed' THEN $4 ELSE provider_error END,
           delivered_at = CASE WHEN $2 IN ('delivered', 'read')
                               THEN coalesce(delivered_at, $3, now()) ELSE delivered_at END,
           read_at = CASE WHEN $2 = 'read' THEN coalesce(read_at, $3, now()) ELSE read_at END
         WHERE {predicate} AND {forward}
         RETURNING id",
        forward = forward_sql("status", "$2::text"),
    );
    let moved: Option<Uuid> = sqlx::query_scalar(&sql)
        .bind(&key_text)
        .bind(report.status)
        .bind(report.at)
        .bind(&report.error)
        .fetch_optional(tx.conn())
        .await?;
    if let Some(id) = moved {
        return Ok(id);
    }
    let exists: Option<Uuid> =
        sqlx::query_scalar(&format!("SELECT id FROM app.messages WHERE {predicate}"))
            .bind(&key_text)
            .fetch_optional(tx.conn())
            .await?;
    exists.ok_or(InboxError::NotFound)
}
