//! Scoped transactions: the only doors to the runtime pool.
//!
//! Each scope opens a transaction and, as its first statement, stores who is acting in
//! *transaction-local* settings (`set_config(name, value, true)`). The RLS policies read them
//! through `app.current_tenant_id()` and friends. Because the settings die with the
//! transaction, a pooled connection can never carry one request's tenant into the next one,
//! and a statement issued outside a scope sees no tenant at all (every policy fails closed).
//!
//! Each scope also has a span, `db.transaction` (DEBUG, so only traces pay for it), with the
//! tenant it acts for: entered while the transaction begins and while it commits or rolls
//! back, and closed with the scope, so a trace shows how long each transaction stayed open.
//!
//! On a distributed database ([`crate::DbConfig::distributed`], docs/scaling.md) the scope also
//! sends the same settings as `SET LOCAL` commands, the only form Citus passes to its workers,
//! and a tenant scope that may write notifies the inbox listeners itself before it commits
//! (`app.notify_inbox_events`, migration 0029): the commit-time numbering that notifies on a
//! single server runs on a worker there, out of the listeners' hearing.

use std::net::IpAddr;

use sqlx::{Executor, PgConnection, Postgres, Transaction};
use tracing::field::Empty;
use tracing::{Instrument as _, Span};
use uuid::Uuid;

use crate::{Db, DbError};

/// Who is acting: the tenant always, the user when a person (not a system job) acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantCtx {
    /// The tenant whose rows are visible and writable.
    pub tenant_id: Uuid,
    /// The acting user, recorded for per-user policies and audit.
    pub user_id: Option<Uuid>,
}

/// Where a request came from, for the audit trail: each scope opened for the request stores it
/// in transaction-local settings next to the tenant, and the audit trigger (migration 0022)
/// copies it into every entry the transaction writes. Empty for work no request started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// The request's id (`X-Request-Id`), as responses and logs carry it.
    pub request_id: String,
    /// The client's address (the socket peer).
    pub client_addr: Option<IpAddr>,
    /// The client's `User-Agent`, cut to [`RequestMeta::USER_AGENT_MAX`] characters.
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// The longest user agent stored; longer ones are cut (a header is the client's to fill).
    pub const USER_AGENT_MAX: usize = 512;

    /// Metadata of a request; `user_agent` is cut to [`Self::USER_AGENT_MAX`] characters.
    pub fn new(request_id: String, client_addr: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            request_id,
            client_addr,
            user_agent: user_agent.map(|ua| ua.chars().take(Self::USER_AGENT_MAX).collect()),
        }
    }
}

/// A transaction in one tenant's context.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    span: Span,
    ctx: TenantCtx,
    membership: Option<Membership>,
    /// Notify the inbox listeners on commit when the transaction wrote events (a distributed
    /// database's scopes that may write; see the module's note).
    pub(crate) notify_events: bool,
}

/// A transaction that may only see the identity rows of one e-mail address (log-in).
#[derive(Debug)]
pub struct LoginTx {
    tx: Transaction<'static, Postgres>,
    span: Span,
}

/// A transaction that sees one user's own identity rows and memberships, with no tenant.
#[derive(Debug)]
pub struct UserTx {
    tx: Transaction<'static, Postgres>,
    span: Span,
}

/// A transaction that may only see the invitation whose token hashes to the one it was opened
/// with, and nothing else: no tenant, no user (accepting an invitation).
#[derive(Debug)]
pub struct InvitationTx {
    tx: Transaction<'static, Postgres>,
    span: Span,
}

/// The caller's membership in the tenant a scope acts for, as the scope's first statement read
/// it (`None` when the caller is not a member, or no person acts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    pub role: String,
    /// The permissions the membership lists (empty: the role's defaults apply).
    pub permissions: Vec<String>,
    /// Deactivated members may not act.
    pub is_active: bool,
}

