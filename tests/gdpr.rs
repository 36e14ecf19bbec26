//! GDPR over HTTP (seed 000): `exportCustomerData` returns everything about one person, and
//! `eraseCustomer` deletes or anonymises all of it in one transaction — after which no text,
//! JSON, array or search column of any table holds the person's name, phone number or e-mail
//! address, and everybody else's rows are exactly as they were.
//!
//! The person is spread over every table that can hold them, linked to their customer row and
//! also never linked (rows carrying only their alternative number or their e-mail address in
//! another case), with audit entries whose documents quote them. Another customer of the same
//! tenant and a customer of another tenant with the very same name, number and address must
//! come through untouched.

use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

/// What the scan looks for after an erasure (case-insensitive).
const NEEDLES: [&str; 5] = [
    "Xanthippe",
    "Quarrington",
    "777123456",
    "606998877",
    "xanthippe.q@example.org",
];

const EXPORT: &str = "query($c: ID!) { exportCustomerData(customerId: $c) }";

const ERASE: &str = "mutation($c: ID!, $m: ErasureMode!) {
  eraseCustomer(customerId: $c, mode: $m) {
    customerId mode
    erased { customers bookings calls smsMessages conversations messages conversationNotes
             conversationThreads tickets ticketNotes leads demoRequests demoRequestNotes
             auditEntries } } }";

/// The ids of every row arranged about the person, by table.
#[derive(Debug, Clone)]
struct Person {
    customer: Uuid,
    rows: Vec<(&'static str, Uuid)>,
}

impl Person {
    fn ids(&self) -> Vec<String> {
        self.rows.iter().map(|(_, id)| id.to_string()).collect()
    }

