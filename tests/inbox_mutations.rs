//! The inbox's mutations over HTTP: what they store (checked with direct SQL), how they keep a
//! conversation's counters, status and response times, idempotent and race-safe webhooks,
//! forward-only delivery reports, per-agent read markers, SMS and calls mirrored into
//! conversations, and what they refuse (viewers, other tenants' ids, bad input) without
//! writing anything.

use chrono::Utc;
use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{error_code, spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// A tenant row of its own.
async fn tenant(app: &TestApp) -> anyhow::Result<Uuid> {
    app.new_tenant("Inbox test salon").await
}

/// A user who is a member of `tenant` with `role`, and a token acting as them.
async fn member(app: &TestApp, tenant: Uuid, role: Role) -> anyhow::Result<(Uuid, String)> {
    app.new_member(tenant, role).await
}

fn uuid_at(v: &Value, key: &str) -> Uuid {
    v[key]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// Row counts of every table an inbox write can touch.
async fn inbox_rows(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    for t in [
        "customers",
        "conversations",
        "messages",
        "conversation_notes",
        "conversation_reads",
        "inbox_events",
    ] {
        out.push(app.rows(t, tenant).await?);
    }
    Ok(out)
}

/// The conversation row as direct SQL sees it (a few columns, as text, by name).
async fn conversation(app: &TestApp, id: Uuid) -> anyhow::Result<Value> {
    let row = sqlx::query(
        "SELECT to_jsonb(c) - 'metadata' AS doc FROM app.conversations c WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.owner())
    .await?;
    Ok(row.get::<Value, _>("doc"))
}

/// A message row as direct SQL sees it.
async fn message_row(app: &TestApp, id: Uuid) -> anyhow::Result<Value> {
    let row = sqlx::query("SELECT to_jsonb(m) - 'search' AS doc FROM app.messages m WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.owner())
        .await?;
    Ok(row.get::<Value, _>("doc"))
}

/// `app.unread_count(conversation, user)` as the database computes it for `user` in `tenant`.
async fn unread(
    app: &TestApp,
    tenant: Uuid,
    user: Uuid,
    conversation: Uuid,
) -> anyhow::Result<i64> {
    let mut tx = app.db.owner().begin().await?;
    sqlx::query(
        "SELECT set_config('frontdesk.tenant_id', $1, true), set_config('frontdesk.user_id', $2, true)",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .execute(&mut *tx)
    .await?;
    let n: i64 = sqlx::query_scalar("SELECT app.unread_count($1, $2)")
        .bind(conversation)
        .bind(user)
        .fetch_one(&mut *tx)
        .await?;
    tx.rollback().await?;
    Ok(n)
}

/// The customers of `tenant` whose message and conversation counters differ from a count of
/// the facts.
async fn counter_mismatches(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT c.id::text FROM app.customers c
         WHERE c.tenant_id = $1
           AND (c.total_messages, c.total_conversations, c.last_message_at) IS DISTINCT FROM
               ((SELECT count(*) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id)::int,
                (SELECT count(*) FROM app.conversations v WHERE v.tenant_id = c.tenant_id AND v.customer_id = c.id)::int,
                (SELECT max(m.sent_at) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id))",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    Ok(rows)
}

/// Runs the same document with each of `variables` at the same time; returns the bodies.
async fn concurrently(
    app: &TestApp,
    token: &str,
    query: &'static str,
    variables: Vec<Value>,
) -> anyhow::Result<Vec<Value>> {
    let mut set = tokio::task::JoinSet::new();
    for vars in variables {
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = token.to_owned();
        set.spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": vars }))
                .send()
                .await?;
            anyhow::Ok(resp.json::<Value>().await?)
        });
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done??);
    }
    Ok(out)
}

const START: &str = "mutation($input: StartConversationInput!) {
  startConversation(input: $input) {
    id: rowId customerId channel type status priority category tags assignedAgentId assignedAt
    assignedById isAiEnabled messageCount
  } }";

const POST: &str = "mutation($input: PostMessageInput!) {
  postMessage(input: $input) {
    id: rowId conversationId customerId direction sender role agentId status content type
    providerMessageId replyToId tokensUsed cost
  } }";

const INBOUND: &str = "mutation($input: RecordInboundMessageInput!) {
  recordInboundMessage(input: $input) {
    id: rowId conversationId customerId direction sender role status content type sentAt
  } }";

const NOTE: &str = "mutation($input: AddConversationNoteInput!) {
  addConversationNote(input: $input) { id: rowId conversationId agentId content isVisible } }";

const STATUS: &str = "mutation($input: UpdateMessageStatusInput!) {
  updateMessageStatus(input: $input) {
    id: rowId status providerStatus providerError deliveredAt readAt
  } }";

const SET_STATUS: &str = "mutation($id: ID!, $status: ConversationStatus!, $notes: String) {
  setConversationStatus(id: $id, status: $status, resolutionNotes: $notes) {
    id: rowId status resolvedAt resolvedById resolutionNotes closedAt
  } }";

const REOPEN: &str = "mutation($id: ID!) {
  reopenConversation(id: $id) { id: rowId status resolvedAt closedAt } }";

const ASSIGN: &str = "mutation($id: ID!, $agent: ID!) {
  assignConversation(id: $id, agentId: $agent) { id: rowId status assignedAgentId assignedById assignedAt } }";

const UNASSIGN: &str = "mutation($id: ID!) {
  unassignConversation(id: $id) { id: rowId status assignedAgentId assignedAt } }";

const MARK_READ: &str = "mutation($id: ID!, $upTo: ID) {
  markConversationRead(id: $id, upTo: $upTo) { id: rowId } }";

const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { id: rowId } }";

const RECORD_SMS: &str = "mutation($input: RecordSmsInput!) {
  recordSms(input: $input) { id: rowId customerId status } }";

const RECORD_CALL: &str = "mutation($input: RecordCallInput!) {
  recordCall(input: $input) { id: rowId customerId } }";

const PHONE: &str = "+420777123456";

async fn create_customer(app: &TestApp, token: &str, phone: &str) -> anyhow::Result<Uuid> {
    let body = app
        .gql(
            token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Jana Nováková", "phone": phone } }),
        )
        .await?;
    Ok(id_of(data(&body, "createCustomer")))
}

