//! `memberStatistics`: seed 003's agent `statistics` per member, computed from conversations
//! and tickets instead of the denormalised counters on `memberships`.
//!
//! Over `[from, to)`: conversations *handled* are those assigned to the member and created in
//! the range, *resolved* the handled ones now resolved or closed; response times are the
//! averages of those conversations' `average_response_time` / `first_response_time`
//! (minutes, as 003 keeps them); tickets resolved are the member's tickets finished (resolved
//! or closed) in the range; CSAT averages the 1–5 ratings of the handled conversations
//! (`customer_satisfaction.rating`) and of the resolved tickets (`customer_feedback.rating`).
//! Active conversations are a present figure, not a range one: assigned and not finished now.
//! Every member of the tenant gets a row, zeros when idle.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{DbError, TenantTx};

/// One member's figures.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MemberStatisticsRow {
    pub user_id: Uuid,
    pub conversations_handled: i32,
    pub conversations_resolved: i32,
    pub average_response_time: Option<Decimal>,
    pub first_response_time: Option<Decimal>,
    pub active_conversations: i32,
    pub tickets_resolved: i32,
    pub csat: Option<Decimal>,
    pub csat_responses: i32,
}

/// When a finished ticket finished (as `exprs::tickets` judges its SLA).
const FINISHED_AT: &str =
    "coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at)";

fn sql() -> String {
    format!(
        r#"
WITH
handled AS (
  SELECT v.assigned_agent_id AS user_id,
         count(*) AS handled,
         count(*) FILTER (WHERE v.resolved) AS resolved,
         avg(v.average_response_time) AS average_response_time,
         avg(v.first_response_time) AS first_response_time,
         sum((v.customer_satisfaction ->> 'rating')::numeric) AS rating_sum,
         count(v.customer_satisfaction -> 'rating') AS ratings
  FROM app.conversations v
  WHERE v.assigned_agent_id IS NOT NULL AND v.created_at >= $1 AND v.created_at < $2
  GROUP BY 1
),
active AS (
  SELECT v.assigned_agent_id AS user_id, count(*) AS active
  FROM app.conversations v
  WHERE v.assigned_agent_id IS NOT NULL AND v.status IN ('open', 'assigned', 'waiting')
  GROUP BY 1
),
tickets AS (
  SELECT t.assigned_agent_id AS user_id,
         count(*) AS resolved,
         sum((t.customer_feedback ->> 'rating')::numeric) AS rating_sum,
         count(t.customer_feedback -> 'rating') AS ratings
  FROM app.tickets t
  WHERE t.assigned_agent_id IS NOT NULL AND t.status IN ('resolved', 'closed')
    AND {FINISHED_AT} >= $1 AND {FINISHED_AT} < $2
  GROUP BY 1
)
SELECT ms.user_id,
       coalesce(h.handled, 0)::integer AS conversations_handled,
       coalesce(h.resolved, 0)::integer AS conversations_resolved,
       round(h.average_response_time, 2) AS average_response_time,
       round(h.first_response_time, 2) AS first_response_time,
       coalesce(a.active, 0)::integer AS active_conversations,
       coalesce(tk.resolved, 0)::integer AS tickets_resolved,
       round((coalesce(h.rating_sum, 0) + coalesce(tk.rating_sum, 0))
             / nullif(coalesce(h.ratings, 0) + coalesce(tk.ratings, 0), 0), 2) AS csat,
       (coalesce(h.ratings, 0) + coalesce(tk.ratings, 0))::integer AS csat_responses
FROM app.memberships ms
LEFT JOIN handled h ON h.user_id = ms.user_id
LEFT JOIN active a ON a.user_id = ms.user_id
LEFT JOIN tickets tk ON tk.user_id = ms.user_id
ORDER BY conversations_handled DESC, ms.user_id
"#
    )
}

/// Every member's statistics over `[from, to)`, busiest first.
pub async fn member_statistics(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<MemberStatisticsRow>, DbError> {
    Ok(sqlx::query_as::<_, MemberStatisticsRow>(&sql())
        .bind(from)
        .bind(to)
        .fetch_all(tx.conn())
        .await?)
}
