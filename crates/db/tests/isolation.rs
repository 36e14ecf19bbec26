//! Tenant isolation enforced by PostgreSQL, proven as the runtime role: tenant A can neither
//! read, change, delete nor create tenant B's rows, cannot point a foreign key at them, and
//! cannot even learn that B's ids exist.

mod common;

use common::{create_customer, create_tenant, ctx, sqlstate};
use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;
use uuid::Uuid;

struct TwoTenants {
    t: TestDb,
    a: Uuid,
    b: Uuid,
    a_customer: Uuid,
    b_customer: Uuid,
}

async fn two_tenants() -> anyhow::Result<TwoTenants> {
    let t = TestDb::new().await?;
    let a = create_tenant(&t.db, "Tenant A").await?;
    let b = create_tenant(&t.db, "Tenant B").await?;
    let a_customer = create_customer(&t.db, a, "+420601000001").await?;
    let b_customer = create_customer(&t.db, b, "+420601000002").await?;
    Ok(TwoTenants {
        t,
        a,
        b,
        a_customer,
        b_customer,
    })
}

#[tokio::test]
async fn tenant_a_sees_only_its_own_rows() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.customers")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(ids, vec![s.a_customer]);
    let direct: Option<Uuid> = sqlx::query_scalar("SELECT id FROM app.customers WHERE id = $1")
        .bind(s.b_customer)
        .fetch_optional(tx.conn())
        .await?;
    assert_eq!(direct, None, "B's customer is readable by id from A");
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.tenants")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(tenants, vec![s.a]);
    Ok(())
}

#[tokio::test]
async fn tenant_a_cannot_update_or_delete_tenant_bs_rows() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let updated = sqlx::query("UPDATE app.customers SET name = 'hijacked' WHERE id = $1")
        .bind(s.b_customer)
        .execute(tx.conn())
        .await?;
    let deleted = sqlx::query("DELETE FROM app.customers WHERE id = $1")
        .bind(s.b_customer)
        .execute(tx.conn())
        .await?;
    let tenant_deleted = sqlx::query("DELETE FROM app.tenants WHERE id = $1")
        .bind(s.b)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    assert_eq!(updated.rows_affected(), 0);
    assert_eq!(deleted.rows_affected(), 0);
    assert_eq!(tenant_deleted.rows_affected(), 0);

    let mut tx = s.t.db.begin_tenant(ctx(s.b)).await?;
    let name: String = sqlx::query_scalar("SELECT name FROM app.customers WHERE id = $1")
        .bind(s.b_customer)
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(name, "Customer +420601000002");
    Ok(())
}

#[tokio::test]
async fn tenant_a_cannot_insert_rows_into_tenant_b_or_move_rows_there() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let err = sqlx::query(
        "INSERT INTO app.customers (tenant_id, name, phone) VALUES ($1, 'x', '+420601999999')",
    )
    .bind(s.b)
    .execute(tx.conn())
    .await
    .expect_err("insert into B succeeded");
    assert_eq!(sqlstate(&err).as_deref(), Some("42501"), "{err}");
    drop(tx);

    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let err = sqlx::query("UPDATE app.customers SET tenant_id = $1 WHERE id = $2")
        .bind(s.b)
        .bind(s.a_customer)
        .execute(tx.conn())
        .await
        .expect_err("moving a row to B succeeded");
    assert_eq!(sqlstate(&err).as_deref(), Some("42501"), "{err}");
    Ok(())
}

/// Inserts a booking for `customer_id` in tenant A and returns the failure.
async fn booking_error(s: &TwoTenants, customer_id: Uuid) -> anyhow::Result<sqlx::Error> {
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    Ok(sqlx::query(
        "INSERT INTO app.bookings (customer_id, customer_name, customer_phone, service_type,
                                   appointment_date, appointment_time)
         VALUES ($1, 'x', '+420601000001', 'haircut', '2026-12-01', '10:00 AM')",
    )
    .bind(customer_id)
    .execute(tx.conn())
    .await
    .expect_err("a booking for a foreign or missing customer was accepted"))
}

