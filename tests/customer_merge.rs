//! `mergeCustomers` over HTTP: every kind of row that names the duplicate moves to the kept
//! customer, whose counters then equal a direct SQL recomputation; the customer fields
//! combine as documented; the open-conversation clash rule (the kept customer's conversation
//! stays open, the duplicate's on the same channel is closed) and the `conversation_updated`
//! events it emits; refusals (same id, other tenants' ids, roles) and atomicity (a merge that
//! fails after moving rows, or a later field of the same request that fails, leaves every
//! row exactly as it was).

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, id_of, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

const MERGE: &str = "mutation($keep: ID!, $merge: ID!) {
  mergeCustomers(keepId: $keep, mergeId: $merge) {
    mergedId
    moved { bookings calls smsMessages conversations closedConversations messages tickets leads }
    customer { rowId name phone email tags customFields alternativePhones notes firstName
               totalBookings totalCalls totalConversations totalMessages totalTickets
               bookings { totalCount } tickets { totalCount } leads { totalCount } } } }";

/// The tables whose rows name a customer, as the merge moves them.
const CHILDREN: [&str; 8] = [
    "bookings",
    "calls",
    "sms_messages",
    "conversations",
    "messages",
    "conversation_threads",
    "tickets",
    "leads",
];

async fn gql_ok(
    app: &TestApp,
    token: &str,
    doc: &str,
    vars: Value,
    field: &str,
) -> anyhow::Result<Value> {
    let body = app.gql(token, doc, vars).await?;
    Ok(data(&body, field).clone())
}

async fn customer(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Uuid> {
    let created = gql_ok(
        app,
        token,
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { rowId } }",
        json!({ "input": input }),
        "createCustomer",
    )
    .await?;
    Ok(id_of(&created))
}

async fn conversation(
    app: &TestApp,
    token: &str,
    customer: Uuid,
    channel: &str,
) -> anyhow::Result<Uuid> {
    let started = gql_ok(
        app,
        token,
        "mutation($input: StartConversationInput!) { startConversation(input: $input) { rowId } }",
        json!({ "input": { "customerId": customer, "channel": channel } }),
        "startConversation",
    )
    .await?;
    Ok(id_of(&started))
}

/// An inbound chat message of `customer` on `channel`; returns the conversation it landed in.
async fn inbound(
    app: &TestApp,
    token: &str,
    customer: Uuid,
    channel: &str,
    key: &str,
) -> anyhow::Result<Uuid> {
    let message = gql_ok(
        app,
        token,
        "mutation($input: RecordInboundMessageInput!) {
           recordInboundMessage(input: $input) { conversationId } }",
        json!({ "input": { "providerMessageId": key, "channel": channel, "content": "Hello",
                           "customerId": customer } }),
        "recordInboundMessage",
    )
    .await?;
    Ok(message["conversationId"]
        .as_str()
        .unwrap_or_default()
        .parse()?)
}

