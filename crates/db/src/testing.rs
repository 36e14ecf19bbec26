//! Test support: a fresh, migrated database per test on a real PostgreSQL server.
//!
//! The server is, in order of preference: `FRONTDESK_TEST_DATABASE_URL`, `DATABASE_URL`
//! (a login that may create databases), or the embedded cluster under
//! `target/frontdesk-test-pg`, started on first use and shared by every test process.
//! Each test gets its own database, so tests never see each other's rows.
//!
//! # Counting statements
//!
//! [`TestDb::with_statement_stats`] creates a database whose SQL statements can be counted by
//! PostgreSQL itself, through `pg_stat_statements` — e.g. to prove that a nested GraphQL query
//! issues as many statements for a tenant with 10 customers as for one with 5,000. That needs a
//! server that preloads the extension (`shared_preload_libraries`), which a stock server does
//! not; so the configured server is used when it qualifies, and otherwise the embedded test
//! cluster, which preloads it whenever the installed PostgreSQL ships it.
//!
//! `pg_stat_statements` keeps at most `pg_stat_statements.max` entries (default 5,000) for the
//! whole cluster and evicts the least used when full, which would silently lose counts. To keep
//! the table small, every test database is migrated with statement tracking off (when the
//! login is a superuser: its ~300 migration statements would otherwise fill the table within a
//! few dozen tests), and creating a counting database drops the entries of other, non-counting
//! test databases (`fd_test_…`) and of databases that no longer exist. If entries are evicted
//! anyway while a count is running, [`TestDb::statements_executed`] fails rather than under-count.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::crypto::{Key, Keyring};
use crate::embedded::{EmbeddedOptions, EmbeddedPostgres};
use crate::{Db, DbConfig, DbError, RUNTIME_ROLE};

/// The runtime role's password on an external test server (trust auth ignores it).
const EXTERNAL_APP_PASSWORD: &str = "frontdesk-test-app";

/// Name prefix of every test database.
const TEST_PREFIX: &str = "fd_test_";

/// Name prefix of the databases made by [`TestDb::with_statement_stats`] (inside
/// [`TEST_PREFIX`], so cleanups of test databases cover them too).
const STATS_PREFIX: &str = "fd_test_stats_";

/// The key every test database's handle seals secrets with ([`TestDb::db`]), so tests can
/// open what the API stored.
pub fn test_keyring() -> Keyring {
    Keyring::new(
        Key::from_bytes(*b"frontdesk-test-encryption-key-32"),
        vec![],
    )
}

/// A fresh database migrated with the project's migrations.
#[derive(Debug)]
pub struct TestDb {
    /// The database's name (`fd_test_…`).
    pub name: String,
    /// Configuration pointing at this database (owner URL and runtime password).
    pub config: DbConfig,
    /// The runtime handle (role `frontdesk_app`, RLS applies), sealing with [`test_keyring`].
    pub db: Db,
    owner: PgPool,
    /// The server's maintenance database, where this database was created.
    server: SecretString,
    stats: Option<StatementStats>,
}

/// A server on which test databases are created.
#[derive(Debug)]
struct Server {
    url: SecretString,
    app_password: SecretString,
}

/// The server named by `FRONTDESK_TEST_DATABASE_URL` or `DATABASE_URL`, if any.
fn configured_server() -> Option<Server> {
    for var in ["FRONTDESK_TEST_DATABASE_URL", "DATABASE_URL"] {
        if let Ok(url) = std::env::var(var) {
            if !url.is_empty() {
                let pw = std::env::var("FRONTDESK_TEST_APP_DB_PASSWORD")
                    .unwrap_or_else(|_| EXTERNAL_APP_PASSWORD.into());
                return Some(Server {
                    url: url.into(),
                    app_password: pw.into(),
                });
            }
        }
    }
    None
}

/// The embedded test cluster under `target/frontdesk-test-pg`, started when not running.
async fn embedded_server() -> Result<(Server, EmbeddedPostgres), DbError> {
    let data_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/frontdesk-test-pg");
    let pg = EmbeddedPostgres::ensure_running(EmbeddedOptions {
        data_dir,
        bin_dir: std::env::var_os("FRONTDESK_PG_BIN_DIR").map(PathBuf::from),
        database: "postgres".into(),
    })
    .await?;
    let server = Server {
        url: pg.database_url(),
        app_password: pg.app_role_password(),
    };
    Ok((server, pg))
}

