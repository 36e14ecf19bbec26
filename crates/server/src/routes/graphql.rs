//! `/graphql` over HTTP and the GraphiQL page.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLBatchRequest, GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use frontdesk_graphql::{ErrorCode, Principal, RequestCtx, TokenKeys};

use crate::AppState;

/// GraphiQL, pointed at `/graphql` for queries and subscriptions.
pub(crate) async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("Frontdesk GraphiQL")
            .finish(),
    )
}

/// Queries sent as `GET /graphql?query=…` (never mutations: async-graphql refuses them).
pub(crate) async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> Response {
    let ctx = match request_ctx(&headers, &state.keys) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    GraphQLResponse::from(state.schema.execute(req.into_inner().data(ctx)).await).into_response()
}

/// Queries, mutations and batches sent as JSON.
pub(crate) async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: GraphQLBatchRequest,
) -> Response {
    let ctx = match request_ctx(&headers, &state.keys) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    GraphQLResponse::from(state.schema.execute_batch(req.into_inner().data(ctx)).await)
        .into_response()
}

/// Builds the request context. A missing token means anonymous (fields that need a caller
/// say `UNAUTHENTICATED`); a token that is present but invalid refuses the whole request.
fn request_ctx(headers: &HeaderMap, keys: &TokenKeys) -> Result<RequestCtx, Box<Response>> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let principal = match authenticate(headers, keys) {
        Ok(p) => p,
        Err(message) => return Err(Box::new(unauthenticated(&message, &request_id))),
    };
    Ok(RequestCtx {
        principal,
        request_id,
    })
}

fn authenticate(headers: &HeaderMap, keys: &TokenKeys) -> Result<Option<Principal>, String> {
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not valid text".to_owned())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| "the Authorization header must be `Bearer <token>`".to_owned())?;
    keys.verify(token.trim())
        .map(Some)
        .map_err(|e| e.to_string())
}

fn unauthenticated(message: &str, request_id: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{
            "message": message,
            "extensions": { "code": ErrorCode::Unauthenticated.as_str(), "requestId": request_id }
        }]
    });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}