    fn count(&self, table: &str) -> usize {
        self.rows.iter().filter(|(t, _)| *t == table).count()
    }
}

/// A tenant with the person, another customer (Olga), and a second tenant holding a customer
/// with the person's very name, number and address.
struct World {
    app: TestApp,
    tenant: Uuid,
    other_tenant: Uuid,
    admin: String,
    person: Person,
    olga: Uuid,
    twin: Uuid,
}

fn ids<const N: usize>() -> [Uuid; N] {
    std::array::from_fn(|_| Uuid::new_v4())
}

/// Inserts the person's rows in `tenant` (as the owner, bypassing the API: the point is what
/// the tables hold, not how it got there).
async fn arrange_person(app: &TestApp, tenant: Uuid) -> anyhow::Result<Person> {
    let [cu, bk, ca, ca2, sm, sm2, cv, cv2, m1, m2, m3, no, th, th2, ti, tn, le, le2, dr, dn] =
        ids::<20>();
    let sql = format!(
        r#"
INSERT INTO app.customers (tenant_id, id, name, phone, email, first_name, last_name,
  alternative_phones, address, address_details, tags, custom_fields, notes, segment, total_spent)
VALUES ('{tenant}', '{cu}', 'Xanthippe Quarrington', '+420777123456', 'Xanthippe.Q@Example.org',
  'Xanthippe', 'Quarrington', '{{+420606998877}}', '12 Quarrington Lane',
  '{{"street": "12 Quarrington Lane", "city": "Brno"}}', '{{vip,Quarrington-family}}',
  '{{"spouse": "Xanthippe Quarrington", "backup": "+420777123456"}}',
  'Call Xanthippe on +420777123456', 'vip', 80);
INSERT INTO app.bookings (tenant_id, id, customer_id, customer_name, customer_phone, customer_email,
  service_type, appointment_date, appointment_time, status, notes, ai_notes, title, pickup_address,
  payment_amount, cancel_reason)
VALUES ('{tenant}', '{bk}', '{cu}', 'Xanthippe Quarrington', '+420777123456',
  'xanthippe.q@example.org', 'Haircut', '2026-03-01', '10:00', 'completed',
  'Xanthippe likes tea', 'Caller Xanthippe Quarrington', 'Haircut for Xanthippe',
  '12 Quarrington Lane', 80, 'Quarrington was ill');
INSERT INTO app.conversations (tenant_id, id, customer_id, conversation_key, session_id, title,
  channel, client_phone, client_email, client_name, status, tags, call_data, booking_details,
  last_message, resolution_notes, customer_satisfaction, metadata)
VALUES ('{tenant}', '{cv}', '{cu}', 'wa:+420777123456', 'sess-777123456', 'Chat with Xanthippe',
  'whatsapp', '+420777123456', 'xanthippe.q@example.org', 'Xanthippe Quarrington', 'resolved',
  '{{Quarrington}}',
  '{{"duration": 60, "sentiment": "positive", "recordingUrl": "https://rec.example.com/777123456.mp3",
    "transcription": "Hello, Xanthippe here"}}',
  '{{"service": "Haircut", "time": "10:00", "price": 30}}',
  '{{"content": "Thanks, Xanthippe", "from": "agent", "type": "text"}}',
  'Xanthippe was happy',
  '{{"rating": 5, "comment": "Xanthippe loved it"}}',
  '{{"platformsQueried": [], "totalTokensUsed": 12, "visitor": "Xanthippe Quarrington"}}'),
  ('{tenant}', '{cv2}', NULL, NULL, NULL, NULL, 'email', NULL, 'XANTHIPPE.Q@EXAMPLE.ORG',
  'X. Quarrington', 'open', '{{}}', NULL, NULL, NULL, NULL, NULL, '{{}}');
INSERT INTO app.calls (tenant_id, id, customer_id, booking_id, conversation_id, phone_number,
  customer_name, duration, status, recording_url, transcript, summary, notes, entities, keywords,
  messages, analysis, metadata, cost, sentiment)
VALUES ('{tenant}', '{ca}', '{cu}', '{bk}', '{cv}', '+420777123456', 'Xanthippe Quarrington', 120,
  'completed', 'https://rec.example.com/777123456.mp3',
  'Hi, this is Xanthippe Quarrington, xanthippe.q@example.org', 'Xanthippe booked a haircut',
  'Quarrington called', '[{{"type": "person", "value": "Xanthippe Quarrington"}}]',
  '{{Quarrington}}', '[{{"role": "user", "message": "I am Xanthippe"}}]',
  '{{"sentiment": "positive", "topics": ["Quarrington"], "followUpRequired": false}}',
  '{{"caller": "+420777123456"}}', 0.5, 'positive'),
  ('{tenant}', '{ca2}', NULL, NULL, NULL, '+420606998877', NULL, 30, 'completed', NULL,
  'Xanthippe again, from the office', NULL, NULL, '[]', '{{}}', '[]', '{{}}', '{{}}', 0.1, NULL);
INSERT INTO app.sms_messages (tenant_id, id, customer_id, booking_id, call_id, phone_number,
  direction, message_body, status, error, cost)
VALUES ('{tenant}', '{sm}', '{cu}', '{bk}', '{ca}', '+420777123456', 'outbound',
  'Dear Xanthippe, see you at 10:00', 'delivered', 'retry for +420777123456', 0.01),
  ('{tenant}', '{sm2}', NULL, NULL, NULL, '+420777123456', 'inbound', 'Xanthippe: running late',
  'received', NULL, 0.01);
INSERT INTO app.messages (tenant_id, id, conversation_id, customer_id, content, direction, sender,
  attachments, location, metadata, provider_error, forwarded_from)
VALUES ('{tenant}', '{m1}', '{cv}', '{cu}', 'Hi, Xanthippe Quarrington here', 'inbound', 'customer',
  '[{{"type": "image", "url": "https://files.example.com/Quarrington.jpg"}}]',
  '{{"latitude": 49.19, "longitude": 16.6, "address": "12 Quarrington Lane"}}',
  '{{"model": "gpt-4o", "signature": "Xanthippe"}}', NULL, '+420777123456'),
  ('{tenant}', '{m2}', '{cv}', NULL, 'Thanks, Xanthippe', 'outbound', 'agent', '[]', NULL, '{{}}',
  'bounced: xanthippe.q@example.org', NULL),
  ('{tenant}', '{m3}', '{cv2}', NULL, 'Write to xanthippe.q@example.org', 'inbound', 'customer',
  '[]', NULL, '{{}}', NULL, NULL);
INSERT INTO app.conversation_notes (tenant_id, id, conversation_id, content)
VALUES ('{tenant}', '{no}', '{cv}', 'Xanthippe prefers mornings');
INSERT INTO app.conversation_threads (tenant_id, id, conversation_id, customer_id, phone_number, thread_id)
VALUES ('{tenant}', '{th}', '{cv}', '{cu}', '+420777123456', 'thread-777123456'),
  ('{tenant}', '{th2}', NULL, NULL, '+420606998877', 'thread-606998877');
INSERT INTO app.tickets (tenant_id, id, customer_id, conversation_id, subject, description, category,
  attachments, location, resolution, customer_feedback, tags, escalation_reason, external_url)
VALUES ('{tenant}', '{ti}', '{cu}', '{cv}', 'Xanthippe cannot log in',
  'Reported by xanthippe.q@example.org', 'technical_support',
  '[{{"type": "document", "url": "https://files.example.com/Quarrington.pdf"}}]',
  '{{"address": "12 Quarrington Lane"}}',
  '{{"summary": "Called Xanthippe back", "resolvedBy": "Ann", "resolutionCategory": "solved"}}',
  '{{"rating": 4, "comment": "Xanthippe says thanks"}}', '{{Quarrington}}',
  'Xanthippe insisted', 'https://desk.example.com/?q=xanthippe.q@example.org');
INSERT INTO app.ticket_notes (tenant_id, id, ticket_id, content, attachments)
VALUES ('{tenant}', '{tn}', '{ti}', 'Phoned +420777123456', '{{https://files.example.com/Quarrington.png}}');
INSERT INTO app.leads (tenant_id, id, customer_id, conversation_id, name, first_name, last_name,
  phone, email, company, notes, tags, status)
VALUES ('{tenant}', '{le}', '{cu}', '{cv}', 'Xanthippe Quarrington', 'Xanthippe', 'Quarrington',
  '+420777123456', NULL, 'Quarrington Ltd', 'Xanthippe wants a quote', '{{Quarrington}}', 'qualified'),
  ('{tenant}', '{le2}', NULL, NULL, 'X. Q.', NULL, NULL, NULL, 'xanthippe.q@example.org', NULL,
  NULL, '{{}}', 'new');
INSERT INTO app.demo_requests (tenant_id, id, name, email, phone, company, job_title, use_case,
  additional_info)
VALUES ('{tenant}', '{dr}', 'Xanthippe Quarrington', 'Xanthippe.Q@example.org', NULL,
  'Quarrington Ltd', 'Owner', 'Bookings for Quarrington Ltd', 'Ask for Xanthippe');
INSERT INTO app.demo_request_notes (tenant_id, id, demo_request_id, note)
VALUES ('{tenant}', '{dn}', '{dr}', 'Xanthippe wants Tuesday');
INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, details, metadata)
VALUES ('{tenant}', 'customers', '{cu}', 'customer.updated',
  '{{"reason": "edited", "changes": ["name"]}}',
  '{{"before": {{"name": "X"}}, "after": {{"name": "Xanthippe Quarrington"}}}}'),
  ('{tenant}', 'calls', '{ca2}', 'call.recorded', '{{}}', '{{"after": {{"phone_number": "+420606998877"}}}}'),
  ('{tenant}', 'messages', '{m3}', 'message.created', '{{}}',
   '{{"after": {{"content": "Write to xanthippe.q@example.org"}}}}'),
  ('{tenant}', 'demo_requests', '{dr}', 'demo_request.created', '{{}}',
   '{{"after": {{"name": "Xanthippe Quarrington"}}}}');
