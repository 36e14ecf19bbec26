//! Leads over HTTP: `createLead`/`updateLead`/`deleteLead`/`convertLead` and the `lead`/`leads`
//! reads. What they store (checked with direct SQL), what lists return (compared with direct
//! SQL), how a conversation links to its leads, and what is refused and how (roles, other
//! tenants' ids, bad input) without writing anything.

use chrono::{DateTime, Utc};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

/// A tenant row of its own.
async fn tenant(app: &TestApp) -> anyhow::Result<Uuid> {
    app.new_tenant("Lead test agency").await
}

/// A user who is a member of `tenant` with `role`, and a token acting as them.
async fn member(app: &TestApp, tenant: Uuid, role: Role) -> anyhow::Result<String> {
    Ok(app.new_member(tenant, role).await?.1)
}

/// Every field of a lead.
const LEAD_FIELDS: &str =
    "id rowId conversationId customerId name firstName lastName phone email company
  industry source interest budget timeline leadScore priority status followUpDate followUpStatus
  notes tags convertedAt converted dealValue lastContactedAt createdAt updatedAt";

fn create_lead_doc() -> String {
    format!(
        "mutation($input: CreateLeadInput!) {{ createLead(input: $input) {{ {LEAD_FIELDS} }} }}"
    )
}

fn update_lead_doc() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateLeadInput!) {{
           updateLead(id: $id, input: $input) {{ {LEAD_FIELDS} }} }}"
    )
}

fn convert_lead_doc() -> String {
    format!(
        "mutation($id: ID!, $dealValue: Decimal, $convertedAt: DateTime) {{
           convertLead(id: $id, dealValue: $dealValue, convertedAt: $convertedAt) {{ {LEAD_FIELDS} }} }}"
    )
}

fn lead_doc() -> String {
    format!("query($id: ID!) {{ lead(id: $id) {{ {LEAD_FIELDS} }} }}")
}

const DELETE_LEAD: &str = "mutation($id: ID!) { deleteLead(id: $id) { deletedId } }";

/// Creates a lead; returns the created object as the API answered it.
async fn create_lead(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &create_lead_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "createLead").clone())
}

/// The lead row as direct SQL sees it (every column, by name).
async fn lead_row(app: &TestApp, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = sqlx::query("SELECT to_jsonb(l) AS doc FROM app.leads l WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.owner())
        .await?;
    Ok(row.map(|r| r.get::<Value, _>("doc")))
}

/// Lead ids as direct SQL returns them for `sql` (with `$1` the tenant).
async fn sql_ids(app: &TestApp, sql: &str, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .bind(tenant)
        .fetch_all(app.db.owner())
        .await?;
    Ok(ids.into_iter().map(|i| i.to_string()).collect())
}

/// The `rowId`s of a connection's nodes, in order.
fn row_ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["rowId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
}

const START: &str = "mutation($input: StartConversationInput!) {
  startConversation(input: $input) { id rowId customer { id rowId } } }";

/// A conversation (with a customer found or created by `phone`); its object as answered.
async fn conversation(app: &TestApp, token: &str, phone: &str) -> anyhow::Result<Value> {
    let body = app
        .gql(
            token,
            START,
            json!({ "input": { "customer": { "name": "Prospect", "phone": phone }, "channel": "WHATSAPP" } }),
        )
        .await?;
    Ok(data(&body, "startConversation").clone())
}

