//! `/graphql` over HTTP, as the GraphQL-over-HTTP specification describes it (the media
//! types and status codes are in [`super::reply`]), with persisted documents
//! ([`crate::persisted`]).
//!
//! The handlers read requests themselves rather than through async-graphql-axum's extractors,
//! whose rejections are plain text: every refusal here — content type, body size, malformed
//! JSON, batch size, a mutation over GET, a bad token — is a GraphQL error body with
//! `extensions.code` and `extensions.requestId`, like the errors the schema reports.

use std::net::{IpAddr, SocketAddr};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_graphql::{AuthError, ErrorCode, Principal, Reply, RequestCtx, TokenKeys};
use serde_json::Value;

use super::outage::Outage;
use super::params::{self, Params};
use super::reply::{self, Media, Refusal};
use crate::app::BODY_LIMIT_BYTES;
use crate::persisted::DocumentError;
use crate::AppState;

/// Most operations in one batched POST. Each runs as a full request, so a batch multiplies
/// every per-request limit; ten covers a client that coalesces the queries of one screen.
const MAX_BATCH_SIZE: usize = 10;

/// How long shared caches may keep the answer to an anonymous GET query that had no errors.
/// Answers for a token are `private`: they are one tenant's data.
const PUBLIC_GET_MAX_AGE_SECONDS: u32 = 60;

/// Queries sent as `GET /graphql?query=…` (or a persisted document's id or APQ hash, so
/// CDNs can cache them), never mutations (GET must be safe to repeat); or the WebSocket
/// upgrade for subscriptions (see [`super::ws`]).
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
    let media = Media::negotiate(&headers);
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|Query(pairs)| pairs)
        .map_err(|e| format!("the query string is not a GraphQL request: {e}"))
        .and_then(params::from_query_pairs);
    let params = match pairs {
        Ok(p) => p,
        Err(message) => {
            return Refusal::bad_input(StatusCode::BAD_REQUEST, message)
                .into_response(&request_id, media)
        }
    };
    let mut request = match document(&state, params, &request_id) {
        Ok(r) => r,
        Err(answer) => return answer.into_response(&request_id, media),
    };
    if selects_mutation(&mut request) {
        let mut response = Refusal::bad_input(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST".to_owned(),
        )
        .into_response(&request_id, media);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    let ctx = match request_ctx(&state, &headers, request_id, peer, media).await {
        Ok(c) => c,
        Err(refusal) => return *refusal,
    };
    let anonymous = ctx.principal.is_none();
    let answer = execute_boxed(&state, request, ctx).await;
    let (ok, mut reply) = match answer {
        Reply::Json(body) => (true, reply::body(body, media)),
        Reply::Response(response) => {
            let outage = Outage::of([&response]);
            (
                response.errors.is_empty(),
                outage.apply(reply::single(response, media)),
            )
        }
    };
    let cache = match (ok, anonymous) {
        (true, true) => format!("public, max-age={PUBLIC_GET_MAX_AGE_SECONDS}"),
        (true, false) => "private, no-cache".to_owned(),
        (false, _) => "no-store".to_owned(),
    };
    let headers = reply.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&cache) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept, Authorization"),
    );
    reply
}

