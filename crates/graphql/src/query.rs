//! The root query type and the resolver plumbing every field shares.

use std::future::Future;
use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use frontdesk_db::identity;
use uuid::Uuid;

use crate::list::{self, Connection, ListArgs, Node};
use crate::loader::Loaders;
use crate::prefetch;
use crate::session::Session;
use crate::types::{
    current_tenant, inbox_counts, Booking, BookingFilter, BookingOrder, Call, CallFilter,
    CallOrder, Conversation, ConversationFilter, ConversationOrder, Customer, CustomerFilter,
    CustomerOrder, InboxCounts, SmsMessage, SmsMessageFilter, SmsMessageOrder, Tenant,
};
use crate::{ApiError, Principal, RequestCtx, Role, TokenKeys};

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
        Ok(Self {
            req: ctx.data::<RequestCtx>()?,
            keys: ctx.data::<TokenKeys>()?,
            session: ctx.data::<Arc<Session>>()?,
            loaders: ctx.data::<Loaders>()?,
        })
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
/// with its nested lists read ahead.
async fn by_id<T: Node>(ctx: &Context<'_>, r: &Resolve<'_>, id: Uuid) -> Result<T, ApiError> {
    let row = r
        .loaders
        .load_by_id::<T>(id)
        .await?
        .ok_or(ApiError::NotFound(T::NAME))?;
    let path = prefetch::path_key(ctx);
    prefetch::run(prefetch::object(
        r,
        ctx.field().selection_set(),
        &path,
        &[&row],
    ))
    .await?;
    Ok(row)
}

#[Object]
impl Query {
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

    /// One customer.
    async fn customer(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Customer> {
        let r = Resolve::new(ctx)?;
        r.run(by_id(ctx, &r, id)).await
    }

    /// Customers (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list::cost(first, last, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CustomerFilter>,
        order_by: Option<Vec<CustomerOrder>>,
    ) -> async_graphql::Result<Connection<Customer>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(list::root(ctx, &r, args)).await
    }

    /// One booking.
    async fn booking(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Booking> {
        let r = Resolve::new(ctx)?;
        r.run(by_id(ctx, &r, id)).await
    }

    /// Bookings (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list::cost(first, last, child_complexity)")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<BookingFilter>,
        order_by: Option<Vec<BookingOrder>>,
    ) -> async_graphql::Result<Connection<Booking>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(list::root(ctx, &r, args)).await
    }

    /// One call.
    async fn call(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Call> {
        let r = Resolve::new(ctx)?;
        r.run(by_id(ctx, &r, id)).await
    }

    /// Calls (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list::cost(first, last, child_complexity)")]
    async fn calls(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<CallFilter>,
        order_by: Option<Vec<CallOrder>>,
    ) -> async_graphql::Result<Connection<Call>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(list::root(ctx, &r, args)).await
    }

    /// One text message.
    async fn sms_message(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<SmsMessage> {
        let r = Resolve::new(ctx)?;
        r.run(by_id(ctx, &r, id)).await
    }

    /// Text messages (newest first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list::cost(first, last, child_complexity)")]
    async fn sms_messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<SmsMessageFilter>,
        order_by: Option<Vec<SmsMessageOrder>>,
    ) -> async_graphql::Result<Connection<SmsMessage>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(list::root(ctx, &r, args)).await
    }

    /// One conversation.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Conversation> {
        let r = Resolve::new(ctx)?;
        r.run(by_id(ctx, &r, id)).await
    }

    /// Conversations (latest activity first unless ordered).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "list::cost(first, last, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ConversationFilter>,
        order_by: Option<Vec<ConversationOrder>>,
    ) -> async_graphql::Result<Connection<Conversation>> {
        let args = ListArgs {
            first,
            after,
            last,
            before,
            filter,
            order_by,
        };
        let r = Resolve::new(ctx)?;
        r.run(list::root(ctx, &r, args)).await
    }

    /// The inbox's badge counts for the caller, in one statement.
    async fn inbox_counts(&self, ctx: &Context<'_>) -> async_graphql::Result<InboxCounts> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            let mut tx = r.session.tx().await?;
            Ok(inbox_counts(&mut tx).await?)
        })
        .await
    }
}

async fn load_me(r: &Resolve<'_>) -> Result<Me, ApiError> {
    let p = r.principal()?;
    let (user, tenant_name) = {
        let mut tx = r.session.tx().await?;
        let user = identity::user_profile(&mut tx, p.user_id).await?;
        (user, identity::tenant_name(&mut tx).await?)
    };
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
