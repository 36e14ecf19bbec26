//! `aggregate` and `groups` on connections, over HTTP: every figure equals direct SQL on the
//! same rows, another tenant's rows are never counted, time buckets are cut in the requested
//! (or the tenant's) time zone, `fillGaps` returns the empty buckets, and the limits are refused
//! with `BAD_USER_INPUT` naming the argument.

use chrono::{DateTime, Utc};
use frontdesk_db::sqlx::{self, Row};
use frontdesk_e2e::body::{data, refusal};
use frontdesk_e2e::{spawn_app, Role, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

/// A lead of `tenant`: status, priority, score, deal value, creation time.
async fn lead(
    app: &TestApp,
    tenant: Uuid,
    (status, priority, score, deal, created): (&str, Option<&str>, Option<i16>, Option<&str>, &str),
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO app.leads (tenant_id, name, status, priority, lead_score, deal_value, created_at)
         VALUES ($1, 'L', $2, $3, $4, $5::numeric, $6::timestamptz)",
    )
    .bind(tenant)
    .bind(status)
    .bind(priority)
    .bind(score)
    .bind(deal)
    .bind(created)
    .execute(app.db.owner())
    .await?;
    Ok(())
}

/// Two tenants with leads; returns the first tenant and a token for it. The second tenant's
/// leads are large enough to show up in any figure they leaked into.
async fn two_tenants(app: &TestApp) -> anyhow::Result<(Uuid, String)> {
    let a = app.new_tenant("Aggregates A").await?;
    let b = app.new_tenant("Aggregates B").await?;
    for row in [
        (
            "new",
            Some("hot"),
            Some(80),
            Some("1200.50"),
            "2026-03-01T10:00:00Z",
        ),
        ("new", Some("warm"), Some(40), None, "2026-03-01T23:30:00Z"),
        (
            "qualified",
            Some("hot"),
            Some(65),
            Some("300.25"),
            "2026-03-04T08:00:00Z",
        ),
        (
            "qualified",
            None,
            None,
            Some("99.99"),
            "2026-03-10T12:00:00Z",
        ),
        (
            "converted",
            Some("cold"),
            Some(10),
            Some("5000.00"),
            "2026-02-27T09:00:00Z",
        ),
        (
            "lost",
            Some("hot"),
            Some(95),
            Some("7.00"),
            "2026-03-02T00:15:00Z",
        ),
        (
            "new",
            Some("hot"),
            Some(55),
            Some("10.10"),
            "2026-03-05T17:45:00Z",
        ),
    ] {
        lead(app, a, row).await?;
    }
    for _ in 0..3 {
        lead(
            app,
            b,
            (
                "new",
                Some("hot"),
                Some(100),
                Some("99999.00"),
                "2026-03-01T12:00:00Z",
            ),
        )
        .await?;
    }
    let token = app.new_member(a, Role::Viewer).await?.1;
    Ok((a, token))
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9 * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

#[tokio::test]
async fn aggregates_over_a_filtered_connection_equal_direct_sql_and_ignore_other_tenants(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, token) = two_tenants(&app).await?;
    let body = app
        .gql(
            &token,
            "{ leads(first: 1, filter: { status: { ne: LOST } }) {
                 nodes { rowId }
                 aggregate {
                   count
                   distinctCount { priority status }
                   sum { dealValue leadScore }
                   avg { dealValue leadScore }
                   min { leadScore createdAt }
                   max { dealValue createdAt }
                 } } }",
            json!({}),
        )
        .await?;
    let agg = &data(&body, "leads")["aggregate"];
    let row = sqlx::query(
        "SELECT count(*) AS n, count(DISTINCT priority) AS dp, count(DISTINCT status) AS ds,
                sum(deal_value)::float8 AS sd, sum(lead_score)::float8 AS sl,
                avg(deal_value)::float8 AS ad, avg(lead_score)::float8 AS al,
                min(lead_score)::float8 AS minl, min(created_at) AS minc,
                max(deal_value)::float8 AS maxd, max(created_at) AS maxc
         FROM app.leads WHERE tenant_id = $1 AND status <> 'lost'",
    )
    .bind(tenant)
    .fetch_one(app.db.owner())
    .await?;
    assert_eq!(agg["count"], json!(row.get::<i64, _>("n")), "{agg}");
    assert_eq!(agg["count"], json!(6), "paging does not limit the count");
    assert_eq!(
        agg["distinctCount"]["priority"],
        json!(row.get::<i64, _>("dp"))
    );
    assert_eq!(
        agg["distinctCount"]["status"],
        json!(row.get::<i64, _>("ds"))
    );
    for (got, col) in [
        (&agg["sum"]["dealValue"], "sd"),
        (&agg["sum"]["leadScore"], "sl"),
        (&agg["avg"]["dealValue"], "ad"),
        (&agg["avg"]["leadScore"], "al"),
        (&agg["min"]["leadScore"], "minl"),
        (&agg["max"]["dealValue"], "maxd"),
    ] {
        assert!(
            close(num(got), row.get::<Option<f64>, _>(col)),
            "{col}: {got} in {agg}"
        );
    }
    assert!(
        agg["sum"]["dealValue"].is_string(),
        "money stays Decimal: {agg}"
    );
    assert!(
        agg["avg"]["leadScore"].is_number(),
        "an integer average is a Float: {agg}"
    );
    assert_eq!(
        time(&agg["min"]["createdAt"]),
        row.get::<Option<DateTime<Utc>>, _>("minc")
    );
    assert_eq!(
        time(&agg["max"]["createdAt"]),
        row.get::<Option<DateTime<Utc>>, _>("maxc")
    );
    Ok(())
}

