//! Denormalised counters, set from the seeded facts by set-based `UPDATE`s (one statement per
//! table, run over id ranges like the inserts), so they agree with the child tables exactly as
//! a correct writer would keep them:
//! customers (bookings, calls, spend, conversations, messages, tickets, contact times,
//! satisfaction), conversations (message and unread counts, last message, tokens) and
//! memberships (assigned, resolved and active conversations, response time).

use super::plan::{TenantPlan, Volumes};
use super::sql::{id, iso};
use super::{execute, execute_chunked};
use crate::{DbError, TenantTx};

pub(super) async fn refresh(tx: &mut TenantTx, plan: &TenantPlan) -> Result<(), DbError> {
    let v = Volumes::of(&plan.spec);
    // Customers `$22..=$23` at a time. The child tables were filled in this very transaction,
    // so the planner has no statistics for them (the runtime role may not ANALYZE); per-parent
    // LATERAL aggregates over the tenant-leading `(tenant_id, customer_id, …)` indexes keep the
    // plan linear whatever it estimates. Spend counts paid bookings; the last contact is the
    // latest call, SMS or chat message.
    let customers = format!(
        "UPDATE app.customers cu SET
           total_bookings = b.n, total_spent = b.spent, total_calls = ca.n, total_conversations = v.n,
           total_messages = m.n, total_tickets = t.n, satisfaction_score = v.rating,
           first_contact = least(c0.created_at, ca.first, m.first),
           last_contact = greatest(ca.last, s.last, m.last),
           last_interaction = greatest(ca.last, s.last, m.last, b.last),
           last_message_at = m.last
         FROM app.customers c0
         CROSS JOIN LATERAL (SELECT count(*) AS n, max(created_at) AS last,
                                    coalesce(sum(payment_amount) FILTER (WHERE payment_status = 'paid'), 0) AS spent
                             FROM app.bookings WHERE tenant_id = $1 AND customer_id = c0.id) b
         CROSS JOIN LATERAL (SELECT count(*) AS n, min(started_at) AS first, max(started_at) AS last
                             FROM app.calls WHERE tenant_id = $1 AND customer_id = c0.id) ca
         CROSS JOIN LATERAL (SELECT max(created_at) AS last
                             FROM app.sms_messages WHERE tenant_id = $1 AND customer_id = c0.id) s
         CROSS JOIN LATERAL (SELECT count(*) AS n,
                                    round(avg((customer_satisfaction ->> 'rating')::numeric), 2) AS rating
                             FROM app.conversations WHERE tenant_id = $1 AND customer_id = c0.id) v
         CROSS JOIN LATERAL (SELECT count(*) AS n, min(sent_at) AS first, max(sent_at) AS last
                             FROM app.messages WHERE tenant_id = $1 AND customer_id = c0.id) m
         CROSS JOIN LATERAL (SELECT count(*) AS n
                             FROM app.tickets WHERE tenant_id = $1 AND customer_id = c0.id) t
         WHERE c0.tenant_id = $1 AND c0.id BETWEEN {lo} AND {hi} AND cu.tenant_id = $1 AND cu.id = c0.id",
        lo = id("customers", "$22"),
        hi = id("customers", "$23"),
    );
    let each = 1 + v.bookings_each + v.calls_each + v.sms_each;
    execute_chunked(tx, plan, "customer counters", &customers, v.customers, each).await?;

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
