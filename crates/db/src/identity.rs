//! Identity reads: users, tenants and memberships as the acting caller may see them.

use uuid::Uuid;

use crate::{DbError, TenantTx};

/// The parts of a user a caller sees about themselves.
#[derive(Debug, Clone)]
pub struct UserProfile {
    /// Log-in e-mail address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
}

/// The user `user_id`, if visible in this tenant (themselves or a fellow member).
#[tracing::instrument(skip(tx))]
pub async fn user_profile(
    tx: &mut TenantTx,
    user_id: Uuid,
) -> Result<Option<UserProfile>, DbError> {
    Ok(sqlx::query_as!(
        UserProfile,
        "SELECT email, name FROM app.users WHERE id = $1",
        user_id
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// The display name of the transaction's tenant.
#[tracing::instrument(skip(tx))]
pub async fn tenant_name(tx: &mut TenantTx) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT name FROM app.tenants WHERE id = app.current_tenant_id()",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// The oldest member of `tenant_id` holding `role`, for minting development tokens.
#[tracing::instrument(skip(db))]
pub async fn member_with_role(
    db: &crate::Db,
    tenant_id: Uuid,
    role: &str,
) -> Result<Option<Uuid>, DbError> {
    let mut tx = db
        .begin_tenant(crate::TenantCtx {
            tenant_id,
            user_id: None,
        })
        .await?;
    let user = sqlx::query_scalar!(
        "SELECT user_id FROM app.memberships WHERE role = $1 ORDER BY created_at, user_id LIMIT 1",
        role
    )
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(user)
}
