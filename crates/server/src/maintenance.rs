//! The retention job's process side: one pass with its logs and metrics (`frontdesk
//! maintenance`, and tests), and the timer `frontdesk serve` runs it on.
//!
//! What a pass does, and how replicas agree that only one of them does it, is
//! `frontdesk_db::maintenance`. Here every pass is logged (`tracing`, one line with the counts)
//! and counted on `/metrics`:
//!
//! - `frontdesk_maintenance_runs_total{outcome="completed"|"skipped"|"failed"}`: passes, and
//!   whether this process did the work, found another doing it, or failed;
//! - `frontdesk_maintenance_rows_total{action=…}`: rows changed, by action
//!   (`conversations_deleted`, `conversations_archived`, `invitations_purged`,
//!   `pending_members_removed`, `sessions_purged`, `verification_tokens_purged`);
//! - `frontdesk_maintenance_last_success_timestamp_seconds`: when a pass last completed here.

use std::time::Duration;

use frontdesk_db::maintenance::{self, Outcome, DEFAULT_RETENTION_DAYS};
use frontdesk_db::Db;
use tokio::task::JoinHandle;

/// Runs one pass and records it in the logs and metrics.
pub async fn run_once(db: &Db) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let outcome = match maintenance::run(db, DEFAULT_RETENTION_DAYS).await {
        Ok(o) => o,
        Err(e) => {
            metrics::counter!("frontdesk_maintenance_runs_total", "outcome" => "failed")
                .increment(1);
            return Err(anyhow::Error::new(e).context("the maintenance pass failed"));
        }
    };
    match outcome {
        Outcome::Ran(report) => {
            metrics::counter!("frontdesk_maintenance_runs_total", "outcome" => "completed")
                .increment(1);
            for (action, n) in report.counts() {
                metrics::counter!("frontdesk_maintenance_rows_total", "action" => action)
                    .increment(n);
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default();
            metrics::gauge!("frontdesk_maintenance_last_success_timestamp_seconds").set(now);
            tracing::info!(
                tenants = report.tenants,
                failed_tenants = report.failed_tenants,
                conversations_deleted = report.conversations_deleted,
                conversations_archived = report.conversations_archived,
                invitations_purged = report.invitations_purged,
                pending_members_removed = report.pending_members_removed,
                sessions_purged = report.sessions_purged,
                verification_tokens_purged = report.verification_tokens_purged,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "maintenance pass completed"
            );
        }
        Outcome::Skipped => {
            metrics::counter!("frontdesk_maintenance_runs_total", "outcome" => "skipped")
                .increment(1);
            tracing::info!("maintenance pass skipped: another process is running one");
        }
    }
    Ok(outcome)
}

/// Runs a pass now and then every `every`, until the task is aborted. A failed pass is logged
/// and the next one runs on time; a pass that overruns delays the next rather than stacking.
pub fn spawn_timer(db: Db, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = run_once(&db).await {
                tracing::warn!(error = format!("{e:#}"), "maintenance pass failed");
            }
        }
    })
}
