//! Finding the PostgreSQL server binaries (`initdb`, `postgres`, `pg_ctl`), parsing the version
//! directories they live in, and detecting whether `pg_stat_statements` can be preloaded.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::EmbeddedError;
use super::run_as::run_tool;

/// The binaries that must all live in the same directory.
const REQUIRED_BINARIES: [&str; 3] = ["initdb", "postgres", "pg_ctl"];

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn has_all_binaries(dir: &Path) -> bool {
    REQUIRED_BINARIES
        .iter()
        .all(|b| is_executable(&dir.join(b)))
}

/// Finds the directory holding `initdb`, `postgres` and `pg_ctl`.
pub(super) fn find_binaries(explicit: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
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
pub(super) fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|p| p.parse().ok()).collect()
}

/// Whether `pg_stat_statements` can be preloaded: its control file exists under the
/// installation's share directory (and, when `pg_config` tells us, its library too).
pub(super) async fn pg_stat_statements_available(bin_dir: &Path) -> bool {
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
