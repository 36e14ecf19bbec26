//! `frontdesk-bench`: what the API costs on the real path. Four benchmarks, one subcommand each:
//!
//! * `graph` (the default when no subcommand is given) — the GraphQL API's reads against what
//!   PostgreSQL alone needs for the same answer (below);
//! * `inbox` — the live inbox: thousands of WebSocket subscribers, a paced writer, and
//!   commit-to-delivery latency, losses, the server's memory and CPU (see [`inbox`]);
//! * `analytics` — the dashboards against their hand-written SQL (see [`analytics`]);
//! * `scale` — NESTED reads and inbox writes with 1, 2 and 4 server processes on one database,
//!   and whose CPU limits each (see [`scale`]).
//!
//! `graph` creates a fresh database (on `FRONTDESK_TEST_DATABASE_URL` / `DATABASE_URL` when that
//! server preloads `pg_stat_statements`, else on the embedded test cluster — the rules of
//! `frontdesk_db::testing::TestDb::with_statement_stats`), seeds one large tenant, starts the
//! release `frontdesk` binary on it as a child process, and drives it over HTTP at a fixed
//! concurrency for a fixed time with two workloads:
//!
//! * **NESTED** — 50 customers → 10 bookings each → 5 calls each → 5 SMS each, the query shape
//!   that exposes N+1 resolvers and per-field overhead;
//! * **SINGLE** — one customer by id, cycling through the tenant's customers: the per-request
//!   floor of auth, parsing and one transaction.
//!
//! For each it prints requests/s, p50/p99 latency, errors, SQL statements per request (from
//! PostgreSQL's own `pg_stat_statements`, runtime role only) and the server's peak RSS. Then
//! the **floor**: one hand-written SQL statement that builds the NESTED answer as a single JSON
//! document, run the way the API runs queries (runtime role, tenant-scoped transaction, a pool
//! of the server's size) at the same concurrency. `ratio (graphql nested / raw SQL)` says how
//! much of the floor's throughput the API keeps; the target is 1.0 (0.6 for SINGLE against
//! `raw SQL single`, the same row built by one statement in a scoped transaction). The floors
//! run the way the resolvers do (BEGIN, scope, statement, COMMIT); `raw SQL single²` runs the
//! single-row floor in the two round trips a compiled read takes (BEGIN and scope as one
//! message, the statement, the transaction dropped), so both comparisons are printed.
//!
//! Client, server and PostgreSQL share the machine, so absolute figures depend on its cores;
//! the ratio and the statement counts are the portable results.

mod analytics;
mod inbox;
mod load;
mod report;
mod scale;
mod setup;
mod workloads;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Load benchmarks of the Frontdesk API: `graph` (the default), `inbox`, `analytics` and `scale`.
#[derive(Debug, Parser)]
#[command(
    name = "frontdesk-bench",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// `graph`'s settings, so that a bare `frontdesk-bench` runs it as before.
    #[command(flatten)]
    graph: GraphArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The GraphQL API's NESTED and SINGLE reads against a raw-SQL floor (the default).
    Graph(GraphArgs),
    /// The live inbox: N WebSocket subscribers, a writer at M messages/s, commit-to-delivery
    /// latency, losses, server RSS and CPU, PASS/FAIL against the targets.
    Inbox(inbox::InboxArgs),
    /// The dashboards: `analytics` by DAY over 90 days (and the `groups` legs when the API
    /// has them) against the hand-written SQL, p50/p99, requests/s, PASS/FAIL.
    Analytics(analytics::AnalyticsArgs),
    /// Many replicas: NESTED reads and inbox writes with 1, 2, 4… server processes on one
    /// database; requests/s, p50/p99, errors and the CPU of the servers vs PostgreSQL.
    Scale(scale::ScaleArgs),
}

/// Load-tests the GraphQL API (NESTED and SINGLE) against a raw-SQL floor.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Customers of the measured tenant (each with 3 bookings × 2 calls × 2 SMS).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(50..=10_000_000))]
    customers: u32,
    /// Tenants to seed (the first is measured; the others make row-level security filter).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    tenants: u32,
    /// Measured seconds per workload.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_secs: u64,
    /// Rounds the workloads take turns in: each measures `duration-secs / rounds` per round,
    /// so that a drift of the machine's speed reaches every workload alike.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
    /// Unmeasured warm-up seconds before each workload.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup_secs: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// Runtime pool size of the server and of the floor (the server's default).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_max_connections: u32,
    /// Keep the database afterwards (its name is printed).
    #[arg(long)]
    keep: bool,
}

impl GraphArgs {
    fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs)
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup_secs)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(&cli.graph).await,
        Some(Command::Graph(args)) => run(&args).await,
        Some(Command::Inbox(args)) => inbox::run(&args).await,
        Some(Command::Analytics(args)) => analytics::run(&args).await,
        Some(Command::Scale(args)) => scale::run(&args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Creates the database, measures, and drops the database (unless `--keep`) however the
/// measurement ended; the server child dies with the measurement.
async fn run(args: &GraphArgs) -> anyhow::Result<()> {
    let db = setup::database().await?;
    let measured = tokio::select! {
        result = workloads::measure(args, &db) => result,
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
