//! Compiled reads (issue 14): a query answered by one statement that builds its JSON in
//! PostgreSQL answers exactly what the resolvers answer — every entity's every renderable
//! column, nested connections, filters, orders, page info, links, by-id look-ups — under the
//! same tenant isolation, and declines to the resolvers for everything they must report.
//!
//! Each query runs twice: the first request goes through the resolvers (and validates the
//! document); the second is compiled when it can be, which `/metrics` confirms per operation.

use frontdesk_e2e::{error_code, spawn_app, Role, SeedSpec, TestApp};
use serde_json::{json, Value};

/// Runs `query` twice as `token`; returns both bodies.
async fn twice(
    app: &TestApp,
    token: &str,
    query: &str,
    vars: Value,
) -> anyhow::Result<(Value, Value)> {
    let (s1, first) = app.graphql(Some(token), query, vars.clone()).await?;
    let (s2, second) = app.graphql(Some(token), query, vars).await?;
    assert_eq!(s1, s2, "{query}");
    Ok((first, second))
}

/// How many reads of `operation` were compiled so far.
async fn compiled(app: &TestApp, operation: &str) -> anyhow::Result<u64> {
    let text = app.metrics().await?;
    let label = format!("operation=\"{operation}\"");
    Ok(text
        .lines()
        .filter(|l| l.starts_with("frontdesk_graphql_compiled_reads_total") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum())
}

/// The `field` of every node of the `customers` list in `body`.
fn customers(body: &Value, field: &str) -> Vec<String> {
    body["data"]["customers"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n[field].as_str().map(str::to_owned))
        .collect()
}

/// JSON equality where numbers compare by value (`1` and `1.0` are one number); prints the
/// first difference.
fn same(a: &Value, b: &Value) -> bool {
    let d = diff(a, b, "");
    if let Some(d) = &d {
        eprintln!("first difference: {d}");
    }
    d.is_none()
}

fn diff(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (a, b))| diff(a, b, &format!("{at}[{i}]"))),
        (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => x
            .iter()
            .find_map(|(k, v)| diff(v, &y[k], &format!("{at}.{k}"))),
        _ if equal(a, b) => None,
        _ => Some(format!("{at}: {a} vs {b}")),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.keys().eq(y.keys())
                && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

async fn seeded() -> anyhow::Result<TestApp> {
    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 2,
        customers_per_tenant: 12,
        bookings_per_customer: 3,
        calls_per_booking: 2,
        sms_per_call: 2,
    })
    .await?;
    Ok(app)
}

const NESTED: &str = "query Nested($n: Int, $status: BookingStatusFilter) {
  customers(first: $n, orderBy: [{ field: NAME, direction: ASC }]) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage __typename }
    nodes { __typename id rowId name phone email tags segment source status isBlocked
      totalBookings totalSpent averageResponseTime satisfactionScore createdAt updatedAt
      customFields alternativePhones
      all: bookings(first: 2) { totalCount pageInfo { hasNextPage } nodes { id status } }
      bookings(first: 10, filter: { status: $status }) { nodes { id serviceType appointmentDate
        status paymentAmount createdAt
        calls(first: 5) { edges { __typename node { id rowId status duration phoneNumber
          startedAt cost smsMessages(first: 5) { nodes { id messageBody status direction
          createdAt } } } } } } } } } }";

