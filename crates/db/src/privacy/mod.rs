//! GDPR (seed 000): everything the tenant holds about one person, exported as one document
//! ([`export`]) or erased in one transaction ([`erase`]).
//!
//! Both start from the person's *footprint* ([`footprint`]): the ids of every row about them,
//! table by table, read in the caller's tenant scope (row-level security decides what exists).
//! A row is about the person when it is
//!
//! - the customer row itself;
//! - linked to it: bookings, calls, SMS, conversations, messages, tickets, leads and
//!   conversation threads whose `customer_id` is the customer;
//! - under a linked row: every message and internal note of those conversations, the notes of
//!   those tickets, the calls of those bookings or conversations, the SMS of those bookings,
//!   calls or conversations, the leads and threads of those conversations;
//! - never linked to any customer (`customer_id` NULL) but carrying one of the person's phone
//!   numbers (the customer's number and its alternatives) or e-mail address (ignoring case): calls
//!   and SMS by number, conversations by the captured client phone or e-mail, leads by phone or
//!   e-mail, threads by number; and demo requests (which have no customer link) by phone or e-mail.
//!
//! Rows linked to *another* customer are that customer's, even when they mention the same
//! number (a shared phone): they are neither exported nor erased. Audit entries about any row
//! of the footprint (`entity_type` = table name, `entity_id` = the row id) belong to it too.

mod erase;
mod export;

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::{DbError, TenantTx};

pub use erase::{erase, Erased, ErasureMode};
pub use export::export;

/// The tables a footprint spans, parents before children (the order erasure deletes in,
/// reversed, and the order counts are reported in).
pub const TABLES: [&str; 13] = [
    "customers",
    "bookings",
    "calls",
    "sms_messages",
    "conversations",
    "messages",
    "conversation_notes",
    "conversation_threads",
    "tickets",
    "ticket_notes",
    "leads",
    "demo_requests",
    "demo_request_notes",
];

/// The rows about one person, by table (every table of [`TABLES`] is present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// The customer.
    pub customer: Uuid,
    /// The phone numbers matched (the customer's and its alternatives).
    pub phones: Vec<String>,
    /// The e-mail addresses matched (lower case).
    pub emails: Vec<String>,
    /// Row ids by table name.
    pub rows: BTreeMap<String, Vec<Uuid>>,
    /// Other customers whose rows the footprint reaches through a link (a call of the person's
    /// booking recorded for someone else): their counters change when those rows go.
    pub other_customers: Vec<Uuid>,
}

impl Footprint {
    /// The ids of `table`'s rows (empty when none).
    pub fn ids(&self, table: &str) -> &[Uuid] {
        self.rows.get(table).map_or(&[], Vec::as_slice)
    }

    /// `{table: [id as text, …]}` for every table with rows: what audit entries are keyed by.
    pub fn audit_keys(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.rows
                .iter()
                .filter(|(_, ids)| !ids.is_empty())
                .map(|(t, ids)| {
                    let ids = ids.iter().map(|id| serde_json::json!(id.to_string()));
                    (t.clone(), serde_json::Value::Array(ids.collect()))
                })
                .collect(),
        )
    }
}

