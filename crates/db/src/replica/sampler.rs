//! What the primary and each standby last said about their WAL positions, sampled every
//! [`SAMPLE_EVERY`] on one dedicated connection per server (never a pooled one, so a
//! saturated pool cannot starve the samples, and the samples cannot take a request's slot).
//!
//! - The **primary** is asked for its WAL write position; the samples of the last moments
//!   are kept, so that "the position the primary had `max_lag` ago" — the **floor** — is a
//!   look-up. A standby is within the lag bound when it has replayed the floor. Comparing
//!   positions rather than `pg_last_xact_replay_timestamp()` keeps an idle primary (no
//!   commits for minutes) from making every standby look late, and a standby cut off from
//!   the primary (nothing received, nothing to replay) from looking current. While the
//!   primary's newest sample is older than [`STALE_AFTER`] there is no floor, and no standby
//!   serves: its lag is unknown.
//! - Each **standby** is asked whether it is in recovery and how far it has replayed. A
//!   sample older than [`STALE_AFTER`], a failed sample, or a server that is not (or no
//!   longer) a standby makes it ineligible until a good sample arrives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{ConnectOptions, Connection, FromRow, PgConnection};

use super::lsn::as_int8;
use super::{Lsn, Replicas};
use crate::DbError;

/// How often every server is sampled.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// How long one sample (connecting included) may take.
const SAMPLE_TIMEOUT: Duration = Duration::from_millis(500);
/// A standby's sample older than this says nothing any more.
pub(super) const STALE_AFTER: Duration = Duration::from_millis(500);
/// How many primary samples pass between two prunings of the recent writes.
const PRUNE_EVERY: u32 = 10;

/// The primary's recent WAL positions, oldest first.
#[derive(Debug, Default)]
pub(super) struct PrimaryHistory {
    samples: Mutex<VecDeque<(Instant, Lsn)>>,
}

impl PrimaryHistory {
    fn push(&self, at: Instant, lsn: Lsn, max_lag: Duration) {
        let mut s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        s.push_back((at, lsn));
        // Keep one sample at least `max_lag` old: the floor's answer.
        let horizon = at.checked_sub(max_lag);
        while s.len() > 1 && horizon.is_some_and(|h| s[1].0 <= h) {
            s.pop_front();
        }
    }

    /// The position the primary had `max_lag` before `now` (the oldest sample while none is
    /// that old yet, which is stricter); `None` before the first sample, and while the newest
    /// is older than [`STALE_AFTER`]: without knowing where the primary is, no standby's lag
    /// is known to be within the bound.
    pub(super) fn floor(&self, now: Instant, max_lag: Duration) -> Option<Lsn> {
        let s = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let newest = s.back()?.0;
        if now.saturating_duration_since(newest) > STALE_AFTER {
            return None;
        }
        let horizon = now.checked_sub(max_lag);
        s.iter()
            .rev()
            .find(|(at, _)| horizon.is_some_and(|h| *at <= h))
            .or_else(|| s.front())
            .map(|(_, lsn)| *lsn)
    }
}

/// A standby's last good sample: when it was taken and what had been replayed.
#[derive(Debug, Default)]
pub(super) struct StandbySample(Mutex<Option<(Instant, Lsn)>>);

impl StandbySample {
    fn set(&self, sample: Option<(Instant, Lsn)>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = sample;
    }

    /// The replayed position, when the sample is recent enough to act on.
    pub(super) fn replayed(&self, now: Instant) -> Option<Lsn> {
        let s = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.filter(|(at, _)| now.saturating_duration_since(*at) <= STALE_AFTER)
            .map(|(_, lsn)| lsn)
    }
}

/// One sampling connection, opened on first use and again after any failure.
struct Probe {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
}

impl Probe {
    fn new(options: PgConnectOptions) -> Self {
        Self {
            options: options.disable_statement_logging(),
            conn: None,
        }
    }

    async fn fetch<T>(&mut self, sql: &str) -> Result<T, DbError>
    where
        T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
    {
        let attempt = async {
            if self.conn.is_none() {
                let conn = PgConnection::connect_with(&self.options)
                    .await
                    .map_err(DbError::from_connect)?;
                self.conn = Some(conn);
            }
            let conn = self.conn.as_mut().ok_or(DbError::Unavailable)?;
            Ok::<T, DbError>(sqlx::query_as::<_, T>(sql).fetch_one(conn).await?)
        };
        let result = tokio::time::timeout(SAMPLE_TIMEOUT, attempt)
            .await
            .unwrap_or(Err(DbError::Unavailable));
        if result.is_err() {
            // A connection that failed or hung is not trusted again.
            self.conn = None;
        }
        result
    }
}

