//! `frontdesk-bench inbox`: the live inbox under load, end to end on real sockets.
//!
//! One release `frontdesk` server process on a fresh seeded database (`TestDb::new`); N
//! WebSocket subscribers spread round-robin over tenants and, within a tenant, over its
//! conversations (a small share watching the whole tenant instead); a writer inserting M
//! messages/s into the subscribed conversations the way any backend writer would (runtime role,
//! tenant-scoped transaction, plain `INSERT`). It prints commit-to-delivery latency
//! (p50/p99/max), expected/delivered/missing/duplicate/out-of-order counts, the writer's
//! achieved rate, the server's peak RSS, what an idle subscriber costs it and its CPU time over
//! the writing window — and PASS/FAIL against the targets (50,000 subscribers at 500
//! messages/s: p99 under 100 ms, nothing lost, at most 10 KiB per idle subscriber).
//!
//! It is a benchmark, not a test: rerunnable with other sizes, nothing asserted, everything
//! printed. Client, server and PostgreSQL share the machine's cores; the report says how much
//! of them each used, so a client-bound run can be told from a server-bound one.
//!
//! Phases: seed → start the server → connect and subscribe (bounded concurrency) → wait until
//! the server's CPU is quiet (subscriptions register asynchronously) and measure it idle →
//! write for the duration → drain (until every expected frame arrived, or `--drain-secs`) →
//! stop the subscribers, read the messages' commit-order `seq` back, and check.

pub(crate) mod procfs;
mod report;
mod subscriber;
mod writer;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use frontdesk_db::seed::{self, SeedSpec};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, Db, TenantCtx};
use tokio::sync::{watch, Semaphore};
use uuid::Uuid;

use crate::setup::{self, ServerEnv};
use procfs::{CpuMark, RssSampler};
use report::Report;
use subscriber::Progress;

/// Measures the live inbox: N WebSocket subscribers, a writer at M messages/s.
#[derive(Debug, Clone, clap::Args)]
pub struct InboxArgs {
    /// Subscribers (one `messageAdded` subscription each).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    subscribers: u32,
    /// Subscriptions sharing one WebSocket (1: a socket each). Each process needs a file
    /// descriptor per socket, so where the open-file limit is below the subscriber count,
    /// several per socket is how the count is reached.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    per_socket: u32,
    /// Messages written per second.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Seconds of writing (rate × duration messages).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_secs: u64,
    /// Tenants; subscribers and messages are spread round-robin over them.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    tenants: u32,
    /// Conversations seeded per tenant (the seed makes one per two customers).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    conversations_per_tenant: u32,
    /// Share of each tenant's subscribers, in percent, that watch the whole tenant instead of
    /// one conversation.
    #[arg(long, default_value_t = 1.0, value_parser = percent)]
    tenant_wide_percent: f64,
    /// Sockets being opened at once.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    connect_concurrency: u32,
    /// Writes in flight at once (the writer's pool size).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    writers: u32,
    /// Seconds of measured idleness (everyone subscribed, nothing written) before writing.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    settle_secs: u64,
    /// Longest wait, after the last commit, for frames still in flight.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    drain_secs: u64,
    /// The server's runtime pool size (its default).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_max_connections: u32,
    /// Keep the database afterwards (its name is printed).
    #[arg(long)]
    keep: bool,
    /// Disable the audit triggers (migration 0022) for the whole run: the write path without
    /// the audit trail, to compare with a run that has it.
    #[arg(long)]
    without_audit: bool,
    /// Before the subscribers connect, write this many messages at `--rate` twice — audit
    /// triggers disabled, then enabled — and report both legs' writer rate and BEGIN…COMMIT
    /// latency: what the audit trail costs the write path, measured in one run (0: skip).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    audit_cost_messages: u64,
}

/// Enables or disables the `audit_row` trigger on every table that has it (as the owner: a
/// benchmark's switch, never the service's).
async fn set_audit(db: &TestDb, enabled: bool) -> anyhow::Result<()> {
    let verb = if enabled { "ENABLE" } else { "DISABLE" };
    sqlx::query(&format!(
        "DO $$ DECLARE t regclass; BEGIN
           FOR t IN SELECT tgrelid::regclass FROM pg_trigger WHERE tgname = 'audit_row' LOOP
             EXECUTE format('ALTER TABLE %s {verb} TRIGGER audit_row', t);
           END LOOP;
         END $$"
    ))
    .execute(db.owner())
    .await
    .context("could not switch the audit triggers")?;
    Ok(())
}