#[tokio::test]
async fn a_compiled_read_answers_exactly_what_the_resolvers_answer() -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let cases = [
        json!({ "n": 5 }),
        json!({ "n": 12, "status": { "in": ["CONFIRMED", "COMPLETED"] } }),
        json!({ "n": 0 }),
        json!({}),
    ];
    let mut expected = 0;
    for vars in cases {
        let (first, second) = twice(&app, &token, NESTED, vars.clone()).await?;
        assert!(first["errors"].is_null(), "{first}");
        assert!(same(&first, &second), "{vars}");
        expected += 1;
        assert_eq!(compiled(&app, "Nested").await?, expected, "{vars}");
    }
    let nodes = |v: &Value| {
        v["data"]["customers"]["nodes"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let (five, _) = twice(&app, &token, NESTED, json!({ "n": 5 })).await?;
    assert_eq!(nodes(&five), 5);
    assert_eq!(five["data"]["customers"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(five["data"]["customers"]["totalCount"], 12);
    Ok(())
}

#[tokio::test]
async fn every_entity_list_compiles_to_what_its_resolvers_answer() -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Owner).await?;
    // Every root connection, with every field of its node that takes no argument and is a
    // scalar or an enum (or a list of them): what the column renderers must get right.
    let schema = app
        .graphql(
            Some(&token),
            "{ __schema { queryType { fields { name type { name kind ofType { name } } } } } }",
            json!({}),
        )
        .await?
        .1;
    let roots: Vec<(String, String)> = schema["data"]["__schema"]["queryType"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let ty = f["type"]["ofType"]["name"]
                .as_str()
                .or(f["type"]["name"].as_str())?;
            let node = ty.strip_suffix("Connection")?;
            Some((f["name"].as_str()?.to_owned(), node.to_owned()))
        })
        .collect();
    assert!(roots.len() >= 10, "{roots:?}");
    let mut compiled_roots = 0;
    for (root, node) in &roots {
        let ty = app
            .graphql(
                Some(&token),
                "query($t: String!) { __type(name: $t) { fields { name args { name }
                   type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
                json!({ "t": node }),
            )
            .await?
            .1;
        let leaf = |t: &Value| {
            let mut t = t;
            while matches!(t["kind"].as_str(), Some("NON_NULL" | "LIST")) {
                t = &t["ofType"];
            }
            matches!(t["kind"].as_str(), Some("SCALAR" | "ENUM"))
        };
        let fields: Vec<&str> = ty["data"]["__type"]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["args"].as_array().is_none_or(Vec::is_empty) && leaf(&f["type"]))
            .filter_map(|f| f["name"].as_str())
            .collect();
        let operation = format!("All_{root}");
        let query = format!(
            "query {operation} {{ {root}(first: 20) {{ totalCount nodes {{ {} }} }} }}",
            fields.join(" ")
        );
        let (first, second) = twice(&app, &token, &query, json!({})).await?;
        assert!(same(&first, &second), "{query}");
        if compiled(&app, &operation).await? > 0 {
            compiled_roots += 1;
        } else {
            // Not compilable as a whole (a computed field): each column alone must be, or
            // be served by a resolver — either way the answers agree.
            for f in &fields {
                let operation = format!("One_{root}_{f}");
                let query =
                    format!("query {operation} {{ {root}(first: 20) {{ nodes {{ id {f} }} }} }}");
                let (first, second) = twice(&app, &token, &query, json!({})).await?;
                assert!(same(&first, &second), "{query}");
            }
        }
    }
    assert!(
        compiled_roots >= 5,
        "only {compiled_roots} of {} roots compiled",
        roots.len()
    );
    Ok(())
}

#[tokio::test]
async fn a_compiled_read_sees_only_its_own_tenant() -> anyhow::Result<()> {
    let app = seeded().await?;
    let a = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let b = app.token(SeedSpec::tenant_id(1), Role::Viewer).await?;
    let q = "query Ids { customers(first: 100) { totalCount nodes { rowId
               bookings(first: 10) { nodes { rowId customer { rowId } } } } } }";
    let ids = |v: &Value| customers(v, "rowId");
    let (a1, a2) = twice(&app, &a, q, json!({})).await?;
    let (b1, b2) = twice(&app, &b, q, json!({})).await?;
    assert!(same(&a1, &a2) && same(&b1, &b2));
    assert_eq!(ids(&a2).len(), 12);
    assert!(ids(&a2).iter().all(|id| !ids(&b2).contains(id)));
    Ok(())
}

/// A root list of nodes and nothing else: the statement returns a row per node (the rows form
/// of `frontdesk_db::query::json`), which the server writes into the response.
const NODES_ONLY: &str = "query NodesOnly($n: Int) {
  customers(first: $n, orderBy: [{ field: NAME, direction: ASC }]) {
    nodes { __typename id rowId name totalSpent createdAt customFields
      bookings(first: 10) { nodes { id status appointmentDate
        calls(first: 5) { nodes { id status duration
          smsMessages(first: 5) { nodes { id messageBody direction } } } } } } } } }";

