//! `switchTenant`: an agency user (seed 002) moves between their client tenants without
//! signing in again.
//!
//! It exchanges a valid token for one acting for another tenant the same user is an active
//! member of, with the role that membership holds now. No password is asked: the token
//! already proves who the caller is, and the new token is never worth more than a log-in to
//! that tenant would give. The token's own membership must still be active (like every
//! request), and the account must be active (like log-in).
//!
//! What the caller cannot learn: whether a tenant exists, or whether they were once a member
//! of it. A tenant they are not a member of, one where they are deactivated or only invited,
//! an unknown id and a malformed one all get the same `NOT_FOUND` on `tenantId`, after the
//! same statement (`tenantId` is an `ID`, not a `UUID`, so even a malformed value reaches this
//! answer instead of a schema validation error).

use async_graphql::{Context, Object, ID};
use chrono::Utc;
use frontdesk_db::agency;
use uuid::Uuid;

use super::login::LoginPayload;
use crate::query::Resolve;
use crate::{ApiError, Principal, Role, TokenKeys};

impl LoginPayload {
    /// A fresh token for `principal` and what it acts as.
    pub(crate) fn issue(keys: &TokenKeys, principal: Principal) -> Self {
        // Taken before minting, so the token's `exp` (whole seconds) is never earlier than this.
        let expires_at = Utc::now() + keys.ttl();
        Self {
            access_token: keys.mint(&principal),
            expires_at,
            user_id: principal.user_id,
            tenant_id: principal.tenant_id,
            role: principal.role,
        }
    }
}

/// The one refusal for every tenant the caller may not switch to.
fn refused() -> ApiError {
    ApiError::NotFoundAt {
        what: "Tenant",
        field: "tenantId".into(),
    }
}

async fn switch(r: &Resolve<'_>, tenant_id: &ID) -> Result<LoginPayload, ApiError> {
    let caller = r.principal()?;
    r.grants().await?;
    // The nil id names no tenant, so a malformed id takes the same path as an unknown one.
    let target = Uuid::parse_str(tenant_id.trim()).unwrap_or(Uuid::nil());
    let (status, memberships) = {
        let mut tx = r.session.tx().await?;
        (
            agency::account_status(&mut tx).await?,
            agency::user_memberships(&mut tx).await?,
        )
    };
    if let Some(status) = status.filter(|s| s != "active") {
        return Err(ApiError::Forbidden(format!(
            "this account is {status}; it cannot sign in"
        )));
    }
    let membership = memberships
        .into_iter()
        .find(|m| m.tenant_id == target && m.is_active)
        .ok_or_else(refused)?;
    let role: Role = membership
        .role
        .parse()
        .map_err(|e: String| ApiError::Internal(e.into()))?;
    Ok(LoginPayload::issue(
        r.keys,
        Principal {
            user_id: caller.user_id,
            tenant_id: membership.tenant_id,
            role,
        },
    ))
}

/// Moving between tenants.
#[derive(Debug, Default)]
pub struct AgencyMutation;

#[Object]
impl AgencyMutation {
    /// Exchanges the caller's token for one acting for another tenant they are an active
    /// member of (see `me.memberships`), with their role there; no password. Any other
    /// `tenantId` — not a member, deactivated, only invited, unknown or malformed — is the same
    /// `NOT_FOUND` on `tenantId`. The current token keeps working until it expires.
    async fn switch_tenant(
        &self,
        ctx: &Context<'_>,
        tenant_id: ID,
    ) -> async_graphql::Result<LoginPayload> {
        let r = Resolve::new(ctx)?;
        r.run(switch(&r, &tenant_id)).await
    }
}
