//! The retention job (seeds 002 and 003): what `frontdesk maintenance` runs once and
//! `frontdesk serve` runs on a timer.
//!
//! One pass, in this order:
//!
//! 1. takes the database-wide advisory lock `frontdesk.maintenance` with
//!    `pg_try_advisory_xact_lock`, in a transaction held open until the pass ends; when another
//!    process (another replica's timer, an operator's `frontdesk maintenance`) holds it, the
//!    pass does nothing and says so ([`Outcome::Skipped`]), so the work is done once whatever
//!    the number of replicas. The lock dies with its transaction, so a crashed pass frees it;
//! 2. for each tenant (listed by `app.maintenance_tenants()`, migration 0019), in that tenant's
//!    own scope as the runtime role, so row-level security and the inbox's event triggers apply
//!    as to any request, and in a transaction of its own (one tenant's failure is logged and
//!    counted, and the others still run):
//!    - deletes conversations in lifecycle `deleted` last changed before the cutoff (their
//!      messages, notes, threads, read markers and events go with them);
//!    - archives conversations in lifecycle `active` idle since before the cutoff: no message
//!      since (or, without any message, created before it);
//!    - deletes invitations that expired unaccepted, and with them the pending membership an
//!      invitation created when nothing else keeps it (inactive, no accepted or live
//!      invitation): the person never joined, and inviting the address again starts afresh;
//! 3. deletes expired NextAuth sessions and verification tokens (`app.purge_expired_identity_tokens()`).
//!
//! The cutoff is now minus the tenant's retention period: the tenant setting
//! [`RETENTION_SETTING`] (`retention.conversation_days`, a JSON number of days, 1–36500; the
//! tenant settings API edits it), else [`DEFAULT_RETENTION_DAYS`]. A setting that is not such a
//! number is ignored, like the SLA settings are.
//!
//! `conversations.expires_at` (the chat TTL of seed 002, creation + 90 days) is not acted on:
//! the tenant's period decides, for chats and customer conversations alike.

use uuid::Uuid;

use crate::{Db, DbError, TenantCtx};

/// Days a conversation may stay idle (or deleted) when the tenant has no setting: seed 002's 90.
pub const DEFAULT_RETENTION_DAYS: i32 = 90;

/// The tenant setting that overrides [`DEFAULT_RETENTION_DAYS`].
pub const RETENTION_SETTING: &str = "retention.conversation_days";

/// The advisory lock one pass holds, so that replicas run it once.
pub const LOCK_NAME: &str = "frontdesk.maintenance";

/// Rows one pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Tenants visited.
    pub tenants: u64,
    /// Tenants whose step failed (logged; their rows are untouched).
    pub failed_tenants: u64,
    /// Conversations in lifecycle `deleted` removed.
    pub conversations_deleted: u64,
    /// Active conversations moved to `archived`.
    pub conversations_archived: u64,
    /// Expired, unaccepted invitations removed.
    pub invitations_purged: u64,
    /// Pending memberships removed with their expired invitations.
    pub pending_members_removed: u64,
    /// Expired NextAuth sessions removed.
    pub sessions_purged: u64,
    /// Expired verification tokens removed.
    pub verification_tokens_purged: u64,
}

impl Report {
    /// Each count with its name, for logs and metrics.
    pub fn counts(&self) -> [(&'static str, u64); 6] {
        [
            ("conversations_deleted", self.conversations_deleted),
            ("conversations_archived", self.conversations_archived),
            ("invitations_purged", self.invitations_purged),
            ("pending_members_removed", self.pending_members_removed),
            ("sessions_purged", self.sessions_purged),
            (
                "verification_tokens_purged",
                self.verification_tokens_purged,
            ),
        ]
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} tenants", self.tenants)?;
        if self.failed_tenants > 0 {
            write!(f, " ({} failed)", self.failed_tenants)?;
        }
        for (name, n) in self.counts() {
            write!(f, ", {name} {n}")?;
        }
        Ok(())
    }
}

/// What a pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The pass ran.
    Ran(Report),
    /// Another process holds the lock; nothing was done.
    Skipped,
}

