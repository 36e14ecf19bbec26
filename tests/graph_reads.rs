//! The customer graph read API against seeded data: nested connections equal what direct SQL
//! says, paging both ways is exact, filters and orders do what they claim.

use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::{error_code, spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const NESTED: &str = "query($first: Int) {
  customers(first: $first) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage }
    nodes { id: rowId name
      bookings(first: 10) { totalCount nodes { id: rowId customerId
        calls(first: 5) { nodes { id: rowId bookingId
          smsMessages(first: 5) { nodes { id: rowId callId messageBody } } } } } } } } }";

fn spec(customers: u32) -> SeedSpec {
    SeedSpec {
        tenants: 2,
        customers_per_tenant: customers,
        bookings_per_customer: 3,
        calls_per_booking: 2,
        sms_per_call: 2,
    }
}

async fn ids(
    app: &TestApp,
    sql: &str,
    tenant: Uuid,
    parent: Option<Uuid>,
) -> anyhow::Result<Vec<String>> {
    let mut q = sqlx::query(sql).bind(tenant);
    if let Some(p) = parent {
        q = q.bind(p);
    }
    Ok(q.fetch_all(app.db.owner())
        .await?
        .iter()
        .map(|r| r.get::<Uuid, _>(0).to_string())
        .collect())
}

