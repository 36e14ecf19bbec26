//! Relay's Global Object Identification over HTTP: every entity's `id` is a global id that
//! `node`/`nodes` resolve, every id argument and filter takes it or the bare row UUID, a global
//! id of the wrong type is refused, and another tenant's object is invisible like a missing one.

use frontdesk_db::sqlx;
use frontdesk_e2e::body::refusal;
use frontdesk_e2e::{error_code, spawn_app, Role, SeedSpec, TestApp};
use frontdesk_graphql::entity::global_id;
use serde_json::{json, Value};
use uuid::Uuid;

async fn setup() -> anyhow::Result<(TestApp, String)> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 6,
        bookings_per_customer: 2,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    Ok((app, token))
}

async fn first_row(app: &TestApp, table: &str, tenant: Uuid) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM app.{table} WHERE tenant_id = $1 ORDER BY id LIMIT 1"
    ))
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?)
}

fn global(type_name: &str, row: Uuid) -> String {
    global_id::encode(type_name, row).0
}

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
    let (status, body) = app.graphql(Some(token), query, variables).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    Ok(body["data"].clone())
}

#[tokio::test]
async fn node_refetches_each_entity_by_the_global_id_its_list_returned() -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let lists = [
        ("customers", "Customer"),
        ("bookings", "Booking"),
        ("calls", "Call"),
        ("smsMessages", "SmsMessage"),
        ("conversations", "Conversation"),
        ("members", "Member"),
    ];
    for (list, type_name) in lists {
        let data = ok(
            &app,
            &token,
            &format!("{{ {list}(first: 1) {{ nodes {{ id rowId }} }} }}"),
            json!({}),
        )
        .await?;
        let node = &data[list]["nodes"][0];
        let id = node["id"].as_str().unwrap_or_default().to_owned();
        let row: Uuid = node["rowId"].as_str().unwrap_or_default().parse()?;
        assert_eq!(
            id,
            global(type_name, row),
            "{list}: the id names the type and row"
        );

        let data = ok(
            &app,
            &token,
            "query($id: ID!) { node(id: $id) { __typename id } }",
            json!({ "id": id }),
        )
        .await?;
        assert_eq!(data["node"]["__typename"], type_name);
        assert_eq!(data["node"]["id"], id.as_str());
    }
    Ok(())
}

#[tokio::test]
async fn nodes_keep_the_order_given_and_another_tenants_object_is_null_like_a_missing_one(
) -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let mine = first_row(&app, "customers", SeedSpec::tenant_id(0)).await?;
    let booking = first_row(&app, "bookings", SeedSpec::tenant_id(0)).await?;
    let theirs = first_row(&app, "customers", SeedSpec::tenant_id(1)).await?;
    let ids = [
        global("Booking", booking),
        global("Customer", theirs),
        global("Customer", mine),
        global("Customer", Uuid::new_v4()),
    ];
    let data = ok(
        &app,
        &token,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Customer { rowId name }
                                                  ... on Booking { rowId status } } }",
        json!({ "ids": ids }),
    )
    .await?;
    let nodes = data["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["__typename"], "Booking");
    assert_eq!(nodes[0]["rowId"], booking.to_string());
    assert!(nodes[1].is_null(), "another tenant's customer: {data}");
    assert_eq!(nodes[2]["rowId"], mine.to_string());
    assert!(nodes[3].is_null(), "a missing customer: {data}");
    Ok(())
}

#[tokio::test]
async fn node_reads_the_nested_lists_of_the_object_it_finds() -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let customer = first_row(&app, "customers", SeedSpec::tenant_id(0)).await?;
    let data = ok(
        &app,
        &token,
        "query($id: ID!) { node(id: $id) { ... on Customer {
           bookings(first: 5) { totalCount nodes { rowId calls(first: 2) { nodes { rowId } } } } } } }",
        json!({ "id": global("Customer", customer) }),
    )
    .await?;
    let want: i64 = sqlx::query_scalar("SELECT count(*) FROM app.bookings WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(app.db.owner())
        .await?;
    assert_eq!(data["node"]["bookings"]["totalCount"], want);
    assert_eq!(
        data["node"]["bookings"]["nodes"].as_array().map(Vec::len),
        Some(usize::try_from(want)?)
    );
    Ok(())
}

#[tokio::test]
async fn id_arguments_and_filters_take_the_global_id_or_the_bare_row_uuid_alike(
) -> anyhow::Result<()> {
    let (app, token) = setup().await?;
    let customer = first_row(&app, "customers", SeedSpec::tenant_id(0)).await?;
    let by = |id: String| json!({ "id": id });
    let q = "query($id: ID!) { customer(id: $id) { rowId
               bookings(first: 10) { nodes { rowId } } } }";
    let a = ok(&app, &token, q, by(global("Customer", customer))).await?;
    let b = ok(&app, &token, q, by(customer.to_string())).await?;
    assert_eq!(a, b);
    assert_eq!(a["customer"]["rowId"], customer.to_string());

    let f = "query($id: ID!) { bookings(first: 10, filter: { customerId: { eq: $id } }) {
               totalCount nodes { rowId } } }";
    let a = ok(&app, &token, f, by(global("Customer", customer))).await?;
    let b = ok(&app, &token, f, by(customer.to_string())).await?;
    assert_eq!(a, b);
    assert_eq!(a["bookings"]["totalCount"], 2);
    Ok(())
}

#[tokio::test]
async fn a_global_id_of_the_wrong_type_is_bad_user_input_naming_the_argument() -> anyhow::Result<()>
{
    let (app, token) = setup().await?;
    let booking = global(
        "Booking",
        first_row(&app, "bookings", SeedSpec::tenant_id(0)).await?,
    );
    let (_, body) = app
        .graphql(
            Some(&token),
            "query($id: ID!) { customer(id: $id) { rowId } }",
            json!({ "id": booking }),
        )
        .await?;
    assert_eq!(refusal(&body).0, "BAD_USER_INPUT", "{body}");
    assert!(body["data"].is_null() || body["data"]["customer"].is_null());

    let (_, body) = app
        .graphql(
            Some(&token),
            "query($id: ID!) { bookings(filter: { customerId: { eq: $id } }) { totalCount } }",
            json!({ "id": booking }),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "filter".to_owned()),
        "{body}"
    );

    // `node` needs the type: a bare UUID or garbage is refused, naming the argument.
    for id in [Uuid::new_v4().to_string(), "not-an-id".to_owned()] {
        let (_, body) = app
            .graphql(
                Some(&token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), "id".to_owned()),
            "{body}"
        );
    }
    assert_eq!(
        error_code(&body_of_anonymous(&app).await?),
        Some("UNAUTHENTICATED")
    );
    Ok(())
}

async fn body_of_anonymous(app: &TestApp) -> anyhow::Result<Value> {
    let (_, body) = app
        .graphql(
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": global("Customer", Uuid::new_v4()) }),
        )
        .await?;
    Ok(body)
}
