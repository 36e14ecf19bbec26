//! Denormalised counters, set from the seeded facts by set-based statements run over id ranges
//! like the inserts, so they agree with the child tables exactly as a correct writer keeps them:
//! customers (bookings, calls, spend, conversations, messages, tickets, contact times,
//! satisfaction — through `app.refresh_customer_counters`, like every API write),
//! conversations (message and unread counts, last message, tokens) and memberships (assigned,
//! resolved and active conversations, response time).

use super::plan::{TenantPlan, Volumes};
use super::sql::{id, iso};
use super::{execute, execute_chunked};
use crate::{DbError, TenantTx};

pub(super) async fn refresh(tx: &mut TenantTx, plan: &TenantPlan) -> Result<(), DbError> {
    let v = Volumes::of(&plan.spec);
    // Customers `$22..=$23` at a time, through the one definition of their counters that the
    // API's writes use too (`app.refresh_customer_counters`, migration 0007): spend counts
    // paid bookings; the last contact is the latest call, SMS or chat message.
    let customers = format!(
        "SELECT app.refresh_customer_counters(ARRAY(
           SELECT id FROM app.customers WHERE tenant_id = $1 AND id BETWEEN {lo} AND {hi}))",
        lo = id("customers", "$22"),
        hi = id("customers", "$23"),
    );
    let each = 1 + v.bookings_each + v.calls_each + v.sms_each;
    execute_chunked(
        tx,
        plan,
        "customer counters",
        &customers,
        v.customers,
        each,
        false,
    )
    .await?;

    // Unread: the customer's messages after the latest read marker of any member.
    let conversations = format!(
        "UPDATE app.conversations cv SET
           message_count = a.n,
           unread_count = a.unread,
           last_message = jsonb_build_object('content', left(l.content, 500), 'timestamp', {sent},
             'from', CASE l.sender WHEN 'customer' THEN 'customer' WHEN 'system' THEN 'system' ELSE 'agent' END,
             'type', CASE WHEN l.type IN ('text', 'image', 'location', 'document', 'template') THEN l.type
                          ELSE 'text' END),
           last_message_at = l.sent_at,
           last_agent_response = a.last_out,
           last_customer_message = a.last_in,
           metadata = c0.metadata || jsonb_build_object('totalTokensUsed', a.tokens)
         FROM app.conversations c0
         CROSS JOIN LATERAL (SELECT max(last_read_at) AS at FROM app.conversation_reads
                             WHERE tenant_id = $1 AND conversation_id = c0.id) r
         CROSS JOIN LATERAL (
           SELECT count(*) AS n, coalesce(sum(tokens_used), 0) AS tokens,
                  count(*) FILTER (WHERE direction = 'inbound' AND sent_at > coalesce(r.at, '-infinity')) AS unread,
                  max(sent_at) FILTER (WHERE direction = 'outbound') AS last_out,
                  max(sent_at) FILTER (WHERE direction = 'inbound') AS last_in
           FROM app.messages WHERE tenant_id = $1 AND conversation_id = c0.id) a
         CROSS JOIN LATERAL (SELECT content, sent_at, sender, type FROM app.messages
                             WHERE tenant_id = $1 AND conversation_id = c0.id
                             ORDER BY sent_at DESC, id DESC LIMIT 1) l
         WHERE c0.tenant_id = $1 AND c0.id BETWEEN {lo} AND {hi} AND cv.tenant_id = $1 AND cv.id = c0.id",
        sent = iso("l.sent_at"),
        lo = id("conversations", "$22"),
        hi = id("conversations", "$23"),
    );
    execute_chunked(
        tx,
        plan,
        "conversation counters",
        &conversations,
        v.conversations,
        4,
        false,
    )
    .await?;

    let memberships = "
        UPDATE app.memberships mb SET
          total_conversations = coalesce(a.n, 0),
          resolved_conversations = coalesce(a.resolved, 0),
          current_active_conversations = coalesce(a.active, 0),
          average_response_time = coalesce(a.response, 0),
          last_chat_at = a.last
        FROM app.memberships m0
        LEFT JOIN (SELECT assigned_agent_id, count(*) AS n,
                          count(*) FILTER (WHERE status IN ('resolved', 'closed')) AS resolved,
                          count(*) FILTER (WHERE status IN ('open', 'assigned', 'waiting')) AS active,
                          round(avg(first_response_time), 2) AS response, max(last_message_at) AS last
                   FROM app.conversations WHERE tenant_id = $1 AND assigned_agent_id IS NOT NULL
                   GROUP BY 1) a ON a.assigned_agent_id = m0.user_id
        WHERE m0.tenant_id = $1 AND mb.tenant_id = $1 AND mb.id = m0.id";
    execute(tx, "member statistics", plan.query(memberships)).await?;
    Ok(())
}
