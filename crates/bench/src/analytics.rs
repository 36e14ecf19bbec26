//! `frontdesk-bench analytics` (`just bench-analytics`): the dashboards under load.
//!
//! Seeds one large tenant (10,000 customers and their graph by default: bookings, calls, SMS,
//! conversations with messages, leads, tickets), starts the release server, and at a fixed
//! concurrency runs, one after the other:
//!
//! * **graphql analytics** — the `analytics` dashboard, every figure, by DAY over the seed's
//!   last 90 local days;
//! * **graphql groups …** — the `groups` legs (calls, bookings and messages by DAY over the same
//!   90 days), when the schema has `groups` on connections (see [`GROUPS_LEGS`]);
//! * **SQL analytics** — the same answer from the hand-written statement
//!   (`frontdesk_db::dashboards::ANALYTICS_SQL`) through a pool of the server's size, in a
//!   tenant-scoped transaction as the API runs it, at the same concurrency.
//!
//! It prints the plan of the statement (`EXPLAIN ANALYZE`, runtime role, tenant set), p50/p99
//! and requests/s of each leg, and PASS/FAIL against the targets: p99 under
//! [`TARGET_P99_MS`] and at least [`TARGET_RATIO`] of the SQL's throughput.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use frontdesk_db::dashboards::{self, Bucket, ANALYTICS_SQL};
use frontdesk_db::seed::SeedSpec;
use frontdesk_db::{sqlx, Db, TenantCtx};
use serde_json::json;
use uuid::Uuid;

use crate::load::{self, Outcome};
use crate::setup::{self, ServerEnv};
use crate::workloads::{request, Api};

/// p99 target of each GraphQL leg, in milliseconds.
pub const TARGET_P99_MS: f64 = 100.0;
/// GraphQL requests/s over the SQL leg's, at least.
pub const TARGET_RATIO: f64 = 0.80;

/// The seed's last 90 local days in the measured tenant's zone (Europe/Prague): 2025-10-03
/// to 2025-12-31; the seed's facts run from 2025-01-01 to its "now", 2026-01-01.
const FROM: &str = "2025-10-02T22:00:00Z";
const TO: &str = "2025-12-31T23:00:00Z";

/// The dashboard with every figure.
const ANALYTICS: &str = "query($from: DateTime!, $to: DateTime!) {
  analytics(from: $from, to: $to, bucket: DAY) { timeZone periods { label start end
    totalConversations chatConversations voiceConversations avgConversationDuration avgResponseTime
    resolutionRate escalationRate totalBookings cancelledBookings salesGenerated bookingRevenue
    salesRevenue totalRevenue newLeads hotLeads leadsConverted dealRevenue leadConversionRate
    avgSentiment positiveInteractions negativeInteractions tokensUsed voiceMinutesUsed
    smsMessagesSent totalSms totalCalls successfulCalls failedCalls callsWithBooking
    callConversionRate callCost smsCost aiCost totalCost } } }";

/// The `groups` legs: (leg name, GraphQL document taking `$from`/`$to`, hand-written SQL taking
/// `$1`/`$2` (timestamptz) for the same answer). Calls, bookings and SMS by day of creation in
/// the tenant's zone (Europe/Prague, the API's default) over the measured window. A leg runs
/// only when the schema's `CallConnection` has a `groups` field.
pub const GROUPS_LEGS: &[(&str, &str, &str)] = &[
    (
        "graphql groups calls",
        "query($from: DateTime!, $to: DateTime!) { calls(filter: { createdAt: { gte: $from, lt: $to } }) {
           groups(bucket: { field: CREATED_AT, unit: DAY }) { keys { bucket } count } } }",
        "SELECT date_trunc('day', created_at AT TIME ZONE 'Europe/Prague') AT TIME ZONE 'Europe/Prague' AS b,
                count(*) FROM app.calls WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
    ),
    (
        "graphql groups bookings",
        "query($from: DateTime!, $to: DateTime!) { bookings(filter: { createdAt: { gte: $from, lt: $to } }) {
           groups(bucket: { field: CREATED_AT, unit: DAY }) { keys { bucket } count } } }",
        "SELECT date_trunc('day', created_at AT TIME ZONE 'Europe/Prague') AT TIME ZONE 'Europe/Prague' AS b,
                count(*) FROM app.bookings WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
    ),
    (
        "graphql groups sms",
        "query($from: DateTime!, $to: DateTime!) { smsMessages(filter: { createdAt: { gte: $from, lt: $to } }) {
           groups(bucket: { field: CREATED_AT, unit: DAY }) { keys { bucket } count } } }",
        "SELECT date_trunc('day', created_at AT TIME ZONE 'Europe/Prague') AT TIME ZONE 'Europe/Prague' AS b,
                count(*) FROM app.sms_messages WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
    ),
];

