//! `ticketStatistics`: service-level compliance of the tickets opened in `[from, to)`, in
//! total, by priority and by category, in one `GROUPING SETS` statement.
//!
//! A ticket is *breached* exactly when the API's `slaBreached` says so (the same expression,
//! `exprs::tickets::SLA_BREACHED`: the tenant's `sla.<level>.hours` or the defaults), *met*
//! when it finished without breaching, and *pending* when it is unfinished and not breached
//! yet, so met + breached + pending = total.

use chrono::{DateTime, Utc};

use crate::exprs::tickets::SLA_BREACHED;
use crate::{DbError, TenantTx};

/// One group: the total (`priority` and `category` NULL), a priority, or a category.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketStatisticsRow {
    /// `total`, `priority` or `category`.
    pub grouping: String,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub total: i32,
    pub sla_met: i32,
    pub sla_breached: i32,
    pub sla_pending: i32,
}

fn sql() -> String {
    format!(
        r#"
SELECT CASE WHEN grouping(j.priority) = 0 THEN 'priority'
            WHEN grouping(j.category) = 0 THEN 'category' ELSE 'total' END AS grouping,
       j.priority, j.category,
       count(*)::integer AS total,
       count(*) FILTER (WHERE j.finished AND NOT j.breached)::integer AS sla_met,
       count(*) FILTER (WHERE j.breached)::integer AS sla_breached,
       count(*) FILTER (WHERE NOT j.finished AND NOT j.breached)::integer AS sla_pending
FROM (SELECT t.priority, t.category, t.status IN ('resolved', 'closed') AS finished,
             {SLA_BREACHED} AS breached
      FROM app.tickets t
      WHERE t.created_at >= $1 AND t.created_at < $2) j
GROUP BY GROUPING SETS ((), (j.priority), (j.category))
ORDER BY 1 DESC, 2, 3
"#
    )
}

/// The total row, then one per priority and one per category that has tickets.
pub async fn ticket_statistics(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<TicketStatisticsRow>, DbError> {
    Ok(sqlx::query_as::<_, TicketStatisticsRow>(&sql())
        .bind(from)
        .bind(to)
        .fetch_all(tx.conn())
        .await?)
}
