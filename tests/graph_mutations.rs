//! The customer graph's mutations over HTTP: what they store (checked with direct SQL), what
//! they refuse and how, that a refused request writes nothing, that the customers' counters
//! stay equal to a recomputation from the facts, and log-in.

use frontdesk_db::seed::{DEMO_PASSWORD, DEMO_TENANT_ID};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const DEMO_OWNER: &str = "klara.dvorakova@salon-bella.example";

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// A tenant row of its own (mutation tests need no seeded data).
async fn tenant(app: &TestApp) -> anyhow::Result<Uuid> {
    app.new_tenant("Mutation test salon").await
}

/// Row counts of the four graph tables, to show a refused request wrote nothing.
async fn graph_rows(app: &TestApp, tenant: Uuid) -> anyhow::Result<[i64; 4]> {
    Ok([
        app.rows("customers", tenant).await?,
        app.rows("bookings", tenant).await?,
        app.rows("calls", tenant).await?,
        app.rows("sms_messages", tenant).await?,
    ])
}

/// Customers of `tenant` whose stored counters differ from a recomputation from the facts,
/// written independently of `app.refresh_customer_counters` (correlated subqueries, the
/// seed's definitions), with stored and expected values for the failure message.
async fn counter_mismatches(app: &TestApp, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "WITH expected AS (
           SELECT c.id,
             (SELECT count(*) FROM app.bookings b WHERE b.tenant_id = c.tenant_id AND b.customer_id = c.id)::int AS total_bookings,
             (SELECT coalesce(sum(b.payment_amount), 0) FROM app.bookings b
               WHERE b.tenant_id = c.tenant_id AND b.customer_id = c.id AND b.payment_status = 'paid') AS total_spent,
             (SELECT count(*) FROM app.calls k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id)::int AS total_calls,
             (SELECT count(*) FROM app.conversations v WHERE v.tenant_id = c.tenant_id AND v.customer_id = c.id)::int AS total_conversations,
             (SELECT count(*) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id)::int AS total_messages,
             (SELECT count(*) FROM app.tickets t WHERE t.tenant_id = c.tenant_id AND t.customer_id = c.id)::int AS total_tickets,
             least(c.created_at,
                   (SELECT min(k.started_at) FROM app.calls k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id),
                   (SELECT min(m.sent_at) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id)) AS first_contact,
             greatest((SELECT max(k.started_at) FROM app.calls k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id),
                      (SELECT max(s.created_at) FROM app.sms_messages s WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.id),
                      (SELECT max(m.sent_at) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id)) AS last_contact,
             greatest((SELECT max(k.started_at) FROM app.calls k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id),
                      (SELECT max(s.created_at) FROM app.sms_messages s WHERE s.tenant_id = c.tenant_id AND s.customer_id = c.id),
                      (SELECT max(m.sent_at) FROM app.messages m WHERE m.tenant_id = c.tenant_id AND m.customer_id = c.id),
                      (SELECT max(b.created_at) FROM app.bookings b WHERE b.tenant_id = c.tenant_id AND b.customer_id = c.id)) AS last_interaction
           FROM app.customers c WHERE c.tenant_id = $1)
         SELECT c.id::text AS id,
                row(c.total_bookings, c.total_spent, c.total_calls, c.total_conversations, c.total_messages,
                    c.total_tickets, c.first_contact, c.last_contact, c.last_interaction)::text AS stored,
                row(e.total_bookings, e.total_spent, e.total_calls, e.total_conversations, e.total_messages,
                    e.total_tickets, e.first_contact, e.last_contact, e.last_interaction)::text AS expected
         FROM app.customers c JOIN expected e USING (id)
         WHERE c.tenant_id = $1
           AND (c.total_bookings, c.total_spent, c.total_calls, c.total_conversations, c.total_messages,
                c.total_tickets, c.first_contact, c.last_contact, c.last_interaction)
               IS DISTINCT FROM
               (e.total_bookings, e.total_spent, e.total_calls, e.total_conversations, e.total_messages,
                e.total_tickets, e.first_contact, e.last_contact, e.last_interaction)",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            format!(
                "{}: stored {} expected {}",
                r.get::<String, _>("id"),
                r.get::<String, _>("stored"),
                r.get::<String, _>("expected")
            )
        })
        .collect())
}

async fn assert_counters_true(app: &TestApp, tenant: Uuid, after: &str) -> anyhow::Result<()> {
    let wrong = counter_mismatches(app, tenant).await?;
    assert!(wrong.is_empty(), "counters wrong after {after}: {wrong:#?}");
    Ok(())
}

const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    id: rowId name phone email tags firstContact totalBookings
    addressDetails { city coordinates { latitude } } preferences { language communicationHours { start end } }
  } }";

async fn create_customer(
    app: &TestApp,
    token: &str,
    name: &str,
    phone: &str,
) -> anyhow::Result<Uuid> {
    let body = app
        .gql(
            token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": name, "phone": phone } }),
        )
        .await?;
    Ok(id_of(data(&body, "createCustomer")))
}

const CREATE_BOOKING: &str = "mutation($input: CreateBookingInput!) {
  createBooking(input: $input) {
    id: rowId customerId customerName customerPhone customerEmail status paymentAmount paymentCurrency
    customer { id: rowId name totalBookings }
  } }";

async fn create_booking(
    app: &TestApp,
    token: &str,
    customer: Uuid,
    status: &str,
) -> anyhow::Result<Uuid> {
    let body = app
        .gql(
            token,
            CREATE_BOOKING,
            json!({ "input": { "customerId": customer, "serviceType": "Haircut",
                           "appointmentDate": "2026-03-14", "appointmentTime": "9:30",
                           "status": status } }),
        )
        .await?;
    Ok(id_of(data(&body, "createBooking")))
}