/// Load-tests the dashboards against their hand-written SQL.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyticsArgs {
    /// Customers of the measured tenant (each with 3 bookings × 2 calls × 2 SMS).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(50..=10_000_000))]
    customers: u32,
    /// Tenants to seed (the first is measured; the others make row-level security filter).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    tenants: u32,
    /// Measured seconds per leg.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_secs: u64,
    /// Unmeasured warm-up seconds before each leg.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup_secs: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// Runtime pool size of the server and of the SQL leg (the server's default).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_max_connections: u32,
    /// Keep the database afterwards (its name is printed).
    #[arg(long)]
    keep: bool,
}

/// Creates the database, measures, prints, and drops the database unless `--keep`.
pub async fn run(args: &AnalyticsArgs) -> anyhow::Result<()> {
    let db = setup::database().await?;
    let measured = tokio::select! {
        result = measure(args, &db) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if args.keep {
        println!("kept database {} (owner URL as configured)", db.name);
    } else {
        let name = db.name.clone();
        if let Err(e) = db.drop_database().await {
            eprintln!("warning: could not drop database {name}: {e}");
        }
    }
    print!("{}", measured?);
    Ok(())
}

fn range() -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    Ok((FROM.parse()?, TO.parse()?))
}

async fn measure(
    args: &AnalyticsArgs,
    db: &frontdesk_db::testing::TestDb,
) -> anyhow::Result<String> {
    let tenant = SeedSpec::tenant_id(0);
    let (from, to) = range()?;
    eprintln!("database {}: seeding …", db.name);
    let seeded = setup::seed(db, args.tenants, args.customers).await?;
    eprintln!("{seeded}");
    let mut out = String::new();
    writeln!(
        out,
        "\ndata:   tenant {tenant}, {} customers, {} tenant(s); {seeded}",
        args.customers, args.tenants
    )?;
    writeln!(out, "{}", window_counts(db, tenant, from, to).await?)?;

    let sql_db = Db::connect_with_size(&db.config, args.db_max_connections).await?;
    writeln!(out, "{}", explain(&sql_db, tenant, from, to).await?)?;

    let binary = setup::frontdesk_binary().await?;
    let env = ServerEnv::new(db, args.db_max_connections);
    let token = env.token(&binary, tenant).await?;
    let server = env
        .serve(
            &binary,
            binary.with_file_name("frontdesk-bench-analytics-server.log"),
        )
        .await?;
    let api = Api::new(&server, &token, args.concurrency)?;

    let mut legs: Vec<(String, Outcome)> = Vec::new();
    let vars = json!({ "from": FROM, "to": TO });
    let body = request(ANALYTICS, vars.clone())?;
    let answer = api.fetch(body.clone()).await.map_err(anyhow::Error::msg)?;
    let sql_rows = sql_once(&sql_db, tenant, from, to)
        .await
        .map_err(anyhow::Error::msg)?;
    let gql_calls: i64 = answer["data"]["analytics"]["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["totalCalls"].as_i64())
        .sum();
    let sql_calls: i64 = sql_rows.iter().map(|r| i64::from(r.total_calls)).sum();
    writeln!(
        out,
        "answer: graphql {} periods, {gql_calls} calls; SQL {} periods, {sql_calls} calls{}",
        answer["data"]["analytics"]["periods"]
            .as_array()
            .map_or(0, Vec::len),
        sql_rows.len(),
        if gql_calls == sql_calls {
            ""
        } else {
            "   MISMATCH"
        }
    )?;
    let body = Arc::new(body);
    legs.push((
        "graphql analytics".into(),
        leg("graphql analytics", args, {
            let (api, body) = (api.clone(), Arc::clone(&body));
            move |_| {
                let (api, body) = (api.clone(), (*body).clone());
                async move { api.post(body).await }
            }
        })
        .await?,
    ));

    // HOOK: the `groups` legs, when the API has them.
    let has_groups = api
        .fetch(request(
            "{ __type(name: \"CallConnection\") { fields { name } } }",
            json!({}),
        )?)
        .await
        .map(|v| v.to_string().contains("\"groups\""))
        .unwrap_or(false);
    if !has_groups || GROUPS_LEGS.is_empty() {
        writeln!(
            out,
            "groups legs: skipped ({})",
            if has_groups {
                "GROUPS_LEGS is empty"
            } else {
                "no `groups` field on connections in this build"
            }
        )?;
    }
    let mut group_sql = Vec::new();
    for (name, doc, sql) in GROUPS_LEGS.iter().filter(|_| has_groups) {
        let body = Arc::new(request(doc, vars.clone())?);
        api.fetch((*body).clone())
            .await
            .map_err(anyhow::Error::msg)?;
        let (api, body) = (api.clone(), Arc::clone(&body));
        let outcome = leg(name, args, move |_| {
            let (api, body) = (api.clone(), (*body).clone());
            async move { api.post(body).await }
        })
        .await?;
        legs.push(((*name).to_owned(), outcome));
        group_sql.push((format!("SQL {}", name.trim_start_matches("graphql ")), *sql));
    }
    server.stop().await;

    let sql = {
        let db = sql_db.clone();
        leg("SQL analytics", args, move |_| {
            let db = db.clone();
            async move { sql_once(&db, tenant, from, to).await.map(|_| ()) }
        })
        .await?
    };
    legs.push(("SQL analytics".into(), sql));
    for (name, statement) in group_sql {
        let db = sql_db.clone();
        let outcome = leg("SQL groups", args, move |_| {
            let db = db.clone();
            async move { raw_once(&db, tenant, statement, from, to).await }
        })
        .await?;
        legs.push((name, outcome));
    }
    out.push_str(&table(args, &legs));
    Ok(out)
}

/// Warm-up, then the measured run.
async fn leg<F, Fut>(name: &str, args: &AnalyticsArgs, op: F) -> anyhow::Result<Outcome>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    eprintln!(
        "{name}: {} s warm-up, {} s measured …",
        args.warmup_secs, args.duration_secs
    );
    let op = Arc::new(op);
    if args.warmup_secs > 0 {
        let op = Arc::clone(&op);
        load::drive(
            args.concurrency,
            Duration::from_secs(args.warmup_secs),
            move |s| op(s),
        )
        .await?;
    }
    load::drive(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        move |s| op(s),
    )
    .await
}

