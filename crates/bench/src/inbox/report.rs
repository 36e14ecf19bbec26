//! The inbox run's result: what every subscriber should have received, checked against what it
//! did receive, and the printed report with its PASS/FAIL verdict.
//!
//! A subscriber should receive exactly the messages written to its conversation (or, watching
//! its tenant, every message written to the tenant), each once, in commit order. Commit order
//! is the messages' `seq` (assigned at commit, read back after the run), so "in order" means
//! strictly increasing `seq` in the order frames arrived. Latency is the frame's arrival minus
//! the instant the writer's `COMMIT` returned — one monotonic clock, one process.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use frontdesk_db::seed::SeedReport;
use hdrhistogram::Histogram;
use uuid::Uuid;

use super::procfs::CpuUse;
use super::{subscriber, writer, Plan};

/// The targets, five times its first load (10,000 subscribers, p99 under 200 ms, the
/// server under 500 MB): 50,000 subscribers at 500 messages/s, p99 under 100 ms, nothing lost,
/// and at most 10 KiB of server memory per idle subscriber.
pub const TARGET_SUBSCRIBERS: u32 = 50_000;
pub const TARGET_RATE: u32 = 500;
pub const TARGET_P99_MS: f64 = 100.0;
pub const TARGET_IDLE_KIB: f64 = 10.0;
/// The writer must achieve this share of the requested rate.
pub const RATE_TOLERANCE: f64 = 0.99;

/// Deliveries checked against expectations.
#[derive(Debug)]
pub struct Delivery {
    /// Σ over written messages of the subscribers that should receive it.
    pub expected: u64,
    /// Expected messages received (the first time).
    pub delivered: u64,
    pub missing: u64,
    /// Subscribers that missed at least one message.
    pub subscribers_missing: usize,
    pub duplicates: u64,
    /// Frames whose message's `seq` was not above the previous frame's (per subscriber).
    pub out_of_order: u64,
    /// Frames of messages this subscriber should not see (another conversation or tenant, or
    /// not written by this run).
    pub unexpected: u64,
    /// Delivered messages without a `seq` (order not checkable).
    pub no_seq: u64,
    /// Frames that arrived before the writer saw its `COMMIT` return (counted as 0 latency).
    pub before_commit: u64,
    /// Commit-to-delivery latency, microseconds.
    pub latency: Histogram<u64>,
}

/// Latencies of 1 µs to 10 min, three significant digits.
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

/// Checks every subscriber's frames against what was written.
pub fn analyse(
    plan: &Plan,
    written: &writer::Outcome,
    subscribers: &[subscriber::Outcome],
    seqs: &HashMap<Uuid, i64>,
) -> anyhow::Result<Delivery> {
    let by_id: HashMap<Uuid, &writer::Written> =
        written.written.iter().map(|w| (w.id, w)).collect();
    let mut per_target = vec![0u64; plan.targets.len()];
    let mut per_tenant = vec![0u64; plan.tenants.len()];
    for w in &written.written {
        per_target[w.target] += 1;
        per_tenant[plan.targets[w.target].tenant] += 1;
    }
    let mut d = Delivery {
        expected: 0,
        delivered: 0,
        missing: 0,
        subscribers_missing: 0,
        duplicates: 0,
        out_of_order: 0,
        unexpected: 0,
        no_seq: 0,
        before_commit: 0,
        latency: histogram()?,
    };
    for (assigned, outcome) in plan.subscribers.iter().zip(subscribers) {
        let expected = match assigned.target {
            Some(t) => per_target[t],
            None => per_tenant[assigned.tenant],
        };
        let mut seen = HashSet::with_capacity(outcome.received.len());
        let mut last_seq = i64::MIN;
        let mut delivered = 0u64;
        for (id, at) in &outcome.received {
            let Some(w) = by_id.get(id) else {
                d.unexpected += 1;
                continue;
            };
            let mine = match assigned.target {
                Some(t) => w.target == t,
                None => plan.targets[w.target].tenant == assigned.tenant,
            };
            if !mine {
                d.unexpected += 1;
                continue;
            }
            if !seen.insert(*id) {
                d.duplicates += 1;
                continue;
            }
            delivered += 1;
            if *at < w.committed {
                d.before_commit += 1;
            }
            let micros = at.saturating_duration_since(w.committed).as_micros();
            d.latency
                .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
            match seqs.get(id) {
                Some(&seq) => {
                    if seq <= last_seq {
                        d.out_of_order += 1;
                    }
                    last_seq = last_seq.max(seq);
                }
                None => d.no_seq += 1,
            }
        }
        d.expected += expected;
        d.delivered += delivered;
        let missing = expected.saturating_sub(delivered);
        d.missing += missing;
        if missing > 0 {
            d.subscribers_missing += 1;
        }
    }
    Ok(d)
}

