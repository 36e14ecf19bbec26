//! The graph workloads — GraphQL NESTED and SINGLE, compiled and through the resolvers, and
//! their hand-written SQL floors — and the run that prepares, measures and reports them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use frontdesk_db::seed::SeedSpec;
use frontdesk_db::sqlx::Row as _;
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

/// Prepares everything, runs the eight workloads in rounds of turns, stops both servers.
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

    // The same two reads with every field resolved by the resolvers (compiled reads off): what
    // the compiled path saves, measured in the same run. Both servers run throughout, so that
    // their legs can take turns with the floors' (see `measure_rounds`).
    let log = binary.with_file_name("frontdesk-bench-server-resolvers.log");
    let resolvers = env
        .serve_with(&binary, log, &["--compiled-reads", "false"])
        .await?;
    let api = Api::new(&server, &token, args.concurrency)?;
    let api_resolvers = Api::new(&resolvers, &token, args.concurrency)?;
    let nested_body = Arc::new(request(NESTED, json!({}))?);
    let single_bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        ids.iter()
            .map(|id| request(SINGLE, json!({ "id": id })))
            .collect::<Result<_, _>>()?,
    );
    let floor_db = Db::connect_with_size(&db.config, args.db_max_connections).await?;
    let shapes = vec![
        (
            "graphql NESTED",
            api.fetch((*nested_body).clone()).await.map(|v| shape(&v)),
        ),
        (
            "raw SQL floor",
            floor_once(&floor_db, tenant, FLOOR_SQL, None)
                .await
                .and_then(|doc| serde_json::from_str(&doc).map_err(|e| e.to_string()))
                .map(|v| shape(&v)),
        ),
    ];

    let ids = Arc::new(ids);
    let floor = |sql: &'static str| {
        let db = floor_db.clone();
        op(move |_| {
            let db = db.clone();
            async move { floor_once(&db, tenant, sql, None).await.map(|_| ()) }
        })
    };
    let single_floor = {
        let (db, ids) = (floor_db.clone(), Arc::clone(&ids));
        op(move |seq| {
            let (db, id) = (db.clone(), *nth(&ids, seq));
            async move {
                floor_once(&db, tenant, SINGLE_FLOOR_SQL, Some(id))
                    .await
                    .map(|_| ())
            }
        })
    };
    let single_floor_fused = {
        let (db, ids) = (floor_db.clone(), Arc::clone(&ids));
        op(move |seq| {
            let (db, id) = (db.clone(), *nth(&ids, seq));
            async move { floor_fused(&db, tenant, id).await.map(|_| ()) }
        })
    };
    // Each measured read next to its floor, so that a round's legs run close together.
    let legs: Vec<Leg> = vec![
        (
            "graphql NESTED",
            Some(&server),
            nested_op(&api, &nested_body),
        ),
        ("raw SQL floor", None, floor(FLOOR_SQL)),
        ("raw SQL floor*", None, floor(&FLOOR_SQL_GLOBAL_IDS)),
        (
            "graphql SINGLE",
            Some(&server),
            single_op(&api, &single_bodies),
        ),
        ("raw SQL single", None, single_floor),
        ("raw SQL single²", None, single_floor_fused),
        (
            "resolvers NESTED",
            Some(&resolvers),
            nested_op(&api_resolvers, &nested_body),
        ),
        (
            "resolvers SINGLE",
            Some(&resolvers),
            single_op(&api_resolvers, &single_bodies),
        ),
    ];
    let mut rows = measure_rounds(&legs, args, db).await?;
    drop(legs);
    server.stop().await;
    resolvers.stop().await;
    rows.sort_by_key(|row| REPORT_ORDER.iter().position(|name| *name == row.name));

    Ok(Report {
        database,
        tenant,
        customers,
        tenants: args.tenants,
        seeded,
        concurrency: args.concurrency,
        duration: args.duration(),
        warmup: args.warmup(),
        rounds: args.rounds,
        pool: args.db_max_connections,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        rows,
        shapes,
    })
}

/// One operation of a leg, given the run-wide sequence number.
type Op = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A measured workload: its name, the server it loads (none for a floor) and its operation.
type Leg<'a> = (&'static str, Option<&'a Server>, Op);

