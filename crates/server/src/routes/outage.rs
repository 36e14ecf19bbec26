//! The HTTP face of "try again later": a GraphQL response that failed because PostgreSQL is
//! unreachable (`extensions.code = SERVICE_UNAVAILABLE`, see `frontdesk_db::health`) is
//! answered with status 503, one refused by a rate limit (`RATE_LIMITED` with
//! `extensions.retryAfter`) with 429, both with `Retry-After`, so load balancers, proxies and
//! HTTP clients that know nothing of GraphQL back off and retry instead of treating it as a
//! success (200) or as our bug (500).

use async_graphql::{Response as GqlResponse, Value};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use frontdesk_graphql::ErrorCode;

/// What a refusal to serve now does to the HTTP answer of an executed request or batch: 503
/// (an outage) or 429 (a rate limit) with `Retry-After` when every operation failed so with
/// no data; `Retry-After` alone when only some did; nothing otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outage {
    retry: Option<u64>,
    all_failed: bool,
    /// An outage anywhere makes it 503; only rate limits, 429.
    unavailable: bool,
}

impl Outage {
    /// Reads the executed `responses` (before they are turned into HTTP).
    pub(crate) fn of<'a>(responses: impl IntoIterator<Item = &'a GqlResponse>) -> Self {
        let (mut retry, mut all_failed, mut unavailable) = (None::<u64>, true, false);
        for r in responses {
            let wait = retry_after(r);
            all_failed &= wait.is_some() && r.data == Value::Null;
            unavailable |= wait.is_some_and(|(_, outage)| outage);
            retry = retry.max(wait.map(|(seconds, _)| seconds));
        }
        Self {
            retry,
            all_failed,
            unavailable,
        }
    }

    /// Applies it to the HTTP answer.
    pub(crate) fn apply(self, mut http: Response) -> Response {
        if let Some(seconds) = self.retry {
            if self.all_failed {
                *http.status_mut() = if self.unavailable {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::TOO_MANY_REQUESTS
                };
            }
            http.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        http
    }
}

/// The seconds to wait when the response carries a `SERVICE_UNAVAILABLE` error, or a
/// `RATE_LIMITED` one that says when to retry; and whether it is an outage.
fn retry_after(response: &GqlResponse) -> Option<(u64, bool)> {
    let unavailable = ErrorCode::ServiceUnavailable.as_str();
    let limited = ErrorCode::RateLimited.as_str();
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter_map(|ext| {
            let Some(Value::String(code)) = ext.get("code") else {
                return None;
            };
            let seconds = match ext.get("retryAfter") {
                Some(Value::Number(n)) => n.as_u64().map(|s| s.max(1)),
                _ => None,
            };
            if code == unavailable {
                Some((seconds.unwrap_or(1), true))
            } else if code == limited {
                // A limit that says no time (one subscription too many on a socket) is no
                // reason for HTTP clients to back off.
                seconds.map(|s| (s, false))
            } else {
                None
            }
        })
        .max()
}
