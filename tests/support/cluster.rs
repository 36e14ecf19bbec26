//! A throwaway PostgreSQL cluster of the test's own, in a temporary directory.
//!
//! Tests that stop PostgreSQL (an outage) or reconfigure it (TLS) must never touch the shared
//! test cluster or the machine's server, which other tests use at the same time. This starts
//! the embedded cluster code on a fresh data directory, and stops it (immediate shutdown) and
//! deletes the directory when dropped — also when the test panics.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use frontdesk_db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use secrecy::SecretString;
use uuid::Uuid;

/// A cluster this test started and owns.
#[derive(Debug)]
pub struct OwnCluster {
    root: PathBuf,
    pg: EmbeddedPostgres,
}

impl OwnCluster {
    /// Initialises and starts a new cluster (a few seconds: `initdb`).
    pub async fn start(label: &str) -> anyhow::Result<Self> {
        let root =
            std::env::temp_dir().join(format!("frontdesk-{label}-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&root)?;
        let pg = EmbeddedPostgres::ensure_running(Self::options(&root)).await?;
        Ok(Self { root, pg })
    }

    fn options(root: &Path) -> EmbeddedOptions {
        EmbeddedOptions {
            data_dir: root.join("pgdata"),
            bin_dir: std::env::var_os("FRONTDESK_PG_BIN_DIR").map(PathBuf::from),
            database: "postgres".into(),
        }
    }

    /// The running cluster.
    pub fn pg(&self) -> &EmbeddedPostgres {
        &self.pg
    }

    /// The superuser URL of the `postgres` database.
    pub fn url(&self) -> SecretString {
        self.pg.database_url()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.pg.data_dir()
    }

    /// A path for the test's own files, next to the data directory (deleted with it).
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `contents` to `name` in the data directory, owned by the server's user and
    /// readable by it alone (as PostgreSQL requires of a private key).
    pub fn write_private(&self, name: &str, contents: &[u8]) -> anyhow::Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.data_dir().join(name);
        std::fs::write(&path, contents)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let owner = std::fs::metadata(self.data_dir())?;
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid()))?;
        Ok(path)
    }

    /// Fast shutdown (`pg_ctl stop -m fast`): sessions are terminated, the port closes.
    pub async fn stop(&self) -> anyhow::Result<()> {
        self.pg.stop(true).await?;
        Ok(())
    }

    /// Starts the stopped cluster again, on the same port when it is free.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.pg = EmbeddedPostgres::ensure_running(Self::options(&self.root)).await?;
        Ok(())
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        // Synchronous on purpose: runs during a panic's unwinding too. `pg_ctl` must run as
        // the data directory's owner (not root).
        let data_dir = self.pg.data_dir().to_path_buf();
        if let Ok(meta) = std::fs::metadata(&data_dir) {
            let _ = Command::new(self.pg.bin_dir().join("pg_ctl"))
                .args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(&data_dir)
                .uid(meta.uid())
                .gid(meta.gid())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