"#
    );
    sqlx::raw_sql(&sql).execute(app.db.owner()).await?;
    Ok(Person {
        customer: cu,
        rows: vec![
            ("customers", cu),
            ("bookings", bk),
            ("calls", ca),
            ("calls", ca2),
            ("sms_messages", sm),
            ("sms_messages", sm2),
            ("conversations", cv),
            ("conversations", cv2),
            ("messages", m1),
            ("messages", m2),
            ("messages", m3),
            ("conversation_notes", no),
            ("conversation_threads", th),
            ("conversation_threads", th2),
            ("tickets", ti),
            ("ticket_notes", tn),
            ("leads", le),
            ("leads", le2),
            ("demo_requests", dr),
            ("demo_request_notes", dn),
        ],
    })
}

/// Olga: another customer of the tenant with a little of everything, and an audit entry.
async fn arrange_other(app: &TestApp, tenant: Uuid) -> anyhow::Result<Uuid> {
    let [cu, bk, ca, cv] = ids::<4>();
    let sql = format!(
        r#"
INSERT INTO app.customers (tenant_id, id, name, phone, email, notes)
VALUES ('{tenant}', '{cu}', 'Olga Other', '+15550001111', 'olga@example.com', 'Olga is fine');
INSERT INTO app.bookings (tenant_id, id, customer_id, customer_name, customer_phone, service_type,
  appointment_date, appointment_time, status, payment_amount)
VALUES ('{tenant}', '{bk}', '{cu}', 'Olga Other', '+15550001111', 'Nails', '2026-03-02', '11:00',
  'confirmed', 40);
INSERT INTO app.calls (tenant_id, id, customer_id, booking_id, phone_number, transcript, duration)
VALUES ('{tenant}', '{ca}', '{cu}', '{bk}', '+15550001111', 'Olga books nails', 45);
INSERT INTO app.sms_messages (tenant_id, customer_id, call_id, phone_number, message_body)
VALUES ('{tenant}', '{cu}', '{ca}', '+15550001111', 'Olga, see you');
INSERT INTO app.conversations (tenant_id, id, customer_id, channel, client_name)
VALUES ('{tenant}', '{cv}', '{cu}', 'sms', 'Olga Other');
INSERT INTO app.messages (tenant_id, conversation_id, customer_id, content, direction, sender)
VALUES ('{tenant}', '{cv}', '{cu}', 'Olga here', 'inbound', 'customer');
INSERT INTO app.tickets (tenant_id, customer_id, subject, description, category)
VALUES ('{tenant}', '{cu}', 'Olga question', 'About nails', 'general_inquiry');
INSERT INTO app.leads (tenant_id, customer_id, name, email)
VALUES ('{tenant}', '{cu}', 'Olga Other', 'olga@example.com');
INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, metadata)
VALUES ('{tenant}', 'customers', '{cu}', 'customer.created', '{{"after": {{"name": "Olga Other"}}}}');
"#
    );
    sqlx::raw_sql(&sql).execute(app.db.owner()).await?;
    Ok(cu)
}

