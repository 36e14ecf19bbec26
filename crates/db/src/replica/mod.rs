//! Read replicas: queries on streaming standbys, with read-your-writes.
//!
//! This module owns the choice of server for a read. With `FRONTDESK_READ_DATABASE_URL` set,
//! a GraphQL query opens its transaction through [`Db::begin_tenant_read`], which picks a
//! standby that is (1) answering, (2) within the lag bound, and (3) has replayed the caller's
//! own latest write; with none such it reads from the primary, silently (a fallback is never
//! an error). Mutations, the transactions of subscriptions and everything else open on the
//! primary as before.
//!
//! # Read-your-writes: the commit position, remembered and returned
//!
//! After a mutation commits, [`Db::note_write`] reads the primary's WAL insert position (which
//! is at or past the end of the commit record) and
//! - remembers it for the caller (tenant and user) in a bounded map, so that the caller's next
//!   reads on this server process go only to a standby that has replayed it
//!   ([`writes`]), and
//! - hands it to the client (`X-Frontdesk-Min-Lsn` and `extensions.minLsn`), which may send it
//!   back as `extensions.minLsn` of a later request. That is what carries read-your-writes
//!   across server processes behind a load balancer, and across a WebSocket, whose operations
//!   have no headers.
//!
//! Why this and not the alternatives:
//! - *Pinning the caller to the primary for a while* would need a pin as long as the worst
//!   lag to be safe and sends every read of an active writer (an agent working the inbox
//!   writes every few seconds) to the primary; comparing positions sends a read to the
//!   primary only while no standby has caught up, usually a few milliseconds.
//! - *Waiting on the standby* for the position (polling `pg_last_wal_replay_lsn()` in the
//!   read's first statement) costs every read a round trip and makes a lagging standby slow
//!   reads down; here the check is a comparison with a sample ([`sampler`]: every 100 ms, on
//!   a connection of its own), and a read that cannot be served at once is served by the
//!   primary at once.
//! - *A session token the client must carry* is awkward for GraphQL clients; here the token
//!   is optional, and a client that ignores it still reads its own writes on one process.
//!
//! The price: one extra round trip to the primary per committed mutation (only when
//! replicas are configured), and a writer's reads land on the primary until the next
//! sample shows a standby past its write.
//!
//! # Lag and failure
//!
//! A standby is within the lag bound when it has replayed what the primary had written
//! `max_lag` ago ([`sampler`]). Each standby has its own pool and its own circuit breaker
//! ([`crate::health`]); a standby that does not answer its sample, answers that it is not in
//! recovery, or fails to open a read transaction is skipped, and the read opens on the
//! primary. A standby that fails *during* a read (or cancels a query in a recovery conflict)
//! fails that request; the next ones avoid it.
//!
//! Other callers of the same tenant see a write within the lag bound, not at once: that is
//! the contract of a replica, and subscriptions (always on the primary) deliver changes live.

mod lsn;
mod sampler;
mod writes;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres};

pub use lsn::{Lsn, LsnParseError};

use crate::health::Health;
use crate::{Db, DbError, RequestMeta, TenantCtx, TenantTx};
use sampler::{PrimaryHistory, StandbySample};
use writes::RecentWrites;

/// The standbys of one [`Db`], and what is known about them.
#[derive(Debug)]
pub(crate) struct Replicas {
    standbys: Vec<Standby>,
    history: PrimaryHistory,
    writes: RecentWrites,
    max_lag: Duration,
    /// Round-robin among eligible standbys.
    next: AtomicUsize,
    on_standby: AtomicU64,
    on_primary: AtomicU64,
}

/// One standby.
#[derive(Debug)]
struct Standby {
    pool: PgPool,
    health: Arc<Health>,
    sample: StandbySample,
    options: PgConnectOptions,
    /// `host:port/database`, for logs (no credentials).
    label: String,
}

/// Where reads went since start-up (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadRouting {
    /// Read transactions opened on a standby.
    pub standby: u64,
    /// Read transactions opened on the primary: no standby was eligible, or one failed.
    pub primary: u64,
}

impl Replicas {
    /// Opens a lazy pool per standby (a standby that is down at start-up is simply not used
    /// until it answers) and starts the samplers.
    pub(crate) fn start(
        standbys: Vec<PgConnectOptions>,
        primary: PgConnectOptions,
        pool: &PgPoolOptions,
        max_lag: Duration,
    ) -> Arc<Self> {
        let standbys = standbys
            .into_iter()
            .map(|options| Standby {
                pool: pool.clone().connect_lazy_with(options.clone()),
                health: Health::new(options.clone()),
                sample: StandbySample::default(),
                label: format!(
                    "{}:{}/{}",
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or_default()
                ),
                options,
            })
            .collect();
        let this = Arc::new(Self {
            standbys,
            history: PrimaryHistory::default(),
            writes: RecentWrites::default(),
            max_lag,
            next: AtomicUsize::new(0),
            on_standby: AtomicU64::new(0),
            on_primary: AtomicU64::new(0),
        });
        sampler::start(&this, primary);
        this
    }

