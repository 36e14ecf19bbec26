//! Conversation writes: starting one, finding or opening "the customer's conversation on a
//! channel", assignment, the workflow status moves, and the bookkeeping every new message does
//! on its conversation.
//!
//! Workflow (`status`, 003): `open` → `assigned` → `waiting` → `resolved` → `closed`. The moves:
//!
//! | to | allowed from | also |
//! |---|---|---|
//! | `open`, `waiting` | open, assigned, waiting | |
//! | `assigned` | open, assigned, waiting | needs an assigned agent |
//! | `resolved` | open, assigned, waiting | `resolved_at` = now, `resolved_by` = caller, `resolution_notes` = given |
//! | `closed` | open, assigned, waiting, resolved | `closed_at` = now, `resolved_at`/`resolved_by` kept or set now, notes kept unless given |
//! | reopen | resolved, closed | `open`, or `assigned` when an agent is assigned; clears `closed_at`, `resolved_at`, `resolved_by` |
//!
//! Messages move it too ([`apply_new_message`]): a customer's message puts a `waiting` or
//! `resolved` conversation back to `open` (`assigned` with an agent), an agent's or the AI's
//! reply puts an `open` or `assigned` one to `waiting`. `closed` is final for messages: a
//! closed conversation takes no replies, and the customer's next contact opens a new one.
//!
//! Every move is one `UPDATE … WHERE status = ANY(allowed)`: of two concurrent moves the second
//! re-evaluates its `WHERE` against the first's committed row, so a move never applies to a
//! status it does not allow. Only when nothing was updated is the row read again, to tell
//! "not visible" from "visible in the wrong status".

use serde_json::Value;
use uuid::Uuid;

use super::{acting_member, advisory_lock, InboxError, Ref};
use crate::graph::{counters, customers, Changes, Val};
use crate::{DbError, TenantTx};

/// The `type` (000 medium) a conversation on `channel` gets when none is given.
pub fn default_type(channel: &str) -> &'static str {
    match channel {
        "whatsapp" => "whatsapp",
        "instagram" => "instagram",
        "email" => "email",
        "phone" => "voice",
        _ => "chat",
    }
}

/// The contact details captured with a conversation (`client_phone`, `client_email`,
/// `client_name`): how an unknown contact is recognised again, and a snapshot of who wrote.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// E.164 phone number.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// The advisory-lock key that serialises finding-or-opening a conversation of this party on
/// this channel; `None` when there is nothing to recognise the party by.
fn party_key(customer: Option<Uuid>, contact: &Contact, channel: &str) -> Option<String> {
    match (customer, &contact.phone, &contact.email) {
        (Some(c), _, _) => Some(format!("conversation:customer:{c}:{channel}")),
        (None, Some(p), _) => Some(format!("conversation:phone:{p}:{channel}")),
        (None, None, Some(e)) => Some(format!("conversation:email:{e}:{channel}")),
        (None, None, None) => None,
    }
}

/// The latest active, not closed conversation of `customer` (or, without a customer, of the
/// contact's phone number or e-mail among conversations with no customer) on `channel`;
/// "latest" by last activity (last message, else creation).
async fn latest_open(
    tx: &mut TenantTx,
    customer: Option<Uuid>,
    contact: &Contact,
    channel: &str,
) -> Result<Option<Uuid>, DbError> {
    const BASE: &str = "SELECT id FROM app.conversations
         WHERE channel = $1 AND status <> 'closed' AND lifecycle = 'active' AND ";
    const ORDER: &str =
        " ORDER BY coalesce(last_message_at, created_at) DESC, created_at DESC, id DESC
         LIMIT 1";
    let (predicate, value): (&str, String) = match (customer, &contact.phone, &contact.email) {
        (Some(c), _, _) => ("customer_id = $2::uuid", c.to_string()),
        (None, Some(p), _) => ("customer_id IS NULL AND client_phone = $2", p.clone()),
        (None, None, Some(e)) => ("customer_id IS NULL AND client_email = $2", e.clone()),
        (None, None, None) => return Ok(None),
    };
    let sql = format!("{BASE}{predicate}{ORDER}");
    Ok(sqlx::query_scalar(&sql)
        .bind(channel)
        .bind(value)
        .fetch_optional(tx.conn())
        .await?)
}