/// The writer alone, without and then with the audit triggers: one line per leg.
async fn audit_cost(
    args: &InboxArgs,
    db: &TestDb,
    writer_db: &Db,
    targets: &[(Uuid, Uuid)],
) -> anyhow::Result<String> {
    let mut lines = String::new();
    for (audited, leg) in [(false, "without audit"), (true, "with audit")] {
        set_audit(db, audited).await?;
        eprintln!(
            "audit cost: writing {} messages at {} msg/s {leg} …",
            args.audit_cost_messages, args.rate
        );
        let out = writer::run(
            writer_db,
            targets,
            args.rate,
            args.audit_cost_messages,
            args.writers,
        )
        .await?;
        let mut latency = report::histogram()?;
        for w in &out.written {
            latency.saturating_record(u64::try_from(w.took.as_micros()).unwrap_or(u64::MAX).max(1));
        }
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        lines.push_str(&format!(
            "audit cost, {leg:>13}: {} committed, {} failed in {:.2} s = {:.1} msg/s; \
             BEGIN…COMMIT p50 {:.2} ms, p99 {:.2} ms\n",
            out.written.len(),
            out.failed,
            out.elapsed.as_secs_f64(),
            out.rate(),
            ms(0.50),
            ms(0.99),
        ));
    }
    set_audit(db, !args.without_audit).await?;
    Ok(lines)
}

fn percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err("a percentage from 0 to 100".into())
    }
}

/// A subscriber's assignment.
#[derive(Debug, Clone, Copy)]
pub struct Assigned {
    /// Index into [`Plan::tenants`].
    pub tenant: usize,
    /// Index into [`Plan::targets`]: the conversation watched; `None` for the whole tenant.
    pub target: Option<usize>,
}

/// A conversation the writer writes to.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub tenant: usize,
    pub conversation: Uuid,
}

/// Who watches what, and where the writer writes.
#[derive(Debug)]
pub struct Plan {
    pub tenants: Vec<Uuid>,
    /// In connection order (round-robin over tenants).
    pub subscribers: Vec<Assigned>,
    /// Conversations with a subscriber, interleaved over tenants so consecutive messages go
    /// to different tenants.
    pub targets: Vec<Target>,
}

impl Plan {
    /// Subscriber `i` belongs to tenant `i % T`; the first `share` of a tenant's subscribers
    /// watch the whole tenant, the others its conversations in turn.
    fn new(tenants: Vec<Uuid>, conversations: &[Vec<Uuid>], n: usize, share: f64) -> Self {
        let t_count = tenants.len();
        let per_tenant = |t: usize| n / t_count + usize::from(t < n % t_count);
        let wide: Vec<usize> = (0..t_count)
            .map(|t| {
                let n_t = per_tenant(t);
                ((n_t as f64 * share / 100.0).round() as usize).min(n_t)
            })
            .collect();
        // Targets: the conversations that get a subscriber (or the first one of a tenant that
        // only has tenant-wide subscribers), tenant after tenant in turn.
        let watched: Vec<usize> = (0..t_count)
            .map(|t| {
                let conv_subs = per_tenant(t) - wide[t];
                match conv_subs.min(conversations[t].len()) {
                    0 if wide[t] > 0 => 1.min(conversations[t].len()),
                    k => k,
                }
            })
            .collect();
        let mut targets = Vec::new();
        let mut index = HashMap::new();
        for j in 0..watched.iter().copied().max().unwrap_or(0) {
            for (t, convs) in conversations.iter().enumerate() {
                if j < watched[t] {
                    index.insert((t, j), targets.len());
                    targets.push(Target {
                        tenant: t,
                        conversation: convs[j],
                    });
                }
            }
        }
        let subscribers = (0..n)
            .map(|i| {
                let (tenant, k) = (i % t_count, i / t_count);
                let target = if k < wide[tenant] {
                    None
                } else {
                    let j = (k - wide[tenant]) % conversations[tenant].len();
                    index.get(&(tenant, j)).copied()
                };
                Assigned { tenant, target }
            })
            .collect();
        Self {
            tenants,
            subscribers,
            targets,
        }
    }
}