const RECORD_CALL: &str = "mutation($input: RecordCallInput!) {
  recordCall(input: $input) {
    id: rowId customerId phoneNumber status startedAt endedAt summary duration
    analysis { sentiment topics followUpRequired } costBreakdown { callCost groqTokens }
  } }";

const RECORD_SMS: &str = "mutation($input: RecordSmsInput!) {
  recordSms(input: $input) { id: rowId customerId phoneNumber status messageBody callId } }";

// ------------------------------------------------------------------------------------------------
// Customers
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_customer_stores_the_normalised_phone_and_returns_the_stored_row(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let body = app.gql(&token,
        CREATE_CUSTOMER,
        json!({ "input": {
            "name": "  Jana Nováková ", "phone": "+420 777 123 456", "email": "Jana@Example.COM",
            "tags": ["vip", " vip ", "cz"],
            "addressDetails": { "city": "Brno", "coordinates": { "latitude": 49.19, "longitude": 16.6 } },
            "preferences": { "language": "cs", "communicationHours": { "start": "9:00", "end": "17:30" } }
        } }),
    )
    .await?;
    let c = data(&body, "createCustomer");
    assert_eq!(c["name"], "Jana Nováková");
    assert_eq!(c["phone"], "+420777123456");
    assert_eq!(c["email"], "Jana@example.com");
    assert_eq!(c["tags"], json!(["vip", "cz"]));
    assert_eq!(c["addressDetails"]["city"], "Brno");
    assert_eq!(c["addressDetails"]["coordinates"]["latitude"], 49.19);
    assert_eq!(c["preferences"]["communicationHours"]["start"], "09:00");
    assert_eq!(c["totalBookings"], 0);
    assert!(
        c["firstContact"].is_string(),
        "first contact is the creation: {c}"
    );

    let (phone, tenant_of_row): (String, Uuid) =
        sqlx::query_as("SELECT phone, tenant_id FROM app.customers WHERE id = $1")
            .bind(id_of(c))
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(phone, "+420777123456");
    assert_eq!(tenant_of_row, tenant);
    assert_counters_true(&app, tenant, "createCustomer").await
}

#[tokio::test]
async fn the_same_phone_in_another_format_is_a_conflict_on_input_phone() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    create_customer(&app, &token, "Jana", "+420 777 123 456").await?;
    let before = graph_rows(&app, tenant).await?;
    let body = app
        .gql(
            &token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Someone else", "phone": "00420-777-123-456" } }),
        )
        .await?;
    assert_eq!(refusal(&body), ("CONFLICT".into(), "input.phone".into()));
    assert!(
        !message(&body).contains("777"),
        "the number is not echoed: {body}"
    );
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(graph_rows(&app, tenant).await?, before);

    // Changing another customer's phone to the taken number is the same conflict.
    let other = create_customer(&app, &token, "Petr", "+420 602 000 111").await?;
    let body = app.gql(&token,
        "mutation($id: ID!) { updateCustomer(id: $id, input: { phone: \"+420777123456\" }) { id: rowId } }",
        json!({ "id": other }),
    )
    .await?;
    assert_eq!(refusal(&body), ("CONFLICT".into(), "input.phone".into()));
    Ok(())
}

#[tokio::test]
async fn updating_a_customer_changes_given_fields_keeps_absent_ones_and_clears_nulls(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let body = app.gql(&token,
        CREATE_CUSTOMER,
        json!({ "input": { "name": "Jana", "phone": "+420777123456", "email": "jana@example.com",
                           "notes": "likes mornings", "tags": ["vip"] } }),
    )
    .await?;
    let id = id_of(data(&body, "createCustomer"));
    let update = "mutation($id: ID!, $input: UpdateCustomerInput!) {
      updateCustomer(id: $id, input: $input) { id: rowId name phone email notes tags segment status isBlocked blockReason } }";
    let body = app
        .gql(
            &token,
            update,
            json!({ "id": id, "input": { "name": "Jana Dvořáková", "email": null, "segment": "VIP",
                                     "status": "BLOCKED", "blockReason": "no-shows" } }),
        )
        .await?;
    let c = data(&body, "updateCustomer");
    assert_eq!(c["name"], "Jana Dvořáková");
    assert_eq!(c["email"], Value::Null, "null clears");
    assert_eq!(c["notes"], "likes mornings", "absent keeps");
    assert_eq!(c["tags"], json!(["vip"]));
    assert_eq!(c["segment"], "VIP");
    assert_eq!(c["isBlocked"], true);
    let (email, notes): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, notes FROM app.customers WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!((email, notes), (None, Some("likes mornings".into())));

    // A column that cannot be empty refuses null instead of ignoring it.
    let body = app
        .gql(
            &token,
            update,
            json!({ "id": id, "input": { "name": null } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.name".into())
    );

    // An unknown id is NOT_FOUND naming the argument.
    let body = app
        .gql(
            &token,
            update,
            json!({ "id": Uuid::new_v4(), "input": { "notes": "x" } }),
        )
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));
    Ok(())
}

