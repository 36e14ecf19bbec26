//! Identity reads: users, tenants and memberships as the acting caller may see them, and the
//! look-ups of the log-in flow.

use uuid::Uuid;

use crate::{DbError, LoginTx, TenantTx, UserTx};

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

/// What log-in needs to know about the user with a given e-mail address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginCandidate {
    /// The user.
    pub user_id: Uuid,
    /// PHC string (argon2, or bcrypt for imported users); `None` for OAuth-only users.
    pub password_hash: Option<String>,
    /// `active`, `suspended` or `pending`.
    pub account_status: String,
}

/// The user whose log-in address is the transaction's e-mail, if any. [`LoginTx`] shows only
/// that address's identity row (the `users_select` policy), so nothing else can be read here.
#[tracing::instrument(skip_all)]
pub async fn login_candidate(tx: &mut LoginTx) -> Result<Option<LoginCandidate>, DbError> {
    Ok(sqlx::query_as::<_, LoginCandidate>(
        "SELECT id AS user_id, password_hash, account_status FROM app.users
         WHERE lower(email) = lower(app.current_login_email())",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// One of a user's tenants, as log-in sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginMembership {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The user's role there (`owner`, `admin`, `supervisor`, `agent`, `viewer`).
    pub role: String,
}

/// The active memberships of the transaction's user, oldest first. Runs in a [`UserTx`]:
/// memberships are invisible to a [`LoginTx`] (their policy keys on tenant or user, never on
/// the e-mail), so they are read only once the password has proved who the user is.
#[tracing::instrument(skip_all)]
pub async fn active_memberships(tx: &mut UserTx) -> Result<Vec<LoginMembership>, DbError> {
    Ok(sqlx::query_as::<_, LoginMembership>(
        "SELECT tenant_id, role FROM app.memberships
         WHERE user_id = app.current_user_id() AND is_active
         ORDER BY created_at, tenant_id",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Records a successful log-in on the user's identity row (`last_login_at`, `login_count`);
/// the `users_update` policy lets a user change their own row.
#[tracing::instrument(skip_all)]
pub async fn record_login(tx: &mut UserTx) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE app.users SET last_login_at = now(), login_count = login_count + 1
         WHERE id = app.current_user_id()",
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The acting tenant's row (row-level security shows exactly one), read into the caller's
/// row type.
#[tracing::instrument(skip_all)]
pub async fn current_tenant<T>(tx: &mut TenantTx) -> Result<Option<T>, DbError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as::<_, T>(
        "SELECT id, slug, name, company, email, phone, logo, industry, language, timezone,
                voice_preference, plan, status, subscription_start, subscription_end, has_access,
                stripe_customer_id, stripe_price_id, ai_settings, source, last_login_at,
                created_at, updated_at
         FROM app.tenants WHERE id = app.current_tenant_id()",
    )
    .fetch_optional(tx.conn())
    .await?)
}
