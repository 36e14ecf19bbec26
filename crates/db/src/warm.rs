//! Warm connections for compiled reads: a connection a read is done with is kept here for the
//! next read instead of going back to the pool.
//!
//! # Why
//! A compiled read (`crate::query::json::read`) is one statement in a transaction of its own:
//! `BEGIN` with the tenant as one message, the statement, and the end of the transaction. sqlx
//! sends the dropped transaction's `ROLLBACK` only when the connection is next used, and its
//! pool uses every connection it takes back once more, for a ping (`Sync`, a round trip and a
//! spawned task), so a read cost three round trips. Here the read's `ROLLBACK` is written to the
//! socket as soon as the read is done, without waiting for its answer (which the next read's
//! `BEGIN` collects with its own), and the connection is kept for the next read: two round
//! trips, no ping. The transaction still ends when the read does, so no connection sits idle in
//! a transaction or holds its locks, and the tenant's transaction-local settings die with it.
//!
//! # Sharing the pool
//! Warm connections are the pool's own, checked out: the pool's size stays the one bound on
//! connections. So that other work never waits behind them:
//! - at most three quarters of the pool is warm or reading at once (a read waits for a turn
//!   here, in arrival order, for at most the pool's acquire timeout);
//! - a connection goes back to the pool instead of staying warm while the pool has no idle
//!   connection and cannot open one (someone may be waiting for it);
//! - a connection warm for [`KEEP`] goes back to the pool, so an idle server keeps none, and a
//!   warm connection was in use within the time the pool trusts a connection without pinging it.
//!
//! A read that fails, or is cancelled, leaves its connection to the pool as before: the pool
//! pings it, rolls it back, and drops it if it is broken.

use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Connection as _, PgPool, Postgres};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::scope::{fused_begin, transaction_span};
use crate::{Db, DbError, TenantCtx};

/// How long a connection stays warm unused; the pool's own trust window
/// (`IDLE_CHECK_AFTER` in `crate::pool`).
const KEEP: Duration = Duration::from_secs(1);

/// The warm connections of one pool, and the turns of the reads that use them.
#[derive(Debug)]
pub(crate) struct Warm {
    turns: Semaphore,
    /// Oldest first; a read takes the newest.
    idle: Mutex<Vec<(PoolConnection<Postgres>, Instant)>>,
}

impl Warm {
    /// Warm connections for a pool of `max_connections`, and the task that returns those unused
    /// for [`KEEP`] (it ends with the last handle).
    pub(crate) fn start(max_connections: u32) -> Arc<Self> {
        let turns = (max_connections - max_connections / 4).max(1) as usize;
        let warm = Arc::new(Self {
            turns: Semaphore::new(turns),
            idle: Mutex::new(Vec::with_capacity(turns)),
        });
        tokio::spawn(return_unused(Arc::downgrade(&warm)));
        warm
    }

    /// Runs `query` for `ctx` in a read's transaction on a warm connection (one of the pool's
    /// when none is warm), and returns its rows.
    pub(crate) async fn read(
        &self,
        db: &Db,
        ctx: TenantCtx,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<Vec<PgRow>, DbError> {
        let wait = db.pool.options().get_acquire_timeout();
        let _turn = tokio::time::timeout(wait, self.turns.acquire())
            .await
            .map_err(|_| DbError::Sqlx(sqlx::Error::PoolTimedOut))?
            .map_err(|_| DbError::Sqlx(sqlx::Error::PoolClosed))?;
        // The newest warm connection, unless even it sat out the trust window (between two
        // rounds of `return_unused`): then the pool, which pings one that sat idle, decides.
        let popped = self
            .lock()
            .pop()
            .filter(|(_, since)| since.elapsed() < KEEP);
        let mut conn = match popped {
            Some((conn, _)) => conn,
            None => db.acquire_pooled().await?,
        };
        let rows = async {
            let begin = fused_begin(ctx.tenant_id, ctx.user_id);
            let mut tx = conn.begin_with(begin).await?;
            let rows = query.fetch_all(&mut *tx).await?;
            // Queues the ROLLBACK, sent below.
            drop(tx);
            Ok::<_, sqlx::Error>(rows)
        }
        .instrument(transaction_span("tenant", Some(ctx.tenant_id)))
        .await
        .map_err(|e| db.observed(e))?;
        self.keep(&db.pool, conn);
        Ok(rows)
    }

    /// Sends `conn`'s queued ROLLBACK and keeps it warm, or gives it back to `pool` when
    /// someone may be waiting there.
    fn keep(&self, pool: &PgPool, mut conn: PoolConnection<Postgres>) {
        // One poll of the flush writes what is queued and stops at waiting for the answer;
        // the reader is cancel-safe (sqlx keeps partial messages buffered) and the connection
        // counts the answer as still due, so its next use reads it first.
        let mut flush = conn.flush();
        let _ = flush.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        drop(flush);
        let full = pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections();
        if !full && !pool.is_closed() {
            self.lock().push((conn, Instant::now()));
        }
    }

    /// Gives every warm connection back to the pool (before it closes, which waits for them).
    pub(crate) fn release_all(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(PoolConnection<Postgres>, Instant)>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every `KEEP / 2`, gives the connections warm for [`KEEP`] back to the pool.
async fn return_unused(warm: Weak<Warm>) {
    loop {
        tokio::time::sleep(KEEP / 2).await;
        let Some(warm) = warm.upgrade() else { return };
        let unused: Vec<_> = {
            let mut idle = warm.lock();
            let n = idle.iter().take_while(|(_, t)| t.elapsed() >= KEEP).count();
            idle.drain(..n).collect()
        };
        // Dropped outside the lock: each goes back to the pool, which pings it.
        drop(unused);
    }
}
