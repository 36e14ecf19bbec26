//! `/graphql` over HTTP and the GraphiQL page.
//!
//! The handlers read requests themselves rather than through async-graphql-axum's extractors,
//! whose rejections are plain text: every refusal here — content type, body size, malformed
//! JSON, batch size, a mutation over GET, a bad token — is a GraphQL error body with
//! `extensions.code` and `extensions.requestId`, like the errors the schema reports.

use std::net::{IpAddr, SocketAddr};

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::BatchRequest;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use frontdesk_graphql::{AuthError, ErrorCode, Principal, RequestCtx, TokenKeys};
use serde_json::Value;

use crate::app::BODY_LIMIT_BYTES;
use crate::AppState;

/// Most operations in one batched POST. Each runs as a full request, so a batch multiplies
/// every per-request limit; ten covers a client that coalesces the queries of one screen.
const MAX_BATCH_SIZE: usize = 10;

/// GraphiQL, pointed at `/graphql` for queries and at its WebSocket URL (`ws[s]://…/graphql`)
/// for subscriptions, with the headers editor open so a token can be pasted in as
/// `{"Authorization": "Bearer <token>"}`. No header is preset: tokens never go in the page.
pub(crate) async fn graphiql() -> Html<String> {
    let page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql")
        .title("Frontdesk GraphiQL")
        .finish();
    // The builder has no option for the editor tools; its template hard-codes this line.
    Html(page.replace(
        "defaultEditorToolsVisibility: true,",
        "defaultEditorToolsVisibility: 'headers', isHeadersEditorEnabled: true,",
    ))
}

/// Queries sent as `GET /graphql?query=…` (never mutations: GET must be safe to repeat), or
/// the WebSocket upgrade for subscriptions (see [`super::ws`]).
pub(crate) async fn graphql_get(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    let headers = parts.headers.clone();
    let request_id = request_id(&headers);
    let peer = client_addr(&parts.extensions);
    if super::ws::is_upgrade(&headers) {
        return match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(ws) => super::ws::upgrade(state, ws, &headers, request_id, peer),
            Err(rejection) => rejection.into_response(),
        };
    }
    let query = parts.uri.query().map(str::to_owned);
    let mut request = match async_graphql::http::parse_query_string(&query.unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => {
            return Refusal::bad_input(
                StatusCode::BAD_REQUEST,
                format!("the query string is not a GraphQL request: {e}"),
            )
            .into_response(&request_id)
        }
    };
    if selects_mutation(&mut request) {
        let mut response = Refusal::bad_input(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST".to_owned(),
        )
        .into_response(&request_id);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let ctx = match request_ctx(&state, &headers, request_id, peer).await {
        Ok(c) => c,
        Err(refusal) => return *refusal,
    };
    super::outage::graphql_response(
        frontdesk_graphql::execute(&state.schema, &state.db, request, ctx)
            .await
            .into(),
    )
}

/// Queries, mutations and batches sent as JSON.
pub(crate) async fn graphql_post(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let request_id = request_id(&headers);
    let peer = client_addr(req.extensions());
    let batch = match read_batch(req).await {
        Ok(b) => b,
        Err(refusal) => return refusal.into_response(&request_id),
    };
    let ctx = match request_ctx(&state, &headers, request_id, peer).await {
        Ok(c) => c,
        Err(refusal) => return *refusal,
    };
    super::outage::graphql_response(
        frontdesk_graphql::execute_batch(&state.schema, &state.db, batch, ctx).await,
    )
}

/// Whether a GET request would run a mutation. A document that does not parse, or names no
/// operation it has, is left to the schema, which reports it with a code.
fn selects_mutation(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|op| op.node.ty == OperationType::Mutation)
}

