//! Preparing a run: the database, its data, the server child process and a token.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use frontdesk_db::seed::{self, SeedReport, SeedSpec};
use frontdesk_db::testing::TestDb;
use frontdesk_db::{sqlx, TenantCtx};
use secrecy::ExposeSecret;
use tokio::process::{Child, Command};
use uuid::Uuid;

/// A fresh, migrated database on a server that counts statements.
pub async fn database() -> anyhow::Result<TestDb> {
    TestDb::with_statement_stats()
        .await
        .context("could not create the benchmark database")
}

/// Seeds `tenants` tenants of `customers` customers × 3 bookings × 2 calls × 2 SMS, then
/// vacuums and analyses so that plans are those of a settled database.
pub async fn seed(db: &TestDb, tenants: u32, customers: u32) -> anyhow::Result<SeedReport> {
    let spec = SeedSpec {
        tenants,
        customers_per_tenant: customers,
        bookings_per_customer: 3,
        calls_per_booking: 2,
        sms_per_call: 2,
    };
    let report = seed::run(&db.db, &spec).await.context("seeding failed")?;
    sqlx::query("VACUUM (ANALYZE)")
        .execute(db.owner())
        .await
        .context("VACUUM ANALYZE after seeding failed")?;
    // The seed's pages are still to be written out: a checkpoint now keeps that write-out
    // (spread over minutes otherwise) out of the first measured legs.
    if let Err(e) = sqlx::query("CHECKPOINT").execute(db.owner()).await {
        eprintln!(
            "note: no CHECKPOINT after seeding ({e}); the first legs may share the disk with it"
        );
    }
    Ok(report)
}

/// The measured tenant's customer ids, newest first.
pub async fn customer_ids(db: &TestDb, tenant_id: Uuid) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = db
        .db
        .begin_tenant(TenantCtx {
            tenant_id,
            user_id: None,
        })
        .await?;
    let ids = sqlx::query_scalar("SELECT id FROM app.customers ORDER BY created_at DESC, id")
        .fetch_all(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(ids)
}

/// The `frontdesk` server as a child process; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

/// What the server and the `token` command are configured with.
#[derive(Debug)]
pub struct ServerEnv {
    vars: Vec<(&'static str, String)>,
}

/// Requests per second a bench server allows one token and one tenant (see [`ServerEnv::new`]).
const BENCH_RATE_LIMIT: u32 = 1_000_000;

impl ServerEnv {
    /// The fresh database, a random signing secret, no demo seed, the given pool size, and rate
    /// limits no bench reaches.
    pub fn new(db: &TestDb, max_connections: u32) -> Self {
        let mut vars = vec![
            (
                "DATABASE_URL",
                db.config.owner_url.expose_secret().to_owned(),
            ),
            (
                "FRONTDESK_JWT_SECRET",
                format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
            ),
            ("FRONTDESK_ENV", "development".into()),
            ("FRONTDESK_SEED_DEMO", "false".into()),
            ("FRONTDESK_DB_MAX_CONNECTIONS", max_connections.to_string()),
            // One token sends every request, faster than a member's default allowance on a
            // fast host (which would measure the limiter's refusals). Limits this high keep
            // the limiter charging each request, as in production, without refusing any.
            (
                "FRONTDESK_RATE_LIMIT_TOKEN_RPS",
                BENCH_RATE_LIMIT.to_string(),
            ),
            (
                "FRONTDESK_RATE_LIMIT_TENANT_RPS",
                BENCH_RATE_LIMIT.to_string(),
            ),
        ];
        if let Some(pw) = &db.config.app_password {
            vars.push(("FRONTDESK_APP_DB_PASSWORD", pw.expose_secret().to_owned()));
        }
        Self { vars }
    }

    /// `frontdesk <args>` with exactly this configuration (inherited `FRONTDESK_*` and
    /// `DATABASE_URL` variables are removed: the binary refuses unknown ones).
    fn command(&self, binary: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary);
        cmd.args(args).kill_on_drop(true);
        for (name, _) in std::env::vars() {
            if name.starts_with("FRONTDESK_") || name.ends_with("DATABASE_URL") {
                cmd.env_remove(name);
            }
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// An owner's access token for `tenant`, minted by `frontdesk token`.
    pub async fn token(&self, binary: &Path, tenant: Uuid) -> anyhow::Result<String> {
        self.token_as(binary, tenant, "owner").await
    }

    /// An access token of the tenant's oldest member with `role` (owner, admin, supervisor,
    /// agent or viewer), minted by `frontdesk token` with the server's secret.
    pub async fn token_as(
        &self,
        binary: &Path,
        tenant: Uuid,
        role: &str,
    ) -> anyhow::Result<String> {
        let tenant = tenant.to_string();
        let out = self
            .command(binary, &["token", "--tenant", &tenant, "--role", role])
            .output()
            .await
            .with_context(|| format!("could not run {}", binary.display()))?;
        if !out.status.success() {
            bail!(
                "`frontdesk token` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let token = String::from_utf8(out.stdout)?.trim().to_owned();
        anyhow::ensure!(!token.is_empty(), "`frontdesk token` printed nothing");
        Ok(token)
    }

    /// Starts `frontdesk serve` on a free port and waits until `/readyz` answers 200.
    pub async fn serve(&self, binary: &Path, log: PathBuf) -> anyhow::Result<Server> {
        self.serve_with(binary, log, &[]).await
    }

    /// [`ServerEnv::serve`] with more arguments to `serve` (`--compiled-reads false`, …).
    pub async fn serve_with(
        &self,
        binary: &Path,
        log: PathBuf,
        args: &[&str],
    ) -> anyhow::Result<Server> {
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = self.command(binary, &[&["serve"], args].concat());
        cmd.env("FRONTDESK_LISTEN", addr.to_string())
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            addr,
            log,
        };
        server.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }
}

impl Server {
    async fn wait_ready(&mut self, patience: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("http://{}/readyz", self.addr);
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready; its log {}:\n{}",
                    self.log.display(),
                    log_tail(&self.log)
                );
            }
            if let Ok(resp) = client.get(&url).send().await {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "the server was not ready after {patience:?}; its log {}:\n{}",
                    self.log.display(),
                    log_tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Peak resident set size in KiB since start or the last [`reset_peak_rss`](Self::reset_peak_rss)
    /// (`VmHWM` in `/proc/<pid>/status`).
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }

    /// Starts a new peak-RSS window (`echo 5 > /proc/<pid>/clear_refs`); without it the peak
    /// covers the process's whole life.
    pub fn reset_peak_rss(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// Its process id (for `/proc/<pid>/…`).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kills the server and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The `frontdesk` binary of this build profile (next to this executable), built when missing.
pub async fn frontdesk_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("this executable has no directory")?;
    let binary = dir.join("frontdesk");
    if binary.is_file() {
        return Ok(binary);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&workspace)
        .args(["build", "-p", "frontdesk-server", "--bin", "frontdesk"]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    eprintln!("building {} …", binary.display());
    let status = cmd.status().await.context("could not run cargo")?;
    anyhow::ensure!(
        status.success(),
        "cargo build of frontdesk failed ({status})"
    );
    anyhow::ensure!(
        binary.is_file(),
        "cargo built frontdesk, but not at {}",
        binary.display()
    );
    Ok(binary)
}
