//! The dashboards (`analytics`, `memberStatistics`, `ticketStatistics`) against seeded data:
//! each equals direct SQL on the same rows (`analytics` by day equals the `daily_analytics`
//! view, computed independently), periods are cut in the asked or the tenant's time zone,
//! another tenant's facts never count, and bad arguments are refused with the field named.

use std::collections::HashMap;

use frontdesk_db::sqlx;
use frontdesk_e2e::body::{data, refusal};
use frontdesk_e2e::{spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// Every figure of a period, by its GraphQL name, and the view column it equals.
const FIGURES: &[(&str, &str)] = &[
    ("totalConversations", "total_conversations"),
    ("chatConversations", "chat_conversations"),
    ("voiceConversations", "voice_conversations"),
    ("avgConversationDuration", "avg_conversation_duration"),
    ("avgResponseTime", "avg_response_time"),
    ("resolutionRate", "resolution_rate"),
    ("escalationRate", "escalation_rate"),
    ("totalBookings", "total_bookings"),
    ("cancelledBookings", "cancelled_bookings"),
    ("salesGenerated", "sales_generated"),
    ("bookingRevenue", "booking_revenue"),
    ("salesRevenue", "sales_revenue"),
    ("totalRevenue", "total_revenue"),
    ("newLeads", "new_leads"),
    ("hotLeads", "hot_leads"),
    ("leadsConverted", "leads_converted"),
    ("dealRevenue", "deal_revenue"),
    ("leadConversionRate", "lead_conversion_rate"),
    ("avgSentiment", "avg_sentiment"),
    ("positiveInteractions", "positive_interactions"),
    ("negativeInteractions", "negative_interactions"),
    ("tokensUsed", "tokens_used"),
    ("voiceMinutesUsed", "voice_minutes_used"),
    ("smsMessagesSent", "sms_messages_sent"),
    ("totalSms", "total_sms"),
    ("totalCalls", "total_calls"),
    ("successfulCalls", "successful_calls"),
    ("failedCalls", "failed_calls"),
    ("callsWithBooking", "calls_with_booking"),
    ("callConversionRate", "conversion_rate"),
    ("callCost", "call_cost"),
    ("smsCost", "sms_cost"),
    ("aiCost", "ai_cost"),
    ("totalCost", "total_cost"),
];

fn analytics_query() -> String {
    let fields: Vec<&str> = FIGURES.iter().map(|(f, _)| *f).collect();
    format!(
        "query($from: DateTime!, $to: DateTime!, $bucket: AnalyticsBucket!, $tz: String) {{
           analytics(from: $from, to: $to, bucket: $bucket, timeZone: $tz) {{
             timeZone bucket periods {{ label start end {} }} }} }}",
        fields.join(" ")
    )
}

async fn seeded() -> anyhow::Result<TestApp> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 40,
        bookings_per_customer: 2,
        calls_per_booking: 2,
        sms_per_call: 1,
    })
    .await?;
    Ok(app)
}

/// A JSON number or Decimal string as a number; null as `None`.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

async fn analytics(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    bucket: &str,
    tz: Option<&str>,
) -> anyhow::Result<Value> {
    let body = app
        .gql(
            token,
            &analytics_query(),
            json!({ "from": from, "to": to, "bucket": bucket, "tz": tz }),
        )
        .await?;
    Ok(data(&body, "analytics").clone())
}

