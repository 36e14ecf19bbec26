//! Statement counting for tests (`TestDb::with_statement_stats`): PostgreSQL's own
//! `pg_stat_statements` counts every top-level statement the runtime role completes in the test
//! database — exactly, per database, and without the owner's set-up or nested statements.

mod common;

use common::{create_customer, create_tenant, ctx};
use frontdesk_db::sqlx::{self, Connection};
use frontdesk_db::testing::TestDb;

/// `BEGIN`, the `set_config` that sets the tenant, and `COMMIT`/`ROLLBACK`.
const SCOPE_STATEMENTS: i64 = 3;

#[tokio::test]
async fn a_tenant_scope_counts_its_statements_plus_three() -> anyhow::Result<()> {
    let t = TestDb::with_statement_stats().await?;
    let tenant = create_tenant(&t.db, "Counted").await?;
    create_customer(&t.db, tenant, "+420601000001").await?;
    t.reset_statement_stats().await?;
    assert_eq!(t.statements_executed().await?, 0);

    // N = 6: the same statement three times, then three distinct ones. The insert and update
    // fire triggers, and every statement evaluates the RLS policy's functions: nested, so not
    // counted.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    for _ in 0..3 {
        sqlx::query("SELECT count(*) FROM app.customers")
            .fetch_one(tx.conn())
            .await?;
    }
    sqlx::query("INSERT INTO app.customers (name, phone) VALUES ('Second', '+420601000002')")
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE app.customers SET notes = 'counted'")
        .execute(tx.conn())
        .await?;
    sqlx::query("SELECT id FROM app.customers ORDER BY created_at DESC, id LIMIT 50")
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    assert_eq!(t.statements_executed().await?, 6 + SCOPE_STATEMENTS);

    // The same work again counts the same again.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    for _ in 0..6 {
        sqlx::query("SELECT count(*) FROM app.customers")
            .fetch_one(tx.conn())
            .await?;
    }
    tx.commit().await?;
    assert_eq!(t.statements_executed().await?, 2 * (6 + SCOPE_STATEMENTS));

    t.reset_statement_stats().await?;
    assert_eq!(t.statements_executed().await?, 0);
    Ok(())
}

#[tokio::test]
async fn failed_statements_and_the_owner_are_not_counted() -> anyhow::Result<()> {
    let t = TestDb::with_statement_stats().await?;
    let tenant = create_tenant(&t.db, "Counted").await?;
    t.reset_statement_stats().await?;

    // A statement that fails is not counted; the rollback is.
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    assert!(sqlx::query("SELECT 1 / 0")
        .execute(tx.conn())
        .await
        .is_err());
    tx.rollback().await?;
    assert_eq!(t.statements_executed().await?, SCOPE_STATEMENTS);

    // The owner's statements (fixtures, catalog reads) are not the runtime role's.
    for _ in 0..5 {
        sqlx::query("SELECT count(*) FROM app.tenants")
            .fetch_one(t.owner())
            .await?;
    }
    assert_eq!(t.statements_executed().await?, SCOPE_STATEMENTS);

    // A statement outside any scope (in its own implicit transaction) counts once.
    let mut conn = t.runtime_connection().await?;
    sqlx::query("SELECT count(*) FROM app.customers")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    assert_eq!(t.statements_executed().await?, SCOPE_STATEMENTS + 1);
    Ok(())
}

#[tokio::test]
async fn each_database_counts_only_its_own_statements() -> anyhow::Result<()> {
    let (a, b) = tokio::try_join!(
        TestDb::with_statement_stats(),
        TestDb::with_statement_stats()
    )?;
    let tenant = create_tenant(&a.db, "A").await?;
    a.reset_statement_stats().await?;
    b.reset_statement_stats().await?;

    for n in 0..4 {
        create_customer(&a.db, tenant, &format!("+42060100010{n}")).await?;
    }
    // Each create_customer is one scope with one insert.
    assert_eq!(a.statements_executed().await?, 4 * (1 + SCOPE_STATEMENTS));
    assert_eq!(b.statements_executed().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_database_without_statement_stats_says_so() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let err = t.statements_executed().await.expect_err("counted");
    assert!(
        err.to_string().contains("with_statement_stats"),
        "unexpected error: {err}"
    );
    Ok(())
}
