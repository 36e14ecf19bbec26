//! The three workloads — GraphQL NESTED, GraphQL SINGLE and the raw-SQL floor — and the run
//! that prepares, measures and reports them.

use std::future::Future;
use std::sync::Arc;

use frontdesk_db::seed::SeedSpec;
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, TenantCtx};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::load::{self, Outcome};
use crate::report::{Report, Row, Shape};
use crate::setup::{self, Server, ServerEnv};
use crate::GraphArgs;

/// 50 customers → 10 bookings → 5 calls → 5 SMS.
pub const NESTED: &str = "query Nested { customers(first: 50) { nodes { id name phone \
    bookings(first: 10) { nodes { id serviceType appointmentDate status \
    calls(first: 5) { nodes { id status duration phoneNumber \
    smsMessages(first: 5) { nodes { id messageBody status direction } } } } } } } } }";

/// One customer by id.
pub const SINGLE: &str =
    "query One($id: ID!) { customer(id: $id) { id name phone email totalBookings totalSpent } }";

/// NESTED's answer built by PostgreSQL alone, as one JSON document shaped like the GraphQL
/// response: each level ordered newest first (`created_at DESC, id`) and limited like the query,
/// children joined on the composite foreign keys (tenant-leading indexes).
pub const FLOOR_SQL: &str = "
SELECT json_build_object('data', json_build_object('customers', json_build_object('nodes',
         coalesce(json_agg(json_build_object(
           'id', c.id, 'name', c.name, 'phone', c.phone,
           'bookings', json_build_object('nodes', cb.nodes))
         ORDER BY c.created_at DESC, c.id), '[]'))))::text
FROM (SELECT tenant_id, id, name, phone, created_at FROM app.customers
      ORDER BY created_at DESC, id LIMIT 50) c
CROSS JOIN LATERAL (
  SELECT coalesce(json_agg(json_build_object(
           'id', b.id, 'serviceType', b.service_type, 'appointmentDate', b.appointment_date,
           'status', b.status, 'calls', json_build_object('nodes', bk.nodes))
         ORDER BY b.created_at DESC, b.id), '[]') AS nodes
  FROM (SELECT tenant_id, id, service_type, appointment_date, status, created_at
        FROM app.bookings WHERE tenant_id = c.tenant_id AND customer_id = c.id
        ORDER BY created_at DESC, id LIMIT 10) b
  CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object(
             'id', k.id, 'status', k.status, 'duration', k.duration,
             'phoneNumber', k.phone_number, 'smsMessages', json_build_object('nodes', km.nodes))
           ORDER BY k.created_at DESC, k.id), '[]') AS nodes
    FROM (SELECT tenant_id, id, status, duration, phone_number, created_at
          FROM app.calls WHERE tenant_id = b.tenant_id AND booking_id = b.id
          ORDER BY created_at DESC, id LIMIT 5) k
    CROSS JOIN LATERAL (
      SELECT coalesce(json_agg(json_build_object(
               'id', m.id, 'messageBody', m.message_body, 'status', m.status,
               'direction', m.direction)
             ORDER BY m.created_at DESC, m.id), '[]') AS nodes
      FROM (SELECT id, message_body, status, direction, created_at
            FROM app.sms_messages WHERE tenant_id = k.tenant_id AND call_id = k.id
            ORDER BY created_at DESC, id LIMIT 5) m
    ) km
  ) bk
) cb";

/// [`FLOOR_SQL`] answering exactly what NESTED answers: each `id` the Relay global id
/// (`{type}:{uuid}`) instead of the bare UUID.
pub static FLOOR_SQL_GLOBAL_IDS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    [
        ("c", "Customer"),
        ("b", "Booking"),
        ("k", "Call"),
        ("m", "SmsMessage"),
    ]
    .iter()
    .fold(FLOOR_SQL.to_owned(), |sql, (t, ty)| {
        sql.replace(
            &format!("'id', {t}.id,"),
            &format!("'id', '{ty}:' || {t}.id::text,"),
        )
    })
});