#[tokio::test]
async fn analytics_by_day_equals_the_daily_analytics_view_for_every_figure() -> anyhow::Result<()> {
    let app = seeded().await?;
    let tenant = SeedSpec::tenant_id(1);
    let token = app.token(tenant, Role::Viewer).await?;
    let zone: String = sqlx::query_scalar("SELECT timezone FROM app.tenants WHERE id = $1")
        .bind(tenant)
        .fetch_one(app.db.owner())
        .await?;
    // A whole local year: the range starts and ends at local midnights, like the view's days.
    let (from, to): (String, String) = sqlx::query_as(
        "SELECT to_char(timestamp '2025-01-01' AT TIME ZONE $1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                to_char(timestamp '2026-01-02' AT TIME ZONE $1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    )
    .bind(&zone)
    .fetch_one(app.db.owner())
    .await?;
    let report = analytics(&app, &token, &from, &to, "DAY", None).await?;
    assert_eq!(report["timeZone"], zone.as_str());
    let periods = report["periods"].as_array().cloned().unwrap_or_default();
    assert_eq!(periods.len(), 366);

    let view: HashMap<String, Value> = sqlx::query_as::<_, (String, Value)>(
        "SELECT d.date::text, to_jsonb(d) FROM app.daily_analytics d
          WHERE d.tenant_id = $1 AND d.date BETWEEN '2025-01-01' AND '2026-01-01'",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?
    .into_iter()
    .collect();
    assert!(view.len() > 100, "the seed spreads facts over the year");
    let mut days_with_facts = 0;
    for p in &periods {
        let label = p["label"].as_str().unwrap_or_default();
        match view.get(label) {
            Some(row) => {
                days_with_facts += 1;
                for (field, column) in FIGURES {
                    assert_eq!(
                        num(&p[field]),
                        num(&row[column]),
                        "{label} {field} (view column {column})"
                    );
                }
            }
            None => {
                for (field, _) in FIGURES {
                    let v = num(&p[field]);
                    assert!(v.is_none() || v == Some(0.0), "{label} {field} is {v:?}");
                }
            }
        }
    }
    assert_eq!(days_with_facts, view.len());
    let calls: f64 = periods.iter().filter_map(|p| num(&p["totalCalls"])).sum();
    let all_calls: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.calls WHERE tenant_id = $1
           AND coalesce(started_at, created_at) >= $2::timestamptz AND coalesce(started_at, created_at) < $3::timestamptz",
    )
    .bind(tenant)
    .bind(&from)
    .bind(&to)
    .fetch_one(app.db.owner())
    .await?;
    assert!(all_calls > 0);
    assert_eq!(calls, all_calls as f64);
    Ok(())
}

#[tokio::test]
async fn weeks_and_months_in_another_zone_equal_direct_sql() -> anyhow::Result<()> {
    let app = seeded().await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Supervisor).await?;
    let (from, to) = ("2025-02-10T05:00:00Z", "2025-09-01T04:00:00Z");
    for (bucket, unit) in [("WEEK", "week"), ("MONTH", "month")] {
        let report = analytics(&app, &token, from, to, bucket, Some("America/New_York")).await?;
        assert_eq!(report["timeZone"], "America/New_York");
        let expected: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "WITH b AS (SELECT g FROM generate_series(
                          date_trunc($2, $3::timestamptz AT TIME ZONE 'America/New_York'),
                          $4::timestamptz AT TIME ZONE 'America/New_York' - interval '1 microsecond',
                          CASE $2 WHEN 'week' THEN interval '7 days' ELSE interval '1 month' END) g)
             SELECT to_char(b.g, 'YYYY-MM-DD'),
                    (SELECT count(*) FROM app.calls c WHERE c.tenant_id = $1
                        AND coalesce(c.started_at, c.created_at) >= $3::timestamptz
                        AND coalesce(c.started_at, c.created_at) < $4::timestamptz
                        AND date_trunc($2, coalesce(c.started_at, c.created_at) AT TIME ZONE 'America/New_York') = b.g),
                    (SELECT count(*) FROM app.bookings k WHERE k.tenant_id = $1
                        AND k.created_at >= $3::timestamptz AND k.created_at < $4::timestamptz
                        AND date_trunc($2, k.created_at AT TIME ZONE 'America/New_York') = b.g),
                    (SELECT count(*) FROM app.sms_messages s WHERE s.tenant_id = $1
                        AND s.created_at >= $3::timestamptz AND s.created_at < $4::timestamptz
                        AND date_trunc($2, s.created_at AT TIME ZONE 'America/New_York') = b.g)
             FROM b ORDER BY b.g",
        )
        .bind(tenant)
        .bind(unit)
        .bind(from)
        .bind(to)
        .fetch_all(app.db.owner())
        .await?;
        let got: Vec<(String, i64, i64, i64)> = report["periods"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["label"].as_str().unwrap_or_default().to_owned(),
                    p["totalCalls"].as_i64().unwrap_or(-1),
                    p["totalBookings"].as_i64().unwrap_or(-1),
                    p["totalSms"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        assert!(
            expected.iter().any(|e| e.1 > 0),
            "{bucket}: the range has calls"
        );
        assert_eq!(got, expected, "{bucket}");
    }
    Ok(())
}

