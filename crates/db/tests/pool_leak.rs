//! Pool hygiene: thousands of interleaved transactions for two tenants over a pool of two
//! connections. The context is transaction-local, so no transaction ever sees another's
//! tenant — including after rollbacks and failed statements.

mod common;

use common::{create_customer, create_tenant, ctx};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db};
use futures::stream::{self, StreamExt};
use uuid::Uuid;

const TRANSACTIONS: usize = 4_000;

async fn one(db: &Db, i: usize, tenant: Uuid, expected: i64) -> anyhow::Result<()> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let (setting, visible, foreign): (String, i64, i64) = sqlx::query_as(
        "SELECT current_setting('frontdesk.tenant_id'), count(*),
                count(*) FILTER (WHERE tenant_id <> $1)
         FROM app.customers",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await?;
    anyhow::ensure!(
        setting == tenant.to_string(),
        "tx {i}: context {setting} for {tenant}"
    );
    anyhow::ensure!(
        visible == expected && foreign == 0,
        "tx {i}: saw {visible} rows, {foreign} foreign"
    );
    match i % 5 {
        0 => tx.commit().await?,
        1 => tx.rollback().await?,
        2 => {
            // A failed statement poisons the transaction; the scope is then dropped.
            let _ = sqlx::query("SELECT 1 / 0").execute(tx.conn()).await;
        }
        3 => drop(tx),
        _ => {
            sqlx::query("UPDATE app.customers SET notes = $1")
                .bind(format!("touched by {i}"))
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn interleaved_tenants_on_two_pooled_connections_never_share_context() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "A").await?;
    let b = create_tenant(&t.db, "B").await?;
    for n in 0..3 {
        create_customer(&t.db, a, &format!("+42060100000{n}")).await?;
    }
    for n in 0..5 {
        create_customer(&t.db, b, &format!("+42060200000{n}")).await?;
    }
    let db = Db::connect_with_size(&t.config, 2).await?;
    let results: Vec<anyhow::Result<()>> = stream::iter(0..TRANSACTIONS)
        .map(|i| {
            let db = db.clone();
            async move {
                let (tenant, expected) = if i % 2 == 0 { (a, 3) } else { (b, 5) };
                one(&db, i, tenant, expected).await
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );

    // After all that, a scope without a tenant still sees nothing.
    let mut tx = db.begin_user(Uuid::new_v4()).await?;
    let (setting, visible): (String, i64) = sqlx::query_as(
        "SELECT current_setting('frontdesk.tenant_id', true), (SELECT count(*) FROM app.customers)",
    )
    .fetch_one(tx.conn())
    .await?;
    assert_eq!((setting.as_str(), visible), ("", 0));
    Ok(())
}

/// The runtime role's connections start with the API's settings: a statement timeout, and no
/// JIT (whose compile time dwarfed the dashboards' statements when the planner overestimated).
#[tokio::test]
async fn runtime_connections_start_with_a_statement_timeout_and_without_jit() -> anyhow::Result<()>
{
    let db = TestDb::new().await?;
    let tenant = create_tenant(&db.db, "Settings").await?;
    let mut tx = db.db.begin_tenant(ctx(tenant)).await?;
    let (jit, timeout): (String, String) =
        sqlx::query_as("SELECT current_setting('jit'), current_setting('statement_timeout')")
            .fetch_one(tx.conn())
            .await?;
    tx.rollback().await?;
    assert_eq!(jit, "off");
    assert_ne!(timeout, "0", "no statement timeout");
    db.drop_database().await?;
    Ok(())
}
