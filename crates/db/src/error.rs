//! The database layer's error type. Callers map it to API errors; the `Display` of a
//! `Sqlx` variant may contain SQL and must never be shown to an API client.

/// Errors from the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A driver, protocol or statement error (cause kept for the log, never for clients).
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The configured connection string could not be parsed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The embedded cluster could not be started or reached.
    #[error(transparent)]
    Embedded(#[from] crate::embedded::EmbeddedError),
    /// The migration owner may not manage the runtime role.
    #[error("{0}")]
    RuntimeRole(String),
    /// A secret could not be sealed or opened (never carries the secret).
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A keyset cursor does not fit the ordering it is used with.
    #[error("the cursor does not match this ordering")]
    CursorMismatch,
}

impl DbError {
    /// The name of the violated constraint, when the error is a constraint violation.
    /// Mapping layers use it to turn violations into domain errors.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.constraint(),
            _ => None,
        }
    }

    /// The SQLSTATE code of a database error, if any.
    pub fn sqlstate(&self) -> Option<String> {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
            _ => None,
        }
    }
}