/// Gives `customer` one row of every kind: bookings, a call and an SMS (each mirrored into a
/// conversation), a WhatsApp conversation with a message, a lead (API), a ticket and a
/// conversation thread (direct SQL: the API does not write those yet).
async fn facts(
    app: &TestApp,
    token: &str,
    tenant: Uuid,
    customer: Uuid,
    tag: &str,
) -> anyhow::Result<()> {
    for (day, paid) in [("2026-03-01", "PAID"), ("2026-03-02", "PENDING")] {
        gql_ok(
            app,
            token,
            "mutation($input: CreateBookingInput!) { createBooking(input: $input) { rowId } }",
            json!({ "input": { "customerId": customer, "serviceType": "Cleaning",
                               "appointmentDate": day, "appointmentTime": "10:00",
                               "paymentAmount": "40.50", "paymentStatus": paid } }),
            "createBooking",
        )
        .await?;
    }
    gql_ok(
        app,
        token,
        "mutation($input: RecordCallInput!) { recordCall(input: $input) { rowId } }",
        json!({ "input": { "provider": "vapi", "providerCallId": format!("call-{tag}"),
                           "phoneNumber": "+420 777 000 111", "customerId": customer,
                           "duration": 75, "status": "COMPLETED" } }),
        "recordCall",
    )
    .await?;
    gql_ok(
        app,
        token,
        "mutation($input: RecordSmsInput!) { recordSms(input: $input) { rowId } }",
        json!({ "input": { "providerMessageId": format!("sms-{tag}"), "phoneNumber": "+420 777 000 111",
                           "messageBody": "See you at 10", "customerId": customer } }),
        "recordSms",
    )
    .await?;
    let chat = conversation(app, token, customer, "WHATSAPP").await?;
    inbound(app, token, customer, "WHATSAPP", &format!("wamid-{tag}")).await?;
    gql_ok(
        app,
        token,
        "mutation($input: CreateLeadInput!) { createLead(input: $input) { rowId } }",
        json!({ "input": { "name": format!("Lead {tag}"), "customerId": customer } }),
        "createLead",
    )
    .await?;
    sqlx::query(
        "INSERT INTO app.tickets (tenant_id, customer_id, subject, description, category)
         VALUES ($1, $2, 'Broken tap', 'It drips', 'technical_support')",
    )
    .bind(tenant)
    .bind(customer)
    .execute(app.db.owner())
    .await?;
    sqlx::query(
        "INSERT INTO app.conversation_threads (tenant_id, conversation_id, customer_id, phone_number, thread_id)
         VALUES ($1, $2, $3, '+420777000111', $4)",
    )
    .bind(tenant)
    .bind(chat)
    .bind(customer)
    .bind(format!("thread-{tag}"))
    .execute(app.db.owner())
    .await?;
    Ok(())
}

/// The ids of `table`'s rows that name `customer`, sorted.
async fn children(app: &TestApp, table: &str, customer: Uuid) -> anyhow::Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM app.{table} WHERE customer_id = $1 ORDER BY id"
    ))
    .bind(customer)
    .fetch_all(app.db.owner())
    .await?)
}

