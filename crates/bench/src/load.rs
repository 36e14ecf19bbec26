//! The load driver: `concurrency` workers each run one operation after another until the
//! deadline; latencies of successful operations go into an HDR histogram.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// What one timed run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Operations completed (successful or not).
    pub requests: u64,
    /// Operations that failed.
    pub errors: u64,
    /// The first failure's description.
    pub first_error: Option<String>,
    /// From start until the last worker finished.
    pub elapsed: Duration,
    /// Latency of successful operations, in microseconds.
    pub latency: Histogram<u64>,
}

impl Outcome {
    /// Successful operations per second.
    pub fn ok_per_sec(&self) -> f64 {
        (self.requests - self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Latency at `quantile` in milliseconds, when anything succeeded.
    pub fn latency_ms(&self, quantile: f64) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(quantile) as f64 / 1e3)
    }
}

/// Runs `op` from `concurrency` workers for `duration`. `op(i)` gets a run-wide sequence
/// number; it returns `Err(description)` for a failed operation. An operation started before
/// the deadline is waited for.
pub async fn drive<F, Fut>(concurrency: u32, duration: Duration, op: F) -> anyhow::Result<Outcome>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..u64::from(concurrency) {
        let op = Arc::clone(&op);
        let stride = u64::from(concurrency);
        workers.spawn(async move {
            let mut outcome = Outcome {
                requests: 0,
                errors: 0,
                first_error: None,
                elapsed: Duration::ZERO,
                latency: histogram()?,
            };
            let mut seq = worker;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let result = op(seq).await;
                let micros = t0.elapsed().as_micros().try_into().unwrap_or(u64::MAX);
                outcome.requests += 1;
                seq += stride;
                match result {
                    Ok(()) => outcome.latency.saturating_record(micros),
                    Err(e) => {
                        outcome.errors += 1;
                        outcome.first_error.get_or_insert(e);
                    }
                }
            }
            anyhow::Ok(outcome)
        });
    }
    let mut total = Outcome {
        requests: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
        latency: histogram()?,
    };
    while let Some(joined) = workers.join_next().await {
        let part = joined??;
        total.requests += part.requests;
        total.errors += part.errors;
        if total.first_error.is_none() {
            total.first_error = part.first_error;
        }
        total.latency.add(&part.latency)?;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// 1 µs to 60 s at three significant digits.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}