#[tokio::test]
async fn a_list_of_nodes_alone_read_as_rows_answers_what_the_resolvers_answer_in_order(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let a = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let b = app.token(SeedSpec::tenant_id(1), Role::Viewer).await?;
    let names = |v: &Value| customers(v, "name");
    let mut expected = 0;
    for (n, len) in [(12, 12), (5, 5), (0, 0)] {
        let (first, second) = twice(&app, &a, NODES_ONLY, json!({ "n": n })).await?;
        assert!(first["errors"].is_null(), "{first}");
        assert!(same(&first, &second), "n = {n}");
        expected += 1;
        assert_eq!(compiled(&app, "NodesOnly").await?, expected, "n = {n}");
        // The first answer is the resolvers', in the order the database collates names: the
        // rows must come back in the same order.
        assert_eq!(names(&second), names(&first), "n = {n}");
        assert_eq!(names(&second).len(), len, "{second}");
    }
    // The empty page is an empty list, not null.
    let (_, empty) = app.graphql(Some(&a), NODES_ONLY, json!({ "n": 0 })).await?;
    assert_eq!(empty["data"]["customers"]["nodes"], json!([]), "{empty}");
    // Each tenant's rows only.
    let (_, mine) = app
        .graphql(Some(&a), NODES_ONLY, json!({ "n": 12 }))
        .await?;
    let (b1, theirs) = twice(&app, &b, NODES_ONLY, json!({ "n": 12 })).await?;
    assert!(same(&b1, &theirs));
    let ids = |v: &Value| customers(v, "rowId");
    assert_eq!(ids(&theirs).len(), 12);
    assert!(ids(&mine).iter().all(|id| !ids(&theirs).contains(id)));
    Ok(())
}

#[tokio::test]
async fn what_the_resolvers_refuse_is_refused_the_same_way_the_second_time() -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let other = app.token(SeedSpec::tenant_id(1), Role::Viewer).await?;
    let list = "query List { customers(first: 1) { nodes { rowId name } } }";
    let (_, body) = app.graphql(Some(&other), list, json!({})).await?;
    let foreign = body["data"]["customers"]["nodes"][0]["rowId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let by_id = "query One($id: ID!) { customer(id: $id) { rowId name } }";
    // A row of another tenant is not found, before and after the document is known.
    let (a, b) = twice(&app, &token, by_id, json!({ "id": foreign })).await?;
    assert_eq!(error_code(&a), Some("NOT_FOUND"));
    assert_eq!(error_code(&b), Some("NOT_FOUND"));
    // Page sizes out of range are the resolvers' to refuse.
    let sized = "query Sized($n: Int) { customers(first: $n) { nodes { rowId } } }";
    app.graphql(Some(&token), sized, json!({ "n": 3 })).await?;
    app.graphql(Some(&token), sized, json!({ "n": 3 })).await?;
    let (_, big) = app
        .graphql(Some(&token), sized, json!({ "n": 101 }))
        .await?;
    assert_eq!(error_code(&big), Some("BAD_USER_INPUT"), "{big}");
    // A viewer may not read the audit trail, however often it asks.
    let audit = "query Audit { auditLog(first: 1) { nodes { rowId } } }";
    let (a, b) = twice(&app, &token, audit, json!({})).await?;
    assert_eq!(error_code(&a), Some("FORBIDDEN"), "{a}");
    assert_eq!(error_code(&b), Some("FORBIDDEN"), "{b}");
    // Without a token nothing is compiled.
    let (status, anonymous) = app.graphql(None, list, json!({})).await?;
    assert_eq!(status, 200);
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    assert_eq!(compiled(&app, "Audit").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_member_removed_after_the_document_is_known_is_refused() -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let q = "query Mine { customers(first: 2) { nodes { rowId } } }";
    let (a, b) = twice(&app, &token, q, json!({})).await?;
    assert!(same(&a, &b));
    assert_eq!(compiled(&app, "Mine").await?, 1);
    frontdesk_db::sqlx::query("UPDATE app.memberships SET is_active = false WHERE tenant_id = $1")
        .bind(SeedSpec::tenant_id(0))
        .execute(app.db.owner())
        .await?;
    let (_, refused) = app.graphql(Some(&token), q, json!({})).await?;
    assert!(
        refused["data"].is_null() || refused["data"]["customers"].is_null(),
        "{refused}"
    );
    assert!(error_code(&refused).is_some(), "{refused}");
    assert_eq!(compiled(&app, "Mine").await?, 1);
    Ok(())
}

const DASHBOARD: &str =
    "query Dashboard($from: DateTime!, $to: DateTime!, $bucket: AnalyticsBucket! = DAY,
    $tz: String) {
  analytics(from: $from, to: $to, bucket: $bucket, timeZone: $tz) {
    __typename from to bucket timeZone
    periods { __typename label start end totalConversations chatConversations
      voiceConversations avgConversationDuration avgResponseTime resolutionRate escalationRate
      totalBookings cancelledBookings salesGenerated bookingRevenue salesRevenue totalRevenue
      newLeads hotLeads leadsConverted dealRevenue leadConversionRate avgSentiment
      positiveInteractions negativeInteractions tokensUsed voiceMinutesUsed smsMessagesSent
      totalSms totalCalls successfulCalls failedCalls callsWithBooking callConversionRate
      callCost smsCost aiCost total: totalCost } } }";

