//! The printed result: one table row per workload, the result shapes, the ratio, the errors.

use std::fmt;
use std::time::Duration;

use frontdesk_db::seed::SeedReport;
use uuid::Uuid;

use crate::load::Outcome;

/// The target of `graphql nested / raw SQL floor` throughput.
pub const TARGET_RATIO: f64 = 1.0;
/// The target of `graphql single / raw SQL single` throughput.
pub const TARGET_SINGLE_RATIO: f64 = 0.6;

/// One measured workload.
#[derive(Debug)]
pub struct Row {
    pub name: &'static str,
    pub outcome: Outcome,
    /// Statements the runtime role completed during the measured run, or why unknown.
    pub statements: Result<i64, String>,
    /// The server's peak RSS during the run (none for the floor, which has no server).
    pub peak_rss_kib: Option<u64>,
    /// Whether the peak covers only this run (else the server's whole life so far).
    pub rss_window: bool,
}

impl Row {
    /// Adds another turn of the same workload: requests, errors and latencies sum, the peak
    /// RSS is the larger.
    pub fn absorb(&mut self, turn: Row) -> anyhow::Result<()> {
        let o = &mut self.outcome;
        o.requests += turn.outcome.requests;
        o.errors += turn.outcome.errors;
        if o.first_error.is_none() {
            o.first_error = turn.outcome.first_error;
        }
        o.elapsed += turn.outcome.elapsed;
        o.latency.add(&turn.outcome.latency)?;
        self.statements = match (&self.statements, turn.statements) {
            (Ok(a), Ok(b)) => Ok(a + b),
            (Err(e), _) => Err(e.clone()),
            (_, Err(e)) => Err(e),
        };
        self.peak_rss_kib = self.peak_rss_kib.max(turn.peak_rss_kib);
        self.rss_window &= turn.rss_window;
        Ok(())
    }
}

/// Node counts of a NESTED-shaped answer: customers, bookings, calls, SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape(pub [usize; 4]);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c, b, k, s] = self.0;
        write!(f, "{c}/{b}/{k}/{s}")
    }
}

/// Everything a run prints.
#[derive(Debug)]
pub struct Report {
    /// `name on host:port`.
    pub database: String,
    pub tenant: Uuid,
    pub customers: usize,
    pub tenants: u32,
    pub seeded: SeedReport,
    pub concurrency: u32,
    pub duration: Duration,
    pub warmup: Duration,
    /// Rounds the workloads took turns in.
    pub rounds: u32,
    pub pool: u32,
    pub cores: usize,
    /// NESTED, SINGLE, the nested floors, the single-row floors, the resolvers' legs — in that
    /// order.
    pub rows: Vec<Row>,
    /// The answer's shape per source, or why there is none.
    pub shapes: Vec<(&'static str, Result<Shape, String>)>,
}

impl Report {
    /// NESTED's successful requests/s over the floor's.
    pub fn ratio(&self) -> Option<f64> {
        self.ratio_of("graphql NESTED", "raw SQL floor")
    }

    /// SINGLE's successful requests/s over the single-row floor's.
    pub fn single_ratio(&self) -> Option<f64> {
        self.ratio_of("graphql SINGLE", "raw SQL single")
    }

