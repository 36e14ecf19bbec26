//! Knowing within a fraction of a second that PostgreSQL is unreachable.
//!
//! sqlx's pool treats a refused connection as "the server is starting" and retries it until
//! the acquire timeout, so with the database down every request used to wait that long (5 s)
//! and then fail. This module is a circuit breaker in front of the pool:
//!
//! - while the breaker is **closed** (database up) a transaction start that has not got a
//!   connection after [`PROBE_AFTER`] is answered by a direct probe: a fresh connection with a
//!   [`PROBE_TIMEOUT`]. If the probe connects, the pool is merely busy and the start keeps
//!   waiting (probing again every [`PROBE_AFTER`]); if it cannot, the breaker opens and the
//!   start fails with [`DbError::Unavailable`]. One probe runs at a time and a success younger
//!   than [`PROBE_FRESH`] answers for the waiters after it, so a saturated pool is not flooded
//!   with probe connections. Worst case while the server refuses connections: a fresh success
//!   (200 ms) plus one wait (150 ms) plus a refused probe (milliseconds), well under a second.
//! - while the breaker is **open** every transaction start fails at once, and one background
//!   task probes every [`RECOVERY_INTERVAL`]; its first successful connection closes the
//!   breaker. Recovery therefore needs no request and no restart.
//!
//! A connection-level error seen by a transaction start (refused, reset, the server shutting
//! down) opens the breaker directly. Nothing here decides whether a *write* happened: a
//! request that fails with [`DbError::Unavailable`] never reached `COMMIT`, and one whose
//! `COMMIT` failed reports an error, so every acknowledged write was committed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::DbError;

/// How long a transaction start waits on the pool before the database is probed directly.
pub(crate) const PROBE_AFTER: Duration = Duration::from_millis(150);
/// How long a probe may take to connect before the database counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_millis(400);
/// How often the database is probed while the breaker is open.
const RECOVERY_INTERVAL: Duration = Duration::from_millis(200);
/// A successful probe this recent answers for later waiters.
const PROBE_FRESH: Duration = Duration::from_millis(200);

/// The seconds a client is told to wait before retrying while the database is unreachable
/// (HTTP `Retry-After`): recovery is noticed within [`RECOVERY_INTERVAL`], so a second is
/// enough and keeps retries from piling up.
pub const RETRY_AFTER_SECS: u32 = 1;

/// The breaker's state, shared by every clone of a [`crate::Db`].
#[derive(Debug)]
pub(crate) struct Health {
    up: AtomicBool,
    recovering: AtomicBool,
    last_ok: Mutex<Option<Instant>>,
    probing: tokio::sync::Mutex<()>,
    options: PgConnectOptions,
}

impl Health {
    /// A closed breaker that probes with the runtime role's `options`.
    pub(crate) fn new(options: PgConnectOptions) -> Arc<Self> {
        Arc::new(Self {
            up: AtomicBool::new(true),
            recovering: AtomicBool::new(false),
            last_ok: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
            // Probes are not worth a log line each.
            options: options.disable_statement_logging(),
        })
    }

    /// False while the database is known to be unreachable.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Whether the database answers a fresh connection (or answered one very recently).
    /// Opens the breaker when it does not.
    pub(crate) async fn probe(self: &Arc<Self>) -> bool {
        let _one_at_a_time = self.probing.lock().await;
        if !self.is_up() {
            return false;
        }
        if self.fresh() {
            return true;
        }
        match self.connect().await {
            Err(e) if e.is_unreachable() => {
                self.mark_down(&e);
                false
            }
            // It answered: any other refusal (a password, a full server) is the pool's to report.
            _ => true,
        }
    }

    /// Opens the breaker if `e` says the server is unreachable (not merely busy), starting the
    /// recovery task.
    pub(crate) fn observe(self: &Arc<Self>, e: &DbError) {
        if e.is_unreachable() {
            self.mark_down(e);
        }
    }

    fn mark_down(self: &Arc<Self>, e: &DbError) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(error = %e, "database unreachable: failing fast until it answers again");
        }
        if self.recovering.swap(true, Ordering::AcqRel) {
            return;
        }
        let health = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RECOVERY_INTERVAL).await;
                let Some(health) = health.upgrade() else {
                    return;
                };
                if !health.connect().await.is_err_and(|e| e.is_unreachable()) {
                    health.recovering.store(false, Ordering::Release);
                    health.up.store(true, Ordering::Release);
                    tracing::info!("database reachable again");
                    return;
                }
            }
        });
    }

    fn fresh(&self) -> bool {
        let last = *self.last_ok.lock().unwrap_or_else(|p| p.into_inner());
        last.is_some_and(|t| t.elapsed() < PROBE_FRESH)
    }

    /// One connection, closed again at once.
    async fn connect(&self) -> Result<(), DbError> {
        let conn = tokio::time::timeout(PROBE_TIMEOUT, self.options.connect())
            .await
            .map_err(|_| DbError::Unavailable)?
            .map_err(DbError::from_connect)?;
        let _ = conn.close().await;
        *self.last_ok.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(())
    }
}