// ------------------------------------------------------------------------------------------------
// Create and read
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_created_lead_reads_back_by_its_global_id_and_by_its_row_id() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = member(&app, tenant, Role::Agent).await?;
    let conv = conversation(&app, &token, "+420 602 111 222").await?;
    let created = create_lead(
        &app,
        &token,
        json!({
            "conversationId": conv["id"], "name": "  Petr Svoboda ", "firstName": "Petr",
            "lastName": "Svoboda", "phone": "00420 777 123 456", "email": "Petr@Example.COM",
            "company": "Svoboda s.r.o.", "industry": "Retail", "source": "whatsapp",
            "interest": "AI_ASSISTANT", "budget": "TEN_TO_FIFTY_THOUSAND",
            "timeline": "ONE_TO_THREE_MONTHS", "leadScore": 72, "priority": "WARM",
            "status": "QUALIFIED", "followUpDate": "2026-04-01T09:00:00Z",
            "followUpStatus": "CONTACTED", "notes": "Wants a receptionist bot",
            "tags": ["b2b", " b2b ", "cz"], "dealValue": "12000.5",
            "lastContactedAt": "2026-03-20T15:30:00Z"
        }),
    )
    .await?;
    let id = id_of(&created);
    assert_eq!(created["name"], "Petr Svoboda");
    assert_eq!(created["phone"], "+420777123456", "stored as E.164");
    assert_eq!(created["email"], "Petr@example.com", "domain lower-cased");
    assert_eq!(created["conversationId"], conv["rowId"]);
    assert_eq!(created["budget"], "TEN_TO_FIFTY_THOUSAND");
    assert_eq!(created["timeline"], "ONE_TO_THREE_MONTHS");
    assert_eq!(created["leadScore"], 72);
    assert_eq!(created["status"], "QUALIFIED");
    assert_eq!(created["followUpStatus"], "CONTACTED");
    assert_eq!(created["tags"], json!(["b2b", "cz"]));
    assert_eq!(created["dealValue"], "12000.50");
    assert_eq!(created["converted"], false);
    assert!(created["convertedAt"].is_null());
    assert_eq!(
        created["id"],
        json!(global_id::encode("Lead", id).0),
        "the id is the lead's global id"
    );

    let row = lead_row(&app, id).await?.expect("the lead is stored");
    assert_eq!(row["tenant_id"], json!(tenant));
    assert_eq!(row["phone"], "+420777123456");
    assert_eq!(row["email"], "Petr@example.com");
    assert_eq!(row["budget"], "10k-50k");
    assert_eq!(row["timeline"], "1-3_months");
    assert_eq!(row["interest"], "ai_assistant");
    assert_eq!(row["status"], "qualified");
    assert_eq!(row["follow_up_status"], "contacted");
    assert_eq!(row["lead_score"], 72);
    assert_eq!(row["deal_value"], json!(12000.5));
    assert_eq!(row["conversation_id"], conv["rowId"]);

    // Both spellings of the id read the same lead, equal to what the create answered.
    for key in [created["id"].clone(), created["rowId"].clone()] {
        let body = app.gql(&token, &lead_doc(), json!({ "id": key })).await?;
        assert_eq!(data(&body, "lead"), &created, "lead({key})");
    }
    // A viewer reads leads too.
    let viewer = app.token(tenant, Role::Viewer).await?;
    let body = app
        .gql(&viewer, &lead_doc(), json!({ "id": created["id"] }))
        .await?;
    assert_eq!(id_of(data(&body, "lead")), id);

    // A lead with only a phone number gets the defaults.
    let minimal = create_lead(&app, &token, json!({ "phone": "+420 731 555 010" })).await?;
    assert_eq!(minimal["status"], "NEW");
    assert_eq!(minimal["followUpStatus"], "PENDING");
    assert_eq!(minimal["tags"], json!([]));
    assert!(minimal["name"].is_null() && minimal["conversationId"].is_null());
    Ok(())
}

