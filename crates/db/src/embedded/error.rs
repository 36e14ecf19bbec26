//! [`EmbeddedError`] and the helpers that build its messages. Every `Display` is a single line
//! that says what is wrong and how to fix it; none contains a password.

use std::io;
use std::path::{Path, PathBuf};

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

pub(super) fn file_err(action: &'static str, path: &Path, source: io::Error) -> EmbeddedError {
    EmbeddedError::File {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// How many trailing lines of a tool's output or log an error message carries.
pub(super) const TAIL_LINES: usize = 5;

/// The last `n` non-empty lines of `text`, trimmed and joined with " | ".
pub(super) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// All non-empty lines of `text` on one line (error messages must not span lines).
pub(super) fn one_line(text: &str) -> String {
    tail(text, usize::MAX)
}
