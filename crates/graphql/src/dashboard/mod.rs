//! The dashboards (issue 12, part 4): `analytics`, `memberStatistics` and `ticketStatistics`,
//! root fields computed from the facts by one statement each (`frontdesk_db::dashboards`) in
//! the request's tenant-scoped transaction.
//!
//! Reading any of them takes the `view:analytics` permission (viewers and supervisors hold it
//! by default, agents do not), like integrations. Their arguments are checked before any SQL
//! runs: `from` before `to`, at most [`MAX_BUCKETS`] periods, a time zone PostgreSQL knows.
//!
//! `analytics` is also a compiled read ([`crate::direct`], [`direct_report`]): once its
//! document is known, PostgreSQL builds the whole report's JSON around the same statement.

mod types;

use std::sync::LazyLock;

use async_graphql::{Context, InputType, Object, Value};
use chrono::{DateTime, Utc};
use frontdesk_db::dashboards::{self, Bucket};
use frontdesk_db::query::json::Render;

use crate::direct::{Arguments, DescribedReport, JsonField, Statement};
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

/// `analytics`' arguments checked (all but the time zone's existence, which only PostgreSQL
/// knows): the bucket and the trimmed zone.
fn analytics_args(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: AnalyticsBucket,
    time_zone: Option<String>,
) -> Result<(Bucket, Option<String>), ApiError> {
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
    if zone.as_ref().is_some_and(|z| z.is_empty() || z.len() > 64) {
        return Err(bad_zone());
    }
    Ok((unit, zone))
}

fn bad_zone() -> ApiError {
    ApiError::BadUserInput {
        field: "timeZone".into(),
        message: "is not a time zone PostgreSQL knows (an IANA name such as `Europe/Prague`)"
            .into(),
    }
}

async fn analytics(
    r: &Resolve<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: AnalyticsBucket,
    time_zone: Option<String>,
) -> Result<AnalyticsReport, ApiError> {
    allowed(r).await?;
    let (unit, zone) = analytics_args(from, to, bucket, time_zone)?;
    let mut tx = r.session.tx().await?;
    if let Some(z) = &zone {
        if !dashboards::is_time_zone(&mut tx, z).await? {
            return Err(bad_zone());
        }
    }
    let periods = dashboards::analytics(&mut tx, from, to, unit, zone.as_deref()).await?;
    Ok(AnalyticsReport::new(from, to, bucket, zone, periods))
}

/// The dashboard served by root field `field`, for compiled reads ([`crate::direct`]):
/// `analytics`, whose statement answers the whole report.
pub(crate) fn direct_report(field: &str) -> Option<&'static DescribedReport> {
    static ANALYTICS: LazyLock<DescribedReport> = LazyLock::new(|| {
        DescribedReport::new::<AnalyticsPeriod>(
            "AnalyticsReport",
            RULE,
            analytics_statement,
            vec![JsonField {
                graphql: "timeZone".into(),
                column: "zone",
                render: Render::Plain,
            }],
            "periods",
        )
    });
    (field == "analytics").then(|| &*ANALYTICS)
}

/// `analytics`' statement for `args`; `None` for arguments the resolver refuses.
fn analytics_statement(args: &Arguments) -> Option<Statement> {
    let mut from = None;
    let mut to = None;
    let mut bucket = AnalyticsBucket::Day;
    let mut zone = None;
    for (name, value) in args {
        let v = Some(value.clone());
        match name.as_str() {
            "from" => from = Some(InputType::parse(v).ok()?),
            "to" => to = Some(InputType::parse(v).ok()?),
            "bucket" if *value != Value::Null => bucket = InputType::parse(v).ok()?,
            "bucket" => {}
            "timeZone" => zone = InputType::parse(v).ok()?,
            _ => return None,
        }
    }
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = (from?, to?);
    let (unit, zone) = analytics_args(from, to, bucket, zone).ok()?;
    Some(Statement {
        sql: dashboards::ANALYTICS_SQL,
        params: dashboards::analytics_params(from, to, unit, zone.as_deref()),
        echoed: vec![
            ("from", from.to_value()),
            ("to", to.to_value()),
            ("bucket", bucket.to_value()),
        ],
    })
}
