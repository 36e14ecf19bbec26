//! The nested dashboard query costs the same number of SQL statements whatever the tenant's
//! size: each level is one statement for all its parents. Counted by PostgreSQL itself
//! (`pg_stat_statements`), not by our code. So is what a live feed reads for a commit.

use std::time::Duration;

use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{spawn_app_on, spawn_app_with, Role, SeedSpec, TestApp};
use frontdesk_graphql::RateLimits;
use serde_json::json;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

const NESTED: &str = "{ customers(first: 50) { nodes { id: rowId
  bookings(first: 10) { nodes { id: rowId
    calls(first: 5) { nodes { id: rowId
      smsMessages(first: 5) { nodes { id: rowId messageBody } } } } } } } } }";

async fn statements_for(app: &TestApp, tenant: Uuid) -> anyhow::Result<(i64, usize)> {
    let token = app.token(tenant, Role::Viewer).await?;
    // Warm-up: sqlx looks up unfamiliar types once per connection.
    app.graphql(Some(&token), NESTED, json!({})).await?;
    app.db.reset_statement_stats().await?;
    let (status, body) = app.graphql(Some(&token), NESTED, json!({})).await?;
    assert_eq!(status, 200);
    assert!(body["errors"].is_null(), "{body}");
    let sms: usize = body["data"]["customers"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c["bookings"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|b| b["calls"]["nodes"].as_array().cloned().unwrap_or_default())
        .map(|c| c["smsMessages"]["nodes"].as_array().map_or(0, Vec::len))
        .sum();
    let n = app.db.statements_executed().await?;
    if n != 4 {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT left(query, 120), calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
             WHERE d.datname = current_database()",
        )
        .fetch_all(app.db.owner())
        .await?;
        eprintln!("{rows:#?}");
    }
    Ok((n, sms))
}

#[tokio::test]
async fn the_nested_query_issues_as_many_statements_for_10_customers_as_for_5000(
) -> anyhow::Result<()> {
    let app = spawn_app_on(TestDb::with_statement_stats().await?).await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 5000,
        bookings_per_customer: 3,
        calls_per_booking: 2,
        sms_per_call: 2,
    })
    .await?;
    let (big, small) = (SeedSpec::tenant_id(0), SeedSpec::tenant_id(1));
    // The small tenant keeps its 10 oldest customers.
    sqlx::query(
        "DELETE FROM app.customers WHERE tenant_id = $1 AND id NOT IN
           (SELECT id FROM app.customers WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 10)",
    )
    .bind(small)
    .execute(app.db.owner())
    .await?;

    let (small_count, small_sms) = statements_for(&app, small).await?;
    let (big_count, big_sms) = statements_for(&app, big).await?;
    assert!(
        big_sms > small_sms * 4,
        "the big tenant really returns more rows"
    );
    assert_eq!(small_count, big_count);
    // BEGIN and the tenant context (sent as one message), the one compiled statement of the
    // whole read (its document was validated by the warm-up), and the ROLLBACK that ends the
    // read-only transaction. Through the resolvers it was one statement per
    // level: 7.
    assert_eq!(big_count, 4, "statements per nested query");
    // Two seeded tenants of 5,000 customers are large; don't leave them behind.
    app.db.drop_database().await?;
    Ok(())
}

#[tokio::test]
async fn a_connection_asked_only_for_counts_aggregates_and_groups_reads_no_page(
) -> anyhow::Result<()> {
    // The resolvers' read-ahead is what is measured: compiled reads off.
    let app = spawn_app_with(TestDb::with_statement_stats().await?, |s| {
        s.with_schema(RateLimits::default(), false)
    })
    .await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 20,
        bookings_per_customer: 2,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let tile = "totalCount aggregate { count } groups(by: [STATUS]) { keys { status } count }";
    let mut counts = Vec::new();
    for query in [
        format!("{{ bookings {{ {tile} }} }}"),
        format!("{{ bookings {{ {tile} nodes {{ rowId }} }} }}"),
        "{ customers(first: 5) { nodes { bookings { totalCount } } } }".to_owned(),
        "{ customers(first: 5) { nodes { bookings { totalCount nodes { rowId } } } } }".to_owned(),
    ] {
        // Warm-up: sqlx looks up unfamiliar types once per connection.
        app.graphql(Some(&token), &query, json!({})).await?;
        app.db.reset_statement_stats().await?;
        let (status, body) = app.graphql(Some(&token), &query, json!({})).await?;
        assert_eq!(status, 200);
        assert!(body["errors"].is_null(), "{body}");
        counts.push(app.db.statements_executed().await?);
    }
    // Showing rows costs exactly the page's statement, at the root and nested.
    assert_eq!(counts[1], counts[0] + 1, "root: {counts:?}");
    assert_eq!(counts[3], counts[2] + 1, "nested: {counts:?}");
    Ok(())
}

/// Calls, since the last reset, of the statements whose text contains `fragment`.
async fn calls_of(app: &TestApp, fragment: &str) -> anyhow::Result<i64> {
    // Waits for the transactions still ending (their ROLLBACK rides on the pool's release).
    app.db.statements_executed().await?;
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements s
           JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = current_database() AND s.query LIKE '%' || $1 || '%'",
    )
    .bind(fragment)
    .fetch_one(app.db.owner())
    .await?)
}

#[tokio::test]
async fn a_live_feed_reads_a_commit_that_only_added_a_message_without_a_scope_call_or_a_conversation_read(
) -> anyhow::Result<()> {
    let app = spawn_app_on(TestDb::with_statement_stats().await?).await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 4,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let tenant = SeedSpec::tenant_id(0);
    let conversation: Uuid = sqlx::query_scalar(
        "SELECT id FROM app.conversations WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 1",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    let token = app.token(tenant, Role::Agent).await?;
    let mut ws = WsClient::connect(app.addr, &token).await?;
    ws.subscribe(
        "1",
        "subscription($c: ID) { messageAdded(conversationId: $c) { message { content } } }",
        json!({ "c": conversation }),
    )
    .await?;
    // Subscriptions start with the next commit; the first delivery also warms the connections.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.insert_message(tenant, conversation, "counted").await?;
    ws.next_payload(WAIT).await?;

    app.db.reset_statement_stats().await?;
    app.insert_message(tenant, conversation, "counted").await?;
    let (_, payload) = ws.next_payload(WAIT).await?;
    assert_eq!(
        payload["data"]["messageAdded"]["message"]["content"], "counted",
        "{payload}"
    );
    // The writer's own scope is the one call: the feed sets the tenant with its BEGIN.
    assert_eq!(calls_of(&app, "app.begin_scope").await?, 1, "scope calls");
    // A message's event carries the message; its conversation is not read.
    assert_eq!(calls_of(&app, "FROM app.conversations").await?, 0);
    assert_eq!(
        calls_of(&app, "FROM app.messages").await?,
        1,
        "messages read"
    );
    Ok(())
}
