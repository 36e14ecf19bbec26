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

/// Records a successful sign-in (log-in, or accepting an invitation) of the transaction's
/// user in its tenant, in one statement: the identity row's `last_login_at` and `login_count`,
/// the membership's `last_login_at` (and `last_activity_at`), and the tenant's
/// `last_login_at`. With `rehash` = `(old, new)` it also replaces the stored password hash
/// `old` by `new` (a bcrypt hash of an imported user upgraded to argon2id), unless it changed
/// meanwhile. The `users_update` policy lets a user write their own row; the other two are
/// rows of the transaction's tenant.
#[tracing::instrument(skip_all)]
pub async fn record_login(tx: &mut TenantTx, rehash: Option<(&str, &str)>) -> Result<(), DbError> {
    let (old, new) = rehash.unzip();
    sqlx::query(
        "WITH u AS (
           UPDATE app.users SET last_login_at = now(), login_count = login_count + 1,
                  password_hash = CASE WHEN $1::text IS NOT NULL AND password_hash = $1
                                       THEN $2 ELSE password_hash END
            WHERE id = app.current_user_id() RETURNING id),
         m AS (
           UPDATE app.memberships SET last_login_at = now(), last_activity_at = now()
            WHERE tenant_id = app.current_tenant_id() AND user_id = app.current_user_id()
            RETURNING user_id)
         UPDATE app.tenants SET last_login_at = now() WHERE id = app.current_tenant_id()",
    )
    .bind(old)
    .bind(new)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How the failed-log-in limiter is set (see migration 0013, `app.login_attempt_begin`).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// The window attempts are counted in.
    pub window: std::time::Duration,
    /// Attempts allowed per e-mail address within the window.
    pub per_email: i32,
    /// Attempts allowed per client address within the window.
    pub per_address: i32,
}

/// Records a log-in attempt for `email` from `address` (counted until it succeeds), or says
/// how many seconds to wait when either has used up its attempts: `Ok(Err(seconds))`. Commits
/// at once, so every replica counts it while the password is being checked.
#[tracing::instrument(skip_all)]
pub async fn begin_login_attempt(
    db: &crate::Db,
    email: &str,
    address: Option<std::net::IpAddr>,
    limits: LoginLimits,
) -> Result<Result<(), u32>, DbError> {
    let mut tx = db.begin_login(email).await?;
    let (id, wait): (Option<i64>, i32) = sqlx::query_as(
        "SELECT attempt_id, retry_after_seconds
           FROM app.login_attempt_begin($1, $2::inet, make_interval(secs => $3), $4, $5)",
    )
    .bind(email)
    .bind(address.map(|a| a.to_string()))
    .bind(limits.window.as_secs_f64())
    .bind(limits.per_email)
    .bind(limits.per_address)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(match id {
        Some(_) => Ok(()),
        None => Err(u32::try_from(wait).unwrap_or(1).max(1)),
    })
}

/// Forgets the counted attempts of `email` after it signed in successfully.
#[tracing::instrument(skip_all)]
pub async fn login_succeeded(db: &crate::Db, email: &str) -> Result<(), DbError> {
    let mut tx = db.begin_login(email).await?;
    sqlx::query("SELECT app.login_succeeded($1)")
        .bind(email)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
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