#[tokio::test]
async fn a_foreign_key_to_tenant_bs_row_fails_exactly_like_a_missing_id() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let to_b = booking_error(&s, s.b_customer).await?;
    let to_nothing = booking_error(&s, Uuid::new_v4()).await?;
    assert_eq!(sqlstate(&to_b).as_deref(), Some("23503"), "{to_b}");
    assert_eq!(sqlstate(&to_b), sqlstate(&to_nothing));
    let constraint = |e: &sqlx::Error| match e {
        sqlx::Error::Database(d) => d.constraint().map(str::to_owned),
        _ => None,
    };
    assert_eq!(constraint(&to_b), constraint(&to_nothing));
    Ok(())
}

#[tokio::test]
async fn tenant_bs_ids_and_unique_values_do_not_collide_with_tenant_as() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    // Same primary key and same phone as B's customer: had either key been global, the
    // unique violation would reveal that B has such a row.
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    sqlx::query("INSERT INTO app.customers (id, name, phone) VALUES ($1, 'Twin', '+420601000002')")
        .bind(s.b_customer)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM app.customers")
        .fetch_one(tx.conn())
        .await?;
    assert_eq!(n, 2);
    Ok(())
}

#[tokio::test]
async fn tenant_a_cannot_read_tenant_b_through_the_analytics_view() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let foreign: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.daily_analytics WHERE tenant_id <> app.current_tenant_id()",
    )
    .fetch_one(tx.conn())
    .await?;
    assert_eq!(foreign, 0);
    Ok(())
}

/// Adds a user with a membership in `tenant`.
async fn create_member(t: &TestDb, tenant: Uuid, email: &str) -> anyhow::Result<Uuid> {
    let user = Uuid::new_v4();
    let mut tx = t.db.begin_tenant(ctx(tenant)).await?;
    sqlx::query("INSERT INTO app.users (id, email, name) VALUES ($1, $2, 'Member')")
        .bind(user)
        .bind(email)
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO app.memberships (user_id, role) VALUES ($1, 'agent')")
        .bind(user)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(user)
}

#[tokio::test]
async fn tenant_a_cannot_see_or_change_users_who_belong_only_to_tenant_b() -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let a_user = create_member(&s.t, s.a, "ann@a.example").await?;
    let b_user = create_member(&s.t, s.b, "bob@b.example").await?;
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let visible: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.users")
        .fetch_all(tx.conn())
        .await?;
    assert_eq!(visible, vec![a_user]);
    let memberships: i64 =
        sqlx::query_scalar("SELECT count(*) FROM app.memberships WHERE user_id = $1")
            .bind(b_user)
            .fetch_one(tx.conn())
            .await?;
    assert_eq!(memberships, 0);
    let changed = sqlx::query("UPDATE app.users SET name = 'hijacked' WHERE id = $1")
        .bind(b_user)
        .execute(tx.conn())
        .await?;
    assert_eq!(changed.rows_affected(), 0);
    Ok(())
}

#[tokio::test]
async fn a_tenant_admin_cannot_rewrite_the_identity_of_a_user_shared_with_another_tenant(
) -> anyhow::Result<()> {
    let s = two_tenants().await?;
    let shared = create_member(&s.t, s.b, "shared@both.example").await?;
    // The same person joins tenant A too (an agency user with many clients).
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    sqlx::query("INSERT INTO app.memberships (user_id, role) VALUES ($1, 'agent')")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    // A sees the user, but only the user themself may change or delete the identity row.
    let mut tx = s.t.db.begin_tenant(ctx(s.a)).await?;
    let changed = sqlx::query("UPDATE app.users SET email = 'stolen@a.example' WHERE id = $1")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    let deleted = sqlx::query("DELETE FROM app.users WHERE id = $1")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    assert_eq!((changed.rows_affected(), deleted.rows_affected()), (0, 0));
    drop(tx);
    let mut tx = s.t.db.begin_user(shared).await?;
    let renamed = sqlx::query("UPDATE app.users SET name = 'Me' WHERE id = $1")
        .bind(shared)
        .execute(tx.conn())
        .await?;
    assert_eq!(renamed.rows_affected(), 1);
    Ok(())
}