fn node_ids(conn: &Value) -> Vec<String> {
    conn["nodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn nested_customers_bookings_calls_and_sms_equal_direct_sql() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(12)).await?;
    let tenant = SeedSpec::tenant_id(1);
    let token = app.token(tenant, Role::Viewer).await?;
    let (status, body) = app
        .graphql(Some(&token), NESTED, json!({ "first": 10 }))
        .await?;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    let customers = &body["data"]["customers"];
    assert_eq!(customers["totalCount"], 12);
    assert_eq!(customers["pageInfo"]["hasNextPage"], true);
    assert_eq!(customers["pageInfo"]["hasPreviousPage"], false);

    let expected = ids(
        &app,
        "SELECT id FROM app.customers WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT 10",
        tenant,
        None,
    )
    .await?;
    assert_eq!(node_ids(customers), expected);
    let mut calls_seen = 0;
    let mut sms_seen = 0;
    for c in customers["nodes"].as_array().into_iter().flatten() {
        let cid: Uuid = c["id"].as_str().unwrap_or_default().parse()?;
        let bookings = &c["bookings"];
        let want = ids(&app, "SELECT id FROM app.bookings WHERE tenant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id LIMIT 10", tenant, Some(cid)).await?;
        assert_eq!(node_ids(bookings), want, "bookings of {cid}");
        assert_eq!(bookings["totalCount"], want.len());
        for b in bookings["nodes"].as_array().into_iter().flatten() {
            assert_eq!(b["customerId"], c["id"]);
            let bid: Uuid = b["id"].as_str().unwrap_or_default().parse()?;
            let want = ids(&app, "SELECT id FROM app.calls WHERE tenant_id = $1 AND booking_id = $2 ORDER BY created_at DESC, id LIMIT 5", tenant, Some(bid)).await?;
            assert_eq!(node_ids(&b["calls"]), want, "calls of {bid}");
            for call in b["calls"]["nodes"].as_array().into_iter().flatten() {
                calls_seen += 1;
                let kid: Uuid = call["id"].as_str().unwrap_or_default().parse()?;
                let want = ids(&app, "SELECT id FROM app.sms_messages WHERE tenant_id = $1 AND call_id = $2 ORDER BY created_at DESC, id LIMIT 5", tenant, Some(kid)).await?;
                assert_eq!(node_ids(&call["smsMessages"]), want, "sms of {kid}");
                sms_seen += want.len();
            }
        }
    }
    assert!(
        calls_seen > 0 && sms_seen > 0,
        "the seed links calls and SMS to bookings"
    );
    Ok(())
}

#[tokio::test]
async fn paging_forward_then_backward_visits_every_row_once_in_order() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(25)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Agent).await?;
    let want = ids(
        &app,
        "SELECT id FROM app.customers WHERE tenant_id = $1 ORDER BY name DESC, id",
        tenant,
        None,
    )
    .await?;
    let page = "query($after: String, $before: String, $first: Int, $last: Int) {
      customers(first: $first, after: $after, last: $last, before: $before,
                orderBy: [{field: NAME, direction: DESC}]) {
        edges { cursor node { id: rowId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, body) = app
            .graphql(Some(&token), page, json!({ "first": 7, "after": after }))
            .await?;
        let conn = &body["data"]["customers"];
        for e in conn["edges"].as_array().into_iter().flatten() {
            seen.push(e["node"]["id"].as_str().unwrap_or_default().to_owned());
        }
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, want);

    let mut back = Vec::new();
    let mut before = Value::Null;
    loop {
        let (_, body) = app
            .graphql(Some(&token), page, json!({ "last": 6, "before": before }))
            .await?;
        let conn = &body["data"]["customers"];
        let mut chunk: Vec<String> = conn["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        chunk.extend(back);
        back = chunk;
        if conn["pageInfo"]["hasPreviousPage"] != true {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(back, want);
    Ok(())
}

#[tokio::test]
async fn filters_and_text_search_match_direct_sql() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(30)).await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Viewer).await?;
    let q =
        "query($f: BookingFilter) { bookings(first: 100, filter: $f) { totalCount nodes { id: rowId } } }";
    let filter = json!({ "or": [{ "status": { "in": ["CONFIRMED", "NO_SHOW"] } },
                                 { "paymentAmount": { "gte": "100" } }],
                         "not": { "source": { "eq": "SMS" } } });
    let (_, body) = app.graphql(Some(&token), q, json!({ "f": filter })).await?;
    let want = ids(
        &app,
        "SELECT id FROM app.bookings WHERE tenant_id = $1
        AND (status IN ('confirmed', 'no-show') OR payment_amount >= 100)
        AND NOT coalesce(source = 'sms', false) ORDER BY created_at DESC, id LIMIT 100",
        tenant,
        None,
    )
    .await?;
    assert!(!want.is_empty());
    assert_eq!(node_ids(&body["data"]["bookings"]), want, "{body}");

    let (_, body) = app.graphql(Some(&token),
        "query($q: String) { smsMessages(first: 100, filter: { search: $q }) { totalCount nodes { id: rowId } } }",
        json!({ "q": "confirmed" })).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM app.sms_messages WHERE tenant_id = $1 AND search @@ websearch_to_tsquery('simple', 'confirmed')")
        .bind(tenant).fetch_one(app.db.owner()).await?;
    assert_eq!(body["data"]["smsMessages"]["totalCount"], n, "{body}");

    let (_, body) = app.graphql(Some(&token),
        "{ calls(first: 5, filter: { metadata: { contains: {afterHours: true} }, keywords: { overlaps: [\"booking\"] } }) { totalCount } }",
        json!({})).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM app.calls WHERE tenant_id = $1 AND metadata @> '{\"afterHours\": true}' AND keywords && ARRAY['booking']")
        .bind(tenant).fetch_one(app.db.owner()).await?;
    assert_eq!(body["data"]["calls"]["totalCount"], n, "{body}");
    assert!(error_code(&body).is_none());
    Ok(())
}

#[tokio::test]
async fn lists_reading_only_selected_columns_return_the_same_values_as_a_full_read(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.seed(&spec(5)).await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let fields = "id phoneNumber duration transcript cost status sentiment keywords metadata
                  analysis { sentiment topics actionItems followUpRequired }
                  costBreakdown { callCost totalCost groqTokens } messages { role message }
                  entities { type value } startedAt bookingId customerId";
    let (_, list) = app
        .graphql(
            Some(&token),
            &format!("{{ calls(first: 20) {{ nodes {{ {fields} }} }} }}"),
            json!({}),
        )
        .await?;
    let nodes = list["data"]["calls"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!nodes.is_empty(), "{list}");
    for node in nodes {
        let (_, one) = app
            .graphql(
                Some(&token),
                &format!("query($id: ID!) {{ call(id: $id) {{ {fields} }} }}"),
                json!({ "id": node["id"] }),
            )
            .await?;
        assert_eq!(one["data"]["call"], node);
    }
    Ok(())
}