/// Reads a POST body into a batch: JSON only, within the body limit, one request or a
/// non-empty array of at most [`MAX_BATCH_SIZE`].
async fn read_batch(req: Request) -> Result<BatchRequest, Refusal> {
    if !is_json(req.headers()) {
        return Err(Refusal::bad_input(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON, sent with `Content-Type: application/json`".to_owned(),
        ));
    }
    // A declared length over the limit is refused unread; a streamed body is cut off at
    // the limit by `DefaultBodyLimit` (see `app`).
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT_BYTES) {
        return Err(too_large());
    }
    let body = Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Refusal::bad_input(
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {}", e.body_text()),
            )
        }
    })?;
    let json: Value = serde_json::from_slice(&body).map_err(|e| {
        Refusal::bad_input(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    parse_batch(json)
}

fn parse_batch(json: Value) -> Result<BatchRequest, Refusal> {
    let Value::Array(items) = json else {
        return parse_request(json).map(BatchRequest::Single);
    };
    if items.is_empty() {
        return Err(Refusal::bad_input(
            StatusCode::BAD_REQUEST,
            "the batch is empty; send at least one request".to_owned(),
        ));
    }
    if items.len() > MAX_BATCH_SIZE {
        return Err(Refusal::bad_input(
            StatusCode::BAD_REQUEST,
            format!(
                "the batch has {} requests; the limit is {MAX_BATCH_SIZE} per batch",
                items.len()
            ),
        ));
    }
    let requests = items
        .into_iter()
        .map(parse_request)
        .collect::<Result<_, _>>()?;
    Ok(BatchRequest::Batch(requests))
}

fn parse_request(json: Value) -> Result<async_graphql::Request, Refusal> {
    serde_json::from_value(json).map_err(|e| {
        Refusal::bad_input(
            StatusCode::BAD_REQUEST,
            format!("the body is not a GraphQL request ({{\"query\": \"…\", \"variables\": {{…}}}}): {e}"),
        )
    })
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn too_large() -> Refusal {
    Refusal::bad_input(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than the limit of {BODY_LIMIT_BYTES} bytes"),
    )
}

/// Set by `SetRequestIdLayer` before any handler runs.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The client's address: the socket peer, as `serve` records it (`ConnectInfo`). Forwarding
/// headers (`X-Forwarded-For`, `Forwarded`) are ignored: any client can write them, and no
/// trusted-proxy setting exists yet to say whose to believe. A router driven without a
/// socket (tests calling `app(state)` directly) has none.
fn client_addr(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The `User-Agent` header, when it is text (the audit trail records it; the database cuts it
/// to a bounded length).
pub(crate) fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Builds the request context. A missing token means anonymous (fields that need a caller
/// say `UNAUTHENTICATED`); a token that is present but invalid refuses the whole request. An
/// expired token is recorded in its tenant's audit trail (its signature proves the tenant);
/// other refused tokens prove nothing about who sent them and are only logged.
async fn request_ctx(
    state: &AppState,
    headers: &HeaderMap,
    request_id: String,
    client_addr: Option<IpAddr>,
) -> Result<RequestCtx, Box<Response>> {
    let ctx = RequestCtx {
        principal: None,
        request_id,
        client_addr,
        user_agent: user_agent(headers),
    };
    match authenticate(headers, &state.keys) {
        Ok(principal) => Ok(RequestCtx { principal, ..ctx }),
        Err((message, expired)) => {
            tracing::info!(reason = %message, "access token refused");
            if let Some(p) = expired {
                let event = frontdesk_db::audit::AuthEvent::TokenExpired;
                let recorded = frontdesk_db::audit::record(
                    &state.db,
                    p.tenant_id,
                    p.user_id,
                    event,
                    &ctx.meta(),
                )
                .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "could not record a refused token in the audit trail");
                }
            }
            let request_id = ctx.request_id;
            Err(Box::new(
                Refusal {
                    status: StatusCode::UNAUTHORIZED,
                    code: ErrorCode::Unauthenticated,
                    message,
                }
                .into_response(&request_id),
            ))
        }
    }
}

/// The caller, or why the token is refused (with the caller an expired token names).
type Refused = (String, Option<Principal>);

fn authenticate(headers: &HeaderMap, keys: &TokenKeys) -> Result<Option<Principal>, Refused> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        (
            "the Authorization header is not valid text".to_owned(),
            None,
        )
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            (
                "the Authorization header must be `Bearer <token>`".to_owned(),
                None,
            )
        })?
        .trim();
    keys.verify(token).map(Some).map_err(|e| {
        let expired = (e == AuthError::Expired)
            .then(|| keys.expired_principal(token))
            .flatten();
        (e.to_string(), expired)
    })
}

/// A request refused before it reaches the schema, answered as a GraphQL error body.
struct Refusal {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl Refusal {
    fn bad_input(status: StatusCode, message: String) -> Self {
        Self {
            status,
            code: ErrorCode::BadUserInput,
            message,
        }
    }

    fn into_response(self, request_id: &str) -> Response {
        let body = serde_json::json!({
            "errors": [{
                "message": self.message,
                "extensions": { "code": self.code.as_str(), "requestId": request_id }
            }]
        });
        (self.status, Json(body)).into_response()
    }
}