/// One tenant's step: the period's rows deleted and archived.
const CONVERSATIONS: &str = "
WITH period AS (
  SELECT now() - make_interval(days => coalesce(
           (SELECT CASE WHEN d BETWEEN 1 AND 36500 THEN round(d)::int END
              FROM (SELECT CASE WHEN jsonb_typeof(s.value) = 'number'
                                THEN (s.value #>> '{}')::numeric END AS d
                      FROM app.tenant_settings s WHERE s.key = $1) x),
           $2)) AS cutoff
), deleted AS (
  DELETE FROM app.conversations c USING period
   WHERE c.lifecycle = 'deleted' AND c.updated_at < period.cutoff
  RETURNING c.id
), archived AS (
  UPDATE app.conversations c SET lifecycle = 'archived' FROM period
   WHERE c.lifecycle = 'active'
     AND (c.last_message_at < period.cutoff
          OR (c.last_message_at IS NULL AND c.created_at < period.cutoff))
  RETURNING c.id
)
SELECT (SELECT count(*) FROM deleted), (SELECT count(*) FROM archived)";

/// One tenant's expired invitations, and the pending memberships only they kept (deleting a
/// membership deletes its invitations too: the counts are taken from what was expired).
const INVITATIONS: &str = "
WITH expired AS (
  SELECT i.id, i.user_id FROM app.invitations i
   WHERE i.accepted_at IS NULL AND i.expires_at < now()
), members AS (
  DELETE FROM app.memberships m
   WHERE NOT m.is_active AND m.user_id IN (SELECT user_id FROM expired)
     AND NOT EXISTS (SELECT 1 FROM app.invitations i
                      WHERE i.tenant_id = m.tenant_id AND i.user_id = m.user_id
                        AND (i.accepted_at IS NOT NULL OR i.expires_at >= now()))
  RETURNING m.user_id
), invitations AS (
  DELETE FROM app.invitations i WHERE i.id IN (SELECT id FROM expired)
  RETURNING i.id
)
SELECT (SELECT count(*) FROM expired), (SELECT count(*) FROM members),
       (SELECT count(*) FROM invitations)";

/// Runs one pass (see the module docs). `default_days` applies to tenants without a setting.
#[tracing::instrument(skip_all)]
pub async fn run(db: &Db, default_days: i32) -> Result<Outcome, DbError> {
    let mut lock = db.pool.begin().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(LOCK_NAME)
            .fetch_one(&mut *lock)
            .await?;
    if !locked {
        return Ok(Outcome::Skipped);
    }
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT app.maintenance_tenants()")
        .fetch_all(&mut *lock)
        .await?;
    let mut report = Report::default();
    for tenant in tenants {
        report.tenants += 1;
        if let Err(e) = tenant_step(db, tenant, default_days, &mut report).await {
            report.failed_tenants += 1;
            tracing::warn!(%tenant, error = %e, "maintenance of a tenant failed");
        }
    }
    let (sessions, tokens): (i64, i64) = sqlx::query_as(
        "SELECT sessions, verification_tokens FROM app.purge_expired_identity_tokens()",
    )
    .fetch_one(&mut *lock)
    .await?;
    report.sessions_purged = count(sessions);
    report.verification_tokens_purged = count(tokens);
    lock.commit().await?;
    Ok(Outcome::Ran(report))
}

/// One tenant's conversations and invitations, committed together.
async fn tenant_step(
    db: &Db,
    tenant: Uuid,
    default_days: i32,
    report: &mut Report,
) -> Result<(), DbError> {
    let mut tx = db
        .begin_tenant(TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?;
    let (deleted, archived): (i64, i64) = sqlx::query_as(CONVERSATIONS)
        .bind(RETENTION_SETTING)
        .bind(default_days)
        .fetch_one(tx.conn())
        .await?;
    let (expired, members, _): (i64, i64, i64) =
        sqlx::query_as(INVITATIONS).fetch_one(tx.conn()).await?;
    tx.commit().await?;
    if deleted + archived + expired + members > 0 {
        tracing::info!(
            %tenant,
            conversations_deleted = deleted,
            conversations_archived = archived,
            invitations_purged = expired,
            pending_members_removed = members,
            "maintenance changed rows"
        );
    }
    report.conversations_deleted += count(deleted);
    report.conversations_archived += count(archived);
    report.invitations_purged += count(expired);
    report.pending_members_removed += count(members);
    Ok(())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
