//! `/metrics` in the Prometheus text format, and the middleware that feeds it.
//!
//! The recorder is process-global (the `metrics` facade allows one), installed on first use;
//! every router built in the process shares it, which is what a scrape of one replica wants.
//!
//! A histogram's samples wait in the recorder until something drains them into its summary: a
//! scrape does, and so does the recorder's upkeep, which a recorder built by hand must run
//! itself. Without it a server nobody scrapes keeps every sample of every request (three per
//! GraphQL request) for as long as it runs, so a thread started with the recorder runs the
//! upkeep every [`UPKEEP_EVERY`].

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often the recorder's upkeep drains histogram samples (the exporter's own default).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's metrics handle, installing the recorder on first call.
pub(crate) fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Only fails when another recorder is already global; then we still render ours.
            let _ = metrics::set_global_recorder(recorder);
            // A thread, not a task: the recorder outlives any one runtime (tests build many).
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                });
            if let Err(e) = started {
                tracing::warn!(error = %e, "no metrics upkeep thread: histogram samples are drained only by scrapes");
            }
            handle
        })
        .clone()
}

/// Renders every metric, sampling the pool gauges at scrape time.
pub(crate) async fn metrics(State(state): State<AppState>) -> String {
    let (size, idle) = state.db.pool_stats();
    metrics::gauge!("frontdesk_db_pool_connections").set(f64::from(size));
    metrics::gauge!("frontdesk_db_pool_idle_connections").set(idle as f64);
    if let Some(reads) = state.db.read_routing() {
        // Where queries read, with read replicas configured: a rising `primary` means the
        // standbys are late, down, or still replaying their callers' writes.
        metrics::counter!("frontdesk_db_reads_total", "server" => "standby")
            .absolute(reads.standby);
        metrics::counter!("frontdesk_db_reads_total", "server" => "primary")
            .absolute(reads.primary);
    }
    state.metrics.render()
}

/// Counts requests and their latency by route template (not raw path: bounded label values).
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("frontdesk_http_requests_total", &labels).increment(1);
    metrics::histogram!("frontdesk_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