/// SINGLE's answer built by PostgreSQL alone: the customer's row as the response document.
pub const SINGLE_FLOOR_SQL: &str = "
SELECT json_build_object('data', json_build_object('customer', json_build_object(
         'id', c.id, 'name', c.name, 'phone', c.phone, 'email', c.email,
         'totalBookings', c.total_bookings, 'totalSpent', c.total_spent::text)))::text
FROM app.customers c WHERE c.id = $1";

/// Prepares everything, runs the four workloads one after the other, stops the server.
pub async fn measure(args: &GraphArgs, db: &TestDb) -> anyhow::Result<Report> {
    let tenant = SeedSpec::tenant_id(0);
    let at = db.config.owner_options()?;
    let database = format!("{} on {}:{}", db.name, at.get_host(), at.get_port());
    eprintln!("database {database}: seeding …");
    let seeded = setup::seed(db, args.tenants, args.customers).await?;
    eprintln!("{seeded}");
    let ids = setup::customer_ids(db, tenant).await?;
    anyhow::ensure!(!ids.is_empty(), "the seeded tenant has no customers");
    let customers = ids.len();

    let binary = setup::frontdesk_binary().await?;
    let env = ServerEnv::new(db, args.db_max_connections);
    let token = env.token(&binary, tenant).await?;
    let log = binary.with_file_name("frontdesk-bench-server.log");
    let server = env.serve(&binary, log).await?;
    eprintln!("server {} listening on {}", binary.display(), server.addr);

    let api = Api::new(&server, &token, args.concurrency)?;
    let nested_body = Arc::new(request(NESTED, json!({}))?);
    let single_bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        ids.iter()
            .map(|id| request(SINGLE, json!({ "id": id })))
            .collect::<Result<_, _>>()?,
    );

    let mut shapes = vec![(
        "graphql NESTED",
        api.fetch((*nested_body).clone()).await.map(|v| shape(&v)),
    )];
    let [nested, single] = api_legs(
        ["graphql NESTED", "graphql SINGLE"],
        &api,
        &server,
        args,
        db,
        &nested_body,
        &single_bodies,
    )
    .await?;
    server.stop().await;

    // The same two reads with every field resolved by the resolvers (compiled reads off): what
    // the compiled path saves, measured in the same run.
    let log = binary.with_file_name("frontdesk-bench-server-resolvers.log");
    let server = env
        .serve_with(&binary, log, &["--compiled-reads", "false"])
        .await?;
    let api = Api::new(&server, &token, args.concurrency)?;
    let [resolved_nested, resolved_single] = api_legs(
        ["resolvers NESTED", "resolvers SINGLE"],
        &api,
        &server,
        args,
        db,
        &nested_body,
        &single_bodies,
    )
    .await?;
    server.stop().await;

    let floor_db = Db::connect_with_size(&db.config, args.db_max_connections).await?;
    shapes.push((
        "raw SQL floor",
        floor_once(&floor_db, tenant, FLOOR_SQL, None)
            .await
            .and_then(|doc| serde_json::from_str(&doc).map_err(|e| e.to_string()))
            .map(|v| shape(&v)),
    ));
    let floor = {
        let floor_db = floor_db.clone();
        workload("raw SQL floor", args, db, None, move |_| {
            let db = floor_db.clone();
            async move { floor_once(&db, tenant, FLOOR_SQL, None).await.map(|_| ()) }
        })
        .await?
    };
    let floor_unsorted = {
        let floor_db = floor_db.clone();
        workload("raw SQL floor*", args, db, None, move |_| {
            let db = floor_db.clone();
            async move {
                floor_once(&db, tenant, &FLOOR_SQL_GLOBAL_IDS, None)
                    .await
                    .map(|_| ())
            }
        })
        .await?
    };
    let ids = Arc::new(ids);
    let single_floor = {
        let (floor_db, ids) = (floor_db.clone(), Arc::clone(&ids));
        workload("raw SQL single", args, db, None, move |seq| {
            let db = floor_db.clone();
            let i = usize::try_from(seq).unwrap_or(0) % ids.len();
            let id = ids[i];
            async move {
                floor_once(&db, tenant, SINGLE_FLOOR_SQL, Some(id))
                    .await
                    .map(|_| ())
            }
        })
        .await?
    };
    let single_floor_fused = workload("raw SQL single²", args, db, None, move |seq| {
        let db = floor_db.clone();
        let i = usize::try_from(seq).unwrap_or(0) % ids.len();
        let id = ids[i];
        async move { floor_fused(&db, tenant, id).await.map(|_| ()) }
    })
    .await?;

    Ok(Report {
        database,
        tenant,
        customers,
        tenants: args.tenants,
        seeded,
        concurrency: args.concurrency,
        duration: args.duration(),
        warmup: args.warmup(),
        pool: args.db_max_connections,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        rows: vec![
            nested,
            single,
            floor,
            floor_unsorted,
            single_floor,
            single_floor_fused,
            resolved_nested,
            resolved_single,
        ],
        shapes,
    })
}

