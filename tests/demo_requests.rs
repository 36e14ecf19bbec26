//! Demo requests over HTTP: `createDemoRequest`, `updateDemoRequest`, `assignDemoRequest`,
//! `setDemoRequestStatus`, `addDemoRequestNote`, `deleteDemoRequest` and the
//! `demoRequest`/`demoRequests` reads. What they store (checked with direct SQL), what lists
//! return (compared with direct SQL), every allowed and refused status move, and what is
//! refused and how (roles, other tenants' ids, bad input) without writing anything.

use chrono::{DateTime, Utc};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, id_of, message, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

const FIELDS: &str = "id rowId name email company jobTitle phone industry companySize useCase
  currentSolution timeline budget additionalInfo status assignedToId scheduledAt completedAt
  source utmSource utmMedium utmCampaign createdAt updatedAt";

fn create_doc() -> String {
    format!("mutation($input: CreateDemoRequestInput!) {{ createDemoRequest(input: $input) {{ {FIELDS} }} }}")
}

fn update_doc() -> String {
    format!(
        "mutation($id: ID!, $input: UpdateDemoRequestInput!) {{
           updateDemoRequest(id: $id, input: $input) {{ {FIELDS} }} }}"
    )
}

const ASSIGN: &str = "mutation($id: ID!, $member: ID) {
  assignDemoRequest(id: $id, memberId: $member) { rowId assignedToId assignedTo { rowId } } }";

const SET_STATUS: &str = "mutation($id: ID!, $status: DemoRequestStatus!, $at: DateTime) {
  setDemoRequestStatus(id: $id, status: $status, scheduledAt: $at) {
    rowId status scheduledAt completedAt } }";

const ADD_NOTE: &str = "mutation($id: ID!, $note: String!) {
  addDemoRequestNote(id: $id, note: $note) {
    id rowId note addedById addedAt addedBy { rowId } demoRequest { rowId } } }";

const DELETE: &str = "mutation($id: ID!) { deleteDemoRequest(id: $id) { deletedId } }";

async fn create(app: &TestApp, token: &str, input: Value) -> anyhow::Result<Value> {
    let body = app
        .gql(token, &create_doc(), json!({ "input": input }))
        .await?;
    Ok(data(&body, "createDemoRequest").clone())
}

/// The stored row (every column, by name), as the owner sees it.
async fn row(app: &TestApp, id: Uuid) -> anyhow::Result<Option<Value>> {
    let row = sqlx::query("SELECT to_jsonb(d) AS doc FROM app.demo_requests d WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.owner())
        .await?;
    Ok(row.map(|r| r.get::<Value, _>("doc")))
}

async fn sql_ids(app: &TestApp, sql: &str, tenant: Uuid) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(sql)
        .bind(tenant)
        .fetch_all(app.db.owner())
        .await?;
    Ok(ids.iter().map(Uuid::to_string).collect())
}

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

