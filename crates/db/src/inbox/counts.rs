//! Inbox reads that are counts: the caller's unread counts and the inbox's badge counts.

use uuid::Uuid;

use crate::{DbError, TenantTx};

/// The acting member's unread counts of `ids` in one statement (conversations not visible are
/// absent).
#[tracing::instrument(skip_all, fields(n = ids.len()))]
pub async fn unread_counts(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>, DbError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, app.unread_count(c.id, app.current_user_id()) AS "unread!"
             FROM app.conversations c WHERE c.id = ANY($1)"#,
        ids
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.unread)).collect())
}

/// The inbox's badge counts for the acting member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCounts {
    /// Active conversations not yet resolved or closed.
    pub open: i64,
    /// Of those, assigned to the acting member.
    pub mine: i64,
    /// Of those, assigned to nobody.
    pub unassigned: i64,
    /// In status `open`.
    pub status_open: i64,
    /// In status `assigned`.
    pub status_assigned: i64,
    /// In status `waiting`.
    pub status_waiting: i64,
    /// In status `resolved`.
    pub status_resolved: i64,
    /// In status `closed`.
    pub status_closed: i64,
    /// Every conversation, whatever its status or lifecycle.
    pub total: i64,
    /// Conversations with messages the acting member has not read.
    pub unread_for_me: i64,
}

/// Every count in one pass over the tenant's conversations. The per-status counts count every
/// lifecycle, so they add up to `total`.
#[tracing::instrument(skip_all)]
pub async fn inbox_counts(tx: &mut TenantTx) -> Result<InboxCounts, DbError> {
    Ok(sqlx::query_as!(
        InboxCounts,
        r#"SELECT count(*) FILTER (WHERE active) AS "open!",
                count(*) FILTER (WHERE active AND assigned_agent_id = app.current_user_id())
                  AS "mine!",
                count(*) FILTER (WHERE active AND assigned_agent_id IS NULL) AS "unassigned!",
                count(*) FILTER (WHERE status = 'open') AS "status_open!",
                count(*) FILTER (WHERE status = 'assigned') AS "status_assigned!",
                count(*) FILTER (WHERE status = 'waiting') AS "status_waiting!",
                count(*) FILTER (WHERE status = 'resolved') AS "status_resolved!",
                count(*) FILTER (WHERE status = 'closed') AS "status_closed!",
                count(*) AS "total!",
                count(*) FILTER (WHERE app.unread_count(id, app.current_user_id()) > 0)
                  AS "unread_for_me!"
           FROM (SELECT c.*, c.status NOT IN ('resolved', 'closed') AND c.lifecycle = 'active'
                         AS active
                   FROM app.conversations c) c"#
    )
    .fetch_one(tx.conn())
    .await?)
}