#[tokio::test]
async fn an_empty_set_counts_zero_and_its_sums_are_null() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, token) = two_tenants(&app).await?;
    let body = app
        .gql(
            &token,
            "{ leads(filter: { leadScore: { gt: 100 } }) {
                 aggregate { count sum { dealValue } max { createdAt } } } }",
            json!({}),
        )
        .await?;
    let agg = &data(&body, "leads")["aggregate"];
    assert_eq!(
        agg,
        &json!({ "count": 0, "sum": { "dealValue": null }, "max": { "createdAt": null } })
    );
    Ok(())
}

#[tokio::test]
async fn groups_by_keys_equal_direct_sql_with_having_and_order() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, token) = two_tenants(&app).await?;
    let body = app
        .gql(
            &token,
            "{ leads { groups(by: [STATUS, PRIORITY], having: { count: { gte: 1 } },
                              orderBy: [{ field: COUNT, direction: DESC }]) {
                 keys { status priority bucket } count sum { dealValue } } } }",
            json!({}),
        )
        .await?;
    let groups = data(&body, "leads")["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows = sqlx::query(
        "SELECT upper(status) AS s, upper(priority) AS p, count(*) AS n, sum(deal_value)::float8 AS d
         FROM app.leads WHERE tenant_id = $1 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    )
    .bind(tenant)
    .fetch_all(app.db.owner())
    .await?;
    assert_eq!(groups.len(), rows.len(), "{groups:?}");
    assert_eq!(
        groups[0]["keys"],
        json!({ "status": "NEW", "priority": "HOT", "bucket": null })
    );
    assert_eq!(
        groups[0]["count"],
        json!(2),
        "the largest group first, other tenants not counted"
    );
    for row in &rows {
        let s: String = row.get("s");
        let p: Option<String> = row.get("p");
        let g = groups
            .iter()
            .find(|g| g["keys"]["status"] == json!(s) && g["keys"]["priority"] == json!(p))
            .unwrap_or_else(|| panic!("no group {s} {p:?} in {groups:?}"));
        assert_eq!(g["count"], json!(row.get::<i64, _>("n")));
        assert!(
            close(num(&g["sum"]["dealValue"]), row.get::<Option<f64>, _>("d")),
            "{g}"
        );
    }

    let body = app
        .gql(
            &token,
            "{ leads { groups(by: [STATUS], having: { count: { gte: 2 }, sum: { dealValue: { gt: \"500\" } } }) {
                 keys { status } count } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "leads")["groups"],
        json!([{ "keys": { "status": "NEW" }, "count": 3 }]),
        "having keeps only groups whose aggregates match"
    );
    Ok(())
}

const DAYS: &str = "query($tz: String) { leads(filter: { createdAt: { gte: \"2026-03-01T00:00:00Z\", lt: \"2026-03-03T00:00:00Z\" } }) {
    groups(bucket: { field: CREATED_AT, unit: DAY }, timeZone: $tz) { keys { bucket } count } } }";