async fn server() -> Result<Server, DbError> {
    match configured_server() {
        Some(server) => Ok(server),
        None => Ok(embedded_server().await?.0),
    }
}

/// Replaces the database name in a `postgres://` URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{database}?{q}"),
        None => format!("{host_part}/{database}"),
    }
}

impl TestDb {
    /// Creates and migrates a new database.
    pub async fn new() -> Result<Self, DbError> {
        Self::create(server().await?, TEST_PREFIX).await
    }

    /// Creates and migrates a new database on the server at `url` (a superuser login), whose
    /// runtime role gets `app_password`: for tests that run a cluster of their own (to stop
    /// it, or to configure TLS) rather than the shared one.
    pub async fn on_server(url: SecretString, app_password: SecretString) -> Result<Self, DbError> {
        Self::create(Server { url, app_password }, TEST_PREFIX).await
    }

    /// Creates and migrates a new database whose statements can be counted with
    /// [`statements_executed`](Self::statements_executed).
    ///
    /// The database is created on the configured server (`FRONTDESK_TEST_DATABASE_URL`, else
    /// `DATABASE_URL`) when that server preloads `pg_stat_statements` with its default settings
    /// (`track = top`, `track_utility = on`, PostgreSQL 14 or newer), and otherwise on the
    /// embedded test cluster. The owner then runs `CREATE EXTENSION IF NOT EXISTS
    /// pg_stat_statements` in it, which needs a superuser login (both defaults are). The count
    /// starts at zero.
    pub async fn with_statement_stats() -> Result<Self, DbError> {
        let server = match configured_server() {
            Some(server) => match stats_unusable(&server).await? {
                None => server,
                Some(why) => {
                    tracing::info!(%why, "counting statements on the embedded test cluster instead of the configured server");
                    embedded_stats_server().await?
                }
            },
            None => embedded_stats_server().await?,
        };
        let mut this = Self::create(server, STATS_PREFIX).await?;
        this.stats = Some(StatementStats::install(&this.owner).await?);
        this.reset_statement_stats().await?;
        Ok(this)
    }

