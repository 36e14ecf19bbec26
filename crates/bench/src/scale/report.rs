//! The printed result of `scale`: throughput and latency per leg and process count, then
//! where the CPU went and what that says limits each leg.

use std::fmt::Write as _;

use frontdesk_db::seed::SeedReport;
use uuid::Uuid;

use crate::load::Outcome;
use crate::GraphArgs;

/// A leg whose machine had more idle CPU than this share waited rather than computed.
const IDLE_LIMIT: f64 = 0.15;

/// One measured leg at one process count.
#[derive(Debug)]
pub struct Leg {
    pub processes: u32,
    pub name: &'static str,
    pub outcome: Outcome,
    /// Statements of the runtime role during the measured run, when countable.
    pub statements: Option<i64>,
    pub cpu: Cpu,
}

/// CPU seconds charged (a reading, or the difference of two: a measured run's) and wall
/// seconds.
#[derive(Debug, Clone, Copy)]
pub struct Cpu {
    pub wall: f64,
    pub servers: f64,
    pub postgres: f64,
    pub client: f64,
    /// The whole machine's busy time (everything above, and anything else running).
    pub busy: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            wall: self.wall - earlier.wall,
            servers: self.servers - earlier.servers,
            postgres: self.postgres - earlier.postgres,
            client: self.client - earlier.client,
            busy: self.busy - earlier.busy,
        }
    }
}

/// A measured run's CPU as shares of the machine's capacity (all cores for its wall time).
#[derive(Debug, Clone, Copy)]
struct Shares {
    servers: f64,
    postgres: f64,
    client: f64,
    /// Busy, but none of the above: other work on the machine.
    other: f64,
    idle: f64,
}

impl Cpu {
    fn shares(&self, cores: usize) -> Shares {
        let capacity = (self.wall * cores as f64).max(1e-9);
        let other = (self.busy - self.servers - self.postgres - self.client).max(0.0);
        Shares {
            servers: self.servers / capacity,
            postgres: self.postgres / capacity,
            client: self.client / capacity,
            other: other / capacity,
            idle: (1.0 - self.busy / capacity).max(0.0),
        }
    }
}

impl Shares {
    /// CPU (and who used most of it) when the machine was saturated, else waiting.
    fn limit(&self) -> String {
        if self.idle > IDLE_LIMIT {
            return format!("waits, not CPU ({:.0}% idle)", 100.0 * self.idle);
        }
        let (who, _) = [
            ("PostgreSQL", self.postgres),
            ("the servers", self.servers),
            ("this client", self.client),
            ("other processes", self.other),
        ]
        .into_iter()
        .fold(("", f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
        format!("CPU, most of it {who}")
    }
}

/// What the report says about the run besides the legs.
pub struct Setting {
    pub database: String,
    pub tenant: Uuid,
    pub seeded: SeedReport,
    pub conversations: usize,
    pub postmaster: Option<u32>,
    pub loadavg: (String, String),
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

/// The tables and their legend.
pub fn report(load: &GraphArgs, setting: &Setting, legs: &[Leg]) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut f = String::new();
    let _ = writeln!(
        f,
        "\ndata:   tenant {} with {} customers (× 3 bookings × 2 calls × 2 SMS), {} tenant(s); {}",
        setting.tenant, load.customers, load.tenants, setting.seeded
    );
    let _ = writeln!(
        f,
        "load:   concurrency {} (worker w → server w mod N), {} s measured after {} s warm-up per \
         leg; pool {} connections per server process; writes round-robin over {} open \
         conversations",
        load.concurrency,
        load.duration_secs,
        load.warmup_secs,
        load.db_max_connections,
        setting.conversations
    );
    let _ = writeln!(
        f,
        "host:   {cores} CPU cores shared by this client, the servers and PostgreSQL; load \
         average {} before the legs, {} after; database {}",
        setting.loadavg.0, setting.loadavg.1, setting.database
    );
    let _ = writeln!(
        f,
        "        PostgreSQL CPU = {}\n",
        setting.postmaster.map_or_else(
            || "every process named postgres on this machine".into(),
            |pid| format!(
                "the cluster of postmaster pid {pid}: its shared processes and this database's \
                 backends (other databases' backends excluded)"
            ),
        )
    );

    let _ = writeln!(
        f,
        "{:>5} {:<20} {:>9} {:>10} {:>7} {:>8} {:>8} {:>7} {:>7}",
        "procs", "leg", "requests", "ok req/s", "speedup", "p50 ms", "p99 ms", "errors", "SQL/req"
    );
    for leg in legs {
        let o = &leg.outcome;
        let first = legs.iter().find(|l| l.name == leg.name);
        let speedup = first
            .map(|l| l.outcome.ok_per_sec())
            .filter(|r| *r > 0.0)
            .map_or_else(|| "-".into(), |r| format!("{:.2}×", o.ok_per_sec() / r));
        let per_request = match leg.statements {
            Some(n) if o.requests > 0 => format!("{:.1}", n as f64 / o.requests as f64),
            _ => "-".into(),
        };
        let _ = writeln!(
            f,
            "{:>5} {:<20} {:>9} {:>10.1} {:>7} {:>8} {:>8} {:>7} {:>7}",
            leg.processes,
            leg.name,
            o.requests,
            o.ok_per_sec(),
            speedup,
            ms(o.latency_ms(0.50)),
            ms(o.latency_ms(0.99)),
            o.errors,
            per_request
        );
    }

    let _ = writeln!(
        f,
        "\n{:>5} {:<20} {:>8} {:>6} {:>7} {:>6} {:>6} {:>9} {:>8}  limit",
        "procs", "leg", "servers", "PG", "client", "other", "idle", "srv ms/req", "PG ms/req"
    );
    for leg in legs {
        let c = leg.cpu;
        let shares = c.shares(cores);
        let pct = |s: f64| format!("{:.0}%", 100.0 * s);
        let ok = (leg.outcome.requests - leg.outcome.errors).max(1) as f64;
        let _ = writeln!(
            f,
            "{:>5} {:<20} {:>8} {:>6} {:>7} {:>6} {:>6} {:>10.2} {:>9.2}  {}",
            leg.processes,
            leg.name,
            pct(shares.servers),
            pct(shares.postgres),
            pct(shares.client),
            pct(shares.other),
            pct(shares.idle),
            1e3 * c.servers / ok,
            1e3 * c.postgres / ok,
            shares.limit(),
        );
    }
    let _ = writeln!(
        f,
        "\nspeedup: ok req/s over the same leg's at the first process count; SQL/req: statements \
         of the runtime role (pg_stat_statements) per request\nCPU: user + system time during \
         the measured run as a share of all {cores} cores (servers together, PostgreSQL, this \
         client, the rest of the machine, idle); ms/req: CPU milliseconds per successful \
         request; limit: CPU when under {:.0}% of it was idle (and who used most), else waits \
         (locks, commits, round trips)",
        100.0 * IDLE_LIMIT
    );
    for leg in legs {
        if let Some(e) = &leg.outcome.first_error {
            let _ = writeln!(
                f,
                "first error, {} process(es), {}: {e}",
                leg.processes, leg.name
            );
        }
    }
    f
}
