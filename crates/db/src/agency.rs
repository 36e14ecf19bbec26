//! Agency reads (seed 002): the tenants a user belongs to, for the tenant switcher.
//!
//! An agency user is one user with a membership in each client tenant. Their memberships are
//! visible to them from any tenant's scope, but the other tenants' rows are not (the tenants
//! policy shows the current tenant only), so the names come from `app.user_memberships()`
//! (migration 0019), which returns exactly the calling user's memberships with their tenants'
//! names and nothing else.

use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One of the acting user's memberships.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserMembership {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Its display name.
    pub tenant_name: String,
    /// The user's role there (`owner` … `viewer`).
    pub role: String,
    /// Deactivated memberships, and invitations not accepted yet, are inactive.
    pub is_active: bool,
}

/// Every membership of the transaction's user, by tenant name. Empty for a system context.
#[tracing::instrument(skip_all)]
pub async fn user_memberships(tx: &mut TenantTx) -> Result<Vec<UserMembership>, DbError> {
    Ok(sqlx::query_as::<_, UserMembership>(
        "SELECT tenant_id, tenant_name, role, is_active FROM app.user_memberships()",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// The account status (`active`, `suspended`, `pending`) of the transaction's user, if any.
#[tracing::instrument(skip_all)]
pub async fn account_status(tx: &mut TenantTx) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT account_status FROM app.users WHERE id = app.current_user_id()",
    )
    .fetch_optional(tx.conn())
    .await?)
}
