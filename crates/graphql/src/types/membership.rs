//! `Me.memberships`: the tenants the caller belongs to (seed 002's agency user with many
//! clients), for a tenant switcher; `switchTenant` takes one of their ids.
//!
//! Read in the request's transaction through `frontdesk_db::agency`, which returns the
//! caller's own memberships only (whatever tenant the token acts for) with each tenant's
//! name, and nothing about anybody else's.

use async_graphql::{ComplexObject, Context, SimpleObject};
use frontdesk_db::agency;
use uuid::Uuid;

use crate::query::{Me, Resolve};
use crate::{ApiError, Role};

/// One tenant the caller belongs to.
#[derive(Debug, Clone, SimpleObject)]
pub struct TenantMembership {
    /// The tenant's id (what `switchTenant` takes).
    pub tenant_id: Uuid,
    /// The tenant's display name.
    pub tenant_name: String,
    /// The caller's role there.
    pub role: Role,
    /// False for a deactivated membership or an invitation not accepted yet: `switchTenant`
    /// refuses those.
    pub is_active: bool,
    /// Whether the current access token acts for this tenant.
    pub is_current: bool,
}

#[ComplexObject]
impl Me {
    /// Every tenant the caller belongs to, by name: role, whether the membership is active,
    /// and which one the token acts for.
    async fn memberships(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TenantMembership>> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            let rows = {
                let mut tx = r.session.tx().await?;
                agency::user_memberships(&mut tx).await?
            };
            rows.into_iter()
                .map(|m| {
                    let role: Role = m
                        .role
                        .parse()
                        .map_err(|e: String| ApiError::Internal(e.into()))?;
                    Ok(TenantMembership {
                        is_current: m.tenant_id == self.tenant_id,
                        tenant_id: m.tenant_id,
                        tenant_name: m.tenant_name,
                        role,
                        is_active: m.is_active,
                    })
                })
                .collect()
        })
        .await
    }
}
