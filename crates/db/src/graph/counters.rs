//! The customers' denormalised counters, kept true by the writers of the facts.
//!
//! The definitions live in one place, the SQL function `app.refresh_customer_counters`
//! (migration 0007, the same definitions as the seed's set-based UPDATE): it recomputes the
//! given customers from the facts, locking them first so that concurrent writers serialise
//! per customer and neither overwrites the other's count. Every write in [`crate::graph`]
//! calls [`refresh`] before it returns.

use uuid::Uuid;

use crate::{DbError, TenantTx};

/// Recomputes the counters of `ids` (duplicates and `None`s are ignored; invisible ids are
/// skipped by row-level security). Returns how many customers' counters changed.
#[tracing::instrument(skip_all, fields(n = ids.len()))]
pub async fn refresh(tx: &mut TenantTx, ids: &[Option<Uuid>]) -> Result<i32, DbError> {
    let mut ids: Vec<Uuid> = ids.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(
        sqlx::query_scalar("SELECT app.refresh_customer_counters($1)")
            .bind(ids)
            .fetch_one(tx.conn())
            .await?,
    )
}