    /// A standby that may serve a read needing position `need`, if any.
    fn pick(&self, need: Lsn) -> Option<&Standby> {
        let now = Instant::now();
        let need = need.max(self.history.floor(now, self.max_lag)?);
        let n = self.standbys.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|i| &self.standbys[(start + i) % n]).find(|s| {
            s.health.is_up()
                && s.sample
                    .replayed(now)
                    .is_some_and(|replayed| replayed >= need)
        })
    }

    pub(crate) async fn close(&self) {
        for s in &self.standbys {
            s.pool.close().await;
        }
    }
}

impl Db {
    /// Begins a read-only transaction acting for `ctx` on a standby that has replayed both
    /// the caller's latest write (as this process remembers it) and `min_lsn` (as the client
    /// remembers it), and is within the lag bound; on the primary when none is, or when no
    /// standbys are configured. Only for work that does not write: a standby refuses writes,
    /// and on the primary the scope does not look for events to notify of when it commits.
    pub async fn begin_tenant_read(
        &self,
        ctx: TenantCtx,
        meta: &RequestMeta,
        min_lsn: Option<Lsn>,
    ) -> Result<TenantTx, DbError> {
        let mut tx = self.begin_tenant_reader(ctx, meta, min_lsn, false).await?;
        tx.notify_events = false;
        Ok(tx)
    }

    /// [`Db::begin_tenant_read`] in one round trip, with a read's scope only
    /// ([`Db::begin_tenant_fused`]).
    pub(crate) async fn begin_tenant_read_fused(
        &self,
        ctx: TenantCtx,
        min_lsn: Option<Lsn>,
    ) -> Result<TenantTx, DbError> {
        self.begin_tenant_reader(ctx, &RequestMeta::default(), min_lsn, true)
            .await
    }

    /// Runs a read's one statement, `query`, for `ctx` in a transaction of its own opened as
    /// [`Db::begin_tenant_read_fused`] opens one (on a standby when one has caught up, as
    /// [`Db::begin_tenant_read`] chooses), and returns its rows; the transaction is rolled
    /// back. Without standbys it runs on a warm connection of the primary (`crate::warm`:
    /// two round trips instead of three).
    pub async fn read_fused(
        &self,
        ctx: TenantCtx,
        min_lsn: Option<Lsn>,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<Vec<PgRow>, DbError> {
        if let (None, Some(warm)) = (self.replicas(), &self.warm) {
            return warm.read(self, ctx, query).await;
        }
        let mut tx = self.begin_tenant_read_fused(ctx, min_lsn).await?;
        Ok(query.fetch_all(tx.conn()).await?)
    }

    /// [`Db::begin_tenant_read`]'s choice of server; `fused` opens with
    /// [`Db::begin_tenant_fused`].
    async fn begin_tenant_reader(
        &self,
        ctx: TenantCtx,
        meta: &RequestMeta,
        min_lsn: Option<Lsn>,
        fused: bool,
    ) -> Result<TenantTx, DbError> {
        let begin = |db: Db| async move {
            if fused {
                db.begin_tenant_fused(ctx).await
            } else {
                db.begin_tenant_for(ctx, meta).await
            }
        };
        let Some(replicas) = self.replicas() else {
            return begin(self.clone()).await;
        };
        let need = replicas
            .writes
            .needed_by(&ctx)
            .max(min_lsn.unwrap_or_default());
        if let Some(standby) = replicas.pick(need) {
            let on_standby = self.on_pool(standby.pool.clone(), standby.health.clone());
            match begin(on_standby).await {
                Ok(tx) => {
                    replicas.on_standby.fetch_add(1, Ordering::Relaxed);
                    return Ok(tx);
                }
                Err(e) => tracing::info!(
                    standby = %standby.label, error = %e,
                    "a read replica could not open a read; reading from the primary"
                ),
            }
        }
        replicas.on_primary.fetch_add(1, Ordering::Relaxed);
        begin(self.clone()).await
    }

    /// Call after a write committed: the primary's WAL position, which a standby must have
    /// replayed to show the write, remembered for `writer`'s next reads. `None` when no
    /// standbys are configured (nothing to wait for) or the position could not be read (the
    /// write stands; the log says why).
    pub async fn note_write(&self, writer: Option<TenantCtx>) -> Option<Lsn> {
        let replicas = self.replicas()?;
        let sql = format!("SELECT {}", lsn::as_int8("pg_current_wal_insert_lsn()"));
        let lsn = match sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&self.pool)
            .await
        {
            Ok(v) => Lsn::from_i64(v),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the commit position of a write: the writer's next reads may miss it");
                return None;
            }
        };
        if let Some(ctx) = writer {
            let floor = replicas.history.floor(Instant::now(), replicas.max_lag);
            replicas.writes.record(&ctx, lsn, floor);
        }
        Some(lsn)
    }

    /// Where reads went since start-up; `None` without standbys.
    pub fn read_routing(&self) -> Option<ReadRouting> {
        self.replicas().map(|r| ReadRouting {
            standby: r.on_standby.load(Ordering::Relaxed),
            primary: r.on_primary.load(Ordering::Relaxed),
        })
    }
}