impl Plan {
    /// The subscribers (indices into [`Plan::subscribers`]) on each socket: up to `per_socket`
    /// of one tenant each, since a socket carries one tenant's token.
    fn sockets(&self, per_socket: u32) -> Vec<Vec<usize>> {
        let per_socket = usize::try_from(per_socket).unwrap_or(1).max(1);
        let mut by_tenant: Vec<Vec<usize>> = vec![Vec::new(); self.tenants.len()];
        for (i, a) in self.subscribers.iter().enumerate() {
            by_tenant[a.tenant].push(i);
        }
        by_tenant
            .iter()
            .flat_map(|members| members.chunks(per_socket).map(<[usize]>::to_vec))
            .collect()
    }
}

/// Raises the open-file limit (sockets) and creates, measures and drops the database.
pub async fn run(args: &InboxArgs) -> anyhow::Result<()> {
    let fd_limit =
        rlimit::increase_nofile_limit(u64::MAX).context("could not raise the open-file limit")?;
    // At most: a tenant's last socket may be part full.
    let sockets = args.subscribers.div_ceil(args.per_socket) + args.tenants;
    let needed = u64::from(sockets) + 512;
    anyhow::ensure!(
        fd_limit >= needed,
        "the open-file limit is {fd_limit} (hard limit included); {sockets} sockets need about \
         {needed} in this process and as many in the server, which inherits the limit: raise \
         the hard limit (`ulimit -Hn`, which takes CAP_SYS_RESOURCE), or put several \
         subscriptions on a socket (`--per-socket`)"
    );
    let sources = source_addresses(sockets)?;

    let db = TestDb::new()
        .await
        .context("could not create the benchmark database")?;
    let measured = tokio::select! {
        result = measure(args, &db, fd_limit, &sources) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if args.keep {
        println!("kept database {} (owner URL as configured)", db.name);
    } else {
        let name = db.name.clone();
        if let Err(e) = db.drop_database().await {
            eprintln!("warning: could not drop database {name}: {e}");
        }
    }
    let report = measured?;
    print!("{report}");
    Ok(())
}

/// The loopback addresses the subscribers connect from, in turn.
///
/// Every socket to the one server address needs a local port of its own, and one local address
/// has only the ephemeral range (`net.ipv4.ip_local_port_range`, about 28,000 ports by
/// default). Linux routes the whole of 127.0.0.0/8 to the loopback interface, so the client
/// spreads its sockets over 127.0.0.1, 127.0.0.2, … — no more than half the range on each,
/// which leaves room for the previous run's ports (the client closes first, so its side keeps
/// them in TIME_WAIT for a minute).
fn source_addresses(subscribers: u32) -> anyhow::Result<Vec<IpAddr>> {
    let ports = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| {
            let mut bounds = range
                .split_whitespace()
                .filter_map(|v| v.parse::<u32>().ok());
            bounds.next().zip(bounds.next())
        })
        .map_or(28_232, |(lo, hi)| hi.saturating_sub(lo) + 1);
    let per_address = (ports / 2).max(1);
    let count = subscribers.div_ceil(per_address).max(1);
    anyhow::ensure!(
        count <= 254,
        "{subscribers} sockets need {count} loopback source addresses of {per_address} ports each"
    );
    Ok((1..=count)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, u8::try_from(i).unwrap_or(u8::MAX))))
        .collect())
}

/// Seeds `tenants` tenants with `conversations` conversations each and a small customer graph,
/// then vacuums and analyses.
async fn seed(db: &TestDb, tenants: u32, conversations: u32) -> anyhow::Result<seed::SeedReport> {
    let spec = SeedSpec {
        tenants,
        customers_per_tenant: conversations * 2,
        bookings_per_customer: 1,
        calls_per_booking: 1,
        sms_per_call: 1,
    };
    let report = seed::run(&db.db, &spec).await.context("seeding failed")?;
    sqlx::query("VACUUM (ANALYZE)")
        .execute(db.owner())
        .await
        .context("VACUUM ANALYZE after seeding failed")?;
    Ok(report)
}

