//! A streaming standby of an [`OwnCluster`], made as an operator makes one: `pg_basebackup -R`
//! (a base backup plus `standby.signal` and `primary_conninfo`), started with `pg_ctl` on a
//! port of its own. It can be stopped and started again, and its replay paused and resumed,
//! to test what the server does with a replica that is down or late. Stopped (immediate
//! shutdown) when dropped; its directory goes with the primary's.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{bail, Context as _};
use frontdesk_db::sqlx::{self, Connection, PgConnection};
use secrecy::{ExposeSecret, SecretString};
use tokio::process::Command;

use crate::cluster::OwnCluster;

/// A running (or stopped) standby of a test's own primary.
#[derive(Debug)]
pub struct Standby {
    data_dir: PathBuf,
    log_file: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    /// The data directory's owner: PostgreSQL refuses to run as root.
    owner: (u32, u32),
    /// The primary's superuser URL with this standby's port.
    url: String,
}

impl Standby {
    /// Takes a base backup of `primary` and starts it as a hot standby streaming from it.
    pub async fn of(primary: &OwnCluster) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(primary.data_dir())?;
        let owner = (meta.uid(), meta.gid());
        let root = primary.scratch("standby");
        std::fs::create_dir_all(&root)?;
        std::os::unix::fs::chown(&root, Some(owner.0), Some(owner.1))?;
        let data_dir = root.join("pgdata");
        std::fs::create_dir(&data_dir)?;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700))?;
        std::os::unix::fs::chown(&data_dir, Some(owner.0), Some(owner.1))?;
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port();
        let primary_url = primary.url().expose_secret().to_owned();
        let url = primary_url.replace(
            &format!("@127.0.0.1:{}/", primary.pg().port()),
            &format!("@127.0.0.1:{port}/"),
        );
        let this = Self {
            log_file: root.join("standby.log"),
            data_dir,
            bin_dir: primary.pg().bin_dir().to_path_buf(),
            port,
            owner,
            url,
        };
        // -R writes the connection (with its password) into postgresql.auto.conf and creates
        // standby.signal; -X stream copies the WAL the backup needs alongside it.
        let mut backup = this.tool("pg_basebackup");
        backup
            .arg("-D")
            .arg(&this.data_dir)
            .args(["-R", "-X", "stream", "-c", "fast", "-d"])
            .arg(&primary_url);
        this.run(backup, "pg_basebackup").await?;
        this.start().await?;
        Ok(this)
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(name));
        cmd.uid(self.owner.0)
            .gid(self.owner.1)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, mut cmd: Command, what: &str) -> anyhow::Result<()> {
        let out = cmd
            .output()
            .await
            .with_context(|| format!("running {what}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
            bail!(
                "{what} failed ({}): {}{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
            );
        }
        Ok(())
    }

    /// Starts the standby (again) on its port and waits until it accepts connections.
    pub async fn start(&self) -> anyhow::Result<()> {
        let mut start = self.tool("pg_ctl");
        start
            .arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", "60", "-o"])
            // A hot standby needs at least the primary's max_connections.
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
                 -c max_connections=200",
                self.port
            ));
        self.run(start, "pg_ctl start (standby)").await
    }

    /// Fast shutdown: its sessions end and its port closes.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let mut stop = self.tool("pg_ctl");
        stop.arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w"]);
        self.run(stop, "pg_ctl stop (standby)").await
    }

    /// The standby's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL of `database` on the standby without a user: the server logs in as its runtime
    /// role, as it does with a read URL that names none.
    pub fn read_url(&self, database: &str) -> SecretString {
        SecretString::from(format!("postgres://127.0.0.1:{}/{database}", self.port))
    }

    /// A superuser connection to `database` on the standby.
    pub async fn superuser(&self, database: &str) -> anyhow::Result<PgConnection> {
        let url = frontdesk_db::testing::with_database(&self.url, database);
        Ok(PgConnection::connect(&url).await?)
    }

    /// Stops applying WAL (it is still received): the standby falls behind by every write.
    pub async fn pause_replay(&self) -> anyhow::Result<()> {
        self.replay("pg_wal_replay_pause").await
    }

    /// Applies WAL again.
    pub async fn resume_replay(&self) -> anyhow::Result<()> {
        self.replay("pg_wal_replay_resume").await
    }

    async fn replay(&self, function: &str) -> anyhow::Result<()> {
        let mut conn = self.superuser("postgres").await?;
        sqlx::query(&format!("SELECT {function}()"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = std::process::Command::new(self.bin_dir.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&self.data_dir)
            .uid(self.owner.0)
            .gid(self.owner.1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
