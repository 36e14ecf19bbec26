//! The root query type and the resolver plumbing every field shares.

use std::future::Future;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{Context, MergedObject, Object, SimpleObject, ID};
use frontdesk_db::identity;
use uuid::Uuid;

use crate::entity::read_ahead;
use crate::entity::{authorize, global_id, load_node, AnyNode, Entity, EntityQuery, Op};
use crate::list::{self, Connection, ListArgs};
use crate::loader::Loaders;
use crate::session::Session;
use crate::types::enums::Permission;
use crate::types::{current_tenant, Conversation, InboxCounts, Tenant};
use crate::{ApiError, Principal, RequestCtx, Role, TokenKeys};

/// Root of all reads: the caller and Relay's `node`, then every entity's root fields.
#[derive(Debug, Default, MergedObject)]
pub struct Query(
    CoreQuery,
    EntityQuery,
    crate::privacy::PrivacyQuery,
    crate::dashboard::DashboardQuery,
);

/// The root fields that belong to no single entity.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoreQuery;

/// The caller: who they are and which tenant they act for.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Me {
    /// The acting user's id.
    pub user_id: Uuid,
    /// The tenant this token acts for.
    pub tenant_id: Uuid,
    /// The caller's role in that tenant (as the membership says now).
    pub role: Role,
    /// What the caller may do: the membership's permissions, or the role's defaults.
    pub permissions: Vec<Permission>,
    /// The user's e-mail address, when the user exists.
    pub email: Option<String>,
    /// The user's display name, when known.
    pub name: Option<String>,
    /// The tenant's display name.
    pub tenant_name: Option<String>,
}

/// Resolver plumbing shared by every field: the caller, the request's transaction and loaders.
#[derive(Debug)]
pub struct Resolve<'a> {
    pub(crate) req: &'a RequestCtx,
    pub(crate) keys: &'a TokenKeys,
    pub(crate) session: &'a Arc<Session>,
    pub(crate) loaders: &'a Loaders,
}

impl<'a> Resolve<'a> {
    pub(crate) fn new(ctx: &'a Context<'_>) -> async_graphql::Result<Self> {
        let r = Self {
            req: ctx.data::<RequestCtx>()?,
            keys: ctx.data::<TokenKeys>()?,
            session: ctx.data::<Arc<Session>>()?,
            loaders: ctx.data::<Loaders>()?,
        };
        // A mutation's root fields run one after another, each after the writes of the one
        // before: what an earlier field's payload read must not answer a later one's.
        let root = ctx.path_node.is_some_and(|n| n.parent.is_none());
        if root && ctx.query_env.operation.node.ty == OperationType::Mutation {
            r.loaders.read_ahead.clear();
        }
        Ok(r)
    }

    /// The caller, or `UNAUTHENTICATED`. Binds the request's transaction to their tenant.
    pub(crate) fn principal(&self) -> Result<Principal, ApiError> {
        let p = self.req.principal.ok_or_else(|| {
            ApiError::Unauthenticated(
                "an access token is required (Authorization: Bearer …)".into(),
            )
        })?;
        self.session.bind(p.tenant_ctx());
        Ok(p)
    }

    /// What the caller holds in the tenant: role and effective permissions (see
    /// [`crate::entity::Grants`]).
    pub(crate) async fn grants(&self) -> Result<crate::entity::Grants, ApiError> {
        self.principal()?;
        self.session.grants().await
    }

    /// Runs a resolver body, turning its error into a GraphQL error with a code.
    pub(crate) async fn run<T>(
        &self,
        body: impl Future<Output = Result<T, ApiError>>,
    ) -> async_graphql::Result<T> {
        // Authentication comes first, so an anonymous caller learns nothing else.
        self.principal()
            .map_err(|e| e.into_graphql(&self.req.request_id))?;
        body.await.map_err(|e| e.into_graphql(&self.req.request_id))
    }
}