/// Another tenant's customer who happens to share everything with the person.
async fn arrange_twin(app: &TestApp, tenant: Uuid) -> anyhow::Result<Uuid> {
    let cu = Uuid::new_v4();
    let sql = format!(
        r#"
INSERT INTO app.customers (tenant_id, id, name, phone, email)
VALUES ('{tenant}', '{cu}', 'Xanthippe Quarrington', '+420777123456', 'xanthippe.q@example.org');
INSERT INTO app.calls (tenant_id, phone_number, transcript)
VALUES ('{tenant}', '+420606998877', 'Xanthippe Quarrington calling');
INSERT INTO app.audit_log (tenant_id, entity_type, entity_id, action, metadata)
VALUES ('{tenant}', 'customers', '{cu}', 'customer.created',
  '{{"after": {{"name": "Xanthippe Quarrington"}}}}');
"#
    );
    sqlx::raw_sql(&sql).execute(app.db.owner()).await?;
    Ok(cu)
}

/// The audit entries about the person's rows (entity id among theirs). The audit triggers
/// (migration 0022) record every row arranged above and every change the erasure makes, in
/// the same transaction, with the rows' before and after documents — so the erasure must
/// purge the entries after making its changes.
async fn about_person(app: &TestApp, person: &Person) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM app.audit_log a WHERE a.entity_id = ANY ($1)")
            .bind(person.ids())
            .fetch_one(app.db.owner())
            .await?,
    )
}

async fn world() -> anyhow::Result<World> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("GDPR salon").await?;
    let other_tenant = app.new_tenant("Other salon").await?;
    let (_, admin) = app.new_member(tenant, Role::Admin).await?;
    let person = arrange_person(&app, tenant).await?;
    let olga = arrange_other(&app, tenant).await?;
    let twin = arrange_twin(&app, other_tenant).await?;
    Ok(World {
        app,
        tenant,
        other_tenant,
        admin,
        person,
        olga,
        twin,
    })
}

fn customer_gid(id: Uuid) -> String {
    global_id::encode("Customer", id).to_string()
}

/// Every row of every table in `app` except the person's (by id) and the logs an erasure
/// appends to (audit entries, inbox events and their counters), as JSON text, sorted: what
/// must not change.
async fn everybody_else(app: &TestApp, person: &Person) -> anyhow::Result<Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'app' AND table_type = 'BASE TABLE'
            AND table_name NOT IN ('audit_log', 'inbox_events', 'event_counters')
          ORDER BY 1",
    )
    .fetch_all(app.db.owner())
    .await?;
    let mut out = Vec::new();
    for t in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT '{t}: ' || to_jsonb(x)::text FROM app.{t} x
              WHERE coalesce(to_jsonb(x) ->> 'id', '') <> ALL ($1) ORDER BY 1"
        ))
        .bind(person.ids())
        .fetch_all(app.db.owner())
        .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Audit entries other than the person's and the erasure's, as JSON text, sorted.
