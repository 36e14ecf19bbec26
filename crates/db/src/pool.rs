//! Connection pools and their configuration.
//!
//! Two logins, two purposes: the owner URL (`DATABASE_URL`) is used only to migrate and is
//! dropped afterwards; the runtime pool logs in as [`crate::RUNTIME_ROLE`] so that row-level
//! security always applies to request traffic. Read replicas, when configured, get a pool of
//! their own each, in the same runtime role (see [`crate::replica`]).

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::crypto::{CryptoError, Keyring};
use crate::health::{Health, PROBE_AFTER};
use crate::replica::Replicas;
use crate::warm::Warm;
use crate::{migrate, DbError, RUNTIME_ROLE};

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The owner's URL: migrations run as this login.
    pub owner_url: SecretString,
    /// An explicit URL for the runtime role; derived from `owner_url` when absent.
    pub app_url: Option<SecretString>,
    /// The runtime role's password, set on the role at migration time when given.
    pub app_password: Option<SecretString>,
    /// Upper bound on pooled runtime connections.
    pub max_connections: u32,
    /// How long a request may wait for a pooled connection.
    pub acquire_timeout: Duration,
    /// Server-side limit on every statement of the runtime role.
    pub statement_timeout: Duration,
    /// URLs of streaming standbys that serve queries (`FRONTDESK_READ_DATABASE_URL`). One
    /// without a user logs in as the runtime role with `app_password`.
    pub read_urls: Vec<SecretString>,
    /// How far behind the primary a standby may be and still serve reads.
    pub read_max_lag: Duration,
    /// The database is distributed (Citus, docs/scaling.md): each scope also sends its
    /// context as `SET LOCAL`, which Citus passes to the worker nodes (it does not pass
    /// `set_config`). One more statement per scope, so off on a single server.
    pub distributed: bool,
}

impl DbConfig {
    /// A configuration with default pool settings for the given owner URL.
    pub fn new(owner_url: SecretString) -> Self {
        Self {
            owner_url,
            app_url: None,
            app_password: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            read_urls: Vec::new(),
            read_max_lag: Duration::from_secs(1),
            distributed: false,
        }
    }

    /// Parsed owner connection options.
    pub fn owner_options(&self) -> Result<PgConnectOptions, DbError> {
        parse_url(&self.owner_url)
    }

    /// Connection options for the runtime role: the explicit URL, or the owner's host and
    /// database with the runtime user and password.
    pub fn app_options(&self) -> Result<PgConnectOptions, DbError> {
        let opts = match &self.app_url {
            Some(url) => parse_url(url)?,
            None => self.as_runtime_role(self.owner_options()?),
        };
        Ok(self.runtime(opts, "frontdesk"))
    }

    /// Connection options for each read replica: the runtime role, as `frontdesk-read` (so
    /// `pg_stat_activity` on a standby tells the API's reads apart).
    pub fn read_options(&self) -> Result<Vec<PgConnectOptions>, DbError> {
        self.read_urls
            .iter()
            .map(|url| {
                let opts = parse_url(url)?;
                let opts = if names_user(url) {
                    opts
                } else {
                    self.as_runtime_role(opts)
                };
                Ok(self.runtime(opts, "frontdesk-read"))
            })
            .collect()
    }

    fn as_runtime_role(&self, opts: PgConnectOptions) -> PgConnectOptions {
        let o = opts.username(RUNTIME_ROLE);
        match &self.app_password {
            Some(p) => o.password(p.expose_secret()),
            None => o.password(""),
        }
    }

    /// The start-up settings of every runtime connection.
    fn runtime(&self, opts: PgConnectOptions, application: &str) -> PgConnectOptions {
        let timeout_ms = self.statement_timeout.as_millis().to_string();
        // No JIT for the API's statements (sent as a start-up option, so no extra round
        // trip): they are short, and when the planner overestimates a join (the dashboards'
        // merges of generate_series with grouped facts estimate millions of rows for 90) LLVM
        // spends over a second compiling a statement that runs in a tenth of that.
        opts.application_name(application)
            .options([("statement_timeout", timeout_ms.as_str()), ("jit", "off")])
    }
}

/// Whether a `postgres://` URL names a user (`postgres://user@host/db`).
fn names_user(url: &SecretString) -> bool {
    let raw = url.expose_secret();
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority.contains('@')
}

