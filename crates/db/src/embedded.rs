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

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// The cluster's superuser, created by `initdb -U`.
pub const SUPERUSER: &str = "frontdesk";

/// File inside the data directory holding the superuser's password.
const SUPERUSER_PASSWORD_FILE: &str = "frontdesk_superuser.password";
/// File inside the data directory holding the runtime role's password.
const APP_PASSWORD_FILE: &str = "frontdesk_app.password";
/// File inside the data directory holding the port of the last start.
const PORT_FILE: &str = "frontdesk_port";
/// Log directory (inside the data directory) and file that `pg_ctl -l` appends to.
const LOG_DIR: &str = "log";
const LOG_FILE: &str = "postgres.log";
/// The binaries that must all live in the same directory.
const REQUIRED_BINARIES: [&str; 3] = ["initdb", "postgres", "pg_ctl"];
/// How many trailing lines of a tool's output or log an error message carries.
const TAIL_LINES: usize = 5;
/// `pg_ctl -t`: how long `pg_ctl` waits for start / stop.
const PG_CTL_WAIT_SECS: u64 = 60;

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

/// The system user the PostgreSQL tools run as when this process is root.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
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

/// Why the embedded cluster could not be provided. Every `Display` is a single line that says
/// what is wrong and how to fix it; none contains a password.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// `initdb` / `postgres` / `pg_ctl` are not installed where we look.
    #[error(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found {searched}: install them \
         (Debian/Ubuntu: apt-get install postgresql), set FRONTDESK_PG_BIN_DIR to their directory, \
         or set DATABASE_URL to an existing server"
    )]
    BinariesNotFound {
        /// Where we looked, as a phrase ("on PATH, under …").
        searched: String,
    },
    /// The data directory (or one of its parents) is unusable.
    #[error("embedded PostgreSQL data directory {}: {problem}", path.display())]
    DataDir {
        /// The directory at fault.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The requested database name cannot be used.
    #[error("invalid embedded PostgreSQL database name {name:?}: use a non-empty name without NUL characters")]
    InvalidDatabase {
        /// The rejected name.
        name: String,
    },
    /// Reading or writing one of our files failed.
    #[error("could not {action} {}: {source}; check its permissions and free disk space", path.display())]
    File {
        /// What we were doing ("write", "read", …).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `initdb` failed.
    #[error(
        "initdb failed for {}: {detail}; fix the cause and retry (delete the directory if it was left half-initialised)",
        data_dir.display()
    )]
    Initdb {
        /// The data directory.
        data_dir: PathBuf,
        /// Exit status and the last lines of initdb's output.
        detail: String,
    },
    /// `pg_ctl start` failed, or a server that cannot be used is running on the directory.
    #[error("could not start embedded PostgreSQL in {}: {detail} (full log: {})", data_dir.display(), log_file.display())]
    Start {
        /// The data directory.
        data_dir: PathBuf,
        /// What went wrong, with the last lines of the log / pg_ctl output.
        detail: String,
        /// The server log.
        log_file: PathBuf,
    },
    /// The server runs but does not accept the superuser's connection.
    #[error(
        "could not connect to embedded PostgreSQL at 127.0.0.1:{port} as {user}: {}; check that the server is healthy in {} and that frontdesk_superuser.password in the data directory is the one it was initialised with",
        one_line(&source.to_string()),
        log_file.display()
    )]
    Connect {
        /// The port we tried.
        port: u16,
        /// The user we logged in as.
        user: String,
        /// The server log.
        log_file: PathBuf,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A set-up statement (e.g. `CREATE DATABASE`) failed.
    #[error("could not {action} on the embedded PostgreSQL cluster: {}; see {}", one_line(&source.to_string()), log_file.display())]
    Sql {
        /// What we were doing.
        action: String,
        /// The server log.
        log_file: PathBuf,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// `pg_ctl stop` failed.
    #[error(
        "could not stop embedded PostgreSQL in {}: {detail}; stop it manually with `pg_ctl -D {} stop -m immediate`",
        data_dir.display(),
        data_dir.display()
    )]
    Stop {
        /// The data directory.
        data_dir: PathBuf,
        /// Exit status and the last lines of pg_ctl's output.
        detail: String,
    },
    /// Any other I/O failure (spawning a tool, a background task, …).
    #[error("I/O error while managing the embedded PostgreSQL cluster: {0}; check permissions and free disk space")]
    Io(#[from] io::Error),
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
        let lock = DirLock::acquire(&data_dir).await?;
        let result = Self::ensure_running_locked(data_dir, bin_dir, run_as, opts.database).await;
        drop(lock);
        result
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

    // ---------------------------------------------------------------------------------------
    // initdb and secrets

    async fn initdb(&self) -> Result<(), EmbeddedError> {
        // The password goes through a sibling file (initdb wants an empty data directory) that
        // survives a crash between initdb and moving it into the data directory.
        let pending = sibling(&self.data_dir, ".initdb-password")?;
        let password = if pending.exists() {
            read_secret(&pending)?
        } else {
            let pw = random_secret();
            write_secret_file(&pending, &pw, self.run_as.as_ref())?;
            pw
        };
        tracing::info!(data_dir = %self.data_dir.display(), bin_dir = %self.bin_dir.display(), "initialising embedded PostgreSQL cluster");
        let mut pwfile_arg = OsString::from("--pwfile=");
        pwfile_arg.push(&pending);
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.data_dir.clone().into_os_string(),
            "-U".into(),
            SUPERUSER.into(),
            "--auth=scram-sha-256".into(),
            pwfile_arg,
            "-E".into(),
            "UTF8".into(),
            "--locale=C".into(),
        ];
        let out = run_tool(
            &self.bin_dir.join("initdb"),
            &args,
            self.run_as.as_ref(),
            Duration::from_secs(300),
        )
        .await
        .map_err(|e| EmbeddedError::Initdb {
            data_dir: self.data_dir.clone(),
            detail: format!(
                "could not run {}: {e}",
                self.bin_dir.join("initdb").display()
            ),
        })?;
        if !out.status.success() {
            return Err(EmbeddedError::Initdb {
                data_dir: self.data_dir.clone(),
                detail: format!("initdb failed ({}): {}", exit_str(&out), output_tail(&out)),
            });
        }
        write_secret_file(
            &self.data_dir.join(SUPERUSER_PASSWORD_FILE),
            &password,
            self.run_as.as_ref(),
        )?;
        fs::remove_file(&pending).map_err(|e| file_err("remove", &pending, e))?;
        Ok(())
    }

    fn superuser_password(&self) -> Result<SecretString, EmbeddedError> {
        let path = self.data_dir.join(SUPERUSER_PASSWORD_FILE);
        if !path.exists() {
            // initdb succeeded but we crashed before moving the password in.
            let pending = sibling(&self.data_dir, ".initdb-password")?;
            if pending.exists() {
                let pw = read_secret(&pending)?;
                write_secret_file(&path, &pw, self.run_as.as_ref())?;
                fs::remove_file(&pending).map_err(|e| file_err("remove", &pending, e))?;
            } else {
                return Err(self.data_dir_err(&format!(
                    "has no {SUPERUSER_PASSWORD_FILE}, so it was not created by Frontdesk or the file \
                     was deleted: delete the directory to reinitialise (this deletes its data) or \
                     set DATABASE_URL to an existing server"
                )));
            }
        }
        Ok(SecretString::from(read_secret(&path)?))
    }

    fn ensure_secret_file(&self, name: &str) -> Result<SecretString, EmbeddedError> {
        let path = self.data_dir.join(name);
        if path.exists() {
            return Ok(SecretString::from(read_secret(&path)?));
        }
        let secret = random_secret();
        write_secret_file(&path, &secret, self.run_as.as_ref())?;
        Ok(SecretString::from(secret))
    }

    // ---------------------------------------------------------------------------------------
    // attach / start

    /// When `postmaster.pid` exists: connects to the running server, or removes the pid file
    /// when no server is running. `Ok(None)` means "start it".
    async fn attach_if_running(&mut self) -> Result<Option<PgConnection>, EmbeddedError> {
        let pid_path = self.data_dir.join("postmaster.pid");
        if !pid_path.exists() {
            return Ok(None);
        }
        let pid_file = read_pid_file(&pid_path);
        let port = pid_file
            .as_ref()
            .and_then(|p| p.port)
            .or_else(|| read_port_file(&self.data_dir));
        let mut last_error = None;
        if let Some(port) = port {
            self.port = port;
            match self.connect().await {
                Ok(conn) => return Ok(Some(conn)),
                Err(e) => last_error = Some(e),
            }
        }

        let status = self.pg_ctl_status().await?;
        let pid_is_postgres = pid_file.as_ref().is_none_or(|p| pid_is_postgres(p.pid));
        if status == ServerStatus::Running && pid_is_postgres {
            // Possibly still starting up or in crash recovery: give it time.
            if port.is_some() {
                if let Ok(conn) = self.connect_with_retry(Duration::from_secs(60)).await {
                    return Ok(Some(conn));
                }
            }
            let reason = match (&last_error, port) {
                (Some(e), Some(p)) => {
                    format!("it does not accept connections on 127.0.0.1:{p}: {e}")
                }
                _ => "its postmaster.pid records no TCP port".to_string(),
            };
            return Err(EmbeddedError::Start {
                data_dir: self.data_dir.clone(),
                detail: format!(
                    "a server (pid {}) is already running on this data directory but {}; stop it with \
                     `{} -D {} stop -m fast` and retry",
                    pid_file.map_or_else(|| "?".to_string(), |p| p.pid.to_string()),
                    one_line(&reason),
                    self.bin_dir.join("pg_ctl").display(),
                    self.data_dir.display()
                ),
                log_file: self.log_file(),
            });
        }

        tracing::warn!(
            data_dir = %self.data_dir.display(),
            "removing stale postmaster.pid (no server is running on this data directory)"
        );
        match fs::remove_file(&pid_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_err("remove stale", &pid_path, e)),
        }
        Ok(None)
    }

    async fn start(&mut self) -> Result<(), EmbeddedError> {
        let log_dir = self.data_dir.join(LOG_DIR);
        if !log_dir.exists() {
            fs::create_dir(&log_dir).map_err(|e| file_err("create", &log_dir, e))?;
            fs::set_permissions(&log_dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| file_err("chmod", &log_dir, e))?;
            chown_to(&log_dir, self.run_as.as_ref())?;
        }
        let log_file = self.log_file();
        let preload = pg_stat_statements_available(&self.bin_dir).await;

        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let port = choose_port(&self.data_dir, attempt == 1)?;
            self.port = port;
            let port_file = self.data_dir.join(PORT_FILE);
            write_file(
                &port_file,
                port.to_string().as_bytes(),
                0o600,
                self.run_as.as_ref(),
            )?;

            let mut options = format!(
                "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
                 -c max_connections=200 -c shared_buffers=128MB"
            );
            if preload {
                options.push_str(" -c shared_preload_libraries=pg_stat_statements");
            }
            let log_offset = fs::metadata(&log_file).map(|m| m.len()).unwrap_or(0);
            let args: Vec<OsString> = vec![
                "start".into(),
                "-D".into(),
                self.data_dir.clone().into_os_string(),
                "-l".into(),
                log_file.clone().into_os_string(),
                "-w".into(),
                "-t".into(),
                PG_CTL_WAIT_SECS.to_string().into(),
                "-o".into(),
                options.into(),
            ];
            tracing::debug!(data_dir = %self.data_dir.display(), port, attempt, "starting embedded PostgreSQL");
            let out = self.run_pg_ctl(&args).await?;
            if out.status.success() {
                return Ok(());
            }
            let new_log = read_from(&log_file, log_offset);
            if attempt < ATTEMPTS && new_log.contains("Address already in use") {
                tracing::warn!(
                    port,
                    "port taken while starting embedded PostgreSQL; retrying on another port"
                );
                continue;
            }
            let log_tail = tail(&new_log, TAIL_LINES);
            return Err(EmbeddedError::Start {
                data_dir: self.data_dir.clone(),
                detail: format!(
                    "pg_ctl start failed ({}): {}{}; fix the problem reported there and retry",
                    exit_str(&out),
                    output_tail(&out),
                    if log_tail.is_empty() {
                        String::new()
                    } else {
                        format!("; log: {log_tail}")
                    }
                ),
                log_file,
            });
        }
        unreachable!("the last attempt always returns")
    }

    /// Ensures the database exists, reads the preload setting, closes the connection.
    async fn finish(&mut self, mut conn: PgConnection) -> Result<(), EmbeddedError> {
        let log_file = self.log_file();
        let sql_err = |action: String| {
            let log_file = log_file.clone();
            move |source| EmbeddedError::Sql {
                action,
                log_file,
                source,
            }
        };
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&self.database)
                .fetch_one(&mut conn)
                .await
                .map_err(sql_err("look up databases".into()))?;
        if !exists {
            let create = format!("CREATE DATABASE {}", quote_ident(&self.database));
            match sqlx::query(&create).execute(&mut conn).await {
                Ok(_) => {
                    tracing::info!(database = %self.database, "created database on embedded PostgreSQL")
                }
                // Created concurrently by someone not holding our lock: fine.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => {
                    return Err(sql_err(format!("create database {:?}", self.database))(e));
                }
            }
        }
        let preload: String =
            sqlx::query_scalar("SELECT current_setting('shared_preload_libraries')")
                .fetch_one(&mut conn)
                .await
                .map_err(sql_err("read shared_preload_libraries".into()))?;
        self.has_pg_stat_statements = preload
            .split(',')
            .any(|lib| lib.trim().trim_matches('"') == "pg_stat_statements");
        let _ = conn.close().await;
        Ok(())
    }

    async fn connect(&self) -> Result<PgConnection, EmbeddedError> {
        let options = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(self.password.expose_secret())
            .database("postgres")
            .ssl_mode(PgSslMode::Disable)
            .application_name("frontdesk-embedded");
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            PgConnection::connect_with(&options),
        )
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out after 10s",
            )))
        });
        result.map_err(|source| EmbeddedError::Connect {
            port: self.port,
            user: SUPERUSER.into(),
            log_file: self.log_file(),
            source,
        })
    }

    async fn connect_with_retry(&self, patience: Duration) -> Result<PgConnection, EmbeddedError> {
        let deadline = Instant::now() + patience;
        loop {
            match self.connect().await {
                Ok(conn) => return Ok(conn),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(EmbeddedError::Connect {
                    source: sqlx::Error::Database(db),
                    port,
                    user,
                    log_file,
                }) if db.code().as_deref() == Some("28P01") => {
                    // Wrong password: waiting will not help.
                    return Err(EmbeddedError::Connect {
                        source: sqlx::Error::Database(db),
                        port,
                        user,
                        log_file,
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // pg_ctl

    async fn run_pg_ctl(&self, args: &[OsString]) -> Result<Output, EmbeddedError> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        run_tool(
            &pg_ctl,
            args,
            self.run_as.as_ref(),
            Duration::from_secs(PG_CTL_WAIT_SECS + 30),
        )
        .await
        .map_err(|e| EmbeddedError::Start {
            data_dir: self.data_dir.clone(),
            detail: format!("could not run {}: {e}", pg_ctl.display()),
            log_file: self.log_file(),
        })
    }

    async fn pg_ctl_status(&self) -> Result<ServerStatus, EmbeddedError> {
        let args = [
            "status".into(),
            "-D".into(),
            self.data_dir.clone().into_os_string(),
        ];
        let out = self.run_pg_ctl(&args).await?;
        match out.status.code() {
            Some(0) => Ok(ServerStatus::Running),
            Some(3) => Ok(ServerStatus::NotRunning),
            _ => Err(EmbeddedError::Start {
                data_dir: self.data_dir.clone(),
                detail: format!(
                    "pg_ctl status failed ({}): {}; check that the directory is readable by the \
                     user running PostgreSQL",
                    exit_str(&out),
                    output_tail(&out)
                ),
                log_file: self.log_file(),
            }),
        }
    }

    fn data_dir_err(&self, problem: &str) -> EmbeddedError {
        EmbeddedError::DataDir {
            path: self.data_dir.clone(),
            problem: one_line(problem),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerStatus {
    Running,
    NotRunning,
}

// -------------------------------------------------------------------------------------------
// Binaries

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn has_all_binaries(dir: &Path) -> bool {
    REQUIRED_BINARIES
        .iter()
        .all(|b| is_executable(&dir.join(b)))
}

/// Finds the directory holding `initdb`, `postgres` and `pg_ctl`.
fn find_binaries(explicit: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = explicit {
        if has_all_binaries(dir) {
            return Ok(fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()));
        }
        return Err(EmbeddedError::BinariesNotFound {
            searched: format!("in {} (the configured FRONTDESK_PG_BIN_DIR)", dir.display()),
        });
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                continue;
            }
            // Prefer the real installation directory when PATH holds symlinks
            // (e.g. /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb).
            if let Some(real_dir) = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                if has_all_binaries(&real_dir) {
                    return Ok(real_dir);
                }
            }
            if has_all_binaries(&dir) {
                return Ok(dir);
            }
        }
    }
    if let Some(dir) = highest_debian_bin_dir(Path::new("/usr/lib/postgresql")) {
        return Ok(dir);
    }
    let local = Path::new("/usr/local/pgsql/bin");
    if has_all_binaries(local) {
        return Ok(local.to_path_buf());
    }
    Err(EmbeddedError::BinariesNotFound {
        searched: "on PATH, under /usr/lib/postgresql/*/bin or in /usr/local/pgsql/bin".into(),
    })
}

/// The `<root>/<version>/bin` with the highest version that holds all binaries.
fn highest_debian_bin_dir(root: &Path) -> Option<PathBuf> {
    let entries = fs::read_dir(root).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(&entry.file_name().to_string_lossy())?;
            let bin = entry.path().join("bin");
            has_all_binaries(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// "15" → [15], "9.6" → [9, 6]; anything else → None.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|p| p.parse().ok()).collect()
}

/// Whether `pg_stat_statements` can be preloaded: its control file exists under the
/// installation's share directory (and, when `pg_config` tells us, its library too).
async fn pg_stat_statements_available(bin_dir: &Path) -> bool {
    let pg_config = bin_dir.join("pg_config");
    let mut share_dirs = Vec::new();
    let mut lib_dir = None;
    if is_executable(&pg_config) {
        let query = |flag: &'static str| {
            let pg_config = pg_config.clone();
            async move {
                let out = run_tool(&pg_config, &[flag.into()], None, Duration::from_secs(10))
                    .await
                    .ok()?;
                let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
                (out.status.success() && !text.is_empty()).then(|| PathBuf::from(text))
            }
        };
        share_dirs.extend(query("--sharedir").await);
        lib_dir = query("--pkglibdir").await;
    }
    if share_dirs.is_empty() {
        if let Some(prefix) = bin_dir.parent() {
            share_dirs.push(prefix.join("share/postgresql"));
            share_dirs.push(prefix.join("share"));
            // Debian: /usr/lib/postgresql/15/bin → /usr/share/postgresql/15
            if let Some(version) = prefix.file_name().and_then(|n| n.to_str()) {
                if parse_version(version).is_some() {
                    share_dirs.push(Path::new("/usr/share/postgresql").join(version));
                }
            }
        }
    }
    let control = share_dirs
        .iter()
        .any(|d| d.join("extension/pg_stat_statements.control").is_file());
    let library = lib_dir.is_none_or(|d| d.join("pg_stat_statements.so").is_file());
    control && library
}

// -------------------------------------------------------------------------------------------
// Users and permissions

/// `None` when we are not root; otherwise the user to run PostgreSQL as.
fn run_as_user() -> Result<Option<RunAs>, EmbeddedError> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd")
        .map_err(|e| file_err("read", Path::new("/etc/passwd"), e))?;
    for name in ["postgres", "nobody"] {
        if let Some(user) = lookup_user(&passwd, name) {
            return Ok(Some(user));
        }
    }
    Err(EmbeddedError::DataDir {
        path: PathBuf::from("/etc/passwd"),
        problem:
            "this process runs as root, which PostgreSQL refuses, and neither a `postgres` nor a \
                  `nobody` user exists to run it as: create one (useradd --system postgres) or run \
                  as a non-root user"
                .into(),
    })
}

fn lookup_user(passwd: &str, name: &str) -> Option<RunAs> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(RunAs {
            name: name.to_string(),
            uid,
            gid,
        })
    })
}

