//! One database transaction per GraphQL request.
//!
//! Every resolver and loader of a request shares one tenant-scoped transaction, opened on first
//! use: a query reads one consistent snapshot through one pooled connection, and a mutation's
//! writes commit or roll back together. [`crate::execute`] owns the lifecycle: it gives each
//! request (each element of a batch, too) its own [`Session`] and per-request loaders,
//! commits when the response has no errors, and otherwise rolls back — for a mutation it then
//! also drops `data`, so a client is never told of a write that was undone.

use std::sync::OnceLock;

use frontdesk_db::{Db, DbError, TenantCtx, TenantTx};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::ApiError;

/// The request's transaction, opened lazily in the caller's tenant.
#[derive(Debug)]
pub struct Session {
    db: Db,
    tenant: OnceLock<TenantCtx>,
    tx: Mutex<Option<TenantTx>>,
}

impl Session {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            tenant: OnceLock::new(),
            tx: Mutex::new(None),
        }
    }

    /// The database, for the few steps that must commit on their own whatever the request's
    /// transaction does (counting a password attempt).
    pub(crate) fn db(&self) -> &Db {
        &self.db
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

    /// The caller's grants in the bound tenant.
    pub(crate) async fn grants(
        &self,
        role: crate::Role,
    ) -> Result<crate::entity::Grants, ApiError> {
        // Until the membership is read at the start of the transaction, the token's role.
        Ok(crate::entity::Grants::new(role, &[]))
    }

    /// Commits (or rolls back) the transaction, if one was opened.
    pub(crate) async fn finish(&self, commit: bool) -> Result<(), DbError> {
        match self.tx.lock().await.take() {
            Some(tx) if commit => tx.commit().await,
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }
}
