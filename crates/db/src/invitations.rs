//! Invitations (migration 0013): how a person joins a tenant's team.
//!
//! Inviting creates the person's identity row when the e-mail address is new (no password),
//! an *inactive* membership, and an invitation holding only the SHA-256 hash of a one-time
//! token. Accepting proves the token, activates the membership and, for a person without a
//! password, sets the first one. The raw token and the password never reach this crate: the
//! API layer makes the token and hashes both.
//!
//! Accepting starts with no tenant and no user, so it walks through three scopes, each
//! seeing only what the step needs: [`pending`] in an [`InvitationTx`] (the one invitation
//! whose hash matches), [`invitee`] in a [`UserTx`] (the invitee's own identity row), and
//! [`accept`] in a [`TenantTx`] of the invitation's tenant acting as the invitee, where the
//! single-use check is part of the `UPDATE` so two concurrent accepts cannot both succeed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DbError, InvitationTx, TenantTx, UserTx};

/// A new invitation, validated and normalised by the caller.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    /// The invitee's e-mail address (matched to an existing person ignoring case).
    pub email: &'a str,
    /// Display name for a person not yet known (an existing person's name is kept).
    pub name: Option<&'a str>,
    /// Membership role (`admin`, `supervisor`, …).
    pub role: &'static str,
    /// Team or department.
    pub department: Option<&'a str>,
    /// Fine-grained permissions (database spellings); empty means the role's defaults.
    pub permissions: Vec<String>,
    /// SHA-256 of the raw token.
    pub token_hash: &'a [u8],
    /// How long the token works.
    pub valid_for_days: i32,
}

/// What [`invite`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteOutcome {
    /// The person is invited (again, when a pending invitation was replaced).
    Invited {
        /// The invitee (the member's id).
        user_id: Uuid,
        /// When the token stops working.
        expires_at: DateTime<Utc>,
    },
    /// The person already is a member of the tenant (active, deactivated, or one who joined
    /// without an invitation): nothing was written.
    AlreadyMember,
}

/// Invites `inv.email` into the transaction's tenant, the transaction's user inviting.
///
/// A person whose membership is still *pending* (inactive, invited, never accepted) is
/// invited again: the open invitation is replaced, so only the newest link works, and the
/// membership takes the new role, department and permissions.
#[tracing::instrument(skip_all)]
pub async fn invite(tx: &mut TenantTx, inv: &NewInvitation<'_>) -> Result<InviteOutcome, DbError> {
    let user_id = person(tx, inv.email, inv.name).await?;
    // Pending: inactive, invited, never accepted. Anyone else with a membership is a member.
    let member: Option<bool> = sqlx::query_scalar(
        "SELECT m.is_active OR EXISTS (SELECT 1 FROM app.invitations i
                                        WHERE i.tenant_id = m.tenant_id AND i.user_id = m.user_id
                                          AND i.accepted_at IS NOT NULL)
                           OR NOT EXISTS (SELECT 1 FROM app.invitations i
                                        WHERE i.tenant_id = m.tenant_id AND i.user_id = m.user_id)
           FROM app.memberships m
          WHERE m.tenant_id = app.current_tenant_id() AND m.user_id = $1
          FOR UPDATE OF m",
    )
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    match member {
        Some(true) => return Ok(InviteOutcome::AlreadyMember),
        Some(false) => {
            sqlx::query(
                "WITH gone AS (DELETE FROM app.invitations
                                WHERE tenant_id = app.current_tenant_id() AND user_id = $1
                                  AND accepted_at IS NULL)
                 UPDATE app.memberships SET role = $2, department = $3, permissions = $4
                  WHERE tenant_id = app.current_tenant_id() AND user_id = $1",
            )
            .bind(user_id)
            .bind(inv.role)
            .bind(inv.department)
            .bind(&inv.permissions)
            .execute(tx.conn())
            .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO app.memberships (user_id, role, department, permissions, is_active)
                 VALUES ($1, $2, $3, $4, false)",
            )
            .bind(user_id)
            .bind(inv.role)
            .bind(inv.department)
            .bind(&inv.permissions)
            .execute(tx.conn())
            .await?;
        }
    }
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO app.invitations (user_id, token_hash, invited_by, expires_at)
         VALUES ($1, $2, app.current_user_id(), now() + $3 * interval '1 day')
         RETURNING expires_at",
    )
    .bind(user_id)
    .bind(inv.token_hash)
    .bind(inv.valid_for_days)
    .fetch_one(tx.conn())
    .await?;
    Ok(InviteOutcome::Invited {
        user_id,
        expires_at,
    })
}