/// NESTED (one body, repeated) and SINGLE (a body per customer, in turn) against `server`.
async fn api_legs(
    names: [&'static str; 2],
    api: &Api,
    server: &Server,
    args: &GraphArgs,
    db: &TestDb,
    nested_body: &Arc<Vec<u8>>,
    single_bodies: &Arc<Vec<Vec<u8>>>,
) -> anyhow::Result<[Row; 2]> {
    let nested = {
        let (api, body) = (api.clone(), Arc::clone(nested_body));
        workload(names[0], args, db, Some(server), move |_| {
            let (api, body) = (api.clone(), (*body).clone());
            async move { api.post(body).await }
        })
        .await?
    };
    let single = {
        let (api, bodies) = (api.clone(), Arc::clone(single_bodies));
        workload(names[1], args, db, Some(server), move |seq| {
            let i = usize::try_from(seq).unwrap_or(0) % bodies.len();
            let (api, body) = (api.clone(), bodies[i].clone());
            async move { api.post(body).await }
        })
        .await?
    };
    Ok([nested, single])
}

/// Warm-up, then a measured run with fresh statement counts and a fresh peak-RSS window.
async fn workload<F, Fut>(
    name: &'static str,
    args: &GraphArgs,
    db: &TestDb,
    server: Option<&Server>,
    op: F,
) -> anyhow::Result<Row>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    eprintln!(
        "{name}: {:?} warm-up, {:?} measured …",
        args.warmup(),
        args.duration()
    );
    let op = Arc::new(op);
    if !args.warmup().is_zero() {
        let op = Arc::clone(&op);
        load::drive(args.concurrency, args.warmup(), move |seq| op(seq)).await?;
    }
    db.reset_statement_stats().await?;
    let rss_window = server.is_some_and(Server::reset_peak_rss);
    let outcome: Outcome =
        load::drive(args.concurrency, args.duration(), move |seq| op(seq)).await?;
    let statements = db.statements_executed().await.map_err(|e| e.to_string());
    let peak_rss_kib = server.and_then(|s| s.peak_rss_kib().ok());
    Ok(Row {
        name,
        outcome,
        statements,
        peak_rss_kib,
        rss_window,
    })
}

/// A `{"query", "variables"}` request body.
pub(crate) fn request(query: &str, variables: Value) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(
        &json!({ "query": query, "variables": variables }),
    )?)
}

/// A floor: a document from one statement (`sql`, with `id` bound when given) in a
/// tenant-scoped transaction, the way the API runs its queries (`begin_tenant`, statement,
/// commit).
async fn floor_once(
    db: &Db,
    tenant_id: Uuid,
    sql: &str,
    id: Option<Uuid>,
) -> Result<String, String> {
    let run = async {
        let mut tx = db
            .begin_tenant(TenantCtx {
                tenant_id,
                user_id: None,
            })
            .await?;
        let query = sqlx::query_scalar(sql);
        let query = match id {
            Some(id) => query.bind(id),
            None => query,
        };
        let doc: String = query.fetch_one(tx.conn()).await?;
        tx.commit().await?;
        Ok::<_, frontdesk_db::DbError>(doc)
    };
    run.await.map_err(|e| e.to_string())
}

