//! What an idle subscription costs the server, in heap bytes: a measurement, not a check
//! (`#[ignore]`d; run it by hand):
//!
//! ```text
//! cargo test --test subscription_memory -- --ignored --nocapture
//! ```
//!
//! It drives the schema the way `routes/ws.rs` does — async-graphql's protocol handler
//! (`async_graphql::http::WebSocket`, which keeps each operation's stream by id) over
//! `frontdesk_graphql::execute_stream` with a [`RequestCtx`] per operation — but over an
//! in-memory channel instead of a socket, so what it counts is the protocol's and the
//! subscriptions' memory, not tungstenite's or hyper's (the `frontdesk-bench inbox` run
//! measures the whole process). A counting allocator (dhat) reports the live heap bytes before
//! and after: `SOCKETS` sockets initialised, then `PER_SOCKET` subscriptions on each, waited
//! for until all are watching, then once more after an event reached every one of them.
//!
//! `FRONTDESK_DHAT_FILE=path` also writes dhat's profile when the subscriptions are idle: the
//! live blocks by allocation site (`t-end`), which `scripts/dhat_live.py` sums per site.
//! `SUBSCRIPTION_MEMORY_SOCKETS` and `SUBSCRIPTION_MEMORY_PER_SOCKET` change the numbers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{WebSocket as GraphQLSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use frontdesk_db::sqlx;
use frontdesk_e2e::{spawn_app, Principal, Role, SeedSpec, TestApp};
use frontdesk_graphql::{AppSchema, ConnectionSubscriptions, RequestCtx, TokenKeys};
use futures::channel::mpsc;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// As the bench subscribes: one conversation's messages, or the whole tenant's.
const CONVERSATION_QUERY: &str =
    "subscription($c: UUID!) { messageAdded(conversationId: $c) { cursor message { id: rowId } } }";
const TENANT_QUERY: &str = "subscription { messageAdded { cursor message { id: rowId } } }";

/// `routes/ws.rs`'s executor, as far as the schema crate sees it.
#[derive(Clone)]
struct Exec {
    schema: AppSchema,
    db: frontdesk_db::Db,
    request_id: String,
    user_agent: Option<String>,
    subscriptions: Arc<ConnectionSubscriptions>,
}

impl Executor for Exec {
    async fn execute(&self, request: Request) -> Response {
        let ctx = RequestCtx {
            principal: None,
            request_id: self.request_id.clone(),
            client_addr: None,
            user_agent: self.user_agent.clone(),
        };
        frontdesk_graphql::execute(&self.schema, &self.db, request, ctx).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let principal = session
            .as_ref()
            .and_then(|d| d.get(&std::any::TypeId::of::<Principal>()))
            .and_then(|p| p.downcast_ref::<Principal>())
            .copied();
        let ctx = RequestCtx {
            principal,
            request_id: format!("{}/{}", self.request_id, Uuid::new_v4().simple()),
            client_addr: Some([127, 0, 0, 1].into()),
            user_agent: self.user_agent.clone(),
        };
        frontdesk_graphql::execute_stream(
            &self.schema,
            &self.db,
            request,
            ctx,
            self.subscriptions.clone(),
        )
    }
}

/// What the sockets saw.
#[derive(Default)]
struct Seen {
    acks: AtomicUsize,
    nexts: AtomicUsize,
    errors: AtomicUsize,
}

