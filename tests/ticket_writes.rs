//! The ticket workflow over HTTP: every ticket mutation, what it stores (checked with direct
//! SQL), the status transition table both ways (allowed moves and `CONFLICT`s naming the
//! status), first response and resolution times, notes and who may change them, related and
//! parent tickets (read back through `relatedTickets`, one statement per level), gap-free
//! numbering under concurrency, the SLA columns against a direct SQL computation, and what is
//! refused — other tenants' ids, bad input, roles and permissions — without writing anything.

use chrono::{DateTime, Datelike, Utc};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_db::testing::TestDb;
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, spawn_app_on, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------------

/// A tenant with members of every working role and a customer.
struct Desk {
    app: TestApp,
    tenant: Uuid,
    agent: Uuid,
    agent_token: String,
    colleague: Uuid,
    colleague_token: String,
    supervisor_token: String,
    customer: Uuid,
}

async fn desk() -> anyhow::Result<Desk> {
    desk_on(spawn_app().await?).await
}

async fn desk_on(app: TestApp) -> anyhow::Result<Desk> {
    let tenant = app.new_tenant("Ticket desk").await?;
    let (agent, agent_token) = app.new_member(tenant, Role::Agent).await?;
    let (colleague, colleague_token) = app.new_member(tenant, Role::Agent).await?;
    let (_, supervisor_token) = app.new_member(tenant, Role::Supervisor).await?;
    let customer = customer(&app, tenant, "+420602000001").await?;
    Ok(Desk {
        app,
        tenant,
        agent,
        agent_token,
        colleague,
        colleague_token,
        supervisor_token,
        customer,
    })
}

async fn customer(app: &TestApp, tenant: Uuid, phone: &str) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.customers (tenant_id, name, phone) VALUES ($1, 'Jana', $2) RETURNING id",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_one(app.db.owner())
    .await?)
}

async fn conversation(app: &TestApp, tenant: Uuid, customer: Option<Uuid>) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.conversations (tenant_id, customer_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(tenant)
    .bind(customer)
    .fetch_one(app.db.owner())
    .await?)
}

/// Runs `sql` as the owner with `$1` = `id`.
async fn exec(app: &TestApp, sql: &str, id: Uuid) -> anyhow::Result<()> {
    sqlx::query(sql).bind(id).execute(app.db.owner()).await?;
    Ok(())
}

/// Every field of a ticket.
const TICKET: &str = "id rowId ticketNumber customerId conversationId assignedAgentId openedById
  subject description category subcategory priority status slaLevel estimatedResolution
  firstResponseTime resolutionTime
  attachments { type url publicId filename size uploadedBy uploadedAt }
  location { latitude longitude address formattedAddress isServiceLocation }
  resolution { summary steps resolvedBy resolvedAt resolutionCategory }
  customerFeedback { rating comment submittedAt followUpNeeded }
  tags labels { name color } escalated escalatedToId escalatedAt escalationReason
  parentTicketId externalId externalUrl closedAt lastActivityAt slaDueAt slaBreached slaAtRisk";

fn open_doc() -> String {
    format!("mutation($input: OpenTicketInput!) {{ openTicket(input: $input) {{ {TICKET} }} }}")
}

/// Opens a ticket; the object as answered.
async fn open(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &open_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "openTicket").clone())
}

/// A minimal ticket of `customer`; its row id.
async fn open_for(app: &TestApp, token: &str, customer: Uuid) -> anyhow::Result<Uuid> {
    let t = open(
        app,
        token,
        json!({ "customerId": customer, "subject": "Broken", "description": "It broke",
                "category": "TECHNICAL_SUPPORT" }),
    )
    .await?;
    Ok(id_of(&t))
}

/// A member acting through the API: `As(app, token)`.
struct As<'a>(&'a TestApp, &'a str);

impl As<'_> {
    /// Runs `mutation<head> { <field> { <TICKET> } }` with `vars`; the whole body.
    async fn call(&self, head: &str, field: &str, vars: Value) -> anyhow::Result<Value> {
        let doc = format!("mutation{head} {{ {field} {{ {TICKET} }} }}");
        self.0.gql(self.1, &doc, vars).await
    }

    /// Runs `doc` with `vars`; the whole body.
    async fn gql(&self, doc: &str, vars: Value) -> anyhow::Result<Value> {
        self.0.gql(self.1, doc, vars).await
    }
}

impl Desk {
    fn agent(&self) -> As<'_> {
        As(&self.app, &self.agent_token)
    }

    fn colleague(&self) -> As<'_> {
        As(&self.app, &self.colleague_token)
    }

    fn supervisor(&self) -> As<'_> {
        As(&self.app, &self.supervisor_token)
    }
}

/// `base` with the keys of `extra` added or replaced (both JSON objects).
fn merged(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(e)) = (out.as_object_mut(), extra) {
        o.extend(e);
    }
    out
}