/// Puts request `id` in `status` directly (the owner bypasses the flow), to start a move from.
async fn force_status(app: &TestApp, id: Uuid, status: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE app.demo_requests SET status = $2, completed_at = NULL,
                scheduled_at = CASE WHEN $2 = 'new' THEN NULL ELSE scheduled_at END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(app.db.owner())
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Create and read
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_created_demo_request_stores_every_seed_field_and_reads_back_by_either_id(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (rep, token) = app.new_member(tenant, Role::Agent).await?;
    let created = create(
        &app,
        &token,
        json!({
            "name": "  Dr. Alice Novak ", "email": "Alice@Clinic.EXAMPLE", "company": "Novak Clinic",
            "jobTitle": "Practice manager", "phone": "00420 777 123 456", "industry": "MEDICAL",
            "companySize": "ELEVEN_TO_FIFTY", "useCase": "After-hours phone line",
            "currentSolution": "Voicemail", "timeline": "This quarter", "budget": "< 500 USD/month",
            "additionalInfo": "Mornings are busiest", "assignedToId": global_id::encode("Member", rep).0,
            "scheduledAt": "2026-05-04T09:30:00Z", "source": "website", "utmSource": "google",
            "utmMedium": "cpc", "utmCampaign": "ai-receptionist-2025"
        }),
    )
    .await?;
    let id = id_of(&created);
    assert_eq!(created["id"], json!(global_id::encode("DemoRequest", id).0));
    assert_eq!(created["name"], "Dr. Alice Novak");
    assert_eq!(created["email"], "Alice@clinic.example");
    assert_eq!(created["phone"], "+420777123456");
    assert_eq!(created["status"], "NEW", "a request always starts NEW");
    assert_eq!(created["industry"], "MEDICAL");
    assert_eq!(created["companySize"], "ELEVEN_TO_FIFTY");
    assert_eq!(created["assignedToId"], json!(rep));
    assert!(created["completedAt"].is_null());

    let stored = row(&app, id).await?.expect("stored");
    assert_eq!(stored["tenant_id"], json!(tenant));
    assert_eq!(stored["job_title"], "Practice manager");
    assert_eq!(stored["industry"], "medical");
    assert_eq!(stored["company_size"], "11-50");
    assert_eq!(stored["status"], "new");
    assert_eq!(stored["assigned_to"], json!(rep));
    for (column, want) in [
        ("use_case", "After-hours phone line"),
        ("current_solution", "Voicemail"),
        ("timeline", "This quarter"),
        ("budget", "< 500 USD/month"),
        ("additional_info", "Mornings are busiest"),
        ("source", "website"),
        ("utm_source", "google"),
        ("utm_medium", "cpc"),
        ("utm_campaign", "ai-receptionist-2025"),
    ] {
        assert_eq!(stored[column], want, "{column}");
    }

    let doc = format!(
        "query($id: ID!) {{ demoRequest(id: $id) {{ {FIELDS}
           assignedTo {{ rowId email }} notes {{ totalCount }} }} }}"
    );
    for key in [created["id"].clone(), created["rowId"].clone()] {
        let body = app.gql(&token, &doc, json!({ "id": key })).await?;
        let read = data(&body, "demoRequest");
        for field in [
            "name",
            "email",
            "status",
            "scheduledAt",
            "utmCampaign",
            "createdAt",
        ] {
            assert_eq!(read[field], created[field], "{field}");
        }
        assert_eq!(read["assignedTo"]["rowId"], json!(rep));
        assert_eq!(read["notes"]["totalCount"], 0);
    }
    // Viewers read; they do not write.
    let (_, viewer) = app.new_member(tenant, Role::Viewer).await?;
    let body = app
        .gql(&viewer, &doc, json!({ "id": created["id"] }))
        .await?;
    assert_eq!(id_of(data(&body, "demoRequest")), id);
    let body = app
        .gql(
            &viewer,
            &create_doc(),
            json!({ "input": { "name": "X", "email": "x@example.com" } }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN");
    assert_eq!(app.rows("demo_requests", tenant).await?, 1);
    Ok(())
}

#[tokio::test]
async fn lists_filtered_searched_and_ordered_return_exactly_what_sql_returns() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let a = app.new_tenant("A").await?;
    let b = app.new_tenant("B").await?;
    let (rep, token) = app.new_member(a, Role::Agent).await?;
    let rep_id = global_id::encode("Member", rep);
    let inputs = [
        json!({ "name": "Ann", "email": "ann@acme.example", "company": "ACME", "industry": "MEDICAL",
                "companySize": "ONE_TO_TEN", "utmSource": "google", "utmMedium": "cpc", "utmCampaign": "spring" }),
        json!({ "name": "Bob", "email": "bob@law.example", "company": "Law & Co", "industry": "LEGAL",
                "companySize": "OVER_THOUSAND", "utmSource": "linkedin", "utmMedium": "social",
                "assignedToId": rep_id.0 }),
        json!({ "name": "Cyril Acme", "email": "cyril@example.com", "industry": "SALES",
                "companySize": "ONE_TO_TEN", "utmSource": "google", "utmMedium": "email", "utmCampaign": "spring" }),
        json!({ "name": "Dana", "email": "dana@example.com", "company": "100% Sales", "industry": "OTHER",
                "assignedToId": rep_id.0, "utmCampaign": "autumn" }),
        json!({ "name": "Eva", "email": "eva@acme.example", "industry": "MEDICAL",
                "companySize": "FIFTY_ONE_TO_TWO_HUNDRED" }),
        json!({ "name": "Fero", "email": "fero@example.com" }),
    ];
    for (i, input) in inputs.into_iter().enumerate() {
        let id = id_of(&create(&app, &token, input).await?);
        // Distinct creation times, one day apart, and a mix of statuses.
        sqlx::query(
            "UPDATE app.demo_requests SET created_at = '2026-01-01T00:00:00Z'::timestamptz + $2 * interval '1 day',
                    status = (ARRAY['new','contacted','scheduled','completed','declined'])[1 + $2 % 5]
              WHERE id = $1",
        )
        .bind(id)
        .bind(i as i32)
        .execute(app.db.owner())
        .await?;
    }
    // Another tenant's request matches everything and must never show.
    let (_, token_b) = app.new_member(b, Role::Agent).await?;
    create(
        &app,
        &token_b,
        json!({ "name": "Acme B", "email": "b@acme.example", "industry": "MEDICAL",
                "companySize": "ONE_TO_TEN", "utmSource": "google", "utmCampaign": "spring" }),
    )
    .await?;

    let assigned_filter = format!("{{ assignedTo: {{ eq: \"{}\" }} }}", rep_id.0);
    let assigned_sql = format!("assigned_to = '{rep}'");
    let cases = [
        ("{ status: { in: [NEW, SCHEDULED] } }", "status IN ('new', 'scheduled')"),
        ("{ industry: { eq: MEDICAL } }", "industry = 'medical'"),
        ("{ companySize: { eq: ONE_TO_TEN } }", "company_size = '1-10'"),
        ("{ companySize: { isNull: true } }", "company_size IS NULL"),
        (assigned_filter.as_str(), assigned_sql.as_str()),
        ("{ utmSource: { eq: \"google\" } }", "utm_source = 'google'"),
        ("{ utmMedium: { in: [\"cpc\", \"social\"] } }", "utm_medium IN ('cpc', 'social')"),
        ("{ utmCampaign: { eq: \"spring\" }, industry: { ne: SALES } }",
         "utm_campaign = 'spring' AND industry <> 'sales'"),
        (
            "{ createdAt: { gte: \"2026-01-02T00:00:00Z\", lt: \"2026-01-05T00:00:00Z\" } }",
            "created_at >= '2026-01-02T00:00:00Z' AND created_at < '2026-01-05T00:00:00Z'",
        ),
        ("{ search: \"acme\" }",
         "(name ILIKE '%acme%' OR email ILIKE '%acme%' OR company ILIKE '%acme%')"),
        ("{ search: \"100%\" }",
         "(name ILIKE '%100\\%%' OR email ILIKE '%100\\%%' OR company ILIKE '%100\\%%')"),
        ("{ search: \"acme\", status: { ne: COMPLETED } }",
         "(name ILIKE '%acme%' OR email ILIKE '%acme%' OR company ILIKE '%acme%') AND status <> 'completed'"),
    ];
    for (filter, predicate) in cases {
        let body = app
            .gql(
                &token,
                &format!("{{ demoRequests(first: 50, filter: {filter}) {{ totalCount nodes {{ rowId }} }} }}"),
                json!({}),
            )
            .await?;
        let page = data(&body, "demoRequests");
        let want = sql_ids(
            &app,
            &format!(
                "SELECT id FROM app.demo_requests WHERE tenant_id = $1 AND {predicate}
                 ORDER BY created_at DESC, id"
            ),
            a,
        )
        .await?;
        assert!(!want.is_empty(), "{filter} matches something");
        assert_eq!(row_ids(page), want, "{filter}");
        assert_eq!(page["totalCount"], want.len(), "{filter}");
    }

    // Orders: by scheduled time (unscheduled first ascending), by name descending.
    sqlx::query(
        "UPDATE app.demo_requests SET scheduled_at = created_at + interval '3 days'
          WHERE tenant_id = $1 AND status IN ('scheduled', 'completed')",
    )
    .bind(a)
    .execute(app.db.owner())
    .await?;
    for (order, sql) in [
        (
            "{ field: SCHEDULED_AT }",
            "coalesce(scheduled_at, '-infinity'), id",
        ),
        ("{ field: NAME, direction: DESC }", "name DESC, id"),
        ("{ field: COMPANY }", "coalesce(company, ''), id"),
    ] {
        let body = app
            .gql(
                &token,
                &format!(
                    "{{ demoRequests(first: 50, orderBy: [{order}]) {{ nodes {{ rowId }} }} }}"
                ),
                json!({}),
            )
            .await?;
        let want = sql_ids(
            &app,
            &format!("SELECT id FROM app.demo_requests WHERE tenant_id = $1 ORDER BY {sql}"),
            a,
        )
        .await?;
        assert_eq!(row_ids(data(&body, "demoRequests")), want, "{order}");
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Update, assign, notes, delete
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn updating_changes_given_fields_keeps_absent_ones_clears_nulls_and_refuses_bad_input(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (_, token) = app.new_member(tenant, Role::Agent).await?;
    let created = create(
        &app,
        &token,
        json!({ "name": "Jana", "email": "jana@example.com", "company": "Jana s.r.o.",
                "industry": "LEGAL", "utmSource": "google", "budget": "Small" }),
    )
    .await?;
    let id = id_of(&created);
    let body = app
        .gql(
            &token,
            &update_doc(),
            json!({ "id": created["id"], "input": {
                "name": "Jana Nová", "companySize": "TWO_HUNDRED_ONE_TO_THOUSAND",
                "scheduledAt": "2026-06-01T10:00:00Z", "utmMedium": "cpc",
                "company": null, "industry": null
            } }),
        )
        .await?;
    let updated = data(&body, "updateDemoRequest");
    assert_eq!(updated["name"], "Jana Nová");
    assert_eq!(updated["companySize"], "TWO_HUNDRED_ONE_TO_THOUSAND");
    assert_eq!(
        instant(&updated["scheduledAt"]),
        instant(&json!("2026-06-01T10:00:00Z"))
    );
    assert_eq!(updated["utmMedium"], "cpc");
    assert!(updated["company"].is_null() && updated["industry"].is_null());
    for kept in ["email", "utmSource", "budget", "status", "createdAt"] {
        assert_eq!(updated[kept], created[kept], "{kept} kept");
    }
    let stored = row(&app, id).await?.expect("stored");
    assert_eq!(stored["company_size"], "201-1000");
    assert!(stored["company"].is_null());

    let before = row(&app, id).await?;
    let refusals = [
        (json!({ "name": null }), "input.name"),
        (json!({ "name": "   " }), "input.name"),
        (json!({ "email": "not an address" }), "input.email"),
        (json!({ "email": null }), "input.email"),
        (json!({ "phone": "12" }), "input.phone"),
        (json!({ "company": "x".repeat(201) }), "input.company"),
        (
            json!({ "utmCampaign": "x".repeat(201) }),
            "input.utmCampaign",
        ),
    ];
    for (input, field) in refusals {
        let body = app
            .gql(&token, &update_doc(), json!({ "id": id, "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{input}: {body}"
        );
    }
    assert_eq!(
        row(&app, id).await?,
        before,
        "refused updates write nothing"
    );
    // Creates are validated the same way.
    for (input, field) in [
        (
            json!({ "name": "", "email": "a@example.com" }),
            "input.name",
        ),
        (
            json!({ "name": "A", "email": "@example.com" }),
            "input.email",
        ),
        (
            json!({ "name": "A", "email": "a@example.com", "phone": "abc" }),
            "input.phone",
        ),
    ] {
        let body = app
            .gql(&token, &create_doc(), json!({ "input": input }))
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), field.to_owned())
        );
    }
    assert_eq!(app.rows("demo_requests", tenant).await?, 1);
    Ok(())
}

#[tokio::test]
async fn assignment_takes_an_active_non_viewer_member_of_the_tenant_and_null_unassigns(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let other = app.new_tenant("Other").await?;
    let (rep, token) = app.new_member(tenant, Role::Agent).await?;
    let (viewer, _) = app.new_member(tenant, Role::Viewer).await?;
    let (stranger, _) = app.new_member(other, Role::Agent).await?;
    let (retired, _) = app.new_member(tenant, Role::Agent).await?;
    sqlx::query("UPDATE app.memberships SET is_active = false WHERE user_id = $1")
        .bind(retired)
        .execute(app.db.owner())
        .await?;
    let id = id_of(
        &create(
            &app,
            &token,
            json!({ "name": "A", "email": "a@example.com" }),
        )
        .await?,
    );

    let body = app
        .gql(
            &token,
            ASSIGN,
            json!({ "id": id, "member": global_id::encode("Member", rep).0 }),
        )
        .await?;
    let assigned = data(&body, "assignDemoRequest");
    assert_eq!(assigned["assignedToId"], json!(rep));
    assert_eq!(assigned["assignedTo"]["rowId"], json!(rep));

    for (member, want) in [
        (stranger, ("NOT_FOUND", "memberId")),
        (Uuid::new_v4(), ("NOT_FOUND", "memberId")),
        (viewer, ("BAD_USER_INPUT", "memberId")),
        (retired, ("BAD_USER_INPUT", "memberId")),
    ] {
        let body = app
            .gql(&token, ASSIGN, json!({ "id": id, "member": member }))
            .await?;
        assert_eq!(
            refusal(&body),
            (want.0.to_owned(), want.1.to_owned()),
            "{body}"
        );
    }
    assert_eq!(
        row(&app, id).await?.expect("stored")["assigned_to"],
        json!(rep)
    );

    let body = app
        .gql(&token, ASSIGN, json!({ "id": id, "member": null }))
        .await?;
    let unassigned = data(&body, "assignDemoRequest");
    assert!(unassigned["assignedToId"].is_null() && unassigned["assignedTo"].is_null());
    assert!(row(&app, id).await?.expect("stored")["assigned_to"].is_null());
    Ok(())
}

#[tokio::test]
async fn notes_are_written_by_the_caller_and_listed_oldest_first() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (rep, token) = app.new_member(tenant, Role::Agent).await?;
    let created = create(
        &app,
        &token,
        json!({ "name": "A", "email": "a@example.com" }),
    )
    .await?;
    let mut ids = Vec::new();
    for text in ["Left a voicemail.", "  Demo booked with the owner.  "] {
        let body = app
            .gql(
                &token,
                ADD_NOTE,
                json!({ "id": created["id"], "note": text }),
            )
            .await?;
        let note = data(&body, "addDemoRequestNote");
        assert_eq!(note["note"], text.trim());
        assert_eq!(note["addedById"], json!(rep));
        assert_eq!(note["addedBy"]["rowId"], json!(rep));
        assert_eq!(note["demoRequest"]["rowId"], created["rowId"]);
        ids.push(note["rowId"].clone());
    }
    let body = app
        .gql(
            &token,
            "query($id: ID!) { demoRequest(id: $id) { notes { totalCount nodes { rowId note } } } }",
            json!({ "id": created["id"] }),
        )
        .await?;
    let notes = &data(&body, "demoRequest")["notes"];
    assert_eq!(notes["totalCount"], 2);
    let listed: Vec<Value> = notes["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["rowId"].clone())
        .collect();
    assert_eq!(listed, ids, "oldest first");

    let body = app
        .gql(
            &token,
            ADD_NOTE,
            json!({ "id": created["id"], "note": "  " }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "note".to_owned())
    );
    assert_eq!(app.rows("demo_request_notes", tenant).await?, 2);
    Ok(())
}

#[tokio::test]
async fn deleting_takes_a_supervisor_and_removes_the_notes_too() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (_, agent) = app.new_member(tenant, Role::Agent).await?;
    let (_, supervisor) = app.new_member(tenant, Role::Supervisor).await?;
    let created = create(
        &app,
        &agent,
        json!({ "name": "A", "email": "a@example.com" }),
    )
    .await?;
    app.gql(
        &agent,
        ADD_NOTE,
        json!({ "id": created["id"], "note": "n" }),
    )
    .await?;

    let body = app
        .gql(&agent, DELETE, json!({ "id": created["id"] }))
        .await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    assert_eq!(app.rows("demo_requests", tenant).await?, 1);

    let body = app
        .gql(&supervisor, DELETE, json!({ "id": created["rowId"] }))
        .await?;
    assert_eq!(data(&body, "deleteDemoRequest")["deletedId"], created["id"]);
    assert_eq!(app.rows("demo_requests", tenant).await?, 0);
    assert_eq!(app.rows("demo_request_notes", tenant).await?, 0);

    let body = app
        .gql(&supervisor, DELETE, json!({ "id": created["id"] }))
        .await?;
    assert_eq!(refusal(&body), ("NOT_FOUND".to_owned(), "id".to_owned()));
    Ok(())
}

