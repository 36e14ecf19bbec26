//! A PostgreSQL outage under a write load, end to end: the server answers fast and honestly
//! (503, `SERVICE_UNAVAILABLE`, `Retry-After`, `/readyz` not ready) while the database is
//! down, recovers by itself when it is back, loses nothing it acknowledged, and keeps its
//! subscribers' sockets, which then receive every acknowledged write.
//!
//! The test stops and restarts a cluster of its own ([`OwnCluster`]), never the shared one.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_db::sqlx;
use frontdesk_db::testing::TestDb;
use frontdesk_e2e::cluster::OwnCluster;
use frontdesk_e2e::ws::WsClient;
use frontdesk_e2e::{spawn_app_on, Role, SeedSpec, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

const UP: u8 = 0;
const GOING_DOWN: u8 = 1;
const DOWN: u8 = 2;
const COMING_BACK: u8 = 3;

const WRITERS: usize = 4;
const FAST: Duration = Duration::from_secs(1);

const RECORD: &str = "mutation($c: ID!, $p: String!) { recordInboundMessage(input: {
  conversationId: $c, channel: WHATSAPP, providerMessageId: $p, content: \"load\" }) { id: rowId } }";

/// One write attempt and how it went.
#[derive(Debug)]
struct Attempt {
    /// The phase when it was sent and when it was answered.
    phases: (u8, u8),
    status: u16,
    retry_after: Option<String>,
    code: Option<String>,
    /// The message's id when the write was acknowledged (answered with data).
    acked: Option<Uuid>,
    took: Duration,
}

async fn attempt(app: &TestApp, token: &str, conv: Uuid, key: &str, phase: &AtomicU8) -> Attempt {
    let before = phase.load(Ordering::SeqCst);
    let started = Instant::now();
    let sent = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": RECORD, "variables": { "c": conv, "p": key } }))
        .send()
        .await;
    let (status, retry_after, body) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (
                status,
                retry_after,
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
        Err(_) => (0, None, Value::Null),
    };
    let took = started.elapsed();
    let acked = body["data"]["recordInboundMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok());
    Attempt {
        phases: (before, phase.load(Ordering::SeqCst)),
        status,
        retry_after,
        code: body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned),
        acked,
        took,
    }
}

async fn first_conversation(app: &TestApp, tenant: Uuid) -> anyhow::Result<Uuid> {
    let mut tx = app
        .db
        .db
        .begin_tenant(frontdesk_db::TenantCtx {
            tenant_id: tenant,
            user_id: None,
        })
        .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM app.conversations ORDER BY created_at, id LIMIT 1")
            .fetch_one(tx.conn())
            .await?,
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_gets_fast_503s_then_recovers_without_losing_an_acknowledged_write(
) -> anyhow::Result<()> {
    let mut cluster = OwnCluster::start("outage").await?;
    let port = cluster.pg().port();
    let db = TestDb::on_server(cluster.url(), cluster.pg().app_role_password()).await?;
    let app = Arc::new(spawn_app_on(db).await?);
    app.seed(&SeedSpec {
        tenants: 1,
        customers_per_tenant: 2,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    })
    .await?;
    let tenant = SeedSpec::tenant_id(0);
    let conv = first_conversation(&app, tenant).await?;
    let token = app.token(tenant, Role::Agent).await?;

    // A subscriber to every new message of the tenant, open across the whole outage.
    let mut subscriber = WsClient::connect(app.addr, &token).await?;
    subscriber
        .subscribe(
            "all",
            "subscription { messageAdded { message { id: rowId } } }",
            json!({}),
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicU8::new(0));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (app, token, phase, stop) = (app.clone(), token.clone(), phase.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut attempts = Vec::new();
            let mut i = 0;
            while stop.load(Ordering::SeqCst) == 0 {
                let key = format!("load-{w}-{i}");
                attempts.push(attempt(&app, &token, conv, &key, &phase).await);
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            attempts
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    phase.store(GOING_DOWN, Ordering::SeqCst);
    cluster.stop().await?;
    phase.store(DOWN, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut ready_latencies = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let ready = app.client.get(app.url("/readyz")).send().await?;
        ready_latencies.push(started.elapsed());
        assert_eq!(ready.status().as_u16(), 503, "/readyz while down");
        let body: Value = ready.json().await?;
        assert_eq!(body["status"], "database_unreachable", "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;

    phase.store(COMING_BACK, Ordering::SeqCst);
    cluster.restart().await?;
    assert_eq!(
        cluster.pg().port(),
        port,
        "the cluster came back on its port"
    );
    let back = Instant::now();
    phase.store(UP, Ordering::SeqCst);
    // Recovery: the first write acknowledged after the restart.
    let recovered = loop {
        let probe = attempt(
            &app,
            &token,
            conv,
            &format!("probe-{}", Uuid::new_v4()),
            &phase,
        )
        .await;
        if probe.acked.is_some() {
            break back.elapsed();
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "no recovery: {probe:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ready = app.client.get(app.url("/readyz")).send().await?;
    assert_eq!(ready.status().as_u16(), 200, "/readyz after recovery");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(1, Ordering::SeqCst);

    let mut attempts = Vec::new();
    for w in writers {
        attempts.extend(w.await?);
    }

    // While the database was down (sent and answered in that phase): fast, honest 503s.
    let down: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.phases == (DOWN, DOWN))
        .collect();
    assert!(
        down.len() >= 10,
        "too few attempts during the outage: {}",
        down.len()
    );
    for a in &down {
        assert_eq!(a.status, 503, "{a:?}");
        assert_eq!(a.code.as_deref(), Some("SERVICE_UNAVAILABLE"), "{a:?}");
        assert_eq!(a.retry_after.as_deref(), Some("1"), "{a:?}");
        assert!(a.took < FAST, "{a:?}");
    }
    // Whatever was not acknowledged was refused as unavailable, never as our bug.
    for a in attempts.iter().filter(|a| a.acked.is_none()) {
        assert_eq!(a.code.as_deref(), Some("SERVICE_UNAVAILABLE"), "{a:?}");
    }
    let latencies: Vec<Duration> = down.iter().map(|a| a.took).collect();
    let max = latencies.iter().max().copied().unwrap_or_default();
    let first_down = attempts
        .iter()
        .filter(|a| a.phases.0 != UP && a.acked.is_none())
        .map(|a| a.took)
        .max()
        .unwrap_or_default();
    println!(
        "outage: {} refusals while down, median {:?}, max {:?}; slowest refusal around the stop {:?}; \
         /readyz max {:?}; recovered {:?} after the restart",
        down.len(),
        median(latencies),
        max,
        first_down,
        ready_latencies.iter().max().copied().unwrap_or_default(),
        recovered,
    );
    assert!(
        first_down < FAST,
        "a refusal around the stop took {first_down:?}"
    );

    // Every acknowledged write is in the database.
    let acked: Vec<Uuid> = attempts.iter().filter_map(|a| a.acked).collect();
    assert!(
        acked.len() >= 10,
        "too few acknowledged writes: {}",
        acked.len()
    );
    let found: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM app.messages WHERE id = ANY($1)")
        .bind(&acked)
        .fetch_all(app.db.owner())
        .await?;
    let found: HashSet<Uuid> = found.into_iter().collect();
    let lost: Vec<&Uuid> = acked.iter().filter(|id| !found.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    println!("outage: {} acknowledged writes, all found", acked.len());

    // The subscriber kept its socket and receives every acknowledged write, then a new one.
    let after = app
        .gql(
            &token,
            RECORD,
            json!({ "c": conv, "p": format!("after-{}", Uuid::new_v4()) }),
        )
        .await?;
    let last: Uuid = after["data"]["recordInboundMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no id: {after}"))?;
    let mut missing: HashSet<Uuid> = acked.into_iter().chain([last]).collect();
    while !missing.is_empty() {
        let (_, payload) = subscriber.next_payload(Duration::from_secs(20)).await?;
        assert!(payload.get("errors").is_none(), "{payload}");
        if let Some(id) = payload["data"]["messageAdded"]["message"]["id"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
        {
            missing.remove(&id);
        }
    }
    subscriber.close().await?;
    Ok(())
}