/// A tenant with two calls: 12:00 and 23:30 UTC on 2025-03-10.
async fn two_calls(app: &TestApp) -> anyhow::Result<(Uuid, String)> {
    let tenant = app.new_tenant("Zones").await?;
    let token = app.token(tenant, Role::Viewer).await?;
    sqlx::query(
        "INSERT INTO app.calls (tenant_id, phone_number, status, created_at, started_at)
         VALUES ($1, '+420600000001', 'completed', '2025-03-10 12:00Z', '2025-03-10 12:00Z'),
                ($1, '+420600000002', 'failed', '2025-03-10 23:30Z', '2025-03-10 23:30Z')",
    )
    .bind(tenant)
    .execute(app.db.owner())
    .await?;
    Ok((tenant, token))
}

/// A `DateTime` value, normalised to `…Z`.
fn instant(v: &Value) -> String {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_else(|| format!("not a DateTime: {v}"))
}

fn counts(report: &Value, field: &str) -> Vec<(String, i64)> {
    report["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["label"].as_str().unwrap_or_default().to_owned(),
                p[field].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test]
async fn days_are_cut_in_the_asked_zone_else_the_tenants() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, token) = two_calls(&app).await?;
    let (from, to) = ("2025-03-10T00:00:00Z", "2025-03-12T00:00:00Z");

    let utc = analytics(&app, &token, from, to, "DAY", None).await?;
    assert_eq!(utc["timeZone"], "UTC");
    let day = |d: &str, n| (d.to_owned(), n);
    assert_eq!(
        counts(&utc, "totalCalls"),
        vec![day("2025-03-10", 2), day("2025-03-11", 0)]
    );
    assert_eq!(
        counts(&utc, "failedCalls"),
        vec![day("2025-03-10", 1), day("2025-03-11", 0)]
    );

    // 23:30 UTC is 08:30 the next morning in Tokyo; the range's ends fall at 09:00 local.
    let tokyo = analytics(&app, &token, from, to, "DAY", Some("Asia/Tokyo")).await?;
    let expected = vec![
        day("2025-03-10", 1),
        day("2025-03-11", 1),
        day("2025-03-12", 0),
    ];
    assert_eq!(counts(&tokyo, "totalCalls"), expected);
    assert_eq!(
        instant(&tokyo["periods"][0]["start"]),
        "2025-03-09T15:00:00Z"
    );

    sqlx::query("UPDATE app.tenants SET timezone = 'Asia/Tokyo' WHERE id = $1")
        .bind(tenant)
        .execute(app.db.owner())
        .await?;
    let default = analytics(&app, &token, from, to, "DAY", None).await?;
    assert_eq!(default["timeZone"], "Asia/Tokyo");
    assert_eq!(counts(&default, "totalCalls"), expected);

    // New York's spring-forward day (2025-03-09) lasts 23 hours.
    let ny = analytics(
        &app,
        &token,
        "2025-03-09T05:00:00Z",
        "2025-03-10T04:00:00Z",
        "DAY",
        Some("America/New_York"),
    )
    .await?;
    assert_eq!(ny["periods"][0]["label"], "2025-03-09");
    assert_eq!(instant(&ny["periods"][0]["start"]), "2025-03-09T05:00:00Z");
    assert_eq!(instant(&ny["periods"][0]["end"]), "2025-03-10T04:00:00Z");
    let hours = analytics(&app, &token, from, to, "HOUR", Some("UTC")).await?;
    let hourly = counts(&hours, "totalCalls");
    assert_eq!(hourly.len(), 48);
    assert_eq!(hourly[12], day("2025-03-10T12:00", 1));
    assert_eq!(hourly[23], day("2025-03-10T23:00", 1));
    assert_eq!(hourly.iter().map(|(_, n)| n).sum::<i64>(), 2);
    Ok(())
}