/// The footprint query: `$1` is the customer. One statement, one snapshot; each CTE names its
/// table and the rules of the module docs.
const FOOTPRINT: &str = "
WITH c AS (
  SELECT id, phone, email, alternative_phones FROM app.customers WHERE id = $1
), phones AS (
  SELECT DISTINCT p FROM c, unnest(c.phone || c.alternative_phones) p WHERE btrim(p) <> ''
), emails AS (
  SELECT lower(c.email) AS e FROM c WHERE btrim(coalesce(c.email, '')) <> ''
), conversations AS (
  SELECT v.id, v.customer_id FROM app.conversations v
   WHERE v.customer_id = $1
      OR (v.customer_id IS NULL AND (v.client_phone IN (SELECT p FROM phones)
                                     OR lower(v.client_email) IN (SELECT e FROM emails)))
), bookings AS (
  SELECT b.id, b.customer_id FROM app.bookings b WHERE b.customer_id = $1
), calls AS (
  SELECT x.id, x.customer_id FROM app.calls x
   WHERE x.customer_id = $1
      OR x.booking_id IN (SELECT id FROM bookings)
      OR x.conversation_id IN (SELECT id FROM conversations)
      OR (x.customer_id IS NULL AND x.phone_number IN (SELECT p FROM phones))
), sms AS (
  SELECT s.id, s.customer_id FROM app.sms_messages s
   WHERE s.customer_id = $1
      OR s.booking_id IN (SELECT id FROM bookings)
      OR s.call_id IN (SELECT id FROM calls)
      OR s.conversation_id IN (SELECT id FROM conversations)
      OR (s.customer_id IS NULL AND s.phone_number IN (SELECT p FROM phones))
), messages AS (
  SELECT m.id, m.customer_id FROM app.messages m
   WHERE m.conversation_id IN (SELECT id FROM conversations) OR m.customer_id = $1
), notes AS (
  SELECT n.id FROM app.conversation_notes n
   WHERE n.conversation_id IN (SELECT id FROM conversations)
), threads AS (
  SELECT t.id, t.customer_id FROM app.conversation_threads t
   WHERE t.customer_id = $1
      OR t.conversation_id IN (SELECT id FROM conversations)
      OR (t.customer_id IS NULL AND t.phone_number IN (SELECT p FROM phones))
), tickets AS (
  SELECT t.id FROM app.tickets t WHERE t.customer_id = $1
), ticket_notes AS (
  SELECT n.id FROM app.ticket_notes n WHERE n.ticket_id IN (SELECT id FROM tickets)
), leads AS (
  SELECT l.id, l.customer_id FROM app.leads l
   WHERE l.customer_id = $1
      OR l.conversation_id IN (SELECT id FROM conversations)
      OR (l.customer_id IS NULL AND (l.phone IN (SELECT p FROM phones)
                                     OR lower(l.email) IN (SELECT e FROM emails)))
), demo_requests AS (
  SELECT d.id FROM app.demo_requests d
   WHERE d.phone IN (SELECT p FROM phones) OR lower(d.email) IN (SELECT e FROM emails)
), demo_request_notes AS (
  SELECT n.id FROM app.demo_request_notes n
   WHERE n.demo_request_id IN (SELECT id FROM demo_requests)
), others AS (
  SELECT customer_id FROM conversations UNION SELECT customer_id FROM calls
  UNION SELECT customer_id FROM sms UNION SELECT customer_id FROM messages
  UNION SELECT customer_id FROM threads UNION SELECT customer_id FROM leads
)
SELECT 'customers', ARRAY(SELECT id FROM c)
UNION ALL SELECT 'bookings', ARRAY(SELECT id FROM bookings)
UNION ALL SELECT 'calls', ARRAY(SELECT id FROM calls)
UNION ALL SELECT 'sms_messages', ARRAY(SELECT id FROM sms)
UNION ALL SELECT 'conversations', ARRAY(SELECT id FROM conversations)
UNION ALL SELECT 'messages', ARRAY(SELECT id FROM messages)
UNION ALL SELECT 'conversation_notes', ARRAY(SELECT id FROM notes)
UNION ALL SELECT 'conversation_threads', ARRAY(SELECT id FROM threads)
UNION ALL SELECT 'tickets', ARRAY(SELECT id FROM tickets)
UNION ALL SELECT 'ticket_notes', ARRAY(SELECT id FROM ticket_notes)
UNION ALL SELECT 'leads', ARRAY(SELECT id FROM leads)
UNION ALL SELECT 'demo_requests', ARRAY(SELECT id FROM demo_requests)
UNION ALL SELECT 'demo_request_notes', ARRAY(SELECT id FROM demo_request_notes)
UNION ALL SELECT 'others', ARRAY(SELECT customer_id FROM others
                                  WHERE customer_id IS NOT NULL AND customer_id <> $1)";

/// The footprint of customer `customer`, or `None` when it is not visible in the tenant.
#[tracing::instrument(skip(tx))]
pub async fn footprint(tx: &mut TenantTx, customer: Uuid) -> Result<Option<Footprint>, DbError> {
    let identity: Option<(Vec<String>, Option<String>)> = sqlx::query_as(
        "SELECT ARRAY(SELECT DISTINCT p FROM unnest(phone || alternative_phones) p
                       WHERE btrim(p) <> '' ORDER BY p),
                CASE WHEN btrim(coalesce(email, '')) <> '' THEN lower(email) END
           FROM app.customers WHERE id = $1",
    )
    .bind(customer)
    .fetch_optional(tx.conn())
    .await?;
    let Some((phones, email)) = identity else {
        return Ok(None);
    };
    let sets: Vec<(String, Vec<Option<Uuid>>)> = sqlx::query_as(FOOTPRINT)
        .bind(customer)
        .fetch_all(tx.conn())
        .await?;
    let mut rows = BTreeMap::new();
    let mut other_customers = Vec::new();
    for (table, ids) in sets {
        let ids: Vec<Uuid> = ids.into_iter().flatten().collect();
        match table.as_str() {
            "others" => other_customers = ids,
            _ => {
                rows.insert(table, ids);
            }
        }
    }
    if rows.get("customers").is_none_or(Vec::is_empty) {
        // Deleted between the two statements.
        return Ok(None);
    }
    Ok(Some(Footprint {
        customer,
        phones,
        emails: email.into_iter().collect(),
        rows,
        other_customers,
    }))
}
