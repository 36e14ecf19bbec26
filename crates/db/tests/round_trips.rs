//! The round trips a read saves: a scope opened in one message with `BEGIN`
//! ([`Db::begin_tenant_fused`]), pooled connections handed out without a ping while they
//! were in use a moment ago, and a compiled read's connection kept warm for the next read
//! instead of going back to the pool and its ping ([`Db::read_fused`]).

mod common;

use std::time::Duration;

use common::{create_tenant, ctx};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, RequestMeta, TenantCtx};

const SETTINGS: &str =
    "SELECT format('%s|%s|%s|%s|%s', current_setting('frontdesk.tenant_id', true),
    current_setting('frontdesk.user_id', true), current_setting('frontdesk.user_agent', true),
    current_setting('frontdesk.request_id', true), current_setting('frontdesk.role', true))";

/// The tenant a scope that sets none (a log-in's) finds on the next pooled connection.
async fn tenant_left(db: &Db) -> anyhow::Result<String> {
    let mut next = db.begin_login("nobody@example.test").await?;
    Ok(
        sqlx::query_scalar("SELECT coalesce(current_setting('frontdesk.tenant_id', true), '')")
            .fetch_one(next.conn())
            .await?,
    )
}

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
    assert_eq!(tenant_left(&db).await?, "");
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

/// The backend `pid`'s state in `pg_stat_activity`, as the owner sees it.
async fn backend_state(t: &TestDb, pid: i32) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
            .bind(pid)
            .fetch_one(t.owner())
            .await?,
    )
}

/// The pool's `(size, idle)` once it is `want`, or as it is after `ms` milliseconds.
async fn pool_stats_within(db: &Db, want: (u32, usize), ms: u64) -> (u32, usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    loop {
        let stats = db.pool_stats();
        if stats == want || tokio::time::Instant::now() >= deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const WHO: &str = "SELECT pg_backend_pid(), current_setting('frontdesk.tenant_id', true),
                          (SELECT count(*) FROM app.tenants)";

/// One warm read of [`WHO`]: the backend, the tenant it saw and how many tenants it could see.
async fn who(db: &Db, tenant: uuid::Uuid) -> anyhow::Result<(i32, String, i64)> {
    let rows = db.read_fused(ctx(tenant), None, sqlx::query(WHO)).await?;
    let row = rows.first().ok_or_else(|| anyhow::anyhow!("no row"))?;
    use sqlx::Row as _;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

#[tokio::test]
async fn a_warm_read_ends_its_transaction_at_once_and_keeps_its_connection_for_the_next_tenant_s_read(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "A").await?;
    let b = create_tenant(&t.db, "B").await?;
    let db = Db::connect_with_size(&t.config, 4).await?;
    let (pid, seen, visible) = who(&db, a).await?;
    assert_eq!((seen, visible), (a.to_string(), 1));
    // The ROLLBACK went out with the read's end, not with the connection's next use: the
    // backend leaves its transaction (and the read's locks) long before the connection would
    // go back to the pool.
    let mut state = backend_state(&t, pid).await?;
    for _ in 0..20 {
        if state == "idle" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        state = backend_state(&t, pid).await?;
    }
    assert_eq!(state, "idle", "the read's transaction ended");
    // Kept warm, not given back to the pool (which would ping it): the pool's one connection
    // is checked out and none is idle.
    assert_eq!(db.pool_stats(), (1, 0));
    // The next read, for another tenant, runs on the same backend and sees that tenant only.
    let (again, seen, visible) = who(&db, b).await?;
    assert_eq!(again, pid, "the warm connection");
    assert_eq!((seen, visible), (b.to_string(), 1));
    // Unused for longer than the pool trusts a connection without a ping, it goes back.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(pool_stats_within(&db, (1, 1), 4_000).await, (1, 1));
    Ok(())
}

#[tokio::test]
async fn a_failed_warm_read_gives_its_connection_back_to_the_pool_out_of_its_transaction(
) -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "A").await?;
    let db = Db::connect_with_size(&t.config, 4).await?;
    let failed = db
        .read_fused(ctx(a), None, sqlx::query("SELECT 1 / 0"))
        .await;
    assert!(failed.is_err(), "division by zero");
    // The pool takes it back (after its ping), rather than the warm set: sooner than the
    // warm set would give back a connection it kept (a second).
    assert_eq!(pool_stats_within(&db, (1, 1), 900).await, (1, 1));
    assert_eq!(
        tenant_left(&db).await?,
        "",
        "no tenant left on the connection"
    );
    assert_eq!(who(&db, a).await?.1, a.to_string());
    Ok(())
}

#[tokio::test]
async fn a_full_pool_gets_a_warm_read_s_connection_back_at_once() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "A").await?;
    let db = Db::connect_with_size(&t.config, 1).await?;
    who(&db, a).await?;
    // The pool's only connection: kept warm, a scope would wait for the warm set to give it
    // back (a second); given back at once, it does not.
    let begun = tokio::time::timeout(Duration::from_millis(500), db.begin_tenant(ctx(a))).await;
    assert!(
        begun.is_ok(),
        "the scope did not wait for the warm read's connection"
    );
    Ok(())
}