#[tokio::test]
async fn every_hour_counts_exactly_the_calls_between_its_start_and_end_across_a_dst_change(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Fall back").await?;
    let token = app.token(tenant, Role::Viewer).await?;
    // Prague falls back at 03:00 CEST (01:00 UTC) on 2025-10-26, so local 02:00–03:00 happens
    // twice: 00:00–01:00 UTC and 01:00–02:00 UTC. One call in each, and one an hour either side.
    let at = [
        "2025-10-25T23:30:00Z",
        "2025-10-26T00:30:00Z",
        "2025-10-26T01:30:00Z",
        "2025-10-26T02:30:00Z",
    ];
    for (i, t) in at.iter().enumerate() {
        sqlx::query(
            "INSERT INTO app.calls (tenant_id, phone_number, status, created_at, started_at)
             VALUES ($1, $2, 'completed', $3::timestamptz, $3::timestamptz)",
        )
        .bind(tenant)
        .bind(format!("+42060000000{i}"))
        .bind(t)
        .execute(app.db.owner())
        .await?;
    }
    let report = analytics(
        &app,
        &token,
        "2025-10-25T22:00:00Z",
        "2025-10-26T04:00:00Z",
        "HOUR",
        Some("Europe/Prague"),
    )
    .await?;
    let periods = report["periods"].as_array().cloned().unwrap_or_default();
    assert!(!periods.is_empty(), "{report}");
    let mut total = 0;
    for p in &periods {
        let (start, end) = (instant(&p["start"]), instant(&p["end"]));
        let inside = at
            .iter()
            .filter(|t| **t >= start.as_str() && **t < end.as_str())
            .count() as i64;
        assert_eq!(p["totalCalls"].as_i64(), Some(inside), "{p}");
        total += inside;
    }
    assert_eq!(total, 4, "{report}");
    Ok(())
}

#[tokio::test]
async fn another_tenants_facts_never_count() -> anyhow::Result<()> {
    let app = seeded().await?;
    let (_, token) = two_calls(&app).await?;
    let report = analytics(
        &app,
        &token,
        "2025-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "MONTH",
        None,
    )
    .await?;
    let total = |field: &str| -> f64 {
        report["periods"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| num(&p[field]))
            .sum()
    };
    assert_eq!(total("totalCalls"), 2.0);
    for field in [
        "totalBookings",
        "totalSms",
        "totalConversations",
        "newLeads",
        "tokensUsed",
    ] {
        assert_eq!(total(field), 0.0, "{field}");
    }
    let body = app
        .gql(
            &token,
            "{ memberStatistics(from: \"2025-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") {
                 userId conversationsHandled }
               ticketStatistics(from: \"2025-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") {
                 sla { total } byPriority { priority } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "memberStatistics").as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(data(&body, "ticketStatistics")["sla"]["total"], 0);
    assert_eq!(data(&body, "ticketStatistics")["byPriority"], json!([]));
    Ok(())
}

/// user, handled, resolved, average and first response, active, tickets, CSAT, ratings.
type MemberRow = (
    Uuid,
    i64,
    i64,
    Option<f64>,
    Option<f64>,
    i64,
    i64,
    Option<f64>,
    i64,
);

const MEMBERS: &str = "query($from: DateTime!, $to: DateTime!) {
  memberStatistics(from: $from, to: $to) {
    userId member { userId } conversationsHandled conversationsResolved averageResponseTime
    firstResponseTime activeConversations ticketsResolved csat csatResponses } }";

