//! Migrations and the runtime role.
//!
//! Migrations run as the *owner* (the `DATABASE_URL` login). Requests run as
//! [`RUNTIME_ROLE`], which migration 0001 creates without LOGIN, SUPERUSER or BYPASSRLS; here we
//! only give it LOGIN (and a password when one is configured), because a password must never be
//! written into a migration file.

use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, PgConnection};

use crate::DbError;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The role requests run as. Not superuser, not owner of any table, no BYPASSRLS.
pub const RUNTIME_ROLE: &str = "frontdesk_app";

/// Applies pending migrations as the owner and makes the runtime role able to log in.
#[tracing::instrument(skip_all)]
pub async fn migrate(
    owner: &mut PgConnection,
    app_password: Option<&SecretString>,
) -> Result<(), DbError> {
    MIGRATOR.run(&mut *owner).await?;
    let mut tx = owner.begin().await?;
    // Readiness checks compare the applied version with the embedded one as the runtime role.
    sqlx::query("GRANT SELECT ON _sqlx_migrations TO frontdesk_app")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    let can_login =
        sqlx::query_scalar!("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'frontdesk_app'")
            .fetch_one(&mut *owner)
            .await?
            .unwrap_or(false);
    if can_login && app_password.is_none() {
        return Ok(());
    }
    // Roles are cluster-wide: databases migrating side by side (tests) may alter the role at
    // the same moment, and PostgreSQL answers the loser with "tuple concurrently updated".
    // The statement is idempotent, so the loser simply tries again.
    let mut attempt = 0;
    loop {
        match alter_runtime_login(&mut *owner, app_password).await {
            Err(DbError::Sqlx(sqlx::Error::Database(e)))
                if e.code().as_deref() == Some("XX000") && attempt < 20 =>
            {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn alter_runtime_login(
    owner: &mut PgConnection,
    app_password: Option<&SecretString>,
) -> Result<(), DbError> {
    let mut tx = owner.begin().await?;
    // The password travels as a bound parameter into a transaction-local setting, so it never
    // appears in statement text (and therefore never in a statement log).
    sqlx::query("SELECT set_config('frontdesk.app_password', $1, true)")
        .bind(app_password.map(|p| p.expose_secret().to_owned()))
        .execute(&mut *tx)
        .await?;
    let altered = sqlx::query(
        "DO $$ BEGIN
           IF nullif(current_setting('frontdesk.app_password', true), '') IS NULL THEN
             ALTER ROLE frontdesk_app LOGIN;
           ELSE
             EXECUTE format('ALTER ROLE frontdesk_app LOGIN PASSWORD %L',
                            current_setting('frontdesk.app_password'));
           END IF;
         END $$",
    )
    .execute(&mut *tx)
    .await;
    match altered {
        Ok(_) => {
            tx.commit().await?;
            Ok(())
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
            Err(DbError::RuntimeRole(
                "the DATABASE_URL role may not alter role frontdesk_app: as a superuser run \
                 `ALTER ROLE frontdesk_app LOGIN PASSWORD '...'` once and set FRONTDESK_APP_DB_PASSWORD"
                    .into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The newest migration version embedded in this binary.
pub fn latest_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}