#[tokio::test]
async fn another_tenants_request_is_not_found_by_every_mutation_and_nothing_is_written(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("A").await?;
    let b = app.new_tenant("B").await?;
    let (_, token_a) = app.new_member(a, Role::Agent).await?;
    let (_, supervisor_b) = app.new_member(b, Role::Supervisor).await?;
    let theirs = create(
        &app,
        &token_a,
        json!({ "name": "A", "email": "a@example.com" }),
    )
    .await?;
    let id = theirs["id"].clone();
    let before = row(&app, id_of(&theirs)).await?;

    let attempts = [
        (
            update_doc(),
            json!({ "id": id, "input": { "name": "Mine" } }),
        ),
        (ASSIGN.to_owned(), json!({ "id": id, "member": null })),
        (
            SET_STATUS.to_owned(),
            json!({ "id": id, "status": "CONTACTED" }),
        ),
        (ADD_NOTE.to_owned(), json!({ "id": id, "note": "hello" })),
        (DELETE.to_owned(), json!({ "id": id })),
        (
            format!("query($id: ID!) {{ demoRequest(id: $id) {{ {FIELDS} }} }}"),
            json!({ "id": id }),
        ),
    ];
    for (doc, vars) in attempts {
        let body = app.gql(&supervisor_b, &doc, vars).await?;
        assert_eq!(refusal(&body).0, "NOT_FOUND", "{doc}: {body}");
    }
    assert_eq!(row(&app, id_of(&theirs)).await?, before);
    assert_eq!(app.rows("demo_request_notes", a).await?, 0);
    let body = app
        .gql(&supervisor_b, "{ demoRequests { totalCount } }", json!({}))
        .await?;
    assert_eq!(data(&body, "demoRequests")["totalCount"], 0);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// The status flow
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_status_flow_allows_exactly_the_documented_moves() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (_, token) = app.new_member(tenant, Role::Agent).await?;
    let id = id_of(
        &create(
            &app,
            &token,
            json!({ "name": "A", "email": "a@example.com", "scheduledAt": "2026-05-04T09:30:00Z" }),
        )
        .await?,
    );
    // (from, to, allowed); SCHEDULED is given a time here (the time rules are tested below).
    let statuses = ["NEW", "CONTACTED", "SCHEDULED", "COMPLETED", "DECLINED"];
    let allowed = |from: &str, to: &str| {
        matches!(
            (from, to),
            ("NEW", "CONTACTED")
                | ("NEW" | "CONTACTED", "SCHEDULED")
                | ("SCHEDULED", "COMPLETED")
                | ("NEW" | "CONTACTED" | "SCHEDULED", "DECLINED")
        )
    };
    for from in statuses {
        for to in &statuses[1..] {
            force_status(&app, id, &from.to_lowercase()).await?;
            let before = row(&app, id).await?.expect("stored");
            let at = (*to == "SCHEDULED").then_some("2026-07-01T08:00:00Z");
            let body = app
                .gql(
                    &token,
                    SET_STATUS,
                    json!({ "id": id, "status": to, "at": at }),
                )
                .await?;
            if allowed(from, to) {
                let moved = data(&body, "setDemoRequestStatus");
                assert_eq!(moved["status"], *to, "{from} -> {to}");
                let stored = row(&app, id).await?.expect("stored");
                assert_eq!(stored["status"], to.to_lowercase());
                assert_eq!(
                    !stored["completed_at"].is_null(),
                    *to == "COMPLETED",
                    "{from} -> {to}"
                );
                if *to == "SCHEDULED" {
                    assert_eq!(
                        instant(&moved["scheduledAt"]),
                        instant(&json!("2026-07-01T08:00:00Z"))
                    );
                }
            } else {
                assert_eq!(refusal(&body).0, "CONFLICT", "{from} -> {to}: {body}");
                assert!(
                    message(&body).contains(from),
                    "names the current status: {body}"
                );
                assert_eq!(
                    row(&app, id).await?.expect("stored"),
                    before,
                    "{from} -> {to}"
                );
            }
        }
    }
    // NEW is never a target.
    force_status(&app, id, "contacted").await?;
    let body = app
        .gql(&token, SET_STATUS, json!({ "id": id, "status": "NEW" }))
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "status".to_owned())
    );
    Ok(())
}