#[tokio::test]
async fn member_statistics_equal_direct_sql() -> anyhow::Result<()> {
    let app = seeded().await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Admin).await?;
    let (from, to) = ("2025-01-01T00:00:00Z", "2025-10-01T00:00:00Z");
    let body = app
        .gql(&token, MEMBERS, json!({ "from": from, "to": to }))
        .await?;
    let got: Vec<Value> = data(&body, "memberStatistics")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expected: Vec<MemberRow> =
        sqlx::query_as(
            "SELECT m.user_id,
               (SELECT count(*) FROM app.conversations v WHERE v.tenant_id = $1 AND v.assigned_agent_id = m.user_id
                  AND v.created_at >= $2::timestamptz AND v.created_at < $3::timestamptz),
               (SELECT count(*) FROM app.conversations v WHERE v.tenant_id = $1 AND v.assigned_agent_id = m.user_id
                  AND v.created_at >= $2::timestamptz AND v.created_at < $3::timestamptz AND v.status IN ('resolved', 'closed')),
               (SELECT round(avg(v.average_response_time), 2)::float8 FROM app.conversations v WHERE v.tenant_id = $1
                  AND v.assigned_agent_id = m.user_id AND v.created_at >= $2::timestamptz AND v.created_at < $3::timestamptz),
               (SELECT round(avg(v.first_response_time), 2)::float8 FROM app.conversations v WHERE v.tenant_id = $1
                  AND v.assigned_agent_id = m.user_id AND v.created_at >= $2::timestamptz AND v.created_at < $3::timestamptz),
               (SELECT count(*) FROM app.conversations v WHERE v.tenant_id = $1 AND v.assigned_agent_id = m.user_id
                  AND v.status NOT IN ('resolved', 'closed')),
               (SELECT count(*) FROM app.tickets t WHERE t.tenant_id = $1 AND t.assigned_agent_id = m.user_id
                  AND t.status IN ('resolved', 'closed')
                  AND coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at) >= $2::timestamptz
                  AND coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at) < $3::timestamptz),
               r.avg, r.n
             FROM app.memberships m
             CROSS JOIN LATERAL (
               SELECT round(avg(x), 2)::float8 AS avg, count(x) AS n FROM (
                 SELECT (v.customer_satisfaction ->> 'rating')::numeric AS x FROM app.conversations v
                  WHERE v.tenant_id = $1 AND v.assigned_agent_id = m.user_id
                    AND v.created_at >= $2::timestamptz AND v.created_at < $3::timestamptz
                 UNION ALL
                 SELECT (t.customer_feedback ->> 'rating')::numeric FROM app.tickets t
                  WHERE t.tenant_id = $1 AND t.assigned_agent_id = m.user_id AND t.status IN ('resolved', 'closed')
                    AND coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at) >= $2::timestamptz
                    AND coalesce(t.created_at + t.resolution_time * interval '1 minute', t.closed_at, t.updated_at) < $3::timestamptz) s) r
             WHERE m.tenant_id = $1",
        )
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_all(app.db.owner())
        .await?;
    assert_eq!(got.len(), expected.len());
    assert!(
        expected.iter().any(|e| e.1 > 0 && e.7.is_some()),
        "some member has figures"
    );
    let by_user: HashMap<String, &Value> = got
        .iter()
        .map(|m| (m["userId"].as_str().unwrap_or_default().to_owned(), m))
        .collect();
    for (user, handled, resolved, avg, first, active, tickets, csat, ratings) in expected {
        let m = by_user[&user.to_string()];
        assert_eq!(m["member"]["userId"], user.to_string());
        assert_eq!(m["conversationsHandled"].as_i64(), Some(handled), "{user}");
        assert_eq!(
            m["conversationsResolved"].as_i64(),
            Some(resolved),
            "{user}"
        );
        assert_eq!(num(&m["averageResponseTime"]), avg, "{user}");
        assert_eq!(num(&m["firstResponseTime"]), first, "{user}");
        assert_eq!(m["activeConversations"].as_i64(), Some(active), "{user}");
        assert_eq!(m["ticketsResolved"].as_i64(), Some(tickets), "{user}");
        assert_eq!(num(&m["csat"]), csat, "{user}");
        assert_eq!(m["csatResponses"].as_i64(), Some(ratings), "{user}");
    }
    let handled: Vec<i64> = got
        .iter()
        .filter_map(|m| m["conversationsHandled"].as_i64())
        .collect();
    assert!(handled.windows(2).all(|w| w[0] >= w[1]), "busiest first");
    Ok(())
}