#[tokio::test]
async fn day_buckets_are_cut_in_the_requested_or_the_tenants_time_zone() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (tenant, token) = two_tenants(&app).await?;
    // 10:00Z and 23:30Z on March 1 and 00:15Z on March 2: in UTC two days (2 + 1) …
    let body = app.gql(&token, DAYS, json!({ "tz": "UTC" })).await?;
    let utc = data(&body, "leads")["groups"].clone();
    assert_eq!(utc.as_array().map(Vec::len), Some(2), "{utc}");
    assert_eq!(
        time(&utc[0]["keys"]["bucket"]),
        Some("2026-03-01T00:00:00Z".parse()?)
    );
    assert_eq!(utc[0]["count"], json!(2));
    assert_eq!(utc[1]["count"], json!(1));
    // … in Berlin (UTC+1) 23:30Z is already March 2, so March 1 has one and March 2 two.
    let body = app
        .gql(&token, DAYS, json!({ "tz": "Europe/Berlin" }))
        .await?;
    let berlin = data(&body, "leads")["groups"].clone();
    assert_eq!(
        time(&berlin[0]["keys"]["bucket"]),
        Some("2026-02-28T23:00:00Z".parse()?),
        "{berlin}"
    );
    assert_eq!(berlin[0]["count"], json!(1));
    assert_eq!(
        time(&berlin[1]["keys"]["bucket"]),
        Some("2026-03-01T23:00:00Z".parse()?)
    );
    assert_eq!(berlin[1]["count"], json!(2));
    // Without `timeZone`, the tenant's.
    sqlx::query("UPDATE app.tenants SET timezone = 'Europe/Berlin' WHERE id = $1")
        .bind(tenant)
        .execute(app.db.owner())
        .await?;
    let body = app.gql(&token, DAYS, json!({})).await?;
    assert_eq!(
        data(&body, "leads")["groups"],
        berlin,
        "the tenant's zone is the default"
    );
    Ok(())
}

#[tokio::test]
async fn hour_buckets_hold_exactly_the_rows_from_their_start_to_the_next_across_a_dst_change(
) -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let tenant = app.new_tenant("Fall back").await?;
    let token = app.new_member(tenant, Role::Viewer).await?.1;
    // Prague repeats local 02:00–03:00 on 2025-10-26 (00:00–02:00 UTC).
    let at = [
        "2025-10-25T23:30:00Z",
        "2025-10-26T00:30:00Z",
        "2025-10-26T01:30:00Z",
        "2025-10-26T02:30:00Z",
    ];
    for t in at {
        lead(&app, tenant, ("new", None, None, None, t)).await?;
    }
    let body = app
        .gql(
            &token,
            "{ leads(filter: { createdAt: { gte: \"2025-10-25T22:00:00Z\", lt: \"2025-10-26T04:00:00Z\" } }) {
                 groups(bucket: { field: CREATED_AT, unit: HOUR }, timeZone: \"Europe/Prague\", fillGaps: true) {
                   keys { bucket } count } } }",
            json!({}),
        )
        .await?;
    let groups = data(&body, "leads")["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let starts: Vec<DateTime<Utc>> = groups
        .iter()
        .filter_map(|g| time(&g["keys"]["bucket"]))
        .collect();
    assert_eq!(starts.len(), groups.len(), "{body}");
    let end: DateTime<Utc> = "2025-10-26T04:00:00Z".parse()?;
    let mut total = 0;
    for (i, g) in groups.iter().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(end);
        let inside = at
            .iter()
            .filter_map(|t| t.parse::<DateTime<Utc>>().ok())
            .filter(|t| *t >= starts[i] && *t < next)
            .count();
        assert_eq!(g["count"], json!(inside), "{g} in {body}");
        total += inside;
    }
    assert_eq!(total, at.len(), "{body}");
    Ok(())
}

