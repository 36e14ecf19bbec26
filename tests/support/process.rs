//! The real `frontdesk` binary as a separate server process (a replica) on a test database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context as _};
use frontdesk_db::testing::TestDb;
use secrecy::ExposeSecret;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::TEST_SECRET;

/// A `frontdesk serve` process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The `frontdesk` binary next to this test executable, brought up to date first when the
/// tests run under cargo: a stale binary would not know the newest migrations.
async fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .context("test executable has no target directory")?;
    // Brought up to date with the same selection the README's test command builds, so that
    // feature unification matches and, under that command, this is a no-op (a narrower
    // `cargo build -p frontdesk-server` would rebuild the workspace with other features).
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut build = Command::new(cargo);
        build.args(["test", "-q", "--workspace", "--all-targets", "--no-run"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().await?;
        if !status.success() {
            bail!("building the frontdesk binary failed: {status}");
        }
    }
    let bin = dir.join("frontdesk");
    if !bin.exists() {
        bail!(
            "{} is missing: run `cargo build -p frontdesk-server --bin frontdesk`",
            bin.display()
        );
    }
    Ok(bin)
}

/// Starts `frontdesk serve` against `db` on a free port and waits until it listens.
pub async fn spawn_process(db: &TestDb) -> anyhow::Result<ServerProcess> {
    let mut cmd = Command::new(binary().await?);
    for (k, _) in std::env::vars() {
        if k.starts_with("FRONTDESK_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .env("DATABASE_URL", db.config.owner_url.expose_secret())
        .env("FRONTDESK_JWT_SECRET", TEST_SECRET)
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_SEED_DEMO", "false")
        .env(
            "FRONTDESK_DATA_DIR",
            std::env::temp_dir().join("frontdesk-e2e-replica"),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let Some(p) = &db.config.app_password {
        cmd.env("FRONTDESK_APP_DB_PASSWORD", p.expose_secret());
    }
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix("Frontdesk is listening on http://") {
                return Ok(rest.trim().parse::<SocketAddr>()?);
            }
        }
        bail!("the server exited before listening")
    })
    .await
    .context("the server did not start within 60 s")??;
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(ServerProcess { addr, child })
}
