//! The `analytics` dashboard: seed 000's and seed 004's daily figures, per bucket of any size,
//! in one statement.
//!
//! The figures are those of the `daily_analytics` view (migration 0006, which documents each
//! one), so a DAY bucket in the tenant's zone equals the view's row for that date. The view
//! cannot take a range or a bucket size: it aggregates the tenant's whole history per day.
//! This statement reads only the facts inside `[from, to)` (range scans on the tenant-leading
//! time indexes), groups each fact table by the period its instant falls in, and joins the
//! per-period aggregates onto a `generate_series` of local period starts, so empty periods
//! come back as zeros and the answer has exactly one row per period.
//!
//! A fact's period is found by `width_bucket` over the periods' starts (a binary search of
//! instants), not by converting each fact's instant to local time and truncating it: the
//! conversion costs about 0.2 µs a row, which over a 90-day window was about a third of the
//! statement. It also makes every period count exactly the facts inside its own `[start,
//! end)`, including the hour a DST change repeats, which `date_trunc` of local time would
//! have put in the next period.
//!
//! Row-level security scopes every table read here to the request's tenant.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::FromRow;

use super::Bucket;
use crate::query::json::Param;
use crate::{DbError, TenantTx};

/// One period of the dashboard.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AnalyticsRow {
    /// The zone the buckets were cut in (the caller's, else the tenant's).
    pub zone: String,
    /// The bucket's first local instant in that zone: `2025-03-10`, or `2025-03-10T14:00`
    /// for hours.
    pub label: String,
    /// The bucket's start.
    pub start: DateTime<Utc>,
    /// The next bucket's start.
    pub end: DateTime<Utc>,
    pub total_calls: i32,
    pub successful_calls: i32,
    pub failed_calls: i32,
    pub calls_with_booking: i32,
    pub call_conversion_rate: Decimal,
    pub voice_minutes_used: Decimal,
    pub total_bookings: i32,
    pub cancelled_bookings: i32,
    pub total_sms: i32,
    pub sms_messages_sent: i32,
    pub total_conversations: i32,
    pub chat_conversations: i32,
    pub voice_conversations: i32,
    pub avg_conversation_duration: Option<Decimal>,
    pub avg_response_time: Option<Decimal>,
    pub resolution_rate: Decimal,
    pub escalation_rate: Decimal,
    pub sales_generated: i32,
    pub booking_revenue: Decimal,
    pub sales_revenue: Decimal,
    pub total_revenue: Decimal,
    pub new_leads: i32,
    pub hot_leads: i32,
    pub leads_converted: i32,
    pub deal_revenue: Decimal,
    pub lead_conversion_rate: Decimal,
    pub avg_sentiment: Option<Decimal>,
    pub positive_interactions: i32,
    pub negative_interactions: i32,
    pub tokens_used: i64,
    pub call_cost: Decimal,
    pub sms_cost: Decimal,
    pub ai_cost: Decimal,
    pub total_cost: Decimal,
}