/// Starts the sampling tasks; each ends when the last handle to `replicas` is dropped.
pub(super) fn start(replicas: &Arc<Replicas>, primary: PgConnectOptions) {
    let weak = Arc::downgrade(replicas);
    // Named apart from the reads, so that `pg_stat_activity` shows which is which.
    let name = "frontdesk-sampler";
    tokio::spawn(sample_primary(
        weak,
        Probe::new(primary.application_name(name)),
    ));
    for i in 0..replicas.standbys.len() {
        let weak = Arc::downgrade(replicas);
        let probe = Probe::new(replicas.standbys[i].options.clone().application_name(name));
        tokio::spawn(sample_standby(weak, i, probe));
    }
}

async fn sample_primary(replicas: Weak<Replicas>, mut probe: Probe) {
    let sql = format!("SELECT {}", as_int8("pg_current_wal_lsn()"));
    let mut ticks = 0u32;
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        // Taken before asking: every commit acknowledged before this instant is at or below
        // the answer.
        let at = Instant::now();
        if let Ok((lsn,)) = probe.fetch::<(i64,)>(&sql).await {
            replicas
                .history
                .push(at, Lsn::from_i64(lsn), replicas.max_lag);
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(PRUNE_EVERY) {
            let floor = replicas.history.floor(Instant::now(), replicas.max_lag);
            replicas.writes.forget_below(floor);
        }
    }
}

async fn sample_standby(replicas: Weak<Replicas>, index: usize, mut probe: Probe) {
    let sql = format!(
        "SELECT pg_is_in_recovery(), {}",
        as_int8("pg_last_wal_replay_lsn()")
    );
    // Whether the last sample was good, so a change is logged once rather than every tick.
    let mut was_usable = true;
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        let standby = &replicas.standbys[index];
        let at = Instant::now();
        let sample = match probe.fetch::<(bool, Option<i64>)>(&sql).await {
            Ok((true, Some(lsn))) => Ok(Lsn::from_i64(lsn)),
            Ok(_) => Err("it is not a standby (not in recovery): it is never read from".to_owned()),
            Err(e) => {
                standby.health.observe(&e);
                Err(format!("it does not answer ({e}): reads go to the primary"))
            }
        };
        match sample {
            Ok(lsn) => {
                standby.sample.set(Some((at, lsn)));
                if !was_usable {
                    tracing::info!(standby = %standby.label, "read replica usable again");
                }
                was_usable = true;
            }
            Err(why) => {
                standby.sample.set(None);
                if was_usable {
                    tracing::warn!(standby = %standby.label, "read replica unusable: {why}");
                }
                was_usable = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_what_the_primary_had_the_lag_bound_ago() {
        let h = PrimaryHistory::default();
        let lag = Duration::from_secs(1);
        let t0 = Instant::now();
        assert_eq!(h.floor(t0, lag), None);
        h.push(t0, Lsn(10), lag);
        // Nothing a second old yet: the oldest sample is the (stricter) answer.
        assert_eq!(h.floor(t0 + Duration::from_millis(200), lag), Some(Lsn(10)));
        h.push(t0 + Duration::from_millis(500), Lsn(20), lag);
        h.push(t0 + Duration::from_millis(1500), Lsn(30), lag);
        assert_eq!(
            h.floor(t0 + Duration::from_millis(1600), lag),
            Some(Lsn(20))
        );
        h.push(t0 + Duration::from_millis(2600), Lsn(40), lag);
        assert_eq!(
            h.floor(t0 + Duration::from_millis(2600), lag),
            Some(Lsn(30))
        );
        // The primary has not answered for a while: nothing is known to be within the bound.
        assert_eq!(h.floor(t0 + Duration::from_millis(3200), lag), None);
    }

    #[test]
    fn a_stale_standby_sample_says_nothing() {
        let s = StandbySample::default();
        let t0 = Instant::now();
        s.set(Some((t0, Lsn(5))));
        assert_eq!(s.replayed(t0 + Duration::from_millis(100)), Some(Lsn(5)));
        assert_eq!(s.replayed(t0 + STALE_AFTER * 2), None);
    }
}