/// A tenant's seeded conversations, oldest first.
async fn conversations(db: &Db, tenant_id: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = db
        .begin_tenant(TenantCtx {
            tenant_id,
            user_id: None,
        })
        .await?;
    let ids = sqlx::query_scalar("SELECT id FROM app.conversations ORDER BY created_at, id")
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(ids)
}

/// The commit-order `seq` of the written messages.
async fn seqs(
    db: &Db,
    plan: &Plan,
    written: &writer::Outcome,
) -> anyhow::Result<HashMap<Uuid, i64>> {
    let mut ids: Vec<Vec<Uuid>> = vec![Vec::new(); plan.tenants.len()];
    for w in &written.written {
        ids[plan.targets[w.target].tenant].push(w.id);
    }
    let mut out = HashMap::with_capacity(written.written.len());
    for (tenant_id, ids) in plan.tenants.iter().zip(ids) {
        let mut tx = db
            .begin_tenant(TenantCtx {
                tenant_id: *tenant_id,
                user_id: None,
            })
            .await?;
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT id, seq FROM app.messages WHERE id = ANY($1) AND seq IS NOT NULL",
        )
        .bind(&ids)
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Prepares, connects, writes, drains and checks.
async fn measure(
    args: &InboxArgs,
    db: &TestDb,
    fd_limit: u64,
    sources: &[IpAddr],
) -> anyhow::Result<Report> {
    let at = db.config.owner_options()?;
    let database = format!("{} on {}:{}", db.name, at.get_host(), at.get_port());
    eprintln!(
        "database {database}: seeding {} tenants × {} conversations …",
        args.tenants, args.conversations_per_tenant
    );
    let seeded = seed(db, args.tenants, args.conversations_per_tenant).await?;
    eprintln!("{seeded}");

    let tenants: Vec<Uuid> = (0..args.tenants).map(SeedSpec::tenant_id).collect();
    let mut convs = Vec::with_capacity(tenants.len());
    for t in &tenants {
        let mut c = conversations(&db.db, *t).await?;
        c.truncate(usize::try_from(args.conversations_per_tenant)?);
        anyhow::ensure!(!c.is_empty(), "tenant {t} has no conversations");
        convs.push(c);
    }
    let plan = Plan::new(
        tenants,
        &convs,
        usize::try_from(args.subscribers)?,
        args.tenant_wide_percent,
    );

    let binary = setup::frontdesk_binary().await?;
    let env = ServerEnv::new(db, args.db_max_connections);
    // One at a time: each `frontdesk token` opens (and checks the migrations of) the database,
    // and concurrent ones collide on the runtime role's catalog row.
    let mut tokens: Vec<Arc<str>> = Vec::with_capacity(plan.tenants.len());
    for t in &plan.tenants {
        tokens.push(env.token_as(&binary, *t, "agent").await?.into());
    }
    let log = binary.with_file_name("frontdesk-bench-inbox-server.log");
    let server = env.serve(&binary, log).await?;
    let pid = server.pid();
    eprintln!(
        "server {} (pid {pid}) listening on {}; log {}",
        binary.display(),
        server.addr,
        server.log.display()
    );
    anyhow::ensure!(
        sources.len() == 1 || server.addr.ip().is_loopback(),
        "{} source addresses are loopback ones, but the server listens on {}",
        sources.len(),
        server.addr
    );
    let sampler = RssSampler::start(pid);
    let rss_before_kib = procfs::status_kib(pid, "VmRSS")?;
    let writer_db = Db::connect_with_size(&db.config, args.writers).await?;
    if args.without_audit {
        set_audit(db, false).await?;
    }
    let write_targets: Vec<(Uuid, Uuid)> = plan
        .targets
        .iter()
        .map(|t| (plan.tenants[t.tenant], t.conversation))
        .collect();
    let audit_cost = if args.audit_cost_messages > 0 {
        let lines = audit_cost(args, db, &writer_db, &write_targets).await?;
        eprint!("{lines}");
        Some(lines)
    } else {
        None
    };

    // Connect and subscribe.
    let progress = Arc::new(Progress::default());
    let (stop, stopped) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(usize::try_from(args.connect_concurrency)?));
    let n = plan.subscribers.len();
    let groups = plan.sockets(args.per_socket);
    let sockets = groups.len();
    eprintln!(
        "connecting {n} subscribers on {sockets} sockets, {} sockets at a time, from {} …",
        args.connect_concurrency,
        describe(sources)
    );
    let connect_mark = CpuMark::now(pid)?;
    let connect_start = Instant::now();
    let handles: Vec<_> = groups
        .iter()
        .enumerate()
        .map(|(i, members)| {
            let tenant = plan.subscribers[members[0]].tenant;
            let spec = subscriber::Spec {
                token: tokens[tenant].clone(),
                conversations: members
                    .iter()
                    .map(|&m| {
                        plan.subscribers[m]
                            .target
                            .map(|t| plan.targets[t].conversation)
                    })
                    .collect(),
                source: sources[i % sources.len()],
            };
            tokio::spawn(subscriber::run(
                server.addr,
                spec,
                permits.clone(),
                progress.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    wait_connected(&progress, n, args.connect_concurrency).await;
    let connect_elapsed = connect_start.elapsed();
    let connect_cpu = connect_mark.until(&CpuMark::now(pid)?);
    let subscribed = progress.subscribed.load(Ordering::Relaxed);
    // Stragglers still connecting after a stall count as failed.
    let connect_failed = n - subscribed;
    eprintln!(
        "{subscribed} subscribed, {connect_failed} failed in {:.1} s",
        connect_elapsed.as_secs_f64()
    );
    anyhow::ensure!(
        subscribed > 0,
        "no subscriber could subscribe; server log: {}",
        server.log.display()
    );

    // Subscriptions start asynchronously (the server lets a few start at a time): wait until
    // its gauge counts every one, then until it has nothing left to do.
    let quiesce_start = Instant::now();
    wait_watching(server.addr, subscribed).await;
    loop {
        let mark = CpuMark::now(pid)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let used = mark.until(&CpuMark::now(pid)?);
        if used.server < 0.10 || quiesce_start.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let quiesce_elapsed = quiesce_start.elapsed();
    let idle_cpu = if args.settle_secs > 0 {
        let mark = CpuMark::now(pid)?;
        tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
        Some(mark.until(&CpuMark::now(pid)?))
    } else {
        None
    };
    let rss_idle_kib = procfs::status_kib(pid, "VmRSS")?;
    sampler.take_window_kib();

    // Write.
    let count = u64::from(args.rate) * args.duration_secs;
    eprintln!(
        "writing {count} messages at {} msg/s to {} conversations …",
        args.rate,
        plan.targets.len()
    );
    let window_mark = CpuMark::now(pid)?;
    let written = writer::run(&writer_db, &write_targets, args.rate, count, args.writers).await?;
    let window_cpu = window_mark.until(&CpuMark::now(pid)?);
    let window_rss_kib = sampler.take_window_kib();

    // Drain: until every expected frame arrived (then a moment more, for duplicates), or the
    // drain time is up.
    let mut per_target = vec![0u64; plan.targets.len()];
    let mut per_tenant = vec![0u64; plan.tenants.len()];
    for w in &written.written {
        per_target[w.target] += 1;
        per_tenant[plan.targets[w.target].tenant] += 1;
    }
    let expected_frames: u64 = plan
        .subscribers
        .iter()
        .map(|a| a.target.map_or(per_tenant[a.tenant], |t| per_target[t]))
        .sum();
    let drain_start = Instant::now();
    while progress.frames.load(Ordering::Relaxed) < expected_frames
        && drain_start.elapsed() < Duration::from_secs(args.drain_secs)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_elapsed = drain_start.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hwm_kib = procfs::status_kib(pid, "VmHWM").ok();
    let peak_rss_kib = sampler.peak_kib();

    let _ = stop.send(true);
    // Back into plan order: one outcome per subscriber.
    let mut outcomes: Vec<subscriber::Outcome> =
        std::iter::repeat_with(Default::default).take(n).collect();
    for (h, members) in handles.into_iter().zip(&groups) {
        let outs = h.await.context("a subscriber task panicked")?;
        for (out, &m) in outs.into_iter().zip(members) {
            outcomes[m] = out;
        }
    }
    drop(sampler);
    server.stop().await;

    let seqs = seqs(&db.db, &plan, &written).await?;
    let delivery = report::analyse(&plan, &written, &outcomes, &seqs)?;
    let mut commit_latency = report::histogram()?;
    for w in &written.written {
        commit_latency
            .saturating_record(u64::try_from(w.took.as_micros()).unwrap_or(u64::MAX).max(1));
    }
    let first = |f: fn(&subscriber::Outcome) -> Option<&String>| {
        outcomes.iter().find_map(|o| f(o).cloned())
    };
    let tenant_subscribers = plan
        .subscribers
        .iter()
        .filter(|a| a.target.is_none())
        .count();
    Ok(Report {
        database,
        seeded,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        fd_limit,
        sources: describe(sources),
        tenants: plan.tenants.len(),
        conversations_per_tenant: convs.iter().map(Vec::len).max().unwrap_or(0),
        subscribers: args.subscribers,
        sockets,
        conversation_subscribers: n - tenant_subscribers,
        tenant_subscribers,
        targets: plan.targets.len(),
        rate: args.rate,
        duration: Duration::from_secs(args.duration_secs),
        writers: args.writers,
        pool: args.db_max_connections,
        subscribed,
        connect_failed,
        first_connect_failure: first(|o| o.failed.as_ref()),
        connect_elapsed,
        connect_cpu,
        quiesce_elapsed,
        idle_cpu,
        rss_before_kib,
        rss_idle_kib,
        written: written.written.len(),
        write_failed: written.failed,
        first_write_error: written.first_error.clone(),
        write_elapsed: written.elapsed,
        achieved_rate: written.rate(),
        commit_latency,
        window_cpu,
        window_rss_kib,
        delivery,
        drain_elapsed,
        sub_errors: outcomes.iter().map(|o| o.errors).sum(),
        first_sub_error: first(|o| o.first_error.as_ref()),
        closed_early: outcomes.iter().filter(|o| o.closed_early.is_some()).count(),
        first_close: first(|o| o.closed_early.as_ref()),
        peak_rss_kib,
        hwm_kib,
        audit_cost,
        without_audit: args.without_audit,
    })
}

/// `127.0.0.1`, or `127.0.0.1-127.0.0.3 (3 addresses)`.
fn describe(sources: &[IpAddr]) -> String {
    match sources {
        [] => "-".into(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first}-{last} ({} addresses)", sources.len()),
    }
}

/// Waits until the server's `frontdesk_subscriptions_watching` gauge (`/metrics`) reaches
/// `n`, printing progress; gives up when it has not moved for a minute.
async fn wait_watching(addr: std::net::SocketAddr, n: usize) {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/metrics");
    let gauge = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("frontdesk_subscriptions_watching "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as usize)
    };
    let (mut last, mut last_change, mut last_print) = (0, Instant::now(), Instant::now());
    loop {
        let text = match client.get(&url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let watching = gauge(&text);
        if watching >= n {
            eprintln!("{watching} subscriptions started on the server");
            return;
        }
        if watching != last {
            (last, last_change) = (watching, Instant::now());
        } else if last_change.elapsed() > Duration::from_secs(60) {
            eprintln!("subscription starts stalled at {watching} of {n}");
            return;
        }
        if last_print.elapsed() >= Duration::from_secs(2) {
            eprintln!("  {watching} of {n} subscriptions started on the server");
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every subscriber subscribed or failed, printing progress; gives up waiting
/// (the stragglers count as failed in the report) when nothing moved for a minute.
async fn wait_connected(progress: &Progress, n: usize, concurrency: u32) {
    let mut last = (0, 0);
    let mut last_change = Instant::now();
    let mut last_print = Instant::now();
    loop {
        let now = (
            progress.subscribed.load(Ordering::Relaxed),
            progress.failed.load(Ordering::Relaxed),
        );
        if now.0 + now.1 >= n {
            return;
        }
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(60) {
            eprintln!(
                "connecting stalled at {} subscribed, {} failed of {n} ({concurrency} at a time)",
                now.0, now.1
            );
            return;
        }
        if last_print.elapsed() >= Duration::from_secs(2) {
            eprintln!("  {} subscribed, {} failed of {n}", now.0, now.1);
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
