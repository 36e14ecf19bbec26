//! Denormalised counters, set from the seeded facts with one set-based `UPDATE` per table, so
//! they agree with the child tables exactly as a correct writer would keep them:
//! customers (bookings, calls, spend, conversations, messages, tickets, contact times,
//! satisfaction), conversations (message and unread counts, last message, tokens) and
//! memberships (assigned, resolved and active conversations, response time).

use super::profile::TenantPlan;
use super::sql::iso;
use crate::{DbError, TenantTx};

pub(super) async fn refresh(tx: &mut TenantTx, plan: &TenantPlan) -> Result<(), DbError> {
    // Spend counts paid bookings; the last contact is the latest call, SMS or chat message.
    let customers = "
        UPDATE app.customers cu SET
          total_bookings = coalesce(b.n, 0),
          total_spent = coalesce(b.spent, 0),
          total_calls = coalesce(ca.n, 0),
          total_conversations = coalesce(v.n, 0),
          total_messages = coalesce(m.n, 0),
          total_tickets = coalesce(t.n, 0),
          satisfaction_score = v.rating,
          first_contact = least(c0.created_at, ca.first, m.first),
          last_contact = greatest(ca.last, s.last, m.last),
          last_interaction = greatest(ca.last, s.last, m.last, b.last),
          last_message_at = m.last
        FROM app.customers c0
        LEFT JOIN (SELECT customer_id, count(*) AS n, max(created_at) AS last,
                          sum(payment_amount) FILTER (WHERE payment_status = 'paid') AS spent
                   FROM app.bookings WHERE tenant_id = $1 GROUP BY 1) b ON b.customer_id = c0.id
        LEFT JOIN (SELECT customer_id, count(*) AS n, min(started_at) AS first, max(started_at) AS last
                   FROM app.calls WHERE tenant_id = $1 AND customer_id IS NOT NULL GROUP BY 1) ca
               ON ca.customer_id = c0.id
        LEFT JOIN (SELECT customer_id, max(created_at) AS last
                   FROM app.sms_messages WHERE tenant_id = $1 AND customer_id IS NOT NULL GROUP BY 1) s
               ON s.customer_id = c0.id
        LEFT JOIN (SELECT customer_id, count(*) AS n,
                          round(avg((customer_satisfaction ->> 'rating')::numeric), 2) AS rating
                   FROM app.conversations WHERE tenant_id = $1 AND customer_id IS NOT NULL GROUP BY 1) v
               ON v.customer_id = c0.id
        LEFT JOIN (SELECT customer_id, count(*) AS n, min(sent_at) AS first, max(sent_at) AS last
                   FROM app.messages WHERE tenant_id = $1 AND customer_id IS NOT NULL GROUP BY 1) m
               ON m.customer_id = c0.id
        LEFT JOIN (SELECT customer_id, count(*) AS n FROM app.tickets WHERE tenant_id = $1 GROUP BY 1) t
               ON t.customer_id = c0.id
        WHERE c0.tenant_id = $1 AND cu.tenant_id = $1 AND cu.id = c0.id";
    plan.query(customers).execute(tx.conn()).await?;

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
           metadata = cv.metadata || jsonb_build_object('totalTokensUsed', a.tokens)
         FROM (SELECT m.conversation_id, count(*) AS n, sum(m.tokens_used) AS tokens,
                      count(*) FILTER (WHERE m.direction = 'inbound' AND m.sent_at > coalesce(r.at, '-infinity')) AS unread,
                      max(m.sent_at) FILTER (WHERE m.direction = 'outbound') AS last_out,
                      max(m.sent_at) FILTER (WHERE m.direction = 'inbound') AS last_in
               FROM app.messages m
               LEFT JOIN (SELECT conversation_id, max(last_read_at) AS at FROM app.conversation_reads
                          WHERE tenant_id = $1 GROUP BY 1) r USING (conversation_id)
               WHERE m.tenant_id = $1
               GROUP BY 1) a
         JOIN (SELECT DISTINCT ON (conversation_id) conversation_id, content, sent_at, sender, type
               FROM app.messages WHERE tenant_id = $1
               ORDER BY conversation_id, sent_at DESC, id DESC) l USING (conversation_id)
         WHERE cv.tenant_id = $1 AND cv.id = a.conversation_id",
        sent = iso("l.sent_at"),
    );
    plan.query(&conversations).execute(tx.conn()).await?;

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
    plan.query(memberships).execute(tx.conn()).await?;
    Ok(())
}
