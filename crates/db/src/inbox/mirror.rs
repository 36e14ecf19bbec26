//! SMS and calls in the inbox: each recorded SMS and call of a known customer appears as one
//! message of that customer's conversation on channel `sms` / `phone`, so an agent sees the
//! whole exchange in one place.
//!
//! [`sms`] and [`call`] are called by `graph::sms::record` and `graph::calls::record` in the
//! same transaction, after the SMS or call is written and before the customer's counters are
//! refreshed. The conversation is found or opened exactly as for an inbound message
//! ([`conversations::find_or_open`], same advisory lock, so an SMS and a webhook message of the
//! same customer land in the same conversation); an SMS or call already linked to a
//! conversation (`conversation_id`, e.g. imported history) stays in it. Nothing happens for an
//! SMS or call without a customer (unknown numbers do not open conversations).
//!
//! One message per SMS and per call: `messages.sms_message_id` / `messages.call_id` are unique,
//! so recording the same SMS or call again updates its message (text, type, recording, and the
//! delivery status, forward only) instead of adding one; the message stays in the conversation
//! it was first put in (also if the SMS or call later moves to another customer). The SMS's /
//! call's `conversation_id` is set to the message's conversation.
//!
//! What the message says and who "wrote" it:
//!
//! - SMS: the text. Inbound (direction `inbound`, or status `received` when the direction is
//!   not given) is the customer's message (`sender` customer, role `user`, status `delivered`);
//!   anything else is outbound from the platform (`sender` system, role `assistant`, status
//!   the SMS's: `sent`, `delivered`, `failed`, else `pending`). A platform text is not an
//!   agent's answer, so it does not reset the conversation's unread count or status.
//! - Call: `"{Inbound|Outbound} call, 3 min 12 s (completed)"`, then the summary on the next
//!   paragraph when there is one; type `audio` with the recording as an attachment when there
//!   is a recording, else `text`; `sender` system, role `system` (it is the platform's record
//!   of a conversation both sides spoke in); direction the call's (`inbound` when unknown);
//!   sent at the call's start (else its creation); status `delivered`. An inbound call counts
//!   as the customer reaching out: unread for agents, and a waiting or resolved conversation is
//!   open again.
//!
//! Every statement here names the scope's tenant (`tenant_id = $2` on the fact, the message
//! and the conversation), next to row-level security: on a distributed database (Citus,
//! docs/scaling.md) that is what routes the `INSERT … SELECT` to the tenant's shard, where it
//! runs as a whole; without it Citus would execute it through the coordinator with COPY,
//! which it refuses under row-level security. The message takes the fact's own `tenant_id`.

use uuid::Uuid;

use super::conversations::{self, Contact, LAST_MESSAGE_SQL};
use super::messages::forward_sql;
use super::InboxError;
use crate::TenantTx;

/// Where a mirrored fact lives and how it reads as a message.
struct Source {
    /// Its table.
    table: &'static str,
    /// The `messages` column linking the message to it.
    link: &'static str,
    /// The channel of the conversation it goes to.
    channel: &'static str,
    /// One row for fact `$1` of tenant `$2`: `tenant_id, id, customer_id, conversation_id,
    /// phone, name` and the message columns `role, content, type, direction, sender, status,
    /// sent_at, delivered_at, attachments, provider_error`.
    projection: &'static str,
}

const SMS: Source = Source {
    table: "app.sms_messages",
    link: "sms_message_id",
    channel: "sms",
    projection:
        "SELECT s.tenant_id, s.id, s.customer_id, s.conversation_id, s.phone_number AS phone,
              NULL::text AS name,
              CASE WHEN d.dir = 'inbound' THEN 'user' ELSE 'assistant' END AS role,
              s.message_body AS content, 'text' AS type, d.dir AS direction,
              CASE WHEN d.dir = 'inbound' THEN 'customer' ELSE 'system' END AS sender,
              CASE WHEN d.dir = 'inbound' OR s.status = 'received' THEN 'delivered'
                   WHEN s.status IN ('sent', 'delivered', 'failed') THEN s.status
                   ELSE 'pending' END AS status,
              s.created_at AS sent_at,
              CASE WHEN d.dir = 'inbound' THEN s.created_at END AS delivered_at,
              '[]'::jsonb AS attachments,
              CASE WHEN s.status = 'failed' THEN s.error END AS provider_error
         FROM app.sms_messages s
         CROSS JOIN LATERAL (SELECT coalesce(s.direction,
                               CASE WHEN s.status = 'received' THEN 'inbound' ELSE 'outbound' END)
                             AS dir) d
         WHERE s.tenant_id = $2 AND s.id = $1",
};

const CALL: Source = Source {
    table: "app.calls",
    link: "call_id",
    channel: "phone",
    projection: "SELECT k.tenant_id, k.id, k.customer_id, k.conversation_id, k.phone_number AS phone,
              k.customer_name AS name, 'system' AS role,
              concat_ws(E'\\n\\n',
                initcap(d.dir) || ' call'
                  || CASE WHEN k.duration >= 60
                          THEN ', ' || (k.duration / 60) || ' min ' || (k.duration % 60) || ' s'
                          WHEN k.duration > 0 THEN ', ' || k.duration || ' s'
                          ELSE '' END
                  || CASE WHEN k.status IS NOT NULL
                          THEN ' (' || replace(k.status, '-', ' ') || ')' ELSE '' END,
                nullif(btrim(k.summary), '')) AS content,
              CASE WHEN k.recording_url IS NOT NULL THEN 'audio' ELSE 'text' END AS type,
              d.dir AS direction, 'system' AS sender, 'delivered' AS status,
              coalesce(k.started_at, k.created_at) AS sent_at,
              coalesce(k.started_at, k.created_at) AS delivered_at,
              CASE WHEN k.recording_url IS NOT NULL
                   THEN jsonb_build_array(jsonb_build_object('type', 'audio', 'url', k.recording_url))
                   ELSE '[]'::jsonb END AS attachments,
              NULL::text AS provider_error
         FROM app.calls k
         CROSS JOIN LATERAL (SELECT coalesce(k.call_type, 'inbound') AS dir) d
         WHERE k.tenant_id = $2 AND k.id = $1",
};

