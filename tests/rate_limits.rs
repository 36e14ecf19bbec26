//! Rate limits end to end (issue 13, part 6) and operations on `/metrics`: requests per
//! second and the complexity budget refuse with 429, `RATE_LIMITED` and `retryAfter` and
//! recover; a tenant's limit holds whichever of its members' tokens is used; the subscription
//! limit of a tenant is exact across two servers on one database and frees with completion.

use std::net::SocketAddr;
use std::time::Duration;

use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{error_code, spawn_app_with, Role, TestApp};
use frontdesk_graphql::RateLimits;
use frontdesk_server::{app, AppState};
use serde_json::{json, Value};
use uuid::Uuid;

const MESSAGES: &str = "subscription { messageAdded { cursor } }";

async fn spawn(limits: RateLimits) -> anyhow::Result<TestApp> {
    spawn_app_with(TestDb::new().await?, |s| s.with_rate_limits(limits)).await
}

/// A second server on `first`'s database: a replica, with rate-limit state of its own.
async fn replica(first: &TestApp, limits: RateLimits) -> anyhow::Result<Replica> {
    let state = AppState::new(first.db.db.clone(), first.keys.clone()).with_rate_limits(limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = app(state);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Ok(Replica(addr))
}

/// A replica's address.
struct Replica(SocketAddr);

/// POSTs `query` with `token`: status, `Retry-After`, body.
async fn post(
    app: &TestApp,
    token: &str,
    query: &str,
) -> anyhow::Result<(u16, Option<String>, Value)> {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await?;
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((status, retry, resp.json().await?))
}

fn limits() -> RateLimits {
    RateLimits::off()
}

#[tokio::test]
async fn requests_over_the_per_token_rate_get_429_with_retry_after_and_recover(
) -> anyhow::Result<()> {
    let app = spawn(RateLimits {
        token_requests_per_second: 2,
        ..limits()
    })
    .await?;
    let token = app.token(Uuid::new_v4(), Role::Agent).await?;
    for _ in 0..2 {
        let (status, _, body) = post(&app, &token, "{ __typename }").await?;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry, body) = post(&app, &token, "{ __typename }").await?;
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1, "{body}");
    assert!(body["data"].is_null(), "{body}");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (status, _, body) = post(&app, &token, "{ __typename }").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["__typename"], "Query");
    Ok(())
}

#[tokio::test]
async fn a_tenant_limit_is_not_bypassed_by_using_another_members_token() -> anyhow::Result<()> {
    let app = spawn(RateLimits {
        token_requests_per_second: 1_000,
        tenant_requests_per_second: 3,
        ..limits()
    })
    .await?;
    let tenant = Uuid::new_v4();
    let first = app.token(tenant, Role::Agent).await?;
    let second = app.token(tenant, Role::Agent).await?;
    let elsewhere = app.token(Uuid::new_v4(), Role::Agent).await?;
    for _ in 0..3 {
        assert_eq!(post(&app, &first, "{ __typename }").await?.0, 200);
    }
    let (status, _, body) = post(&app, &second, "{ __typename }").await?;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("tenant")),
        "{body}"
    );
    // Another tenant has a bucket of its own.
    assert_eq!(post(&app, &elsewhere, "{ __typename }").await?.0, 200);
    Ok(())
}

#[tokio::test]
async fn the_complexity_budget_refuses_an_operation_it_cannot_pay_before_any_sql(
) -> anyhow::Result<()> {
    let app = spawn_app_with(TestDb::with_statement_stats().await?, |s| {
        s.with_rate_limits(RateLimits {
            token_complexity_per_minute: 100,
            ..limits()
        })
    })
    .await?;
    let token = app.token(Uuid::new_v4(), Role::Agent).await?;
    // Fifty rows of one field each: more than the whole budget, so never payable.
    let (status, retry, body) =
        post(&app, &token, "{ customers(first: 50) { nodes { id } } }").await?;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some());
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    // Affordable ones run until the budget is spent, then are refused without touching the
    // database.
    let query = "{ customers(first: 10) { nodes { id } } }";
    let mut ran = 0;
    loop {
        app.db.reset_statement_stats().await?;
        let (status, _, body) = post(&app, &token, query).await?;
        if status == 429 {
            assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
            assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
            assert_eq!(app.db.statements_executed().await?, 0, "a refusal ran SQL");
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        ran += 1;
        assert!(ran < 100, "the budget never ran out");
    }
    assert!(ran >= 1, "the first affordable operation was refused");
    Ok(())
}

/// Subscribes once on each client at the same time; which were refused.
async fn subscribe_all(clients: &mut [WsClient]) -> anyhow::Result<Vec<bool>> {
    futures::future::try_join_all(clients.iter_mut().map(|c| async move {
        c.subscribe("s", MESSAGES, json!({})).await?;
        // A refusal arrives at once; an accepted subscription stays silent (no events).
        match c.next_payload(Duration::from_secs(2)).await {
            Ok((_, payload)) => {
                assert_eq!(error_code(&payload), Some("RATE_LIMITED"), "{payload}");
                assert!(payload["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
                Ok(true)
            }
            Err(_) => Ok::<_, anyhow::Error>(false),
        }
    }))
    .await
}

/// The tenant's subscriptions as the database counts them: the unexpired holds of every
/// process, summed.
async fn leases(app: &TestApp, tenant: Uuid) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(held), 0)::bigint FROM app.subscription_holds
          WHERE tenant_id = $1 AND expires_at > now()",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?)
}

