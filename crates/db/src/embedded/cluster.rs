//! The cluster's lifecycle on disk: `initdb` and the password files, attaching to a running
//! server or cleaning up a stale `postmaster.pid`, starting it with `pg_ctl` on a remembered
//! free port, and the `pg_ctl` wrappers. Callers hold the [`DirLock`](super::files::DirLock).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use secrecy::SecretString;
use sqlx::PgConnection;

use super::binaries::pg_stat_statements_available;
use super::error::{file_err, one_line, tail, EmbeddedError, TAIL_LINES};
use super::files::{
    random_secret, read_from, read_secret, sibling, write_file, write_secret_file, LOG_DIR,
    PENDING_PASSWORD_SUFFIX, PORT_FILE, SUPERUSER_PASSWORD_FILE,
};
use super::run_as::{chown_to, exit_str, output_tail, run_tool};
use super::{EmbeddedPostgres, SUPERUSER};

/// `pg_ctl -t`: how long `pg_ctl` waits for start / stop.
pub(super) const PG_CTL_WAIT_SECS: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ServerStatus {
    Running,
    NotRunning,
}

impl EmbeddedPostgres {
    pub(super) async fn initdb(&self) -> Result<(), EmbeddedError> {
        // The password goes through a sibling file (initdb wants an empty data directory) that
        // survives a crash between initdb and moving it into the data directory.
        let pending = sibling(&self.data_dir, PENDING_PASSWORD_SUFFIX)?;
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
        let initdb = self.bin_dir.join("initdb");
        let out = run_tool(
            &initdb,
            &args,
            self.run_as.as_ref(),
            Duration::from_secs(300),
        )
        .await
        .map_err(|e| EmbeddedError::Initdb {
            data_dir: self.data_dir.clone(),
            detail: format!("could not run {}: {e}", initdb.display()),
        })?;
        if !out.status.success() {
            return Err(EmbeddedError::Initdb {
                data_dir: self.data_dir.clone(),
                detail: format!("initdb failed ({}): {}", exit_str(&out), output_tail(&out)),
            });
        }
        self.adopt_pending_password(&pending, &password)
    }

    pub(super) fn superuser_password(&self) -> Result<SecretString, EmbeddedError> {
        let path = self.data_dir.join(SUPERUSER_PASSWORD_FILE);
        if !path.exists() {
            // initdb succeeded but we crashed before moving the password in.
            let pending = sibling(&self.data_dir, PENDING_PASSWORD_SUFFIX)?;
            if !pending.exists() {
                return Err(self.data_dir_err(&format!(
                    "has no {SUPERUSER_PASSWORD_FILE}, so it was not created by Frontdesk or the file \
                     was deleted: delete the directory to reinitialise (this deletes its data) or \
                     set DATABASE_URL to an existing server"
                )));
            }
            self.adopt_pending_password(&pending, &read_secret(&pending)?)?;
        }
        Ok(SecretString::from(read_secret(&path)?))
    }

    /// Moves the superuser password from the pending sibling file into the data directory.
    fn adopt_pending_password(&self, pending: &Path, password: &str) -> Result<(), EmbeddedError> {
        write_secret_file(
            &self.data_dir.join(SUPERUSER_PASSWORD_FILE),
            password,
            self.run_as.as_ref(),
        )?;
        fs::remove_file(pending).map_err(|e| file_err("remove", pending, e))
    }

    /// The secret stored in `name` inside the data directory, created on first use.
    pub(super) fn ensure_secret_file(&self, name: &str) -> Result<SecretString, EmbeddedError> {
        let path = self.data_dir.join(name);
        if path.exists() {
            return Ok(SecretString::from(read_secret(&path)?));
        }
        let secret = random_secret();
        write_secret_file(&path, &secret, self.run_as.as_ref())?;
        Ok(SecretString::from(secret))
    }

    /// When `postmaster.pid` exists: connects to the running server, or removes the pid file
    /// when no server is running. `Ok(None)` means "start it".
    pub(super) async fn attach_if_running(
        &mut self,
    ) -> Result<Option<PgConnection>, EmbeddedError> {
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

    pub(super) async fn start(&mut self) -> Result<(), EmbeddedError> {
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

    pub(super) async fn run_pg_ctl(&self, args: &[OsString]) -> Result<Output, EmbeddedError> {
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

    pub(super) async fn pg_ctl_status(&self) -> Result<ServerStatus, EmbeddedError> {
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

    pub(super) fn data_dir_err(&self, problem: &str) -> EmbeddedError {
        EmbeddedError::DataDir {
            path: self.data_dir.clone(),
            problem: one_line(problem),
        }
    }
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

/// Whether `pid` is (still) a PostgreSQL process: guards against a stale `postmaster.pid` whose
/// pid was reused by an unrelated process after a reboot. Unknown → assume it is.
fn pid_is_postgres(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => matches!(comm.trim(), "postgres" | "postmaster"),
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
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