fn effective_uid() -> Result<u32, EmbeddedError> {
    // /proc/self is owned by the process's effective uid.
    if let Ok(meta) = fs::metadata("/proc/self") {
        return Ok(meta.uid());
    }
    let out = std::process::Command::new("id").arg("-u").output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            EmbeddedError::Io(io::Error::other(
                "could not determine the effective user id (no /proc/self and `id -u` failed)",
            ))
        })
}

/// Makes the path absolute and canonical, creating the directory when missing.
fn absolute_data_dir(data_dir: &Path) -> Result<PathBuf, EmbeddedError> {
    fs::create_dir_all(data_dir).map_err(|e| EmbeddedError::DataDir {
        path: data_dir.to_path_buf(),
        problem: one_line(&format!(
            "could not create it: {e}; choose a writable location or create it yourself"
        )),
    })?;
    fs::canonicalize(data_dir).map_err(|e| file_err("resolve", data_dir, e))
}

/// Checks parents, ownership and mode of the data directory (which exists).
fn prepare_data_dir(data_dir: &Path, run_as: Option<&RunAs>) -> Result<(), EmbeddedError> {
    let meta = fs::metadata(data_dir).map_err(|e| file_err("inspect", data_dir, e))?;
    if !meta.is_dir() {
        return Err(EmbeddedError::DataDir {
            path: data_dir.to_path_buf(),
            problem: "is not a directory: remove it or choose another data directory".into(),
        });
    }
    match run_as {
        Some(user) => {
            for parent in data_dir.ancestors().skip(1) {
                let pmeta = fs::metadata(parent).map_err(|e| file_err("inspect", parent, e))?;
                if !traversable(&pmeta, user) {
                    return Err(EmbeddedError::DataDir {
                        path: parent.to_path_buf(),
                        problem: format!(
                            "is not traversable by user {} (uid {}), which runs PostgreSQL because \
                             this process is root: `chmod o+x {}` or choose a data directory elsewhere \
                             (e.g. under /tmp or /var/lib)",
                            user.name,
                            user.uid,
                            parent.display()
                        ),
                    });
                }
            }
            if meta.uid() != user.uid || meta.gid() != user.gid {
                tracing::info!(data_dir = %data_dir.display(), user = %user.name, "changing owner of embedded PostgreSQL data directory");
                chown_recursive(data_dir, user)?;
            }
        }
        None => {
            let me = effective_uid()?;
            if meta.uid() != me {
                return Err(EmbeddedError::DataDir {
                    path: data_dir.to_path_buf(),
                    problem: format!(
                        "is owned by uid {}, but PostgreSQL must run as its owner and this process \
                         runs as uid {me}: `chown -R {me} {}` or choose another data directory",
                        meta.uid(),
                        data_dir.display()
                    ),
                });
            }
        }
    }
    if meta.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| file_err("chmod 0700", data_dir, e))?;
    }
    Ok(())
}

