//! `frontdesk-bench scale` (`just bench-scale`): many replicas, measured.
//!
//! The design says server processes are stateless and scale out as replicas against one
//! PostgreSQL. This measures what adding replicas buys on one machine, and what stops it. It
//! seeds the database exactly as `graph` does, then for each process count N (`--processes`,
//! default 1,2,4) starts N release `frontdesk` servers on that database, each on its own port
//! with its own pool (`--db-max-connections` per process), and drives them at a fixed
//! concurrency, as fast as they answer, for the duration of each leg:
//!
//! * **graphql NESTED** — `graph`'s nested read (50 customers → bookings → calls → SMS), with
//!   the same owner token;
//! * **graphql inbox write** — `recordInboundMessage`, the API's form of the inbox writer's
//!   inbound customer message (see `inbox::writer`), round-robin over the tenant's open
//!   conversations, a fresh `providerMessageId` each, with an agent's token.
//!
//! Client worker `w` always talks to server `w mod N` (round-robin, like a load balancer with
//! sticky connections). Each leg prints requests/s, p50/p99, errors, SQL statements per
//! request, and the CPU time the kernel charged during the measured run to the servers
//! together, to PostgreSQL (its cluster's shared processes and this database's backends, not
//! other databases' on a shared cluster), to this client and to everything else, as shares of
//! all the machine's cores. That says what limits each leg: a saturated PostgreSQL, saturated
//! servers, or (with idle CPU left) waiting on locks, commits and round trips. Client, servers
//! and PostgreSQL share the cores, so on a small machine more replicas can only move CPU
//! around; the shares show where it goes.

mod report;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use frontdesk_db::seed::SeedSpec;
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, TenantCtx};
use serde_json::json;
use uuid::Uuid;

use crate::inbox::procfs;
use crate::load;
use crate::setup::{self, Server, ServerEnv};
use crate::workloads::{request, Api, NESTED};
use crate::GraphArgs;
use report::{Cpu, Leg, Setting};

/// A customer's message into a named conversation, as a channel webhook reports it.
const RECORD: &str = "mutation($c: ID!, $ch: Channel!, $p: String!) { recordInboundMessage(\
    input: { conversationId: $c, channel: $ch, providerMessageId: $p, content: \"scale bench\" }) \
    { id } }";

/// Measures NESTED reads and inbox writes with 1, 2, 4… server processes on one database.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// Server process counts to measure, one after the other (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    processes: Vec<u32>,
    /// Data, load and pool settings as for `graph` (the pool is per server process).
    #[command(flatten)]
    load: GraphArgs,
}

/// Creates the database, measures, prints, and drops the database unless `--keep`.
pub async fn run(args: &ScaleArgs) -> anyhow::Result<()> {
    let db = setup::database().await?;
    let measured = tokio::select! {
        result = measure(args, &db) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    if args.load.keep {
        println!("kept database {} (owner URL as configured)", db.name);
    } else {
        let name = db.name.clone();
        if let Err(e) = db.drop_database().await {
            eprintln!("warning: could not drop database {name}: {e}");
        }
    }
    print!("{}", measured?);
    Ok(())
}

/// What the measuring needs besides the operation: the load settings, the database (for
/// statement counts) and the processes whose CPU is read.
struct Rig<'a> {
    load: &'a GraphArgs,
    db: &'a TestDb,
    servers: Vec<u32>,
    /// The database cluster's postmaster when it runs on this machine.
    postmaster: Option<u32>,
    /// The database's name (its backends are told from other databases' by it).
    database: &'a str,
}

