//! Member writes: managing a tenant's team (role, permissions, active or not) and a member
//! changing their own profile, preferences, presence and password.
//!
//! Memberships are keyed here by the user id, like the API's `Member`. Their policy also
//! shows the acting user their memberships of *other* tenants (to switch tenants), so every
//! statement names the current tenant explicitly. The identity row (`app.users`) is shared
//! by all the tenants a person belongs to; only its owner writes it (the `users_update`
//! policy), which is why profile changes act on `app.current_user_id()` and never on an id
//! the caller names.

use serde_json::Value;
use uuid::Uuid;

use super::{changes, push_sets, Changes, Patch, WriteError};
use crate::{DbError, TenantTx};

/// A membership's role and standing, as management rules need them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Standing {
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    pub role: String,
    /// Whether the membership is active.
    pub is_active: bool,
}

/// Member `user_id` of the current tenant, locked until the transaction ends (so the rules
/// checked against it still hold when the change is written); `None` when not a member.
#[tracing::instrument(skip(tx))]
pub async fn lock(tx: &mut TenantTx, user_id: Uuid) -> Result<Option<Standing>, DbError> {
    Ok(sqlx::query_as::<_, Standing>(
        "SELECT role, is_active FROM app.memberships
          WHERE tenant_id = app.current_tenant_id() AND user_id = $1 FOR UPDATE",
    )
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// How many active owners the tenant has, with their memberships locked: two owners
/// deactivating each other at once cannot both pass a "not the last owner" check.
#[tracing::instrument(skip_all)]
pub async fn lock_active_owners(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM app.memberships
                                WHERE tenant_id = app.current_tenant_id() AND role = 'owner'
                                  AND is_active FOR UPDATE) owners",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// The management side of a membership; enumerated values take their database spelling.
#[derive(Debug, Clone, Default)]
pub struct MembershipFields {
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    pub role: Patch<&'static str>,
    /// Permission list (empty: the role's defaults).
    pub permissions: Patch<Vec<String>>,
    /// Active or deactivated.
    pub is_active: Patch<bool>,
    /// Team or department.
    pub department: Patch<Option<String>>,
    /// Presence: `online`, `offline`, `busy` or `away`.
    pub status: Patch<&'static str>,
}

/// Writes `fields` to member `user_id` of the current tenant. A presence change also
/// touches `last_activity_at`.
#[tracing::instrument(skip(tx, fields))]
pub async fn update(
    tx: &mut TenantTx,
    user_id: Uuid,
    fields: &MembershipFields,
) -> Result<(), WriteError> {
    let changes = changes!(fields; role, permissions, is_active, department, status);
    if changes.is_empty() {
        return lock(tx, user_id)
            .await?
            .map(|_| ())
            .ok_or(WriteError::NotFound);
    }
    let mut qb = sqlx::QueryBuilder::new("UPDATE app.memberships SET ");
    if fields.status.is_set() {
        qb.push("last_activity_at = now(), ");
    }
    push_sets(&mut qb, changes);
    qb.push(" WHERE tenant_id = app.current_tenant_id() AND user_id = ")
        .push_bind(user_id)
        .push(" RETURNING user_id");
    let found: Option<Uuid> = qb.build_query_scalar().fetch_optional(tx.conn()).await?;
    found.map(|_| ()).ok_or(WriteError::NotFound)
}

/// The person's own identity fields (shared by all their tenants).
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    /// Display name.
    pub name: Patch<Option<String>>,
    /// Given name (at most 50 characters, CHECK).
    pub first_name: Patch<Option<String>>,
    /// Family name (at most 50 characters, CHECK).
    pub last_name: Patch<Option<String>>,
    /// Uploaded picture URL.
    pub avatar: Patch<Option<String>>,
    /// Phone number.
    pub phone: Patch<Option<String>>,
}

/// Writes the acting user's own identity row.
#[tracing::instrument(skip_all)]
pub async fn update_own_profile(tx: &mut TenantTx, fields: &ProfileFields) -> Result<(), DbError> {
    let changes: Changes = changes!(fields; name, first_name, last_name, avatar, phone);
    if changes.is_empty() {
        return Ok(());
    }
    let mut qb = sqlx::QueryBuilder::new("UPDATE app.users SET ");
    push_sets(&mut qb, changes);
    qb.push(" WHERE id = app.current_user_id()");
    qb.build().execute(tx.conn()).await?;
    Ok(())
}

/// Merges into the acting member's preferences in this tenant: `top` (an object of top-level
/// keys) replaces those keys, `notifications` (an object) is merged into the stored
/// `notifications` document key by key, so a partial update keeps what it does not name.
#[tracing::instrument(skip_all)]
pub async fn merge_own_preferences(
    tx: &mut TenantTx,
    top: Value,
    notifications: Value,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE app.memberships
            SET preferences = CASE WHEN $2::jsonb = '{}' THEN preferences || $1::jsonb
                                   ELSE preferences || $1::jsonb || jsonb_build_object('notifications',
                                        coalesce(preferences -> 'notifications', '{}') || $2::jsonb)
                              END
          WHERE tenant_id = app.current_tenant_id() AND user_id = app.current_user_id()",
    )
    .bind(top)
    .bind(notifications)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether PostgreSQL knows the time zone `zone` (`app.is_time_zone`, migration 0013).
pub async fn is_time_zone(tx: &mut TenantTx, zone: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT app.is_time_zone($1)")
        .bind(zone)
        .fetch_one(tx.conn())
        .await?)
}

/// The acting user's e-mail address and password hash (`None`: no password, OAuth only).
#[tracing::instrument(skip_all)]
pub async fn own_credentials(
    tx: &mut TenantTx,
) -> Result<Option<(String, Option<String>)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT email, password_hash FROM app.users WHERE id = app.current_user_id()",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// Replaces the acting user's password hash `old` by `new`; `false` when it is no longer
/// `old` (changed by a concurrent request since it was verified), and nothing is written.
#[tracing::instrument(skip_all)]
pub async fn replace_own_password(
    tx: &mut TenantTx,
    old: &str,
    new: &str,
) -> Result<bool, DbError> {
    let changed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE app.users SET password_hash = $2
          WHERE id = app.current_user_id() AND password_hash = $1 RETURNING id",
    )
    .bind(old)
    .bind(new)
    .fetch_optional(tx.conn())
    .await?;
    Ok(changed.is_some())
}