#[tokio::test]
async fn scheduling_needs_a_time_given_or_stored_and_completing_records_when() -> anyhow::Result<()>
{
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Demo desk").await?;
    let (_, token) = app.new_member(tenant, Role::Agent).await?;
    let bare = id_of(
        &create(
            &app,
            &token,
            json!({ "name": "A", "email": "a@example.com" }),
        )
        .await?,
    );

    let body = app
        .gql(
            &token,
            SET_STATUS,
            json!({ "id": bare, "status": "SCHEDULED" }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "scheduledAt".to_owned())
    );
    let body = app
        .gql(
            &token,
            SET_STATUS,
            json!({ "id": bare, "status": "CONTACTED", "at": "2026-07-01T08:00:00Z" }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "scheduledAt".to_owned())
    );
    assert_eq!(row(&app, bare).await?.expect("stored")["status"], "new");

    // A time already on the request is enough.
    let proposed = id_of(
        &create(
            &app,
            &token,
            json!({ "name": "B", "email": "b@example.com", "scheduledAt": "2026-05-04T09:30:00Z" }),
        )
        .await?,
    );
    let body = app
        .gql(
            &token,
            SET_STATUS,
            json!({ "id": proposed, "status": "SCHEDULED" }),
        )
        .await?;
    let scheduled = data(&body, "setDemoRequestStatus");
    assert_eq!(scheduled["status"], "SCHEDULED");
    assert_eq!(
        instant(&scheduled["scheduledAt"]),
        instant(&json!("2026-05-04T09:30:00Z"))
    );

    let body = app
        .gql(
            &token,
            SET_STATUS,
            json!({ "id": proposed, "status": "COMPLETED" }),
        )
        .await?;
    let completed = data(&body, "setDemoRequestStatus");
    assert_eq!(completed["status"], "COMPLETED");
    let (completed_at, now): (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT completed_at, now() FROM app.demo_requests WHERE id = $1")
            .bind(proposed)
            .fetch_one(app.db.owner())
            .await?;
    assert!(
        (now - completed_at).num_seconds().abs() < 60,
        "completed now"
    );

    // Final: declining a completed demo is a conflict naming COMPLETED.
    let body = app
        .gql(
            &token,
            SET_STATUS,
            json!({ "id": proposed, "status": "DECLINED" }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "CONFLICT");
    assert!(message(&body).contains("COMPLETED"), "{body}");
    Ok(())
}