/// One in-memory socket: the client's half (kept open) and a task running the protocol.
fn open(
    schema: &AppSchema,
    db: &frontdesk_db::Db,
    keys: &TokenKeys,
    seen: &Arc<Seen>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (tx, rx) = mpsc::unbounded::<Vec<u8>>();
    let exec = Exec {
        schema: schema.clone(),
        db: db.clone(),
        request_id: Uuid::new_v4().to_string(),
        user_agent: Some("memory-harness/1".into()),
        subscriptions: Arc::default(),
    };
    let keys = keys.clone();
    let seen = seen.clone();
    tokio::spawn(async move {
        let mut protocol = GraphQLSocket::new(exec, rx, WebSocketProtocols::GraphQLWS)
            .on_connection_init(move |payload: Value| async move {
                let token = payload["Authorization"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("Bearer "))
                    .unwrap_or_default()
                    .to_owned();
                let (principal, _) = keys
                    .verify_until(&token)
                    .map_err(|e| async_graphql::Error::new(e.to_string()))?;
                let mut data = Data::default();
                data.insert(principal);
                Ok(data)
            });
        while let Some(message) = protocol.next().await {
            let WsMessage::Text(text) = message else {
                break;
            };
            let v: Value = serde_json::from_str(&text).unwrap_or_default();
            let counter = match v["type"].as_str() {
                Some("connection_ack") => &seen.acks,
                Some("next") if v["payload"]["errors"].is_null() => &seen.nexts,
                _ => {
                    eprintln!("unexpected frame: {text}");
                    &seen.errors
                }
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    tx
}

fn send(tx: &mpsc::UnboundedSender<Vec<u8>>, message: Value) {
    tx.unbounded_send(message.to_string().into_bytes())
        .expect("the socket is open");
}

fn live_bytes() -> i64 {
    i64::try_from(dhat::HeapStats::get().curr_bytes).unwrap_or(i64::MAX)
}

fn live_blocks() -> i64 {
    i64::try_from(dhat::HeapStats::get().curr_blocks).unwrap_or(i64::MAX)
}

/// The live heap once it has stopped moving (background work settles).
async fn settled() -> (i64, i64) {
    let mut last = live_bytes();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = live_bytes();
        if (now - last).abs() < 2048 {
            return (now, live_blocks());
        }
        last = now;
    }
}

async fn wait_for(what: &str, counter: impl Fn() -> usize, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while counter() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {} of {n}",
            counter()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `frontdesk_subscriptions_watching`, from the process's metrics (shared by every schema).
async fn watching(app: &TestApp) -> usize {
    let text = app.metrics().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("frontdesk_subscriptions_watching "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as usize)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand: --ignored --nocapture"]
async fn idle_subscription_heap_bytes() -> anyhow::Result<()> {
    let dhat_file = std::env::var("FRONTDESK_DHAT_FILE").ok();
    let profiler = match &dhat_file {
        Some(f) => dhat::Profiler::builder()
            .file_name(f)
            .trim_backtraces(Some(40))
            .build(),
        None => dhat::Profiler::builder().testing().build(),
    };
    let sockets = env_usize("SUBSCRIPTION_MEMORY_SOCKETS", 400);
    let per_socket = env_usize("SUBSCRIPTION_MEMORY_PER_SOCKET", 5);

    let app = spawn_app().await?;
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 20,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let tenant = SeedSpec::tenant_id(0);
    let token = app.token(tenant, Role::Agent).await?;
    let conversations: Vec<Uuid> = {
        let mut tx = app
            .db
            .db
            .begin_tenant(frontdesk_db::TenantCtx {
                tenant_id: tenant,
                user_id: None,
            })
            .await?;
        sqlx::query_scalar("SELECT id FROM app.conversations ORDER BY created_at, id")
            .fetch_all(tx.conn())
            .await?
    };
    anyhow::ensure!(!conversations.is_empty(), "the seed made no conversations");
    let schema = frontdesk_graphql::build_schema(app.db.db.clone(), app.keys.clone());
    let seen = Arc::new(Seen::default());
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    let subscribe = |tx: &mpsc::UnboundedSender<Vec<u8>>, i: usize, n: usize| {
        // One in five watches the whole tenant, as the bench's default share does.
        let payload = if n.is_multiple_of(5) {
            json!({"query": TENANT_QUERY})
        } else {
            json!({"query": CONVERSATION_QUERY, "variables": {"c": conversations[n % conversations.len()]}})
        };
        send(
            tx,
            json!({"id": i.to_string(), "type": "subscribe", "payload": payload}),
        );
    };

    // Warm up: the tenant's feed, the pools, the lazily built statics.
    let warm: Vec<_> = (0..8)
        .map(|_| {
            let tx = open(&schema, &app.db.db, &app.keys, &seen);
            send(&tx, init.clone());
            tx
        })
        .collect();
    wait_for("warm-up acks", || seen.acks.load(Ordering::Relaxed), 8).await;
    for (n, tx) in warm.iter().enumerate() {
        subscribe(tx, 0, n);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while watching(&app).await < 8 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (base_bytes, base_blocks) = settled().await;
    let txs: Vec<_> = (0..sockets)
        .map(|_| {
            let tx = open(&schema, &app.db.db, &app.keys, &seen);
            send(&tx, init.clone());
            tx
        })
        .collect();
    wait_for(
        "acks",
        || seen.acks.load(Ordering::Relaxed),
        sockets + warm.len(),
    )
    .await;
    let (socket_bytes, socket_blocks) = settled().await;

    let total = sockets * per_socket;
    for (s, tx) in txs.iter().enumerate() {
        for i in 0..per_socket {
            subscribe(tx, i, s * per_socket + i);
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while watching(&app).await < total + warm.len() {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "only {} watching",
            watching(&app).await
        );
        anyhow::ensure!(
            seen.errors.load(Ordering::Relaxed) == 0,
            "a subscription failed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (idle_bytes, idle_blocks) = settled().await;

    let per = |bytes: i64, n: usize| bytes as f64 / n as f64;
    println!(
        "sockets: {sockets}, {:.0} B and {:.1} blocks per initialised socket (harness socket: no tungstenite/hyper)",
        per(socket_bytes - base_bytes, sockets),
        per(socket_blocks - base_blocks, sockets)
    );
    println!(
        "subscriptions: {total} ({per_socket} per socket), {:.0} B and {:.1} blocks per idle subscription",
        per(idle_bytes - socket_bytes, total),
        per(idle_blocks - socket_blocks, total)
    );

    if dhat_file.is_some() {
        // The profile's `t-end` is now: the idle subscriptions' live blocks by site.
        drop(profiler);
        return Ok(());
    }

    // One event to the whole tenant, then idle again: what an event leaves behind.
    let conversation = conversations[0];
    app.insert_message(tenant, conversation, "hello").await?;
    // The tenant-wide ones and those on the first conversation hear it.
    let hears = |n: &usize| n.is_multiple_of(5) || n.is_multiple_of(conversations.len());
    let hearing = (0..total).filter(hears).count() + (0..warm.len()).filter(hears).count();
    wait_for("events", || seen.nexts.load(Ordering::Relaxed), hearing).await;
    let (after_bytes, after_blocks) = settled().await;
    println!(
        "after an event to {hearing}: {:.0} B and {:.1} blocks per subscription (all, idle again)",
        per(after_bytes - socket_bytes, total),
        per(after_blocks - socket_blocks, total)
    );
    anyhow::ensure!(seen.errors.load(Ordering::Relaxed) == 0);
    anyhow::ensure!(
        seen.nexts.load(Ordering::Relaxed) == hearing,
        "{} events for {hearing} subscribers",
        seen.nexts.load(Ordering::Relaxed)
    );
    drop(txs);
    drop(warm);
    Ok(())
}
