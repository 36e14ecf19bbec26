//! Subscription leases: the per-tenant subscription count, kept in PostgreSQL so that every
//! replica counts the same subscriptions (migration 0025, `app.subscription_lease_*`).
//!
//! The tenant is the caller's verified one; the functions are SECURITY DEFINER and the table
//! is otherwise out of the runtime role's reach, so each call is one statement on the pool,
//! with no tenant scope around it.

use std::time::Duration;

use uuid::Uuid;

use crate::{Db, DbError};

/// Takes lease `lease` of `tenant` for `ttl` unless the tenant holds `max` live leases
/// already; whether it was taken.
#[tracing::instrument(skip_all)]
pub async fn take(
    db: &Db,
    tenant: Uuid,
    lease: Uuid,
    ttl: Duration,
    max: u32,
) -> Result<bool, DbError> {
    let taken: bool = sqlx::query_scalar(
        "SELECT app.subscription_lease_take($1, $2, make_interval(secs => $3), $4)",
    )
    .bind(tenant)
    .bind(lease)
    .bind(ttl.as_secs_f64())
    .bind(i32::try_from(max).unwrap_or(i32::MAX))
    .fetch_one(&db.pool)
    .await?;
    Ok(taken)
}

/// Ends a lease: its subscription ended.
#[tracing::instrument(skip_all)]
pub async fn end(db: &Db, tenant: Uuid, lease: Uuid) -> Result<(), DbError> {
    sqlx::query("SELECT app.subscription_lease_end($1, $2)")
        .bind(tenant)
        .bind(lease)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Renews `(tenant, lease)` pairs for another `ttl`; how many still existed.
#[tracing::instrument(skip_all)]
pub async fn renew(db: &Db, leases: &[(Uuid, Uuid)], ttl: Duration) -> Result<u64, DbError> {
    let (tenants, ids): (Vec<Uuid>, Vec<Uuid>) = leases.iter().copied().unzip();
    let renewed: i64 = sqlx::query_scalar(
        "SELECT app.subscription_leases_renew($1, $2, make_interval(secs => $3))",
    )
    .bind(tenants)
    .bind(ids)
    .bind(ttl.as_secs_f64())
    .fetch_one(&db.pool)
    .await?;
    Ok(u64::try_from(renewed).unwrap_or_default())
}
