//! Set-wise `created` entries (migration 0030): the audit trigger skips a row's INSERT entry
//! only in a transaction the owner registered, with the mode's setting on; the runtime role
//! can neither register a transaction nor skip entries by the setting alone, and UPDATE and
//! DELETE entries are never skipped.

mod common;

use common::{create_tenant, ctx, sqlstate};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, TenantTx};
use uuid::Uuid;

/// `created`, `updated` and `deleted` entries about customers of the tenant.
async fn customer_entries(t: &TestDb, tenant: Uuid) -> anyhow::Result<(i64, i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT count(*) FILTER (WHERE action = 'created'), count(*) FILTER (WHERE action = 'updated'),
                count(*) FILTER (WHERE action = 'deleted')
           FROM app.audit_log WHERE tenant_id = $1 AND entity_type = 'customers'",
    )
    .bind(tenant)
    .fetch_one(t.owner())
    .await?)
}

async fn setwise_on(tx: &mut TenantTx) -> anyhow::Result<()> {
    sqlx::query("SELECT set_config('frontdesk.audit_setwise', 'on', true)")
        .execute(tx.conn())
        .await?;
    Ok(())
}

async fn insert_customer(tx: &mut TenantTx, phone: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO app.customers (name, phone) VALUES ('C', $1)")
        .bind(phone)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Registers the transaction `tx` through the owner, as the seed does.
async fn register(t: &TestDb, tx: &mut TenantTx) -> anyhow::Result<String> {
    let xact: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(tx.conn())
        .await?;
    sqlx::query("SELECT app.register_setwise_audit($1::xid8)")
        .bind(&xact)
        .execute(t.owner())
        .await?;
    Ok(xact)
}

#[tokio::test]
async fn the_runtime_role_cannot_register_a_transaction() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    for sql in [
        "INSERT INTO app.audit_setwise_xacts (xact) VALUES (pg_current_xact_id())",
        "SELECT count(*) FROM app.audit_setwise_xacts",
        "DELETE FROM app.audit_setwise_xacts",
        "SELECT app.register_setwise_audit(pg_current_xact_id())",
        "SELECT app.unregister_setwise_audit(pg_current_xact_id())",
    ] {
        let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
        let err = sqlx::query(sql).execute(tx.conn()).await.expect_err(sql);
        assert_eq!(sqlstate(&err).as_deref(), Some("42501"), "{sql}: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn the_setting_alone_skips_nothing_and_writes_nothing_set_wise() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    setwise_on(&mut tx).await?;
    insert_customer(&mut tx, "+420777000001").await?;
    let active: bool = sqlx::query_scalar("SELECT app.audit_setwise_active()")
        .fetch_one(tx.conn())
        .await?;
    assert!(!active);
    let err = sqlx::query(
        "WITH w AS (INSERT INTO app.customers (name, phone) VALUES ('D', '+420777000002') RETURNING *)
         SELECT app.audit_created('app.customers', array_agg(to_jsonb(w))) FROM w",
    )
    .execute(tx.conn())
    .await
    .expect_err("audit_created outside a registered transaction");
    assert_eq!(sqlstate(&err).as_deref(), Some("55000"), "{err}");
    drop(tx);

    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    setwise_on(&mut tx).await?;
    insert_customer(&mut tx, "+420777000001").await?;
    tx.commit().await?;
    assert_eq!(customer_entries(&t, tenant).await?, (1, 0, 0));
    Ok(())
}

#[tokio::test]
async fn a_registration_covers_its_own_transaction_and_inserts_only() -> anyhow::Result<()> {
    let t = TestDb::new().await?;
    let tenant = create_tenant(&t.db, "A").await?;
    let mut registered = t.db.begin_tenant(ctx(tenant)).await?;
    let xact = register(&t, &mut registered).await?;

    // Another transaction with the setting on is not covered by it.
    let mut other = t.db.begin_tenant(ctx(tenant)).await?;
    setwise_on(&mut other).await?;
    insert_customer(&mut other, "+420777000010").await?;
    other.commit().await?;
    assert_eq!(customer_entries(&t, tenant).await?, (1, 0, 0));

    // Without the setting the registered transaction is audited row by row as ever.
    insert_customer(&mut registered, "+420777000011").await?;
    // With it, an insert writes its entries itself; updates and deletes still get theirs.
    setwise_on(&mut registered).await?;
    let written: i64 = sqlx::query_scalar(
        "WITH w AS (INSERT INTO app.customers (name, phone)
                    VALUES ('E', '+420777000012'), ('F', '+420777000013') RETURNING *)
         SELECT app.audit_created('app.customers', array_agg(to_jsonb(w))) FROM w",
    )
    .fetch_one(registered.conn())
    .await?;
    assert_eq!(written, 2);
    sqlx::query("UPDATE app.customers SET name = 'G' WHERE phone = '+420777000012'")
        .execute(registered.conn())
        .await?;
    sqlx::query("DELETE FROM app.customers WHERE phone = '+420777000013'")
        .execute(registered.conn())
        .await?;
    // Exempt bookkeeping has no trigger and gets no entries either way.
    let exempt: i64 = sqlx::query_scalar(
        "SELECT app.audit_created('app.ticket_counters', ARRAY[jsonb_build_object('tenant_id', $1::text)])",
    )
    .bind(tenant)
    .fetch_one(registered.conn())
    .await?;
    assert_eq!(exempt, 0);
    registered.commit().await?;
    assert_eq!(customer_entries(&t, tenant).await?, (4, 1, 1));

    // The set-wise entry is the trigger's: compare E's with the one written for customer 11.
    let shapes: Vec<String> = sqlx::query_scalar(
        "SELECT jsonb_build_object('details', details #- '{after,id}' #- '{after,name}' #- '{after,phone}'
                                             #- '{after,created_at}' #- '{after,updated_at}',
                                   'metadata', metadata, 'severity', severity, 'category', category,
                                   'status', status, 'by', performed_by)::text
           FROM app.audit_log
          WHERE tenant_id = $1 AND entity_type = 'customers' AND action = 'created'
            AND details -> 'after' ->> 'phone' IN ('+420777000011', '+420777000012')",
    )
    .bind(tenant)
    .fetch_all(t.owner())
    .await?;
    assert_eq!(shapes.len(), 2);
    assert_eq!(shapes[0], shapes[1]);

    // Unregistered, and a later registration clears what a writer left behind.
    sqlx::query("SELECT app.unregister_setwise_audit($1::xid8)")
        .bind(&xact)
        .execute(t.owner())
        .await?;
    let mut left = t.db.begin_tenant(ctx(tenant)).await?;
    register(&t, &mut left).await?;
    left.commit().await?;
    let mut next = t.db.begin_tenant(ctx(tenant)).await?;
    register(&t, &mut next).await?;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM app.audit_setwise_xacts")
        .fetch_one(t.owner())
        .await?;
    assert_eq!(rows, 1);
    // A transaction that has ended cannot be registered.
    let err = sqlx::query("SELECT app.register_setwise_audit($1::xid8)")
        .bind(&xact)
        .execute(t.owner())
        .await
        .expect_err("an ended transaction");
    assert_eq!(sqlstate(&err).as_deref(), Some("22023"), "{err}");
    Ok(())
}