    async fn create(server: Server, prefix: &str) -> Result<Self, DbError> {
        let name = format!("{prefix}{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(server.url.expose_secret()).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;

        let owner_url: SecretString = with_database(server.url.expose_secret(), &name).into();
        let mut config = DbConfig::new(owner_url.clone());
        config.app_password = Some(server.app_password.clone());
        let mut migrator = PgConnection::connect(owner_url.expose_secret()).await?;
        // Keeps the migration statements out of pg_stat_statements (see the module docs). Only a
        // superuser may change the setting; anyone else simply migrates with tracking on.
        let _ = sqlx::query("SELECT set_config('pg_stat_statements.track', 'none', false)")
            .execute(&mut migrator)
            .await;
        crate::migrate(&mut migrator, config.app_password.as_ref()).await?;
        migrator.close().await?;
        let owner = PgPoolOptions::new()
            .max_connections(4)
            .connect(owner_url.expose_secret())
            .await?;
        let mut db = Db::connect(&config).await?;
        db.set_keyring(test_keyring());
        Ok(Self {
            name,
            config,
            db,
            owner,
            server: server.url,
            stats: None,
        })
    }

    /// A pool logged in as the owner (migrations' login): for catalog checks and set-up that
    /// deliberately bypasses the API. Note that FORCE RLS applies to it unless it is superuser.
    pub fn owner(&self) -> &PgPool {
        &self.owner
    }

    /// A raw connection as the runtime role, outside any scope, for tests that prove what the
    /// database itself allows.
    pub async fn runtime_connection(&self) -> Result<PgConnection, DbError> {
        Ok(PgConnection::connect_with(&self.config.app_options()?).await?)
    }

    /// How many SQL statements the runtime role `frontdesk_app` (the role API requests run as)
    /// has completed in this database since it was created or since the last
    /// [`reset_statement_stats`](Self::reset_statement_stats): the sum of `calls` in
    /// `pg_stat_statements` for this database and that role.
    ///
    /// Counted: every top-level statement — each `SELECT`, `INSERT`, `UPDATE`, `DELETE` — and,
    /// because `pg_stat_statements.track_utility` is on, every utility statement including
    /// transaction control. A [`Db::begin_tenant`] scope that runs N statements and commits
    /// therefore counts N + 3: `BEGIN`, the `set_config` that sets the tenant, the N
    /// statements, `COMMIT` (`ROLLBACK` after [`rollback`](crate::TenantTx::rollback)).
    ///
    /// Not counted: statements nested in functions, triggers and policies
    /// (`pg_stat_statements.track = top`); statements that fail; protocol messages such as
    /// Parse/Describe (a statement counts when it is executed, prepared or not); anything the
    /// owner runs (fixtures, catalog reads, this query itself). sqlx looks up unfamiliar
    /// custom types with a catalog query the first time a connection meets one, so warm the
    /// pool with one run of the workload and reset before counting.
    ///
    /// A transaction that was dropped rather than ended (a compiled read's, see
    /// `query::json::read`) ends with a `ROLLBACK` that sqlx sends when the pool takes the
    /// connection back, just after the response; the count waits (up to 2 s) until no
    /// connection of the runtime role is left idle in a transaction, so it includes it.
    ///
    /// Fails when the database was not made by [`with_statement_stats`](Self::with_statement_stats),
    /// and when `pg_stat_statements` evicted entries since the last reset (the count could be
    /// low): reset and measure again, or raise `pg_stat_statements.max`.
    pub async fn statements_executed(&self) -> Result<i64, DbError> {
        let stats = self.stats()?;
        self.await_dropped_transactions().await?;
        let (calls, now) = stats.read(&self.owner).await?;
        let since = stats
            .since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let evicted = if now.stats_reset == since.stats_reset {
            now.dealloc > since.dealloc
        } else {
            // Removing every entry (a reset) zeroes the eviction counter.
            now.dealloc > 0
        };
        if evicted {
            return Err(stats_error(
                "pg_stat_statements evicted entries while statements were being counted, so \
                 the count may be low: reset and measure again, or raise pg_stat_statements.max"
                    .into(),
            ));
        }
        Ok(calls)
    }

    /// Waits (up to 2 s) until no connection of the runtime role is idle in a transaction:
    /// a compiled read's dropped transaction ends with a `ROLLBACK` that sqlx sends only
    /// when the pool takes the connection back, just after the response.
    async fn await_dropped_transactions(&self) -> Result<(), DbError> {
        for _ in 0..100 {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND usename = $1
                    AND state LIKE 'idle in transaction%'",
            )
            .bind(crate::RUNTIME_ROLE)
            .fetch_one(&self.owner)
            .await?;
            if open == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Sets the count of [`statements_executed`](Self::statements_executed) back to zero by
    /// removing this database's `pg_stat_statements` entries (for every role; other databases'
    /// entries are left alone).
    ///
    /// Waits first, as the count does, for the `ROLLBACK` of a transaction the previous
    /// request dropped, so that it is not counted against the next one.
    pub async fn reset_statement_stats(&self) -> Result<(), DbError> {
        let stats = self.stats()?;
        self.await_dropped_transactions().await?;
        sqlx::query(&format!(
            "SELECT {}.pg_stat_statements_reset(0, $1, 0)",
            stats.schema
        ))
        .bind(stats.dbid)
        .execute(&self.owner)
        .await?;
        let (_, window) = stats.read(&self.owner).await?;
        *stats.since.lock().unwrap_or_else(PoisonError::into_inner) = window;
        Ok(())
    }

    /// Closes the pools and drops the database (`WITH (FORCE)`: sessions still connected to
    /// it, e.g. a server under test, are terminated).
    pub async fn drop_database(self) -> Result<(), DbError> {
        self.db.close().await;
        self.owner.close().await;
        let mut admin = PgConnection::connect(self.server.expose_secret()).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        Ok(())
    }

    fn stats(&self) -> Result<&StatementStats, DbError> {
        self.stats.as_ref().ok_or_else(|| {
            stats_error(format!(
                "database {} was not created by TestDb::with_statement_stats, so its statements \
                 are not counted",
                self.name
            ))
        })
    }
}

/// The embedded test cluster, which must preload `pg_stat_statements`.
async fn embedded_stats_server() -> Result<Server, DbError> {
    let (server, pg) = embedded_server().await?;
    match stats_unusable(&server).await? {
        None => Ok(server),
        Some(why) => Err(stats_error(format!(
            "cannot count statements: the embedded test cluster ({}) does not qualify: {why}; \
             install the PostgreSQL contrib modules (pg_stat_statements) and restart it with \
             `pg_ctl -D {} stop` (the next test starts it again)",
            pg.data_dir().display(),
            pg.data_dir().display()
        ))),
    }
}

/// Why statements cannot be counted on `server`, or `None` when they can.
async fn stats_unusable(server: &Server) -> Result<Option<String>, DbError> {
    let mut conn = PgConnection::connect(server.url.expose_secret()).await?;
    let (version, preload, track, track_utility): (i32, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT current_setting('server_version_num')::int,
                    current_setting('shared_preload_libraries'),
                    current_setting('pg_stat_statements.track', true),
                    current_setting('pg_stat_statements.track_utility', true)",
        )
        .fetch_one(&mut conn)
        .await?;
    let _ = conn.close().await;
    let preloaded = preload
        .split(',')
        .any(|lib| lib.trim().trim_matches('"') == "pg_stat_statements");
    Ok(if version < 140_000 {
        Some(format!(
            "PostgreSQL {version} is older than 14 (no pg_stat_statements_info)"
        ))
    } else if !preloaded {
        Some("pg_stat_statements is not in shared_preload_libraries".into())
    } else if track.as_deref() != Some("top") {
        Some(format!(
            "pg_stat_statements.track is {track:?}, not 'top' (nested statements would count)"
        ))
    } else if track_utility.as_deref() != Some("on") {
        Some("pg_stat_statements.track_utility is off (BEGIN/COMMIT would not count)".into())
    } else {
        None
    })
}

fn stats_error(message: String) -> DbError {
    DbError::Sqlx(sqlx::Error::Configuration(message.into()))
}

/// What [`TestDb::statements_executed`] reads, and the eviction state at the last reset.
#[derive(Debug)]
struct StatementStats {
    /// The extension's schema, as a quoted identifier.
    schema: String,
    dbid: Oid,
    runtime_role: Oid,
    since: Mutex<Window>,
}

/// `pg_stat_statements_info`: evictions so far and when every entry was last removed.
#[derive(Debug, Clone, Default)]
struct Window {
    dealloc: i64,
    stats_reset: String,
}

impl StatementStats {
    /// Creates the extension in the owner's database and drops stale entries (module docs).
    async fn install(owner: &PgPool) -> Result<Self, DbError> {
        let mut conn = owner.acquire().await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut *conn)
            .await?;
        let (schema, dbid, runtime_role): (String, Oid, Oid) = sqlx::query_as(
            "SELECT e.extnamespace::regnamespace::text, d.oid, r.oid
             FROM pg_extension e, pg_database d, pg_roles r
             WHERE e.extname = 'pg_stat_statements' AND d.datname = current_database()
               AND r.rolname = $1",
        )
        .bind(RUNTIME_ROLE)
        .fetch_one(&mut *conn)
        .await?;
        let stale: Vec<Oid> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT s.dbid FROM {schema}.pg_stat_statements(false) s
             LEFT JOIN pg_database d ON d.oid = s.dbid
             WHERE d.oid IS NULL
                OR (starts_with(d.datname, $1) AND NOT starts_with(d.datname, $2))"
        ))
        .bind(TEST_PREFIX)
        .bind(STATS_PREFIX)
        .fetch_all(&mut *conn)
        .await?;
        for dbid in stale {
            sqlx::query(&format!(
                "SELECT {schema}.pg_stat_statements_reset(0, $1, 0)"
            ))
            .bind(dbid)
            .execute(&mut *conn)
            .await?;
        }
        Ok(Self {
            schema,
            dbid,
            runtime_role,
            since: Mutex::new(Window::default()),
        })
    }

    /// The runtime role's calls in this database, and the eviction state, in one snapshot.
    async fn read(&self, owner: &PgPool) -> Result<(i64, Window), DbError> {
        let (calls, dealloc, stats_reset): (i64, i64, String) = sqlx::query_as(&format!(
            "SELECT (SELECT coalesce(sum(calls), 0)::int8 FROM {0}.pg_stat_statements(false)
                     WHERE dbid = $1 AND userid = $2),
                    dealloc, stats_reset::text
             FROM {0}.pg_stat_statements_info",
            self.schema
        ))
        .bind(self.dbid)
        .bind(self.runtime_role)
        .fetch_one(owner)
        .await?;
        Ok((
            calls,
            Window {
                dealloc,
                stats_reset,
            },
        ))
    }
}
