//! The HTTP face of a database outage: a GraphQL response that failed because PostgreSQL is
//! unreachable (`extensions.code = SERVICE_UNAVAILABLE`, see `frontdesk_db::health`) is
//! answered with status 503 and `Retry-After`, so load balancers, proxies and HTTP clients
//! that know nothing of GraphQL back off and retry instead of treating it as a success (200)
//! or as our bug (500).

use async_graphql::{BatchResponse, Response as GqlResponse, Value};
use async_graphql_axum::GraphQLResponse;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_graphql::ErrorCode;

/// The HTTP response for an executed request or batch: 503 with `Retry-After` when every
/// operation failed as unavailable with no data; `Retry-After` alone when only some did.
pub(crate) fn graphql_response(batch: BatchResponse) -> Response {
    let responses: Vec<&GqlResponse> = match &batch {
        BatchResponse::Single(r) => vec![r],
        BatchResponse::Batch(rs) => rs.iter().collect(),
    };
    let waits: Vec<Option<u64>> = responses.iter().map(|r| retry_after(r)).collect();
    let retry = waits.iter().flatten().max().copied();
    let all_failed = responses
        .iter()
        .zip(&waits)
        .all(|(r, wait)| wait.is_some() && r.data == Value::Null);
    let mut http = GraphQLResponse::from(batch).into_response();
    if let Some(seconds) = retry {
        if all_failed {
            *http.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    http
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