/// Every row of the tenant in every table a merge touches, as JSON: equal before and after
/// means nothing was written.
async fn state(app: &TestApp, tenant: Uuid) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    for table in CHILDREN.iter().chain(&["customers", "inbox_events"]) {
        let rows: Option<Value> = sqlx::query_scalar(&format!(
            "SELECT jsonb_agg(to_jsonb(t) ORDER BY t.id) FROM app.{table} t WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(app.db.owner())
        .await?;
        out.insert((*table).to_owned(), rows.unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// The stored counters of `customer` and the same values recomputed from the facts with the
/// definitions of migration 0007, as two JSON objects.
async fn counters(app: &TestApp, customer: Uuid) -> anyhow::Result<(Value, Value)> {
    Ok(sqlx::query_as(
        "SELECT jsonb_build_object('bookings', c.total_bookings, 'spent', c.total_spent,
                  'calls', c.total_calls, 'conversations', c.total_conversations,
                  'messages', c.total_messages, 'tickets', c.total_tickets,
                  'last_contact', c.last_contact, 'last_message_at', c.last_message_at),
                jsonb_build_object(
                  'bookings', (SELECT count(*) FROM app.bookings WHERE customer_id = c.id),
                  'spent', (SELECT coalesce(sum(payment_amount) FILTER (WHERE payment_status = 'paid'), 0)
                              FROM app.bookings WHERE customer_id = c.id),
                  'calls', (SELECT count(*) FROM app.calls WHERE customer_id = c.id),
                  'conversations', (SELECT count(*) FROM app.conversations WHERE customer_id = c.id),
                  'messages', (SELECT count(*) FROM app.messages WHERE customer_id = c.id),
                  'tickets', (SELECT count(*) FROM app.tickets WHERE customer_id = c.id),
                  'last_contact', greatest(
                     (SELECT max(started_at) FROM app.calls WHERE customer_id = c.id),
                     (SELECT max(created_at) FROM app.sms_messages WHERE customer_id = c.id),
                     (SELECT max(sent_at) FROM app.messages WHERE customer_id = c.id)),
                  'last_message_at', (SELECT max(sent_at) FROM app.messages WHERE customer_id = c.id))
           FROM app.customers c WHERE c.id = $1",
    )
    .bind(customer)
    .fetch_one(app.db.owner())
    .await?)
}

async fn setup() -> anyhow::Result<(TestApp, Uuid, String)> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Merge desk").await?;
    let (_, supervisor) = app.new_member(tenant, Role::Supervisor).await?;
    Ok((app, tenant, supervisor))
}

// ------------------------------------------------------------------------------------------------
// What moves
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn merging_moves_every_child_kind_recomputes_the_counters_and_deletes_the_duplicate(
) -> anyhow::Result<()> {
    let (app, tenant, token) = setup().await?;
    let keep = customer(
        &app,
        &token,
        json!({ "name": "Jan Novak", "phone": "+420 602 000 001" }),
    )
    .await?;
    let dup = customer(
        &app,
        &token,
        json!({ "name": "J. Novak", "phone": "+420 602 000 002" }),
    )
    .await?;
    facts(&app, &token, tenant, keep, "keep").await?;
    facts(&app, &token, tenant, dup, "dup").await?;

    let mut before = Vec::new();
    for table in CHILDREN {
        let (k, d) = (
            children(&app, table, keep).await?,
            children(&app, table, dup).await?,
        );
        assert!(!d.is_empty(), "the duplicate has {table}");
        before.push((table, k, d));
    }

    let body = app
        .gql(
            &token,
            MERGE,
            json!({ "keep": global_id::encode("Customer", keep).0, "merge": dup }),
        )
        .await?;
    let merged = data(&body, "mergeCustomers");
    assert_eq!(
        merged["mergedId"],
        json!(global_id::encode("Customer", dup).0)
    );
    assert_eq!(merged["customer"]["rowId"], json!(keep));
    let moved = &merged["moved"];
    for (table, field) in [
        ("bookings", "bookings"),
        ("calls", "calls"),
        ("sms_messages", "smsMessages"),
        ("conversations", "conversations"),
        ("messages", "messages"),
        ("tickets", "tickets"),
        ("leads", "leads"),
    ] {
        let (_, _, d) = before.iter().find(|(t, _, _)| *t == table).expect("listed");
        assert_eq!(moved[field], d.len(), "{field} moved");
    }
    assert_eq!(
        moved["closedConversations"], 3,
        "both had an open conversation on phone, SMS and WhatsApp"
    );

    for (table, k, d) in &before {
        let mut want: Vec<Uuid> = k.iter().chain(d).copied().collect();
        want.sort();
        assert_eq!(
            &children(&app, table, keep).await?,
            &want,
            "{table} now the kept customer's"
        );
        assert!(
            children(&app, table, dup).await?.is_empty(),
            "no {table} name the duplicate"
        );
    }
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM app.customers WHERE id = $1")
        .bind(dup)
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(gone, 0, "the duplicate is deleted");
    // Moved bookings carry the kept customer's snapshot.
    let stale: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.bookings b JOIN app.customers c ON c.id = b.customer_id
          WHERE b.customer_id = $1 AND (b.customer_name, b.customer_phone) IS DISTINCT FROM (c.name, c.phone)",
    )
    .bind(keep)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(stale, 0);

    let (stored, recomputed) = counters(&app, keep).await?;
    assert_eq!(stored, recomputed, "counters equal the facts");
    assert_eq!(stored["bookings"], 4);
    let answered = &merged["customer"];
    assert_eq!(answered["totalBookings"], stored["bookings"]);
    assert_eq!(answered["totalTickets"], stored["tickets"]);
    assert_eq!(answered["totalMessages"], stored["messages"]);
    assert_eq!(answered["bookings"]["totalCount"], 4);
    assert_eq!(answered["tickets"]["totalCount"], 2);
    assert_eq!(answered["leads"]["totalCount"], 2);
    Ok(())
}

#[tokio::test]
async fn the_customer_fields_combine_tags_united_custom_fields_with_the_kept_value_winning(
) -> anyhow::Result<()> {
    let (app, _, token) = setup().await?;
    let keep = customer(
        &app,
        &token,
        json!({ "name": "Eva Dvorak", "phone": "+420 602 000 001", "tags": ["vip", "dental"],
                "customFields": { "tier": "gold", "shared": "kept", "nested": { "a": 1 } },
                "alternativePhones": ["+420 602 000 009"], "notes": "Prefers mornings" }),
    )
    .await?;
    let dup = customer(
        &app,
        &token,
        json!({ "name": "Eva D.", "phone": "+420 602 000 002", "tags": ["dental", "late"],
                "customFields": { "shared": "merged", "extra": 7, "nested": { "b": 2 } },
                "alternativePhones": ["+420 602 000 001", "+420 602 000 003"],
                "email": "eva@example.com", "firstName": "Eva", "notes": "Allergic to latex" }),
    )
    .await?;
    let body = app
        .gql(&token, MERGE, json!({ "keep": keep, "merge": dup }))
        .await?;
    let kept = &data(&body, "mergeCustomers")["customer"];
    assert_eq!(kept["name"], "Eva Dvorak");
    assert_eq!(kept["phone"], "+420602000001");
    assert_eq!(kept["tags"], json!(["vip", "dental", "late"]));
    assert_eq!(
        kept["customFields"],
        json!({ "tier": "gold", "shared": "kept", "extra": 7, "nested": { "a": 1 } }),
        "top-level union, the kept value wins whole on a shared key"
    );
    assert_eq!(
        kept["alternativePhones"],
        json!(["+420602000009", "+420602000002", "+420602000003"]),
        "the duplicate's numbers, without the kept primary number"
    );
    assert_eq!(
        kept["email"], "eva@example.com",
        "filled where the kept one had none"
    );
    assert_eq!(kept["firstName"], "Eva");
    assert_eq!(kept["notes"], "Prefers mornings\n\nAllergic to latex");
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The clash rule and events
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn on_a_channel_both_have_open_the_kept_conversation_stays_open_and_the_other_is_closed(
) -> anyhow::Result<()> {
    let (app, tenant, token) = setup().await?;
    let keep = customer(
        &app,
        &token,
        json!({ "name": "K", "phone": "+420 602 000 001" }),
    )
    .await?;
    let dup = customer(
        &app,
        &token,
        json!({ "name": "D", "phone": "+420 602 000 002" }),
    )
    .await?;
    let kept_chat = conversation(&app, &token, keep, "WHATSAPP").await?;
    let dup_chat = conversation(&app, &token, dup, "WHATSAPP").await?;
    inbound(&app, &token, dup, "WHATSAPP", "wamid-1").await?;
    let dup_telegram = conversation(&app, &token, dup, "TELEGRAM").await?;
    let dup_old = conversation(&app, &token, dup, "WHATSAPP").await?;
    gql_ok(
        &app,
        &token,
        "mutation($id: ID!) { setConversationStatus(id: $id, status: CLOSED) { status } }",
        json!({ "id": dup_old }),
        "setConversationStatus",
    )
    .await?;
    let old_closed_at: Option<String> =
        sqlx::query_scalar("SELECT closed_at::text FROM app.conversations WHERE id = $1")
            .bind(dup_old)
            .fetch_one(app.db.owner())
            .await?;
    let events_before: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(id), 0) FROM app.inbox_events WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;

    let body = app
        .gql(&token, MERGE, json!({ "keep": keep, "merge": dup }))
        .await?;
    let moved = &data(&body, "mergeCustomers")["moved"];
    assert_eq!(moved["conversations"], 3);
    assert_eq!(moved["closedConversations"], 1);

    let rows: Vec<(Uuid, Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT id, customer_id, status, closed_at::text FROM app.conversations
          WHERE tenant_id = $1 ORDER BY id",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    let find = |id: Uuid| {
        rows.iter()
            .find(|r| r.0 == id)
            .cloned()
            .expect("still there")
    };
    assert!(
        rows.iter().all(|r| r.1 == keep),
        "every conversation is the kept customer's"
    );
    assert_eq!(find(kept_chat).2, "open", "the kept customer's stays open");
    let closed = find(dup_chat);
    assert_eq!(
        closed.2, "closed",
        "the duplicate's clashing conversation is closed"
    );
    assert!(closed.3.is_some(), "with its closing time");
    assert_eq!(
        find(dup_telegram).2,
        "open",
        "no clash on Telegram: still open"
    );
    assert_eq!(find(dup_old).2, "closed");
    assert_eq!(
        find(dup_old).3,
        old_closed_at,
        "an already closed one keeps its closing time"
    );
    let messages: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.messages WHERE conversation_id = $1")
            .bind(dup_chat)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(messages, 1, "its history is intact");

    // One committed conversation_updated per moved conversation, none for the kept one's.
    let events: Vec<(String, Uuid, Option<i64>)> = sqlx::query_as(
        "SELECT kind, conversation_id, seq FROM app.inbox_events
          WHERE tenant_id = $1 AND id > $2 ORDER BY conversation_id",
    )
    .bind(tenant)
    .bind(events_before)
    .fetch_all(app.db.owner())
    .await?;
    let mut want = vec![dup_chat, dup_telegram, dup_old];
    want.sort();
    assert_eq!(
        events.iter().map(|e| e.1).collect::<Vec<_>>(),
        want,
        "{events:?}"
    );
    assert!(events
        .iter()
        .all(|e| e.0 == "conversation_updated" && e.2.is_some()));

    // New traffic goes where the rule says: the kept WhatsApp conversation, the moved Telegram one.
    assert_eq!(
        inbound(&app, &token, keep, "WHATSAPP", "wamid-2").await?,
        kept_chat
    );
    assert_eq!(
        inbound(&app, &token, keep, "TELEGRAM", "tg-1").await?,
        dup_telegram
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Refusals and atomicity
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn refused_merges_name_the_argument_and_write_nothing() -> anyhow::Result<()> {
    let (app, tenant, token) = setup().await?;
    let other = app.new_tenant("Other desk").await?;
    let (_, other_token) = app.new_member(other, Role::Supervisor).await?;
    let keep = customer(
        &app,
        &token,
        json!({ "name": "K", "phone": "+420 602 000 001" }),
    )
    .await?;
    let dup = customer(
        &app,
        &token,
        json!({ "name": "D", "phone": "+420 602 000 002" }),
    )
    .await?;
    facts(&app, &token, tenant, dup, "dup").await?;
    let theirs = customer(
        &app,
        &other_token,
        json!({ "name": "T", "phone": "+420 602 000 003" }),
    )
    .await?;
    let (_, agent) = app.new_member(tenant, Role::Agent).await?;
    let (_, viewer) = app.new_member(tenant, Role::Viewer).await?;
    let before = state(&app, tenant).await?;
    let before_other = state(&app, other).await?;

    let keep_gid = global_id::encode("Customer", keep).0;
    let cases: [(&str, Value, (&str, &str)); 7] = [
        (
            &token,
            json!({ "keep": keep, "merge": keep }),
            ("BAD_USER_INPUT", "mergeId"),
        ),
        (
            &token,
            json!({ "keep": keep_gid, "merge": keep }),
            ("BAD_USER_INPUT", "mergeId"),
        ),
        (
            &token,
            json!({ "keep": theirs, "merge": dup }),
            ("NOT_FOUND", "keepId"),
        ),
        (
            &token,
            json!({ "keep": keep, "merge": theirs }),
            ("NOT_FOUND", "mergeId"),
        ),
        (
            &token,
            json!({ "keep": keep, "merge": Uuid::new_v4() }),
            ("NOT_FOUND", "mergeId"),
        ),
        (
            &agent,
            json!({ "keep": keep, "merge": dup }),
            ("FORBIDDEN", "<no field>"),
        ),
        (
            &viewer,
            json!({ "keep": keep, "merge": dup }),
            ("FORBIDDEN", "<no field>"),
        ),
    ];
    for (who, vars, want) in cases {
        let body = app.gql(who, MERGE, vars.clone()).await?;
        assert_eq!(
            refusal(&body),
            (want.0.to_owned(), want.1.to_owned()),
            "{vars}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    // A wrong type of id is bad input, not a customer.
    let body = app
        .gql(
            &token,
            MERGE,
            json!({ "keep": keep, "merge": global_id::encode("Booking", dup).0 }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    assert_eq!(state(&app, tenant).await?, before, "nothing was written");
    assert_eq!(
        state(&app, other).await?,
        before_other,
        "nor in the other tenant"
    );
    Ok(())
}

#[tokio::test]
async fn a_merge_that_fails_after_moving_rows_or_whose_request_fails_later_leaves_nothing_changed(
) -> anyhow::Result<()> {
    let (app, tenant, token) = setup().await?;
    let keep = customer(
        &app,
        &token,
        json!({ "name": "K", "phone": "+420 602 000 001", "tags": ["k"] }),
    )
    .await?;
    let dup = customer(
        &app,
        &token,
        json!({ "name": "Explodes on delete", "phone": "+420 602 000 002", "tags": ["d"] }),
    )
    .await?;
    facts(&app, &token, tenant, keep, "keep").await?;
    facts(&app, &token, tenant, dup, "dup").await?;
    let before = state(&app, tenant).await?;

    // The last step of a merge deletes the duplicate: make exactly that step fail, after the
    // customer row, conversations (with their events), bookings and the rest have moved.
    sqlx::query(
        "CREATE FUNCTION app.test_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF OLD.name = 'Explodes on delete' THEN
             RAISE EXCEPTION 'refusing to delete %', OLD.id;
           END IF;
           RETURN OLD;
         END $$",
    )
    .execute(app.db.owner())
    .await?;
    sqlx::query(
        "CREATE TRIGGER test_refuse_delete BEFORE DELETE ON app.customers
           FOR EACH ROW EXECUTE FUNCTION app.test_refuse_delete()",
    )
    .execute(app.db.owner())
    .await?;
    let body = app
        .gql(&token, MERGE, json!({ "keep": keep, "merge": dup }))
        .await?;
    assert_eq!(refusal(&body).0, "INTERNAL", "{body}");
    assert!(body["data"].is_null());
    assert_eq!(
        state(&app, tenant).await?,
        before,
        "the failed merge left nothing behind"
    );
    sqlx::query("DROP TRIGGER test_refuse_delete ON app.customers")
        .execute(app.db.owner())
        .await?;

    // A merge that succeeds, followed by a field of the same request that fails: the request
    // is one transaction, so the merge is undone with it.
    let body = app
        .gql(
            &token,
            "mutation($keep: ID!, $merge: ID!, $missing: ID!) {
               merge: mergeCustomers(keepId: $keep, mergeId: $merge) { mergedId }
               fail: deleteCustomer(id: $missing) { deletedId } }",
            json!({ "keep": keep, "merge": dup, "missing": Uuid::new_v4() }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".to_owned(), "id".to_owned()),
        "{body}"
    );
    assert!(body["data"].is_null());
    assert_eq!(
        state(&app, tenant).await?,
        before,
        "the request rolled back as a whole"
    );

    // And with nothing in the way, the same merge goes through.
    let body = app
        .gql(&token, MERGE, json!({ "keep": keep, "merge": dup }))
        .await?;
    assert_eq!(
        data(&body, "mergeCustomers")["customer"]["tags"],
        json!(["k", "d"])
    );
    Ok(())
}