/// Whether `user` (with only its primary group, as our child processes have) may enter `dir`.
fn traversable(meta: &fs::Metadata, user: &RunAs) -> bool {
    let mode = meta.mode();
    if meta.uid() == user.uid {
        mode & 0o100 != 0
    } else if meta.gid() == user.gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

fn chown_recursive(path: &Path, user: &RunAs) -> Result<(), EmbeddedError> {
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))
        .map_err(|e| file_err("chown", path, e))?;
    let meta = fs::symlink_metadata(path).map_err(|e| file_err("inspect", path, e))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(|e| file_err("read", path, e))? {
            let entry = entry.map_err(|e| file_err("read", path, e))?;
            chown_recursive(&entry.path(), user)?;
        }
    }
    Ok(())
}

fn chown_to(path: &Path, run_as: Option<&RunAs>) -> Result<(), EmbeddedError> {
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| file_err("chown", path, e))?;
    }
    Ok(())
}

/// Whether `pid` is (still) a PostgreSQL process: guards against a stale `postmaster.pid` whose
/// pid was reused by an unrelated process after a reboot. Unknown → assume it is.
fn pid_is_postgres(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => matches!(comm.trim(), "postgres" | "postmaster"),
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

// -------------------------------------------------------------------------------------------
// Files

fn file_err(action: &'static str, path: &Path, source: io::Error) -> EmbeddedError {
    EmbeddedError::File {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// `<parent>/<name><suffix>` for the data directory `<parent>/<name>`.
fn sibling(data_dir: &Path, suffix: &str) -> Result<PathBuf, EmbeddedError> {
    match (data_dir.parent(), data_dir.file_name()) {
        (Some(parent), Some(name)) => {
            let mut file = name.to_os_string();
            file.push(suffix);
            Ok(parent.join(file))
        }
        _ => Err(EmbeddedError::DataDir {
            path: data_dir.to_path_buf(),
            problem:
                "has no parent directory: use a subdirectory such as /var/lib/frontdesk/pgdata"
                    .into(),
        }),
    }
}

fn write_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    run_as: Option<&RunAs>,
) -> Result<(), EmbeddedError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| file_err("write", path, e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| file_err("write", path, e))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| file_err("chmod", path, e))?;
    chown_to(path, run_as)
}

