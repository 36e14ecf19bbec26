//! The HTTP face of a database outage: a GraphQL response that failed because PostgreSQL is
//! unreachable (`extensions.code = SERVICE_UNAVAILABLE`, see `frontdesk_db::health`) is
//! answered with status 503 and `Retry-After`, so load balancers, proxies and HTTP clients
//! that know nothing of GraphQL back off and retry instead of treating it as a success (200)
//! or as our bug (500).

use async_graphql::{Response as GqlResponse, Value};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use frontdesk_graphql::ErrorCode;

/// What an outage does to the HTTP answer of an executed request or batch: 503 with
/// `Retry-After` when every operation failed as unavailable with no data; `Retry-After` alone
/// when only some did; nothing otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outage {
    retry: Option<u64>,
    all_failed: bool,
}

impl Outage {
    /// Reads the executed `responses` (before they are turned into HTTP).
    pub(crate) fn of<'a>(responses: impl IntoIterator<Item = &'a GqlResponse>) -> Self {
        let (mut retry, mut all_failed) = (None::<u64>, true);
        for r in responses {
            let wait = retry_after(r);
            all_failed &= wait.is_some() && r.data == Value::Null;
            retry = retry.max(wait);
        }
        Self { retry, all_failed }
    }

    /// Applies it to the HTTP answer.
    pub(crate) fn apply(self, mut http: Response) -> Response {
        if let Some(seconds) = self.retry {
            if self.all_failed {
                *http.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            }
            http.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        http
    }
}

/// The seconds to wait when the response carries a `SERVICE_UNAVAILABLE` error.
fn retry_after(response: &GqlResponse) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter(|ext| {
            matches!(ext.get("code"), Some(Value::String(code))
                if code == ErrorCode::ServiceUnavailable.as_str())
        })
        .map(|ext| match ext.get("retryAfter") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(1).max(1),
            _ => 1,
        })
        .max()
}
