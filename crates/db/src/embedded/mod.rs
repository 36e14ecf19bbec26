//! An embedded PostgreSQL cluster, started from the machine's installed server binaries.
//!
//! # Why
//!
//! Frontdesk should run (and its tests should pass) with nothing more than `cargo run` /
//! `cargo test` on a machine that has the PostgreSQL *server binaries* installed — no
//! `createuser`, no `pg_hba.conf` editing, no Docker. When no `DATABASE_URL` is configured the
//! server (data in `.frontdesk/pgdata`) and the test support (data in
//! `target/frontdesk-test-pg`) call [`EmbeddedPostgres::ensure_running`], which:
//!
//! 1. finds `initdb`, `postgres` and `pg_ctl` (an explicit directory, then `PATH`, then the
//!    highest `/usr/lib/postgresql/*/bin`, then `/usr/local/pgsql/bin`);
//! 2. on first use runs `initdb` with a random superuser password (SCRAM authentication, stored
//!    `0600` in `frontdesk_superuser.password` inside the data directory);
//! 3. starts the server on `127.0.0.1` only, on a remembered free port, with the Unix socket
//!    disabled so it cannot clash with a system cluster in `/var/run/postgresql`;
//! 4. creates the requested database, and hands back a handle that knows the URL.
//!
//! Durability settings are left at PostgreSQL's defaults (no `fsync=off`): the same code
//! backs the developer's real data under `.frontdesk/pgdata`.
//!
//! # Running as root
//!
//! `initdb` and `postgres` refuse to run as root. Containers and CI often run as root, so when
//! the effective uid is 0 every PostgreSQL tool is run as the `postgres` system user (or
//! `nobody` when that does not exist): the data directory is `chown`ed to that user and every
//! parent directory must be traversable by it — if one is not, [`EmbeddedError::DataDir`] names
//! it rather than letting `initdb` fail with a cryptic message.
//!
//! # Why `pg_ctl` (and why the cluster outlives us)
//!
//! The server is started with `pg_ctl start -w`, which daemonizes `postgres` into its own
//! session. The cluster therefore keeps running after the process that started it exits, and
//! the next `cargo test` process or server restart simply attaches to it (start-up of an
//! existing cluster costs a second; `initdb` several). [`EmbeddedPostgres::stop`] exists for
//! callers that want to shut it down explicitly.
//!
//! # Why the lock
//!
//! Several test binaries (and `cargo nextest`'s one-process-per-test) call `ensure_running` on
//! the same data directory at the same time. Every state-changing step — `initdb`, removing a
//! stale `postmaster.pid`, `pg_ctl start/stop` — happens while holding an exclusive lock on the
//! sibling file `<data_dir>.lock`, so exactly one caller initialises and starts the cluster and
//! the others attach to it.
//!
//! # Layout
//!
//! This file holds the public types and the `ensure_running` / `stop` orchestration; the
//! private submodules own the rest: `binaries` (finding the tools), `run_as` (root handling and
//! spawning tools), `files` (our files, secrets and the lock), `cluster` (initdb, attach,
//! start, `pg_ctl`), `connect` (superuser connection and database set-up) and `error`.

mod binaries;
mod cluster;
mod connect;
mod error;
mod files;
mod run_as;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use error::EmbeddedError;

use binaries::find_binaries;
use cluster::{ServerStatus, PG_CTL_WAIT_SECS};
use error::file_err;
use files::{absolute_data_dir, blocking, DirLock, APP_PASSWORD_FILE, LOG_DIR, LOG_FILE};
use run_as::{exit_str, output_tail, prepare_data_dir, run_as_user, RunAs};

/// The cluster's superuser, created by `initdb -U`.
pub const SUPERUSER: &str = "frontdesk";

/// Where and what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// The cluster's data directory (created when missing), e.g. `.frontdesk/pgdata`.
    pub data_dir: PathBuf,
    /// Directory holding `initdb`, `postgres` and `pg_ctl` (e.g. from `FRONTDESK_PG_BIN_DIR`).
    /// When set, only this directory is used; when `None` the binaries are searched for.
    pub bin_dir: Option<PathBuf>,
    /// The database to create (when missing) and to point [`EmbeddedPostgres::database_url`] at.
    pub database: String,
}

impl EmbeddedOptions {
    /// Options for `data_dir` with binaries searched for and the database `frontdesk`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            bin_dir: None,
            database: "frontdesk".into(),
        }
    }
}

/// A running embedded cluster (started by this handle or attached to).
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: SecretString,
    app_password: SecretString,
    database: String,
    run_as: Option<RunAs>,
    has_pg_stat_statements: bool,
    started_by_us: bool,
}

impl fmt::Debug for EmbeddedPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedPostgres")
            .field("data_dir", &self.data_dir)
            .field("bin_dir", &self.bin_dir)
            .field("port", &self.port)
            .field("password", &self.password)
            .field("app_password", &self.app_password)
            .field("database", &self.database)
            .field("run_as", &self.run_as.as_ref().map(|r| r.name.as_str()))
            .field("has_pg_stat_statements", &self.has_pg_stat_statements)
            .field("started_by_us", &self.started_by_us)
            .finish()
    }
}