/// The conversation new traffic of this party on `channel` goes to: the latest active, not
/// closed one, or a new `open` one (created with the contact snapshot). Returns its id and
/// whether it was created.
///
/// Race-safe: the look-up and the insert run under the party's advisory lock, held to the end
/// of the transaction; a concurrent caller waits, and its look-up (a new statement, so a new
/// snapshot under READ COMMITTED) then sees the conversation this one committed. With nothing
/// to recognise the party by, a new conversation is opened every time.
pub async fn find_or_open(
    tx: &mut TenantTx,
    customer: Option<Uuid>,
    contact: &Contact,
    channel: &'static str,
) -> Result<(Uuid, bool), DbError> {
    if let Some(key) = party_key(customer, contact, channel) {
        advisory_lock(tx, &key).await?;
        if let Some(id) = latest_open(tx, customer, contact, channel).await? {
            return Ok((id, false));
        }
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO app.conversations
           (customer_id, channel, type, client_phone, client_email, client_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(customer)
    .bind(channel)
    .bind(default_type(channel))
    .bind(&contact.phone)
    .bind(&contact.email)
    .bind(&contact.name)
    .fetch_one(tx.conn())
    .await?;
    Ok((id, true))
}

/// What the conversation row looked like when [`lock`] took it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Locked {
    /// Workflow status (database spelling).
    pub status: String,
    /// Its customer.
    pub customer_id: Option<Uuid>,
    /// Its channel (database spelling).
    pub channel: String,
}

/// Locks conversation `id` for the rest of the transaction (`FOR NO KEY UPDATE`: it does not
/// block the foreign-key checks of concurrent message inserts) and returns its state, or
/// `None` when it is not visible. Statements after it see every message committed before.
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<Option<Locked>, DbError> {
    Ok(sqlx::query_as(
        "SELECT status, customer_id, channel FROM app.conversations
         WHERE id = $1 FOR NO KEY UPDATE",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The state of conversation `id` without locking it, or `None` when it is not visible.
pub async fn peek(tx: &mut TenantTx, id: Uuid) -> Result<Option<Locked>, DbError> {
    Ok(
        sqlx::query_as("SELECT status, customer_id, channel FROM app.conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The `last_message` preview document of message `m` (SQL over a row aliased `m`). The
/// column's CHECK knows fewer message types than messages have: audio, video and contact
/// cards show as `document`, interactive messages as `template`. `from` is `customer` for
/// anything inbound, `agent` for an agent's or the AI's reply, `system` for the rest.
pub(crate) const LAST_MESSAGE_SQL: &str = "jsonb_build_object(
       'content', left(m.content, 1000),
       'timestamp', m.sent_at,
       'from', CASE WHEN m.direction = 'inbound' THEN 'customer'
                    WHEN m.sender IN ('agent', 'ai') THEN 'agent'
                    ELSE 'system' END,
       'type', CASE m.type WHEN 'text' THEN 'text' WHEN 'image' THEN 'image'
                           WHEN 'location' THEN 'location' WHEN 'template' THEN 'template'
                           WHEN 'interactive' THEN 'template' ELSE 'document' END)";

/// Updates the conversation of the just-inserted message `message_id` (the caller holds the
/// conversation's lock, see [`lock`]):
///
/// - always: `message_count` + 1; `last_message` / `last_message_at` when the message is the
///   latest by `sent_at` (a late webhook with an old `sentAt` does not replace a newer preview);
///   the conversation takes the message's customer if it had none (an anonymous chat whose
///   contact became a customer);
/// - inbound (the customer wrote, or called): `unread_count` + 1 (inbound messages waiting
///   for a reply), `last_customer_message`, and a `waiting` or `resolved` conversation is open
///   again (`assigned` when it has an agent; the resolution time and author are cleared);
/// - an agent's or the AI's outbound reply: `unread_count` = 0, `last_agent_response`,
///   `first_response_time` (set once: minutes from the first customer message before the
///   first reply, else from the conversation's creation, to the first reply),
///   `average_response_time` (see [`refresh_average_response_time`]), and an `open` or
///   `assigned` conversation is `waiting` (the ball is in the customer's court);
/// - outbound `system` messages (a text or call the platform recorded) change nothing else:
///   an automated notification is not an answer.
pub(crate) async fn apply_new_message(tx: &mut TenantTx, message_id: Uuid) -> Result<(), DbError> {
    let sql = format!(
        "WITH m AS (
           SELECT id, conversation_id, customer_id, content, type, direction, sender, sent_at,
                  direction = 'inbound' AS from_customer,
                  direction = 'outbound' AND sender IN ('agent', 'ai') AS reply
           FROM app.messages WHERE id = $1
         )
         UPDATE app.conversations c SET
           message_count = c.message_count + 1,
           last_message = CASE WHEN c.last_message_at IS NULL OR m.sent_at >= c.last_message_at
                               THEN {LAST_MESSAGE_SQL} ELSE c.last_message END,
           last_message_at = greatest(c.last_message_at, m.sent_at),
           customer_id = coalesce(c.customer_id, m.customer_id),
           unread_count = CASE WHEN m.from_customer THEN c.unread_count + 1
                               WHEN m.reply THEN 0 ELSE c.unread_count END,
           last_customer_message = CASE WHEN m.from_customer
                                        THEN greatest(c.last_customer_message, m.sent_at)
                                        ELSE c.last_customer_message END,
           last_agent_response = CASE WHEN m.reply THEN greatest(c.last_agent_response, m.sent_at)
                                      ELSE c.last_agent_response END,
           first_response_time = CASE
             WHEN m.reply AND c.first_response_time IS NULL THEN (
               SELECT round(greatest(0, extract(epoch FROM r.first_reply - coalesce(
                        (SELECT min(i.sent_at) FROM app.messages i
                          WHERE i.tenant_id = c.tenant_id AND i.conversation_id = c.id
                            AND i.direction = 'inbound' AND i.sent_at <= r.first_reply),
                        c.created_at)) / 60)::numeric, 2)
               FROM (SELECT min(o.sent_at) AS first_reply FROM app.messages o
                      WHERE o.tenant_id = c.tenant_id AND o.conversation_id = c.id
                        AND o.direction = 'outbound' AND o.sender IN ('agent', 'ai')) r)
             ELSE c.first_response_time END,
           status = CASE
             WHEN m.from_customer AND c.status IN ('waiting', 'resolved')
               THEN CASE WHEN c.assigned_agent_id IS NOT NULL THEN 'assigned' ELSE 'open' END
             WHEN m.reply AND c.status IN ('open', 'assigned') THEN 'waiting'
             ELSE c.status END,
           resolved_at = CASE WHEN m.from_customer AND c.status = 'resolved' THEN NULL
                              ELSE c.resolved_at END,
           resolved_by = CASE WHEN m.from_customer AND c.status = 'resolved' THEN NULL
                              ELSE c.resolved_by END
         FROM m
         WHERE c.id = m.conversation_id
         RETURNING m.reply, c.id"
    );
    let row: Option<(bool, Uuid)> = sqlx::query_as(&sql)
        .bind(message_id)
        .fetch_optional(tx.conn())
        .await?;
    if let Some((true, conversation)) = row {
        refresh_average_response_time(tx, conversation).await?;
    }
    Ok(())
}

/// Recomputes `average_response_time` of `conversation` from its messages: the mean, in
/// minutes, over every agent or AI reply that answered a customer, of the time from the first
/// customer message it answered to the reply. Messages are taken in `sent_at` order and cut
/// into turns at each reply; a turn's response time is its reply's time minus its first
/// inbound message's time, and turns without an inbound message (an agent writing twice) do
/// not count. Recomputed from the facts rather than kept as a running mean, so late messages
/// and seeded history are counted right. Left unchanged while no reply answered a customer.
pub(crate) async fn refresh_average_response_time(
    tx: &mut TenantTx,
    conversation: Uuid,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE app.conversations c SET average_response_time = s.minutes
         FROM (
           SELECT round(avg(extract(epoch FROM t.replied - t.first_in) / 60)::numeric, 2) AS minutes
           FROM (
             SELECT min(sent_at) FILTER (WHERE from_customer) AS first_in,
                    min(sent_at) FILTER (WHERE reply) AS replied
             FROM (
               SELECT sent_at, direction = 'inbound' AS from_customer,
                      direction = 'outbound' AND sender IN ('agent', 'ai') AS reply,
                      count(*) FILTER (WHERE direction = 'outbound' AND sender IN ('agent', 'ai'))
                        OVER (ORDER BY sent_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                        AS turn
               FROM app.messages
               WHERE tenant_id = app.current_tenant_id() AND conversation_id = $1
             ) x
             GROUP BY turn
           ) t
           WHERE t.first_in IS NOT NULL AND t.replied IS NOT NULL
         ) s
         WHERE c.id = $1 AND s.minutes IS NOT NULL
           AND c.average_response_time IS DISTINCT FROM s.minutes",
    )
    .bind(conversation)
    .execute(tx.conn())
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// startConversation
// ------------------------------------------------------------------------------------------------

/// Whose conversation a new conversation is.
#[derive(Debug, Clone)]
pub enum ConversationCustomer {
    /// An existing customer of the tenant.
    Id(Uuid),
    /// The customer with this phone number, created from these details if there is none.
    ByPhone {
        /// Display name for a new customer.
        name: String,
        /// E.164 phone number.
        phone: String,
        /// E-mail for a new customer.
        email: Option<String>,
    },
}

/// A new conversation. Enumerated values take their database spelling; `None` leaves the
/// column at its default (`type` defaults to the channel's, see [`default_type`]).
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Who it is with.
    pub customer: ConversationCustomer,
    /// Where it happens.
    pub channel: &'static str,
    /// The 000 medium.
    pub kind: Option<&'static str>,
    /// Title.
    pub title: Option<String>,
    /// Priority.
    pub priority: Option<&'static str>,
    /// Category.
    pub category: Option<&'static str>,
    /// Labels.
    pub tags: Option<Vec<String>>,
    /// Assign it to this member right away (status `assigned`).
    pub assigned_agent_id: Option<Uuid>,
    /// Whether the AI may answer.
    pub is_ai_enabled: Option<bool>,
    /// Free-form data (an object).
    pub metadata: Option<Value>,
}

/// A started conversation.
#[derive(Debug, Clone, Copy)]
pub struct Started {
    /// The conversation.
    pub id: Uuid,
    /// Its customer.
    pub customer_id: Uuid,
    /// Whether the customer was created for it.
    pub customer_created: bool,
}

/// Fails unless `agent` is an active, non-viewer member of the tenant.
async fn require_assignable(tx: &mut TenantTx, agent: Uuid) -> Result<(), InboxError> {
    let member: Option<(String, bool)> = sqlx::query_as(
        "SELECT role, is_active FROM app.memberships
         WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
    )
    .bind(agent)
    .fetch_optional(tx.conn())
    .await?;
    match member {
        None => Err(InboxError::MissingRef(Ref::Member)),
        Some((role, _)) if role == "viewer" => Err(InboxError::NotAssignable(
            "viewers may read but not answer conversations",
        )),
        Some((_, false)) => Err(InboxError::NotAssignable("the member is deactivated")),
        Some(_) => Ok(()),
    }
}

/// Starts a new conversation with the customer (found or created by phone), always a new
/// one, even if the customer has an open conversation on the channel. It takes the same
/// advisory lock as [`find_or_open`], so a concurrent first inbound message waits for it and
/// then lands in this conversation instead of opening another.
#[tracing::instrument(skip_all, fields(channel = new.channel))]
pub async fn start(tx: &mut TenantTx, new: &NewConversation) -> Result<Started, InboxError> {
    let (customer_id, customer_created) = match &new.customer {
        ConversationCustomer::Id(id) => {
            super::require_customer(tx, *id).await?;
            (*id, false)
        }
        ConversationCustomer::ByPhone { name, phone, email } => {
            customers::find_or_create_by_phone(tx, name, phone, email.as_deref()).await?
        }
    };
    if let Some(agent) = new.assigned_agent_id {
        require_assignable(tx, agent).await?;
    }
    advisory_lock(
        tx,
        &format!("conversation:customer:{customer_id}:{}", new.channel),
    )
    .await?;

    let mut changes: Changes = vec![
        ("customer_id", Val::from(customer_id)),
        ("channel", Val::from(new.channel)),
        (
            "type",
            Val::from(new.kind.unwrap_or_else(|| default_type(new.channel))),
        ),
    ];
    if let Some(v) = &new.title {
        changes.push(("title", Val::from(v.clone())));
    }
    if let Some(v) = new.priority {
        changes.push(("priority", Val::from(v)));
    }
    if let Some(v) = new.category {
        changes.push(("category", Val::from(v)));
    }
    if let Some(v) = &new.tags {
        changes.push(("tags", Val::from(v.clone())));
    }
    if let Some(v) = new.is_ai_enabled {
        changes.push(("is_ai_enabled", Val::from(v)));
    }
    if let Some(v) = &new.metadata {
        changes.push(("metadata", Val::from(v.clone())));
    }
    let mut qb = crate::graph::insert("app.conversations", changes);
    qb.push(" RETURNING id");
    let id: Uuid = qb.build_query_scalar().fetch_one(tx.conn()).await?;
    if let Some(agent) = new.assigned_agent_id {
        // The same statement as assignConversation: assigned_at/assigned_by, open -> assigned.
        write_assignment(tx, id, agent).await?;
    }
    counters::refresh(tx, &[Some(customer_id)]).await?;
    Ok(Started {
        id,
        customer_id,
        customer_created,
    })
}

// ------------------------------------------------------------------------------------------------
// Assignment
// ------------------------------------------------------------------------------------------------

/// Assigns conversation `id` to member `agent`, recorded as done by the caller; an `open`
/// conversation becomes `assigned` (other statuses keep theirs: assigning a waiting
/// conversation does not make it the agent's turn). Re-assigning to the same agent changes
/// nothing (`assigned_at` keeps the time of the first assignment to them).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn assign(tx: &mut TenantTx, id: Uuid, agent: Uuid) -> Result<(), InboxError> {
    require_assignable(tx, agent).await?;
    write_assignment(tx, id, agent).await
}

/// [`assign`] without the check of the agent.
async fn write_assignment(tx: &mut TenantTx, id: Uuid, agent: Uuid) -> Result<(), InboxError> {
    let by = acting_member(tx).await?;
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversations SET
           assigned_at = CASE WHEN assigned_agent_id IS DISTINCT FROM $2 THEN now() ELSE assigned_at END,
           assigned_by = CASE WHEN assigned_agent_id IS DISTINCT FROM $2 THEN $3 ELSE assigned_by END,
           assigned_agent_id = $2,
           status = CASE WHEN status = 'open' THEN 'assigned' ELSE status END
         WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .bind(agent)
    .bind(by)
    .fetch_optional(tx.conn())
    .await?;
    done.map(|_| ()).ok_or(InboxError::NotFound)
}

/// Clears the assignment of conversation `id`; an `assigned` conversation is `open` again.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn unassign(tx: &mut TenantTx, id: Uuid) -> Result<(), InboxError> {
    let done: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversations SET
           assigned_agent_id = NULL, assigned_at = NULL, assigned_by = NULL,
           status = CASE WHEN status = 'assigned' THEN 'open' ELSE status END
         WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    done.map(|_| ()).ok_or(InboxError::NotFound)
}

// ------------------------------------------------------------------------------------------------
// Status moves
// ------------------------------------------------------------------------------------------------

/// The statuses a move to `target` may start from (see the module doc's table).
pub fn allowed_from(target: &str) -> &'static [&'static str] {
    match target {
        "closed" => &["open", "assigned", "waiting", "resolved"],
        _ => &["open", "assigned", "waiting"],
    }
}

/// After an `UPDATE` that matched nothing: not visible, or visible in a status (or without
/// the agent) the move does not allow.
async fn why_not(tx: &mut TenantTx, id: Uuid, target: &str) -> Result<InboxError, DbError> {
    let current: Option<(String, bool)> = sqlx::query_as(
        "SELECT status, assigned_agent_id IS NOT NULL FROM app.conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match current {
        None => InboxError::NotFound,
        Some((status, has_agent))
            if target == "assigned" && !has_agent && allowed_from(target).contains(&&*status) =>
        {
            InboxError::NoAgent
        }
        Some((current, _)) => InboxError::Status { current },
    })
}

/// Moves conversation `id` to `target` (`open`, `assigned`, `waiting`, `resolved` or
/// `closed`, database spelling) if its current status allows it, recording the caller as the
/// resolver. `notes` are the resolution notes (for `resolved` and `closed` only).
#[tracing::instrument(skip_all, fields(%id, target))]
pub async fn set_status(
    tx: &mut TenantTx,
    id: Uuid,
    target: &'static str,
    notes: Option<String>,
) -> Result<(), InboxError> {
    let by = acting_member(tx).await?;
    let moved: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversations SET
           status = $2,
           resolved_by = CASE WHEN $2 = 'resolved' THEN $4
                              WHEN $2 = 'closed' AND resolved_at IS NULL THEN $4
                              ELSE resolved_by END,
           resolved_at = CASE WHEN $2 = 'resolved' THEN now()
                              WHEN $2 = 'closed' THEN coalesce(resolved_at, now())
                              ELSE resolved_at END,
           resolution_notes = CASE WHEN $2 = 'resolved' THEN $5
                                   WHEN $2 = 'closed' THEN coalesce($5, resolution_notes)
                                   ELSE resolution_notes END,
           closed_at = CASE WHEN $2 = 'closed' THEN now() ELSE closed_at END
         WHERE id = $1 AND status = ANY ($3)
           AND ($2 <> 'assigned' OR assigned_agent_id IS NOT NULL)
         RETURNING id",
    )
    .bind(id)
    .bind(target)
    .bind(allowed_from(target))
    .bind(by)
    .bind(notes)
    .fetch_optional(tx.conn())
    .await?;
    match moved {
        Some(_) => Ok(()),
        None => Err(why_not(tx, id, target).await?),
    }
}

/// Reopens a `resolved` or `closed` conversation: `open`, or `assigned` when it has an agent;
/// `closed_at`, `resolved_at` and `resolved_by` are cleared (the resolution notes stay until
/// the next resolution replaces them).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn reopen(tx: &mut TenantTx, id: Uuid) -> Result<(), InboxError> {
    let moved: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.conversations SET
           status = CASE WHEN assigned_agent_id IS NOT NULL THEN 'assigned' ELSE 'open' END,
           closed_at = NULL, resolved_at = NULL, resolved_by = NULL
         WHERE id = $1 AND status IN ('resolved', 'closed')
         RETURNING id",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match moved {
        Some(_) => Ok(()),
        None => Err(why_not(tx, id, "reopen").await?),
    }
}