#[tokio::test]
async fn fill_gaps_returns_empty_buckets_between_the_filters_bounds() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, token) = two_tenants(&app).await?;
    let body = app
        .gql(
            &token,
            "{ leads(filter: { createdAt: { gte: \"2026-03-03T00:00:00Z\", lt: \"2026-03-08T00:00:00Z\" } }) {
                 groups(bucket: { field: CREATED_AT, unit: DAY }, timeZone: \"UTC\", fillGaps: true) {
                   keys { bucket } count sum { dealValue } } } }",
            json!({}),
        )
        .await?;
    let groups = data(&body, "leads")["groups"].clone();
    let counts: Vec<Value> = groups
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["count"].clone())
        .collect();
    assert_eq!(
        counts,
        vec![json!(0), json!(1), json!(1), json!(0), json!(0)],
        "{groups}"
    );
    assert_eq!(
        time(&groups[4]["keys"]["bucket"]),
        Some("2026-03-07T00:00:00Z".parse()?)
    );
    assert_eq!(
        groups[0]["sum"]["dealValue"],
        Value::Null,
        "an empty bucket sums to null"
    );
    Ok(())
}

#[tokio::test]
async fn limits_are_refused_as_bad_input_naming_the_argument() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (_, token) = two_tenants(&app).await?;
    for (doc, field) in [
        ("{ leads { groups(by: [STATUS], first: 1001) { count } } }", "first"),
        ("{ leads { groups(bucket: { field: CREATED_AT, unit: HOUR }) { count } } }", "bucket.unit"),
        (
            "{ leads(filter: { createdAt: { gte: \"2026-03-01T00:00:00Z\" } }) {
                 groups(bucket: { field: CREATED_AT, unit: HOUR }) { count } } }",
            "bucket.unit",
        ),
        (
            "{ leads(filter: { createdAt: { gte: \"2024-01-01T00:00:00Z\", lte: \"2026-01-01T00:00:00Z\" } }) {
                 groups(bucket: { field: CREATED_AT, unit: HOUR }, fillGaps: true) { count } } }",
            "fillGaps",
        ),
        (
            "{ leads { groups(bucket: { field: CREATED_AT, unit: DAY }, timeZone: \"Mars/Olympus\") { count } } }",
            "timeZone",
        ),
        ("{ leads { groups(fillGaps: true) { count } } }", "fillGaps"),
        ("{ leads { groups(orderBy: [{ field: BUCKET }]) { count } } }", "orderBy.0.field"),
    ] {
        let body = app.gql(&token, doc, json!({})).await?;
        assert_eq!(refusal(&body), ("BAD_USER_INPUT".to_owned(), field.to_owned()), "{doc}: {body}");
    }
    // A bounded HOUR request is fine.
    let body = app
        .gql(
            &token,
            "{ leads(filter: { createdAt: { gte: \"2026-03-01T00:00:00Z\", lt: \"2026-03-02T00:00:00Z\" } }) {
                 groups(bucket: { field: CREATED_AT, unit: HOUR }, timeZone: \"UTC\") { keys { bucket } count } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        data(&body, "leads")["groups"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn nested_connections_aggregate_each_parents_children() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.new_tenant("Nested").await?;
    let token = app.new_member(a, Role::Viewer).await?.1;
    let mut customers = Vec::new();
    for (i, n) in [3, 0, 2].into_iter().enumerate() {
        let c: Uuid = sqlx::query_scalar(
            "INSERT INTO app.customers (tenant_id, name, phone) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(a)
        .bind(format!("C{i}"))
        .bind(format!("+4930123450{i}"))
        .fetch_one(app.db.owner())
        .await?;
        for _ in 0..n {
            sqlx::query("INSERT INTO app.leads (tenant_id, name, customer_id, lead_score) VALUES ($1, 'L', $2, 10)")
                .bind(a)
                .bind(c)
                .execute(app.db.owner())
                .await?;
        }
        customers.push((c, n));
    }
    let body = app
        .gql(
            &token,
            "{ customers { nodes { rowId leads { aggregate { count sum { leadScore } } } } } }",
            json!({}),
        )
        .await?;
    let nodes = data(&body, "customers")["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(nodes.len(), 3);
    for (c, n) in customers {
        let node = nodes
            .iter()
            .find(|x| x["rowId"] == json!(c.to_string()))
            .unwrap_or_else(|| panic!("{c} missing"));
        assert_eq!(node["leads"]["aggregate"]["count"], json!(n), "{node}");
        let sum = if n == 0 { Value::Null } else { json!(10 * n) };
        assert_eq!(
            node["leads"]["aggregate"]["sum"]["leadScore"], sum,
            "{node}"
        );
    }
    Ok(())
}
