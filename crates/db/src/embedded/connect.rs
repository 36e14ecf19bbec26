//! Talking to the running server as the superuser: connecting (with patience while it starts
//! up) and the set-up done on every `ensure_running` — creating the requested database and
//! reading whether `pg_stat_statements` is preloaded.

use std::io;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{Connection, PgConnection};

use super::error::EmbeddedError;
use super::{EmbeddedPostgres, SUPERUSER};

impl EmbeddedPostgres {
    /// Ensures the database exists, reads the preload setting, closes the connection.
    pub(super) async fn finish(&mut self, mut conn: PgConnection) -> Result<(), EmbeddedError> {
        let log_file = self.log_file();
        let sql_err = |action: String| {
            let log_file = log_file.clone();
            move |source| EmbeddedError::Sql {
                action,
                log_file,
                source,
            }
        };
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&self.database)
                .fetch_one(&mut conn)
                .await
                .map_err(sql_err("look up databases".into()))?;
        if !exists {
            let create = format!("CREATE DATABASE {}", quote_ident(&self.database));
            match sqlx::query(&create).execute(&mut conn).await {
                Ok(_) => {
                    tracing::info!(database = %self.database, "created database on embedded PostgreSQL")
                }
                // Created concurrently by someone not holding our lock: fine.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => {
                    return Err(sql_err(format!("create database {:?}", self.database))(e));
                }
            }
        }
        let preload: String =
            sqlx::query_scalar("SELECT current_setting('shared_preload_libraries')")
                .fetch_one(&mut conn)
                .await
                .map_err(sql_err("read shared_preload_libraries".into()))?;
        self.has_pg_stat_statements = preload
            .split(',')
            .any(|lib| lib.trim().trim_matches('"') == "pg_stat_statements");
        let _ = conn.close().await;
        Ok(())
    }

    /// One superuser connection to the `postgres` database, giving up after 10 s.
    pub(super) async fn connect(&self) -> Result<PgConnection, EmbeddedError> {
        let options = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username(SUPERUSER)
            .password(self.password.expose_secret())
            .database("postgres")
            .ssl_mode(PgSslMode::Disable)
            .application_name("frontdesk-embedded");
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            PgConnection::connect_with(&options),
        )
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out after 10s",
            )))
        });
        result.map_err(|source| EmbeddedError::Connect {
            port: self.port,
            user: SUPERUSER.into(),
            log_file: self.log_file(),
            source,
        })
    }

    /// [`connect`](Self::connect), retried until `patience` runs out — except after a wrong
    /// password, which waiting will not fix.
    pub(super) async fn connect_with_retry(
        &self,
        patience: Duration,
    ) -> Result<PgConnection, EmbeddedError> {
        let deadline = Instant::now() + patience;
        loop {
            match self.connect().await {
                Ok(conn) => return Ok(conn),
                Err(e) if Instant::now() >= deadline || is_wrong_password(&e) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
}

/// SQLSTATE 28P01 (invalid_password) on connect.
fn is_wrong_password(err: &EmbeddedError) -> bool {
    matches!(
        err,
        EmbeddedError::Connect { source: sqlx::Error::Database(db), .. }
            if db.code().as_deref() == Some("28P01")
    )
}

pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