/// Queries, mutations and batches sent as JSON.
pub(crate) async fn graphql_post(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let request_id = request_id(&headers);
    let peer = client_addr(req.extensions());
    let media = Media::negotiate(&headers);
    let batch = match read_batch(req).await {
        Ok(b) => b,
        Err(refusal) => return refusal.into_response(&request_id, media),
    };
    // Documents first: a request without one is malformed whatever the caller's token.
    let mut requests = Vec::with_capacity(batch.len());
    for params in batch.items {
        match document(&state, params, &request_id) {
            Ok(r) => requests.push(Ok(r)),
            Err(Answer::Refusal(refusal)) => return refusal.into_response(&request_id, media),
            Err(Answer::Response(response)) => requests.push(Err(response)),
        }
    }
    let ctx = match request_ctx(&state, &headers, request_id, peer, media).await {
        Ok(c) => c,
        Err(refusal) => return *refusal,
    };
    if batch.single && matches!(requests.as_slice(), [Ok(_)]) {
        if let Some(Ok(request)) = requests.pop() {
            let answer = execute_boxed(&state, request, ctx).await;
            return match answer {
                Reply::Json(body) => reply::body(body, media),
                Reply::Response(response) => {
                    Outage::of([&response]).apply(reply::single(response, media))
                }
            };
        }
    }
    let mut responses = Vec::with_capacity(requests.len());
    for request in requests {
        responses.push(match request {
            Ok(request) => execute_boxed(&state, request, ctx.clone())
                .await
                .into_response(),
            Err(response) => *response,
        });
    }
    let outage = Outage::of(&responses);
    if batch.single {
        if let Some(response) = responses.pop() {
            return outage.apply(reply::single(response, media));
        }
    }
    outage.apply(reply::batch(responses, media))
}

/// One request's execution, boxed. Inline, its future (about 6 KiB) made each handler's 8 KiB,
/// and axum's handler service copies a handler's future whole before polling it (twice per
/// request in a profile): kilobytes that a compiled read never uses.
fn execute_boxed(
    state: &AppState,
    request: async_graphql::Request,
    ctx: RequestCtx,
) -> std::pin::Pin<Box<impl std::future::Future<Output = Reply> + Send + '_>> {
    Box::pin(frontdesk_graphql::execute_reply(
        &state.schema,
        &state.db,
        request,
        ctx,
    ))
}

/// What answers a request whose document could not be determined.
enum Answer {
    /// A malformed HTTP request (400).
    Refusal(Refusal),
    /// A GraphQL request error (an unknown persisted document, …).
    Response(Box<async_graphql::Response>),
}

impl Answer {
    fn into_response(self, request_id: &str, media: Media) -> Response {
        match self {
            Answer::Refusal(r) => r.into_response(request_id, media),
            Answer::Response(r) => reply::single(*r, media),
        }
    }
}

/// The request to execute: its document (sent, or persisted), operation and variables.
fn document(
    state: &AppState,
    params: Params,
    request_id: &str,
) -> Result<async_graphql::Request, Answer> {
    let query = state.documents.resolve(&params).map_err(|e| match e {
        DocumentError::Missing => Answer::Refusal(Refusal::bad_input(
            StatusCode::BAD_REQUEST,
            "the request has no `query` (nor a persisted document's id)".to_owned(),
        )),
        DocumentError::Refused { code, message } => {
            Answer::Response(Box::new(reply::request_error(code, message, request_id)))
        }
    })?;
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name;
    if let Some(variables) = params.variables {
        request.variables = async_graphql::Variables::from_json(Value::Object(variables));
    }
    // The executor reads some too (`minLsn`, read-your-writes across server processes).
    for (name, value) in params.extensions {
        if let Ok(value) = async_graphql::Value::from_json(value) {
            request.extensions.insert(name, value);
        }
    }
    Ok(request)
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

/// A POST body's requests; `single` when it was one object rather than an array.
struct Batch {
    items: Vec<Params>,
    single: bool,
}

impl Batch {
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// Reads a POST body into a batch: JSON only, within the body limit, one request or a
/// non-empty array of at most [`MAX_BATCH_SIZE`].
async fn read_batch(req: Request) -> Result<Batch, Refusal> {
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

fn parse_batch(json: Value) -> Result<Batch, Refusal> {
    let Value::Array(items) = json else {
        return parse_request(json).map(|p| Batch {
            items: vec![p],
            single: true,
        });
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
    let items = items
        .into_iter()
        .map(parse_request)
        .collect::<Result<_, _>>()?;
    Ok(Batch {
        items,
        single: false,
    })
}

fn parse_request(json: Value) -> Result<Params, Refusal> {
    params::from_json(json).map_err(|message| Refusal::bad_input(StatusCode::BAD_REQUEST, message))
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
    media: Media,
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
                    code: ErrorCode::Unauthenticated.as_str(),
                    message,
                }
                .into_response(&request_id, media),
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