async fn other_audit_entries(app: &TestApp, person: &Person) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT to_jsonb(a)::text FROM app.audit_log a
          WHERE a.entity_id <> ALL ($1) ORDER BY 1",
    )
    .bind(person.ids())
    .fetch_all(app.db.owner())
    .await?)
}

/// Every text, varchar, JSON, text-array and full-text column of every table in `app`,
/// discovered from the catalog, searched for each needle; returns the hits outside
/// `other_tenant` as `table.column ~ needle`.
async fn personal_data_left(app: &TestApp, other_tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text,
                EXISTS (SELECT 1 FROM information_schema.columns k
                         WHERE k.table_schema = 'app' AND k.table_name = c.table_name
                           AND k.column_name = 'tenant_id')
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = 'app' AND t.table_type = 'BASE TABLE'
            AND (c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'tsvector')
                 OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar')))
          ORDER BY 1, 2",
    )
    .fetch_all(app.db.owner())
    .await?;
    assert!(columns.len() > 100, "found only {} columns", columns.len());
    let mut hits = Vec::new();
    for (table, column, tenant_owned) in columns {
        let outside = if tenant_owned {
            "x.tenant_id <> $2"
        } else if table == "tenants" {
            "x.id <> $2"
        } else {
            "$2::uuid IS NOT NULL"
        };
        for needle in NEEDLES {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM app.{table} x
                  WHERE x.{column}::text ILIKE '%' || $1 || '%' AND {outside}"
            ))
            .bind(needle)
            .bind(other_tenant)
            .fetch_one(app.db.owner())
            .await?;
            if n > 0 {
                hits.push(format!("{table}.{column} ~ {needle} ({n})"));
            }
        }
    }
    Ok(hits)
}

async fn export(w: &World, token: &str, customer: Uuid) -> anyhow::Result<Value> {
    w.app
        .gql(token, EXPORT, json!({ "c": customer_gid(customer) }))
        .await
}

async fn erase(w: &World, token: &str, customer: Uuid, mode: &str) -> anyhow::Result<Value> {
    w.app
        .gql(
            token,
            ERASE,
            json!({ "c": customer_gid(customer), "m": mode }),
        )
        .await
}

/// The row ids of a list in the export.
fn exported_ids(doc: &Value, key: &str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = doc[key]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["id"].as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn arranged(p: &Person, table: &str) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = p
        .rows
        .iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, id)| *id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_export_holds_every_row_about_the_person_and_nothing_else() -> anyhow::Result<()> {
    let w = world().await?;
    let entries = w.app.rows("audit_log", w.tenant).await?;
    let body = export(&w, &w.admin, w.person.customer).await?;
    let doc = data(&body, "exportCustomerData");
    let p = &w.person;

    assert_eq!(doc["customerId"], json!(p.customer));
    assert_eq!(doc["customer"]["name"], "Xanthippe Quarrington");
    assert_eq!(
        doc["customer"]["custom_fields"]["spouse"],
        "Xanthippe Quarrington"
    );
    assert_eq!(
        doc["matchedBy"],
        json!({ "phones": ["+420606998877", "+420777123456"],
                "emails": ["xanthippe.q@example.org"] })
    );
    for (key, table) in [
        ("bookings", "bookings"),
        ("calls", "calls"),
        ("smsMessages", "sms_messages"),
        ("conversations", "conversations"),
        ("conversationThreads", "conversation_threads"),
        ("tickets", "tickets"),
        ("leads", "leads"),
        ("demoRequests", "demo_requests"),
    ] {
        assert_eq!(exported_ids(doc, key), arranged(p, table), "{key}");
    }
    // Transcripts and recordings are there in full.
    let call = doc["calls"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["customer_id"] == json!(p.customer)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        call["recording_url"],
        "https://rec.example.com/777123456.mp3"
    );
    assert!(call["transcript"]
        .as_str()
        .is_some_and(|t| t.contains("xanthippe.q@example.org")));
    assert!(call.get("search").is_none(), "search vectors are left out");
    // Messages and notes under their conversations, notes under tickets and demo requests.
    let mut messages: Vec<Uuid> = Vec::new();
    let mut notes: Vec<Uuid> = Vec::new();
    for c in doc["conversations"].as_array().into_iter().flatten() {
        messages.extend(exported_ids(c, "messages"));
        notes.extend(exported_ids(c, "notes"));
    }
    messages.sort();
    assert_eq!(messages, arranged(p, "messages"));
    assert_eq!(notes, arranged(p, "conversation_notes"));
    assert_eq!(
        exported_ids(&doc["tickets"][0], "notes"),
        arranged(p, "ticket_notes")
    );
    assert_eq!(
        exported_ids(&doc["demoRequests"][0], "notes"),
        arranged(p, "demo_request_notes")
    );
    assert_eq!(doc["messagesElsewhere"], json!([]));
    // The audit entries about those rows, as stored.
    let stored: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(a) FROM app.audit_log a WHERE a.entity_id = ANY ($1)
          ORDER BY a.occurred_at, a.id",
    )
    .bind(p.ids())
    .fetch_all(w.app.db.owner())
    .await?;
    // The 4 arranged entries, and at least the one the trigger wrote for each row's insert.
    assert!(stored.len() >= 4 + w.person.rows.len(), "{}", stored.len());
    assert_eq!(doc["auditEntries"], json!(stored));

    // Nobody else: not Olga, not the other tenant's namesake.
    let text = doc.to_string();
    assert!(!text.contains("Olga"), "{text}");
    assert!(!text.contains(&w.olga.to_string()));
    assert!(!text.contains(&w.twin.to_string()));
    // Reading wrote nothing.
    assert_eq!(w.app.rows("audit_log", w.tenant).await?, entries);
    Ok(())
}