/// Puts SMS `id` into its customer's `sms` conversation (or updates its message). Returns
/// the conversation, or `None` when the SMS has no customer.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn sms(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, InboxError> {
    mirror(tx, &SMS, id).await
}

/// Puts call `id` into its customer's `phone` conversation (or updates its message). Returns
/// the conversation, or `None` when the call has no customer.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn call(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, InboxError> {
    mirror(tx, &CALL, id).await
}

async fn mirror(tx: &mut TenantTx, src: &Source, id: Uuid) -> Result<Option<Uuid>, InboxError> {
    type Head = (Option<Uuid>, Option<Uuid>, String, Option<String>);
    let tenant = tx.ctx().tenant_id;
    let head: Option<Head> = sqlx::query_as(&format!(
        "SELECT n.customer_id, n.conversation_id, n.phone, n.name FROM ({}) n",
        src.projection
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    let Some((Some(customer), linked, phone, name)) = head else {
        return Ok(None);
    };

    let existing: Option<(Uuid, Uuid)> = sqlx::query_as(&format!(
        "SELECT id, conversation_id FROM app.messages WHERE tenant_id = $2 AND {} = $1",
        src.link
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(tx.conn())
    .await?;
    let conversation = match existing {
        Some((message, conversation)) => {
            update_message(tx, src, id, message, conversation).await?;
            conversation
        }
        None => {
            let conversation = match linked {
                Some(c) => c,
                None => {
                    let contact = Contact {
                        phone: Some(phone),
                        email: None,
                        name,
                    };
                    conversations::find_or_open(tx, Some(customer), &contact, src.channel)
                        .await?
                        .0
                }
            };
            conversations::lock(tx, conversation).await?;
            let inserted: Option<Uuid> = sqlx::query_scalar(&format!(
                "INSERT INTO app.messages
                   (tenant_id, conversation_id, customer_id, {link}, role, content, type,
                    direction, sender, status, sent_at, delivered_at, attachments,
                    provider_error)
                 SELECT n.tenant_id, $3, n.customer_id, n.id, n.role, n.content, n.type, n.direction, n.sender,
                        n.status, n.sent_at,
                        CASE WHEN n.status IN ('delivered', 'read')
                             THEN coalesce(n.delivered_at, now()) END,
                        n.attachments,
                        n.provider_error
                 FROM ({projection}) n
                 ON CONFLICT (tenant_id, {link}) WHERE {link} IS NOT NULL DO NOTHING
                 RETURNING id",
                link = src.link,
                projection = src.projection,
            ))
            .bind(id)
            .bind(tenant)
            .bind(conversation)
            .fetch_optional(tx.conn())
            .await?;
            if let Some(message) = inserted {
                conversations::apply_new_message(tx, message).await?;
            }
            conversation
        }
    };
    sqlx::query(&format!(
        "UPDATE {} SET conversation_id = $3 \
         WHERE tenant_id = $2 AND id = $1 AND conversation_id IS DISTINCT FROM $3",
        src.table
    ))
    .bind(id)
    .bind(tenant)
    .bind(conversation)
    .execute(tx.conn())
    .await?;
    Ok(Some(conversation))
}

/// Re-recording: the message takes the fact's current text, type and attachments, and its
/// delivery status moves forward only; the conversation's preview follows when the message is
/// its latest.
async fn update_message(
    tx: &mut TenantTx,
    src: &Source,
    id: Uuid,
    message: Uuid,
    conversation: Uuid,
) -> Result<(), InboxError> {
    let forward = forward_sql("m.status", "n.status");
    let changed = sqlx::query(&format!(
        "UPDATE app.messages m SET
           content = n.content, type = n.type, attachments = n.attachments,
           status = CASE WHEN {forward} THEN n.status ELSE m.status END,
           delivered_at = CASE WHEN {forward} AND n.status IN ('delivered', 'read')
                               THEN coalesce(m.delivered_at, n.delivered_at, now())
                               ELSE m.delivered_at END,
           provider_error = CASE WHEN {forward} AND n.status = 'failed' THEN n.provider_error
                                 ELSE m.provider_error END
         FROM ({projection}) n
         WHERE m.tenant_id = $2 AND m.id = $3
           AND (m.content IS DISTINCT FROM n.content OR m.type IS DISTINCT FROM n.type
                OR m.attachments IS DISTINCT FROM n.attachments OR {forward})",
        projection = src.projection,
    ))
    .bind(id)
    .bind(tx.ctx().tenant_id)
    .bind(message)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if changed > 0 {
        sqlx::query(&format!(
            "UPDATE app.conversations c SET last_message = {LAST_MESSAGE_SQL}
             FROM (SELECT * FROM app.messages WHERE tenant_id = $3 AND conversation_id = $1
                   ORDER BY sent_at DESC, id DESC LIMIT 1) m
             WHERE c.tenant_id = $3 AND c.id = $1 AND m.id = $2
               AND c.last_message IS DISTINCT FROM {LAST_MESSAGE_SQL}"
        ))
        .bind(conversation)
        .bind(message)
        .bind(tx.ctx().tenant_id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
