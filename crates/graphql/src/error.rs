//! API errors and their stable `extensions.code` values.
//!
//! Every resolver returns [`ApiError`]; its conversion into a GraphQL error sets
//! `extensions.code` (and `extensions.field` for bad input, and for a missing or conflicting
//! object when an argument named it). Internal errors are masked: the
//! client gets the request id, the log gets the cause.

use async_graphql::ErrorExtensions;

/// The stable, SCREAMING_SNAKE error codes clients can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid access token.
    Unauthenticated,
    /// Authenticated, but the role does not allow it.
    Forbidden,
    /// No such object in the caller's tenant (identical for other tenants' objects).
    NotFound,
    /// An argument is invalid; `extensions.field` names it.
    BadUserInput,
    /// The change conflicts with existing data.
    Conflict,
    /// Too many requests.
    RateLimited,
    /// The database is unreachable (or out of connections); retry after
    /// `extensions.retryAfter` seconds. The HTTP layer answers 503 with `Retry-After`.
    ServiceUnavailable,
    /// Our fault; details are in the log under the request id.
    Internal,
}

impl ErrorCode {
    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// An error a resolver reports to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// See [`ErrorCode::Unauthenticated`].
    #[error("{0}")]
    Unauthenticated(String),
    /// See [`ErrorCode::Forbidden`].
    #[error("{0}")]
    Forbidden(String),
    /// See [`ErrorCode::Forbidden`], naming the argument or input field the caller may not
    /// set (an owner-only field, a setting that is not editable) in `extensions.field`.
    #[error("{field}: {message}")]
    ForbiddenAt {
        /// The argument or input field, as a path (`input.subscription.plan`).
        field: String,
        /// Why it is refused.
        message: String,
    },
    /// See [`ErrorCode::NotFound`].
    #[error("{0} not found")]
    NotFound(&'static str),
    /// See [`ErrorCode::NotFound`], naming the argument that referred to the missing object
    /// (`id`, `input.customerId`) in `extensions.field`.
    #[error("{field}: {what} not found")]
    NotFoundAt {
        /// The type of the missing object.
        what: &'static str,
        /// The argument or input field that named it, as a path.
        field: String,
    },
    /// See [`ErrorCode::BadUserInput`].
    #[error("{field}: {message}")]
    BadUserInput {
        /// The offending argument or input field, as a path (`input.phone`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// See [`ErrorCode::Conflict`].
    #[error("{0}")]
    Conflict(String),
    /// See [`ErrorCode::Conflict`], naming the input field whose value conflicts (e.g. a
    /// phone number another customer has) in `extensions.field`.
    #[error("{field}: {message}")]
    ConflictAt {
        /// The input field, as a path (`input.phone`).
        field: String,
        /// What conflicts (never quoting the value).
        message: String,
    },
    /// See [`ErrorCode::RateLimited`].
    #[error("{0}")]
    RateLimited(String),
    /// See [`ErrorCode::RateLimited`], saying when to try again: `extensions.retryAfter`, in
    /// whole seconds (like HTTP's `Retry-After`).
    #[error("{message}")]
    RetryLater {
        /// What was limited.
        message: String,
        /// Seconds until the next attempt is allowed (at least 1).
        retry_after: u32,
    },
    /// See [`ErrorCode::ServiceUnavailable`]; the cause is logged, never sent.
    #[error("the service is temporarily unavailable; retry in {retry_after} s")]
    Unavailable {
        /// Seconds to wait before retrying (`extensions.retryAfter`, HTTP `Retry-After`).
        retry_after: u32,
    },
    /// See [`ErrorCode::Internal`]; the cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden(_) | ApiError::ForbiddenAt { .. } => ErrorCode::Forbidden,
            ApiError::NotFound(_) | ApiError::NotFoundAt { .. } => ErrorCode::NotFound,
            ApiError::BadUserInput { .. } => ErrorCode::BadUserInput,
            ApiError::Conflict(_) | ApiError::ConflictAt { .. } => ErrorCode::Conflict,
            ApiError::RateLimited(_) | ApiError::RetryLater { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable { .. } => ErrorCode::ServiceUnavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A copy for fan-out (one failed batch answers many fields); an internal cause is kept as
    /// text, which only ever reaches the log.
    pub(crate) fn duplicate(&self) -> ApiError {
        match self {
            ApiError::Unauthenticated(m) => ApiError::Unauthenticated(m.clone()),
            ApiError::Forbidden(m) => ApiError::Forbidden(m.clone()),
            ApiError::ForbiddenAt { field, message } => ApiError::ForbiddenAt {
                field: field.clone(),
                message: message.clone(),
            },
            ApiError::NotFound(what) => ApiError::NotFound(what),
            ApiError::NotFoundAt { what, field } => ApiError::NotFoundAt {
                what,
                field: field.clone(),
            },
            ApiError::ConflictAt { field, message } => ApiError::ConflictAt {
                field: field.clone(),
                message: message.clone(),
            },
            ApiError::BadUserInput { field, message } => ApiError::BadUserInput {
                field: field.clone(),
                message: message.clone(),
            },
            ApiError::Conflict(m) => ApiError::Conflict(m.clone()),
            ApiError::RateLimited(m) => ApiError::RateLimited(m.clone()),
            ApiError::RetryLater {
                message,
                retry_after,
            } => ApiError::RetryLater {
                message: message.clone(),
                retry_after: *retry_after,
            },
            ApiError::Unavailable { retry_after } => ApiError::Unavailable {
                retry_after: *retry_after,
            },
            ApiError::Internal(cause) => ApiError::Internal(cause.to_string().into()),
        }
    }

    /// Converts into a GraphQL error, logging and masking internal causes.
    pub fn into_graphql(self, request_id: &str) -> async_graphql::Error {
        let code = self.code();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(request_id, error = %cause, "internal error");
                format!("internal error (request id {request_id})")
            }
            other => other.to_string(),
        };
        let field = match &self {
            ApiError::BadUserInput { field, .. }
            | ApiError::ForbiddenAt { field, .. }
            | ApiError::NotFoundAt { field, .. }
            | ApiError::ConflictAt { field, .. } => Some(field.clone()),
            _ => None,
        };
        let retry_after = match &self {
            ApiError::RetryLater { retry_after, .. } | ApiError::Unavailable { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let request_id = request_id.to_owned();
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", code.as_str());
            if let Some(f) = &field {
                e.set("field", f.as_str());
            }
            if let Some(seconds) = retry_after {
                e.set("retryAfter", seconds);
            }
            if code == ErrorCode::Internal {
                e.set("requestId", request_id.as_str());
            }
        })
    }
}

impl From<frontdesk_db::DbError> for ApiError {
    fn from(e: frontdesk_db::DbError) -> Self {
        if e.is_unavailable() {
            // Logged here because the client's message names no cause.
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::Unavailable {
                retry_after: frontdesk_db::health::RETRY_AFTER_SECS,
            };
        }
        ApiError::Internal(Box::new(e))
    }
}