/// A scope's transaction, its acting member's membership and its span.
type Begun = (Transaction<'static, Postgres>, Option<Membership>, Span);

/// Opens the span of a `kind` scope's transaction (see the module's note).
pub(crate) fn transaction_span(kind: &'static str, tenant: Option<Uuid>) -> Span {
    let span = tracing::debug_span!(
        "db.transaction",
        db.system.name = "postgresql",
        frontdesk.scope = kind,
        tenant.id = Empty,
    );
    if let Some(tenant) = tenant {
        span.record("tenant.id", tracing::field::display(tenant));
    }
    span
}

/// Sets the context settings (who acts, and the request's metadata for the audit trail) and
/// reads the acting member's membership, in one round trip (`app.begin_scope`, migrations 0017
/// and 0022); absent values become empty strings, which the context functions read as NULL.
async fn begin_scoped(
    db: &Db,
    kind: &'static str,
    tenant: Option<Uuid>,
    user: Option<Uuid>,
    email: Option<&str>,
    meta: &RequestMeta,
) -> Result<Begun, DbError> {
    let span = transaction_span(kind, tenant);
    let (tx, membership) = begin_in_span(db, tenant, user, email, meta)
        .instrument(span.clone())
        .await?;
    Ok((tx, membership, span))
}

/// [`begin_scoped`]'s work, inside the transaction's span.
async fn begin_in_span(
    db: &Db,
    tenant: Option<Uuid>,
    user: Option<Uuid>,
    email: Option<&str>,
    meta: &RequestMeta,
) -> Result<(Transaction<'static, Postgres>, Option<Membership>), DbError> {
    let mut tx = db.begin_pooled().await?;
    let membership = sqlx::query_as!(
        Membership,
        r#"SELECT role AS "role!", permissions AS "permissions!", is_active AS "is_active!"
             FROM app.begin_scope($1, $2, $3, $4, $5, $6)"#,
        tenant.map(|t| t.to_string()).unwrap_or_default(),
        user.map(|u| u.to_string()).unwrap_or_default(),
        email.unwrap_or_default(),
        meta.request_id,
        meta.client_addr.map(|a| a.to_string()).unwrap_or_default(),
        meta.user_agent.as_deref().unwrap_or_default(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    if db.distributed {
        // Built apart from the await: only the owned batch lives across it.
        let batch = {
            let tenant = tenant.map(|t| t.to_string()).unwrap_or_default();
            let user = user.map(|u| u.to_string()).unwrap_or_default();
            let addr = meta.client_addr.map(|a| a.to_string()).unwrap_or_default();
            let role = membership
                .as_ref()
                .map(|m| m.role.as_str())
                .unwrap_or_default();
            set_local(&[
                ("frontdesk.tenant_id", &tenant),
                ("frontdesk.user_id", &user),
                ("frontdesk.login_email", email.unwrap_or_default()),
                ("frontdesk.request_id", &meta.request_id),
                ("frontdesk.client_addr", &addr),
                (
                    "frontdesk.user_agent",
                    meta.user_agent.as_deref().unwrap_or_default(),
                ),
                ("frontdesk.role", role),
            ])
        };
        (&mut *tx).execute(batch.as_str()).await?;
    }
    Ok((tx, membership))
}

/// `BEGIN` and a read's scope as one simple-query batch, so a read opens its transaction in
/// one round trip instead of two. A read's scope is only what row-level security reads: the
/// tenant and the acting user. The request's metadata and the member's role are for the
/// audit trigger, and a read writes nothing; the login e-mail is for log-in scopes only. The
/// settings are set directly rather than through `app.begin_scope`, whose seven settings and
/// membership read cost PostgreSQL a fifth of a single-row read (the statement reads the
/// membership beside its answer). The values are UUIDs' hyphenated hex, so the literals need
/// no escaping; the row is discarded.
pub(crate) fn fused_begin(tenant: Uuid, user: Option<Uuid>) -> String {
    let user = user.map(|u| u.to_string()).unwrap_or_default();
    format!(
        "BEGIN; SELECT set_config('frontdesk.tenant_id', '{tenant}', true), \
         set_config('frontdesk.user_id', '{user}', true)"
    )
}

/// `settings` as `SET LOCAL` commands, to send in one round trip: on a distributed database
/// (Citus) only commands sent by the client reach the worker nodes, where the policies and
/// triggers read them. `app.begin_scope` has already made the same settings on this node.
///
/// `SET` takes no bind parameters, so each value is written as a string literal: quotes
/// doubled, under `standard_conforming_strings` (set first, so a backslash is just a
/// character whatever the session had), and NUL dropped (PostgreSQL text cannot hold it; none
/// of the values may). The names are this module's constants, never input.
fn set_local(settings: &[(&'static str, &str)]) -> String {
    let mut batch = String::from("SET LOCAL standard_conforming_strings = on");
    for (name, value) in settings {
        batch.push_str(&format!("; SET LOCAL {name} = {}", sql_literal(value)));
    }
    batch
}

/// `value` as a standard-conforming SQL string literal.
fn sql_literal(value: &str) -> String {
    format!("'{}'", value.replace('\0', "").replace('\'', "''"))
}

impl Db {
    /// Begins a transaction acting for `ctx`.
    pub async fn begin_tenant(&self, ctx: TenantCtx) -> Result<TenantTx, DbError> {
        self.begin_tenant_for(ctx, &RequestMeta::default()).await
    }

    /// Begins a transaction acting for `ctx` on behalf of the request `meta` describes (its
    /// audit entries carry the request id, client address and user agent).
    pub async fn begin_tenant_for(
        &self,
        ctx: TenantCtx,
        meta: &RequestMeta,
    ) -> Result<TenantTx, DbError> {
        let (tx, membership, span) =
            begin_scoped(self, "tenant", Some(ctx.tenant_id), ctx.user_id, None, meta).await?;
        Ok(TenantTx {
            tx,
            span,
            ctx,
            membership,
            notify_events: self.distributed,
        })
    }

    /// Begins a transaction that reads for `ctx`, in one round trip: the scope is set by the
    /// same message as `BEGIN`, and holds only what row-level security reads (see
    /// [`fused_begin`]). The membership is not read (the caller's first statement reads it:
    /// [`crate::query::json::read`]), so [`TenantTx::membership`] is `None`; nor is the
    /// request's metadata kept, so nothing it writes would be audited as the request's: it is
    /// for reads only. Not on a distributed database, whose scope must send the member's role
    /// back as `SET LOCAL`.
    pub async fn begin_tenant_fused(&self, ctx: TenantCtx) -> Result<TenantTx, DbError> {
        let span = transaction_span("tenant", Some(ctx.tenant_id));
        let batch = fused_begin(ctx.tenant_id, ctx.user_id);
        let tx = self
            .begin_pooled_with(Some(batch))
            .instrument(span.clone())
            .await?;
        Ok(TenantTx {
            tx,
            span,
            ctx,
            membership: None,
            notify_events: false,
        })
    }

    /// Begins a transaction that only reads for `ctx`, on this database (never a standby): in
    /// [`Db::begin_tenant_fused`]'s one round trip, or through [`Db::begin_tenant`] on a
    /// distributed database. For readers that run on every commit, such as the live feeds,
    /// whose `app.begin_scope` (seven settings and a membership read) and second round trip
    /// cost more than the events they read.
    pub async fn begin_tenant_reading(&self, ctx: TenantCtx) -> Result<TenantTx, DbError> {
        if self.distributed {
            self.begin_tenant(ctx).await
        } else {
            self.begin_tenant_fused(ctx).await
        }
    }

    /// Begins a transaction that can read the identity rows of `email` and nothing else.
    pub async fn begin_login(&self, email: &str) -> Result<LoginTx, DbError> {
        let (tx, _, span) = begin_scoped(
            self,
            "login",
            None,
            None,
            Some(&email.to_lowercase()),
            &RequestMeta::default(),
        )
        .await?;
        Ok(LoginTx { tx, span })
    }

    /// Begins a transaction that sees only the invitation whose token's SHA-256 hash is
    /// `token_hash` (the `token_holder` policy of migration 0013): the first step of accepting
    /// it, before the invitee and their tenant are known.
    pub async fn begin_invitation(&self, token_hash: &[u8]) -> Result<InvitationTx, DbError> {
        let (mut tx, _, span) = begin_scoped(
            self,
            "invitation",
            None,
            None,
            None,
            &RequestMeta::default(),
        )
        .await?;
        sqlx::query("SELECT set_config('frontdesk.invitation_hash', encode($1, 'hex'), true)")
            .bind(token_hash)
            .execute(&mut *tx)
            .instrument(span.clone())
            .await?;
        if self.distributed {
            let hex: String = token_hash.iter().map(|b| format!("{b:02x}")).collect();
            let batch = set_local(&[("frontdesk.invitation_hash", &hex)]);
            (&mut *tx)
                .execute(batch.as_str())
                .instrument(span.clone())
                .await?;
        }
        Ok(InvitationTx { tx, span })
    }

    /// Begins a transaction acting as `user_id` outside any tenant.
    pub async fn begin_user(&self, user_id: Uuid) -> Result<UserTx, DbError> {
        let (tx, _, span) = begin_scoped(
            self,
            "user",
            None,
            Some(user_id),
            None,
            &RequestMeta::default(),
        )
        .await?;
        Ok(UserTx { tx, span })
    }
}

macro_rules! scope_methods {
    ($t:ty) => {
        impl $t {
            /// The connection to run statements on; everything runs inside this scope.
            pub fn conn(&mut self) -> &mut PgConnection {
                &mut self.tx
            }

            /// Rolls the transaction back (dropping the scope does the same).
            pub async fn rollback(self) -> Result<(), DbError> {
                self.tx.rollback().instrument(self.span).await?;
                Ok(())
            }
        }
    };
}

scope_methods!(TenantTx);
scope_methods!(LoginTx);
scope_methods!(UserTx);
scope_methods!(InvitationTx);

macro_rules! plain_commit {
    ($t:ty) => {
        impl $t {
            /// Commits the transaction.
            pub async fn commit(self) -> Result<(), DbError> {
                self.tx.commit().instrument(self.span).await?;
                Ok(())
            }
        }
    };
}

plain_commit!(LoginTx);
plain_commit!(UserTx);
plain_commit!(InvitationTx);

impl TenantTx {
    /// Commits the transaction; on a distributed database a scope that may write first
    /// notifies the inbox listeners if it wrote events of its tenant, inside the transaction so
    /// that a scope that fails to commit notifies nobody.
    pub async fn commit(mut self) -> Result<(), DbError> {
        if self.notify_events {
            sqlx::query("SELECT app.notify_inbox_events($1)")
                .bind(self.ctx.tenant_id)
                .execute(&mut *self.tx)
                .instrument(self.span.clone())
                .await?;
        }
        self.tx.commit().instrument(self.span).await?;
        Ok(())
    }

    /// The context this transaction acts in.
    pub fn ctx(&self) -> TenantCtx {
        self.ctx
    }

    /// The acting user's membership in the tenant when this transaction began (`None` for a
    /// system context or a non-member).
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }
}