impl Rig<'_> {
    /// The CPU seconds used so far by the servers, PostgreSQL, this client and the machine
    /// (busy), and the wall seconds since `epoch`.
    fn cpu_now(&self, epoch: Instant) -> anyhow::Result<Cpu> {
        let mut servers = 0.0;
        for pid in &self.servers {
            servers += procfs::cpu_seconds(&pid.to_string())?;
        }
        Ok(Cpu {
            wall: epoch.elapsed().as_secs_f64(),
            servers,
            postgres: self
                .postmaster
                .map_or_else(procfs::postgres_cpu_seconds, |pid| {
                    procfs::database_cpu_seconds(pid, self.database)
                }),
            client: procfs::cpu_seconds("self")?,
            busy: procfs::machine_seconds()?.0,
        })
    }

    /// Warm-up, then the measured run with fresh statement counts and CPU readings around it.
    async fn leg<F, Fut>(&self, processes: u32, name: &'static str, op: F) -> anyhow::Result<Leg>
    where
        F: Fn(u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send,
    {
        let (concurrency, duration, warmup) = (
            self.load.concurrency,
            self.load.duration(),
            self.load.warmup(),
        );
        eprintln!("{processes} process(es), {name}: {warmup:?} warm-up, {duration:?} measured …");
        let op = Arc::new(op);
        if !warmup.is_zero() {
            let op = Arc::clone(&op);
            load::drive(concurrency, warmup, move |seq| op(seq)).await?;
        }
        self.db.reset_statement_stats().await?;
        let epoch = Instant::now();
        let before = self.cpu_now(epoch)?;
        let outcome = load::drive(concurrency, duration, move |seq| op(seq)).await?;
        let after = self.cpu_now(epoch)?;
        let statements = self.db.statements_executed().await.ok();
        Ok(Leg {
            processes,
            name,
            outcome,
            statements,
            cpu: after - before,
        })
    }
}

/// Seeds, then measures both legs for each process count.
async fn measure(args: &ScaleArgs, db: &TestDb) -> anyhow::Result<String> {
    let load = &args.load;
    let tenant = SeedSpec::tenant_id(0);
    eprintln!("database {}: seeding …", db.name);
    let seeded = setup::seed(db, load.tenants, load.customers).await?;
    eprintln!("{seeded}");
    let targets = Arc::new(open_conversations(db, tenant).await?);
    anyhow::ensure!(
        !targets.is_empty(),
        "the seeded tenant has no open conversation"
    );
    let postmaster = postmaster(db).await;

    let binary = setup::frontdesk_binary().await?;
    let env = ServerEnv::new(db, load.db_max_connections);
    let reader = env.token(&binary, tenant).await?;
    let writer = env.token_as(&binary, tenant, "agent").await?;
    let nested = Arc::new(request(NESTED, json!({}))?);
    let concurrency = load.concurrency;
    let loadavg_before = loadavg();

    let mut legs = Vec::new();
    for &n in &args.processes {
        let mut servers = Vec::new();
        for i in 0..n {
            let log = binary.with_file_name(format!("frontdesk-bench-scale-server-{i}.log"));
            servers.push(env.serve(&binary, log).await?);
        }
        let addrs: Vec<String> = servers.iter().map(|s| s.addr.to_string()).collect();
        eprintln!("{n} server process(es) listening on {}", addrs.join(", "));
        let reads = Arc::new(apis(&servers, &reader, concurrency)?);
        let writes = Arc::new(apis(&servers, &writer, concurrency)?);
        for api in reads.iter() {
            api.fetch((*nested).clone())
                .await
                .map_err(anyhow::Error::msg)
                .context("NESTED failed before measuring")?;
        }
        let rig = Rig {
            load,
            db,
            servers: servers.iter().map(Server::pid).collect(),
            postmaster,
            database: &db.name,
        };

        let body = Arc::clone(&nested);
        legs.push(
            rig.leg(n, "graphql NESTED", move |seq| {
                let (api, body) = (pick(&reads, seq, concurrency).clone(), (*body).clone());
                async move { api.post(body).await }
            })
            .await?,
        );

        let (targets, sent, run) = (
            Arc::clone(&targets),
            AtomicU64::new(0),
            Uuid::new_v4().simple(),
        );
        legs.push(
            rig.leg(n, "graphql inbox write", move |seq| {
                let k = sent.fetch_add(1, Ordering::Relaxed);
                let (conversation, channel) =
                    &targets[usize::try_from(k).unwrap_or(0) % targets.len()];
                let vars =
                    json!({ "c": conversation, "ch": channel, "p": format!("scale-{run}-{k}") });
                let body = request(RECORD, vars).map_err(|e| e.to_string());
                let api = pick(&writes, seq, concurrency).clone();
                async move { api.post(body?).await }
            })
            .await?,
        );
        for server in servers {
            server.stop().await;
        }
    }

    let at = db.config.owner_options()?;
    let setting = Setting {
        database: format!("{} on {}:{}", db.name, at.get_host(), at.get_port()),
        tenant,
        seeded,
        conversations: targets.len(),
        postmaster,
        loadavg: (loadavg_before, loadavg()),
    };
    Ok(report::report(load, &setting, &legs))
}

/// One client per server, each authorised with `token`.
fn apis(servers: &[Server], token: &str, concurrency: u32) -> anyhow::Result<Vec<Api>> {
    servers
        .iter()
        .map(|s| Api::new(s, token, concurrency))
        .collect()
}

/// The server of the worker that runs operation `seq`: worker `w` (`seq mod concurrency`, see
/// [`load::drive`]) always uses server `w mod N`.
fn pick(apis: &[Api], seq: u64, concurrency: u32) -> &Api {
    let worker = usize::try_from(seq % u64::from(concurrency)).unwrap_or(0);
    &apis[worker % apis.len()]
}

/// The tenant's conversations that take messages (not closed), newest first, with their
/// channel as the GraphQL enum spells it.
async fn open_conversations(db: &TestDb, tenant_id: Uuid) -> anyhow::Result<Vec<(Uuid, String)>> {
    let mut tx = db
        .db
        .begin_tenant(TenantCtx {
            tenant_id,
            user_id: None,
        })
        .await?;
    let rows = sqlx::query_as(
        "SELECT id, upper(channel) FROM app.conversations WHERE status <> 'closed'
         ORDER BY created_at DESC, id",
    )
    .fetch_all(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The database cluster's postmaster, when it runs on this machine: the parent of the
/// backend serving one of our connections.
async fn postmaster(db: &TestDb) -> Option<u32> {
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(db.owner())
        .await
        .ok()?;
    let backend = backend.to_string();
    if !procfs::is_postgres(&backend) {
        return None;
    }
    let parent = procfs::parent_pid(&backend).ok()?;
    procfs::is_postgres(&parent.to_string()).then_some(parent)
}

/// The 1, 5 and 15 minute load averages.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "-".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}
