//! Subscription holds: the per-tenant subscription count, kept in PostgreSQL so that every
//! replica counts the same subscriptions (migration 0028, `app.subscription_hold*`).
//!
//! Each process is one *holder* with one row per tenant: how many live subscriptions of the
//! tenant it holds. Taking a slot sums the tenant's rows (one per process) and adds one to the
//! process's row; a release takes one off; a renewal sets every row of the process to its live
//! count, which also corrects a release that never arrived.
//!
//! The tenant is the caller's verified one; the functions are SECURITY DEFINER and the table
//! is otherwise out of the runtime role's reach, so each call is one statement on the pool,
//! with no tenant scope around it.

use std::time::Duration;

use uuid::Uuid;

use crate::{Db, DbError};

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Takes one slot of `tenant` for process `holder`, its row valid for `ttl`, unless the
/// tenant's unexpired holds add up to `max` already; whether it was taken.
#[tracing::instrument(skip_all)]
pub async fn take(
    db: &Db,
    tenant: Uuid,
    holder: Uuid,
    ttl: Duration,
    max: u32,
) -> Result<bool, DbError> {
    let taken: bool = sqlx::query_scalar(
        "SELECT app.subscription_hold_take($1, $2, make_interval(secs => $3), $4)",
    )
    .bind(tenant)
    .bind(holder)
    .bind(ttl.as_secs_f64())
    .bind(count(max))
    .fetch_one(&db.pool)
    .await?;
    Ok(taken)
}

/// Gives back `n` slots of `tenant` held by `holder` (their subscriptions ended), never going
/// below 0; how many it still holds (0 when it held none).
#[tracing::instrument(skip_all)]
pub async fn release(db: &Db, tenant: Uuid, holder: Uuid, n: u32) -> Result<u32, DbError> {
    let left: Option<i32> = sqlx::query_scalar("SELECT app.subscription_hold_release($1, $2, $3)")
        .bind(tenant)
        .bind(holder)
        .bind(count(n))
        .fetch_one(&db.pool)
        .await?;
    Ok(left.and_then(|l| u32::try_from(l).ok()).unwrap_or_default())
}

/// Renews the rows of process `holder`: each `(tenant, live count)` pair sets its row to the
/// count for another `ttl`, or deletes it when the count is 0. How many rows had expired and
/// were written again.
#[tracing::instrument(skip_all)]
pub async fn renew(
    db: &Db,
    holder: Uuid,
    counts: &[(Uuid, u32)],
    ttl: Duration,
) -> Result<u64, DbError> {
    let (tenants, counts): (Vec<Uuid>, Vec<i32>) =
        counts.iter().map(|(t, n)| (*t, count(*n))).unzip();
    let recreated: i64 = sqlx::query_scalar(
        "SELECT app.subscription_holds_renew($1, $2, $3, make_interval(secs => $4))",
    )
    .bind(holder)
    .bind(tenants)
    .bind(counts)
    .bind(ttl.as_secs_f64())
    .fetch_one(&db.pool)
    .await?;
    Ok(u64::try_from(recreated).unwrap_or_default())
}
