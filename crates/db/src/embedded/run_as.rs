//! Root handling and running tools. `initdb` and `postgres` refuse to run as root, so when this
//! process is root every PostgreSQL tool runs as another system user: this module picks that
//! user (from `/etc/passwd`), checks the data directory's ownership and its parents'
//! traversability, `chown`s what the tools must own, and spawns the tools (as that user).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use super::error::{file_err, tail, EmbeddedError, TAIL_LINES};

/// The system user the PostgreSQL tools run as when this process is root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunAs {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// `None` when we are not root; otherwise the user to run PostgreSQL as.
pub(super) fn run_as_user() -> Result<Option<RunAs>, EmbeddedError> {
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

pub(super) fn lookup_user(passwd: &str, name: &str) -> Option<RunAs> {
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

pub(super) fn effective_uid() -> Result<u32, EmbeddedError> {
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

/// Checks parents, ownership and mode of the data directory (which exists).
pub(super) fn prepare_data_dir(
    data_dir: &Path,
    run_as: Option<&RunAs>,
) -> Result<(), EmbeddedError> {
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

/// Gives `path` to `run_as` (when we are root); a no-op otherwise.
pub(super) fn chown_to(path: &Path, run_as: Option<&RunAs>) -> Result<(), EmbeddedError> {
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| file_err("chown", path, e))?;
    }
    Ok(())
}

/// Runs a PostgreSQL tool (as `run_as` when given) and collects its output.
pub(super) async fn run_tool(
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
pub(super) fn exit_str(out: &Output) -> String {
    match out.status.code() {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".into(),
    }
}

/// The last lines of a tool's stderr (or stdout when stderr is empty), on one line.
pub(super) fn output_tail(out: &Output) -> String {
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
