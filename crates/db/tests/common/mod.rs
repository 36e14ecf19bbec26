//! Fixtures shared by the database tests: tenants and customers created through the same
//! scoped transactions the API uses.

#![allow(dead_code)]

use frontdesk_db::{sqlx, Db, DbError, TenantCtx};
use uuid::Uuid;

/// The context of a tenant acting without a particular user.
pub fn ctx(tenant_id: Uuid) -> TenantCtx {
    TenantCtx {
        tenant_id,
        user_id: None,
    }
}

/// Creates a tenant (inside its own context, as the tenants policy demands).
pub async fn create_tenant(db: &Db, name: &str) -> Result<Uuid, DbError> {
    let id = Uuid::new_v4();
    let mut tx = db.begin_tenant(ctx(id)).await?;
    sqlx::query("INSERT INTO app.tenants (id, name) VALUES ($1, $2)")
        .bind(id)
        .bind(name)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates an SMS conversation in `tenant` and returns its id.
pub async fn create_conversation(db: &Db, tenant: Uuid) -> Result<Uuid, DbError> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let id: Uuid =
        sqlx::query_scalar("INSERT INTO app.conversations (channel) VALUES ('sms') RETURNING id")
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a customer in `tenant` and returns its id.
pub async fn create_customer(db: &Db, tenant: Uuid, phone: &str) -> Result<Uuid, DbError> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let id: Uuid =
        sqlx::query_scalar("INSERT INTO app.customers (name, phone) VALUES ($1, $2) RETURNING id")
            .bind(format!("Customer {phone}"))
            .bind(phone)
            .fetch_one(tx.conn())
            .await?;
    tx.commit().await?;
    Ok(id)
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Names of the tables in schema `app` that carry a `tenant_id` column.
pub const TENANT_TABLES_SQL: &str = "
    SELECT c.relname::text FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
    ORDER BY 1";

/// [`TENANT_TABLES_SQL`] without the bookkeeping tables the runtime role holds no grant on
/// (subscription leases, reached only through owner functions): the tables that hold data.
pub const RUNTIME_TENANT_TABLES_SQL: &str = "
    SELECT c.relname::text FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
      AND has_table_privilege('frontdesk_app', c.oid, 'SELECT')
    ORDER BY 1";