fn parse_url(url: &SecretString) -> Result<PgConnectOptions, DbError> {
    let raw = url.expose_secret();
    if !(raw.starts_with("postgres://") || raw.starts_with("postgresql://")) {
        return Err(DbError::InvalidUrl(
            "it must start with postgres:// or postgresql://".into(),
        ));
    }
    // The parser's message can echo the URL (and its password), so it is not passed on.
    PgConnectOptions::from_str(raw).map_err(|_| {
        DbError::InvalidUrl("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into())
    })
}

/// How long a pooled connection may sit idle and still be handed out without a ping.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);

/// The runtime database handle. Cheap to clone; the pool inside is private so that the only
/// way to reach tenant tables is through a scope ([`crate::TenantTx`] and friends). It also
/// carries the keys that seal secrets at rest ([`crate::crypto`]), so every writer of a sealed
/// column finds them where it finds the database.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: PgPool,
    keyring: Option<Arc<Keyring>>,
    health: Arc<Health>,
    replicas: Option<Arc<Replicas>>,
    pub(crate) distributed: bool,
    /// The primary's warm connections for compiled reads (see [`crate::warm`]); none on a
    /// standby's handle.
    pub(crate) warm: Option<Arc<Warm>>,
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The newest applied migration version.
    pub applied: i64,
    /// The newest migration version this binary embeds.
    pub expected: i64,
}

impl Readiness {
    /// True when the database has every migration this binary knows.
    pub fn is_migrated(&self) -> bool {
        self.applied >= self.expected
    }
}

impl Db {
    /// Migrates as the owner (then closes that pool) and opens the runtime pool.
    #[tracing::instrument(skip_all)]
    pub async fn migrate_and_connect(cfg: &DbConfig) -> Result<Self, DbError> {
        // One direct connection: a refused connection fails at once with its real cause
        // instead of after a pool's acquire timeout.
        let mut owner = PgConnection::connect_with(&cfg.owner_options()?)
            .await
            .map_err(DbError::from_connect)?;
        let migrated = migrate(&mut owner, cfg.app_password.as_ref()).await;
        let _ = owner.close().await;
        migrated?;
        Self::connect(cfg).await
    }

    /// Opens the runtime pool without migrating.
    pub async fn connect(cfg: &DbConfig) -> Result<Self, DbError> {
        let options = cfg.app_options()?;
        let standbys = cfg.read_options()?;
        let pool_options = PgPoolOptions::new()
            .max_connections(cfg.max_connections)
            .acquire_timeout(cfg.acquire_timeout)
            // sqlx pings every connection it hands out, which is a round trip on every
            // request's path (a fifth of a single-row read's). A connection that was in use
            // a moment ago is known to be alive: it was pinged when it came back (sqlx does
            // that on release, which also flushes a dropped transaction's ROLLBACK). Only one
            // that sat idle is checked again before use, as HikariCP's alive-bypass window does.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            });
        let pool = pool_options
            .clone()
            .connect_with(options.clone())
            .await
            .map_err(DbError::from_connect)?;
        let replicas = (!standbys.is_empty())
            .then(|| Replicas::start(standbys, options.clone(), &pool_options, cfg.read_max_lag));
        Ok(Self {
            pool,
            keyring: None,
            health: Health::new(options),
            replicas,
            distributed: cfg.distributed,
            warm: Some(Warm::start(cfg.max_connections)),
        })
    }

    /// Whether the database is distributed ([`DbConfig::distributed`]).
    pub fn is_distributed(&self) -> bool {
        self.distributed
    }

    /// The read replicas, when configured.
    pub(crate) fn replicas(&self) -> Option<&Replicas> {
        self.replicas.as_deref()
    }

    /// This handle's keys on another pool (a standby's), behind that pool's own breaker.
    pub(crate) fn on_pool(&self, pool: PgPool, health: Arc<Health>) -> Db {
        Db {
            pool,
            keyring: self.keyring.clone(),
            health,
            replicas: None,
            distributed: self.distributed,
            warm: None,
        }
    }