#[tokio::test]
async fn subscriptions_per_tenant_are_exact_across_two_servers_and_freed_on_completion(
) -> anyhow::Result<()> {
    let limit = RateLimits {
        tenant_subscriptions: 3,
        ..limits()
    };
    let app = spawn(limit).await?;
    let other = replica(&app, limit).await?;
    let tenant = Uuid::new_v4();
    let token = app.token(tenant, Role::Agent).await?;
    let mut clients = Vec::new();
    for i in 0..8 {
        let addr = if i % 2 == 0 { app.addr } else { other.0 };
        clients.push(WsClient::connect(addr, &token).await?);
    }
    let refused = subscribe_all(&mut clients).await?;
    assert_eq!(refused.iter().filter(|r| !**r).count(), 3, "{refused:?}");
    assert_eq!(leases(&app, tenant).await?, 3);

    // Completing one frees its slot, on either server.
    let done = refused.iter().position(|r| !*r).unwrap_or_default();
    clients[done]
        .send(json!({"id": "s", "type": "complete"}))
        .await?;
    let mut waited = 0;
    while leases(&app, tenant).await? != 2 {
        waited += 1;
        assert!(
            waited < 50,
            "the completed subscription's lease was not ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut late = vec![WsClient::connect(other.0, &token).await?];
    assert_eq!(subscribe_all(&mut late).await?, vec![false]);
    assert_eq!(leases(&app, tenant).await?, 3);
    // Closing a socket frees its subscriptions too.
    let closing = refused
        .iter()
        .enumerate()
        .filter(|(i, r)| !**r && *i != done)
        .map(|(i, _)| i)
        .next()
        .unwrap_or_default();
    clients.remove(closing).close().await?;
    let mut waited = 0;
    while leases(&app, tenant).await? != 2 {
        waited += 1;
        assert!(waited < 50, "the closed socket's lease was not ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test]
async fn metrics_show_operations_by_name_and_type_with_their_complexity() -> anyhow::Result<()> {
    let app = spawn(limits()).await?;
    let token = app.token(Uuid::new_v4(), Role::Agent).await?;
    let (status, _, body) = post(
        &app,
        &token,
        "query RateLimitsProbe { customers(first: 5) { nodes { id } } }",
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(post(&app, &token, "{ __typename }").await?.0, 200);
    let text = app.metrics().await?;
    let has = |metric: &str, operation: &str| {
        text.lines().any(|l| {
            l.starts_with(metric)
                && l.contains(&format!("operation=\"{operation}\""))
                && l.contains("type=\"query\"")
        })
    };
    assert!(
        has("frontdesk_graphql_operations_total", "RateLimitsProbe"),
        "{text}"
    );
    assert!(
        has("frontdesk_graphql_operation_complexity", "RateLimitsProbe"),
        "{text}"
    );
    assert!(
        has(
            "frontdesk_graphql_operation_duration_seconds",
            "RateLimitsProbe"
        ),
        "{text}"
    );
    assert!(
        has("frontdesk_graphql_operations_total", "anonymous"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn a_hold_nobody_renews_expires_and_a_renewed_one_does_not() -> anyhow::Result<()> {
    use frontdesk_db::leases;
    let app = spawn(limits()).await?;
    let tenant = Uuid::new_v4();
    app.token(tenant, Role::Agent).await?;
    let db = &app.db.db;
    let (short, long) = (Duration::from_secs(1), Duration::from_secs(60));
    // Processes: `kept` keeps renewing, `dead` died holding two subscriptions.
    let (kept, dead, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    assert!(leases::take(db, tenant, kept, short, 3).await?);
    assert!(leases::take(db, tenant, dead, short, 3).await?);
    assert!(leases::take(db, tenant, dead, short, 3).await?);
    assert!(!leases::take(db, tenant, kept, short, 3).await?);
    assert!(!leases::take(db, tenant, third, short, 3).await?);
    assert_eq!(leases(&app, tenant).await?, 3);
    // As a live process does with its count in memory; nothing had expired yet.
    assert_eq!(leases::renew(db, kept, &[(tenant, 1)], long).await?, 0);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(leases(&app, tenant).await?, 1);
    assert!(leases::take(db, tenant, third, long, 3).await?);
    assert!(leases::take(db, tenant, kept, long, 3).await?);
    assert!(!leases::take(db, tenant, kept, long, 3).await?);
    assert_eq!(leases(&app, tenant).await?, 3);
    // A release takes one off, never below 0.
    assert_eq!(leases::release(db, tenant, kept, 1).await?, 1);
    assert_eq!(leases(&app, tenant).await?, 2);
    assert_eq!(leases::release(db, tenant, kept, 5).await?, 0);
    assert_eq!(leases(&app, tenant).await?, 1);
    // A renewal sets the live count (correcting a lost release) and deletes rows at 0.
    assert_eq!(leases::renew(db, kept, &[(tenant, 2)], long).await?, 0);
    assert_eq!(leases(&app, tenant).await?, 3);
    assert_eq!(leases::renew(db, kept, &[(tenant, 0)], long).await?, 0);
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.subscription_holds WHERE tenant_id = $1 AND holder = $2",
    )
    .bind(tenant)
    .bind(kept)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(rows, 0);
    assert_eq!(leases(&app, tenant).await?, 1);
    // A row that expired before its renewal is written again: its subscriptions are live.
    let late = Uuid::new_v4();
    assert!(leases::take(db, tenant, late, short, 3).await?);
    assert_eq!(leases(&app, tenant).await?, 2);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(leases(&app, tenant).await?, 1);
    assert_eq!(leases::renew(db, late, &[(tenant, 2)], long).await?, 1);
    assert_eq!(leases(&app, tenant).await?, 3);
    Ok(())
}
