//! Tickets through the API (the read side): lists, filters and orders equal direct SQL, a
//! ticket's documents, notes and links read back as stored, the customer and conversation
//! graphs reach their tickets, and another tenant's tickets are invisible.

use frontdesk_db::sqlx;
use frontdesk_e2e::body::refusal;
use frontdesk_e2e::{spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

async fn setup() -> anyhow::Result<(TestApp, String)> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 30,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    Ok((app, token))
}

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
    let (status, body) = app.graphql(Some(token), query, variables).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    Ok(body["data"].clone())
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

#[tokio::test]
async fn ticket_lists_filtered_and_ordered_by_priority_equal_direct_sql() -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let tenant = SeedSpec::tenant_id(0);
    let data = ok(
        &app,
        &token,
        "{ tickets(first: 100, orderBy: [{ field: PRIORITY, direction: DESC }]) {
             totalCount nodes { rowId } } }",
        json!({}),
    )
    .await?;
    let want = sql_ids(
        &app,
        "SELECT id FROM app.tickets WHERE tenant_id = $1
          ORDER BY CASE priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                   ELSE 1 END DESC, id",
        tenant,
    )
    .await?;
    assert!(want.len() >= 3, "the seed makes tickets: {want:?}");
    assert_eq!(row_ids(&data["tickets"]), want);
    assert_eq!(data["tickets"]["totalCount"], want.len());

    let data = ok(
        &app,
        &token,
        "{ tickets(first: 100, filter: { status: { in: [OPEN, IN_PROGRESS] },
                                         category: { ne: OTHER } }) { nodes { rowId } } }",
        json!({}),
    )
    .await?;
    let want = sql_ids(
        &app,
        "SELECT id FROM app.tickets WHERE tenant_id = $1 AND status IN ('open', 'in_progress')
           AND category <> 'other' ORDER BY created_at DESC, id",
        tenant,
    )
    .await?;
    assert_eq!(row_ids(&data["tickets"]), want);
    Ok(())
}

#[tokio::test]
async fn a_ticket_reads_back_its_documents_notes_and_links_as_stored() -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let tenant = SeedSpec::tenant_id(0);
    let id: Uuid = sqlx::query_scalar(
        "SELECT id FROM app.tickets WHERE tenant_id = $1
          ORDER BY jsonb_array_length(attachments) DESC, id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let data = ok(
        &app,
        &token,
        "query($id: ID!) { ticket(id: $id) {
           ticketNumber subject status priority slaLevel tags
           attachments { type url filename }
           labels { name color }
           customer { rowId tickets(first: 50) { nodes { rowId } } }
           notes(first: 10) { totalCount nodes { content isInternal ticket { rowId } } } } }",
        json!({ "id": id }),
    )
    .await?;
    let ticket = &data["ticket"];
    let stored: Value = sqlx::query_scalar(
        "SELECT jsonb_build_object('number', ticket_number, 'customer', customer_id,
                'attachments', jsonb_array_length(attachments), 'url', attachments -> 0 ->> 'url',
                'notes', (SELECT count(*) FROM app.ticket_notes n WHERE n.ticket_id = t.id))
           FROM app.tickets t WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(ticket["ticketNumber"], stored["number"]);
    assert_eq!(ticket["customer"]["rowId"], stored["customer"]);
    assert_eq!(
        ticket["attachments"].as_array().map(Vec::len),
        stored["attachments"].as_u64().map(|n| n as usize)
    );
    assert_eq!(ticket["attachments"][0]["url"], stored["url"]);
    assert_eq!(ticket["notes"]["totalCount"], stored["notes"]);
    for note in ticket["notes"]["nodes"].as_array().into_iter().flatten() {
        assert_eq!(note["ticket"]["rowId"], id.to_string(), "a note links back");
    }
    let of_customer = row_ids(&ticket["customer"]["tickets"]);
    assert!(
        of_customer.contains(&id.to_string()),
        "the customer lists the ticket: {of_customer:?}"
    );
    Ok(())
}

#[tokio::test]
async fn another_tenants_ticket_is_not_found_like_a_missing_one_and_never_listed(
) -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let theirs: Uuid =
        sqlx::query_scalar("SELECT id FROM app.tickets WHERE tenant_id = $1 LIMIT 1")
            .bind(SeedSpec::tenant_id(1))
            .fetch_one(app.db.owner())
            .await?;
    let q = "query($id: ID!) { ticket(id: $id) { rowId } }";
    let (_, foreign) = app
        .graphql(Some(&token), q, json!({ "id": theirs }))
        .await?;
    let (_, missing) = app
        .graphql(Some(&token), q, json!({ "id": Uuid::new_v4() }))
        .await?;
    assert_eq!(refusal(&foreign), refusal(&missing));
    assert_eq!(refusal(&foreign).0, "NOT_FOUND");

    let data = ok(
        &app,
        &token,
        "query($id: ID!) { tickets(first: 100, filter: { id: { eq: $id } }) { totalCount } }",
        json!({ "id": theirs }),
    )
    .await?;
    assert_eq!(data["tickets"]["totalCount"], 0);
    Ok(())
}