#[tokio::test]
async fn erasing_by_deletion_leaves_no_trace_of_the_person_and_everyone_else_intact(
) -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.person;
    // The scan sees the person everywhere they were put (so an empty scan later means
    // something), including the audit entries' documents.
    let before = personal_data_left(&w.app, w.other_tenant).await?;
    for column in [
        "customers.custom_fields",
        "calls.transcript",
        "sms_messages.error",
        "tickets.external_url",
        "audit_log.metadata",
        "demo_request_notes.note",
    ] {
        assert!(
            before.iter().any(|h| h.starts_with(column)),
            "{column} not in {before:?}"
        );
    }
    let entries_before = about_person(&w.app, p).await?;
    let others_before = everybody_else(&w.app, p).await?;
    let audit_before = other_audit_entries(&w.app, p).await?;

    let body = erase(&w, &w.admin, p.customer, "DELETE").await?;
    let out = data(&body, "eraseCustomer");
    assert_eq!(out["mode"], "DELETE");
    assert_eq!(out["customerId"], json!(customer_gid(p.customer)));
    let counts = &out["erased"];
    for (key, table) in [
        ("customers", "customers"),
        ("bookings", "bookings"),
        ("calls", "calls"),
        ("smsMessages", "sms_messages"),
        ("conversations", "conversations"),
        ("messages", "messages"),
        ("conversationNotes", "conversation_notes"),
        ("conversationThreads", "conversation_threads"),
        ("tickets", "tickets"),
        ("ticketNotes", "ticket_notes"),
        ("leads", "leads"),
        ("demoRequests", "demo_requests"),
        ("demoRequestNotes", "demo_request_notes"),
    ] {
        assert_eq!(counts[key], json!(p.count(table)), "{key}");
    }
    // Those there were, and at least one per row the erasure deleted (the audit triggers'),
    // and none is left but the erasure's own.
    let removed = counts["auditEntries"].as_i64().unwrap_or_default();
    assert!(removed >= entries_before + p.rows.len() as i64, "{removed}");
    assert_eq!(about_person(&w.app, p).await?, 1);

    for (table, id) in &p.rows {
        let left: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM app.{table} WHERE id = $1"))
                .bind(id)
                .fetch_one(w.app.db.owner())
                .await?;
        assert_eq!(left, 0, "{table} {id} survived");
    }
    assert_eq!(
        personal_data_left(&w.app, w.other_tenant).await?,
        Vec::<String>::new()
    );
    assert_eq!(everybody_else(&w.app, p).await?, others_before);
    assert_eq!(other_audit_entries(&w.app, p).await?, audit_before);
    assert_erasure_recorded(&w, "delete").await?;

    // The customer is gone for the API too.
    let body = export(&w, &w.admin, p.customer).await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".to_owned(), "customerId".to_owned())
    );
    Ok(())
}

