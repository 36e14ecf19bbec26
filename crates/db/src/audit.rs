//! Auth events in the audit trail: sign-ins, failed sign-ins and refused tokens.
//!
//! Row changes need nothing from Rust: the `audit_row` trigger (migration 0022) records every
//! insert, update and delete of a tenant table in the writing transaction, with the request
//! metadata the scope stored ([`crate::RequestMeta`]). Auth events happen where there is often
//! no tenant scope (a wrong password, a refused token), so they go through the two SECURITY
//! DEFINER appenders of 0022, which take the request metadata as arguments. Neither is ever
//! given a password or a token: what failed is a fixed reason word.

use crate::{Db, DbError, RequestMeta, TenantTx};
use uuid::Uuid;

/// An auth event whose tenant and user are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEvent {
    /// A sign-in (log-in or accepted invitation) that issued a token.
    LoginSucceeded,
    /// A correctly signed token refused because it has expired.
    TokenExpired,
}

impl AuthEvent {
    fn fields(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ) {
        match self {
            AuthEvent::LoginSucceeded => ("login.succeeded", "success", "low", None),
            AuthEvent::TokenExpired => ("token.refused", "failure", "low", Some("expired")),
        }
    }
}

/// Records `event` of `user` in `tenant` (nothing when the tenant does not exist), committing
/// on its own: a refused request has no transaction to ride on.
pub async fn record(
    db: &Db,
    tenant: Uuid,
    user: Uuid,
    event: AuthEvent,
    meta: &RequestMeta,
) -> Result<(), DbError> {
    append(&db.pool, tenant, Some(user), event, meta).await
}

/// Records a sign-in of the scope's user in the transaction that records it on the user and
/// membership, so the entry commits (or not) with the sign-in itself.
pub async fn record_sign_in(tx: &mut TenantTx, meta: &RequestMeta) -> Result<(), DbError> {
    let ctx = tx.ctx();
    append(
        tx.conn(),
        ctx.tenant_id,
        ctx.user_id,
        AuthEvent::LoginSucceeded,
        meta,
    )
    .await
}

async fn append<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    tenant: Uuid,
    user: Option<Uuid>,
    event: AuthEvent,
    meta: &RequestMeta,
) -> Result<(), DbError> {
    let (action, status, severity, reason) = event.fields();
    sqlx::query("SELECT app.audit_auth_event($1, $2, $3, $4, $5, $6, $7, $8::inet, $9)")
        .bind(tenant)
        .bind(user)
        .bind(action)
        .bind(status)
        .bind(severity)
        .bind(reason)
        .bind(&meta.request_id)
        .bind(meta.client_addr.map(|a| a.to_string()))
        .bind(meta.user_agent.as_deref())
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed sign-in for `email` in every tenant its user is a member of; an address
/// that belongs to nobody is recorded nowhere. `reason` is a fixed word (`password`,
/// `account_inactive`), never what was typed.
pub async fn record_login_failure(
    db: &Db,
    email: &str,
    reason: &str,
    meta: &RequestMeta,
) -> Result<(), DbError> {
    sqlx::query("SELECT app.audit_login_failure($1, $2, $3, $4::inet, $5)")
        .bind(email)
        .bind(reason)
        .bind(&meta.request_id)
        .bind(meta.client_addr.map(|a| a.to_string()))
        .bind(meta.user_agent.as_deref())
        .execute(&db.pool)
        .await?;
    Ok(())
}