/// Records an inbound WhatsApp message from `PHONE` and returns it.
async fn inbound(
    app: &TestApp,
    token: &str,
    provider_id: &str,
    text: &str,
) -> anyhow::Result<Value> {
    let body = app
        .gql(
            token,
            INBOUND,
            json!({ "input": { "providerMessageId": provider_id, "channel": "WHATSAPP",
                           "content": text, "from": { "phone": PHONE, "name": "Jana" } } }),
        )
        .await?;
    Ok(data(&body, "recordInboundMessage").clone())
}

async fn post(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app.gql(token, POST, json!({ "input": input })).await?;
    Ok(data(&body, "postMessage").clone())
}

async fn set_status(
    app: &TestApp,
    token: &str,
    id: Uuid,
    status: &str,
    notes: Option<&str>,
) -> anyhow::Result<Value> {
    app.gql(
        token,
        SET_STATUS,
        json!({ "id": id, "status": status, "notes": notes }),
    )
    .await
}

fn minutes(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number of minutes: {v}"))
}

// ------------------------------------------------------------------------------------------------
// startConversation
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn starting_a_conversation_finds_or_creates_the_customer_and_can_assign_an_agent(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Supervisor).await?;
    let (agent, _) = member(&app, tenant, Role::Agent).await?;

    let body = app.gql(&token,
        START,
        json!({ "input": {
            "customer": { "name": "Jana", "phone": "+420 777 123 456", "email": "Jana@Example.com" },
            "channel": "WHATSAPP", "title": " Order question ", "priority": "HIGH",
            "tags": ["vip", " vip "], "assignedAgentId": agent, "metadata": { "totalTokensUsed": 0 }
        } }),
    )
    .await?;
    let c = data(&body, "startConversation");
    assert_eq!(c["channel"], "WHATSAPP");
    assert_eq!(c["type"], "WHATSAPP", "the type defaults to the channel's");
    assert_eq!(c["status"], "ASSIGNED");
    assert_eq!(c["priority"], "HIGH");
    assert_eq!(c["category"], "SUPPORT");
    assert_eq!(c["tags"], json!(["vip"]));
    assert_eq!(uuid_at(c, "assignedAgentId"), agent);
    assert_eq!(uuid_at(c, "assignedById"), me);
    assert!(c["assignedAt"].is_string(), "{c}");
    assert_eq!(c["messageCount"], 0);
    let customer = uuid_at(c, "customerId");
    let phone: String = sqlx::query_scalar("SELECT phone FROM app.customers WHERE id = $1")
        .bind(customer)
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(phone, PHONE);

    // The same phone in another format is the same customer; a second start is a second
    // conversation (starting is explicit).
    let body = app
        .gql(
            &token,
            START,
            json!({ "input": { "customer": { "name": "Someone", "phone": "00420777123456" },
                           "channel": "PHONE" } }),
        )
        .await?;
    let c2 = data(&body, "startConversation");
    assert_eq!(uuid_at(c2, "customerId"), customer);
    assert_eq!(c2["type"], "VOICE");
    assert_eq!(c2["status"], "OPEN");
    assert!(c2["assignedById"].is_null());
    let body = app
        .gql(
            &token,
            START,
            json!({ "input": { "customerId": customer, "channel": "WEB", "type": "CHAT" } }),
        )
        .await?;
    assert_eq!(data(&body, "startConversation")["type"], "CHAT");
    assert_eq!(app.rows("customers", tenant).await?, 1);
    assert_eq!(app.rows("conversations", tenant).await?, 3);
    let total: i32 =
        sqlx::query_scalar("SELECT total_conversations FROM app.customers WHERE id = $1")
            .bind(customer)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(total, 3, "the customer's counters count the conversations");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// postMessage
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reply_resets_unread_puts_the_ball_in_the_customers_court_and_times_the_response(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Agent).await?;

    // The customer wrote half an hour ago (the webhook says when).
    let half_hour_ago = Utc::now() - chrono::Duration::minutes(30);
    let body = app
        .gql(
            &token,
            INBOUND,
            json!({ "input": { "providerMessageId": "wamid.1", "channel": "WHATSAPP",
                           "content": "Do you have time on Friday?", "sentAt": half_hour_ago,
                           "from": { "phone": PHONE } } }),
        )
        .await?;
    let first = data(&body, "recordInboundMessage").clone();
    let conv = uuid_at(&first, "conversationId");
    let c = conversation(&app, conv).await?;
    assert_eq!(c["status"], "open");
    assert_eq!(c["unread_count"], 1);

    let reply = post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "  Yes, at 10:00.  ", "replyToId": first["id"],
                "metadata": { "model": "none" } }),
    )
    .await?;
    assert_eq!(reply["direction"], "OUTBOUND");
    assert_eq!(reply["sender"], "AGENT");
    assert_eq!(reply["role"], "ASSISTANT");
    assert_eq!(uuid_at(&reply, "agentId"), me);
    assert_eq!(reply["status"], "PENDING");
    assert_eq!(reply["content"], "Yes, at 10:00.");
    assert_eq!(reply["type"], "TEXT");
    assert_eq!(reply["customerId"], first["customerId"]);
    assert_eq!(reply["replyToId"], first["id"]);

    let c = conversation(&app, conv).await?;
    assert_eq!(
        c["status"], "waiting",
        "the ball is in the customer's court"
    );
    assert_eq!(c["message_count"], 2);
    assert_eq!(c["unread_count"], 0);
    assert_eq!(c["last_message"]["from"], "agent");
    assert_eq!(c["last_message"]["content"], "Yes, at 10:00.");
    assert!(c["last_agent_response"].is_string());
    let frt = minutes(&c["first_response_time"]);
    assert!(
        (29.9..31.0).contains(&frt),
        "first response after ~30 min: {frt}"
    );
    let avg = minutes(&c["average_response_time"]);
    assert!((29.9..31.0).contains(&avg), "one turn so far: {avg}");

    // The next turn is answered at once by the AI: first_response_time stays, the average
    // becomes the mean of the two turns.
    inbound(&app, &token, "wamid.2", "Great, and the price?").await?;
    assert_eq!(conversation(&app, conv).await?["status"], "open");
    let ai = post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "It is 500 CZK.", "sender": "AI",
                "tokensUsed": 42, "cost": "0.0021" }),
    )
    .await?;
    assert_eq!(ai["sender"], "AI");
    assert_eq!(ai["role"], "ASSISTANT");
    assert!(ai["agentId"].is_null(), "the AI is not an agent: {ai}");
    assert_eq!(ai["tokensUsed"], 42);
    let c = conversation(&app, conv).await?;
    assert_eq!(minutes(&c["first_response_time"]), frt, "set once");
    let avg = minutes(&c["average_response_time"]);
    assert!(
        (14.9..15.6).contains(&avg),
        "mean of ~30 and ~0 minutes: {avg}"
    );
    assert_eq!(c["message_count"], 4);
    assert!(counter_mismatches(&app, tenant).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn posting_into_a_closed_conversation_is_a_conflict_naming_the_status() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(
        &inbound(&app, &token, "m1", "hello").await?,
        "conversationId",
    );
    let body = set_status(&app, &token, conv, "CLOSED", None).await?;
    assert_eq!(data(&body, "setConversationStatus")["status"], "CLOSED");
    let before = inbox_rows(&app, tenant).await?;
    let body = app
        .gql(
            &token,
            POST,
            json!({ "input": { "conversationId": conv, "content": "anyone?" } }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(message(&body).contains("CLOSED"), "{body}");
    assert!(body["data"].is_null());
    assert_eq!(inbox_rows(&app, tenant).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// recordInboundMessage
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_inbound_webhook_posted_twice_is_one_message_and_returns_it() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let first = inbound(&app, &token, "wamid.dup", "Hello").await?;
    assert_eq!(first["direction"], "INBOUND");
    assert_eq!(first["sender"], "CUSTOMER");
    assert_eq!(first["role"], "USER");
    assert_eq!(first["status"], "DELIVERED");
    let after_first = inbox_rows(&app, tenant).await?;
    let again = inbound(&app, &token, "wamid.dup", "Hello (retry with other text)").await?;
    assert_eq!(
        again, first,
        "the duplicate returns the first message unchanged"
    );
    assert_eq!(
        inbox_rows(&app, tenant).await?,
        after_first,
        "a duplicate writes nothing (not even an event)"
    );
    let c = conversation(&app, uuid_at(&first, "conversationId")).await?;
    assert_eq!(
        (c["message_count"].clone(), c["unread_count"].clone()),
        (json!(1), json!(1))
    );
    Ok(())
}

#[tokio::test]
async fn eight_concurrent_copies_of_one_inbound_webhook_make_one_message() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let vars = json!({ "input": { "providerMessageId": "wamid.burst", "channel": "WHATSAPP",
                                  "content": "Hi!", "from": { "phone": PHONE, "name": "Jana" } } });
    let bodies = concurrently(&app, &token, INBOUND, vec![vars; 8]).await?;
    let ids: Vec<Uuid> = bodies
        .iter()
        .map(|b| id_of(data(b, "recordInboundMessage")))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.rows("messages", tenant).await?, 1);
    assert_eq!(app.rows("conversations", tenant).await?, 1);
    assert_eq!(app.rows("customers", tenant).await?, 1);
    let c = conversation(
        &app,
        uuid_at(data(&bodies[0], "recordInboundMessage"), "conversationId"),
    )
    .await?;
    assert_eq!(
        (c["message_count"].clone(), c["unread_count"].clone()),
        (json!(1), json!(1))
    );
    assert!(counter_mismatches(&app, tenant).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn eight_concurrent_first_messages_from_a_new_number_open_one_conversation(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let vars: Vec<Value> = (0..8)
        .map(|i| {
            json!({ "input": { "providerMessageId": format!("wamid.first.{i}"), "channel": "WHATSAPP",
                               "content": format!("message {i}"), "from": { "phone": "+420 777 123 456" } } })
        })
        .collect();
    let bodies = concurrently(&app, &token, INBOUND, vars).await?;
    let convs: Vec<Uuid> = bodies
        .iter()
        .map(|b| uuid_at(data(b, "recordInboundMessage"), "conversationId"))
        .collect();
    assert!(convs.iter().all(|c| *c == convs[0]), "{convs:?}");
    assert_eq!(app.rows("conversations", tenant).await?, 1);
    assert_eq!(app.rows("customers", tenant).await?, 1);
    assert_eq!(app.rows("messages", tenant).await?, 8);
    let c = conversation(&app, convs[0]).await?;
    assert_eq!(c["message_count"], 8);
    assert_eq!(c["unread_count"], 8);
    assert_eq!(c["client_phone"], PHONE);
    assert!(counter_mismatches(&app, tenant).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn inbound_messages_reopen_waiting_and_resolved_conversations_but_never_a_closed_one(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Supervisor).await?;
    let (agent, _) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "m1", "hi").await?, "conversationId");
    post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "hello" }),
    )
    .await?;
    assert_eq!(conversation(&app, conv).await?["status"], "waiting");
    inbound(&app, &token, "m2", "one more thing").await?;
    assert_eq!(conversation(&app, conv).await?["status"], "open");

    // With an agent, the customer's message makes it the agent's again.
    app.gql(&token, ASSIGN, json!({ "id": conv, "agent": agent }))
        .await?;
    post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "sure" }),
    )
    .await?;
    assert_eq!(conversation(&app, conv).await?["status"], "waiting");
    inbound(&app, &token, "m3", "thanks").await?;
    assert_eq!(conversation(&app, conv).await?["status"], "assigned");
    let body = set_status(&app, &token, conv, "RESOLVED", Some("answered")).await?;
    assert!(data(&body, "setConversationStatus")["resolvedAt"].is_string());
    let m4 = inbound(&app, &token, "m4", "wait, one question").await?;
    assert_eq!(uuid_at(&m4, "conversationId"), conv);
    let c = conversation(&app, conv).await?;
    assert_eq!(c["status"], "assigned");
    assert!(c["resolved_at"].is_null(), "{c}");

    // Closed is final: the next contact opens a new conversation, and naming the closed one
    // explicitly is a conflict.
    set_status(&app, &token, conv, "CLOSED", None).await?;
    let m5 = inbound(&app, &token, "m5", "hello again").await?;
    let next = uuid_at(&m5, "conversationId");
    assert_ne!(next, conv);
    assert_eq!(uuid_at(&m5, "customerId"), uuid_at(&m4, "customerId"));
    let body = app
        .gql(
            &token,
            INBOUND,
            json!({ "input": { "providerMessageId": "m6", "channel": "WHATSAPP", "content": "x",
                           "conversationId": conv } }),
        )
        .await?;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(message(&body).contains("CLOSED"), "{body}");
    // Naming a conversation on another channel is bad input on the channel.
    let body = app
        .gql(
            &token,
            INBOUND,
            json!({ "input": { "providerMessageId": "m7", "channel": "SMS", "content": "x",
                           "conversationId": next } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.channel".into())
    );
    assert!(counter_mismatches(&app, tenant).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_unknown_e_mail_contact_keeps_one_conversation_without_becoming_a_customer(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let mut convs = Vec::new();
    for i in 0..2 {
        let body = app
            .gql(
                &token,
                INBOUND,
                json!({ "input": { "providerMessageId": format!("mail-{i}"), "channel": "EMAIL",
                               "content": "Hello", "from": { "email": "Visitor@Example.COM" } } }),
            )
            .await?;
        let m = data(&body, "recordInboundMessage");
        assert!(m["customerId"].is_null(), "{m}");
        convs.push(uuid_at(m, "conversationId"));
    }
    assert_eq!(convs[0], convs[1]);
    assert_eq!(app.rows("customers", tenant).await?, 0);
    let c = conversation(&app, convs[0]).await?;
    assert_eq!(c["client_email"], "Visitor@example.com");
    assert_eq!(c["type"], "email");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// updateMessageStatus
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn delivery_reports_only_ever_move_a_message_forward() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "in1", "hi").await?, "conversationId");
    let sent = post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "hello", "providerMessageId": "wamid.out1" }),
    )
    .await?;
    let id = id_of(&sent);
    let report = |status: &str, extra: Value| {
        let mut input = json!({ "providerMessageId": "wamid.out1", "status": status });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };

    let body = app
        .gql(&token, STATUS, report("DELIVERED", json!({})))
        .await?;
    let m = data(&body, "updateMessageStatus");
    assert_eq!(m["status"], "DELIVERED");
    assert_eq!(m["providerStatus"], "DELIVERED");
    assert!(m["deliveredAt"].is_string());
    let delivered = message_row(&app, id).await?;

    // Late and repeated reports change nothing and return the message as it is.
    for (status, label) in [
        ("SENT", "late sent"),
        ("DELIVERED", "repeat"),
        ("FAILED", "failed after delivered"),
    ] {
        let body = app.gql(&token, STATUS, report(status, json!({}))).await?;
        assert_eq!(
            data(&body, "updateMessageStatus")["status"],
            "DELIVERED",
            "{label}"
        );
        assert_eq!(
            message_row(&app, id).await?,
            delivered,
            "{label} wrote nothing"
        );
    }
    let body = app
        .gql(
            &token,
            STATUS,
            json!({ "input": { "messageId": id, "status": "READ", "at": "2030-01-01T10:00:00Z" } }),
        )
        .await?;
    let m = data(&body, "updateMessageStatus");
    assert_eq!(m["status"], "READ");
    assert!(
        m["readAt"]
            .as_str()
            .is_some_and(|t| t.starts_with("2030-01-01")),
        "{m}"
    );
    assert_eq!(
        message_row(&app, id).await?["delivered_at"],
        delivered["delivered_at"],
        "the delivery time is kept"
    );

    // Failed is final: a read report after it leaves it failed.
    let other = post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "are you there?", "providerMessageId": "wamid.out2" }),
    )
    .await?;
    let body = app
        .gql(
            &token,
            STATUS,
            json!({ "input": { "messageId": other["id"], "status": "SENT" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateMessageStatus")["status"], "SENT");
    let body = app.gql(&token,
        STATUS,
        json!({ "input": { "messageId": other["id"], "status": "FAILED", "error": "131026 undeliverable" } }),
    )
    .await?;
    let m = data(&body, "updateMessageStatus");
    assert_eq!(m["status"], "FAILED");
    assert_eq!(m["providerError"], "131026 undeliverable");
    let body = app
        .gql(
            &token,
            STATUS,
            json!({ "input": { "messageId": other["id"], "status": "READ" } }),
        )
        .await?;
    let m = data(&body, "updateMessageStatus");
    assert_eq!(m["status"], "FAILED");
    assert!(m["readAt"].is_null());

    // Unknown messages are not found, on the field that named them.
    let body = app
        .gql(
            &token,
            STATUS,
            json!({ "input": { "providerMessageId": "nope", "status": "READ" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".into(), "input.providerMessageId".into())
    );
    let body = app
        .gql(
            &token,
            STATUS,
            json!({ "input": { "messageId": Uuid::new_v4(), "status": "READ" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".into(), "input.messageId".into())
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_delivery_reports_settle_on_the_furthest_status() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "in1", "hi").await?, "conversationId");
    let sent = post(
        &app,
        &token,
        json!({ "conversationId": conv, "content": "hello" }),
    )
    .await?;
    let vars: Vec<Value> = [
        "SENT",
        "DELIVERED",
        "READ",
        "SENT",
        "DELIVERED",
        "READ",
        "SENT",
        "DELIVERED",
    ]
    .iter()
    .map(|s| json!({ "input": { "messageId": sent["id"], "status": s } }))
    .collect();
    for b in concurrently(&app, &token, STATUS, vars).await? {
        assert!(b["errors"].is_null(), "{b}");
    }
    let m = message_row(&app, id_of(&sent)).await?;
    assert_eq!(m["status"], "read");
    assert!(
        m["read_at"].is_string() && m["delivered_at"].is_string(),
        "{m}"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Status moves and assignment
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_moves_set_and_clear_their_timestamps_and_refuse_what_the_status_does_not_allow(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "m1", "hi").await?, "conversationId");

    // ASSIGNED needs an agent.
    let body = set_status(&app, &token, conv, "ASSIGNED", None).await?;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(message(&body).contains("assignConversation"), "{body}");

    let body = set_status(&app, &token, conv, "WAITING", None).await?;
    assert_eq!(data(&body, "setConversationStatus")["status"], "WAITING");
    let body = set_status(&app, &token, conv, "RESOLVED", Some("  Booked for Friday ")).await?;
    let c = data(&body, "setConversationStatus");
    assert_eq!(c["status"], "RESOLVED");
    assert!(c["resolvedAt"].is_string());
    assert_eq!(uuid_at(c, "resolvedById"), me);
    assert_eq!(c["resolutionNotes"], "Booked for Friday");
    assert!(c["closedAt"].is_null());
    let row = conversation(&app, conv).await?;
    assert_eq!(row["resolved"], true);

    // Resolving twice, or opening a resolved conversation directly, names the current status.
    for target in ["RESOLVED", "OPEN", "WAITING"] {
        let body = set_status(&app, &token, conv, target, None).await?;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{target}: {body}");
        assert!(message(&body).contains("RESOLVED"), "{body}");
    }
    assert_eq!(
        conversation(&app, conv).await?,
        row,
        "refused moves change nothing"
    );

    // Closing keeps the resolution and stamps the closing time.
    let body = set_status(&app, &token, conv, "CLOSED", None).await?;
    let c = data(&body, "setConversationStatus");
    assert_eq!(c["status"], "CLOSED");
    assert!(c["closedAt"].is_string());
    assert_eq!(
        conversation(&app, conv).await?["resolved_at"],
        row["resolved_at"],
        "the resolution time is kept"
    );
    assert_eq!(c["resolutionNotes"], "Booked for Friday");
    let body = set_status(&app, &token, conv, "CLOSED", None).await?;
    assert!(message(&body).contains("CLOSED"), "{body}");

    // Reopening clears both times.
    let body = app.gql(&token, REOPEN, json!({ "id": conv })).await?;
    let c = data(&body, "reopenConversation");
    assert_eq!(c["status"], "OPEN");
    assert!(c["resolvedAt"].is_null() && c["closedAt"].is_null(), "{c}");
    let body = app.gql(&token, REOPEN, json!({ "id": conv })).await?;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert!(message(&body).contains("OPEN"), "{body}");

    // Closing straight from open also records a resolution time and who closed it.
    let body = set_status(&app, &token, conv, "CLOSED", Some("spam")).await?;
    let c = data(&body, "setConversationStatus");
    assert!(
        c["resolvedAt"].is_string() && c["closedAt"].is_string(),
        "{c}"
    );
    assert_eq!(uuid_at(c, "resolvedById"), me);
    assert_eq!(c["resolutionNotes"], "spam");

    // Notes belong to a resolution only.
    let body = app.gql(&token, REOPEN, json!({ "id": conv })).await?;
    assert!(body["errors"].is_null());
    let body = set_status(&app, &token, conv, "WAITING", Some("why")).await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "resolutionNotes".into())
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_resolves_of_one_conversation_let_exactly_one_through() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "m1", "hi").await?, "conversationId");
    let vars = vec![json!({ "id": conv, "status": "RESOLVED" }); 8];
    let bodies = concurrently(&app, &token, SET_STATUS, vars).await?;
    let ok = bodies.iter().filter(|b| b["errors"].is_null()).count();
    let conflicts = bodies
        .iter()
        .filter(|b| error_code(b) == Some("CONFLICT"))
        .count();
    assert_eq!((ok, conflicts), (1, 7), "{bodies:?}");
    Ok(())
}

#[tokio::test]
async fn assignment_takes_an_active_member_of_the_tenant_and_unassigning_opens_it_again(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let other_tenant = self::tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Supervisor).await?;
    let (agent, _) = member(&app, tenant, Role::Agent).await?;
    let (viewer, _) = member(&app, tenant, Role::Viewer).await?;
    let (outsider, _) = member(&app, other_tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "m1", "hi").await?, "conversationId");
    let before = conversation(&app, conv).await?;

    for who in [outsider, Uuid::new_v4()] {
        let body = app
            .gql(&token, ASSIGN, json!({ "id": conv, "agent": who }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), "agentId".into()),
            "{body}"
        );
    }
    let body = app
        .gql(&token, ASSIGN, json!({ "id": conv, "agent": viewer }))
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "agentId".into()),
        "{body}"
    );
    assert_eq!(conversation(&app, conv).await?, before);

    let body = app
        .gql(&token, ASSIGN, json!({ "id": conv, "agent": agent }))
        .await?;
    let c = data(&body, "assignConversation");
    assert_eq!(c["status"], "ASSIGNED");
    assert_eq!(uuid_at(c, "assignedAgentId"), agent);
    assert_eq!(uuid_at(c, "assignedById"), me);
    let assigned_at = c["assignedAt"].clone();
    // Assigning to the same agent again keeps the original time.
    let body = app
        .gql(&token, ASSIGN, json!({ "id": conv, "agent": agent }))
        .await?;
    assert_eq!(data(&body, "assignConversation")["assignedAt"], assigned_at);

    let body = app.gql(&token, UNASSIGN, json!({ "id": conv })).await?;
    let c = data(&body, "unassignConversation");
    assert_eq!(c["status"], "OPEN");
    assert!(
        c["assignedAgentId"].is_null() && c["assignedAt"].is_null(),
        "{c}"
    );
    let row = conversation(&app, conv).await?;
    assert!(row["assigned_by"].is_null());

    // Reopening a resolved conversation that has an agent makes it the agent's.
    app.gql(&token, ASSIGN, json!({ "id": conv, "agent": agent }))
        .await?;
    set_status(&app, &token, conv, "RESOLVED", None).await?;
    let body = app.gql(&token, REOPEN, json!({ "id": conv })).await?;
    assert_eq!(data(&body, "reopenConversation")["status"], "ASSIGNED");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Notes and read markers
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_internal_note_is_recorded_with_the_caller_as_its_author() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(&inbound(&app, &token, "m1", "hi").await?, "conversationId");
    let body = app
        .gql(
            &token,
            NOTE,
            json!({ "input": { "conversationId": conv, "content": " Prefers calls after 5 pm " } }),
        )
        .await?;
    let n = data(&body, "addConversationNote");
    assert_eq!(uuid_at(n, "conversationId"), conv);
    assert_eq!(uuid_at(n, "agentId"), me);
    assert_eq!(n["content"], "Prefers calls after 5 pm");
    assert_eq!(n["isVisible"], false);
    let body = app
        .gql(
            &token,
            NOTE,
            json!({ "input": { "conversationId": conv, "content": "Thanks!", "isVisible": true } }),
        )
        .await?;
    assert_eq!(data(&body, "addConversationNote")["isVisible"], true);
    assert_eq!(app.rows("conversation_notes", tenant).await?, 2);
    Ok(())
}