/// The ticket row as direct SQL sees it.
async fn row(app: &TestApp, id: Uuid) -> anyhow::Result<Option<Value>> {
    let r = sqlx::query("SELECT to_jsonb(t) AS doc FROM app.tickets t WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.owner())
        .await?;
    Ok(r.map(|r| r.get::<Value, _>("doc")))
}

fn minutes(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or_else(|| panic!("not a number of minutes: {v}"))
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
}

// ------------------------------------------------------------------------------------------------
// Opening and changing
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_opened_ticket_stores_every_field_is_numbered_and_counted() -> anyhow::Result<()> {
    let d = desk().await?;
    let parent = open_for(&d.app, &d.agent_token, d.customer).await?;
    let t = open(
        &d.app,
        &d.agent_token,
        json!({
            "customerId": d.customer, "subject": "  Invoice wrong ", "description": "Twice charged",
            "category": "BILLING", "subcategory": "payments", "priority": "HIGH", "slaLevel": "VIP",
            "estimatedResolution": "2030-01-02T03:04:05Z",
            "attachments": [{ "type": "IMAGE", "url": "https://media.example.com/a.png",
                              "publicId": "tickets/a", "filename": "a.png", "size": 2048 }],
            "location": { "latitude": 50.08, "longitude": 14.42, "address": "Praha",
                          "formattedAddress": "Praha 1, CZ", "isServiceLocation": true },
            "tags": ["billing", " billing ", "vip"],
            "labels": [{ "name": "money", "color": "#E11D48" }],
            "externalId": "JIRA-7", "externalUrl": "https://jira.example.com/JIRA-7",
            "parentTicketId": parent, "assignedAgentId": d.colleague
        }),
    )
    .await?;
    let year = Utc::now().year();
    assert_eq!(t["ticketNumber"], format!("TICKET-{year}-000002"));
    assert_eq!(t["subject"], "Invoice wrong");
    assert_eq!(t["status"], "OPEN");
    assert_eq!(t["priority"], "HIGH");
    assert_eq!(t["slaLevel"], "VIP");
    assert_eq!(t["openedById"], d.agent.to_string());
    assert_eq!(t["assignedAgentId"], d.colleague.to_string());
    assert_eq!(t["parentTicketId"], parent.to_string());
    assert_eq!(t["tags"], json!(["billing", "vip"]));
    assert_eq!(
        t["labels"],
        json!([{ "name": "money", "color": "#e11d48" }])
    );
    assert_eq!(t["attachments"][0]["uploadedBy"], d.agent.to_string());
    assert_eq!(t["attachments"][0]["size"], 2048.0);
    assert_eq!(t["location"]["isServiceLocation"], true);
    assert!(t["firstResponseTime"].is_null() && t["resolution"].is_null());

    let stored = row(&d.app, id_of(&t)).await?.expect("stored");
    assert_eq!(stored["customer_id"], d.customer.to_string());
    assert_eq!(stored["opened_by"], d.agent.to_string());
    assert_eq!(stored["location"]["latitude"], 50.08);
    assert_eq!(stored["attachments"][0]["type"], "image");
    assert_eq!(stored["external_url"], "https://jira.example.com/JIRA-7");
    let counted: i32 = sqlx::query_scalar("SELECT total_tickets FROM app.customers WHERE id = $1")
        .bind(d.customer)
        .fetch_one(d.app.db.owner())
        .await?;
    assert_eq!(counted, 2, "the customer's ticket counter follows");
    Ok(())
}

#[tokio::test]
async fn a_ticket_from_a_conversation_belongs_to_the_conversations_customer() -> anyhow::Result<()>
{
    let d = desk().await?;
    let (app, token) = (&d.app, d.agent_token.as_str());
    let conv = conversation(app, d.tenant, Some(d.customer)).await?;
    let base = json!({ "subject": "Call me", "description": "Please", "category": "OTHER" });
    let with = |extra: Value| merged(&base, extra);
    let t = open(app, token, with(json!({ "conversationId": conv }))).await?;
    assert_eq!(t["customerId"], d.customer.to_string());
    assert_eq!(t["conversationId"], conv.to_string());

    let other = customer(app, d.tenant, "+420602000002").await?;
    let anonymous = conversation(app, d.tenant, None).await?;
    for (input, field) in [
        (
            with(json!({ "conversationId": conv, "customerId": other })),
            "input.conversationId",
        ),
        (
            with(json!({ "conversationId": anonymous })),
            "input.customerId",
        ),
        (base.clone(), "input.customerId"),
    ] {
        let body = app
            .gql(token, &open_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    // A conversation without a customer is fine when the customer is given.
    let t = open(
        app,
        token,
        with(json!({ "conversationId": anonymous, "customerId": other })),
    )
    .await?;
    assert_eq!(t["customerId"], other.to_string());
    assert_eq!(
        app.rows("tickets", d.tenant).await?,
        2,
        "refusals wrote nothing"
    );
    Ok(())
}

#[tokio::test]
async fn update_keeps_absent_fields_clears_nulls_and_keeps_attachment_stamps() -> anyhow::Result<()>
{
    let d = desk().await?;
    let app = &d.app;
    let t = open(
        app,
        &d.agent_token,
        json!({ "customerId": d.customer, "subject": "S", "description": "D", "category": "OTHER",
                "subcategory": "x", "externalUrl": "https://x.example/1",
                "location": { "address": "Brno" },
                "attachments": [{ "url": "https://media.example.com/a.png" }] }),
    )
    .await?;
    let id = id_of(&t);
    let head = "($id: ID!, $input: UpdateTicketInput!)";
    let body = d
        .colleague()
        .call(
            head,
            "updateTicket(id: $id, input: $input)",
            json!({ "id": t["id"], "input": {
            "subject": "New", "subcategory": null, "location": null, "externalUrl": null,
            "priority": "URGENT",
            "attachments": [{ "url": "https://media.example.com/a.png" },
                            { "url": "https://media.example.com/b.png", "type": "DOCUMENT" }] } }),
        )
        .await?;
    let u = data(&body, "updateTicket");
    assert_eq!(u["subject"], "New");
    assert_eq!(u["description"], "D", "absent keeps");
    assert_eq!(u["category"], "OTHER");
    assert_eq!(u["priority"], "URGENT");
    assert!(u["subcategory"].is_null() && u["location"].is_null() && u["externalUrl"].is_null());
    assert_eq!(
        u["attachments"][0]["uploadedBy"],
        d.agent.to_string(),
        "re-listed keeps its stamps"
    );
    assert_eq!(
        u["attachments"][0]["uploadedAt"],
        t["attachments"][0]["uploadedAt"]
    );
    assert_eq!(u["attachments"][1]["uploadedBy"], d.colleague.to_string());

    let before = row(app, id).await?;
    let other = customer(app, d.tenant, "+420602000003").await?;
    let theirs = conversation(app, d.tenant, Some(other)).await?;
    for (input, field) in [
        (json!({ "subject": null }), "input.subject"),
        (json!({ "tags": null }), "input.tags"),
        (json!({ "subject": "x".repeat(201) }), "input.subject"),
        (json!({ "conversationId": theirs }), "input.conversationId"),
    ] {
        let body = d
            .colleague()
            .call(
                head,
                "updateTicket(id: $id, input: $input)",
                json!({ "id": id, "input": input }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    assert_eq!(row(app, id).await?, before, "refused updates wrote nothing");
    Ok(())
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() -> anyhow::Result<()> {
    let d = desk().await?;
    let base = json!({ "customerId": d.customer, "subject": "S", "description": "D",
                       "category": "OTHER" });
    let cases = [
        (json!({ "subject": "x".repeat(201) }), "input.subject"),
        (json!({ "description": "  " }), "input.description"),
        (
            json!({ "location": { "latitude": 91.0 } }),
            "input.location.latitude",
        ),
        (
            json!({ "location": { "longitude": -180.5 } }),
            "input.location.longitude",
        ),
        (
            json!({ "labels": [{ "name": "a", "color": "red" }] }),
            "input.labels[0].color",
        ),
        (
            json!({ "labels": [{ "name": " " }] }),
            "input.labels[0].name",
        ),
        (
            json!({ "attachments": [{ "url": "https://a.example/x", "type": "TEXT" }] }),
            "input.attachments[0].type",
        ),
        (
            json!({ "attachments": [{ "url": "ftp://a.example/x" }] }),
            "input.attachments[0].url",
        ),
        (
            json!({ "attachments": [{ "url": "https://a.example/x", "size": -1.0 }] }),
            "input.attachments[0].size",
        ),
        (
            json!({ "externalUrl": "javascript:alert(1)" }),
            "input.externalUrl",
        ),
        (json!({ "tags": ["ok", " "] }), "input.tags[1]"),
    ];
    for (extra, field) in cases {
        let input = merged(&base, extra);
        let body = d
            .agent()
            .gql(&open_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    assert_eq!(d.app.rows("tickets", d.tenant).await?, 0);
    assert_eq!(
        d.app.rows("ticket_counters", d.tenant).await?,
        0,
        "no number was taken"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Assignment and escalation
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn assignment_and_escalation_take_active_working_members_of_the_tenant() -> anyhow::Result<()>
{
    let d = desk().await?;
    let app = &d.app;
    let id = open_for(app, &d.agent_token, d.customer).await?;
    let assign = |agent: Value| json!({ "id": id, "agentId": agent });
    let head = "($id: ID!, $agentId: ID)";
    let field = "assignTicket(id: $id, agentId: $agentId)";
    let body = d
        .agent()
        .call(head, field, assign(json!(d.colleague)))
        .await?;
    assert_eq!(
        data(&body, "assignTicket")["assignedAgentId"],
        d.colleague.to_string()
    );

    let (viewer, _) = app.new_member(d.tenant, Role::Viewer).await?;
    let (inactive, _) = app.new_member(d.tenant, Role::Agent).await?;
    exec(
        app,
        "UPDATE app.memberships SET is_active = false WHERE user_id = $1",
        inactive,
    )
    .await?;
    let elsewhere = app.new_tenant("Elsewhere").await?;
    let (stranger, _) = app.new_member(elsewhere, Role::Agent).await?;
    for (agent, code) in [
        (viewer, "BAD_USER_INPUT"),
        (inactive, "BAD_USER_INPUT"),
        (stranger, "NOT_FOUND"),
        (Uuid::new_v4(), "NOT_FOUND"),
    ] {
        let body = d.agent().call(head, field, assign(json!(agent))).await?;
        assert_eq!(refusal(&body), (code.into(), "agentId".into()), "{body}");
    }
    let body = d
        .agent()
        .call("($id: ID!)", "assignTicket(id: $id)", json!({ "id": id }))
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "agentId".into()),
        "absent is not null"
    );
    let body = d.agent().call(head, field, assign(Value::Null)).await?;
    assert!(
        data(&body, "assignTicket")["assignedAgentId"].is_null(),
        "null unassigns"
    );

    let head = "($id: ID!, $to: ID!, $reason: String!)";
    let field = "escalateTicket(id: $id, toAgentId: $to, reason: $reason)";
    let esc = |to: Uuid, reason: &str| json!({ "id": id, "to": to, "reason": reason });
    let body = d.agent().call(head, field, esc(viewer, "help")).await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "toAgentId".into())
    );
    let body = d.agent().call(head, field, esc(d.colleague, "  ")).await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "reason".into()));
    let body = d
        .agent()
        .call(head, field, esc(d.colleague, "SLA at risk"))
        .await?;
    let e = data(&body, "escalateTicket");
    assert_eq!(e["escalated"], true);
    assert_eq!(e["escalatedToId"], d.colleague.to_string());
    assert_eq!(e["escalationReason"], "SLA at risk");
    assert!(!e["escalatedAt"].is_null());
    let stored = row(app, id).await?.expect("row");
    assert_eq!(stored["escalated_to"], d.colleague.to_string());

    exec(
        app,
        "UPDATE app.tickets SET status = 'closed' WHERE id = $1",
        id,
    )
    .await?;
    let body = d
        .agent()
        .call(head, field, esc(d.colleague, "again"))
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert!(message(&body).contains("CLOSED"), "{body}");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Status moves
// ------------------------------------------------------------------------------------------------

const STATUSES: [(&str, &str); 6] = [
    ("open", "OPEN"),
    ("in_progress", "IN_PROGRESS"),
    ("waiting_customer", "WAITING_CUSTOMER"),
    ("waiting_internal", "WAITING_INTERNAL"),
    ("resolved", "RESOLVED"),
    ("closed", "CLOSED"),
];

/// The documented transition table, written out independently of the code.
fn allowed(from: &str, to: &str) -> bool {
    let working = [
        "open",
        "in_progress",
        "waiting_customer",
        "waiting_internal",
    ];
    match to {
        "in_progress" | "waiting_customer" | "waiting_internal" => {
            working.contains(&from) && from != to
        }
        "resolved" => working.contains(&from),
        "closed" => from != "closed",
        "open" => from == "resolved" || from == "closed",
        _ => false,
    }
}

#[tokio::test]
async fn status_moves_follow_the_transition_table_and_refusals_name_the_status(
) -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let id = open_for(app, &d.agent_token, d.customer).await?;
    let head = "($id: ID!, $status: TicketStatus!)";
    let field = "setTicketStatus(id: $id, status: $status)";
    for (from, from_api) in STATUSES {
        for (to, to_api) in STATUSES {
            sqlx::query("UPDATE app.tickets SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(from)
                .execute(app.db.owner())
                .await?;
            let body = d
                .agent()
                .call(head, field, json!({ "id": id, "status": to_api }))
                .await?;
            let stored = row(app, id).await?.expect("row");
            if allowed(from, to) {
                assert_eq!(
                    data(&body, "setTicketStatus")["status"],
                    to_api,
                    "{from} → {to}"
                );
                assert_eq!(stored["status"], to, "{from} → {to}");
            } else {
                assert_eq!(refusal(&body).0, "CONFLICT", "{from} → {to}: {body}");
                assert!(message(&body).contains(from_api), "{from} → {to}: {body}");
                assert_eq!(stored["status"], from, "{from} → {to} wrote nothing");
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn resolving_closing_reopening_and_rating_record_their_times() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let id = open_for(app, &d.agent_token, d.customer).await?;
    exec(
        app,
        "UPDATE app.tickets SET created_at = now() - interval '90 minutes' WHERE id = $1",
        id,
    )
    .await?;

    let rate_head = "($id: ID!, $rating: Int!, $comment: String)";
    let rate = "rateTicket(id: $id, rating: $rating, comment: $comment, followUpNeeded: true)";
    let body = d
        .colleague()
        .call(rate_head, rate, json!({ "id": id, "rating": 5 }))
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT", "an open ticket is not rated");
    assert!(message(&body).contains("OPEN"), "{body}");

    let head = "($id: ID!, $summary: String!, $steps: [String!])";
    let resolve =
        "resolveTicket(id: $id, summary: $summary, steps: $steps, resolutionCategory: WORKAROUND)";
    let body = d
        .colleague()
        .call(
            head,
            resolve,
            json!({ "id": id, "summary": " ", "steps": [] }),
        )
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "summary".into()));
    let body = d
        .colleague()
        .call(
            head,
            resolve,
            json!({ "id": id, "summary": "Refunded", "steps": ["checked", ""] }),
        )
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "steps[1]".into()));
    let body = d
        .colleague()
        .call(
            head,
            resolve,
            json!({ "id": id, "summary": "Refunded", "steps": ["checked", "refunded"] }),
        )
        .await?;
    let t = data(&body, "resolveTicket");
    assert_eq!(t["status"], "RESOLVED");
    assert_eq!(t["resolution"]["summary"], "Refunded");
    assert_eq!(t["resolution"]["steps"], json!(["checked", "refunded"]));
    assert_eq!(t["resolution"]["resolutionCategory"], "WORKAROUND");
    assert_eq!(t["resolution"]["resolvedBy"], d.colleague.to_string());
    let resolved_at = instant(&t["resolution"]["resolvedAt"]);
    assert!((Utc::now() - resolved_at).num_seconds().abs() < 60);
    let took = minutes(&t["resolutionTime"]);
    assert!((89.0..92.0).contains(&took), "{took}");
    assert!(
        (89.0..92.0).contains(&minutes(&t["firstResponseTime"])),
        "a colleague's move out of open"
    );

    let body = d
        .colleague()
        .call(rate_head, rate, json!({ "id": id, "rating": 6 }))
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "rating".into()));
    let body = d
        .colleague()
        .call(
            rate_head,
            rate,
            json!({ "id": id, "rating": 4, "comment": "Quick" }),
        )
        .await?;
    let f = &data(&body, "rateTicket")["customerFeedback"];
    assert_eq!(
        (f["rating"].as_f64(), &f["comment"], &f["followUpNeeded"]),
        (Some(4.0), &json!("Quick"), &json!(true))
    );
    assert!(!f["submittedAt"].is_null());

    let body = d
        .colleague()
        .call("($id: ID!)", "closeTicket(id: $id)", json!({ "id": id }))
        .await?;
    let t = data(&body, "closeTicket");
    assert_eq!(t["status"], "CLOSED");
    assert!(!t["closedAt"].is_null());
    assert_eq!(
        minutes(&t["resolutionTime"]),
        took,
        "closing keeps the resolution time"
    );
    let body = d
        .colleague()
        .call("($id: ID!)", "closeTicket(id: $id)", json!({ "id": id }))
        .await?;
    assert!(message(&body).contains("CLOSED"), "{body}");

    let body = d
        .colleague()
        .call("($id: ID!)", "reopenTicket(id: $id)", json!({ "id": id }))
        .await?;
    let t = data(&body, "reopenTicket");
    assert_eq!(t["status"], "OPEN");
    assert!(t["closedAt"].is_null() && t["resolution"].is_null() && t["resolutionTime"].is_null());
    assert_eq!(t["customerFeedback"]["rating"], 4.0, "the feedback stays");
    let body = d
        .colleague()
        .call("($id: ID!)", "reopenTicket(id: $id)", json!({ "id": id }))
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert!(message(&body).contains("OPEN"), "{body}");
    Ok(())
}

#[tokio::test]
async fn the_first_response_is_the_first_public_action_of_another_member() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let note = "mutation($t: ID!, $internal: Boolean) {
        addTicketNote(ticketId: $t, content: \"Hello\", isInternal: $internal) { rowId } }";
    let first = |id: Uuid| async move {
        let r = row(app, id).await?.expect("row");
        anyhow::Ok(r["first_response_time"].clone())
    };
    let id = open_for(app, &d.agent_token, d.customer).await?;
    exec(
        app,
        "UPDATE app.tickets SET created_at = now() - interval '30 minutes' WHERE id = $1",
        id,
    )
    .await?;
    data(
        &d.agent()
            .gql(note, json!({ "t": id, "internal": false }))
            .await?,
        "addTicketNote",
    );
    assert!(
        first(id).await?.is_null(),
        "the opener's own reply is not a response"
    );
    data(
        &d.colleague().gql(note, json!({ "t": id })).await?,
        "addTicketNote",
    );
    assert!(
        first(id).await?.is_null(),
        "an internal note is not a response"
    );
    data(
        &d.colleague()
            .gql(note, json!({ "t": id, "internal": false }))
            .await?,
        "addTicketNote",
    );
    let set = minutes(&first(id).await?);
    assert!((29.0..32.0).contains(&set), "{set}");
    exec(
        app,
        "UPDATE app.tickets SET created_at = created_at - interval '1 day' WHERE id = $1",
        id,
    )
    .await?;
    data(
        &d.colleague()
            .gql(note, json!({ "t": id, "internal": false }))
            .await?,
        "addTicketNote",
    );
    assert_eq!(minutes(&first(id).await?), set, "set once");

    // The opener moving it along is not a response either; a colleague's move is.
    let head = "($id: ID!, $status: TicketStatus!)";
    let field = "setTicketStatus(id: $id, status: $status)";
    let id = open_for(app, &d.agent_token, d.customer).await?;
    d.agent()
        .call(head, field, json!({ "id": id, "status": "IN_PROGRESS" }))
        .await?;
    assert!(first(id).await?.is_null());
    let id = open_for(app, &d.agent_token, d.customer).await?;
    d.colleague()
        .call(
            head,
            field,
            json!({ "id": id, "status": "WAITING_CUSTOMER" }),
        )
        .await?;
    assert!(!first(id).await?.is_null());
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Notes
// ------------------------------------------------------------------------------------------------

const ADD_NOTE: &str = "mutation($t: ID!, $content: String!, $attachments: [String!]) {
  addTicketNote(ticketId: $t, content: $content, attachments: $attachments) {
    id rowId content isInternal attachments agentId ticket { rowId } } }";
const UPDATE_NOTE: &str = "mutation($id: ID!, $input: UpdateTicketNoteInput!) {
  updateTicketNote(id: $id, input: $input) { rowId content isInternal attachments } }";
const DELETE_NOTE: &str = "mutation($id: ID!) { deleteTicketNote(id: $id) { deletedId } }";

#[tokio::test]
async fn notes_are_added_by_members_and_changed_only_by_their_author_or_a_supervisor(
) -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let id = open_for(app, &d.agent_token, d.customer).await?;
    let body = d
        .agent()
        .gql(
            ADD_NOTE,
            json!({ "t": id, "content": " Called back ",
        "attachments": ["https://media.example.com/n.png"] }),
        )
        .await?;
    let note = data(&body, "addTicketNote").clone();
    assert_eq!(note["content"], "Called back");
    assert_eq!(note["isInternal"], true, "internal unless said otherwise");
    assert_eq!(note["agentId"], d.agent.to_string());
    assert_eq!(note["ticket"]["rowId"], id.to_string());
    assert_eq!(
        note["attachments"],
        json!(["https://media.example.com/n.png"])
    );

    for (vars, field) in [
        (json!({ "t": id, "content": "  " }), "content"),
        (
            json!({ "t": id, "content": "x", "attachments": ["nope"] }),
            "attachments[0]",
        ),
    ] {
        let body = d.agent().gql(ADD_NOTE, vars).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
    }
    let body = d
        .agent()
        .gql(ADD_NOTE, json!({ "t": Uuid::new_v4(), "content": "x" }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "ticketId".into()));

    // A colleague may not change or delete it; the author and a supervisor may.
    let change = json!({ "id": note["id"], "input": { "content": "Edited", "isInternal": false } });
    let body = d.colleague().gql(UPDATE_NOTE, change.clone()).await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = d
        .colleague()
        .gql(DELETE_NOTE, json!({ "id": note["id"] }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = d.agent().gql(UPDATE_NOTE, change).await?;
    let changed = data(&body, "updateTicketNote");
    assert_eq!(
        (&changed["content"], &changed["isInternal"]),
        (&json!("Edited"), &json!(false))
    );
    assert_eq!(changed["attachments"], note["attachments"], "absent keeps");
    let body = d
        .agent()
        .gql(
            UPDATE_NOTE,
            json!({ "id": note["id"], "input": { "content": null } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.content".into())
    );
    let body = d
        .supervisor()
        .gql(
            UPDATE_NOTE,
            json!({ "id": note["id"], "input": { "attachments": [] } }),
        )
        .await?;
    assert_eq!(data(&body, "updateTicketNote")["attachments"], json!([]));
    let body = d
        .supervisor()
        .gql(DELETE_NOTE, json!({ "id": note["id"] }))
        .await?;
    assert_eq!(data(&body, "deleteTicketNote")["deletedId"], note["id"]);
    assert_eq!(app.rows("ticket_notes", d.tenant).await?, 0);
    let body = d
        .agent()
        .gql(DELETE_NOTE, json!({ "id": note["id"] }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Related and parent tickets
// ------------------------------------------------------------------------------------------------

const RELATED: &str = "query($ids: [ID!]) { tickets(filter: { id: { in: $ids } }, orderBy: [{ field: TICKET_NUMBER }]) {
  nodes { rowId relatedTickets(orderBy: [{ field: TICKET_NUMBER }]) { totalCount nodes { rowId } } } } }";

/// Each ticket's related tickets, in ticket-number order.
async fn related(d: &Desk, ids: &[Uuid]) -> anyhow::Result<Vec<Vec<String>>> {
    let body = d.agent().gql(RELATED, json!({ "ids": ids })).await?;
    Ok(data(&body, "tickets")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let nodes = t["relatedTickets"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(t["relatedTickets"]["totalCount"], nodes.len());
            nodes
                .iter()
                .map(|n| n["rowId"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect())
}

#[tokio::test]
async fn links_are_undirected_idempotent_and_never_to_the_ticket_itself() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(open_for(app, &d.agent_token, d.customer).await?);
    }
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let head = "($id: ID!, $rel: ID!)";
    let link = "linkTickets(id: $id, relatedId: $rel)";
    let unlink = "unlinkTickets(id: $id, relatedId: $rel)";
    for (x, y) in [(a, b), (a, b), (b, a), (c, a)] {
        data(
            &d.agent()
                .call(head, link, json!({ "id": x, "rel": y }))
                .await?,
            "linkTickets",
        );
    }
    assert_eq!(
        app.rows("ticket_links", d.tenant).await?,
        2,
        "linking again adds nothing"
    );
    let s = |u: Uuid| u.to_string();
    assert_eq!(
        related(&d, &ids).await?,
        vec![vec![s(b), s(c)], vec![s(a)], vec![s(a)]]
    );

    // The filter of the related list applies.
    let body = d
        .agent()
        .gql(
            "query($a: ID!, $b: ID!) { ticket(id: $a) {
        relatedTickets(filter: { id: { ne: $b } }) { totalCount nodes { rowId } } } }",
            json!({ "a": a, "b": b }),
        )
        .await?;
    assert_eq!(data(&body, "ticket")["relatedTickets"]["totalCount"], 1);

    let body = d
        .agent()
        .call(head, link, json!({ "id": a, "rel": a }))
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "relatedId".into())
    );
    let body = d
        .agent()
        .call(head, link, json!({ "id": a, "rel": Uuid::new_v4() }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "relatedId".into()));

    data(
        &d.agent()
            .call(head, unlink, json!({ "id": b, "rel": a }))
            .await?,
        "unlinkTickets",
    );
    data(
        &d.agent()
            .call(head, unlink, json!({ "id": b, "rel": a }))
            .await?,
        "unlinkTickets",
    );
    assert_eq!(
        related(&d, &ids).await?,
        vec![vec![s(c)], vec![], vec![s(a)]]
    );
    Ok(())
}

#[tokio::test]
async fn a_ticket_cannot_become_its_own_ancestor() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(open_for(app, &d.agent_token, d.customer).await?);
    }
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let head = "($id: ID!, $parent: ID)";
    let field = "setTicketParent(id: $id, parentId: $parent)";
    let set = |id: Uuid, parent: Value| json!({ "id": id, "parent": parent });
    for (id, parent) in [(b, a), (c, b)] {
        let body = d.agent().call(head, field, set(id, json!(parent))).await?;
        assert_eq!(
            data(&body, "setTicketParent")["parentTicketId"],
            parent.to_string()
        );
    }
    for (id, parent) in [(a, c), (a, b), (a, a)] {
        let body = d.agent().call(head, field, set(id, json!(parent))).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), "parentId".into()),
            "{id} under {parent}"
        );
    }
    let body = d
        .agent()
        .call(head, field, set(a, json!(Uuid::new_v4())))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "parentId".into()));
    assert!(
        row(app, a).await?.expect("row")["parent_ticket_id"].is_null(),
        "refusals wrote nothing"
    );

    let body = d.agent().call(head, field, set(c, Value::Null)).await?;
    assert!(
        data(&body, "setTicketParent")["parentTicketId"].is_null(),
        "null detaches"
    );
    let body = d.agent().call(head, field, set(a, json!(c))).await?;
    assert_eq!(
        data(&body, "setTicketParent")["parentTicketId"],
        c.to_string(),
        "now allowed"
    );
    Ok(())
}

