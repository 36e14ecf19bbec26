//! Tests for the embedded cluster. The lifecycle tests start real PostgreSQL clusters in
//! temporary directories (as the `postgres` / `nobody` user when run as root).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

use super::binaries::parse_version;
use super::connect::quote_ident;
use super::error::tail;
use super::files::{sibling, APP_PASSWORD_FILE, SUPERUSER_PASSWORD_FILE};
use super::run_as::{effective_uid, lookup_user, RunAs};
use super::{percent_encode, EmbeddedError, EmbeddedOptions, EmbeddedPostgres, SUPERUSER};

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