/// Everything the run prints.
#[derive(Debug)]
pub struct Report {
    pub database: String,
    pub seeded: SeedReport,
    pub cores: usize,
    pub fd_limit: u64,
    /// The loopback addresses the subscribers connected from.
    pub sources: String,
    pub tenants: usize,
    pub conversations_per_tenant: usize,
    /// Subscribers requested, watching one conversation, watching a whole tenant.
    pub subscribers: u32,
    /// WebSockets the subscribers shared (as many as subscribers with `--per-socket 1`).
    pub sockets: usize,
    pub conversation_subscribers: usize,
    pub tenant_subscribers: usize,
    /// Conversations written to (those with a subscriber).
    pub targets: usize,
    pub rate: u32,
    pub duration: Duration,
    pub writers: u32,
    pub pool: u32,
    // Connecting.
    pub subscribed: usize,
    pub connect_failed: usize,
    pub first_connect_failure: Option<String>,
    pub connect_elapsed: Duration,
    pub connect_cpu: CpuUse,
    pub quiesce_elapsed: Duration,
    pub idle_cpu: Option<CpuUse>,
    pub rss_before_kib: u64,
    pub rss_idle_kib: u64,
    // Writing.
    pub written: usize,
    pub write_failed: u64,
    pub first_write_error: Option<String>,
    pub write_elapsed: Duration,
    pub achieved_rate: f64,
    pub commit_latency: Histogram<u64>,
    pub window_cpu: CpuUse,
    pub window_rss_kib: u64,
    // Delivering.
    pub delivery: Delivery,
    pub drain_elapsed: Duration,
    pub sub_errors: u64,
    pub first_sub_error: Option<String>,
    pub closed_early: usize,
    pub first_close: Option<String>,
    pub peak_rss_kib: u64,
    pub hwm_kib: Option<u64>,
    /// The audit trail's cost to the writer (`--audit-cost-messages`), one line per leg.
    pub audit_cost: Option<String>,
    /// The run had the audit triggers disabled (`--without-audit`).
    pub without_audit: bool,
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ms(h: &Histogram<u64>, q: f64) -> String {
    if h.is_empty() {
        "-".into()
    } else {
        format!("{:.1}", h.value_at_quantile(q) as f64 / 1e3)
    }
}

fn max_ms(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        "-".into()
    } else {
        format!("{:.1}", h.max() as f64 / 1e3)
    }
}

/// One line of the verdict.
struct Check {
    what: String,
    value: String,
    met: bool,
}

impl Report {
    /// What the server's resident memory grew by from before the first subscriber to all of
    /// them subscribed and idle, per subscriber, in KiB (`None` before anyone subscribed).
    /// Everything the first subscribers warm up (feeds, pooled connections, allocator arenas)
    /// is counted in, so this is the cost of a subscriber at this scale, not less.
    pub fn idle_kib_per_subscriber(&self) -> Option<f64> {
        (self.subscribed > 0).then(|| {
            self.rss_idle_kib.saturating_sub(self.rss_before_kib) as f64 / self.subscribed as f64
        })
    }

    fn p99_ms(&self) -> Option<f64> {
        let h = &self.delivery.latency;
        (!h.is_empty()).then(|| h.value_at_quantile(0.99) as f64 / 1e3)
    }