#[tokio::test]
async fn deleting_takes_a_supervisor_and_removes_notes_links_and_the_count() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let parent = open_for(app, &d.agent_token, d.customer).await?;
    let child = open(
        app,
        &d.agent_token,
        json!({ "customerId": d.customer, "subject": "c",
        "description": "c", "category": "OTHER", "parentTicketId": parent }),
    )
    .await?;
    let head = "($id: ID!, $rel: ID!)";
    d.agent()
        .call(
            head,
            "linkTickets(id: $id, relatedId: $rel)",
            json!({ "id": parent, "rel": child["id"] }),
        )
        .await?;
    d.agent()
        .gql(ADD_NOTE, json!({ "t": parent, "content": "n" }))
        .await?;
    let delete = "mutation($id: ID!) { deleteTicket(id: $id) { deletedId } }";
    let body = d.agent().gql(delete, json!({ "id": parent })).await?;
    assert_eq!(
        refusal(&body).0,
        "FORBIDDEN",
        "agents do not delete tickets"
    );
    let body = d.supervisor().gql(delete, json!({ "id": parent })).await?;
    assert_eq!(
        id_of(&json!({ "id": data(&body, "deleteTicket")["deletedId"] })),
        parent
    );
    assert!(row(app, parent).await?.is_none());
    assert!(row(app, id_of(&child)).await?.expect("child")["parent_ticket_id"].is_null());
    assert_eq!(app.rows("ticket_notes", d.tenant).await?, 0);
    assert_eq!(app.rows("ticket_links", d.tenant).await?, 0);
    let counted: i32 = sqlx::query_scalar("SELECT total_tickets FROM app.customers WHERE id = $1")
        .bind(d.customer)
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(counted, 1);
    let body = d.supervisor().gql(delete, json!({ "id": parent })).await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Tenancy and permissions
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_tenants_tickets_notes_customers_and_members_are_not_found_and_untouched(
) -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let mine = open_for(app, &d.agent_token, d.customer).await?;
    let elsewhere = app.new_tenant("Elsewhere").await?;
    let (their_agent, their_token) = app.new_member(elsewhere, Role::Agent).await?;
    let their_customer = customer(app, elsewhere, "+420602000009").await?;
    let their_conversation = conversation(app, elsewhere, Some(their_customer)).await?;
    let theirs = open_for(app, &their_token, their_customer).await?;
    let body = app
        .gql(
            &their_token,
            ADD_NOTE,
            json!({ "t": theirs, "content": "theirs" }),
        )
        .await?;
    let their_note = data(&body, "addTicketNote")["rowId"].clone();
    let before = row(app, theirs).await?;

    let (t, m, me) = (theirs, mine, d.agent);
    let cases = [
        (
            format!(r#"updateTicket(id: "{t}", input: {{ subject: "x" }})"#),
            "id",
        ),
        (format!(r#"assignTicket(id: "{t}", agentId: "{me}")"#), "id"),
        (
            format!(r#"escalateTicket(id: "{t}", toAgentId: "{me}", reason: "r")"#),
            "id",
        ),
        (
            format!(r#"setTicketStatus(id: "{t}", status: IN_PROGRESS)"#),
            "id",
        ),
        (format!(r#"resolveTicket(id: "{t}", summary: "s")"#), "id"),
        (format!(r#"closeTicket(id: "{t}")"#), "id"),
        (format!(r#"reopenTicket(id: "{t}")"#), "id"),
        (format!(r#"rateTicket(id: "{t}", rating: 5)"#), "id"),
        (format!(r#"linkTickets(id: "{t}", relatedId: "{m}")"#), "id"),
        (
            format!(r#"unlinkTickets(id: "{t}", relatedId: "{m}")"#),
            "id",
        ),
        (
            format!(r#"setTicketParent(id: "{t}", parentId: null)"#),
            "id",
        ),
        (
            format!(r#"linkTickets(id: "{m}", relatedId: "{t}")"#),
            "relatedId",
        ),
        (
            format!(r#"setTicketParent(id: "{m}", parentId: "{t}")"#),
            "parentId",
        ),
    ];
    for (field, blamed) in cases {
        let body = d.agent().call("", &field, json!({})).await?;
        let want = ("NOT_FOUND".into(), blamed.into());
        assert_eq!(refusal(&body), want, "{field}: {body}");
    }
    for (doc, vars, blamed) in [
        (ADD_NOTE, json!({ "t": theirs, "content": "x" }), "ticketId"),
        (
            UPDATE_NOTE,
            json!({ "id": their_note, "input": { "content": "x" } }),
            "id",
        ),
        (DELETE_NOTE, json!({ "id": their_note }), "id"),
        (
            "mutation($id: ID!) { deleteTicket(id: $id) { deletedId } }",
            json!({ "id": theirs }),
            "id",
        ),
    ] {
        let body = d.supervisor().gql(doc, vars).await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), blamed.into()),
            "{doc}: {body}"
        );
    }
    let base = json!({ "customerId": d.customer, "subject": "s", "description": "d", "category": "OTHER" });
    for (extra, blamed) in [
        (json!({ "customerId": their_customer }), "input.customerId"),
        (
            json!({ "conversationId": their_conversation }),
            "input.conversationId",
        ),
        (
            json!({ "assignedAgentId": their_agent }),
            "input.assignedAgentId",
        ),
        (json!({ "parentTicketId": theirs }), "input.parentTicketId"),
    ] {
        let input = merged(&base, extra);
        let body = d
            .agent()
            .gql(&open_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), blamed.into()),
            "{body}"
        );
    }
    assert_eq!(row(app, theirs).await?, before, "their ticket is untouched");
    assert_eq!(app.rows("ticket_notes", elsewhere).await?, 1);
    assert_eq!(app.rows("ticket_links", d.tenant).await?, 0);
    assert_eq!(app.rows("tickets", d.tenant).await?, 1, "nothing opened");
    Ok(())
}

#[tokio::test]
async fn a_viewer_reads_tickets_but_may_not_work_them() -> anyhow::Result<()> {
    let d = desk().await?;
    let id = open_for(&d.app, &d.agent_token, d.customer).await?;
    let (_, viewer) = d.app.new_member(d.tenant, Role::Viewer).await?;
    let body = d
        .app
        .gql(
            &viewer,
            "query($id: ID!) { ticket(id: $id) { rowId } }",
            json!({ "id": id }),
        )
        .await?;
    assert_eq!(data(&body, "ticket")["rowId"], id.to_string());
    let body = As(&d.app, &viewer)
        .call("($id: ID!)", "closeTicket(id: $id)", json!({ "id": id }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    let body = d
        .app
        .gql(&viewer, ADD_NOTE, json!({ "t": id, "content": "x" }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert_eq!(row(&d.app, id).await?.expect("row")["status"], "open");
    Ok(())
}

/// Needs the membership's own permissions to be read per request (being wired in main): in a
/// branch where grants still come from the token's role alone, this fails.
#[tokio::test]
async fn a_member_whose_permissions_lack_manage_tickets_is_forbidden_naming_it(
) -> anyhow::Result<()> {
    let d = desk().await?;
    let id = open_for(&d.app, &d.agent_token, d.customer).await?;
    let (limited, token) = d.app.new_member(d.tenant, Role::Agent).await?;
    sqlx::query(
        "UPDATE app.memberships SET permissions = '{read:conversations,write:messages}'
          WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(d.tenant)
    .bind(limited)
    .execute(d.app.db.owner())
    .await?;
    let input = json!({ "customerId": d.customer, "subject": "s", "description": "d", "category": "OTHER" });
    let refusals = [
        d.app
            .gql(&token, &open_doc(), json!({ "input": input }))
            .await?,
        As(&d.app, &token)
            .call("($id: ID!)", "closeTicket(id: $id)", json!({ "id": id }))
            .await?,
        As(&d.app, &token)
            .call(
                "($id: ID!)",
                "assignTicket(id: $id, agentId: null)",
                json!({ "id": id }),
            )
            .await?,
        d.app
            .gql(&token, ADD_NOTE, json!({ "t": id, "content": "x" }))
            .await?,
    ];
    for body in refusals {
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
        assert!(message(&body).contains("manage:tickets"), "{body}");
    }
    assert_eq!(d.app.rows("tickets", d.tenant).await?, 1);
    assert_eq!(row(&d.app, id).await?.expect("row")["status"], "open");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Numbering
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn tickets_opened_concurrently_are_numbered_one_to_n_without_gaps() -> anyhow::Result<()> {
    let d = desk().await?;
    let app = &d.app;
    let input = |customer: Value| {
        json!({ "customerId": customer, "subject": "s", "description": "d",
                                          "category": "OTHER" })
    };
    // Each of these opens a ticket and then fails (an unknown customer), so its whole
    // transaction — the number it took included — rolls back.
    let failing = "mutation($a: OpenTicketInput!, $b: OpenTicketInput!) {
        a: openTicket(input: $a) { rowId } b: openTicket(input: $b) { rowId } }";
    let tokens = [&d.agent_token, &d.colleague_token, &d.supervisor_token];
    let requests = (0..24).map(|i| {
        let token = tokens[i % tokens.len()];
        let (doc, vars) = if i % 4 == 3 {
            (
                failing.to_owned(),
                json!({ "a": input(json!(d.customer)), "b": input(json!(Uuid::new_v4())) }),
            )
        } else {
            (open_doc(), json!({ "input": input(json!(d.customer)) }))
        };
        async move { app.gql(token, &doc, vars).await }
    });
    let bodies = futures::future::try_join_all(requests).await?;
    let failed = bodies.iter().filter(|b| !b["errors"].is_null()).count();
    assert_eq!(failed, 6, "every fourth request fails");
    let numbers: Vec<String> = sqlx::query_scalar(
        "SELECT ticket_number FROM app.tickets WHERE tenant_id = $1 ORDER BY ticket_number",
    )
    .bind(d.tenant)
    .fetch_all(app.db.owner())
    .await?;
    let year = Utc::now().year();
    let want: Vec<String> = (1..=18).map(|n| format!("TICKET-{year}-{n:06}")).collect();
    assert_eq!(
        numbers, want,
        "1..N, no gap from the rolled-back opens, no duplicate"
    );
    let next = open(app, &d.agent_token, input(json!(d.customer))).await?;
    assert_eq!(next["ticketNumber"], format!("TICKET-{year}-000019"));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Service level
// ------------------------------------------------------------------------------------------------

/// The SLA columns as a direct SQL computation (the documented rule, written independently of
/// the API's expressions): id, due, breached, at risk.
const SLA_SQL: &str = "SELECT t.id, t.created_at + h.hours * interval '1 hour' AS due,
    CASE WHEN t.status IN ('resolved', 'closed')
         THEN coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at)
              > t.created_at + h.hours * interval '1 hour'
         ELSE now() > t.created_at + h.hours * interval '1 hour' END AS breached,
    t.status NOT IN ('resolved', 'closed')
      AND now() <= t.created_at + h.hours * interval '1 hour'
      AND now() > t.created_at + h.hours * 0.8 * interval '1 hour' AS at_risk
  FROM app.tickets t
  CROSS JOIN LATERAL (SELECT coalesce(
      (SELECT (s.value #>> '{}')::numeric FROM app.tenant_settings s
        WHERE s.tenant_id = t.tenant_id AND s.key = 'sla.' || t.sla_level || '.hours'
          AND jsonb_typeof(s.value) = 'number'),
      CASE t.sla_level WHEN 'standard' THEN 72 WHEN 'priority' THEN 24 ELSE 4 END) AS hours) h
  WHERE t.tenant_id = $1 ORDER BY due, t.id";

#[tokio::test]
async fn sla_due_breached_and_at_risk_equal_a_direct_computation_and_filter() -> anyhow::Result<()>
{
    let d = desk().await?;
    let app = &d.app;
    // A priority window of 2 hours; a vip setting that is not a number (the default applies).
    sqlx::query(
        "INSERT INTO app.tenant_settings (tenant_id, key, value, category)
         VALUES ($1, 'sla.priority.hours', '2', 'business'), ($1, 'sla.vip.hours', '\"soon\"', 'business')",
    )
    .bind(d.tenant)
    .execute(app.db.owner())
    .await?;
    // (level, hours ago, status, resolution minutes, closed after hours; window, breached, at risk)
    let cases = [
        ("STANDARD", 80.0, "open", None, None, 72, true, false),
        ("VIP", 3.5, "in_progress", None, None, 4, false, true),
        ("PRIORITY", 3.0, "open", None, None, 2, true, false),
        (
            "PRIORITY",
            0.5,
            "waiting_customer",
            None,
            None,
            2,
            false,
            false,
        ),
        (
            "STANDARD",
            100.0,
            "resolved",
            Some(80 * 60),
            None,
            72,
            true,
            false,
        ),
        ("VIP", 100.0, "resolved", Some(120), None, 4, false, false),
        ("STANDARD", 100.0, "closed", None, Some(1), 72, false, false),
    ];
    let mut expected = Vec::new();
    for (level, ago, status, took, closed_after, window, breached, at_risk) in cases {
        let t = open(
            app,
            &d.agent_token,
            json!({ "customerId": d.customer, "subject": "s",
            "description": "d", "category": "OTHER", "slaLevel": level }),
        )
        .await?;
        let id = id_of(&t);
        let created: DateTime<Utc> = sqlx::query_scalar(
            "UPDATE app.tickets SET created_at = now() - $2 * interval '1 hour', status = $3,
                    resolution_time = $4,
                    closed_at = now() - $2 * interval '1 hour' + $5 * interval '1 hour'
              WHERE id = $1 RETURNING created_at",
        )
        .bind(id)
        .bind(ago)
        .bind(status)
        .bind(took)
        .bind(closed_after)
        .fetch_one(app.db.owner())
        .await?;
        let due = created + chrono::Duration::hours(window);
        expected.push((id, due, breached, at_risk));
    }

    let body = d.agent().gql("{ tickets(first: 50, orderBy: [{ field: SLA_DUE_AT }]) { nodes { rowId slaDueAt slaBreached slaAtRisk } } }",
        json!({})).await?;
    let api: Vec<(Uuid, DateTime<Utc>, bool, bool)> = data(&body, "tickets")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            (
                id_of(n),
                instant(&n["slaDueAt"]),
                n["slaBreached"] == true,
                n["slaAtRisk"] == true,
            )
        })
        .collect();
    let sql: Vec<(Uuid, DateTime<Utc>, bool, bool)> = sqlx::query_as(SLA_SQL)
        .bind(d.tenant)
        .fetch_all(app.db.owner())
        .await?;
    assert_eq!(
        api, sql,
        "the API equals the direct computation, in due order"
    );
    expected.sort_by_key(|e| (e.1, e.0));
    assert_eq!(api, expected, "and the arranged cases");

    for (filter, pick) in [
        ("{ slaBreached: true }", 2),
        ("{ slaBreached: false }", 2 + 10),
        ("{ slaAtRisk: true }", 3),
    ] {
        let doc = format!("{{ tickets(first: 50, filter: {filter}, orderBy: [{{ field: SLA_DUE_AT, direction: DESC }}]) {{ totalCount nodes {{ rowId }} }} }}");
        let body = d.agent().gql(&doc, json!({})).await?;
        let got: Vec<Uuid> = data(&body, "tickets")["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(id_of)
            .collect();
        let want: Vec<Uuid> = expected
            .iter()
            .rev()
            .filter(|e| match pick {
                2 => e.2,
                3 => e.3,
                _ => !e.2,
            })
            .map(|e| e.0)
            .collect();
        assert_eq!(got, want, "{filter}");
        assert_eq!(data(&body, "tickets")["totalCount"], want.len());
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Read-ahead
// ------------------------------------------------------------------------------------------------

const NESTED_RELATED: &str = "{ tickets(first: 20) { nodes { rowId
  relatedTickets(first: 5) { totalCount nodes { rowId relatedTickets(first: 5) { nodes { rowId } } } } } } }";

/// Statements the nested query costs, counted by PostgreSQL (after a warm-up: sqlx looks up
/// unfamiliar types once per connection).
async fn statements(app: &TestApp, token: &str) -> anyhow::Result<i64> {
    app.gql(token, NESTED_RELATED, json!({})).await?;
    app.db.reset_statement_stats().await?;
    let body = app.gql(token, NESTED_RELATED, json!({})).await?;
    data(&body, "tickets");
    Ok(app.db.statements_executed().await?)
}

#[tokio::test]
async fn related_tickets_are_read_one_statement_per_level_however_many_parents(
) -> anyhow::Result<()> {
    let d = desk_on(spawn_app_on(TestDb::with_statement_stats().await?).await?).await?;
    let app = &d.app;
    let mut ids = Vec::new();
    let link = "mutation($a: ID!, $b: ID!) { linkTickets(id: $a, relatedId: $b) { rowId } }";
    for _ in 0..2 {
        ids.push(open_for(app, &d.agent_token, d.customer).await?);
    }
    data(
        &d.agent()
            .gql(link, json!({ "a": ids[0], "b": ids[1] }))
            .await?,
        "linkTickets",
    );
    let few = statements(app, &d.agent_token).await?;
    for i in 2..12 {
        ids.push(open_for(app, &d.agent_token, d.customer).await?);
        data(
            &d.agent()
                .gql(link, json!({ "a": ids[i], "b": ids[i - 1] }))
                .await?,
            "linkTickets",
        );
    }
    let many = statements(app, &d.agent_token).await?;
    assert_eq!(few, many, "statements do not grow with the parents");
    // BEGIN and the tenant context (one message), one compiled statement for tickets, related,
    // their count and related of related (through the resolvers: one per level and the count,
    // 7), and the ROLLBACK that ends the read-only transaction.
    assert_eq!(many, 4);
    d.app.db.drop_database().await?;
    Ok(())
}
