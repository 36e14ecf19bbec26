//! The dashboards (issue 12, part 4): `analytics`, `memberStatistics` and `ticketStatistics`,
//! root fields computed from the facts by one statement each (`frontdesk_db::dashboards`) in
//! the request's tenant-scoped transaction.
//!
//! Reading any of them takes the `view:analytics` permission (viewers and supervisors hold it
//! by default, agents do not), like integrations. Their arguments are checked before any SQL
//! runs: `from` before `to`, at most [`MAX_BUCKETS`] periods, a time zone PostgreSQL knows.

mod types;

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use frontdesk_db::dashboards::{self, Bucket};

use crate::entity::{check, Op, Rule};
use crate::query::Resolve;
use crate::types::enums::Permission;
use crate::{ApiError, Role};

pub use types::{
    AnalyticsBucket, AnalyticsPeriod, AnalyticsReport, MemberStatistics, SlaCounts,
    TicketCategoryStatistics, TicketPriorityStatistics, TicketStatistics,
};

/// Most periods one `analytics` request may ask for.
pub const MAX_BUCKETS: i64 = 1000;

/// What every dashboard takes: any role, with `view:analytics`.
const RULE: Rule = Rule {
    role: Role::Viewer,
    permission: Some(Permission::ViewAnalytics),
};

/// The dashboard root fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// Seed 000's and seed 004's analytics per period of `[from, to)`: conversations, response
    /// and resolution, bookings, revenue, leads, sentiment, usage, calls, SMS and cost. Periods
    /// are cut in `timeZone` (an IANA name; default: the tenant's) and every period of the range
    /// is listed, zeros where nothing happened; the first and last may be partly outside the
    /// range, and only facts inside it count. At most 1,000 periods. Takes `view:analytics`.
    async fn analytics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "AnalyticsBucket::Day")] bucket: AnalyticsBucket,
        time_zone: Option<String>,
    ) -> async_graphql::Result<AnalyticsReport> {
        let r = Resolve::new(ctx)?;
        r.run(analytics(&r, from, to, bucket, time_zone)).await
    }

    /// Seed 003's agent statistics for every member over `[from, to)`: conversations handled
    /// and resolved, average and first response times, active conversations now, tickets
    /// resolved and CSAT. Busiest first. Takes `view:analytics`.
    async fn member_statistics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<Vec<MemberStatistics>> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            allowed(&r).await?;
            range(from, to)?;
            let mut tx = r.session.tx().await?;
            let rows = dashboards::member_statistics(&mut tx, from, to).await?;
            Ok(rows.into_iter().map(MemberStatistics::from).collect())
        })
        .await
    }

    /// SLA compliance of the tickets opened in `[from, to)`: met, breached and pending, in
    /// total, by priority and by category. Takes `view:analytics`.
    async fn ticket_statistics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<TicketStatistics> {
        let r = Resolve::new(ctx)?;
        r.run(async {
            allowed(&r).await?;
            range(from, to)?;
            let mut tx = r.session.tx().await?;
            let rows = dashboards::ticket_statistics(&mut tx, from, to).await?;
            TicketStatistics::from_rows(from, to, rows)
        })
        .await
    }
}

async fn allowed(r: &Resolve<'_>) -> Result<(), ApiError> {
    let grants = r.grants().await?;
    check(&grants, RULE, Op::Read, "dashboard")
}

fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ApiError> {
    if from >= to {
        return Err(ApiError::BadUserInput {
            field: "to".into(),
            message: "must be after `from`".into(),
        });
    }
    Ok(())
}

async fn analytics(
    r: &Resolve<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: AnalyticsBucket,
    time_zone: Option<String>,
) -> Result<AnalyticsReport, ApiError> {
    allowed(r).await?;
    range(from, to)?;
    let unit: Bucket = bucket.into();
    let periods = unit.count(from, to);
    if periods > MAX_BUCKETS {
        return Err(ApiError::BadUserInput {
            field: "bucket".into(),
            message: format!(
                "{from} to {to} is {periods} periods of a {}; at most {MAX_BUCKETS} \
                 (take a larger bucket or a shorter range)",
                unit.unit()
            ),
        });
    }
    let zone = time_zone.map(|z| z.trim().to_owned());
    let mut tx = r.session.tx().await?;
    if let Some(z) = &zone {
        if z.is_empty() || z.len() > 64 || !dashboards::is_time_zone(&mut tx, z).await? {
            return Err(ApiError::BadUserInput {
                field: "timeZone".into(),
                message: "is not a time zone PostgreSQL knows (an IANA name such as \
                          `Europe/Prague`)"
                    .into(),
            });
        }
    }
    let rows = dashboards::analytics(&mut tx, from, to, unit, zone.as_deref()).await?;
    Ok(AnalyticsReport::new(from, to, bucket, zone, rows))
}