#[tokio::test]
async fn erasing_by_anonymisation_keeps_the_rows_and_analytics_but_no_personal_data(
) -> anyhow::Result<()> {
    let w = world().await?;
    let p = &w.person;
    let others_before = everybody_else(&w.app, p).await?;
    let audit_before = other_audit_entries(&w.app, p).await?;
    // What analytics reads, before.
    const FACTS: &str = "SELECT jsonb_build_object(
        'customer', (SELECT jsonb_build_object('segment', segment, 'total_spent', total_spent,
                       'created_at', created_at) FROM app.customers WHERE id = $1),
        'bookings', (SELECT jsonb_agg(jsonb_build_object('status', status, 'amount', payment_amount,
                       'date', appointment_date, 'service', service_type) ORDER BY id)
                       FROM app.bookings WHERE customer_id = $1),
        'calls', (SELECT jsonb_agg(jsonb_build_object('duration', duration, 'cost', cost,
                    'status', status, 'sentiment', sentiment, 'analysis', analysis -> 'sentiment',
                    'created_at', created_at) ORDER BY id) FROM app.calls WHERE id = ANY ($2)),
        'sms', (SELECT jsonb_agg(jsonb_build_object('status', status, 'cost', cost,
                  'direction', direction) ORDER BY id) FROM app.sms_messages WHERE id = ANY ($2)),
        'conversations', (SELECT jsonb_agg(jsonb_build_object('status', status, 'channel', channel,
                  'duration', call_data -> 'duration', 'rating', customer_satisfaction -> 'rating',
                  'price', booking_details -> 'price') ORDER BY id)
                  FROM app.conversations WHERE id = ANY ($2)),
        'messages', (SELECT count(*) FROM app.messages WHERE id = ANY ($2)),
        'tickets', (SELECT jsonb_agg(jsonb_build_object('status', status, 'category', category,
                  'rating', customer_feedback -> 'rating') ORDER BY id)
                  FROM app.tickets WHERE id = ANY ($2)),
        'leads', (SELECT jsonb_agg(jsonb_build_object('status', status) ORDER BY id)
                  FROM app.leads WHERE id = ANY ($2)))";
    let ids: Vec<Uuid> = p.rows.iter().map(|(_, id)| *id).collect();
    let facts = |app: &TestApp| {
        let q = sqlx::query_scalar::<_, Value>(FACTS)
            .bind(p.customer)
            .bind(ids.clone());
        let pool = app.db.owner().clone();
        async move { q.fetch_one(&pool).await }
    };
    let facts_before = facts(&w.app).await?;
    let entries_before = about_person(&w.app, p).await?;

    let body = erase(&w, &w.admin, p.customer, "ANONYMIZE").await?;
    let out = data(&body, "eraseCustomer");
    assert_eq!(out["mode"], "ANONYMIZE");
    assert_eq!(out["erased"]["messages"], 3);
    // Those there were, and those of the erasure's own changes; none is left but its own.
    let removed = out["erased"]["auditEntries"].as_i64().unwrap_or_default();
    assert!(removed > entries_before, "{removed} of {entries_before}");
    assert_eq!(about_person(&w.app, p).await?, 1);

    // Every row is still there, with its links, and what analytics reads is unchanged.
    for (table, id) in &p.rows {
        let left: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM app.{table} WHERE id = $1"))
                .bind(id)
                .fetch_one(w.app.db.owner())
                .await?;
        assert_eq!(left, 1, "{table} {id} was deleted");
    }
    assert_eq!(facts(&w.app).await?, facts_before);
    let linked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM app.bookings WHERE customer_id = $1)
              + (SELECT count(*) FROM app.calls WHERE customer_id = $1)
              + (SELECT count(*) FROM app.conversations WHERE customer_id = $1)",
    )
    .bind(p.customer)
    .fetch_one(w.app.db.owner())
    .await?;
    assert_eq!(linked, 3);

    assert_eq!(
        personal_data_left(&w.app, w.other_tenant).await?,
        Vec::<String>::new()
    );
    assert_eq!(everybody_else(&w.app, p).await?, others_before);
    assert_eq!(other_audit_entries(&w.app, p).await?, audit_before);
    assert_erasure_recorded(&w, "anonymize").await?;

    // The API still serves the customer, anonymous, with its counters.
    let body = w
        .app
        .gql(
            &w.admin,
            "query($id: ID!) { customer(id: $id) { name email phone segment totalSpent } }",
            json!({ "id": customer_gid(p.customer) }),
        )
        .await?;
    assert_eq!(
        data(&body, "customer"),
        &json!({ "name": "[erased]", "email": null, "phone": format!("[erased:{}]", p.customer),
                 "segment": "VIP", "totalSpent": "80.00" })
    );
    Ok(())
}