/// A row by id, or `NOT_FOUND` (the same for another tenant's id as for a missing one),
/// with its selection read ahead.
pub(crate) async fn by_id<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    id: Uuid,
) -> Result<T, ApiError> {
    authorize::<T>(r, Op::Read).await?;
    let row = r
        .loaders
        .load_by_id::<T>(id)
        .await?
        .ok_or_else(|| ApiError::NotFoundAt {
            what: T::NAME,
            field: "id".into(),
        })?;
    read_ahead::run(read_ahead::object(r, ctx.field().selection_set(), &[&row])).await?;
    Ok(row)
}

/// A top-level list of `T`, with its selection read ahead.
pub(crate) async fn list<T: Entity>(
    ctx: &Context<'_>,
    r: &Resolve<'_>,
    args: ListArgs<T>,
) -> Result<Connection<T>, ApiError> {
    authorize::<T>(r, Op::Read).await?;
    list::root(ctx, r, args).await
}

/// The row a `one` relation's link column points at, when there is a link and it is visible.
pub(crate) async fn link<T: Entity>(
    ctx: &Context<'_>,
    id: Option<Uuid>,
) -> async_graphql::Result<Option<T>> {
    let r = Resolve::new(ctx)?;
    r.run(async {
        match id {
            Some(id) => r.loaders.load_by_id::<T>(id).await,
            None => Ok(None),
        }
    })
    .await
}

/// Most ids `nodes` takes.
pub const MAX_NODE_IDS: usize = 100;

#[Object]
impl CoreQuery {
    /// The caller, resolved from the access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Me> {
        let r = Resolve::new(ctx)?;
        r.run(load_me(&r)).await
    }

    /// The caller's tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let r = Resolve::new(ctx)?;
        r.run(current_tenant(r.session)).await
    }

    /// Any object by its global id (Relay): null when it does not exist or is not visible.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<AnyNode>> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            let (type_name, row) = node_id("id", &id)?;
            load_node(ctx, &r, &type_name, row).await
        })
        .await
    }

    /// Objects by their global ids, in the order given (null where one does not exist or is
    /// not visible).
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<AnyNode>>> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            if ids.len() > MAX_NODE_IDS {
                return Err(ApiError::BadUserInput {
                    field: "ids".into(),
                    message: format!("at most {MAX_NODE_IDS} ids"),
                });
            }
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                let (type_name, row) = node_id("ids", id)?;
                out.push(load_node(ctx, &r, &type_name, row).await?);
            }
            Ok(out)
        })
        .await
    }

    /// The inbox's badge counts for the caller, in one statement.
    async fn inbox_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<InboxCounts> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            authorize::<Conversation>(&r, Op::Read).await?;
            let mut tx = r.session.tx().await?;
            Ok(frontdesk_db::inbox::inbox_counts(&mut tx).await?.into())
        })
        .await
    }
}

/// The type and row a `node` argument names: a global id is required (a bare UUID does not
/// say which type it is).
fn node_id(field: &str, id: &ID) -> Result<(String, Uuid), ApiError> {
    let bad = |message: String| ApiError::BadUserInput {
        field: field.to_owned(),
        message,
    };
    match global_id::decode(id).map_err(bad)? {
        (Some(type_name), row) => Ok((type_name, row)),
        (None, _) => Err(bad(
            "a bare UUID does not name a type; pass the object's global `id`".into(),
        )),
    }
}

async fn load_me(r: &Resolve<'_>) -> Result<Me, ApiError> {
    let p = r.principal()?;
    let (user, tenant_name) = {
        let mut tx = r.session.tx().await?;
        let user = identity::user_profile(&mut tx, p.user_id).await?;
        (user, identity::tenant_name(&mut tx).await?)
    };
    let grants = r.grants().await?;
    let (email, name) = match user {
        Some(u) => (Some(u.email), u.name),
        None => (None, None),
    };
    Ok(Me {
        user_id: p.user_id,
        tenant_id: p.tenant_id,
        role: grants.role,
        permissions: grants.permissions,
        email,
        name,
        tenant_name,
    })
}