/// The single-row floor in the two round trips a compiled read takes: `BEGIN` and the scope
/// in one message ([`Db::begin_tenant_fused`]), the statement, and the read-only transaction
/// dropped (its `ROLLBACK` travels with the pool's release check).
async fn floor_fused(db: &Db, tenant_id: Uuid, id: Uuid) -> Result<String, String> {
    let run = async {
        let ctx = TenantCtx {
            tenant_id,
            user_id: None,
        };
        let mut tx = db.begin_tenant_fused(ctx).await?;
        let doc: String = sqlx::query_scalar(SINGLE_FLOOR_SQL)
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        drop(tx);
        Ok::<_, frontdesk_db::DbError>(doc)
    };
    run.await.map_err(|e| e.to_string())
}

/// The GraphQL endpoint with a bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    client: reqwest::Client,
    url: Arc<str>,
    auth: Arc<str>,
}

/// All the load loop reads of a response: whether it carries errors.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Option<Vec<serde::de::IgnoredAny>>,
}

impl Api {
    pub(crate) fn new(server: &Server, token: &str, concurrency: u32) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(usize::try_from(concurrency)?)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            url: format!("http://{}/graphql", server.addr).into(),
            auth: format!("Bearer {token}").into(),
        })
    }

    /// POSTs `body`; `Err` with the response (shortened) unless it is a 200 without errors.
    pub(crate) async fn post(&self, body: Vec<u8>) -> Result<(), String> {
        let bytes = self.send(body).await?;
        let bytes = bytes.as_ref();
        // A body that never mentions `"errors"` has none; only one that does is parsed.
        if memchr::memmem::find(bytes, b"\"errors\"").is_none() && bytes.starts_with(b"{") {
            return Ok(());
        }
        let envelope: Envelope = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a GraphQL response ({e}): {}", snippet(bytes)))?;
        match envelope.errors {
            Some(errors) if !errors.is_empty() => Err(snippet(bytes)),
            _ => Ok(()),
        }
    }

    /// POSTs `body` and returns the whole response document.
    pub(crate) async fn fetch(&self, body: Vec<u8>) -> Result<Value, String> {
        let bytes = self.send(body).await?;
        let bytes = bytes.as_ref();
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| format!("not a GraphQL response ({e}): {}", snippet(bytes)))?;
        match doc.get("errors").and_then(Value::as_array) {
            Some(errors) if !errors.is_empty() => Err(snippet(bytes)),
            _ => Ok(doc),
        }
    }

    async fn send(&self, body: Vec<u8>) -> Result<impl AsRef<[u8]>, String> {
        let resp = self
            .client
            .post(&*self.url)
            .header(reqwest::header::AUTHORIZATION, &*self.auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the response failed: {e}"))?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("HTTP {status}: {}", snippet(&bytes)));
        }
        Ok(bytes)
    }
}

/// The first 400 characters of a response body.
fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.into_owned(),
    }
}

/// Node counts per level of a NESTED-shaped document.
fn shape(doc: &Value) -> Shape {
    fn nodes<'a>(v: &'a Value, field: &str) -> &'a [Value] {
        v[field]["nodes"].as_array().map_or(&[], Vec::as_slice)
    }
    let mut counts = [0; 4];
    for customer in nodes(&doc["data"], "customers") {
        counts[0] += 1;
        for booking in nodes(customer, "bookings") {
            counts[1] += 1;
            for call in nodes(booking, "calls") {
                counts[2] += 1;
                counts[3] += nodes(call, "smsMessages").len();
            }
        }
    }
    Shape(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_result_floor_computes_every_levels_global_id() {
        let sql = FLOOR_SQL_GLOBAL_IDS.as_str();
        assert_eq!(sql.matches("' || ").count(), 4, "{sql}");
        assert_eq!(sql.matches('(').count(), sql.matches(')').count(), "{sql}");
    }
}