#[tokio::test]
async fn ticket_statistics_equal_direct_sql_by_priority_and_category() -> anyhow::Result<()> {
    let app = seeded().await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Viewer).await?;
    let (from, to) = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
    let body = app
        .gql(
            &token,
            "query($from: DateTime!, $to: DateTime!) { ticketStatistics(from: $from, to: $to) {
               sla { total met breached pending }
               byPriority { priority sla { total met breached pending } }
               byCategory { category sla { total met breached pending } } } }",
            json!({ "from": from, "to": to }),
        )
        .await?;
    let stats = data(&body, "ticketStatistics");
    // The SLA judged here independently of the API: the seed sets no `sla.*` settings, so
    // the default windows apply.
    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "WITH j AS (
           SELECT upper(priority) AS priority, upper(category) AS category,
                  status IN ('resolved', 'closed') AS finished,
                  CASE WHEN status IN ('resolved', 'closed')
                       THEN coalesce(created_at + resolution_time * interval '1 minute', closed_at, updated_at)
                       ELSE now() END
                    > created_at + CASE sla_level WHEN 'vip' THEN 4 WHEN 'priority' THEN 24 ELSE 72 END * interval '1 hour'
                    AS breached
           FROM app.tickets WHERE tenant_id = $1 AND created_at >= $2::timestamptz AND created_at < $3::timestamptz)
         SELECT 'p', priority, count(*), count(*) FILTER (WHERE finished AND NOT breached),
                count(*) FILTER (WHERE breached), count(*) FILTER (WHERE NOT finished AND NOT breached)
           FROM j GROUP BY priority
         UNION ALL
         SELECT 'c', category, count(*), count(*) FILTER (WHERE finished AND NOT breached),
                count(*) FILTER (WHERE breached), count(*) FILTER (WHERE NOT finished AND NOT breached)
           FROM j GROUP BY category",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(app.db.owner())
    .await?;
    let settings: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM app.tenant_settings WHERE tenant_id = $1 AND key LIKE 'sla.%'",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(
        settings, 0,
        "the independent SLA above assumes the defaults"
    );
    let sla = |v: &Value| {
        [
            v["total"].as_i64().unwrap_or(-1),
            v["met"].as_i64().unwrap_or(-1),
            v["breached"].as_i64().unwrap_or(-1),
            v["pending"].as_i64().unwrap_or(-1),
        ]
    };
    let mut total = [0i64; 4];
    let mut seen = 0;
    for (kind, key, n, met, breached, pending) in &rows {
        let (list, field) = if kind == "p" {
            ("byPriority", "priority")
        } else {
            ("byCategory", "category")
        };
        let group = stats[list]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g[field] == key.as_str())
            .unwrap_or_else(|| panic!("no {list} group {key} in {stats}"));
        assert_eq!(sla(&group["sla"]), [*n, *met, *breached, *pending], "{key}");
        if kind == "p" {
            for (t, v) in total.iter_mut().zip([n, met, breached, pending]) {
                *t += v;
            }
        }
        seen += 1;
    }
    assert!(
        total[0] > 0 && total[2] > 0,
        "the seed has tickets, some breached"
    );
    assert_eq!(sla(&stats["sla"]), total);
    let groups = stats["byPriority"].as_array().map_or(0, Vec::len)
        + stats["byCategory"].as_array().map_or(0, Vec::len);
    assert_eq!(groups, seen);
    Ok(())
}

#[tokio::test]
async fn dashboards_take_the_view_analytics_permission() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Permissions").await?;
    let q = "{ analytics(from: \"2025-01-01T00:00:00Z\", to: \"2025-01-02T00:00:00Z\") { periods { totalCalls } } }";
    let (_, agent) = app.new_member(tenant, Role::Agent).await?;
    let body = app.gql(&agent, q, json!({})).await?;
    assert_eq!(refusal(&body).0, "FORBIDDEN", "{body}");
    for (field, args) in [
        ("memberStatistics", "{ userId }"),
        ("ticketStatistics", "{ sla { total } }"),
    ] {
        let body = app
            .gql(
                &agent,
                &format!("{{ {field}(from: \"2025-01-01T00:00:00Z\", to: \"2025-01-02T00:00:00Z\") {args} }}"),
                json!({}),
            )
            .await?;
        assert_eq!(refusal(&body).0, "FORBIDDEN", "{field}: {body}");
    }
    let (_, viewer) = app.new_member(tenant, Role::Viewer).await?;
    let body = app.gql(&viewer, q, json!({})).await?;
    assert_eq!(data(&body, "analytics")["periods"][0]["totalCalls"], 0);
    let (status, body) = app.graphql(None, q, json!({})).await?;
    assert_eq!(
        (status, refusal(&body).0.as_str()),
        (200, "UNAUTHENTICATED")
    );
    Ok(())
}

