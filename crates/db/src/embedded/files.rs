//! The files we keep in and next to the data directory: their names, creating and resolving
//! the data directory, writing `0600` secret files, reading the server log, and the exclusive
//! `<data_dir>.lock` that serialises every state-changing step across processes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::error::{file_err, one_line, EmbeddedError};
use super::run_as::{chown_to, RunAs};

/// File inside the data directory holding the superuser's password.
pub(super) const SUPERUSER_PASSWORD_FILE: &str = "frontdesk_superuser.password";
/// File inside the data directory holding the runtime role's password.
pub(super) const APP_PASSWORD_FILE: &str = "frontdesk_app.password";
/// File inside the data directory holding the port of the last start.
pub(super) const PORT_FILE: &str = "frontdesk_port";
/// Log directory (inside the data directory) and file that `pg_ctl -l` appends to.
pub(super) const LOG_DIR: &str = "log";
pub(super) const LOG_FILE: &str = "postgres.log";
/// Suffix of the sibling file holding the superuser password between `initdb` and moving it
/// into the data directory.
pub(super) const PENDING_PASSWORD_SUFFIX: &str = ".initdb-password";
/// Suffix of the sibling lock file.
const LOCK_SUFFIX: &str = ".lock";

/// Makes the path absolute and canonical, creating the directory when missing.
pub(super) fn absolute_data_dir(data_dir: &Path) -> Result<PathBuf, EmbeddedError> {
    fs::create_dir_all(data_dir).map_err(|e| EmbeddedError::DataDir {
        path: data_dir.to_path_buf(),
        problem: one_line(&format!(
            "could not create it: {e}; choose a writable location or create it yourself"
        )),
    })?;
    fs::canonicalize(data_dir).map_err(|e| file_err("resolve", data_dir, e))
}

/// `<parent>/<name><suffix>` for the data directory `<parent>/<name>`.
pub(super) fn sibling(data_dir: &Path, suffix: &str) -> Result<PathBuf, EmbeddedError> {
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

/// Writes and syncs `path` with exactly `mode`, owned by `run_as` when we are root.
pub(super) fn write_file(
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

pub(super) fn write_secret_file(
    path: &Path,
    secret: &str,
    run_as: Option<&RunAs>,
) -> Result<(), EmbeddedError> {
    write_file(path, format!("{secret}\n").as_bytes(), 0o600, run_as)
}

pub(super) fn read_secret(path: &Path) -> Result<String, EmbeddedError> {
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

pub(super) fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The text of `path` from byte `offset` on (at most the last 64 KiB of it).
pub(super) fn read_from(path: &Path, offset: u64) -> String {
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

/// Runs blocking file-system work off the async runtime.
pub(super) async fn blocking<T, F>(f: F) -> Result<T, EmbeddedError>
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
pub(super) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(super) async fn acquire(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let path = sibling(data_dir, LOCK_SUFFIX)?;
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
