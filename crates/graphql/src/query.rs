//! The root query type.

use async_graphql::{Context, Object, SimpleObject};
use frontdesk_db::{identity, Db};
use uuid::Uuid;

use crate::{ApiError, Principal, RequestCtx, Role};

/// Root of all reads.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

/// The caller: who they are and which tenant they act for.
#[derive(Debug, SimpleObject)]
pub struct Me {
    /// The acting user's id.
    pub user_id: Uuid,
    /// The tenant this token acts for.
    pub tenant_id: Uuid,
    /// The caller's role in that tenant.
    pub role: Role,
    /// The user's e-mail address, when the user exists.
    pub email: Option<String>,
    /// The user's display name, when known.
    pub name: Option<String>,
    /// The tenant's display name.
    pub tenant_name: Option<String>,
}

/// Resolver plumbing shared by every field: the request, the caller, the database.
pub(crate) struct Resolve<'a> {
    pub(crate) req: &'a RequestCtx,
    pub(crate) db: &'a Db,
}

impl<'a> Resolve<'a> {
    pub(crate) fn new(ctx: &'a Context<'_>) -> async_graphql::Result<Self> {
        Ok(Self {
            req: ctx.data::<RequestCtx>()?,
            db: ctx.data::<Db>()?,
        })
    }

    /// The caller, or `UNAUTHENTICATED`.
    pub(crate) fn principal(&self) -> Result<Principal, ApiError> {
        self.req.principal.ok_or_else(|| {
            ApiError::Unauthenticated(
                "an access token is required (Authorization: Bearer …)".into(),
            )
        })
    }

    pub(crate) fn fail(&self, e: ApiError) -> async_graphql::Error {
        e.into_graphql(&self.req.request_id)
    }
}

#[Object]
impl Query {
    /// The caller, resolved from the access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let r = Resolve::new(ctx)?;
        load_me(&r).await.map_err(|e| r.fail(e))
    }
}

async fn load_me(r: &Resolve<'_>) -> Result<Me, ApiError> {
    let p = r.principal()?;
    let mut tx = r.db.begin_tenant(p.tenant_ctx()).await?;
    let user = identity::user_profile(&mut tx, p.user_id).await?;
    let tenant_name = identity::tenant_name(&mut tx).await?;
    tx.commit().await?;
    let (email, name) = match user {
        Some(u) => (Some(u.email), u.name),
        None => (None, None),
    };
    Ok(Me {
        user_id: p.user_id,
        tenant_id: p.tenant_id,
        role: p.role,
        email,
        name,
        tenant_name,
    })
}