#[tokio::test]
async fn lists_filtered_by_status_ordered_by_score_and_searched_return_exactly_what_sql_returns(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = tenant(&app).await?;
    let b = tenant(&app).await?;
    let token = app.token(a, Role::Agent).await?;
    let inputs = [
        json!({ "name": "Acme One", "company": "ACME s.r.o.", "leadScore": 80 }),
        json!({ "firstName": "Bob", "email": "bob@acme.example", "leadScore": 80 }),
        json!({ "name": "Cyril" }),
        json!({ "name": "Dana", "status": "QUALIFIED", "leadScore": 95, "company": "Acme Holding" }),
        json!({ "name": "Eva 100%", "status": "LOST", "leadScore": 10, "phone": "+420 777 123 456" }),
        json!({ "name": "Fero", "leadScore": 35, "email": "fero@example.com" }),
        json!({ "lastName": "Gál", "leadScore": 0 }),
        json!({ "name": "Hana", "leadScore": 100, "phone": "+420 602 777 123" }),
    ];
    for input in inputs {
        create_lead(&app, &token, input).await?;
    }
    // Another tenant's leads match the same filters and must not show.
    let token_b = app.token(b, Role::Agent).await?;
    create_lead(
        &app,
        &token_b,
        json!({ "name": "Acme B", "leadScore": 99, "phone": "+420 777 123 456" }),
    )
    .await?;

    let body = app
        .gql(
            &token,
            "{ leads(first: 50, filter: { status: { eq: NEW } },
                     orderBy: [{ field: LEAD_SCORE, direction: DESC }]) {
                 totalCount nodes { rowId status leadScore } } }",
            json!({}),
        )
        .await?;
    let page = data(&body, "leads");
    let want = sql_ids(
        &app,
        "SELECT id FROM app.leads WHERE tenant_id = $1 AND status = 'new'
         ORDER BY lead_score DESC NULLS LAST, id",
        a,
    )
    .await?;
    assert_eq!(want.len(), 6);
    assert_eq!(row_ids(page), want);
    assert_eq!(page["totalCount"], 6);
    let scores: Vec<Value> = page["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["leadScore"].clone())
        .collect();
    assert_eq!(
        scores,
        [
            json!(100),
            json!(80),
            json!(80),
            json!(35),
            json!(0),
            Value::Null
        ]
    );

    let searches = [
        ("acme", "%acme%"),
        ("ACME", "%acme%"),
        ("100%", "%100\\%%"),
        ("777123", "%777123%"),
    ];
    for (text, pattern) in searches {
        let body = app
            .gql(
                &token,
                "query($q: String) { leads(first: 50, filter: { search: $q }) { totalCount nodes { rowId } } }",
                json!({ "q": text }),
            )
            .await?;
        let page = data(&body, "leads");
        let sql = format!(
            "SELECT id FROM app.leads WHERE tenant_id = $1
               AND (name ILIKE '{pattern}' OR first_name ILIKE '{pattern}'
                    OR last_name ILIKE '{pattern}' OR email ILIKE '{pattern}'
                    OR phone ILIKE '{pattern}' OR company ILIKE '{pattern}')
             ORDER BY created_at DESC, id"
        );
        let want = sql_ids(&app, &sql, a).await?;
        assert!(!want.is_empty(), "{text} matches something");
        assert_eq!(row_ids(page), want, "search {text:?}");
        assert_eq!(page["totalCount"], want.len(), "search {text:?}");
    }

    // Search and filter together.
    let body = app
        .gql(
            &token,
            "{ leads(filter: { search: \"acme\", status: { eq: NEW } },
                     orderBy: [{ field: LEAD_SCORE, direction: DESC }]) { nodes { rowId } } }",
            json!({}),
        )
        .await?;
    let want = sql_ids(
        &app,
        "SELECT id FROM app.leads WHERE tenant_id = $1 AND status = 'new'
           AND (name ILIKE '%acme%' OR first_name ILIKE '%acme%' OR last_name ILIKE '%acme%'
                OR email ILIKE '%acme%' OR phone ILIKE '%acme%' OR company ILIKE '%acme%')
         ORDER BY lead_score DESC NULLS LAST, id",
        a,
    )
    .await?;
    assert_eq!(want.len(), 2);
    assert_eq!(row_ids(data(&body, "leads")), want);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Update, convert, delete
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn updating_a_lead_changes_given_fields_keeps_absent_ones_and_clears_nulls(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = member(&app, tenant, Role::Agent).await?;
    let conv = conversation(&app, &token, "+420 602 111 222").await?;
    let created = create_lead(
        &app,
        &token,
        json!({
            "conversationId": conv["rowId"], "name": "Jana", "email": "jana@example.com",
            "phone": "+420 777 123 456", "company": "Nováková a syn", "industry": "Beauty",
            "interest": "WEB_DEVELOPMENT", "leadScore": 40, "priority": "WARM",
            "followUpDate": "2026-04-01T09:00:00Z", "notes": "Call back", "tags": ["a"],
            "dealValue": "100", "lastContactedAt": "2026-03-20T15:30:00Z"
        }),
    )
    .await?;
    let id = id_of(&created);

    let body = app
        .gql(
            &token,
            &update_lead_doc(),
            json!({ "id": created["id"], "input": {
                "name": " Jana Nováková ", "phone": "00420 731 555 010", "leadScore": 55,
                "priority": "COLD", "status": "LOST", "followUpStatus": "LOST",
                "tags": ["b", "c"], "budget": "HUNDRED_THOUSAND_PLUS",
                "company": null, "notes": null, "followUpDate": null, "dealValue": null,
                "conversationId": null, "interest": null
            } }),
        )
        .await?;
    let updated = data(&body, "updateLead");
    assert_eq!(id_of(updated), id);
    // Changed.
    assert_eq!(updated["name"], "Jana Nováková");
    assert_eq!(updated["phone"], "+420731555010");
    assert_eq!(updated["leadScore"], 55);
    assert_eq!(updated["priority"], "COLD");
    assert_eq!(updated["status"], "LOST");
    assert_eq!(updated["followUpStatus"], "LOST");
    assert_eq!(updated["tags"], json!(["b", "c"]));
    assert_eq!(updated["budget"], "HUNDRED_THOUSAND_PLUS");
    // Cleared.
    for field in [
        "company",
        "notes",
        "followUpDate",
        "dealValue",
        "conversationId",
        "interest",
    ] {
        assert!(updated[field].is_null(), "{field} cleared: {updated}");
    }
    // Kept.
    for field in [
        "email",
        "industry",
        "lastContactedAt",
        "createdAt",
        "convertedAt",
    ] {
        assert_eq!(updated[field], created[field], "{field} kept");
    }
    assert!(instant(&updated["updatedAt"]) >= instant(&created["updatedAt"]));

    let row = lead_row(&app, id).await?.expect("stored");
    assert_eq!(row["name"], "Jana Nováková");
    assert_eq!(row["phone"], "+420731555010");
    assert_eq!(row["status"], "lost");
    assert_eq!(row["budget"], "100k+");
    assert_eq!(row["email"], "jana@example.com");
    assert_eq!(row["industry"], "Beauty");
    for column in [
        "company",
        "notes",
        "follow_up_date",
        "deal_value",
        "conversation_id",
        "interest",
    ] {
        assert!(row[column].is_null(), "{column} is NULL: {row}");
    }

    // An empty change writes nothing and answers the lead as it is.
    let body = app
        .gql(&token, &update_lead_doc(), json!({ "id": id, "input": {} }))
        .await?;
    assert_eq!(data(&body, "updateLead"), updated);
    Ok(())
}

