//! One database transaction per GraphQL request.
//!
//! Every resolver and loader of a request shares one tenant-scoped transaction, opened on first
//! use: a query reads one consistent snapshot through one pooled connection, and a mutation's
//! writes commit or roll back together. [`crate::execute`] owns the lifecycle: it gives each
//! request (each element of a batch, too) its own [`Session`] and per-request loaders,
//! commits when the response has no errors, and otherwise rolls back — for a mutation it then
//! also drops `data`, so a client is never told of a write that was undone.
//!
//! A query's session reads from a read replica when one is configured and has caught up
//! with the caller ([`Session::reader`], `frontdesk_db::replica`); every other session opens
//! on the primary.

use std::sync::OnceLock;

use frontdesk_db::{Db, DbError, Lsn, Membership, RequestMeta, TenantCtx, TenantTx};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::entity::Grants;
use crate::{ApiError, Role};

/// The request's transaction, opened lazily in the caller's tenant.
#[derive(Debug)]
pub struct Session {
    db: Db,
    /// The request's id, client address and user agent, which the scope passes on to the
    /// audit trail.
    meta: RequestMeta,
    tenant: OnceLock<TenantCtx>,
    tx: Mutex<Option<TenantTx>>,
    grants: OnceLock<Grants>,
    /// `Some` for a session that only reads and may use a replica: the WAL position the
    /// client says the replica must have replayed (`extensions.minLsn`), if any.
    reads: Option<Option<Lsn>>,
}

impl Session {
    pub(crate) fn new(db: Db, meta: RequestMeta) -> Self {
        Self {
            db,
            meta,
            tenant: OnceLock::new(),
            tx: Mutex::new(None),
            grants: OnceLock::new(),
            reads: None,
        }
    }

    /// A session that only reads (a query): it may read from a replica that has replayed
    /// `min_lsn` and the caller's own latest write.
    pub(crate) fn reader(db: Db, meta: RequestMeta, min_lsn: Option<Lsn>) -> Self {
        Self {
            reads: Some(min_lsn),
            ..Self::new(db, meta)
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
            let tx = match self.reads {
                Some(min_lsn) => self.db.begin_tenant_read(ctx, &self.meta, min_lsn).await?,
                None => self.db.begin_tenant_for(ctx, &self.meta).await?,
            };
            // A person acts only while their membership exists and is active: checked by the
            // statement that opened the transaction, so every read and write of the request
            // is refused otherwise, whatever the token still says.
            if ctx.user_id.is_some() {
                let _ = self.grants.set(grants_of(tx.membership())?);
            }
            *guard = Some(tx);
        }
        Ok(MutexGuard::map(guard, |slot| {
            slot.as_mut()
                .unwrap_or_else(|| unreachable!("the slot was filled above"))
        }))
    }

    /// The caller's role and permissions in the bound tenant, as the membership said when the
    /// request's transaction began (which this opens if need be).
    pub(crate) async fn grants(&self) -> Result<Grants, ApiError> {
        if self.grants.get().is_none() {
            drop(self.tx().await?);
        }
        self.grants.get().cloned().ok_or_else(|| {
            ApiError::Unauthenticated("this request does not act for a member".into())
        })
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

/// The grants of the membership a transaction began with, or why there are none.
pub(crate) fn grants_of(membership: Option<&Membership>) -> Result<Grants, ApiError> {
    match membership {
        Some(m) if m.is_active => {
            let role: Role = m
                .role
                .parse()
                .map_err(|e: String| ApiError::Internal(e.into()))?;
            Ok(Grants::new(role, &m.permissions))
        }
        Some(_) => Err(ApiError::Forbidden(
            "your membership of this tenant is deactivated".into(),
        )),
        None => Err(ApiError::Unauthenticated(
            "the access token's user is not a member of its tenant".into(),
        )),
    }
}
