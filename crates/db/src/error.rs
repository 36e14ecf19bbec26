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
    /// The database is unreachable and the request was failed fast (see [`crate::health`]).
    #[error("the database is unreachable")]
    Unavailable,
    /// The TLS handshake with the server failed (an untrusted or mismatched certificate, or a
    /// server without TLS under `sslmode=require`). Carries rustls' reason, never the URL.
    #[error("TLS to PostgreSQL failed: {0}; check the URL's sslmode and sslrootcert")]
    Tls(String),
}

impl DbError {
    /// The error of opening a connection: a failed TLS handshake becomes [`DbError::Tls`].
    /// sqlx reports most handshake failures as I/O errors of kind `InvalidData` (rustls'
    /// error inside), which would otherwise read as an unreachable server.
    pub(crate) fn from_connect(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Tls(e) => DbError::Tls(e.to_string()),
            sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                DbError::Tls(io.to_string())
            }
            other => DbError::Sqlx(other),
        }
    }
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

    /// Whether the error says the database cannot serve right now — unreachable, shutting
    /// down, out of connections, or the pool busy past its timeout — rather than that this
    /// request is wrong. Clients get `SERVICE_UNAVAILABLE` and may retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) => true,
            // too_many_connections: the server is up but refuses new sessions.
            _ if self.sqlstate().as_deref() == Some("53300") => true,
            _ => self.is_unreachable(),
        }
    }

    /// Whether the error says the server itself is gone: the connection was refused, reset or
    /// timed out, or the server is shutting down or starting up. Opens the breaker of
    /// [`crate::health`]; a busy pool does not.
    pub fn is_unreachable(&self) -> bool {
        match self {
            DbError::Unavailable => true,
            DbError::Sqlx(sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed) => true,
            DbError::Sqlx(sqlx::Error::Database(_)) => self.sqlstate().is_some_and(|code| {
                // Class 08 (connection exception), admin_shutdown, crash_shutdown,
                // cannot_connect_now.
                code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DbError;

    #[test]
    fn a_refused_connection_is_unreachable_and_a_busy_pool_only_unavailable() {
        let refused = DbError::Sqlx(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(refused.is_unreachable() && refused.is_unavailable());
        let busy = DbError::Sqlx(sqlx::Error::PoolTimedOut);
        assert!(busy.is_unavailable() && !busy.is_unreachable());
        assert!(DbError::Unavailable.is_unreachable());
        assert!(!DbError::CursorMismatch.is_unavailable());
        assert!(!DbError::Sqlx(sqlx::Error::RowNotFound).is_unavailable());
    }
}