#[tokio::test]
async fn converting_a_lead_records_when_and_the_deal_value_and_a_second_conversion_is_a_conflict(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let lead = create_lead(
        &app,
        &token,
        json!({ "name": "Karel", "status": "QUALIFIED", "followUpStatus": "CONTACTED" }),
    )
    .await?;
    let id = id_of(&lead);

    let body = app
        .gql(
            &token,
            &convert_lead_doc(),
            json!({ "id": lead["id"], "dealValue": "1500.5", "convertedAt": "2026-03-01T10:00:00Z" }),
        )
        .await?;
    let converted = data(&body, "convertLead");
    assert_eq!(converted["converted"], true);
    assert_eq!(
        instant(&converted["convertedAt"]),
        instant(&json!("2026-03-01T10:00:00Z"))
    );
    assert_eq!(converted["dealValue"], "1500.50");
    assert_eq!(converted["status"], "CONVERTED");
    assert_eq!(converted["followUpStatus"], "CONVERTED");
    assert_eq!(converted["name"], "Karel");

    let row = sqlx::query(
        "SELECT converted, converted_at, deal_value::text AS deal, status, follow_up_status
         FROM app.leads WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.owner())
    .await?;
    assert!(row.get::<bool, _>("converted"));
    assert_eq!(
        row.get::<DateTime<Utc>, _>("converted_at"),
        instant(&json!("2026-03-01T10:00:00Z"))
    );
    assert_eq!(row.get::<String, _>("deal"), "1500.50");
    assert_eq!(row.get::<String, _>("status"), "converted");
    assert_eq!(row.get::<String, _>("follow_up_status"), "converted");

    // Once only: the second conversion names the status and changes nothing.
    let before = lead_row(&app, id).await?;
    let body = app
        .gql(
            &token,
            &convert_lead_doc(),
            json!({ "id": lead["rowId"], "dealValue": "99" }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT", "{body}");
    assert!(message(&body).contains("CONVERTED"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(lead_row(&app, id).await?, before);

    // Without arguments: converted now, the deal value kept; a lost lead can still convert.
    let other = create_lead(
        &app,
        &token,
        json!({ "name": "Lída", "status": "LOST", "dealValue": "200" }),
    )
    .await?;
    let start = Utc::now();
    let body = app
        .gql(&token, &convert_lead_doc(), json!({ "id": other["id"] }))
        .await?;
    let converted = data(&body, "convertLead");
    assert_eq!(converted["converted"], true);
    assert_eq!(converted["dealValue"], "200.00");
    let at = instant(&converted["convertedAt"]);
    assert!(
        (at - start).num_seconds().abs() < 60,
        "converted now: {at} vs {start}"
    );
    Ok(())
}

#[tokio::test]
async fn a_supervisor_deletes_a_lead_and_gets_its_global_id_back() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let agent = app.token(tenant, Role::Agent).await?;
    let supervisor = app.token(tenant, Role::Supervisor).await?;
    let lead = create_lead(&app, &agent, json!({ "email": "gone@example.com" })).await?;
    let keep = create_lead(&app, &agent, json!({ "email": "kept@example.com" })).await?;
    let id = id_of(&lead);

    let body = app
        .gql(&supervisor, DELETE_LEAD, json!({ "id": lead["id"] }))
        .await?;
    assert_eq!(data(&body, "deleteLead")["deletedId"], lead["id"]);
    assert!(lead_row(&app, id).await?.is_none());
    assert!(lead_row(&app, id_of(&keep)).await?.is_some(), "others stay");
    assert_eq!(app.rows("leads", tenant).await?, 1);

    // Gone: reading, deleting or changing it again is NOT_FOUND.
    let body = app.gql(&agent, &lead_doc(), json!({ "id": id })).await?;
    assert_eq!(refusal(&body).0, "NOT_FOUND", "{body}");
    let body = app
        .gql(&supervisor, DELETE_LEAD, json!({ "id": lead["rowId"] }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".into(), "id".into()), "{body}");
    // The e-mail address is free again.
    create_lead(&app, &agent, json!({ "email": "gone@example.com" })).await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Refusals: roles, tenants, input
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_viewer_may_not_create_or_change_a_lead_and_nothing_is_written() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let agent = app.token(tenant, Role::Agent).await?;
    let viewer = app.token(tenant, Role::Viewer).await?;
    let lead = create_lead(&app, &agent, json!({ "name": "Jana" })).await?;
    let id = id_of(&lead);
    let before = lead_row(&app, id).await?;
    let attempts = [
        (
            create_lead_doc(),
            json!({ "input": { "name": "Eva", "email": "eva@example.com" } }),
        ),
        (
            update_lead_doc(),
            json!({ "id": lead["id"], "input": { "name": "X" } }),
        ),
        (convert_lead_doc(), json!({ "id": lead["id"] })),
        (DELETE_LEAD.to_owned(), json!({ "id": lead["id"] })),
    ];
    for (query, variables) in attempts {
        let body = app.gql(&viewer, &query, variables).await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{query}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(app.rows("leads", tenant).await?, 1);
    assert_eq!(lead_row(&app, id).await?, before, "the lead is unchanged");

    // And without a token, nothing at all.
    let (_, body) = app
        .graphql(
            None,
            &create_lead_doc(),
            json!({ "input": { "name": "Eva" } }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED");
    assert_eq!(app.rows("leads", tenant).await?, 1);
    Ok(())
}

#[tokio::test]
async fn an_agent_may_not_delete_a_lead() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let agent = app.token(tenant, Role::Agent).await?;
    let lead = create_lead(&app, &agent, json!({ "name": "Jana" })).await?;
    let body = app
        .gql(&agent, DELETE_LEAD, json!({ "id": lead["id"] }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    assert!(message(&body).contains("Supervisor") || message(&body).contains("supervisor"));
    assert!(body["data"].is_null(), "{body}");
    assert!(lead_row(&app, id_of(&lead)).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn another_tenants_lead_id_is_not_found_like_a_random_one_and_stays_unchanged(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = tenant(&app).await?;
    let b = tenant(&app).await?;
    let token_a = member(&app, a, Role::Owner).await?;
    let token_b = member(&app, b, Role::Owner).await?;
    let theirs = create_lead(
        &app,
        &token_b,
        json!({ "name": "Bára", "email": "bara@example.com" }),
    )
    .await?;
    let their_conversation = conversation(&app, &token_b, "+420 602 111 222").await?;
    let mine = create_lead(&app, &token_a, json!({ "name": "Adam" })).await?;
    let before_b = lead_row(&app, id_of(&theirs)).await?;
    let before_mine = lead_row(&app, id_of(&mine)).await?;
    let rows_a = app.rows("leads", a).await?;

    let random = global_id::encode("Lead", Uuid::new_v4()).0;
    let attempts: [(String, Value, &str); 4] = [
        (lead_doc(), json!({}), "<no field>"),
        (
            update_lead_doc(),
            json!({ "input": { "name": "Taken over" } }),
            "id",
        ),
        (DELETE_LEAD.to_owned(), json!({}), "id"),
        (convert_lead_doc(), json!({ "dealValue": "1" }), "id"),
    ];
    for (query, template, field) in attempts {
        let mut answers = Vec::new();
        for id in [theirs["id"].clone(), json!(random), theirs["rowId"].clone()] {
            let mut vars = template.clone();
            vars["id"] = id;
            let body = app.gql(&token_a, &query, vars).await?;
            let (code, named) = refusal(&body);
            assert_eq!(code, "NOT_FOUND", "{query}: {body}");
            if field != "<no field>" {
                assert_eq!(named, field, "{query}: {body}");
            }
            answers.push((refusal(&body), message(&body), body["data"].clone()));
        }
        assert_eq!(
            answers[0], answers[1],
            "a foreign id answers like a random one"
        );
        assert_eq!(answers[2], answers[1], "so does its bare row id");
    }

    // Their conversation, as the conversation of a new or an existing lead of mine.
    for conversation_id in [their_conversation["id"].clone(), json!(Uuid::new_v4())] {
        let body = app
            .gql(
                &token_a,
                &create_lead_doc(),
                json!({ "input": { "name": "Eva", "conversationId": conversation_id } }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), "input.conversationId".into()),
            "{body}"
        );
        let body = app
            .gql(
                &token_a,
                &update_lead_doc(),
                json!({ "id": mine["id"], "input": { "conversationId": conversation_id } }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("NOT_FOUND".into(), "input.conversationId".into()),
            "{body}"
        );
    }

    assert_eq!(
        lead_row(&app, id_of(&theirs)).await?,
        before_b,
        "B's lead is untouched"
    );
    assert_eq!(lead_row(&app, id_of(&mine)).await?, before_mine);
    assert_eq!(app.rows("leads", a).await?, rows_a, "nothing written in A");
    Ok(())
}

#[tokio::test]
async fn invalid_lead_input_is_refused_naming_the_field_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    let lead = create_lead(&app, &token, json!({ "email": "only@example.com" })).await?;
    let id = id_of(&lead);
    let before = lead_row(&app, id).await?;
    let create = |input: Value| (create_lead_doc(), json!({ "input": input }));
    let update = |input: Value| (update_lead_doc(), json!({ "id": id, "input": input }));
    let cases = [
        (
            create(json!({ "name": "Eva", "leadScore": 101 })),
            "input.leadScore",
        ),
        (
            create(json!({ "name": "Eva", "leadScore": -1 })),
            "input.leadScore",
        ),
        (
            create(json!({ "name": "Eva", "email": "eva(at)example" })),
            "input.email",
        ),
        (
            create(json!({ "name": "Eva", "email": "eva@localhost" })),
            "input.email",
        ),
        (
            create(json!({ "name": "Eva", "dealValue": "-0.01" })),
            "input.dealValue",
        ),
        (
            create(json!({ "name": "Eva", "dealValue": "10.005" })),
            "input.dealValue",
        ),
        (
            create(json!({ "name": "Eva", "phone": "777 123 456" })),
            "input.phone",
        ),
        (
            create(json!({ "name": "Eva", "tags": ["ok", "  "] })),
            "input.tags[1]",
        ),
        (create(json!({ "name": "x".repeat(201) })), "input.name"),
        (
            create(json!({ "name": "Eva", "status": "CONVERTED" })),
            "input.status",
        ),
        // No contact at all, or only blank ones.
        (
            create(json!({ "company": "Acme", "leadScore": 50 })),
            "input",
        ),
        (create(json!({ "name": "  ", "email": "" })), "input"),
        (update(json!({ "leadScore": 101 })), "input.leadScore"),
        (update(json!({ "email": "not an address" })), "input.email"),
        (update(json!({ "dealValue": "-5" })), "input.dealValue"),
        (update(json!({ "status": null })), "input.status"),
        (update(json!({ "tags": null })), "input.tags"),
        (update(json!({ "status": "CONVERTED" })), "input.status"),
        // Clearing every contact at once, and clearing the last one the lead has.
        (
            update(
                json!({ "name": null, "firstName": null, "lastName": null, "email": null, "phone": null }),
            ),
            "input",
        ),
        (update(json!({ "email": null })), "input"),
        (
            (convert_lead_doc(), json!({ "id": id, "dealValue": "-5" })),
            "dealValue",
        ),
    ];
    for ((query, variables), field) in cases {
        let body = app.gql(&token, &query, variables.clone()).await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".into(), field.into()),
            "{variables}: {body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(app.rows("leads", tenant).await?, 1, "nothing created");
    assert_eq!(lead_row(&app, id).await?, before, "nothing changed");
    Ok(())
}

#[tokio::test]
async fn the_same_email_in_another_case_is_a_conflict_on_input_email() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = app.token(tenant, Role::Agent).await?;
    create_lead(&app, &token, json!({ "email": "Eva.Kral@Example.com" })).await?;
    let other = create_lead(&app, &token, json!({ "name": "Someone else" })).await?;
    let before = lead_row(&app, id_of(&other)).await?;

    let body = app
        .gql(
            &token,
            &create_lead_doc(),
            json!({ "input": { "name": "Eva", "email": "eva.kral@EXAMPLE.COM" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.email".into()),
        "{body}"
    );
    assert!(
        !message(&body).to_lowercase().contains("eva.kral"),
        "never quotes the value"
    );
    assert!(body["data"].is_null(), "{body}");

    let body = app
        .gql(
            &token,
            &update_lead_doc(),
            json!({ "id": other["id"], "input": { "email": "EVA.KRAL@example.com" } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("CONFLICT".into(), "input.email".into()),
        "{body}"
    );
    assert_eq!(app.rows("leads", tenant).await?, 2);
    assert_eq!(lead_row(&app, id_of(&other)).await?, before);
    Ok(())
}

#[tokio::test]
async fn the_global_id_of_another_type_is_bad_user_input() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = member(&app, tenant, Role::Agent).await?;
    let conv = conversation(&app, &token, "+420 602 111 222").await?;
    let customer_id = conv["customer"]["id"].clone();
    let lead = create_lead(&app, &token, json!({ "name": "Jana" })).await?;
    let before = lead_row(&app, id_of(&lead)).await?;

    let body = app
        .gql(&token, &lead_doc(), json!({ "id": customer_id }))
        .await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    assert!(message(&body).contains("Customer"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    // Also inline, and for the mutations' `id`, and as a conversation.
    let body = app
        .gql(
            &token,
            &format!("{{ lead(id: {customer_id}) {{ id }} }}"),
            json!({}),
        )
        .await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    let cases = [
        (
            update_lead_doc(),
            json!({ "id": customer_id, "input": { "name": "X" } }),
        ),
        (convert_lead_doc(), json!({ "id": conv["id"] })),
        (DELETE_LEAD.to_owned(), json!({ "id": customer_id })),
        (
            create_lead_doc(),
            json!({ "input": { "name": "Eva", "conversationId": customer_id } }),
        ),
        (
            update_lead_doc(),
            json!({ "id": lead["id"], "input": { "conversationId": lead["id"] } }),
        ),
    ];
    for (query, variables) in cases {
        let body = app.gql(&token, &query, variables.clone()).await?;
        assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{variables}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(app.rows("leads", tenant).await?, 1);
    assert_eq!(lead_row(&app, id_of(&lead)).await?, before);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Conversation ↔ leads
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_conversation_lists_its_leads_and_each_lead_links_back() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = member(&app, tenant, Role::Agent).await?;
    let one = conversation(&app, &token, "+420 602 111 222").await?;
    let two = conversation(&app, &token, "+420 602 333 444").await?;
    // By global id and by row id.
    create_lead(
        &app,
        &token,
        json!({ "name": "A", "conversationId": one["id"] }),
    )
    .await?;
    create_lead(
        &app,
        &token,
        json!({ "name": "B", "conversationId": one["rowId"] }),
    )
    .await?;
    let moved = create_lead(
        &app,
        &token,
        json!({ "name": "C", "conversationId": two["id"] }),
    )
    .await?;
    let loose = create_lead(&app, &token, json!({ "name": "D" })).await?;

    const LEADS_OF: &str = "query($id: ID!) { conversation(id: $id) {
        rowId leads(first: 50) { totalCount nodes { rowId name conversation { id rowId } } } } }";
    let check = |conv: Value| {
        let app = &app;
        let token = &token;
        async move {
            let body = app
                .gql(token, LEADS_OF, json!({ "id": conv["id"] }))
                .await?;
            let leads = &data(&body, "conversation")["leads"];
            let want = sql_ids(
                app,
                &format!(
                    "SELECT id FROM app.leads WHERE tenant_id = $1 AND conversation_id = '{}'
                     ORDER BY created_at DESC, id",
                    conv["rowId"].as_str().unwrap_or_default()
                ),
                tenant,
            )
            .await?;
            assert_eq!(row_ids(leads), want, "leads of {conv}");
            assert_eq!(leads["totalCount"], want.len());
            for lead in leads["nodes"].as_array().into_iter().flatten() {
                assert_eq!(lead["conversation"]["id"], conv["id"], "{lead} links back");
                assert_eq!(lead["conversation"]["rowId"], conv["rowId"]);
            }
            anyhow::Ok(want.len())
        }
    };
    assert_eq!(check(one.clone()).await?, 2);
    assert_eq!(check(two.clone()).await?, 1);

    // Moving a lead moves it between the lists; a lead without a conversation links to none.
    let body = app
        .gql(
            &token,
            &update_lead_doc(),
            json!({ "id": moved["id"], "input": { "conversationId": one["id"] } }),
        )
        .await?;
    assert_eq!(data(&body, "updateLead")["conversationId"], one["rowId"]);
    assert_eq!(check(one.clone()).await?, 3);
    assert_eq!(check(two.clone()).await?, 0);
    let body = app
        .gql(
            &token,
            "query($id: ID!) { lead(id: $id) { conversation { id } } }",
            json!({ "id": loose["id"] }),
        )
        .await?;
    assert!(data(&body, "lead")["conversation"].is_null(), "{body}");

    // The same links, read for many conversations at once.
    let body = app
        .gql(
            &token,
            "{ conversations(first: 10) { nodes { rowId leads { totalCount nodes { conversation { rowId } } } } } }",
            json!({}),
        )
        .await?;
    for conv in data(&body, "conversations")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let want = if conv["rowId"] == one["rowId"] { 3 } else { 0 };
        assert_eq!(conv["leads"]["totalCount"], want, "{conv}");
        for lead in conv["leads"]["nodes"].as_array().into_iter().flatten() {
            assert_eq!(lead["conversation"]["rowId"], conv["rowId"]);
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_lead_names_its_customer_the_customer_lists_its_leads_and_conversion_can_record_it(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = tenant(&app).await?;
    let token = member(&app, tenant, Role::Agent).await?;
    const CREATE_CUSTOMER: &str = "mutation($input: CreateCustomerInput!) {
        createCustomer(input: $input) { id rowId } }";
    let customer = |name: &str, phone: &str| {
        let (app, token) = (&app, &token);
        let input = json!({ "name": name, "phone": phone });
        async move {
            let body = app
                .gql(token, CREATE_CUSTOMER, json!({ "input": input }))
                .await?;
            anyhow::Ok(data(&body, "createCustomer").clone())
        }
    };
    let anna = customer("Anna", "+420 602 555 111").await?;
    let bert = customer("Bert", "+420 602 555 222").await?;

    let known = create_lead(
        &app,
        &token,
        json!({ "name": "Anna again", "customerId": anna["id"] }),
    )
    .await?;
    let prospect = create_lead(&app, &token, json!({ "name": "Prospect" })).await?;
    let body = app
        .gql(
            &token,
            "mutation($id: ID!, $customer: ID) {
               convertLead(id: $id, customerId: $customer) { converted customer { rowId } } }",
            json!({ "id": prospect["id"], "customer": bert["rowId"] }),
        )
        .await?;
    let converted = data(&body, "convertLead");
    assert_eq!(converted["converted"], true);
    assert_eq!(converted["customer"]["rowId"], bert["rowId"]);

    const LEADS_OF: &str = "query($id: ID!) { customer(id: $id) {
        leads(first: 10) { totalCount nodes { rowId customer { id } } } } }";
    for (who, lead) in [(&anna, &known), (&bert, &prospect)] {
        let body = app
            .gql(&token, LEADS_OF, json!({ "id": who["id"] }))
            .await?;
        let leads = &data(&body, "customer")["leads"];
        assert_eq!(leads["totalCount"], 1, "{body}");
        assert_eq!(leads["nodes"][0]["rowId"], lead["rowId"]);
        assert_eq!(leads["nodes"][0]["customer"]["id"], who["id"]);
    }
    let linked: Option<Uuid> =
        sqlx::query_scalar("SELECT customer_id FROM app.leads WHERE id = $1")
            .bind(id_of(&prospect))
            .fetch_one(app.db.owner())
            .await?;
    assert_eq!(linked, Some(id_of(&bert)));

    // Another tenant's customer is not found, in an input field and as an argument alike.
    let other = tenant_with_customer(&app).await?;
    let body = app
        .gql(
            &token,
            &create_lead_doc(),
            json!({ "input": { "name": "X", "customerId": other } }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".to_owned(), "input.customerId".to_owned())
    );
    let again = create_lead(&app, &token, json!({ "name": "Y" })).await?;
    let body = app
        .gql(
            &token,
            "mutation($id: ID!, $customer: ID) {
               convertLead(id: $id, customerId: $customer) { converted } }",
            json!({ "id": again["id"], "customer": other }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("NOT_FOUND".to_owned(), "customerId".to_owned())
    );
    assert_eq!(
        lead_row(&app, id_of(&again))
            .await?
            .map(|r| r["converted"].clone()),
        Some(json!(false))
    );
    Ok(())
}

/// A customer of a tenant of its own: an id the test's tenant cannot see.
async fn tenant_with_customer(app: &TestApp) -> anyhow::Result<Uuid> {
    let other = tenant(app).await?;
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO app.customers (tenant_id, id, name, phone) VALUES ($1, $2, 'Z', '+420602999999')")
        .bind(other)
        .bind(id)
        .execute(app.db.owner())
        .await?;
    Ok(id)
}
