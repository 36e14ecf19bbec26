//! What the kernel says about a process: resident memory (`/proc/<pid>/status`) and CPU time
//! (`/proc/<pid>/stat`), plus the machine's busy time (`/proc/stat`) — the server's cost
//! without instrumenting it, and the client's and PostgreSQL's share of the same cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

/// Clock ticks per second of the times in `/proc/<pid>/stat` and `/proc/stat` (`USER_HZ`,
/// which Linux fixes at 100 for user space on every architecture it supports).
const USER_HZ: f64 = 100.0;

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
pub fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// User + system CPU seconds a process has used (`self` for this one).
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may contain spaces and parentheses: count from its end.
    // After it come state (field 3), …, utime (14) and stime (15).
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .context("short /proc/<pid>/stat")?
            .parse::<u64>()? as f64)
    };
    Ok((ticks(11)? + ticks(12)?) / USER_HZ)
}

/// User + system CPU seconds of every process named `postgres` on this machine (the
/// PostgreSQL server's backends and workers when it runs here; backends that exited between
/// two readings drop out, which pooled connections do not).
pub fn postgres_cpu_seconds() -> f64 {
    postgres_pids()
        .filter_map(|pid| cpu_seconds(&pid).ok())
        .sum()
}

/// User + system CPU seconds that one database costs its PostgreSQL cluster: the cluster's
/// postmaster `postmaster`, its shared processes (WAL writer, checkpointer, autovacuum, …) and
/// the backends serving `database` — not those of other databases on the same cluster, nor
/// other clusters on the machine.
pub fn database_cpu_seconds(postmaster: u32, database: &str) -> f64 {
    let postmaster_pid = postmaster.to_string();
    postgres_pids()
        .filter(|pid| *pid == postmaster_pid || parent_pid(pid).is_ok_and(|p| p == postmaster))
        .filter(|pid| backend_database(pid).is_none_or(|db| db == database))
        .filter_map(|pid| cpu_seconds(&pid).ok())
        .sum()
}

/// The database a client backend serves, from its title (`postgres: [cluster: ]user database
/// host(port) activity`, or `[local]` for a socket); `None` for any other process.
fn backend_database(pid: &str) -> Option<String> {
    let title = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<&str> = title.split(['\0', ' ']).filter(|w| !w.is_empty()).collect();
    let host = words
        .iter()
        .position(|w| *w == "[local]" || (w.contains('(') && w.ends_with(')')))?;
    let database = words.get(host.checked_sub(1)?)?;
    Some((*database).to_owned())
}

/// The parent's process id (field 4 of `/proc/<pid>/stat`).
pub fn parent_pid(pid: &str) -> anyhow::Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name come state (field 3) and the parent's id (field 4).
    let ppid = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(1))
        .context("malformed /proc/<pid>/stat")?;
    Ok(ppid.parse()?)
}

/// Whether process `pid` is named `postgres`.
pub fn is_postgres(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm.trim_end() == "postgres")
}

/// The ids of the processes named `postgres` on this machine.
fn postgres_pids() -> impl Iterator<Item = String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| is_postgres(pid))
}

/// CPU seconds the whole machine spent busy and in total, summed over its cores.
pub fn machine_seconds() -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("no cpu line in /proc/stat")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user/nice).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    Ok(((total - idle) as f64 / USER_HZ, total as f64 / USER_HZ))
}

/// CPU readings at one instant: the server, this client and the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    at: Instant,
    server: f64,
    client: f64,
    postgres: f64,
    busy: f64,
}

/// CPU use between two marks, in cores (1.0 = one core fully busy).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    pub seconds: f64,
    /// Server user + system seconds.
    pub server_cpu: f64,
    pub server: f64,
    pub client: f64,
    pub postgres: f64,
    pub machine: f64,
}

impl CpuMark {
    pub fn now(server_pid: u32) -> anyhow::Result<Self> {
        Ok(Self {
            at: Instant::now(),
            server: cpu_seconds(&server_pid.to_string())?,
            client: cpu_seconds("self")?,
            postgres: postgres_cpu_seconds(),
            busy: machine_seconds()?.0,
        })
    }

    /// What was used from `self` to `later`.
    pub fn until(&self, later: &CpuMark) -> CpuUse {
        let seconds = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        CpuUse {
            seconds,
            server_cpu: later.server - self.server,
            server: (later.server - self.server) / seconds,
            client: (later.client - self.client) / seconds,
            postgres: (later.postgres - self.postgres) / seconds,
            machine: (later.busy - self.busy) / seconds,
        }
    }
}

/// Samples the server's `VmRSS` every 100 ms: the peak of the whole run and of a window that
/// can be restarted.
#[derive(Debug)]
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    window: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let window = Arc::new(AtomicU64::new(0));
        let (p, w) = (peak.clone(), window.clone());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let Ok(kib) = status_kib(pid, "VmRSS") else {
                    return;
                };
                p.fetch_max(kib, Ordering::Relaxed);
                w.fetch_max(kib, Ordering::Relaxed);
            }
        });
        Self { peak, window, task }
    }

    /// The highest sample so far.
    pub fn peak_kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// The highest sample since the last call (and restarts the window).
    pub fn take_window_kib(&self) -> u64 {
        self.window.swap(0, Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}