/// The erasure's own audit entry: one, about the customer id, with the mode and counts, and
/// nothing personal.
async fn assert_erasure_recorded(w: &World, mode: &str) -> anyhow::Result<()> {
    let rows = sqlx::query(
        "SELECT to_jsonb(a) AS doc, a.metadata FROM app.audit_log a
          WHERE a.tenant_id = $1 AND a.action = 'customer.erased'",
    )
    .bind(w.tenant)
    .fetch_all(w.app.db.owner())
    .await?;
    assert_eq!(rows.len(), 1);
    let doc: Value = rows[0].get("doc");
    let metadata: Value = rows[0].get("metadata");
    assert_eq!(doc["entity_type"], "customers");
    assert_eq!(doc["entity_id"], json!(w.person.customer.to_string()));
    assert_eq!(metadata["mode"], mode);
    assert_eq!(metadata["rows"]["messages"], 3);
    let text = doc.to_string().to_lowercase();
    for needle in NEEDLES {
        assert!(!text.contains(&needle.to_lowercase()), "{needle} in {text}");
    }
    Ok(())
}

#[tokio::test]
async fn only_owners_and_admins_may_export_or_erase() -> anyhow::Result<()> {
    let w = world().await?;
    let c = w.person.customer;
    for role in [Role::Supervisor, Role::Agent, Role::Viewer] {
        let (_, token) = w.app.new_member(w.tenant, role).await?;
        let body = export(&w, &token, c).await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?} export: {body}");
        let body = erase(&w, &token, c, "DELETE").await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{role:?} erase: {body}");
    }
    assert_eq!(
        w.app.rows("customers", w.tenant).await?,
        2,
        "nothing was erased"
    );
    let (_, owner) = w.app.new_member(w.tenant, Role::Owner).await?;
    let body = export(&w, &owner, c).await?;
    assert_eq!(data(&body, "exportCustomerData")["customerId"], json!(c));
    let body = erase(&w, &owner, c, "ANONYMIZE").await?;
    assert_eq!(data(&body, "eraseCustomer")["erased"]["customers"], 1);
    Ok(())
}

#[tokio::test]
async fn another_tenants_customer_is_not_found_and_untouched() -> anyhow::Result<()> {
    let w = world().await?;
    let entries = w.app.rows("audit_log", w.other_tenant).await?;
    for body in [
        export(&w, &w.admin, w.twin).await?,
        erase(&w, &w.admin, w.twin, "DELETE").await?,
        erase(&w, &w.admin, Uuid::new_v4(), "ANONYMIZE").await?,
    ] {
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".to_owned(), "customerId".to_owned()),
            "{body}"
        );
    }
    let twin: String = sqlx::query_scalar("SELECT name FROM app.customers WHERE id = $1")
        .bind(w.twin)
        .fetch_one(w.app.db.owner())
        .await?;
    assert_eq!(twin, "Xanthippe Quarrington");
    assert_eq!(w.app.rows("audit_log", w.other_tenant).await?, entries);
    Ok(())
}

#[tokio::test]
async fn bad_ids_and_modes_are_bad_user_input_and_change_nothing() -> anyhow::Result<()> {
    let w = world().await?;
    let entries = w.app.rows("audit_log", w.tenant).await?;
    let booking = w
        .person
        .rows
        .iter()
        .find(|(t, _)| *t == "bookings")
        .map(|(_, id)| *id)
        .unwrap_or_default();
    let wrong_type = global_id::encode("Booking", booking).to_string();
    for c in [wrong_type.as_str(), "not-an-id"] {
        let body = w.app.gql(&w.admin, EXPORT, json!({ "c": c })).await?;
        assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
        let body = w
            .app
            .gql(&w.admin, ERASE, json!({ "c": c, "m": "DELETE" }))
            .await?;
        assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    }
    let (status, body) = w
        .app
        .graphql(
            Some(&w.admin),
            ERASE,
            json!({ "c": customer_gid(w.person.customer), "m": "SHRED" }),
        )
        .await?;
    assert!(
        body["data"].is_null() || body["errors"].is_array(),
        "{status} {body}"
    );
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(w.app.rows("customers", w.tenant).await?, 2);
    assert_eq!(w.app.rows("audit_log", w.tenant).await?, entries);
    Ok(())
}
