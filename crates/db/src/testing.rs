//! Test support: a fresh, migrated database per test on a real PostgreSQL server.
//!
//! The server is, in order of preference: `FRONTDESK_TEST_DATABASE_URL`, `DATABASE_URL`
//! (a login that may create databases), or the embedded cluster under
//! `target/frontdesk-test-pg`, started on first use and shared by every test process.
//! Each test gets its own database, so tests never see each other's rows.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use crate::embedded::{EmbeddedOptions, EmbeddedPostgres};
use crate::{Db, DbConfig, DbError};

/// The runtime role's password on an external test server (trust auth ignores it).
const EXTERNAL_APP_PASSWORD: &str = "frontdesk-test-app";

/// A fresh database migrated with the project's migrations.
#[derive(Debug)]
pub struct TestDb {
    /// The database's name (`fd_test_…`).
    pub name: String,
    /// Configuration pointing at this database (owner URL and runtime password).
    pub config: DbConfig,
    /// The runtime handle (role `frontdesk_app`, RLS applies).
    pub db: Db,
    owner: PgPool,
}

async fn server_url() -> Result<(SecretString, SecretString), DbError> {
    for var in ["FRONTDESK_TEST_DATABASE_URL", "DATABASE_URL"] {
        if let Ok(url) = std::env::var(var) {
            if !url.is_empty() {
                let pw = std::env::var("FRONTDESK_TEST_APP_DB_PASSWORD")
                    .unwrap_or_else(|_| EXTERNAL_APP_PASSWORD.into());
                return Ok((url.into(), pw.into()));
            }
        }
    }
    let data_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/frontdesk-test-pg");
    let pg = EmbeddedPostgres::ensure_running(EmbeddedOptions {
        data_dir,
        bin_dir: std::env::var_os("FRONTDESK_PG_BIN_DIR").map(PathBuf::from),
        database: "postgres".into(),
    })
    .await?;
    Ok((pg.database_url(), pg.app_role_password()))
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
        let (server, app_password) = server_url().await?;
        let name = format!("fd_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(server.expose_secret()).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;

        let owner_url: SecretString = with_database(server.expose_secret(), &name).into();
        let mut config = DbConfig::new(owner_url.clone());
        config.app_password = Some(app_password);
        let owner = PgPoolOptions::new()
            .max_connections(4)
            .connect(owner_url.expose_secret())
            .await?;
        crate::migrate(&mut *owner.acquire().await?, config.app_password.as_ref()).await?;
        let db = Db::connect(&config).await?;
        Ok(Self {
            name,
            config,
            db,
            owner,
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
}