/// The statement. `$1`/`$2` the range, `$3` the `date_trunc` unit, `$4` the step, `$5` the
/// zone (NULL: the tenant's, read by the statement itself). Each fact CTE is a range scan of
/// one table grouped by period number (`buckets.i`).
const SQL: &str = r#"
WITH
zone AS (
  SELECT coalesce($5::text, (SELECT t.timezone FROM app.tenants t WHERE t.id = app.current_tenant_id()), 'UTC') AS tz
),
buckets AS (
  SELECT row_number() OVER (ORDER BY g) AS i, g AS b, g AT TIME ZONE z.tz AS starts_at,
         (g + $4::interval) AT TIME ZONE z.tz AS ends_at, z.tz
  FROM zone z, generate_series(date_trunc($3, $1 AT TIME ZONE z.tz),
                               ($2 AT TIME ZONE z.tz) - interval '1 microsecond', $4::interval) g
),
bounds AS (
  SELECT array_agg(starts_at ORDER BY i) AS starts FROM buckets
),
call_b AS (
  SELECT width_bucket(c.happened_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS total_calls,
         count(*) FILTER (WHERE c.status IN ('completed', 'ended')) AS successful_calls,
         count(*) FILTER (WHERE c.status IN ('failed', 'no-answer', 'busy')) AS failed_calls,
         count(*) FILTER (WHERE c.booking_id IS NOT NULL) AS calls_with_booking,
         sum(c.duration) AS call_seconds,
         sum(c.cost) AS call_cost,
         sum(c.tokens_used) AS call_tokens,
         count(c.sentiment) AS sentiments,
         sum(CASE c.sentiment WHEN 'positive' THEN 1 WHEN 'neutral' THEN 0.5 WHEN 'negative' THEN 0 END) AS sentiment_sum,
         count(*) FILTER (WHERE c.sentiment = 'positive') AS positive,
         count(*) FILTER (WHERE c.sentiment = 'negative') AS negative
  FROM app.calls c
  WHERE c.happened_at >= $1 AND c.happened_at < $2
  GROUP BY 1
),
booking_b AS (
  SELECT width_bucket(bk.created_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS total_bookings,
         count(*) FILTER (WHERE bk.status = 'cancelled') AS cancelled_bookings,
         sum(bk.payment_amount) FILTER (WHERE bk.payment_status = 'paid') AS booking_revenue
  FROM app.bookings bk
  WHERE bk.created_at >= $1 AND bk.created_at < $2
  GROUP BY 1
),
sms_b AS (
  SELECT width_bucket(s.created_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS total_sms,
         count(*) FILTER (WHERE s.direction = 'outbound') AS sms_sent,
         sum(s.cost) AS sms_cost
  FROM app.sms_messages s
  WHERE s.created_at >= $1 AND s.created_at < $2
  GROUP BY 1
),
conversation_b AS (
  SELECT width_bucket(v.created_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS total_conversations,
         count(*) FILTER (WHERE v.type = 'voice' OR v.channel = 'phone') AS voice_conversations,
         avg(CASE
               WHEN jsonb_typeof(v.call_data -> 'duration') = 'number' THEN (v.call_data ->> 'duration')::numeric
               ELSE extract(epoch FROM coalesce(v.closed_at, v.last_message_at) - v.created_at)
             END) AS avg_duration_seconds,
         avg(v.first_response_time) * 60 AS avg_response_seconds,
         count(*) FILTER (WHERE v.resolved) AS resolved,
         count(*) FILTER (WHERE v.escalated_to_human OR v.outcome = 'escalated') AS escalated,
         count(*) FILTER (WHERE v.outcome = 'sale') AS sales,
         sum(v.sale_amount) AS sales_revenue
  FROM app.conversations v
  WHERE v.created_at >= $1 AND v.created_at < $2
  GROUP BY 1
),
message_b AS (
  SELECT width_bucket(m.sent_at, (SELECT starts FROM bounds)) AS b,
         sum(m.tokens_used) AS message_tokens,
         sum(m.cost) AS ai_cost,
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' IS NOT NULL) AS sentiments,
         sum(CASE WHEN m.direction = 'inbound' THEN
               CASE m.ai_response ->> 'sentiment' WHEN 'positive' THEN 1 WHEN 'neutral' THEN 0.5 WHEN 'negative' THEN 0 END
             END) AS sentiment_sum,
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' = 'positive') AS positive,
         count(*) FILTER (WHERE m.direction = 'inbound' AND m.ai_response ->> 'sentiment' = 'negative') AS negative
  FROM app.messages m
  WHERE m.sent_at >= $1 AND m.sent_at < $2
  GROUP BY 1
),
lead_b AS (
  SELECT width_bucket(l.created_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS new_leads,
         count(*) FILTER (WHERE l.priority = 'hot') AS hot_leads,
         count(*) FILTER (WHERE l.converted) AS new_leads_converted
  FROM app.leads l
  WHERE l.created_at >= $1 AND l.created_at < $2
  GROUP BY 1
),
lead_conversion_b AS (
  SELECT width_bucket(l.converted_at, (SELECT starts FROM bounds)) AS b,
         count(*) AS leads_converted,
         sum(l.deal_value) AS deal_revenue
  FROM app.leads l
  WHERE l.converted_at >= $1 AND l.converted_at < $2
  GROUP BY 1
)
SELECT
  d.tz AS zone,
  to_char(d.b, CASE WHEN $3 = 'hour' THEN 'YYYY-MM-DD"T"HH24:MI' ELSE 'YYYY-MM-DD' END) AS label,
  d.starts_at AS start, d.ends_at AS "end",
  coalesce(c.total_calls, 0)::integer                                      AS total_calls,
  coalesce(c.successful_calls, 0)::integer                                 AS successful_calls,
  coalesce(c.failed_calls, 0)::integer                                     AS failed_calls,
  coalesce(c.calls_with_booking, 0)::integer                               AS calls_with_booking,
  coalesce(round(c.calls_with_booking::numeric / nullif(c.total_calls, 0), 4), 0)::numeric(5, 4) AS call_conversion_rate,
  round(coalesce(c.call_seconds, 0) / 60.0, 2)::numeric(12, 2)            AS voice_minutes_used,
  coalesce(bk.total_bookings, 0)::integer                                  AS total_bookings,
  coalesce(bk.cancelled_bookings, 0)::integer                              AS cancelled_bookings,
  coalesce(s.total_sms, 0)::integer                                        AS total_sms,
  coalesce(s.sms_sent, 0)::integer                                         AS sms_messages_sent,
  coalesce(v.total_conversations, 0)::integer                              AS total_conversations,
  coalesce(v.total_conversations - v.voice_conversations, 0)::integer      AS chat_conversations,
  coalesce(v.voice_conversations, 0)::integer                              AS voice_conversations,
  round(v.avg_duration_seconds, 2)::numeric(12, 2)                         AS avg_conversation_duration,
  round(v.avg_response_seconds, 2)::numeric(12, 2)                         AS avg_response_time,
  coalesce(round(v.resolved::numeric / nullif(v.total_conversations, 0), 4), 0)::numeric(5, 4)  AS resolution_rate,
  coalesce(round(v.escalated::numeric / nullif(v.total_conversations, 0), 4), 0)::numeric(5, 4) AS escalation_rate,
  coalesce(v.sales, 0)::integer                                            AS sales_generated,
  coalesce(bk.booking_revenue, 0)::numeric(14, 2)                          AS booking_revenue,
  coalesce(v.sales_revenue, 0)::numeric(14, 2)                             AS sales_revenue,
  (coalesce(bk.booking_revenue, 0) + coalesce(v.sales_revenue, 0))::numeric(14, 2) AS total_revenue,
  coalesce(l.new_leads, 0)::integer                                        AS new_leads,
  coalesce(l.hot_leads, 0)::integer                                        AS hot_leads,
  coalesce(lc.leads_converted, 0)::integer                                 AS leads_converted,
  coalesce(lc.deal_revenue, 0)::numeric(14, 2)                             AS deal_revenue,
  coalesce(round(l.new_leads_converted::numeric / nullif(l.new_leads, 0), 4), 0)::numeric(5, 4) AS lead_conversion_rate,
  round((coalesce(c.sentiment_sum, 0) + coalesce(m.sentiment_sum, 0))
        / nullif(coalesce(c.sentiments, 0) + coalesce(m.sentiments, 0), 0), 4)::numeric(5, 4) AS avg_sentiment,
  (coalesce(c.positive, 0) + coalesce(m.positive, 0))::integer             AS positive_interactions,
  (coalesce(c.negative, 0) + coalesce(m.negative, 0))::integer             AS negative_interactions,
  (coalesce(c.call_tokens, 0) + coalesce(m.message_tokens, 0))::bigint     AS tokens_used,
  coalesce(c.call_cost, 0)::numeric(14, 4)                                 AS call_cost,
  coalesce(s.sms_cost, 0)::numeric(14, 4)                                  AS sms_cost,
  coalesce(m.ai_cost, 0)::numeric(14, 4)                                   AS ai_cost,
  (coalesce(c.call_cost, 0) + coalesce(s.sms_cost, 0) + coalesce(m.ai_cost, 0))::numeric(14, 4) AS total_cost
FROM buckets d
LEFT JOIN call_b c             ON c.b = d.i
LEFT JOIN booking_b bk         ON bk.b = d.i
LEFT JOIN sms_b s              ON s.b = d.i
LEFT JOIN conversation_b v     ON v.b = d.i
LEFT JOIN message_b m          ON m.b = d.i
LEFT JOIN lead_b l             ON l.b = d.i
LEFT JOIN lead_conversion_b lc ON lc.b = d.i
ORDER BY d.b
"#;

/// The statement, for benchmarks and `EXPLAIN` (bind as [`analytics`] does).
pub const ANALYTICS_SQL: &str = SQL;

/// The statement's parameters for `[from, to)` in buckets of `bucket` cut in `zone`, for
/// compiled reads, which embed it ([`crate::query::json::Report`]).
pub fn analytics_params(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
    zone: Option<&str>,
) -> Vec<Param> {
    vec![
        Param::Timestamp(from),
        Param::Timestamp(to),
        Param::Text(Some(bucket.unit().into())),
        Param::Text(Some(bucket.step().into())),
        Param::Text(zone.map(Into::into)),
    ]
}

/// The dashboard over `[from, to)` in buckets of `bucket`, cut in `zone` (validated by the
/// caller, see [`super::is_time_zone`]; `None`: the tenant's). One row per bucket, oldest
/// first, as [`AnalyticsRow`] or any type with its columns.
pub async fn analytics<R>(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
    zone: Option<&str>,
) -> Result<Vec<R>, DbError>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as::<_, R>(SQL)
        .bind(from)
        .bind(to)
        .bind(bucket.unit())
        .bind(bucket.step())
        .bind(zone)
        .fetch_all(tx.conn())
        .await?)
}