fn write_secret_file(
    path: &Path,
    secret: &str,
    run_as: Option<&RunAs>,
) -> Result<(), EmbeddedError> {
    write_file(path, format!("{secret}\n").as_bytes(), 0o600, run_as)
}

fn read_secret(path: &Path) -> Result<String, EmbeddedError> {
    let text = fs::read_to_string(path).map_err(|e| file_err("read", path, e))?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(EmbeddedError::File {
            action: "use",
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidData, "the file is empty"),
        });
    }
    Ok(secret)
}

fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

#[derive(Debug)]
struct PidFile {
    pid: u32,
    port: Option<u16>,
}

/// `postmaster.pid`: line 1 is the pid, line 4 the port.
fn read_pid_file(path: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let port = lines.nth(2).and_then(|l| l.trim().parse().ok());
    Some(PidFile { pid, port })
}

fn read_port_file(data_dir: &Path) -> Option<u16> {
    fs::read_to_string(data_dir.join(PORT_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The recorded port when `prefer_recorded` and it is free, else a fresh free port.
fn choose_port(data_dir: &Path, prefer_recorded: bool) -> Result<u16, EmbeddedError> {
    if prefer_recorded {
        if let Some(port) = read_port_file(data_dir) {
            if port != 0 && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// The text of `path` from byte `offset` on (at most the last 64 KiB of it).
fn read_from(path: &Path, offset: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = offset.max(len.saturating_sub(64 * 1024)).min(len);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

// -------------------------------------------------------------------------------------------
// Running tools

/// Runs a PostgreSQL tool (as `run_as` when given) and collects its output.
async fn run_tool(
    program: &Path,
    args: &[OsString],
    run_as: Option<&RunAs>,
    timeout: Duration,
) -> io::Result<Output> {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        // Our cwd may not be accessible to the user we switch to.
        .current_dir("/")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "PGDATA",
        "PGPORT",
        "PGHOST",
        "PGUSER",
        "PGOPTIONS",
        "PGCTLTIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    match tokio::time::timeout(timeout, cmd.output()).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{} did not finish within {}s",
                program.display(),
                timeout.as_secs()
            ),
        )),
    }
}

/// "exit code 1" / "killed by a signal".
fn exit_str(out: &Output) -> String {
    match out.status.code() {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".into(),
    }
}

/// The last lines of a tool's stderr (or stdout when stderr is empty), on one line.
fn output_tail(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&out.stdout)
    } else {
        stderr
    };
    let t = tail(&text, TAIL_LINES);
    if t.is_empty() {
        "(no output)".into()
    } else {
        t
    }
}

/// The last `n` non-empty lines of `text`, joined with " | ".
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

// -------------------------------------------------------------------------------------------
// Misc helpers

async fn blocking<T, F>(f: F) -> Result<T, EmbeddedError>
where
    F: FnOnce() -> Result<T, EmbeddedError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EmbeddedError::Io(io::Error::other(e)))?
}

