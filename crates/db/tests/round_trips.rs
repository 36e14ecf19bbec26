//! The round trips a read saves: a scope opened in one message with `BEGIN`
//! ([`Db::begin_tenant_fused`]), and pooled connections handed out without a ping while they
//! were in use a moment ago.

mod common;

use std::time::Duration;

use common::{create_tenant, ctx};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, RequestMeta, TenantCtx};

const SETTINGS: &str =
    "SELECT format('%s|%s|%s|%s|%s', current_setting('frontdesk.tenant_id', true),
    current_setting('frontdesk.user_id', true), current_setting('frontdesk.user_agent', true),
    current_setting('frontdesk.request_id', true), current_setting('frontdesk.role', true))";

#[tokio::test]
async fn a_read_scope_opened_with_begin_holds_the_tenant_and_user_only_and_loses_them_when_dropped(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let other = create_tenant(&t.db, "B").await?;
    let user = uuid::Uuid::new_v4();
    let db = Db::connect_with_size(&t.config, 1).await?;
    // A scope that set the request's metadata and a role on this connection before: none of
    // it may leak into the read's scope.
    let meta = RequestMeta::new("req-1".into(), Some("::1".parse()?), Some("agent/1"));
    db.begin_tenant_for(ctx(other), &meta)
        .await?
        .commit()
        .await?;
    let mut tx = db
        .begin_tenant_fused(TenantCtx {
            tenant_id: tenant,
            user_id: Some(user),
        })
        .await?;
    assert!(tx.membership().is_none(), "the membership is not read");
    let seen: String = sqlx::query_scalar(SETTINGS).fetch_one(tx.conn()).await?;
    assert_eq!(seen, format!("{tenant}|{user}|||"));
    let visible: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM app.tenants")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(visible, vec![tenant], "only its own tenant, not {other}");
    // Dropped, not committed: the pool's only connection comes back out of the transaction,
    // with no tenant set.
    drop(tx);
    let mut next = db.begin_login("nobody@example.test").await?;
    let left: String =
        sqlx::query_scalar("SELECT coalesce(current_setting('frontdesk.tenant_id', true), '')")
            .fetch_one(next.conn())
            .await?;
    assert_eq!(left, "");
    Ok(())
}

#[tokio::test]
async fn a_connection_the_server_closed_while_it_sat_idle_is_replaced_before_use(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let db = Db::connect_with_size(&t.config, 1).await?;
    let pid: i32 = {
        let mut tx = db.begin_tenant(ctx(tenant)).await?;
        let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(tx.conn())
            .await?;
        tx.commit().await?;
        pid
    };
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(t.owner())
        .await?;
    assert!(killed);
    // Idle for longer than the window in which a connection is trusted without a ping.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let now: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(tx.conn())
        .await?;
    assert_ne!(now, pid, "a new connection");
    tx.commit().await?;
    Ok(())
}
