//! Cross-tenant reads through the API: another tenant's ids, in arguments, filters, cursors
//! or nested lists, behave exactly like ids that do not exist.

use frontdesk_db::sqlx;
use frontdesk_e2e::{error_code, spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

async fn setup() -> anyhow::Result<(TestApp, String, Uuid)> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 8,
        bookings_per_customer: 2,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let a = app.token(SeedSpec::tenant_id(0), Role::Owner).await?;
    Ok((app, a, SeedSpec::tenant_id(1)))
}

async fn one_id(app: &TestApp, table: &str, tenant: Uuid) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM app.{table} WHERE tenant_id = $1 ORDER BY id LIMIT 1"
    ))
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?)
}

fn without_request_ids(mut body: Value) -> Value {
    if let Some(errors) = body["errors"].as_array_mut() {
        for e in errors {
            if let Some(ext) = e["extensions"].as_object_mut() {
                ext.remove("requestId");
            }
        }
    }
    body
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_exactly_like_missing_ids() -> anyhow::Result<()> {
    let (app, token, b) = setup().await?;
    for (field, table) in [
        ("customer", "customers"),
        ("booking", "bookings"),
        ("call", "calls"),
        ("smsMessage", "sms_messages"),
    ] {
        let q = format!("query($id: ID!) {{ {field}(id: $id) {{ id: rowId }} }}");
        let theirs = one_id(&app, table, b).await?;
        let (s1, foreign) = app
            .graphql(Some(&token), &q, json!({ "id": theirs }))
            .await?;
        let (s2, missing) = app
            .graphql(Some(&token), &q, json!({ "id": Uuid::new_v4() }))
            .await?;
        assert_eq!((s1, s2), (200, 200));
        assert_eq!(error_code(&foreign), Some("NOT_FOUND"), "{foreign}");
        assert_eq!(without_request_ids(foreign), without_request_ids(missing));
    }
    Ok(())
}

#[tokio::test]
async fn another_tenants_ids_in_filters_and_nested_lists_match_nothing() -> anyhow::Result<()> {
    let (app, token, b) = setup().await?;
    let customer = one_id(&app, "customers", b).await?;
    let booking = one_id(&app, "bookings", b).await?;
    let (_, body) = app
        .graphql(
            Some(&token),
            "query($c: ID!, $b: ID!) {
               customers(filter: { id: { in: [$c] } }) { totalCount nodes { id: rowId } }
               bookings(filter: { or: [{ customerId: { eq: $c } }, { id: { eq: $b } }] }) { totalCount }
               calls(filter: { bookingId: { eq: $b } }) { totalCount }
               smsMessages(filter: { customerId: { eq: $c } }) { totalCount } }",
            json!({ "c": customer, "b": booking }),
        )
        .await?;
    assert!(body["errors"].is_null(), "{body}");
    let data = &body["data"];
    assert_eq!(data["customers"]["totalCount"], 0);
    assert_eq!(data["customers"]["nodes"], json!([]));
    assert_eq!(data["bookings"]["totalCount"], 0);
    assert_eq!(data["calls"]["totalCount"], 0);
    assert_eq!(data["smsMessages"]["totalCount"], 0);

    // Nested levels only ever reach the caller's own rows.
    let (_, body) = app
        .graphql(
            Some(&token),
            "{ customers(first: 50) { nodes { bookings { nodes { customer { id: rowId } calls { nodes { id: rowId } } } } } } }",
            json!({}),
        )
        .await?;
    let text = body.to_string();
    assert!(!text.contains(&customer.to_string()), "{text}");
    Ok(())
}

#[tokio::test]
async fn cursors_from_another_tenant_another_list_or_altered_are_bad_user_input(
) -> anyhow::Result<()> {
    let (app, token, b) = setup().await?;
    let theirs = app.token(b, Role::Owner).await?;
    let q =
        "query($after: String) { customers(first: 2, after: $after) { pageInfo { endCursor } } }";
    let (_, body) = app.graphql(Some(&theirs), q, json!({})).await?;
    let foreign = body["data"]["customers"]["pageInfo"]["endCursor"].clone();
    let (_, body) = app.graphql(Some(&token), q, json!({})).await?;
    let own = body["data"]["customers"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, ok) = app
        .graphql(Some(&token), q, json!({ "after": own }))
        .await?;
    assert!(ok["errors"].is_null(), "{ok}");

    let other_list = "query($after: String) { customers(first: 2, after: $after, orderBy: [{field: NAME}]) { totalCount } }";
    let mut altered = own.clone();
    altered.replace_range(2..3, if &own[2..3] == "A" { "B" } else { "A" });
    for (query, cursor) in [
        (q, foreign),
        (other_list, json!(own)),
        (q, json!(altered)),
        (q, json!("not-a-cursor")),
    ] {
        let (status, body) = app
            .graphql(Some(&token), query, json!({ "after": cursor }))
            .await?;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    }
    Ok(())
}
