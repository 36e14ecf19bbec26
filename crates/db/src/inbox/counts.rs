//! Inbox reads that are counts: the caller's unread counts and the inbox's badge counts.
//!
//! The unread count is `app.unread_count` (migration 0008) written out as a LATERAL subquery
//! (migration 0026): a distributed planner pushes that join down to the conversation's shard,
//! while it cannot run a per-row SQL function that reads another table.

use uuid::Uuid;

use crate::{DbError, TenantTx};

/// The acting member's unread counts of `ids` in one statement (conversations not visible are
/// absent).
#[tracing::instrument(skip_all, fields(n = ids.len()))]
pub async fn unread_counts(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>, DbError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, u.n AS "unread!"
             FROM app.conversations c
             CROSS JOIN LATERAL (
               SELECT count(*) AS n
                 FROM app.messages m
                 LEFT JOIN app.conversation_reads r
                   ON r.tenant_id = c.tenant_id AND r.conversation_id = c.id
                  AND r.user_id = app.current_user_id()
                WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
                  AND m.direction = 'inbound'
                  AND NOT coalesce(CASE WHEN m.seq IS NOT NULL THEN m.seq <= r.last_read_seq
                                        ELSE m.sent_at <= r.last_read_at END, false)) u
            WHERE c.id = ANY($1)"#,
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
                count(*) FILTER (WHERE unread > 0) AS "unread_for_me!"
           FROM (SELECT c.*, c.status NOT IN ('resolved', 'closed') AND c.lifecycle = 'active'
                         AS active, u.n AS unread
                   FROM app.conversations c
                   CROSS JOIN LATERAL (
                     SELECT count(*) AS n
                       FROM app.messages m
                       LEFT JOIN app.conversation_reads r
                         ON r.tenant_id = c.tenant_id AND r.conversation_id = c.id
                        AND r.user_id = app.current_user_id()
                      WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id
                        AND m.direction = 'inbound'
                        AND NOT coalesce(CASE WHEN m.seq IS NOT NULL THEN m.seq <= r.last_read_seq
                                              ELSE m.sent_at <= r.last_read_at END, false)) u) c"#
    )
    .fetch_one(tx.conn())
    .await?)
}
