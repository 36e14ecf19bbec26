//! Choosing and opening the database: `DATABASE_URL`, or the embedded development cluster.

use std::time::Duration;

use anyhow::Context;
use frontdesk_db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use frontdesk_db::{Db, DbConfig, DbError};
use secrecy::SecretString;

use crate::config::Config;

/// An open, migrated database and, in the embedded default, the cluster behind it.
#[derive(Debug)]
pub struct DatabaseHandle {
    /// The runtime handle.
    pub db: Db,
    /// How it was reached (for commands that need the owner login again).
    pub config: DbConfig,
    /// The embedded cluster, when no `DATABASE_URL` was given.
    pub embedded: Option<EmbeddedPostgres>,
}

impl DatabaseHandle {
    /// Closes the pool and stops the embedded cluster if this process started it.
    pub async fn shutdown(self) {
        self.db.close().await;
        if let Some(pg) = self.embedded {
            if let Err(e) = pg.stop(false).await {
                tracing::warn!(error = %e, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// Opens the configured database (starting the embedded cluster when needed) and migrates it.
pub async fn open_database(cfg: &Config) -> anyhow::Result<DatabaseHandle> {
    let (owner_url, app_password, embedded) = match &cfg.database_url {
        Some(url) => (url.clone(), cfg.app_db_password.clone(), None),
        None => {
            let pg = EmbeddedPostgres::ensure_running(EmbeddedOptions {
                data_dir: cfg.data_dir.join("pgdata"),
                bin_dir: cfg.pg_bin_dir.clone(),
                database: "frontdesk".into(),
            })
            .await
            .context("DATABASE_URL is not set and the embedded PostgreSQL could not start")?;
            let app_password: SecretString = cfg
                .app_db_password
                .clone()
                .unwrap_or_else(|| pg.app_role_password());
            (pg.database_url(), Some(app_password), Some(pg))
        }
    };
    let mut config = DbConfig::new(owner_url);
    config.app_url = cfg.app_database_url.clone();
    config.app_password = app_password;
    config.max_connections = cfg.db_max_connections;
    config.statement_timeout = Duration::from_millis(cfg.statement_timeout_ms);
    config.read_urls = read_urls(cfg);
    config.read_max_lag = Duration::from_millis(cfg.read_max_lag_ms);
    // Checked here, so a bad replica URL is not reported as a bad DATABASE_URL.
    if let Err(DbError::InvalidUrl(why)) = config.read_options() {
        if let Some(pg) = embedded {
            let _ = pg.stop(false).await;
        }
        anyhow::bail!("FRONTDESK_READ_DATABASE_URL is invalid: {why}");
    }
    config.distributed = cfg.database_distributed;

    let db = match Db::migrate_and_connect(&config).await {
        Ok(db) => db,
        Err(e) => {
            let msg = describe(&config, &e);
            if let Some(pg) = embedded {
                let _ = pg.stop(false).await;
            }
            anyhow::bail!(msg);
        }
    };
    Ok(DatabaseHandle {
        db,
        config,
        embedded,
    })
}

/// One line saying what went wrong and what to do, without echoing the URL or password.
fn describe(config: &DbConfig, e: &DbError) -> String {
    let target = config
        .owner_options()
        .map(|o| {
            format!(
                "{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or("")
            )
        })
        .unwrap_or_else(|_| "DATABASE_URL".into());
    match e {
        DbError::InvalidUrl(why) => format!("DATABASE_URL is invalid: {why}"),
        DbError::Sqlx(sqlx::Error::Io(io)) => format!(
            "cannot reach PostgreSQL at {target} ({io}): start the server or fix DATABASE_URL"
        ),
        DbError::Sqlx(sqlx::Error::PoolTimedOut) => format!(
            "timed out connecting to PostgreSQL at {target}: check that the server is up and DATABASE_URL's host and port"
        ),
        DbError::Tls(why) => format!(
            "TLS to PostgreSQL at {target} failed ({why}): check DATABASE_URL's sslmode and that sslrootcert names the CA that signed the server's certificate"
        ),
        DbError::Sqlx(sqlx::Error::Database(d)) => format!(
            "PostgreSQL at {target} refused: {}: check DATABASE_URL's user, password and database (runtime role: FRONTDESK_APP_DB_PASSWORD / FRONTDESK_APP_DATABASE_URL)",
            d.message()
        ),
        other => format!("database at {target}: {other}"),
    }
}

/// The read replicas' URLs, one per comma-separated entry of `FRONTDESK_READ_DATABASE_URL`
/// (blank entries ignored).
fn read_urls(cfg: &Config) -> Vec<SecretString> {
    use secrecy::ExposeSecret;
    cfg.read_database_url
        .as_ref()
        .map(|urls| {
            urls.expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(|u| SecretString::from(u.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_replica_urls_are_comma_separated() {
        use clap::Parser;
        use secrecy::ExposeSecret;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            config: Config,
        }
        let cli = Cli::parse_from([
            "frontdesk",
            "--read-database-url",
            "postgres://a/db, postgres://b/db,",
        ]);
        let urls: Vec<String> = read_urls(&cli.config)
            .iter()
            .map(|u| u.expose_secret().to_owned())
            .collect();
        assert_eq!(urls, ["postgres://a/db", "postgres://b/db"]);
        assert_eq!(cli.config.read_max_lag_ms, 1_000);
    }
}