#[tokio::test]
async fn marking_read_zeroes_the_callers_unread_count_until_the_next_inbound_message(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (me, token) = member(&app, tenant, Role::Agent).await?;
    let (colleague, _) = member(&app, tenant, Role::Agent).await?;
    let (viewer, viewer_token) = member(&app, tenant, Role::Viewer).await?;
    let first = inbound(&app, &token, "m1", "hi").await?;
    let conv = uuid_at(&first, "conversationId");
    inbound(&app, &token, "m2", "anyone?").await?;
    assert_eq!(unread(&app, tenant, me, conv).await?, 2);

    let body = app.gql(&token, MARK_READ, json!({ "id": conv })).await?;
    assert_eq!(id_of(data(&body, "markConversationRead")), conv);
    assert_eq!(unread(&app, tenant, me, conv).await?, 0);
    assert_eq!(unread(&app, tenant, colleague, conv).await?, 2, "per agent");
    let marker = sqlx::query(
        "SELECT last_read_seq, last_read_message_id FROM app.conversation_reads WHERE user_id = $1",
    )
    .bind(me)
    .fetch_one(app.db.owner())
    .await?;
    let seq: Option<i64> = marker.get(0);
    assert!(
        seq.is_some_and(|s| s > 0),
        "the marker is a commit-order position"
    );

    let third = inbound(&app, &token, "m3", "hello??").await?;
    assert_eq!(unread(&app, tenant, me, conv).await?, 1);

    // Marking up to an older message never moves the marker back.
    let body = app
        .gql(
            &token,
            MARK_READ,
            json!({ "id": conv, "upTo": first["id"] }),
        )
        .await?;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(unread(&app, tenant, me, conv).await?, 1);
    let marker_after: (Option<i64>, Option<Uuid>) = sqlx::query_as(
        "SELECT last_read_seq, last_read_message_id FROM app.conversation_reads WHERE user_id = $1",
    )
    .bind(me)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(marker_after.0, seq);
    // Up to the newest message: read.
    app.gql(
        &token,
        MARK_READ,
        json!({ "id": conv, "upTo": third["id"] }),
    )
    .await?;
    assert_eq!(unread(&app, tenant, me, conv).await?, 0);
    let last: Option<Uuid> = sqlx::query_scalar(
        "SELECT last_read_message_id FROM app.conversation_reads WHERE user_id = $1",
    )
    .bind(me)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(last, Some(id_of(&third)));

    // A viewer keeps their own marker too; a message of another conversation is not found.
    let body = app
        .gql(&viewer_token, MARK_READ, json!({ "id": conv }))
        .await?;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(unread(&app, tenant, viewer, conv).await?, 0);
    let body = app
        .gql(
            &token,
            MARK_READ,
            json!({ "id": conv, "upTo": Uuid::new_v4() }),
        )
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "upTo".into()));

    // A token whose user is not a member has no marker to move: it acts for nobody.
    let stranger = app.keys.mint(&frontdesk_e2e::Principal {
        user_id: Uuid::new_v4(),
        tenant_id: tenant,
        role: Role::Agent,
    });
    let before = inbox_rows(&app, tenant).await?;
    let body = app.gql(&stranger, MARK_READ, json!({ "id": conv })).await?;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert_eq!(inbox_rows(&app, tenant).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// SMS and calls in conversations
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn recorded_sms_and_calls_appear_once_in_the_customers_sms_and_phone_conversations(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, PHONE).await?;

    let sms = |id: &str, body: &str, extra: Value| {
        let mut input =
            json!({ "providerMessageId": id, "phoneNumber": PHONE, "messageBody": body });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };
    let body = app
        .gql(
            &token,
            RECORD_SMS,
            sms(
                "SM1",
                "Your booking is confirmed",
                json!({ "status": "SENT" }),
            ),
        )
        .await?;
    let sms1 = id_of(data(&body, "recordSms"));
    // The carrier's delivery callback posts the same SMS again.
    let body = app
        .gql(
            &token,
            RECORD_SMS,
            sms(
                "SM1",
                "Your booking is confirmed",
                json!({ "status": "DELIVERED" }),
            ),
        )
        .await?;
    assert_eq!(id_of(data(&body, "recordSms")), sms1);
    let m: (Uuid, Uuid, String, String, String, String) = sqlx::query_as(
        "SELECT m.id, m.conversation_id, m.direction, m.sender, m.status, m.content
         FROM app.messages m WHERE m.sms_message_id = $1",
    )
    .bind(sms1)
    .fetch_one(app.db.owner())
    .await?;
    let sms_conv = m.1;
    assert_eq!(
        (m.2.as_str(), m.3.as_str(), m.4.as_str(), m.5.as_str()),
        (
            "outbound",
            "system",
            "delivered",
            "Your booking is confirmed"
        )
    );
    let linked: Option<Uuid> =
        sqlx::query_scalar("SELECT conversation_id FROM app.sms_messages WHERE id = $1")
            .bind(sms1)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(linked, Some(sms_conv));
    let c = conversation(&app, sms_conv).await?;
    assert_eq!(c["channel"], "sms");
    assert_eq!(c["customer_id"], json!(customer));
    assert_eq!(
        (c["message_count"].clone(), c["unread_count"].clone()),
        (json!(1), json!(0))
    );

    // The customer's answer goes into the same conversation, unread.
    let body = app
        .gql(
            &token,
            RECORD_SMS,
            sms(
                "SM2",
                "Thanks, see you",
                json!({ "direction": "INBOUND", "status": "RECEIVED" }),
            ),
        )
        .await?;
    let sms2 = id_of(data(&body, "recordSms"));
    let conv2: Uuid =
        sqlx::query_scalar("SELECT conversation_id FROM app.messages WHERE sms_message_id = $1")
            .bind(sms2)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(conv2, sms_conv);
    let c = conversation(&app, sms_conv).await?;
    assert_eq!(
        (c["message_count"].clone(), c["unread_count"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(c["last_message"]["from"], "customer");

    // A webhook message on the sms channel joins the same conversation.
    let body = app.gql(&token,
        INBOUND,
        json!({ "input": { "providerMessageId": "SM3", "channel": "SMS", "content": "Running late",
                           "customerId": customer } }),
    )
    .await?;
    assert_eq!(
        uuid_at(data(&body, "recordInboundMessage"), "conversationId"),
        sms_conv
    );

    // A call, recorded twice as the platform reports it, is one message of the phone conversation.
    let call = json!({ "input": { "provider": "vapi", "providerCallId": "call-1", "phoneNumber": PHONE,
                                  "callType": "INBOUND", "status": "IN_PROGRESS" } });
    let body = app.gql(&token, RECORD_CALL, call).await?;
    let call_id = id_of(data(&body, "recordCall"));
    let call = json!({ "input": { "provider": "vapi", "providerCallId": "call-1", "phoneNumber": PHONE,
                                  "status": "ENDED", "duration": 192, "summary": "Booked a haircut for Friday.",
                                  "recordingUrl": "https://recordings.example.com/call-1.mp3" } });
    app.gql(&token, RECORD_CALL, call).await?;
    let messages: Vec<(Uuid, String, String, Value)> = sqlx::query_as(
        "SELECT conversation_id, content, type, attachments FROM app.messages WHERE call_id = $1",
    )
    .bind(call_id)
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(messages.len(), 1, "one message per call");
    let (phone_conv, content, kind, attachments) = messages[0].clone();
    assert_ne!(phone_conv, sms_conv);
    assert_eq!(
        content,
        "Inbound call, 3 min 12 s (ended)\n\nBooked a haircut for Friday."
    );
    assert_eq!(kind, "audio");
    assert_eq!(
        attachments[0]["url"],
        "https://recordings.example.com/call-1.mp3"
    );
    let c = conversation(&app, phone_conv).await?;
    assert_eq!(c["channel"], "phone");
    assert_eq!(c["type"], "voice");
    assert_eq!(c["message_count"], 1);
    assert_eq!(
        c["last_message"]["content"],
        "Inbound call, 3 min 12 s (ended)\n\nBooked a haircut for Friday."
    );
    let linked: Option<Uuid> =
        sqlx::query_scalar("SELECT conversation_id FROM app.calls WHERE id = $1")
            .bind(call_id)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(linked, Some(phone_conv));

    // Unknown numbers do not open conversations.
    let before = app.rows("conversations", tenant).await?;
    app.gql(&token, RECORD_SMS, json!({ "input": { "providerMessageId": "SM9", "phoneNumber": "+420602000111", "messageBody": "hi" } })).await?;
    assert_eq!(app.rows("conversations", tenant).await?, before);
    assert!(counter_mismatches(&app, tenant).await?.is_empty());
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Refusals
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_viewer_may_not_write_to_the_inbox_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let (agent, _) = member(&app, tenant, Role::Agent).await?;
    let (_, viewer) = member(&app, tenant, Role::Viewer).await?;
    let m = inbound(&app, &token, "m1", "hi").await?;
    let conv = uuid_at(&m, "conversationId");
    let before = inbox_rows(&app, tenant).await?;
    let row = conversation(&app, conv).await?;
    let attempts = [
        (
            START,
            json!({ "input": { "customerId": m["customerId"], "channel": "WEB" } }),
        ),
        (
            POST,
            json!({ "input": { "conversationId": conv, "content": "x" } }),
        ),
        (
            INBOUND,
            json!({ "input": { "providerMessageId": "m2", "channel": "WHATSAPP", "content": "x", "conversationId": conv } }),
        ),
        (
            NOTE,
            json!({ "input": { "conversationId": conv, "content": "x" } }),
        ),
        (ASSIGN, json!({ "id": conv, "agent": agent })),
        (UNASSIGN, json!({ "id": conv })),
        (SET_STATUS, json!({ "id": conv, "status": "CLOSED" })),
        (REOPEN, json!({ "id": conv })),
        (
            STATUS,
            json!({ "input": { "messageId": m["id"], "status": "READ" } }),
        ),
    ];
    for (query, vars) in attempts {
        let body = app.gql(&viewer, query, vars).await?;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(inbox_rows(&app, tenant).await?, before);
    assert_eq!(conversation(&app, conv).await?, row);
    Ok(())
}

#[tokio::test]
async fn another_tenants_conversation_is_not_found_like_a_random_one_and_stays_unchanged(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = tenant(&app).await?;
    let b = tenant(&app).await?;
    let (agent_a, token_a) = member(&app, a, Role::Owner).await?;
    let (_, token_b) = member(&app, b, Role::Owner).await?;
    let theirs = inbound(&app, &token_b, "b-1", "private").await?;
    let their_conv = uuid_at(&theirs, "conversationId");
    // A has a conversation of its own, for the inputs that need one.
    let ours = uuid_at(
        &inbound(&app, &token_a, "a-1", "hi").await?,
        "conversationId",
    );
    let before_b = (
        conversation(&app, their_conv).await?,
        message_row(&app, id_of(&theirs)).await?,
    );
    let before_a = inbox_rows(&app, a).await?;
    let before_b_rows = inbox_rows(&app, b).await?;

    // (document, field the error names, variables with FOREIGN where the foreign id goes)
    let attempts: Vec<(&str, &str, Value)> = vec![
        (
            POST,
            "input.conversationId",
            json!({ "input": { "conversationId": "FOREIGN", "content": "x" } }),
        ),
        (
            NOTE,
            "input.conversationId",
            json!({ "input": { "conversationId": "FOREIGN", "content": "x" } }),
        ),
        (
            INBOUND,
            "input.conversationId",
            json!({ "input": { "providerMessageId": "a-2", "channel": "WHATSAPP", "content": "x", "conversationId": "FOREIGN" } }),
        ),
        (ASSIGN, "id", json!({ "id": "FOREIGN", "agent": agent_a })),
        (UNASSIGN, "id", json!({ "id": "FOREIGN" })),
        (
            SET_STATUS,
            "id",
            json!({ "id": "FOREIGN", "status": "CLOSED" }),
        ),
        (REOPEN, "id", json!({ "id": "FOREIGN" })),
        (MARK_READ, "id", json!({ "id": "FOREIGN" })),
        (
            START,
            "input.customerId",
            json!({ "input": { "customerId": "FOREIGN_CUSTOMER", "channel": "WEB" } }),
        ),
        (
            STATUS,
            "input.messageId",
            json!({ "input": { "messageId": "FOREIGN_MESSAGE", "status": "READ" } }),
        ),
        (
            POST,
            "input.replyToId",
            json!({ "input": { "conversationId": ours, "content": "x", "replyToId": "FOREIGN_MESSAGE" } }),
        ),
        (
            MARK_READ,
            "upTo",
            json!({ "id": ours, "upTo": "FOREIGN_MESSAGE" }),
        ),
    ];
    for (query, field, template) in attempts {
        let mut answers = Vec::new();
        let foreign = [
            ("\"FOREIGN\"", their_conv),
            ("\"FOREIGN_CUSTOMER\"", uuid_at(&theirs, "customerId")),
            ("\"FOREIGN_MESSAGE\"", id_of(&theirs)),
        ];
        for random in [false, true] {
            let mut text = template.to_string();
            for (placeholder, id) in foreign {
                let id = if random { Uuid::new_v4() } else { id };
                text = text.replace(placeholder, &format!("\"{id}\""));
            }
            let body = app
                .gql(&token_a, query, serde_json::from_str(&text)?)
                .await?;
            assert_eq!(
                refusal(&body),
                ("NOT_FOUND".into(), field.into()),
                "{query}: {body}"
            );
            answers.push((message(&body), body["data"].clone()));
        }
        assert_eq!(
            answers[0], answers[1],
            "a foreign id: rowId answers like a random one: {query}"
        );
    }
    assert_eq!(
        (
            conversation(&app, their_conv).await?,
            message_row(&app, id_of(&theirs)).await?
        ),
        before_b,
        "B's conversation and message are untouched"
    );
    assert_eq!(inbox_rows(&app, b).await?, before_b_rows);
    let after_a = inbox_rows(&app, a).await?;
    assert_eq!(after_a, before_a, "nothing written in A");
    Ok(())
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let m = inbound(&app, &token, "m1", "hi").await?;
    let conv = uuid_at(&m, "conversationId");
    let customer = uuid_at(&m, "customerId");
    let before = inbox_rows(&app, tenant).await?;
    let row = conversation(&app, conv).await?;
    let post = |extra: Value| {
        let mut input = json!({ "conversationId": conv, "content": "hello" });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };
    let inbound_with = |extra: Value| {
        let mut input = json!({ "providerMessageId": "new-1", "channel": "WHATSAPP", "content": "hello",
                                "from": { "phone": "+420602000111" } });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (POST, post(json!({ "content": "   " })), "input.content"),
        (
            POST,
            post(json!({ "content": "x".repeat(50_001) })),
            "input.content",
        ),
        (
            POST,
            post(json!({ "content": "bad \u{0007} bell" })),
            "input.content",
        ),
        (
            POST,
            post(json!({ "attachments": [{ "type": "IMAGE", "url": "not a url" }] })),
            "input.attachments[0].url",
        ),
        (
            POST,
            post(json!({ "attachments": [{ "type": "TEXT", "url": "https://x.example/a" }] })),
            "input.attachments[0].type",
        ),
        (
            POST,
            post(json!({ "location": { "latitude": 91, "longitude": 0 } })),
            "input.location.latitude",
        ),
        (
            POST,
            post(json!({ "interactive": { "type": "carousel" } })),
            "input.interactive.type",
        ),
        (
            POST,
            post(json!({ "template": { "name": " " } })),
            "input.template.name",
        ),
        (
            POST,
            post(json!({ "metadata": { "feedbackRating": "meh" } })),
            "input.metadata.feedbackRating",
        ),
        (POST, post(json!({ "metadata": [1, 2] })), "input.metadata"),
        (POST, post(json!({ "tokensUsed": -1 })), "input.tokensUsed"),
        (POST, post(json!({ "cost": "0.00001" })), "input.cost"),
        (
            POST,
            post(json!({ "providerMessageId": "has space" })),
            "input.providerMessageId",
        ),
        (
            INBOUND,
            inbound_with(json!({ "from": { "phone": "777 123 456" } })),
            "input.from.phone",
        ),
        (
            INBOUND,
            inbound_with(json!({ "from": { "email": "not-an-email" } })),
            "input.from.email",
        ),
        (
            INBOUND,
            inbound_with(json!({ "from": { "name": "Only a name" } })),
            "input.from",
        ),
        (
            INBOUND,
            inbound_with(json!({ "providerMessageId": "" })),
            "input.providerMessageId",
        ),
        (
            INBOUND,
            inbound_with(json!({ "conversationId": conv, "customerId": Uuid::new_v4() })),
            "input.customerId",
        ),
        (
            START,
            json!({ "input": { "channel": "WEB" } }),
            "input.customerId",
        ),
        (
            START,
            json!({ "input": { "channel": "WEB", "customerId": customer, "customer": { "name": "A", "phone": PHONE } } }),
            "input.customer",
        ),
        (
            START,
            json!({ "input": { "channel": "WEB", "customer": { "name": "A", "phone": "12" } } }),
            "input.customer.phone",
        ),
        (
            START,
            json!({ "input": { "channel": "WEB", "customerId": customer, "tags": ["ok", " "] } }),
            "input.tags[1]",
        ),
        (
            START,
            json!({ "input": { "channel": "WEB", "customerId": customer, "metadata": { "platformsQueried": "all" } } }),
            "input.metadata.platformsQueried",
        ),
        (
            NOTE,
            json!({ "input": { "conversationId": conv, "content": "" } }),
            "input.content",
        ),
        (
            STATUS,
            json!({ "input": { "messageId": m["id"], "status": "PENDING" } }),
            "input.status",
        ),
        (
            STATUS,
            json!({ "input": { "messageId": m["id"], "status": "DELIVERED", "error": "boom" } }),
            "input.error",
        ),
        (
            STATUS,
            json!({ "input": { "status": "READ" } }),
            "input.messageId",
        ),
        (
            STATUS,
            json!({ "input": { "messageId": m["id"], "providerMessageId": "m1", "status": "READ" } }),
            "input.providerMessageId",
        ),
        (
            SET_STATUS,
            json!({ "id": conv, "status": "RESOLVED", "notes": "x".repeat(10_001) }),
            "resolutionNotes",
        ),
    ];
    for (query, vars, field) in cases {
        let body = app.gql(&token, query, vars.clone()).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{field} in {vars}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(inbox_rows(&app, tenant).await?, before);
    assert_eq!(conversation(&app, conv).await?, row);
    Ok(())
}

#[tokio::test]
async fn a_reply_with_a_provider_id_another_message_has_is_a_conflict_on_that_field(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let (_, token) = member(&app, tenant, Role::Agent).await?;
    let conv = uuid_at(
        &inbound(&app, &token, "wamid.x", "hi").await?,
        "conversationId",
    );
    let before = inbox_rows(&app, tenant).await?;
    let body = app.gql(&token,
        POST,
        json!({ "input": { "conversationId": conv, "content": "hello", "providerMessageId": "wamid.x" } }),
    )
    .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.providerMessageId".into())
    );
    assert_eq!(inbox_rows(&app, tenant).await?, before);
    Ok(())
}
