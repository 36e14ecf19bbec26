//! A scope on a distributed database ([`DbConfig::distributed`]) sends its context as
//! `SET LOCAL` as well (docs/scaling.md). On this single server the result must be exactly what
//! `app.begin_scope` made, whatever the client put in the values it controls (the user agent,
//! the request id, a log-in address), and nothing may outlive the transaction.

mod common;

use common::{create_tenant, ctx};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, DbConfig, RequestMeta};

async fn distributed(t: &TestDb) -> anyhow::Result<Db> {
    let cfg = DbConfig {
        distributed: true,
        ..t.config.clone()
    };
    Ok(Db::connect(&cfg).await?)
}

const SETTINGS: &str = "SELECT current_setting('frontdesk.tenant_id', true) || '|' ||
    current_setting('frontdesk.user_agent', true) || '|' || current_setting('frontdesk.request_id', true)
    || '|' || current_setting('frontdesk.client_addr', true)";

#[tokio::test]
async fn hostile_values_arrive_verbatim_and_die_with_the_transaction() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let db = distributed(&t).await?;
    let agent = r"Mozilla'; RESET ALL; SET LOCAL frontdesk.tenant_id = 'x'; -- \' \\ $$ E'\n'";
    let meta = RequestMeta::new(
        "req-'quoted'".into(),
        Some("127.0.0.1".parse()?),
        Some(agent),
    );
    let mut tx = db.begin_tenant_for(ctx(tenant), &meta).await?;
    let seen: String = sqlx::query_scalar(SETTINGS).fetch_one(tx.conn()).await?;
    assert_eq!(seen, format!("{tenant}|{agent}|req-'quoted'|127.0.0.1"));
    // The policies see the tenant: its own row is visible.
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM app.tenants")
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(visible, 1);
    tx.commit().await?;

    // A setting SET LOCAL made ends with its transaction: the next scope on the same (only)
    // connection, for no tenant, sees none.
    let single = Db::connect_with_size(
        &DbConfig {
            distributed: true,
            ..t.config.clone()
        },
        1,
    )
    .await?;
    drop(single.begin_tenant_for(ctx(tenant), &meta).await?);
    let mut tx = single.begin_login("nobody@example.test").await?;
    let left: String =
        sqlx::query_scalar("SELECT coalesce(current_setting('frontdesk.tenant_id', true), '')")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(left, "");
    Ok(())
}

#[tokio::test]
async fn a_login_scope_sends_the_address_it_may_read() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let db = distributed(&t).await?;
    let email = "o'brien@example.test";
    let mut tx = db.begin_login(email).await?;
    let seen: Option<String> =
        sqlx::query_scalar("SELECT current_setting('frontdesk.login_email', true)")
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(seen.as_deref(), Some(email));
    Ok(())
}