fn ctx(tenant_id: Uuid) -> TenantCtx {
    TenantCtx {
        tenant_id,
        user_id: None,
    }
}

/// The dashboard's statement as the API runs it: tenant-scoped transaction, statement, commit.
async fn sql_once(
    db: &Db,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<dashboards::AnalyticsRow>, String> {
    let run = async {
        let mut tx = db.begin_tenant(ctx(tenant)).await?;
        let rows = dashboards::analytics(&mut tx, from, to, Bucket::Day, None).await?;
        tx.commit().await?;
        Ok::<_, frontdesk_db::DbError>(rows)
    };
    run.await.map_err(|e| e.to_string())
}

/// A `groups` leg's hand-written SQL, rows fetched and dropped.
async fn raw_once(
    db: &Db,
    tenant: Uuid,
    sql: &'static str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(), String> {
    let run = async {
        let mut tx = db.begin_tenant(ctx(tenant)).await?;
        sqlx::query(sql)
            .bind(from)
            .bind(to)
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok::<_, frontdesk_db::DbError>(())
    };
    run.await.map_err(|e| e.to_string())
}

/// How many facts the window holds, per table.
async fn window_counts(
    db: &frontdesk_db::testing::TestDb,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<String> {
    let (calls, bookings, sms, conversations, messages, leads): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM app.calls WHERE tenant_id = $1 AND coalesce(started_at, created_at) >= $2 AND coalesce(started_at, created_at) < $3),
                    (SELECT count(*) FROM app.bookings WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3),
                    (SELECT count(*) FROM app.sms_messages WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3),
                    (SELECT count(*) FROM app.conversations WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3),
                    (SELECT count(*) FROM app.messages WHERE tenant_id = $1 AND sent_at >= $2 AND sent_at < $3),
                    (SELECT count(*) FROM app.leads WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3)",
        )
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_one(db.owner())
        .await?;
    Ok(format!(
        "window: {FROM} .. {TO} (90 local days, Europe/Prague) holds {calls} calls, {bookings} bookings, \
         {sms} SMS, {conversations} conversations, {messages} messages, {leads} leads"
    ))
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the dashboard's statement as the runtime role in the
/// tenant's scope: the total times and every scan node.
async fn explain(
    db: &Db,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<String> {
    let mut tx = db.begin_tenant(ctx(tenant)).await?;
    let lines: Vec<String> =
        sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {ANALYTICS_SQL}"))
            .bind(from)
            .bind(to)
            .bind(Bucket::Day.unit())
            .bind(Bucket::Day.step())
            .bind(None::<String>)
            .fetch_all(tx.conn())
            .await?;
    tx.commit().await?;
    let mut out =
        String::from("plan (EXPLAIN ANALYZE of the analytics statement, runtime role, warm):\n");
    for l in lines.iter().filter(|l| {
        l.contains("Scan")
            || l.contains("Execution Time")
            || l.contains("Planning Time")
            || l.contains("Aggregate")
    }) {
        writeln!(out, "  {}", l.trim_end())?;
    }
    Ok(out)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

fn table(args: &AnalyticsArgs, legs: &[(String, Outcome)]) -> String {
    let mut f = String::new();
    let _ = writeln!(
        f,
        "load:   concurrency {}, {} s measured after {} s warm-up per leg; pool {} (server and SQL); {} cores shared by client, server and PostgreSQL\n",
        args.concurrency,
        args.duration_secs,
        args.warmup_secs,
        args.db_max_connections,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        f,
        "{:<28} {:>9} {:>10} {:>9} {:>9} {:>7}",
        "leg", "requests", "ok req/s", "p50 ms", "p99 ms", "errors"
    );
    for (name, o) in legs {
        let _ = writeln!(
            f,
            "{:<28} {:>9} {:>10.1} {:>9} {:>9} {:>7}",
            name,
            o.requests,
            o.ok_per_sec(),
            ms(o.latency_ms(0.50)),
            ms(o.latency_ms(0.99)),
            o.errors
        );
    }
    let _ = writeln!(f);
    let rate = |n: &str| {
        legs.iter()
            .find(|(m, _)| m == n)
            .map(|(_, o)| o.ok_per_sec())
    };
    for (name, o) in legs.iter().filter(|(n, _)| n.starts_with("graphql ")) {
        let sql_name = format!("SQL {}", name.trim_start_matches("graphql "));
        let ratio = match (rate(name), rate(&sql_name)) {
            (Some(g), Some(s)) if s > 0.0 => Some(g / s),
            _ => None,
        };
        let p99 = o.latency_ms(0.99);
        let _ = writeln!(
            f,
            "{name}: p99 {} ms (target < {TARGET_P99_MS}: {}), {name} / {sql_name} = {} (target ≥ {TARGET_RATIO}: {})",
            ms(p99),
            if p99.is_some_and(|p| p < TARGET_P99_MS) { "PASS" } else { "FAIL" },
            ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}")),
            if ratio.is_some_and(|r| r >= TARGET_RATIO) { "PASS" } else { "FAIL" },
        );
    }
    for (name, o) in legs {
        if let Some(e) = &o.first_error {
            let _ = writeln!(f, "first error of {name}: {e}");
        }
    }
    f
}
