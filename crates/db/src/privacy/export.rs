//! The export: one JSON document with every row of a person's footprint (see the parent
//! module), built by PostgreSQL in one statement from the footprint's ids.
//!
//! Each row is the whole row as `to_jsonb` renders it (column names in snake_case, the
//! generated full-text `search` vectors left out), so nothing stored about the person is
//! missing and nothing is reshaped. Shape:
//!
//! ```text
//! { exportedAt, customerId, matchedBy: { phones, emails },
//!   customer,
//!   bookings, calls, smsMessages,
//!   conversations: [ { …row, messages: [...], notes: [...] } ],
//!   messagesElsewhere (the person's messages in conversations that are not theirs),
//!   conversationThreads,
//!   tickets: [ { …row, notes: [...] } ], leads,
//!   demoRequests: [ { …row, notes: [...] } ],
//!   auditEntries }
//! ```
//!
//! Lists are in creation order (messages by `sent_at`, audit entries by `occurred_at`).

use serde_json::Value;

use super::Footprint;
use crate::{DbError, TenantTx};

const EXPORT: &str = "
SELECT jsonb_build_object(
  'exportedAt', now(),
  'customerId', $1::uuid,
  'matchedBy', jsonb_build_object('phones', to_jsonb($15::text[]), 'emails', to_jsonb($16::text[])),
  'customer', (SELECT to_jsonb(c) - 'search' FROM app.customers c WHERE c.id = $1),
  'bookings', coalesce((SELECT jsonb_agg(to_jsonb(b) ORDER BY b.created_at, b.id)
                          FROM app.bookings b WHERE b.id = ANY ($2)), '[]'),
  'calls', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'search' ORDER BY x.created_at, x.id)
                       FROM app.calls x WHERE x.id = ANY ($3)), '[]'),
  'smsMessages', coalesce((SELECT jsonb_agg(to_jsonb(s) - 'search' ORDER BY s.created_at, s.id)
                             FROM app.sms_messages s WHERE s.id = ANY ($4)), '[]'),
  'conversations', coalesce((
     SELECT jsonb_agg(to_jsonb(v) || jsonb_build_object(
              'messages', coalesce((SELECT jsonb_agg(to_jsonb(m) - 'search' ORDER BY m.sent_at, m.id)
                                      FROM app.messages m
                                     WHERE m.conversation_id = v.id AND m.id = ANY ($6)), '[]'),
              'notes', coalesce((SELECT jsonb_agg(to_jsonb(n) ORDER BY n.created_at, n.id)
                                   FROM app.conversation_notes n
                                  WHERE n.conversation_id = v.id AND n.id = ANY ($7)), '[]'))
            ORDER BY v.created_at, v.id)
       FROM app.conversations v WHERE v.id = ANY ($5)), '[]'),
  'messagesElsewhere', coalesce((
     SELECT jsonb_agg(to_jsonb(m) - 'search' ORDER BY m.sent_at, m.id)
       FROM app.messages m
      WHERE m.id = ANY ($6) AND NOT m.conversation_id = ANY ($5)), '[]'),
  'conversationThreads', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.created_at, t.id)
                                     FROM app.conversation_threads t WHERE t.id = ANY ($8)), '[]'),
  'tickets', coalesce((
     SELECT jsonb_agg(to_jsonb(t) - 'search' || jsonb_build_object(
              'notes', coalesce((SELECT jsonb_agg(to_jsonb(n) ORDER BY n.created_at, n.id)
                                   FROM app.ticket_notes n
                                  WHERE n.ticket_id = t.id AND n.id = ANY ($10)), '[]'))
            ORDER BY t.created_at, t.id)
       FROM app.tickets t WHERE t.id = ANY ($9)), '[]'),
  'leads', coalesce((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.created_at, l.id)
                       FROM app.leads l WHERE l.id = ANY ($11)), '[]'),
  'demoRequests', coalesce((
     SELECT jsonb_agg(to_jsonb(d) || jsonb_build_object(
              'notes', coalesce((SELECT jsonb_agg(to_jsonb(n) ORDER BY n.added_at, n.id)
                                   FROM app.demo_request_notes n
                                  WHERE n.demo_request_id = d.id AND n.id = ANY ($13)), '[]'))
            ORDER BY d.created_at, d.id)
       FROM app.demo_requests d WHERE d.id = ANY ($12)), '[]'),
  'auditEntries', coalesce((
     SELECT jsonb_agg(to_jsonb(a) ORDER BY a.occurred_at, a.id)
       FROM jsonb_each($14) k
      CROSS JOIN LATERAL jsonb_array_elements_text(k.value) ids(id)
       JOIN app.audit_log a ON a.entity_type = k.key AND a.entity_id = ids.id), '[]'))";

/// The export document of `fp` (see the module docs), read in the caller's transaction.
#[tracing::instrument(skip_all, fields(customer = %fp.customer))]
pub async fn export(tx: &mut TenantTx, fp: &Footprint) -> Result<Value, DbError> {
    Ok(sqlx::query_scalar(EXPORT)
        .bind(fp.customer)
        .bind(fp.ids("bookings"))
        .bind(fp.ids("calls"))
        .bind(fp.ids("sms_messages"))
        .bind(fp.ids("conversations"))
        .bind(fp.ids("messages"))
        .bind(fp.ids("conversation_notes"))
        .bind(fp.ids("conversation_threads"))
        .bind(fp.ids("tickets"))
        .bind(fp.ids("ticket_notes"))
        .bind(fp.ids("leads"))
        .bind(fp.ids("demo_requests"))
        .bind(fp.ids("demo_request_notes"))
        .bind(fp.audit_keys())
        .bind(&fp.phones)
        .bind(&fp.emails)
        .fetch_one(tx.conn())
        .await?)
}