/// An exclusive lock on `<data_dir>.lock`, released on drop.
#[derive(Debug)]
struct DirLock {
    _file: File,
}

impl DirLock {
    async fn acquire(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let path = sibling(data_dir, ".lock")?;
        blocking(move || {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| file_err("open lock file", &path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    tracing::info!(lock = %path.display(), "waiting for another process to finish starting embedded PostgreSQL");
                    file.lock().map_err(|e| file_err("lock", &path, e))?;
                }
                Err(fs::TryLockError::Error(e)) => return Err(file_err("lock", &path, e)),
            }
            Ok(Self { _file: file })
        })
        .await
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

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Executor;

    fn temp_data_dir(tag: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!(
                "frontdesk-embedded-test-{tag}-{}",
                Uuid::new_v4().simple()
            ))
            .join("pgdata")
    }

    fn cleanup(data_dir: &Path) {
        if let Some(parent) = data_dir.parent() {
            let _ = fs::remove_dir_all(parent);
        }
    }

    async fn select_one(pg: &EmbeddedPostgres) -> i32 {
        let mut conn = PgConnection::connect(pg.database_url().expose_secret())
            .await
            .expect("connect with database_url");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .expect("SELECT 1");
        conn.close().await.expect("close");
        one
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starts_attaches_and_stops() {
        let data_dir = temp_data_dir("lifecycle");
        let opts = EmbeddedOptions {
            data_dir: data_dir.clone(),
            bin_dir: None,
            database: "frontdesk".into(),
        };
        let first = EmbeddedPostgres::ensure_running(opts.clone())
            .await
            .expect("first ensure_running");
        assert!(first.started_by_us());
        eprintln!("{first:?}");
        assert_eq!(select_one(&first).await, 1);
        let url = first.database_url();
        assert!(url
            .expose_secret()
            .ends_with(&format!(":{}/frontdesk", first.port())));
        let debug = format!("{first:?}");
        assert!(!debug.contains(first.password.expose_secret()));
        assert!(!debug.contains(first.app_role_password().expose_secret()));
        for file in [SUPERUSER_PASSWORD_FILE, APP_PASSWORD_FILE] {
            let mode = fs::metadata(first.data_dir().join(file))
                .expect("secret file")
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }

        let second = EmbeddedPostgres::ensure_running(opts.clone())
            .await
            .expect("second ensure_running");
        assert!(!second.started_by_us());
        assert_eq!(second.port(), first.port());
        assert_eq!(
            second.app_role_password().expose_secret(),
            first.app_role_password().expose_secret()
        );
        assert_eq!(
            second.has_pg_stat_statements(),
            first.has_pg_stat_statements()
        );
        if second.has_pg_stat_statements() {
            let mut conn = PgConnection::connect(second.database_url().expose_secret())
                .await
                .expect("connect");
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                .await
                .expect("pg_stat_statements is preloaded");
            conn.close().await.expect("close");
        }

        // A handle that attached does not stop the cluster...
        second.stop(false).await.expect("no-op stop");
        assert_eq!(select_one(&first).await, 1);
        // ...the one that started it does.
        first.stop(false).await.expect("stop");
        assert!(!data_dir.join("postmaster.pid").exists());
        assert!(PgConnection::connect(first.database_url().expose_secret())
            .await
            .is_err());
        // Stopping twice is fine.
        first.stop(true).await.expect("second stop");

        // A stale postmaster.pid (crash / reboot) is cleaned up and the cluster restarts,
        // on the recorded port when it is still free.
        let dead_pid = (100_000u32..4_000_000)
            .find(|pid| !Path::new(&format!("/proc/{pid}")).exists())
            .expect("a free pid");
        fs::write(
            data_dir.join("postmaster.pid"),
            format!(
                "{dead_pid}\n{}\n0\n{}\n\n127.0.0.1\n0 0\nready\n",
                data_dir.display(),
                first.port()
            ),
        )
        .expect("write fake postmaster.pid");
        let third = EmbeddedPostgres::ensure_running(opts.clone())
            .await
            .expect("restart after stale pid");
        assert!(third.started_by_us());
        assert_eq!(select_one(&third).await, 1);
        third.stop(false).await.expect("stop third");

        // A pid file whose pid now belongs to an unrelated process is stale too.
        fs::write(
            data_dir.join("postmaster.pid"),
            format!(
                "{}\n{}\n0\n{}\n\n127.0.0.1\n0 0\nready\n",
                std::process::id(),
                data_dir.display(),
                first.port()
            ),
        )
        .expect("write fake postmaster.pid");
        let fourth = EmbeddedPostgres::ensure_running(opts.clone())
            .await
            .expect("restart after reused pid");
        assert!(fourth.started_by_us());
        fourth.stop(false).await.expect("stop fourth");

        // A start failure reports the log's last lines on one line.
        let conf = data_dir.join("postgresql.conf");
        let original = fs::read_to_string(&conf).expect("read postgresql.conf");
        fs::write(&conf, format!("{original}\nfrontdesk_bogus_setting = 1\n")).expect("write conf");
        let err = EmbeddedPostgres::ensure_running(opts.clone())
            .await
            .expect_err("bad configuration");
        let msg = err.to_string();
        eprintln!("{msg}");
        assert!(matches!(err, EmbeddedError::Start { .. }), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("frontdesk_bogus_setting"), "{msg}");
        assert!(!msg.contains(first.password.expose_secret()));
        fs::write(&conf, original).expect("restore conf");
        let fifth = EmbeddedPostgres::ensure_running(opts)
            .await
            .expect("start after fixing the configuration");
        fifth.stop(false).await.expect("stop fifth");
        cleanup(&data_dir);
    }

    #[tokio::test]
    async fn root_requires_traversable_parents() {
        if effective_uid().expect("uid") != 0 {
            return;
        }
        let outer = temp_data_dir("private");
        let private = outer.parent().expect("parent").to_path_buf();
        fs::create_dir_all(&private).expect("mkdir");
        fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).expect("chmod");
        let err = EmbeddedPostgres::ensure_running(EmbeddedOptions::new(private.join("a/pgdata")))
            .await
            .expect_err("parent not traversable");
        let msg = err.to_string();
        eprintln!("{msg}");
        assert!(
            matches!(&err, EmbeddedError::DataDir { path, .. } if *path == private),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
        cleanup(&outer);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_share_one_cluster() {
        let data_dir = temp_data_dir("concurrent");
        let opts = EmbeddedOptions {
            data_dir: data_dir.clone(),
            bin_dir: None,
            database: "other_db".into(),
        };
        let (a, b, c) = tokio::join!(
            EmbeddedPostgres::ensure_running(opts.clone()),
            EmbeddedPostgres::ensure_running(opts.clone()),
            EmbeddedPostgres::ensure_running(opts.clone()),
        );
        let handles = [a, b, c].map(|r| r.expect("ensure_running"));
        assert_eq!(handles.iter().filter(|h| h.started_by_us()).count(), 1);
        assert!(handles.iter().all(|h| h.port() == handles[0].port()));
        assert_eq!(select_one(&handles[1]).await, 1);
        let other = handles[0].url_for(
            SUPERUSER,
            Some(handles[0].password.expose_secret()),
            "postgres",
        );
        assert!(other.expose_secret().ends_with("/postgres"));
        for h in &handles {
            h.stop(false).await.expect("stop");
        }
        assert!(!data_dir.join("postmaster.pid").exists());
        cleanup(&data_dir);
    }

    #[tokio::test]
    async fn missing_binaries_error_is_one_actionable_line() {
        let opts = EmbeddedOptions {
            data_dir: temp_data_dir("nobin"),
            bin_dir: Some(PathBuf::from("/nonexistent/pg/bin")),
            database: "frontdesk".into(),
        };
        let err = EmbeddedPostgres::ensure_running(opts)
            .await
            .expect_err("no binaries there");
        let msg = err.to_string();
        assert!(matches!(err, EmbeddedError::BinariesNotFound { .. }));
        assert!(!msg.contains('\n'));
        assert!(msg.contains("/nonexistent/pg/bin"));
        assert!(msg.contains("apt-get install postgresql"));
        assert!(msg.contains("DATABASE_URL"));
    }

    #[test]
    fn helpers() {
        assert_eq!(percent_encode("a b@c:d/é"), "a%20b%40c%3Ad%2F%C3%A9");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(tail("a\n\nb\nc\nd\ne\nf\ng\n", 5), "c | d | e | f | g");
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("common"), None);
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n";
        assert_eq!(
            lookup_user(passwd, "postgres"),
            Some(RunAs {
                name: "postgres".into(),
                uid: 101,
                gid: 104
            })
        );
        assert_eq!(lookup_user(passwd, "nobody"), None);
        let sib = sibling(Path::new("/tmp/x/pgdata"), ".lock").expect("sibling");
        assert_eq!(sib, PathBuf::from("/tmp/x/pgdata.lock"));
    }
}