    fn checks(&self) -> Vec<Check> {
        let d = &self.delivery;
        let p99 = self.p99_ms();
        let idle = self.idle_kib_per_subscriber();
        let broken = self.connect_failed + self.closed_early;
        vec![
            Check {
                what: format!(
                    "writer achieves ≥ {:.0}% of {} msg/s, no failed write",
                    RATE_TOLERANCE * 100.0,
                    self.rate
                ),
                value: format!(
                    "{:.1} msg/s, {} failed",
                    self.achieved_rate, self.write_failed
                ),
                met: self.achieved_rate >= RATE_TOLERANCE * f64::from(self.rate)
                    && self.write_failed == 0,
            },
            Check {
                what: format!("p99 commit→delivery < {TARGET_P99_MS:.0} ms"),
                value: p99.map_or_else(|| "-".into(), |v| format!("{v:.1} ms")),
                met: p99.is_some_and(|v| v < TARGET_P99_MS),
            },
            Check {
                what: "missing / duplicate / out of order / unexpected = 0".into(),
                value: format!(
                    "{} / {} / {} / {}",
                    d.missing, d.duplicates, d.out_of_order, d.unexpected
                ),
                met: d.missing == 0
                    && d.duplicates == 0
                    && d.out_of_order == 0
                    && d.unexpected == 0
                    && d.no_seq == 0
                    && d.delivered > 0,
            },
            Check {
                what: "every subscriber connected and stayed, no error frame".into(),
                value: format!("{broken} lost, {} error frames", self.sub_errors),
                met: broken == 0 && self.sub_errors == 0,
            },
            Check {
                what: format!("server memory ≤ {TARGET_IDLE_KIB:.0} KiB per idle subscriber"),
                value: idle.map_or_else(|| "-".into(), |v| format!("{v:.1} KiB")),
                met: idle.is_some_and(|v| v <= TARGET_IDLE_KIB),
            },
        ]
    }

    fn full_scale(&self) -> bool {
        self.subscribers >= TARGET_SUBSCRIBERS && self.rate >= TARGET_RATE
    }
}