#[tokio::test]
async fn bad_ranges_buckets_and_zones_are_refused_naming_the_argument() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Bad input").await?;
    let token = app.token(tenant, Role::Viewer).await?;
    let q = "query($from: DateTime!, $to: DateTime!, $bucket: AnalyticsBucket!, $tz: String) {
               analytics(from: $from, to: $to, bucket: $bucket, timeZone: $tz) { periods { label } } }";
    let cases = [
        (
            "2025-01-02T00:00:00Z",
            "2025-01-01T00:00:00Z",
            "DAY",
            None,
            "to",
        ),
        (
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00Z",
            "DAY",
            None,
            "to",
        ),
        (
            "2025-01-01T00:00:00Z",
            "2025-04-01T00:00:00Z",
            "HOUR",
            None,
            "bucket",
        ),
        (
            "2000-01-01T00:00:00Z",
            "2025-01-01T00:00:00Z",
            "DAY",
            None,
            "bucket",
        ),
        (
            "2025-01-01T00:00:00Z",
            "2025-01-02T00:00:00Z",
            "DAY",
            Some("Mars/Olympus_Mons"),
            "timeZone",
        ),
        (
            "2025-01-01T00:00:00Z",
            "2025-01-02T00:00:00Z",
            "DAY",
            Some(""),
            "timeZone",
        ),
    ];
    for (from, to, bucket, tz, field) in cases {
        let body = app
            .gql(
                &token,
                q,
                json!({ "from": from, "to": to, "bucket": bucket, "tz": tz }),
            )
            .await?;
        assert_eq!(
            refusal(&body),
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{from} {to} {bucket} {tz:?}: {body}"
        );
        assert!(body["data"].is_null() || body["data"]["analytics"].is_null());
    }
    // 1,000 days is the most one request may ask for.
    let body = app
        .gql(
            &token,
            q,
            json!({ "from": "2023-01-01T00:00:00Z", "to": "2025-09-27T00:00:00Z", "bucket": "DAY", "tz": "UTC" }),
        )
        .await?;
    assert_eq!(
        data(&body, "analytics")["periods"].as_array().map(Vec::len),
        Some(1000)
    );
    let body = app
        .gql(
            &token,
            "{ memberStatistics(from: \"2025-01-02T00:00:00Z\", to: \"2025-01-01T00:00:00Z\") { userId } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        refusal(&body),
        ("BAD_USER_INPUT".to_owned(), "to".to_owned())
    );
    Ok(())
}

/// The dashboard's scan of each fact table, as the runtime role plans it under row-level
/// security (JSON plan nodes with a relation name, flattened).
fn scans<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    if node.get("Relation Name").is_some() {
        out.push(node);
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        scans(child, out);
    }
}

#[tokio::test]
async fn the_dashboards_time_ranges_are_index_conditions_under_row_level_security(
) -> anyhow::Result<()> {
    // A range predicate only becomes an index condition ahead of the tenant policy when
    // PostgreSQL can prove it leak-proof; `coalesce(started_at, created_at)` is not, so calls
    // were read from the heap whole. Sequential scans are switched off so that the choice
    // between an index condition and a filter shows on a small seed too.
    let app = seeded().await?;
    // With statistics, as autovacuum keeps them; without, the planner guesses one row per
    // table and any index (with the range as a filter) looks as good as the right one.
    sqlx::query("ANALYZE app.calls, app.bookings, app.sms_messages")
        .execute(app.db.owner())
        .await?;
    let tenant = SeedSpec::tenant_id(0);
    let mut tx = app
        .db
        .db
        .begin_tenant(frontdesk_db::TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?;
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(tx.conn())
        .await?;
    let plan: Value = sqlx::query_scalar(&format!(
        "EXPLAIN (FORMAT JSON) {}",
        frontdesk_db::dashboards::ANALYTICS_SQL
    ))
    .bind(chrono::DateTime::parse_from_rfc3339("2025-10-01T00:00:00Z")?.to_utc())
    .bind(chrono::DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z")?.to_utc())
    .bind(frontdesk_db::dashboards::Bucket::Day.unit())
    .bind(frontdesk_db::dashboards::Bucket::Day.step())
    .bind(None::<String>)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    let mut nodes = Vec::new();
    scans(&plan[0]["Plan"], &mut nodes);
    for (table, column) in [
        ("calls", "happened_at"),
        ("bookings", "created_at"),
        ("sms_messages", "created_at"),
    ] {
        let scan = nodes
            .iter()
            .find(|n| n["Relation Name"] == table)
            .unwrap_or_else(|| panic!("no scan of {table} in {plan}"));
        // An index scan's condition, or a bitmap heap scan's (its index scan's, rechecked).
        let cond = scan["Index Cond"]
            .as_str()
            .or(scan["Recheck Cond"].as_str())
            .unwrap_or_default();
        assert!(
            cond.contains(column) && cond.contains("tenant_id"),
            "{table} is not range-scanned on (tenant_id, {column}): {scan}"
        );
    }
    Ok(())
}