    /// Begins a runtime transaction, failing fast with [`DbError::Unavailable`] while the
    /// database is unreachable instead of waiting out the pool's acquire timeout (see
    /// [`crate::health`]).
    pub(crate) async fn begin_pooled(&self) -> Result<Transaction<'static, Postgres>, DbError> {
        self.begin_pooled_with(None).await
    }

    /// [`Db::begin_pooled`], beginning with `statement` (a simple-query batch that starts with
    /// `BEGIN`) instead of a bare `BEGIN` when given: what the batch returns is discarded.
    pub(crate) async fn begin_pooled_with(
        &self,
        statement: Option<String>,
    ) -> Result<Transaction<'static, Postgres>, DbError> {
        self.wait_for_pool(async {
            match statement {
                Some(batch) => self.pool.begin_with(batch).await,
                None => self.pool.begin().await,
            }
        })
        .await
    }

    /// A runtime connection, as [`Db::begin_pooled`] takes one (failing fast while the
    /// database is unreachable), with no transaction begun.
    pub(crate) async fn acquire_pooled(&self) -> Result<PoolConnection<Postgres>, DbError> {
        self.wait_for_pool(self.pool.acquire()).await
    }

    /// `take`, a wait for the pool: while it lasts longer than a busy pool should, a direct
    /// probe tells a busy pool from a server that refuses connections (which the pool retries
    /// until its timeout), and the latter fails with [`DbError::Unavailable`].
    async fn wait_for_pool<T>(
        &self,
        take: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, DbError> {
        if !self.health.is_up() {
            return Err(DbError::Unavailable);
        }
        tokio::pin!(take);
        let result = loop {
            tokio::select! {
                r = &mut take => break r,
                () = tokio::time::sleep(PROBE_AFTER) => {
                    if !self.health.probe().await {
                        return Err(DbError::Unavailable);
                    }
                }
            }
        };
        result.map_err(|e| self.observed(e))
    }

    /// `e` as a [`DbError`], after telling the breaker (an unreachable server trips it).
    pub(crate) fn observed(&self, e: sqlx::Error) -> DbError {
        let e = DbError::from(e);
        self.health.observe(&e);
        e
    }

    /// False while the database is known to be unreachable (requests are failing fast).
    pub fn is_reachable(&self) -> bool {
        self.health.is_up()
    }

    /// Gives this handle (and its later clones) the keys that seal secrets at rest.
    pub fn set_keyring(&mut self, keyring: Keyring) {
        self.keyring = Some(Arc::new(keyring));
    }

    /// The keys that seal secrets at rest; [`CryptoError::NoKey`] when none were given.
    pub fn keyring(&self) -> Result<&Keyring, CryptoError> {
        self.keyring.as_deref().ok_or(CryptoError::NoKey)
    }

    /// Opens a runtime pool with an explicit size (used by tests that stress pooling).
    pub async fn connect_with_size(cfg: &DbConfig, max: u32) -> Result<Self, DbError> {
        let cfg = DbConfig {
            max_connections: max,
            ..cfg.clone()
        };
        Self::connect(&cfg).await
    }

    /// Reachability and migration state, as the runtime role sees it.
    pub async fn readiness(&self) -> Result<Readiness, DbError> {
        let mut tx = self.begin_pooled().await?;
        let applied =
            sqlx::query_scalar!("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *tx)
                .await?;
        Ok(Readiness {
            applied: applied.unwrap_or(0),
            expected: crate::migrate::latest_version(),
        })
    }

    /// Open connections and how many of them are idle, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Closes the pool, waiting for checked-out connections to return.
    pub async fn close(&self) {
        if let Some(warm) = &self.warm {
            warm.release_all();
        }
        self.pool.close().await;
        if let Some(replicas) = &self.replicas {
            replicas.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_url_without_a_user_logs_in_as_the_runtime_role() {
        let mut cfg = DbConfig::new(
            "postgres://owner:pw@primary:5432/frontdesk"
                .to_owned()
                .into(),
        );
        cfg.app_password = Some("app-pw".to_owned().into());
        cfg.read_urls = vec![
            "postgres://standby:5433/frontdesk".to_owned().into(),
            "postgres://reader:pw@standby2/frontdesk?sslmode=require"
                .to_owned()
                .into(),
        ];
        let opts = cfg.read_options().expect("valid");
        assert_eq!(opts[0].get_username(), RUNTIME_ROLE);
        assert_eq!((opts[0].get_host(), opts[0].get_port()), ("standby", 5433));
        assert_eq!(opts[0].get_application_name(), Some("frontdesk-read"));
        assert_eq!(opts[1].get_username(), "reader");
        cfg.read_urls = vec!["mysql://standby/frontdesk".to_owned().into()];
        assert!(matches!(cfg.read_options(), Err(DbError::InvalidUrl(_))));
    }
}