/// The order the report lists the legs in: the reads, the nested floors, the single-row
/// floors, the resolvers' legs.
const REPORT_ORDER: [&str; 8] = [
    "graphql NESTED",
    "graphql SINGLE",
    "raw SQL floor",
    "raw SQL floor*",
    "raw SQL single",
    "raw SQL single²",
    "resolvers NESTED",
    "resolvers SINGLE",
];

/// `f` as a leg's operation.
fn op<F, Fut>(f: F) -> Op
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move |seq| Box::pin(f(seq)))
}

/// The `seq`-th item, in turn.
fn nth<T>(items: &[T], seq: u64) -> &T {
    &items[usize::try_from(seq).unwrap_or(0) % items.len()]
}

/// NESTED against `api`: one body, repeated.
fn nested_op(api: &Api, body: &Arc<Vec<u8>>) -> Op {
    let (api, body) = (api.clone(), Arc::clone(body));
    op(move |_| {
        let (api, body) = (api.clone(), (*body).clone());
        async move { api.post(body).await }
    })
}

/// SINGLE against `api`: a body per customer, in turn.
fn single_op(api: &Api, bodies: &Arc<Vec<Vec<u8>>>) -> Op {
    let (api, bodies) = (api.clone(), Arc::clone(bodies));
    op(move |seq| {
        let (api, body) = (api.clone(), nth(&bodies, seq).clone());
        async move { api.post(body).await }
    })
}

/// Every leg in turn, `args.rounds` times, each turn measuring a share of the duration; a
/// leg's row sums its turns.
///
/// # Why rounds
/// This machine's speed drifts by a third within minutes (other tenants of the host, the
/// seed's pages still being written out). Legs measured one after the other over several
/// minutes compare different machines; taking turns in short rounds gives each leg and its
/// floor the same mix of fast and slow moments, so their ratio holds still.
async fn measure_rounds(
    legs: &[Leg<'_>],
    args: &GraphArgs,
    db: &TestDb,
) -> anyhow::Result<Vec<Row>> {
    let rounds = args.rounds.max(1);
    let share = args.duration() / rounds;
    let mut rows: Vec<Option<Row>> = legs.iter().map(|_| None).collect();
    for round in 0..rounds {
        // A full warm-up before a leg's first turn; a short one before the others (the pool
        // and the caches are warm, only the previous leg's connections must settle).
        let warmup = if round == 0 {
            args.warmup()
        } else {
            (args.warmup() / rounds).min(Duration::from_secs(1))
        };
        for ((name, server, op), row) in legs.iter().zip(rows.iter_mut()) {
            eprintln!(
                "{name}: round {}/{rounds}, {warmup:?} warm-up, {share:?} measured …",
                round + 1
            );
            let turn = workload(name, warmup, share, args.concurrency, db, *server, op).await?;
            match row {
                Some(row) => row.absorb(turn)?,
                None => *row = Some(turn),
            }
        }
    }
    Ok(rows.into_iter().flatten().collect())
}

/// Warm-up, then a measured run with fresh statement counts and a fresh peak-RSS window.
async fn workload(
    name: &'static str,
    warmup: Duration,
    duration: Duration,
    concurrency: u32,
    db: &TestDb,
    server: Option<&Server>,
    op: &Op,
) -> anyhow::Result<Row> {
    if !warmup.is_zero() {
        let op = Arc::clone(op);
        load::drive(concurrency, warmup, move |seq| op(seq)).await?;
    }
    db.reset_statement_stats().await?;
    let rss_window = server.is_some_and(Server::reset_peak_rss);
    let op = Arc::clone(op);
    let outcome: Outcome = load::drive(concurrency, duration, move |seq| op(seq)).await?;
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

/// The single-row floor in the two round trips a compiled read takes, on the same door
/// ([`Db::read_fused`]): `BEGIN` and the scope in one message, the statement, and the
/// read-only transaction's `ROLLBACK` sent unanswered while its connection stays warm.
async fn floor_fused(db: &Db, tenant_id: Uuid, id: Uuid) -> Result<String, String> {
    let ctx = TenantCtx {
        tenant_id,
        user_id: None,
    };
    let rows = db
        .read_fused(ctx, None, sqlx::query(SINGLE_FLOOR_SQL).bind(id))
        .await
        .map_err(|e| e.to_string())?;
    let row = rows.first().ok_or("no row")?;
    row.try_get(0).map_err(|e| e.to_string())
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