#[tokio::test]
async fn the_analytics_dashboard_compiles_to_what_its_resolvers_answer() -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    let cases = [
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" }),
        json!({ "from": "2025-03-08T10:30:00Z", "to": "2025-03-11T00:00:00Z", "bucket": "HOUR",
                "tz": "America/New_York" }),
        json!({ "from": "2025-01-01T00:00:00Z", "to": "2025-07-01T00:00:00.5Z", "bucket": "WEEK",
                "tz": " Asia/Kolkata " }),
        json!({ "from": "2024-06-01T00:00:00Z", "to": "2026-06-01T00:00:00Z", "bucket": "MONTH",
                "tz": "UTC" }),
    ];
    let mut expected = 0;
    let mut figures = 0;
    for (i, vars) in cases.into_iter().enumerate() {
        // Each case its own document text, so that its first request takes the resolvers.
        let query = format!("{DASHBOARD}\n# case {i}");
        let (first, second) = twice(&app, &token, &query, vars.clone()).await?;
        assert!(first["errors"].is_null(), "{first}");
        assert!(same(&first, &second), "{vars}");
        expected += 1;
        assert_eq!(compiled(&app, "Dashboard").await?, expected, "{vars}");
        let periods = second["data"]["analytics"]["periods"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!periods.is_empty(), "{vars}");
        figures += periods
            .iter()
            .filter(|p| p["totalCalls"].as_i64() > Some(0))
            .count();
    }
    // The seeded facts fall inside the ranges: the comparison covered real figures.
    assert!(figures > 0);

    // Once the document is known, what the resolvers refuse is still refused by them.
    let refused = [
        (
            json!({ "from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z" }),
            "to",
        ),
        (
            json!({ "from": "2025-01-01T00:00:00Z", "to": "2025-04-01T00:00:00Z", "bucket": "HOUR" }),
            "bucket",
        ),
        (
            json!({ "from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z", "tz": "Mars/Olympus" }),
            "timeZone",
        ),
        (
            json!({ "from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z", "tz": "  " }),
            "timeZone",
        ),
    ];
    let known = format!("{DASHBOARD}\n# case 0");
    for (vars, field) in refused {
        let (_, body) = app.graphql(Some(&token), &known, vars.clone()).await?;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{vars}: {body}");
        assert!(body.to_string().contains(field), "{vars}: {body}");
    }
    // An agent lacks `view:analytics`, however often it asks.
    let agent = app.token(SeedSpec::tenant_id(0), Role::Agent).await?;
    let (a, b) = twice(
        &app,
        &agent,
        &known,
        json!({ "from": "2025-01-01T00:00:00Z",
        "to": "2025-02-01T00:00:00Z" }),
    )
    .await?;
    assert_eq!(error_code(&a), Some("FORBIDDEN"), "{a}");
    assert_eq!(error_code(&b), Some("FORBIDDEN"), "{b}");
    assert_eq!(compiled(&app, "Dashboard").await?, expected);
    Ok(())
}

/// Whether `text` names each of `keys` (as a JSON key), each after the one before.
fn in_order(text: &str, keys: &[&str]) -> bool {
    let mut rest = text;
    keys.iter()
        .all(|key| match rest.find(&format!("\"{key}\"")) {
            Some(at) => {
                rest = &rest[at..];
                true
            }
            None => false,
        })
}

#[tokio::test]
async fn both_paths_answer_with_the_fields_in_the_order_the_query_selected_them(
) -> anyhow::Result<()> {
    let app = seeded().await?;
    let token = app.token(SeedSpec::tenant_id(0), Role::Viewer).await?;
    // Nothing alphabetical about it: a sorted map would put `__typename` first and `phone` last.
    let query = "query Ordered { customers(first: 2) { nodes { phone name id __typename status \
                 bookings(first: 1) { nodes { status id } } } } }";
    for _ in 0..2 {
        let body = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
            .await?
            .text()
            .await?;
        assert!(!body.contains("\"errors\""), "{body}");
        let customer = ["phone", "name", "id", "__typename", "status", "bookings"];
        assert!(in_order(&body, &customer), "{body}");
        let booking = &body[body.find("\"bookings\"").expect("bookings")..];
        assert!(in_order(booking, &["status", "id"]), "{booking}");
    }
    // The first answer came from the resolvers, the second from the compiled statement.
    assert_eq!(compiled(&app, "Ordered").await?, 1);
    Ok(())
}
