//! The writer: `rate` messages per second for a fixed count, paced by a tokio interval, each
//! inserted as the runtime role in its own tenant-scoped transaction — a webhook worker's
//! plain `INSERT`, the triggers of migration 0008 emit the event.
//!
//! Each tick spawns one insert, with at most `writers` in flight (the pool's size), so one
//! slow commit does not stall the pace; a tick that finds every writer busy waits, and the
//! interval bursts to catch up afterwards, so the achieved rate shows a writer that could not
//! keep up. The `Instant` taken right after `COMMIT` returns is what delivery latency is
//! measured from.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_db::{sqlx, Db, TenantCtx};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

/// One committed message.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub id: Uuid,
    /// Index into the plan's written-to conversations.
    pub target: usize,
    /// Right after `COMMIT` returned.
    pub committed: Instant,
    /// `BEGIN` … `COMMIT`, as the writer saw it.
    pub took: Duration,
}

/// What the writer did.
#[derive(Debug)]
pub struct Outcome {
    pub written: Vec<Written>,
    pub failed: u64,
    pub first_error: Option<String>,
    /// From the first tick until the last commit returned.
    pub elapsed: Duration,
}

impl Outcome {
    /// Committed messages per second.
    pub fn rate(&self) -> f64 {
        self.written.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Writes `count` messages at `rate` per second; message `i` goes to
/// `targets[i % targets.len()]` (tenant, conversation).
pub async fn run(
    db: &Db,
    targets: &[(Uuid, Uuid)],
    rate: u32,
    count: u64,
    writers: u32,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!targets.is_empty(), "nothing to write to");
    let permits = Arc::new(Semaphore::new(usize::try_from(writers)?));
    let (tx, mut rx) = mpsc::unbounded_channel::<Result<Written, String>>();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let started = tick.tick().await.into_std();
    for i in 0..count {
        if i > 0 {
            tick.tick().await;
        }
        let permit = permits.clone().acquire_owned().await?;
        let target = usize::try_from(i)? % targets.len();
        let (tenant_id, conversation) = targets[target];
        let (db, tx) = (db.clone(), tx.clone());
        tokio::spawn(async move {
            let t0 = Instant::now();
            let result = insert(&db, tenant_id, conversation, i).await;
            let committed = Instant::now();
            drop(permit);
            let _ = tx.send(result.map(|id| Written {
                id,
                target,
                committed,
                took: committed - t0,
            }));
        });
    }
    drop(tx);
    let mut out = Outcome {
        written: Vec::with_capacity(usize::try_from(count)?),
        failed: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    while let Some(result) = rx.recv().await {
        match result {
            Ok(w) => out.written.push(w),
            Err(e) => {
                out.failed += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out.elapsed = out
        .written
        .iter()
        .map(|w| w.committed)
        .max()
        .map_or(Duration::ZERO, |last| last - started);
    Ok(out)
}

async fn insert(db: &Db, tenant_id: Uuid, conversation: Uuid, i: u64) -> Result<Uuid, String> {
    let run = async {
        let mut tx = db
            .begin_tenant(TenantCtx {
                tenant_id,
                user_id: None,
            })
            .await?;
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO app.messages (conversation_id, content, direction, sender)
             VALUES ($1, $2, 'inbound', 'customer') RETURNING id",
        )
        .bind(conversation)
        .bind(format!("bench message {i}"))
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok::<_, frontdesk_db::DbError>(id)
    };
    run.await.map_err(|e| e.to_string())
}
