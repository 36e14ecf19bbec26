//! Relation aggregates in filters, over HTTP: a parent list filtered by the aggregates of its
//! one-to-many children (`customers(filter: { bookings: { aggregate: …, filter: … } })`) returns
//! exactly the parents direct SQL finds, including parents without children when the
//! condition holds for none (`count: { eq: 0 }`).

use frontdesk_db::sqlx;
use frontdesk_e2e::body::data;
use frontdesk_e2e::{spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

async fn customer(app: &TestApp, tenant: Uuid, name: &str) -> anyhow::Result<Uuid> {
    Ok(sqlx::query_scalar(
        "INSERT INTO app.customers (tenant_id, name, phone) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(tenant)
    .bind(name)
    .bind(format!("+4930{}", Uuid::new_v4().as_u128() % 1_000_000_000))
    .fetch_one(app.db.owner())
    .await?)
}

async fn booking(
    app: &TestApp,
    tenant: Uuid,
    customer: Uuid,
    status: &str,
    amount: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO app.bookings (tenant_id, customer_id, customer_name, customer_phone, service_type,
                                   appointment_date, appointment_time, status, payment_amount)
         VALUES ($1, $2, 'C', '+4930999', 'cut', '2026-03-01', '10:00', $3, $4::numeric)",
    )
    .bind(tenant)
    .bind(customer)
    .bind(status)
    .bind(amount)
    .execute(app.db.owner())
    .await?;
    Ok(())
}

/// Names of the customers `filter` selects, sorted.
async fn names(app: &TestApp, token: &str, filter: Value) -> anyhow::Result<Vec<String>> {
    let body = app
        .gql(
            token,
            "query($f: CustomerFilter) { customers(filter: $f, first: 100) { nodes { name } } }",
            json!({ "f": filter }),
        )
        .await?;
    let mut out: Vec<String> = data(&body, "customers")["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    Ok(out)
}

/// Names of the tenant's customers direct SQL selects with `condition` on alias `c`.
async fn sql_names(app: &TestApp, tenant: Uuid, condition: &str) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT c.name FROM app.customers c WHERE c.tenant_id = $1 AND {condition} ORDER BY 1"
    ))
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?)
}

#[tokio::test]
async fn parents_filter_by_the_aggregates_of_their_children_as_direct_sql_does(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Relations A").await?;
    let b = app.new_tenant("Relations B").await?;
    let busy = customer(&app, a, "busy").await?;
    for (status, amount) in [
        ("confirmed", "50"),
        ("confirmed", "70"),
        ("confirmed", "10"),
        ("cancelled", "500"),
    ] {
        booking(&app, a, busy, status, amount).await?;
    }
    let once = customer(&app, a, "once").await?;
    booking(&app, a, once, "confirmed", "200").await?;
    customer(&app, a, "never").await?;
    let other = customer(&app, b, "other tenant").await?;
    for _ in 0..4 {
        booking(&app, b, other, "confirmed", "999").await?;
    }
    let token = app.new_member(a, Role::Viewer).await?.1;

    let confirmed = "(SELECT count(*) FROM app.bookings x WHERE x.customer_id = c.id AND x.status = 'confirmed')";
    let cases = [
        (
            json!({ "bookings": { "aggregate": { "count": { "gte": 3 } }, "filter": { "status": { "eq": "CONFIRMED" } } } }),
            format!("{confirmed} >= 3"),
        ),
        (
            json!({ "bookings": { "filter": { "status": { "eq": "CANCELLED" } } } }),
            "EXISTS (SELECT 1 FROM app.bookings x WHERE x.customer_id = c.id AND x.status = 'cancelled')".to_owned(),
        ),
        (
            json!({ "bookings": { "aggregate": { "count": { "eq": 0 } } } }),
            "NOT EXISTS (SELECT 1 FROM app.bookings x WHERE x.customer_id = c.id)".to_owned(),
        ),
        (
            json!({ "bookings": { "aggregate": { "sum": { "paymentAmount": { "gte": "150" } } },
                                  "filter": { "status": { "eq": "CONFIRMED" } } } }),
            "(SELECT sum(payment_amount) FROM app.bookings x WHERE x.customer_id = c.id AND x.status = 'confirmed') >= 150".to_owned(),
        ),
        (
            json!({ "not": { "bookings": {} } }),
            "NOT EXISTS (SELECT 1 FROM app.bookings x WHERE x.customer_id = c.id)".to_owned(),
        ),
        (
            json!({ "or": [{ "bookings": { "aggregate": { "max": { "paymentAmount": { "gt": "400" } } } } }, { "name": { "eq": "once" } }] }),
            "((SELECT max(payment_amount) FROM app.bookings x WHERE x.customer_id = c.id) > 400 OR c.name = 'once')".to_owned(),
        ),
    ];
    for (filter, condition) in cases {
        let got = names(&app, &token, filter.clone()).await?;
        let want = sql_names(&app, a, &condition).await?;
        assert!(!want.is_empty(), "a case that selects someone: {filter}");
        assert_eq!(got, want, "{filter}");
    }
    assert_eq!(
        names(&app, &token, json!({ "bookings": { "aggregate": { "count": { "gte": 3 } }, "filter": { "status": { "eq": "CONFIRMED" } } } })).await?,
        vec!["busy".to_owned()],
        "the other tenant's customer with four confirmed bookings is not there"
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_value_inside_a_relation_filter_is_bad_input() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Relations bad").await?;
    let token = app.new_member(a, Role::Viewer).await?.1;
    let body = app
        .gql(
            &token,
            "{ customers(filter: { bookings: { aggregate: { sum: { paymentAmount: { gte: \"lots\" } } } } }) { nodes { name } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        frontdesk_e2e::error_code(&body),
        Some("BAD_USER_INPUT"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn parents_sort_by_the_number_of_their_children_and_page_on() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Relations order").await?;
    for (name, n) in [("two", 2), ("none", 0), ("three", 3)] {
        let c = customer(&app, a, name).await?;
        for _ in 0..n {
            booking(&app, a, c, "confirmed", "1").await?;
        }
    }
    let token = app.new_member(a, Role::Viewer).await?.1;
    let doc = "query($after: String) { customers(first: 2, after: $after,
                 orderBy: [{ relationCount: BOOKINGS, direction: DESC }]) {
                 nodes { name } pageInfo { endCursor hasNextPage } } }";
    let body = app.gql(&token, doc, json!({})).await?;
    let page = data(&body, "customers");
    assert_eq!(
        page["nodes"],
        json!([{ "name": "three" }, { "name": "two" }]),
        "{body}"
    );
    let body = app
        .gql(
            &token,
            doc,
            json!({ "after": page["pageInfo"]["endCursor"] }),
        )
        .await?;
    assert_eq!(
        data(&body, "customers")["nodes"],
        json!([{ "name": "none" }]),
        "{body}"
    );

    let body = app
        .gql(
            &token,
            "{ customers(orderBy: [{ direction: DESC }]) { nodes { name } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        frontdesk_e2e::body::refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "orderBy.0".to_owned()),
        "{body}"
    );
    Ok(())
}