impl EmbeddedPostgres {
    /// Starts the cluster (initdb on first use) or attaches to one already running on that data
    /// directory.
    pub async fn ensure_running(opts: EmbeddedOptions) -> Result<Self, EmbeddedError> {
        if opts.database.is_empty() || opts.database.contains('\0') {
            return Err(EmbeddedError::InvalidDatabase {
                name: opts.database,
            });
        }
        let bin_dir = find_binaries(opts.bin_dir.as_deref())?;
        let run_as = run_as_user()?;
        let data_dir = absolute_data_dir(&opts.data_dir)?;
        let _lock = DirLock::acquire(&data_dir).await?;
        Self::ensure_running_locked(data_dir, bin_dir, run_as, opts.database).await
    }

    async fn ensure_running_locked(
        data_dir: PathBuf,
        bin_dir: PathBuf,
        run_as: Option<RunAs>,
        database: String,
    ) -> Result<Self, EmbeddedError> {
        {
            let (dir, user) = (data_dir.clone(), run_as.clone());
            blocking(move || prepare_data_dir(&dir, user.as_ref())).await?;
        }

        let mut this = Self {
            data_dir,
            bin_dir,
            port: 0,
            password: SecretString::from(String::new()),
            app_password: SecretString::from(String::new()),
            database,
            run_as,
            has_pg_stat_statements: false,
            started_by_us: false,
        };

        if !this.data_dir.join("PG_VERSION").exists() {
            if fs::read_dir(&this.data_dir)
                .map_err(|e| file_err("read", &this.data_dir, e))?
                .next()
                .is_some()
            {
                return Err(this.data_dir_err(
                    "exists, is not empty and is not a PostgreSQL data directory (no PG_VERSION): \
                     point the data directory at an empty or new directory",
                ));
            }
            this.initdb().await?;
        }
        this.password = this.superuser_password()?;
        this.app_password = this.ensure_secret_file(APP_PASSWORD_FILE)?;

        if let Some(conn) = this.attach_if_running().await? {
            tracing::debug!(data_dir = %this.data_dir.display(), port = this.port, "attached to running embedded PostgreSQL");
            this.finish(conn).await?;
            return Ok(this);
        }

        this.start().await?;
        let conn = this.connect_with_retry(Duration::from_secs(10)).await?;
        this.started_by_us = true;
        this.finish(conn).await?;
        tracing::info!(
            data_dir = %this.data_dir.display(),
            port = this.port,
            pg_stat_statements = this.has_pg_stat_statements,
            "embedded PostgreSQL started"
        );
        Ok(this)
    }

    /// Superuser connection URL to the configured database
    /// (`postgres://frontdesk:PW@127.0.0.1:PORT/DB`).
    pub fn database_url(&self) -> SecretString {
        self.url_for(
            SUPERUSER,
            Some(self.password.expose_secret()),
            &self.database,
        )
    }

    /// URL for another database name / user+password on the same cluster. User, password and
    /// database are percent-encoded.
    pub fn url_for(&self, user: &str, password: Option<&str>, database: &str) -> SecretString {
        let credentials = match password {
            Some(pw) => format!("{}:{}", percent_encode(user), percent_encode(pw)),
            None => percent_encode(user),
        };
        SecretString::from(format!(
            "postgres://{credentials}@127.0.0.1:{}/{}",
            self.port,
            percent_encode(database)
        ))
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the running server preloads `pg_stat_statements` (so `CREATE EXTENSION
    /// pg_stat_statements` works).
    pub fn has_pg_stat_statements(&self) -> bool {
        self.has_pg_stat_statements
    }

    /// A stable secret for this cluster (stored `0600` in `frontdesk_app.password` inside the
    /// data directory, created once): the password the runtime role `frontdesk_app` should get.
    pub fn app_role_password(&self) -> SecretString {
        self.app_password.clone()
    }

    /// The (absolute) data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory the PostgreSQL binaries were taken from.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Whether this handle started the server (rather than attaching to a running one).
    pub fn started_by_us(&self) -> bool {
        self.started_by_us
    }

    /// The server log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join(LOG_DIR).join(LOG_FILE)
    }

    /// Fast shutdown (`pg_ctl stop -m fast -w`) — only stops if this handle started it, unless
    /// `force`. Stopping a server that is not running is not an error.
    pub async fn stop(&self, force: bool) -> Result<(), EmbeddedError> {
        if !self.started_by_us && !force {
            tracing::debug!(data_dir = %self.data_dir.display(), "not stopping embedded PostgreSQL: this handle did not start it");
            return Ok(());
        }
        let _lock = DirLock::acquire(&self.data_dir).await?;
        if self.pg_ctl_status().await? != ServerStatus::Running {
            return Ok(());
        }
        let args = [
            "stop".into(),
            "-D".into(),
            self.data_dir.clone().into_os_string(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "-t".into(),
            PG_CTL_WAIT_SECS.to_string().into(),
        ];
        let out = self.run_pg_ctl(&args).await?;
        if !out.status.success() {
            return Err(EmbeddedError::Stop {
                data_dir: self.data_dir.clone(),
                detail: format!(
                    "pg_ctl stop failed ({}): {}",
                    exit_str(&out),
                    output_tail(&out)
                ),
            });
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
        Ok(())
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
