//! One database transaction per GraphQL request.
//!
//! Every resolver and loader of a request shares one tenant-scoped transaction, opened on first
//! use: a query reads one consistent snapshot through one pooled connection, and a mutation's
//! writes commit or roll back together. The [`RequestTransaction`] extension owns the
//! lifecycle: it gives each request (each element of a batch, too) its own [`Session`] and
//! per-request loaders, commits when the response has no errors, and otherwise rolls back —
//! for a mutation it then also drops `data`, so a client is never told of a write that was
//! undone.

use std::sync::{Arc, OnceLock};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerResult, Value, Variables};
use frontdesk_db::{Db, DbError, TenantCtx, TenantTx};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::loader::Loaders;
use crate::{ApiError, RequestCtx};

/// The request's transaction, opened lazily in the caller's tenant.
#[derive(Debug)]
pub struct Session {
    db: Db,
    tenant: OnceLock<TenantCtx>,
    tx: Mutex<Option<TenantTx>>,
}

impl Session {
    fn new(db: Db) -> Self {
        Self {
            db,
            tenant: OnceLock::new(),
            tx: Mutex::new(None),
        }
    }

    /// Fixes the tenant this request acts for; later calls must agree (they always do: the
    /// principal comes from the one verified token).
    pub(crate) fn bind(&self, ctx: TenantCtx) {
        let _ = self.tenant.set(ctx);
    }

    /// The transaction, opened on first use. Callers hold it only for one statement or one
    /// mutation, so concurrent resolvers interleave their statements.
    pub(crate) async fn tx(&self) -> Result<MappedMutexGuard<'_, TenantTx>, ApiError> {
        let ctx = *self.tenant.get().ok_or_else(|| {
            ApiError::Internal("a tenant transaction was requested before authentication".into())
        })?;
        let mut guard = self.tx.lock().await;
        if guard.is_none() {
            *guard = Some(self.db.begin_tenant(ctx).await?);
        }
        Ok(MutexGuard::map(guard, |slot| {
            slot.as_mut()
                .unwrap_or_else(|| unreachable!("the slot was filled above"))
        }))
    }

    async fn finish(&self, commit: bool) -> Result<(), DbError> {
        match self.tx.lock().await.take() {
            Some(tx) if commit => tx.commit().await,
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}

/// Installs a [`Session`] and fresh loaders in every request; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestTransaction;

impl ExtensionFactory for RequestTransaction {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            session: OnceLock::new(),
            mutation: OnceLock::new(),
        })
    }
}

struct PerRequest {
    session: OnceLock<Arc<Session>>,
    mutation: OnceLock<bool>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let db = ctx.data::<Db>().map_err(|e| {
            ApiError::Internal(e.message.into())
                .into_graphql("")
                .into_server_error(Default::default())
        })?;
        let session = Arc::new(Session::new(db.clone()));
        let _ = self.session.set(session.clone());
        let request = request.data(Loaders::new(session.clone())).data(session);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let is_mutation = doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation);
        let _ = self.mutation.set(is_mutation);
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let Some(session) = self.session.get() else {
            return response;
        };
        let commit = response.errors.is_empty();
        if let Err(e) = session.finish(commit).await {
            let request_id = ctx
                .data_opt::<RequestCtx>()
                .map(|r| r.request_id.clone())
                .unwrap_or_default();
            let err = ApiError::from(e).into_graphql(&request_id);
            response.data = Value::Null;
            response
                .errors
                .push(err.into_server_error(Default::default()));
        } else if !commit && self.mutation.get().copied().unwrap_or(false) {
            response.data = Value::Null;
        }
        response
    }
}
