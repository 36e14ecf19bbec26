//! The explicit tenant predicate every statement of the read engine carries.
//!
//! Row-level security already limits every tenant table to the scope's tenant, and stays the
//! guarantee. The engine also writes `<alias>.tenant_id = $n`, the scope's tenant as a bound
//! parameter, on every table it reads, because a distributed planner (Citus, docs/scaling.md)
//! routes a statement to one shard only when it sees the distribution column's value in the
//! statement itself: the policy's `app.current_tenant_id()` is evaluated after routing, so a
//! statement that names its tenant only through RLS goes to every shard. On a single server
//! the predicate equals the policy's, so the planner merges the two into one condition.
//!
//! Correlated subqueries of static expressions ([`crate::exprs`]) tie their rows to the outer
//! row's tenant (`m.tenant_id = t.tenant_id`) instead, the outer row being constrained here.

use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// Appends `<alias>.tenant_id = $n AND ` with `tenant` bound as `$n`.
pub(crate) fn push_and(qb: &mut QueryBuilder<'_, Postgres>, alias: &str, tenant: Uuid) {
    qb.push(alias)
        .push(".tenant_id = ")
        .push_bind(tenant)
        .push(" AND ");
}