    fn ratio_of(&self, api: &str, floor: &str) -> Option<f64> {
        let rate = |name: &str| {
            self.rows
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.outcome.ok_per_sec())
        };
        let floor = rate(floor)?;
        (floor > 0.0).then(|| rate(api).unwrap_or(0.0) / floor)
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f)?;
        writeln!(
            f,
            "data:   tenant {} with {} customers (× 3 bookings × 2 calls × 2 SMS), {} tenant(s); {}",
            self.tenant, self.customers, self.tenants, self.seeded
        )?;
        writeln!(
            f,
            "load:   concurrency {}, {} s measured per workload in {} rounds of turns, after {} s \
             warm-up; runtime pool {} connections (server and floor)",
            self.concurrency,
            self.duration.as_secs(),
            self.rounds,
            self.warmup.as_secs(),
            self.pool
        )?;
        writeln!(
            f,
            "host:   {} CPU cores shared by this client, the server and PostgreSQL; database {}",
            self.cores, self.database
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<16} {:>9} {:>10} {:>9} {:>9} {:>8} {:>8} {:>12}",
            "workload", "requests", "ok req/s", "p50 ms", "p99 ms", "errors", "SQL/req", "peak RSS"
        )?;
        for row in &self.rows {
            let o = &row.outcome;
            let per_request = match &row.statements {
                Ok(n) if o.requests > 0 => format!("{:.2}", *n as f64 / o.requests as f64),
                _ => "-".into(),
            };
            writeln!(
                f,
                "{:<16} {:>9} {:>10.1} {:>9} {:>9} {:>8} {:>8} {:>12}",
                row.name,
                o.requests,
                o.ok_per_sec(),
                ms(o.latency_ms(0.50)),
                ms(o.latency_ms(0.99)),
                o.errors,
                per_request,
                mib(row.peak_rss_kib)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "SQL/req: statements of the runtime role from pg_stat_statements during the measured \
             run (BEGIN, the tenant set_config and COMMIT included), per request; a fraction \
             means the count varies between requests"
        )?;
        let windowed = self
            .rows
            .iter()
            .all(|r| r.peak_rss_kib.is_none() || r.rss_window);
        writeln!(
            f,
            "peak RSS: the server's VmHWM {}",
            if windowed {
                "during each measured run (reset before it; memory the allocator kept from \
                 earlier runs counts)"
            } else {
                "since it started (this kernel cannot reset it)"
            }
        )?;
        let shapes: Vec<String> = self
            .shapes
            .iter()
            .map(|(name, shape)| match shape {
                Ok(s) => format!("{name} {s}"),
                Err(_) => format!("{name} unavailable"),
            })
            .collect();
        writeln!(
            f,
            "result shape (customers/bookings/calls/SMS): {}",
            shapes.join(", ")
        )?;
        for row in &self.rows {
            if let Err(e) = &row.statements {
                writeln!(f, "statement count of {}: {e}", row.name)?;
            }
        }
        writeln!(f)?;
        match self.ratio() {
            Some(r) => writeln!(
                f,
                "ratio (graphql nested / raw SQL) = {r:.2}   (target ≥ {TARGET_RATIO:.2}: {})",
                if r >= TARGET_RATIO { "met" } else { "NOT met" }
            )?,
            None => writeln!(
                f,
                "ratio (graphql nested / raw SQL) = -   (the floor completed no request)"
            )?,
        }
        if let Some(r) = self.ratio_of("graphql NESTED", "raw SQL floor*") {
            writeln!(
                f,
                "ratio (graphql nested / raw SQL floor*) = {r:.2}   (floor*: the floor with Relay \
                 global ids, the document NESTED answers)"
            )?;
        }
        if let Some(r) = self.ratio_of("graphql NESTED", "resolvers NESTED") {
            writeln!(
                f,
                "compiled / resolvers: nested {r:.2}×, single {:.2}×",
                self.ratio_of("graphql SINGLE", "resolvers SINGLE")
                    .unwrap_or(0.0)
            )?;
        }
        match self.single_ratio() {
            Some(r) => writeln!(
                f,
                "ratio (graphql single / raw SQL single) = {r:.2}   (target ≥ \
                 {TARGET_SINGLE_RATIO:.2}: {})",
                if r >= TARGET_SINGLE_RATIO {
                    "met"
                } else {
                    "NOT met"
                }
            )?,
            None => writeln!(
                f,
                "ratio (graphql single / raw SQL single) = -   (the floor completed no request)"
            )?,
        }
        if let Some(r) = self.ratio_of("graphql SINGLE", "raw SQL single²") {
            writeln!(
                f,
                "ratio (graphql single / raw SQL single²) = {r:.2}   (single²: the floor in the \
                 two round trips a compiled read takes)"
            )?;
        }
        let errors: Vec<_> = self
            .rows
            .iter()
            .filter_map(|r| r.outcome.first_error.as_ref().map(|e| (r.name, e)))
            .collect();
        if !errors.is_empty() {
            writeln!(f)?;
            writeln!(f, "first error of each failing workload:")?;
            for (name, error) in errors {
                writeln!(f, "  {name}: {error}")?;
            }
        }
        Ok(())
    }
}