#[tokio::test]
async fn deleting_a_customer_removes_their_bookings_and_unlinks_their_calls_and_sms(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let agent = app.token(tenant, Role::Agent).await?;
    let supervisor = app.token(tenant, Role::Supervisor).await?;
    let customer = create_customer(&app, &agent, "Jana", "+420777123456").await?;
    let keep = create_customer(&app, &agent, "Petr", "+420602000111").await?;
    create_booking(&app, &agent, customer, "PENDING").await?;
    create_booking(&app, &agent, keep, "PENDING").await?;
    let body = app
        .gql(
            &agent,
            RECORD_CALL,
            json!({ "input": {
        "provider": "vapi", "providerCallId": "call-1", "phoneNumber": "+420777123456",
        "startedAt": "2026-01-05T10:00:00Z" } }),
        )
        .await?;
    let call = id_of(data(&body, "recordCall"));
    let body = app
        .gql(
            &agent,
            RECORD_SMS,
            json!({ "input": {
        "providerMessageId": "SM1", "phoneNumber": "+420777123456", "messageBody": "See you" } }),
        )
        .await?;
    let sms = id_of(data(&body, "recordSms"));

    let delete = "mutation($id: ID!) { deleteCustomer(id: $id) { deletedId } }";
    // Agents may write but not delete customers.
    let body = app.gql(&agent, delete, json!({ "id": customer })).await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert_eq!(app.rows("customers", tenant).await?, 2);

    let body = app
        .gql(&supervisor, delete, json!({ "id": customer }))
        .await?;
    assert_eq!(data(&body, "deleteCustomer")["deletedId"], json!(customer));
    assert_eq!(app.rows("customers", tenant).await?, 1);
    assert_eq!(app.rows("bookings", tenant).await?, 1, "their booking went");
    let call_owner: Option<Uuid> =
        sqlx::query_scalar("SELECT customer_id FROM app.calls WHERE id = $1")
            .bind(call)
            .fetch_one(app.db.owner())
            .await?;
    let sms_owner: Option<Uuid> =
        sqlx::query_scalar("SELECT customer_id FROM app.sms_messages WHERE id = $1")
            .bind(sms)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!((call_owner, sms_owner), (None, None), "kept, unlinked");
    assert_counters_true(&app, tenant, "deleteCustomer").await?;

    // Deleting again: it is gone.
    let body = app
        .gql(&supervisor, delete, json!({ "id": customer }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Bookings
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_booking_finds_the_customer_by_phone_in_any_format_or_creates_them(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let booking = |name: &str, phone: &str, email: Option<&str>| {
        json!({ "input": {
            "customer": { "name": name, "phone": phone, "email": email },
            "serviceType": "Manicure", "appointmentDate": "2026-04-01", "appointmentTime": "14:30",
            "paymentAmount": "25.5", "paymentCurrency": "czk", "paymentStatus": "PAID" } })
    };
    let body = app
        .gql(
            &token,
            CREATE_BOOKING,
            booking("Eva Malá", "+420 731 555 010", Some("eva@example.com")),
        )
        .await?;
    let first = data(&body, "createBooking").clone();
    assert_eq!(first["customerName"], "Eva Malá");
    assert_eq!(first["customerPhone"], "+420731555010");
    assert_eq!(first["customerEmail"], "eva@example.com");
    assert_eq!(first["paymentAmount"], "25.50");
    assert_eq!(first["paymentCurrency"], "CZK");
    assert_eq!(first["status"], "PENDING");
    assert_eq!(app.rows("customers", tenant).await?, 1, "created");

    // Another format of the same number, another name: the same customer, and the snapshot
    // is the customer's, not what this request said.
    let body = app
        .gql(
            &token,
            CREATE_BOOKING,
            booking("E. Malá", "00420731555010", None),
        )
        .await?;
    let second = data(&body, "createBooking");
    assert_eq!(second["customerId"], first["customerId"]);
    assert_eq!(second["customerName"], "Eva Malá");
    assert_eq!(second["customerEmail"], "eva@example.com");
    assert_eq!(second["customer"]["totalBookings"], 2);
    assert_eq!(app.rows("customers", tenant).await?, 1, "reused");
    let spent: String =
        sqlx::query_scalar("SELECT total_spent::text FROM app.customers WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(spent, "51.00");
    assert_counters_true(&app, tenant, "createBooking").await?;

    // Exactly one of customerId and customer.
    let body = app
        .gql(
            &token,
            CREATE_BOOKING,
            json!({ "input": { "serviceType": "Manicure", "appointmentDate": "2026-04-01",
                           "appointmentTime": "14:30" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.customerId".into())
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_bookings_for_a_new_phone_number_create_one_customer_and_count_every_booking(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    const REQUESTS: usize = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..REQUESTS {
        // Independent requests racing each other: each its own transaction.
        let client = app.client.clone();
        let url = app.url("/graphql");
        let token = token.clone();
        let phone = if i % 2 == 0 {
            "+420 731 555 010"
        } else {
            "00420731555010"
        };
        tasks.spawn(async move {
            let body: Value = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": CREATE_BOOKING, "variables": { "input": {
                    "customer": { "name": format!("Caller {i}"), "phone": phone },
                    "serviceType": "Cut", "appointmentDate": "2026-03-14", "appointmentTime": "10:00",
                    "paymentAmount": "10", "paymentStatus": "PAID" } } }))
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok(body)
        });
    }
    let mut customers = std::collections::HashSet::new();
    while let Some(body) = tasks.join_next().await {
        let body = body??;
        customers.insert(data(&body, "createBooking")["customerId"].clone());
    }
    assert_eq!(
        customers.len(),
        1,
        "one customer for one number: {customers:?}"
    );
    assert_eq!(app.rows("customers", tenant).await?, 1);
    assert_eq!(app.rows("bookings", tenant).await?, REQUESTS as i64);
    let (bookings, spent): (i32, String) = sqlx::query_as(
        "SELECT total_bookings, total_spent::text FROM app.customers WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(
        (bookings, spent.as_str()),
        (REQUESTS as i32, "80.00"),
        "no lost count"
    );
    assert_counters_true(&app, tenant, "concurrent bookings").await
}

#[tokio::test]
async fn every_allowed_status_transition_succeeds_and_cancel_records_when_and_why(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let cases = [
        ("PENDING", "confirmBooking", "CONFIRMED"),
        ("SCHEDULED", "confirmBooking", "CONFIRMED"),
        ("PENDING", "cancelBooking", "CANCELLED"),
        ("SCHEDULED", "cancelBooking", "CANCELLED"),
        ("CONFIRMED", "cancelBooking", "CANCELLED"),
        ("PENDING", "completeBooking", "COMPLETED"),
        ("SCHEDULED", "completeBooking", "COMPLETED"),
        ("CONFIRMED", "completeBooking", "COMPLETED"),
        ("SCHEDULED", "markBookingNoShow", "NO_SHOW"),
        ("CONFIRMED", "markBookingNoShow", "NO_SHOW"),
    ];
    for (from, mutation, to) in cases {
        let id = create_booking(&app, &token, customer, from).await?;
        let args = if mutation == "cancelBooking" {
            "id: $id, reason: \"  Customer is ill \""
        } else {
            "id: $id"
        };
        let body = app.gql(&token,
            &format!(
                "mutation($id: ID!) {{ {mutation}({args}) {{ id: rowId status cancelledAt cancelReason }} }}"
            ),
            json!({ "id": id }),
        )
        .await?;
        let b = data(&body, mutation);
        assert_eq!(b["status"], to, "{from} --{mutation}--> {body}");
        let (status, cancelled_at, reason): (
            String,
            Option<chrono::DateTime<chrono::Utc>>,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT status, cancelled_at, cancel_reason FROM app.bookings WHERE id = $1",
        )
        .bind(id)
        .fetch_one(app.db.owner())
        .await?;
        if to == "CANCELLED" {
            assert_eq!(status, "cancelled");
            assert!(cancelled_at.is_some());
            assert_eq!(reason.as_deref(), Some("Customer is ill"));
            assert_eq!(b["cancelReason"], "Customer is ill");
        } else {
            assert_eq!(status, to.to_lowercase().replace('_', "-"));
            assert_eq!((cancelled_at, reason), (None, None));
        }
    }
    assert_counters_true(&app, tenant, "status transitions").await
}

#[tokio::test]
async fn refused_transitions_are_conflicts_naming_the_current_status() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let run = |mutation: &'static str, id: Uuid| {
        let app = &app;
        let token = token.clone();
        async move {
            app.gql(
                &token,
                &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ status }} }}"),
                json!({ "id": id }),
            )
            .await
        }
    };
    let pending = create_booking(&app, &token, customer, "PENDING").await?;
    let body = run("markBookingNoShow", pending).await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert!(message(&body).contains("PENDING"), "{body}");

    let confirmed = create_booking(&app, &token, customer, "CONFIRMED").await?;
    let body = run("confirmBooking", confirmed).await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert!(message(&body).contains("CONFIRMED"), "{body}");

    let done = create_booking(&app, &token, customer, "PENDING").await?;
    data(&run("completeBooking", done).await?, "completeBooking");
    for mutation in [
        "confirmBooking",
        "cancelBooking",
        "markBookingNoShow",
        "completeBooking",
    ] {
        let body = run(mutation, done).await?;
        assert_eq!(refusal(&body).0, "CONFLICT", "{mutation}: {body}");
        assert!(message(&body).contains("COMPLETED"), "{body}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM app.bookings WHERE id = $1")
        .bind(done)
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(status, "completed", "unchanged");

    let no_show = create_booking(&app, &token, customer, "SCHEDULED").await?;
    data(
        &run("markBookingNoShow", no_show).await?,
        "markBookingNoShow",
    );
    let body = run("confirmBooking", no_show).await?;
    assert!(message(&body).contains("NO_SHOW"), "{body}");

    let body = run("cancelBooking", Uuid::new_v4()).await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()));

    // A new booking cannot start out finished.
    let body = app.gql(&token,
        CREATE_BOOKING,
        json!({ "input": { "customerId": customer, "serviceType": "Cut", "appointmentDate": "2026-03-14",
                           "appointmentTime": "10:00", "status": "COMPLETED" } }),
    )
    .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.status".into())
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Calls and SMS
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn recording_the_same_call_twice_keeps_one_row_and_updates_only_what_the_second_post_carries(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let first = json!({ "input": {
        "provider": "vapi", "providerCallId": "call-abc", "phoneNumber": "+420 777 123 456",
        "status": "IN_PROGRESS", "startedAt": "2026-01-05T10:00:00Z", "callType": "INBOUND",
        "analysis": { "sentiment": "calm", "topics": ["booking"], "followUpRequired": false } } });
    let body = app.gql(&token, RECORD_CALL, first).await?;
    let call = data(&body, "recordCall").clone();
    assert_eq!(call["customerId"], json!(customer), "found by phone");
    assert_eq!(call["phoneNumber"], "+420777123456");

    let second = json!({ "input": {
        "provider": "vapi", "providerCallId": "call-abc", "phoneNumber": "+420777123456",
        "status": "ENDED", "endedAt": "2026-01-05T10:04:10Z", "duration": 250,
        "summary": "Booked a haircut", "costBreakdown": { "callCost": "0.0123", "groqTokens": 812 } } });
    let body = app.gql(&token, RECORD_CALL, second).await?;
    let again = data(&body, "recordCall");
    assert_eq!(again["id"], call["id"], "the same call");
    assert_eq!(again["status"], "ENDED");
    assert_eq!(again["startedAt"], call["startedAt"], "kept");
    assert_eq!(again["analysis"]["sentiment"], "calm", "kept");
    assert_eq!(again["summary"], "Booked a haircut");
    assert_eq!(again["duration"], 250);
    assert_eq!(again["costBreakdown"]["callCost"], "0.0123");
    assert_eq!(again["costBreakdown"]["groqTokens"], 812);
    assert_eq!(app.rows("calls", tenant).await?, 1);
    let total_calls: i32 =
        sqlx::query_scalar("SELECT total_calls FROM app.customers WHERE id = $1")
            .bind(customer)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(total_calls, 1);
    assert_counters_true(&app, tenant, "recordCall twice").await?;

    // An unknown caller stays without a customer; no customer is created.
    let body = app.gql(&token, RECORD_CALL, json!({ "input": {
        "provider": "vapi", "providerCallId": "call-unknown", "phoneNumber": "+44 20 7946 0958" } }))
    .await?;
    assert_eq!(data(&body, "recordCall")["customerId"], Value::Null);
    assert_eq!(app.rows("customers", tenant).await?, 1);

    // A call cannot end before it starts.
    let body = app
        .gql(
            &token,
            RECORD_CALL,
            json!({ "input": {
        "provider": "vapi", "providerCallId": "call-abc", "phoneNumber": "+420777123456",
        "endedAt": "2026-01-05T09:00:00Z" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.endedAt".into())
    );
    Ok(())
}

#[tokio::test]
async fn recording_the_same_sms_twice_keeps_one_row() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let post = |status: &str| {
        json!({ "input": { "providerMessageId": "SM0123456789abcdef", "phoneNumber": "+420777123456",
                           "messageBody": "Your appointment is confirmed", "direction": "OUTBOUND",
                           "status": status, "cost": "0.0075" } })
    };
    let body = app.gql(&token, RECORD_SMS, post("SENT")).await?;
    let first = data(&body, "recordSms").clone();
    assert_eq!(first["customerId"], json!(customer));
    let body = app.gql(&token, RECORD_SMS, post("DELIVERED")).await?;
    let second = data(&body, "recordSms");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["status"], "DELIVERED");
    assert_eq!(app.rows("sms_messages", tenant).await?, 1);
    let last_contact: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_contact FROM app.customers WHERE id = $1")
            .bind(customer)
            .fetch_one(app.db.owner())
            .await?;
    assert!(last_contact.is_some(), "an SMS is a contact");
    assert_counters_true(&app, tenant, "recordSms twice").await
}

// ------------------------------------------------------------------------------------------------
// Counters
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn counters_equal_the_sql_recomputation_after_every_kind_of_write() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Admin).await?;
    let jana = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let petr = create_customer(&app, &token, "Petr", "+420602000111").await?;
    assert_counters_true(&app, tenant, "createCustomer").await?;

    let paid = app
        .gql(
            &token,
            CREATE_BOOKING,
            json!({ "input": {
        "customerId": jana, "serviceType": "Colour", "appointmentDate": "2026-05-02",
        "appointmentTime": "11:00", "paymentAmount": "80", "paymentStatus": "PAID" } }),
        )
        .await?;
    let paid = id_of(data(&paid, "createBooking"));
    let unpaid = create_booking(&app, &token, jana, "PENDING").await?;
    assert_counters_true(&app, tenant, "createBooking").await?;

    let update_booking = "mutation($id: ID!, $input: UpdateBookingInput!) {
      updateBooking(id: $id, input: $input) { id: rowId customerId customerName paymentStatus } }";
    let body = app
        .gql(
            &token,
            update_booking,
            json!({ "id": unpaid,
        "input": { "paymentAmount": "40", "paymentStatus": "PAID" } }),
        )
        .await?;
    data(&body, "updateBooking");
    assert_counters_true(&app, tenant, "updateBooking (payment)").await?;

    // Moving a booking re-takes the snapshot from the new customer and fixes both counters.
    let body = app
        .gql(
            &token,
            update_booking,
            json!({ "id": paid,
        "input": { "customerId": petr } }),
        )
        .await?;
    let moved = data(&body, "updateBooking");
    assert_eq!(moved["customerId"], json!(petr));
    assert_eq!(moved["customerName"], "Petr");
    assert_counters_true(&app, tenant, "updateBooking (move)").await?;

    let body = app
        .gql(
            &token,
            "mutation($id: ID!) { cancelBooking(id: $id) { status } }",
            json!({ "id": unpaid }),
        )
        .await?;
    data(&body, "cancelBooking");
    assert_counters_true(&app, tenant, "cancelBooking").await?;

    let body = app
        .gql(
            &token,
            RECORD_CALL,
            json!({ "input": {
        "provider": "twilio", "providerCallId": "CA1", "phoneNumber": "+420777123456",
        "startedAt": "2026-02-01T08:00:00Z" } }),
        )
        .await?;
    let call = id_of(data(&body, "recordCall"));
    assert_counters_true(&app, tenant, "recordCall").await?;

    let update_call = "mutation($id: ID!, $input: UpdateCallInput!) {
      updateCall(id: $id, input: $input) { id: rowId customerId startedAt notes } }";
    let body = app
        .gql(
            &token,
            update_call,
            json!({ "id": call,
        "input": { "customerId": petr, "startedAt": "2026-02-02T08:00:00Z", "notes": "moved" } }),
        )
        .await?;
    assert_eq!(data(&body, "updateCall")["customerId"], json!(petr));
    assert_counters_true(&app, tenant, "updateCall (move)").await?;

    let body = app
        .gql(
            &token,
            update_call,
            json!({ "id": call, "input": { "customerId": null } }),
        )
        .await?;
    assert_eq!(data(&body, "updateCall")["customerId"], Value::Null);
    assert_counters_true(&app, tenant, "updateCall (unlink)").await?;

    let body = app
        .gql(
            &token,
            RECORD_SMS,
            json!({ "input": {
        "providerMessageId": "SM9", "phoneNumber": "+420602000111", "messageBody": "Thanks!",
        "direction": "INBOUND", "status": "RECEIVED" } }),
        )
        .await?;
    data(&body, "recordSms");
    assert_counters_true(&app, tenant, "recordSms").await?;

    // A second post naming another customer moves the message.
    let body = app
        .gql(
            &token,
            RECORD_SMS,
            json!({ "input": {
        "providerMessageId": "SM9", "phoneNumber": "+420602000111", "messageBody": "Thanks!",
        "customerId": jana } }),
        )
        .await?;
    assert_eq!(data(&body, "recordSms")["customerId"], json!(jana));
    assert_counters_true(&app, tenant, "recordSms (move)").await?;

    let body = app
        .gql(
            &token,
            "mutation($id: ID!) { deleteCustomer(id: $id) { deletedId } }",
            json!({ "id": petr }),
        )
        .await?;
    data(&body, "deleteCustomer");
    assert_counters_true(&app, tenant, "deleteCustomer").await?;

    let (bookings, spent): (i32, String) =
        sqlx::query_as("SELECT total_bookings, total_spent::text FROM app.customers WHERE id = $1")
            .bind(jana)
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!((bookings, spent.as_str()), (1, "40.00"));

    // The check above is not vacuous: a counter nobody refreshed is caught.
    sqlx::query("UPDATE app.customers SET total_calls = total_calls + 1 WHERE id = $1")
        .bind(jana)
        .execute(app.db.owner())
        .await?;
    assert_eq!(counter_mismatches(&app, tenant).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn seeded_counters_match_the_facts_and_refreshing_them_changes_nothing() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 12,
        bookings_per_customer: 2,
        calls_per_booking: 2,
        sms_per_call: 1,
    })
    .await?;
    let tenant = DEMO_TENANT_ID;
    assert_counters_true(&app, tenant, "the seed").await?;
    let ids: Vec<Option<Uuid>> =
        sqlx::query_scalar("SELECT id FROM app.customers WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(app.db.owner())
            .await?
            .into_iter()
            .map(Some)
            .collect();
    // As the runtime role, in the tenant's context: the seed used this function too, and the
    // facts have not moved since, so a refresh must find nothing to change.
    let mut tx = app
        .db
        .db
        .begin_tenant(frontdesk_db::TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?;
    let changed = frontdesk_db::graph::counters::refresh(&mut tx, &ids).await?;
    tx.commit().await?;
    assert_eq!(
        changed, 0,
        "the function disagrees with the seed on {changed} customers"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Refusals: roles, tenants, input, atomicity
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_viewer_may_not_write_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let agent = app.token(tenant, Role::Agent).await?;
    let viewer = app.token(tenant, Role::Viewer).await?;
    let customer = create_customer(&app, &agent, "Jana", "+420777123456").await?;
    let booking = create_booking(&app, &agent, customer, "PENDING").await?;
    let before = graph_rows(&app, tenant).await?;
    let attempts = [
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010" } }),
        ),
        (
            "mutation($id: ID!) { updateCustomer(id: $id, input: { name: \"X\" }) { id: rowId } }",
            json!({ "id": customer }),
        ),
        (
            "mutation($id: ID!) { deleteCustomer(id: $id) { deletedId } }",
            json!({ "id": customer }),
        ),
        (
            "mutation($id: ID!) { confirmBooking(id: $id) { id: rowId } }",
            json!({ "id": booking }),
        ),
        (
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": "c", "phoneNumber": "+420777123456" } }),
        ),
        (
            RECORD_SMS,
            json!({ "input": { "providerMessageId": "m", "phoneNumber": "+420777123456", "messageBody": "hi" } }),
        ),
    ];
    for (query, variables) in attempts {
        let body = app.gql(&viewer, query, variables).await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{query}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(graph_rows(&app, tenant).await?, before);
    let (name, status): (String, String) = sqlx::query_as(
        "SELECT c.name, b.status FROM app.customers c JOIN app.bookings b ON b.customer_id = c.id
         WHERE c.id = $1",
    )
    .bind(customer)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!((name.as_str(), status.as_str()), ("Jana", "pending"));

    // And without a token, nothing at all.
    let (_, body) = app
        .graphql(
            None,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010" } }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED");
    assert_eq!(graph_rows(&app, tenant).await?, before);
    Ok(())
}

#[tokio::test]
async fn another_tenants_customer_id_is_not_found_like_a_random_one_and_stays_unchanged(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = tenant(&app).await?;
    let b = tenant(&app).await?;
    let token_a = app.token(a, Role::Owner).await?;
    let token_b = app.token(b, Role::Owner).await?;
    let theirs = create_customer(&app, &token_b, "Bára", "+420777123456").await?;
    let snapshot = || async {
        sqlx::query("SELECT name, phone, updated_at::text FROM app.customers WHERE id = $1")
            .bind(theirs)
            .fetch_one(app.db.owner())
            .await
            .map(|r| {
                (
                    r.get::<String, _>(0),
                    r.get::<String, _>(1),
                    r.get::<String, _>(2),
                )
            })
    };
    let before_b = snapshot().await?;
    let before_a = graph_rows(&app, a).await?;

    let attempts = [
        (
            CREATE_BOOKING,
            "input.customerId",
            json!({ "input": { "serviceType": "Cut", "appointmentDate": "2026-03-14", "appointmentTime": "10:00" } }),
        ),
        (
            "mutation($id: ID!) { updateCustomer(id: $id, input: { name: \"Taken over\" }) { id: rowId } }",
            "id",
            json!({}),
        ),
        (
            "mutation($id: ID!) { deleteCustomer(id: $id) { deletedId } }",
            "id",
            json!({}),
        ),
        (
            RECORD_CALL,
            "input.customerId",
            json!({ "input": { "provider": "vapi", "providerCallId": "c1", "phoneNumber": "+420602000111" } }),
        ),
    ];
    for (query, field, template) in attempts {
        let mut answers = Vec::new();
        for id in [theirs, Uuid::new_v4()] {
            let mut vars = template.clone();
            if field == "id" {
                vars["id"] = json!(id);
            } else {
                vars["input"]["customerId"] = json!(id);
            }
            let body = app.gql(&token_a, query, vars).await?;
            assert_eq!(refusal(&body), ("NOT_FOUND".into(), field.into()), "{body}");
            answers.push((message(&body), body["data"].clone()));
        }
        assert_eq!(
            answers[0], answers[1],
            "a foreign id answers like a random one"
        );
    }
    assert_eq!(snapshot().await?, before_b, "B's customer is untouched");
    assert_eq!(graph_rows(&app, a).await?, before_a, "nothing written in A");
    Ok(())
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Jana", "+420777123456").await?;
    let before = graph_rows(&app, tenant).await?;
    let booking = |extra: Value| {
        let mut input = json!({ "customerId": customer, "serviceType": "Cut",
                                "appointmentDate": "2026-03-14", "appointmentTime": "10:00" });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        json!({ "input": input })
    };
    let cases = [
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "777 123 456" } }),
            "input.phone",
        ),
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010", "email": "eva(at)example" } }),
            "input.email",
        ),
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "E".repeat(201), "phone": "+420731555010" } }),
            "input.name",
        ),
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010", "tags": ["ok", " "] } }),
            "input.tags[1]",
        ),
        (
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010", "customFields": [1, 2] } }),
            "input.customFields",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "paymentCurrency": "usd1" })),
            "input.paymentCurrency",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "paymentAmount": "-5" })),
            "input.paymentAmount",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "paymentAmount": "1.005" })),
            "input.paymentAmount",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "appointmentDate": "2026-02-30" })),
            "input.appointmentDate",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "appointmentTime": "25:61" })),
            "input.appointmentTime",
        ),
        (
            CREATE_BOOKING,
            booking(json!({ "durationMinutes": 0 })),
            "input.durationMinutes",
        ),
        (
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": "has space", "phoneNumber": "+420777123456" } }),
            "input.providerCallId",
        ),
        (
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": "c", "phoneNumber": "+420777123456",
                               "transcriptionConfidence": 1.5 } }),
            "input.transcriptionConfidence",
        ),
        (
            RECORD_CALL,
            json!({ "input": { "provider": "vapi", "providerCallId": "c", "phoneNumber": "+420777123456",
                               "recordingUrl": "ftp://example.com/a.wav" } }),
            "input.recordingUrl",
        ),
        (
            RECORD_SMS,
            json!({ "input": { "providerMessageId": "m", "phoneNumber": "+420777123456",
                               "messageBody": "x".repeat(1601) } }),
            "input.messageBody",
        ),
    ];
    for (query, variables, field) in cases {
        let body = app.gql(&token, query, variables).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }

    // A value outside an enum is refused by GraphQL's own input coercion, before any resolver
    // runs; the schema's error-coding extension (`limits`) names the field.
    let body = app
        .gql(
            &token,
            CREATE_CUSTOMER,
            json!({ "input": { "name": "Eva", "phone": "+420731555010", "segment": "PLATINUM" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".into(), "input.segment".into()),
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");

    assert_eq!(graph_rows(&app, tenant).await?, before, "nothing written");
    Ok(())
}

#[tokio::test]
async fn when_the_second_mutation_of_a_request_fails_the_first_is_rolled_back_and_data_is_null(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    create_customer(&app, &token, "Jana", "+420777123456").await?;
    let before = graph_rows(&app, tenant).await?;
    let body = app
        .gql(
            &token,
            "mutation {
           first: createCustomer(input: { name: \"Eva\", phone: \"+420731555010\" }) { id: rowId }
           second: createCustomer(input: { name: \"Dup\", phone: \"+420 777 123 456\" }) { id: rowId } }",
            json!({}),
        )
        .await?;
    assert_eq!(refusal(&body), ("CONFLICT".into(), "input.phone".into()));
    assert!(body["data"].is_null(), "no write is reported: {body}");
    let eva: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.customers WHERE tenant_id = $1 AND phone = $2",
    )
    .bind(tenant)
    .bind("+420731555010")
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(eva, 0, "the first mutation was rolled back");
    assert_eq!(graph_rows(&app, tenant).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Log-in
// ------------------------------------------------------------------------------------------------

const LOGIN: &str = "mutation($email: String!, $password: String!, $tenantId: UUID) {
  login(email: $email, password: $password, tenantId: $tenantId) {
    accessToken expiresAt userId tenantId role } }";

fn small_seed() -> SeedSpec {
    SeedSpec {
        tenants: 2,
        customers_per_tenant: 2,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    }
}

#[tokio::test]
async fn the_seeded_demo_owner_logs_in_and_the_token_works() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&small_seed()).await?;
    let (status, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": "Klara.Dvorakova@salon-bella.example", "password": DEMO_PASSWORD }),
        )
        .await?;
    assert_eq!(status, 200);
    let login = data(&body, "login");
    assert_eq!(login["tenantId"], json!(DEMO_TENANT_ID));
    assert_eq!(login["role"], "OWNER");
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(login["expiresAt"].clone())?;
    assert!(expires > chrono::Utc::now() + chrono::Duration::minutes(59));
    let token = login["accessToken"].as_str().unwrap_or_default().to_owned();

    let body = app
        .gql(&token, "{ me { userId tenantId role email } }", json!({}))
        .await?;
    let me = data(&body, "me");
    assert_eq!(me["userId"], login["userId"]);
    assert_eq!(me["tenantId"], json!(DEMO_TENANT_ID));
    assert_eq!(me["role"], "OWNER");
    assert_eq!(me["email"], DEMO_OWNER);

    let logins: i32 =
        sqlx::query_scalar("SELECT login_count FROM app.users WHERE lower(email) = lower($1)")
            .bind(DEMO_OWNER)
            .fetch_one(app.db.owner())
            .await?;
    assert!(logins > 0);
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_unauthenticated_answer(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&small_seed()).await?;
    let attempt = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let (_, body) = app
                .graphql(None, LOGIN, json!({ "email": email, "password": password }))
                .await?;
            anyhow::Ok((body, started.elapsed()))
        }
    };
    // Warm up (the dummy hash is made on first use).
    attempt("nobody@nowhere.example", "x").await?;
    let (wrong, wrong_took) = attempt(DEMO_OWNER, "not-the-password").await?;
    let (unknown, unknown_took) = attempt("nobody@nowhere.example", "not-the-password").await?;
    assert_eq!(refusal(&wrong).0, "UNAUTHENTICATED", "{wrong}");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
    assert!(wrong["data"].is_null() && unknown["data"].is_null());
    // Both verify an argon2 hash; without the dummy hash the unknown address would answer in
    // a fraction of the time. Generous bound: the machine is shared.
    assert!(
        unknown_took * 4 >= wrong_took,
        "unknown e-mail answered in {unknown_took:?}, wrong password in {wrong_took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_member_of_several_tenants_must_name_one() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&small_seed()).await?;
    let second = SeedSpec::tenant_id(1);
    sqlx::query(
        "INSERT INTO app.memberships (tenant_id, user_id, role)
         SELECT $1, id, 'agent' FROM app.users WHERE lower(email) = lower($2)",
    )
    .bind(second)
    .bind(DEMO_OWNER)
    .execute(app.db.owner())
    .await?;
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": DEMO_OWNER, "password": DEMO_PASSWORD }),
        )
        .await?;
    assert_eq!(refusal(&body), ("BAD_USER_INPUT".into(), "tenantId".into()));
    assert!(!message(&body).contains(&second.to_string()), "{body}");
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": DEMO_OWNER, "password": DEMO_PASSWORD, "tenantId": second }),
        )
        .await?;
    let login = data(&body, "login");
    assert_eq!(login["tenantId"], json!(second));
    assert_eq!(login["role"], "AGENT");
    // A tenant the user does not belong to is refused (after the password proved who they are).
    let (_, body) = app
        .graphql(
            None,
            LOGIN,
            json!({ "email": DEMO_OWNER, "password": DEMO_PASSWORD, "tenantId": Uuid::new_v4() }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    Ok(())
}

#[tokio::test]
async fn each_mutation_of_a_request_reads_links_and_nested_lists_after_its_own_write(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let t = tenant(&app).await?;
    let token = app.token(t, Role::Agent).await?;
    let customer = create_customer(&app, &token, "Ines", "+420 777 444 555").await?;
    // The same fragment (so the same nested field) under two mutations of one request: the
    // second must see the first's booking and its own.
    let body = app
        .gql(
            &token,
            "mutation($input: CreateBookingInput!) {
               a: createBooking(input: $input) { customer { ...Bookings } }
               b: createBooking(input: $input) { customer { ...Bookings } } }
             fragment Bookings on Customer {
               totalBookings bookings(first: 10) { totalCount nodes { rowId } } }",
            json!({ "input": { "customerId": customer, "serviceType": "Haircut",
                               "appointmentDate": "2026-03-14", "appointmentTime": "9:30" } }),
        )
        .await?;
    let counted = |field: &str| data(&body, field)["customer"]["bookings"]["totalCount"].clone();
    assert_eq!((counted("a"), counted("b")), (json!(1), json!(2)), "{body}");
    let listed = data(&body, "b")["customer"]["bookings"]["nodes"]
        .as_array()
        .map(Vec::len);
    assert_eq!(listed, Some(2), "{body}");
    // The customer row itself (a link, loaded by id) is read after each write too.
    let total = |field: &str| data(&body, field)["customer"]["totalBookings"].clone();
    assert_eq!((total("a"), total("b")), (json!(1), json!(2)), "{body}");
    Ok(())
}