/// The id of the person with log-in address `email` (ignoring case), created without a
/// password when there is none. A person who belongs only to other tenants is invisible to
/// this tenant's scope, so the look-up briefly widens it to that one address (the same
/// `login_email` setting log-in uses) and narrows it again before anything else runs.
async fn person(tx: &mut TenantTx, email: &str, name: Option<&str>) -> Result<Uuid, DbError> {
    sqlx::query("SELECT set_config('frontdesk.login_email', lower($1), true)")
        .bind(email)
        .execute(tx.conn())
        .await?;
    // The SELECT arm does not see the CTE's row (one snapshot), so exactly one arm answers,
    // except when a concurrent invitation inserted the address after our snapshot: then the
    // INSERT does nothing and the look-up is repeated below.
    let found: Option<Uuid> = sqlx::query_scalar(
        "WITH new AS (INSERT INTO app.users (email, name) VALUES ($1, $2)
                      ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)
         SELECT id FROM new
         UNION ALL
         SELECT id FROM app.users WHERE lower(email) = lower($1)
         LIMIT 1",
    )
    .bind(email)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    let id = match found {
        Some(id) => id,
        None => {
            sqlx::query_scalar("SELECT id FROM app.users WHERE lower(email) = lower($1)")
                .bind(email)
                .fetch_one(tx.conn())
                .await?
        }
    };
    sqlx::query("SELECT set_config('frontdesk.login_email', '', true)")
        .execute(tx.conn())
        .await?;
    Ok(id)
}

/// Who an open (not accepted, not expired) invitation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingInvitation {
    /// The tenant it admits to.
    pub tenant_id: Uuid,
    /// The invitee.
    pub user_id: Uuid,
}

/// The open invitation the scope's token hash names, if there is one: an unknown, used and
/// expired token all answer `None`.
#[tracing::instrument(skip_all)]
pub async fn pending(tx: &mut InvitationTx) -> Result<Option<PendingInvitation>, DbError> {
    Ok(sqlx::query_as::<_, PendingInvitation>(
        "SELECT tenant_id, user_id FROM app.invitations
          WHERE token_hash = app.current_invitation_hash()
            AND accepted_at IS NULL AND expires_at > now()",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// What accepting needs to know about the invitee.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitee {
    /// Their password's PHC string, or `None` when they have none yet.
    pub password_hash: Option<String>,
    /// `active`, `suspended` or `pending`.
    pub account_status: String,
}

/// The transaction's user, as accepting an invitation sees them.
#[tracing::instrument(skip_all)]
pub async fn invitee(tx: &mut UserTx) -> Result<Option<Invitee>, DbError> {
    Ok(sqlx::query_as::<_, Invitee>(
        "SELECT password_hash, account_status FROM app.users WHERE id = app.current_user_id()",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// What [`accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// The invitation is used up and the membership active, with this role.
    Joined {
        /// The membership's role.
        role: String,
    },
    /// The token is no longer open (accepted or expired meanwhile), or a password was to be
    /// set and the invitee got one meanwhile: nothing should be kept.
    Refused,
}

/// Accepts the invitation with `token_hash` for the transaction's user in its tenant: marks
/// it accepted, sets `new_password_hash` when given (only on a person without a password)
/// and activates the membership, in one statement. The caller rolls back on
/// [`Accepted::Refused`].
#[tracing::instrument(skip_all)]
pub async fn accept(
    tx: &mut TenantTx,
    token_hash: &[u8],
    new_password_hash: Option<&str>,
) -> Result<Accepted, DbError> {
    let row: Option<(String, bool)> = sqlx::query_as(
        "WITH inv AS (
           UPDATE app.invitations SET accepted_at = now()
            WHERE tenant_id = app.current_tenant_id() AND user_id = app.current_user_id()
              AND token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
           RETURNING user_id),
         pw AS (
           UPDATE app.users SET password_hash = $2
            WHERE id IN (SELECT user_id FROM inv) AND $2::text IS NOT NULL
              AND password_hash IS NULL
           RETURNING id)
         UPDATE app.memberships SET is_active = true
          WHERE tenant_id = app.current_tenant_id() AND user_id IN (SELECT user_id FROM inv)
         RETURNING role, EXISTS (SELECT 1 FROM pw)",
    )
    .bind(token_hash)
    .bind(new_password_hash)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some((role, password_set)) if password_set || new_password_hash.is_none() => {
            Accepted::Joined { role }
        }
        _ => Accepted::Refused,
    })
}