fn pct(cores: f64) -> String {
    format!("{:.1}%", cores * 100.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.delivery;
        writeln!(f)?;
        writeln!(
            f,
            "data:     {} tenants × {} conversations; {}",
            self.tenants, self.conversations_per_tenant, self.seeded
        )?;
        writeln!(
            f,
            "load:     {} subscribers on {} WebSockets ({} on one conversation, {} tenant-wide) on \
             {} conversations; writer {} msg/s for {} s, {} concurrent writers; server pool {} \
             connections",
            self.subscribers,
            self.sockets,
            self.conversation_subscribers,
            self.tenant_subscribers,
            self.targets,
            self.rate,
            self.duration.as_secs(),
            self.writers,
            self.pool
        )?;
        writeln!(
            f,
            "host:     {} CPU cores shared by this client, the server and PostgreSQL; fd limit {}; \
             database {}; subscribers connect from {}",
            self.cores, self.fd_limit, self.database, self.sources
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "connect:  {} subscribed, {} failed in {:.1} s ({:.0}/s); server CPU {} of one core \
             meanwhile; all started on the server and it quiet again {:.1} s later",
            self.subscribed,
            self.connect_failed,
            self.connect_elapsed.as_secs_f64(),
            self.subscribed as f64 / self.connect_elapsed.as_secs_f64().max(1e-9),
            pct(self.connect_cpu.server),
            self.quiesce_elapsed.as_secs_f64()
        )?;
        if let Some(idle) = &self.idle_cpu {
            writeln!(
                f,
                "idle:     server CPU {} of one core over {:.1} s with every subscriber connected \
                 and nothing written",
                pct(idle.server),
                idle.seconds
            )?;
        }
        writeln!(
            f,
            "writer:   {} committed, {} failed in {:.2} s = {:.1} msg/s (target {}); \
             BEGIN…COMMIT p50 {} ms, p99 {} ms, max {} ms",
            self.written,
            self.write_failed,
            self.write_elapsed.as_secs_f64(),
            self.achieved_rate,
            self.rate,
            ms(&self.commit_latency, 0.50),
            ms(&self.commit_latency, 0.99),
            max_ms(&self.commit_latency)
        )?;
        if self.without_audit {
            writeln!(f, "          (audit triggers disabled for this run)")?;
        }
        if let Some(lines) = &self.audit_cost {
            f.write_str(lines)?;
        }
        writeln!(
            f,
            "delivery: {} expected, {} delivered, {} missing ({} subscribers), {} duplicate, \
             {} out of order, {} unexpected; drained in {:.2} s",
            d.expected,
            d.delivered,
            d.missing,
            d.subscribers_missing,
            d.duplicates,
            d.out_of_order,
            d.unexpected,
            self.drain_elapsed.as_secs_f64()
        )?;
        writeln!(
            f,
            "latency:  commit returned → frame received: p50 {} ms, p90 {} ms, p99 {} ms, \
             p99.9 {} ms, max {} ms ({} frames arrived before the writer saw COMMIT return)",
            ms(&d.latency, 0.50),
            ms(&d.latency, 0.90),
            ms(&d.latency, 0.99),
            ms(&d.latency, 0.999),
            max_ms(&d.latency),
            d.before_commit
        )?;
        writeln!(
            f,
            "server:   peak RSS {} (sampled every 100 ms; VmHWM {}); {} before any subscriber, \
             {} with all subscribed and idle ({} KiB per idle subscriber, {} KiB per socket), \
             peak {} while writing",
            mib(self.peak_rss_kib),
            self.hwm_kib.map_or_else(|| "-".into(), mib),
            mib(self.rss_before_kib),
            mib(self.rss_idle_kib),
            self.idle_kib_per_subscriber()
                .map_or_else(|| "-".into(), |v| format!("{v:.1}")),
            self.idle_kib_per_subscriber().map_or_else(
                || "-".into(),
                |v| format!(
                    "{:.1}",
                    v * self.subscribed as f64 / self.sockets.max(1) as f64
                )
            ),
            mib(self.window_rss_kib)
        )?;
        writeln!(
            f,
            "cpu:      server {} of one core over the {:.1} s writing window ({:.2} s user+sys); \
             this client {}; postgres processes {}; whole machine {} of {}",
            pct(self.window_cpu.server),
            self.window_cpu.seconds,
            self.window_cpu.server_cpu,
            pct(self.window_cpu.client),
            pct(self.window_cpu.postgres),
            pct(self.window_cpu.machine),
            pct(self.cores as f64)
        )?;
        if d.no_seq > 0 {
            writeln!(
                f,
                "note:     {} delivered messages had no seq (order unchecked)",
                d.no_seq
            )?;
        }
        for (what, first) in [
            ("first connect failure", &self.first_connect_failure),
            ("first write error", &self.first_write_error),
            ("first error frame", &self.first_sub_error),
            ("first early close", &self.first_close),
        ] {
            if let Some(e) = first {
                writeln!(f, "{what}: {e}")?;
            }
        }
        writeln!(f)?;
        writeln!(f, "targets:")?;
        let checks = self.checks();
        for c in &checks {
            writeln!(
                f,
                "  {:<58} {:>28}   {}",
                c.what,
                c.value,
                if c.met { "met" } else { "NOT met" }
            )?;
        }
        let all = checks.iter().all(|c| c.met);
        let verdict = match (all, self.full_scale()) {
            (false, _) => "FAIL".to_owned(),
            (true, true) => "PASS".to_owned(),
            (true, false) => format!(
                "PASS at reduced scale ({} subscribers, {} msg/s): the target run is {} \
                 subscribers at {} msg/s",
                self.subscribers, self.rate, TARGET_SUBSCRIBERS, TARGET_RATE
            ),
        };
        writeln!(f)?;
        writeln!(f, "{verdict}")
    }
}
