//! The one way in: run a GraphQL request (or batch) for a caller.
//!
//! Around async-graphql's own execution this applies what the schema itself cannot express,
//! once per request rather than once per resolved field (what an extension's `resolve` hook
//! would cost; the rate limits and metrics hook only per-request steps, see
//! [`crate::admission`]): the document checks of [`crate::limits`] before anything runs, a
//! fresh [`Session`] (the request's one transaction) and loaders, the commit or rollback at
//! the end, and an `extensions.code` on every error. [`execute_stream`] is the same for an
//! operation sent over a WebSocket, where a subscription's events each get a short
//! transaction of their own instead of one held open for the subscription's lifetime.
//!
//! A query may read from a replica; a mutation that commits answers with the WAL position of
//! its commit (`X-Frontdesk-Min-Lsn`, `extensions.minLsn`), which a later request may send
//! back as `extensions.minLsn` to read its writes on any server process
//! (`frontdesk_db::replica` says why).

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, Response, Value};
use frontdesk_db::{Db, Lsn};
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use tracing::Instrument as _;

use crate::direct::{Admitted, Direct, Outcome, ValidatedCost};
use crate::loader::Loaders;
use crate::ratelimit::leases::Lease;
use crate::session::Session;
use crate::subscription::{
    ConnectionSubscriptions, Deliver, Events, Handoff, Item, SubscriptionSlot,
};
use crate::telemetry;
use crate::{limits, ApiError, AppSchema, RequestCtx};

/// Executes one request for the caller in `ctx`.
pub async fn execute(schema: &AppSchema, db: &Db, request: Request, ctx: RequestCtx) -> Response {
    execute_reply(schema, db, request, ctx)
        .await
        .into_response()
}

/// The answer to one request: a response to serialise, or the JSON body of a compiled read
/// ([`crate::direct`]), which needs no serialising.
#[derive(Debug)]
pub enum Reply {
    /// A response from the resolvers (or a refusal).
    Response(Response),
    /// The whole body, `{"data":…}`, of a read without errors.
    Json(String),
}

impl Reply {
    /// As a response (parsing a compiled read's body: for batches and WebSockets, which
    /// serialise responses together).
    pub fn into_response(self) -> Response {
        #[derive(serde::Deserialize)]
        struct Body {
            data: Value,
        }
        match self {
            Reply::Response(r) => r,
            Reply::Json(body) => match serde_json::from_str::<Body>(&body) {
                Ok(b) => Response::new(b.data),
                Err(e) => Response::from_errors(vec![ApiError::Internal(
                    format!("a compiled read answered unreadable JSON: {e}").into(),
                )
                .into_graphql("")
                .into_server_error(Default::default())]),
            },
        }
    }
}

/// [`execute`], answering a read the compiled path serves with its body as it is.
pub async fn execute_reply(
    schema: &AppSchema,
    db: &Db,
    request: Request,
    ctx: RequestCtx,
) -> Reply {
    let mut request = request;
    let span = telemetry::operation_span(&mut request, &ctx);
    let reply = execute_operation(schema, db, request, ctx)
        .instrument(span.clone())
        .await;
    if let Reply::Response(response) = &reply {
        telemetry::record_outcome(&span, response);
    }
    reply
}

/// [`execute`]'s work, inside the span of the operation ([`crate::telemetry`]).
async fn execute_operation(
    schema: &AppSchema,
    db: &Db,
    request: Request,
    ctx: RequestCtx,
) -> Reply {
    let request_id = ctx.request_id.clone();
    let meta = ctx.meta();
    let writer = ctx.principal.as_ref().map(|p| p.tenant_ctx());
    let caller = ctx.clone();
    let mut request = request.data(ctx);
    let checked = limits::check_document(&mut request)
        .and_then(|arguments| Ok((arguments, min_lsn(&request, &request_id)?)));
    let (arguments, min_lsn) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            let mut response = Response::from_errors(vec![refusal]);
            limits::code_errors(&mut response, &request_id, None);
            return Reply::Response(response);
        }
    };
    let mutation = selects_mutation(&mut request);
    // A read every field of which maps to the declarations is answered by one statement,
    // once the resolvers have validated and answered its document (see `direct`).
    let direct = schema
        .data::<Arc<Direct>>()
        .filter(|_| !mutation && caller.principal.is_some());
    let plan = direct.and_then(|d| d.plan(&mut request));
    if let (Some(direct), Some(plan)) = (direct, &plan) {
        if let Some(cost) = direct.validated(plan) {
            match direct
                .answer(plan, cost, &mut request, db, &caller, min_lsn)
                .await
            {
                Outcome::Answered(body) => return Reply::Json(body),
                Outcome::Declined { admitted: true } => request = request.data(Admitted),
                Outcome::Declined { admitted: false } => {}
            }
        }
    }
    let cost = ValidatedCost::default();
    let request = request.data(cost.clone());
    let session = Arc::new(if mutation {
        Session::new(db.clone(), meta)
    } else {
        Session::reader(db.clone(), meta, min_lsn)
    });
    // A mutation's fields write one after another, so a row one of them loaded by id may be
    // changed by the next: their loaders batch but do not cache.
    let loaders = if mutation {
        Loaders::uncached(session.clone())
    } else {
        Loaders::new(session.clone())
    };
    let request = request.data(loaders).data(session.clone());

    let mut response = schema.execute(request).await;
    let commit = response.errors.is_empty();
    match session.finish(commit).await {
        Err(e) => {
            let err = ApiError::from(e).into_graphql(&request_id);
            response.data = Value::Null;
            response
                .errors
                .push(err.into_server_error(Default::default()));
        }
        // Nothing of a failed mutation was kept, so nothing of it is reported as done.
        Ok(()) if !commit && mutation => response.data = Value::Null,
        Ok(()) if mutation => {
            if let Some(lsn) = db.note_write(writer).await {
                tell_commit_position(&mut response, lsn);
            }
        }
        Ok(()) => {
            if let (Some(direct), Some(plan)) = (direct, &plan) {
                if response.errors.is_empty() {
                    direct.remember(plan, cost.get());
                }
            }
        }
    }
    limits::code_errors(&mut response, &request_id, Some(arguments.as_ref()));
    Reply::Response(response)
}

/// The name of the response header carrying a committed mutation's WAL position.
const MIN_LSN_HEADER: &str = "x-frontdesk-min-lsn";
/// The request and response extension carrying it.
const MIN_LSN_EXTENSION: &str = "minLsn";

/// The WAL position the client asks its reads to have caught up with (`extensions.minLsn`,
/// as a committed mutation answered it).
fn min_lsn(request: &Request, request_id: &str) -> Result<Option<Lsn>, async_graphql::ServerError> {
    let Some(value) = request.extensions.get(MIN_LSN_EXTENSION) else {
        return Ok(None);
    };
    let parsed = match value {
        async_graphql::Value::Null => return Ok(None),
        async_graphql::Value::String(s) => s.parse::<Lsn>().map_err(|e| e.to_string()),
        _ => Err("expected a string".to_owned()),
    };
    parsed.map(Some).map_err(|message| {
        ApiError::BadUserInput {
            field: format!("extensions.{MIN_LSN_EXTENSION}"),
            message: format!(
                "{message}: send back the minLsn a mutation answered with, or nothing"
            ),
        }
        .into_graphql(request_id)
        .into_server_error(Default::default())
    })
}

/// Puts a committed mutation's WAL position in the response, for the client to send back.
fn tell_commit_position(response: &mut Response, lsn: Lsn) {
    let text = lsn.to_string();
    if let Ok(value) = text.parse() {
        response.http_headers.insert(MIN_LSN_HEADER, value);
    }
    response
        .extensions
        .insert(MIN_LSN_EXTENSION.to_owned(), Value::String(text));
}

/// Executes a batch, one request (and one transaction) after another, in order.
pub async fn execute_batch(
    schema: &AppSchema,
    db: &Db,
    batch: BatchRequest,
    ctx: RequestCtx,
) -> BatchResponse {
    match batch {
        BatchRequest::Single(request) => {
            BatchResponse::Single(execute(schema, db, request, ctx).await)
        }
        BatchRequest::Batch(requests) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(execute(schema, db, request, ctx.clone()).await);
            }
            BatchResponse::Batch(responses)
        }
    }
}

/// Executes one operation received on a WebSocket connection: a subscription becomes a
/// stream of responses; a query or mutation, a stream of one (through [`execute`]).
/// `subscriptions` counts the connection's live subscriptions against their limit.
pub fn execute_stream(
    schema: &AppSchema,
    db: &Db,
    request: Request,
    ctx: RequestCtx,
    subscriptions: Arc<ConnectionSubscriptions>,
) -> BoxStream<'static, Response> {
    let mut request = request;
    if !selects(&mut request, OperationType::Subscription) {
        let (schema, db) = (schema.clone(), db.clone());
        return stream::once(async move { execute(&schema, &db, request, ctx).await }).boxed();
    }
    let request_id = ctx.request_id.clone();
    let refuse = |e: async_graphql::ServerError| {
        let mut response = Response::from_errors(vec![e]);
        limits::code_errors(&mut response, &request_id, None);
        stream::once(async move { response }).boxed()
    };
    let mut request = request.data(ctx.clone());
    let arguments = match limits::check_document(&mut request) {
        Ok(arguments) => arguments,
        Err(refusal) => return refuse(refusal),
    };
    let slot = match subscriptions.take() {
        Ok(slot) => slot,
        Err(e) => {
            return refuse(
                e.into_graphql(&request_id)
                    .into_server_error(Default::default()),
            )
        }
    };
    if ctx.principal.is_some() {
        // Until its start's turn comes (see [`STARTING`]), a subscription keeps only its
        // request's text: the parse and variables are made again from it then.
        let delivery = Delivery {
            lease: None,
            _slot: slot,
            replay: Replay::of(&request),
            ctx,
            arguments,
            schema: schema.clone(),
            db: db.clone(),
        };
        drop(request);
        return subscription_stream(Box::new(delivery));
    }
    // Anonymous: the resolver refuses with UNAUTHENTICATED.
    schema
        .execute_stream(request)
        .map(move |mut response| {
            limits::code_errors(&mut response, &request_id, Some(arguments.as_ref()));
            response
        })
        .boxed()
}

/// Whether the operation the request selects is a mutation (an unknown name is not; the
/// schema reports it).
fn selects_mutation(request: &mut Request) -> bool {
    selects(request, OperationType::Mutation)
}

/// Whether the operation the request selects is of type `ty`.
fn selects(request: &mut Request, ty: OperationType) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    doc.operations.iter().any(|(op_name, op)| {
        op.node.ty == ty
            && match (&name, op_name) {
                (Some(wanted), Some(n)) => n.as_str() == wanted,
                (None, _) => true,
                (Some(_), None) => false,
            }
    })
}

/// A request with a fresh session (bound to the caller's tenant) and loaders, which are the
/// ones its resolvers read through; the session, to close its transaction afterwards.
fn with_session(request: Request, db: &Db, ctx: &RequestCtx) -> (Request, Arc<Session>) {
    let session = Arc::new(Session::new(db.clone(), ctx.meta()));
    if let Some(p) = ctx.principal {
        session.bind(p.tenant_ctx());
    }
    // Events are read as they are now, never from a cache.
    let loaders = Loaders::uncached(session.clone());
    (request.data(loaders).data(session.clone()), session)
}

/// What a subscription's request is once it has started: its text, to resolve each event
/// with ([`Delivery::deliver`]). The variables are kept as JSON text, a fraction of their parsed
/// size.
struct Replay {
    query: Box<str>,
    operation_name: Option<Box<str>>,
    variables: Option<Box<str>>,
}

impl Replay {
    fn of(request: &Request) -> Self {
        let variables = (!request.variables.is_empty())
            .then(|| serde_json::to_string(&request.variables).ok())
            .flatten();
        Self {
            query: request.query.as_str().into(),
            operation_name: request.operation_name.as_deref().map(Into::into),
            variables: variables.map(Into::into),
        }
    }

    fn request(&self) -> Request {
        let mut request = Request::new(self.query.as_ref());
        if let Some(name) = &self.operation_name {
            request = request.operation_name(name.as_ref());
        }
        if let Some(variables) = &self.variables {
            request = request.variables(serde_json::from_str(variables).unwrap_or_default());
        }
        request
    }
}

/// A started subscription while it waits: all an idle subscriber holds (see
/// [`Handoff`]).
struct Live {
    /// Its fields' events, filtered, each tagged with its field.
    events: Events,
    delivery: Box<Delivery>,
}

/// What resolving a subscription's events takes, and the limits it holds.
struct Delivery {
    /// The tenant's subscription lease, once the start has taken it.
    lease: Option<Lease>,
    _slot: SubscriptionSlot,
    replay: Replay,
    ctx: RequestCtx,
    arguments: Arc<limits::Arguments>,
    schema: AppSchema,
    db: Db,
}

impl Delivery {
    /// Executes the start of the subscription: its fields check access, take the lease and
    /// position their watchers, then leave their events in `handoff` and end; what it
    /// answers is a refusal. It reads in the subscriber's tenant (access checks, the
    /// cursor's expiry).
    fn start(&self, handoff: Arc<Handoff>) -> BoxStream<'static, Response> {
        let mut request = self.replay.request().data(self.ctx.clone());
        let request_id = self.ctx.request_id.clone();
        // Checked when the client subscribed: from the cache.
        if let Err(e) = limits::check_document(&mut request) {
            let mut response = Response::from_errors(vec![e]);
            limits::code_errors(&mut response, &request_id, None);
            return stream::once(async move { response }).boxed();
        }
        let (request, session) = with_session(request, &self.db, &self.ctx);
        let request = request.data(handoff);
        let arguments = self.arguments.clone();
        self.schema
            .execute_stream(request)
            .then(move |mut response| {
                let session = session.clone();
                limits::code_errors(&mut response, &request_id, Some(arguments.as_ref()));
                async move {
                    if let Err(e) = session.finish(false).await {
                        tracing::warn!(error = %e, "closing a subscription start's transaction");
                    }
                    response
                }
            })
            .boxed()
    }

    /// Resolves one event: the subscription's document executed again, its field yielding
    /// just this event ([`Deliver`]). The execution and its transaction end with it.
    async fn deliver(&self, field: async_graphql::Pos, item: Item) -> Option<Response> {
        let mut request = self.replay.request().data(self.ctx.clone());
        // The document parsed and checked when the subscription started: from the cache.
        if let Err(e) = limits::check_document(&mut request) {
            let mut response = Response::from_errors(vec![e]);
            limits::code_errors(&mut response, &self.ctx.request_id, None);
            return Some(response);
        }
        let (request, session) = with_session(request, &self.db, &self.ctx);
        let request = request.data(Deliver::new(field, item));
        let mut responses = self.schema.execute_stream(request);
        let response = responses.next().await;
        drop(responses);
        // Each event's reads end with the event: no transaction stays open while the
        // subscription waits.
        if let Err(e) = session.finish(false).await {
            tracing::warn!(error = %e, "closing a subscription event's transaction");
        }
        let mut response = response?;
        limits::code_errors(
            &mut response,
            &self.ctx.request_id,
            Some(self.arguments.as_ref()),
        );
        Some(response)
    }
}

/// Subscriptions whose start executes at once, in this process.
///
/// A start executes with all of async-graphql's state for an operation (the request, its
/// parse, the query environment, the extension; kilobytes), and most of it waits for its turn
/// at the database ([`crate::subscription::start_turn`]). When tens of thousands of clients
/// subscribe at once, the others wait here instead, holding only their request's text, so
/// that the storm's peak — which the process's allocator keeps long after it has passed —
/// stays at what the idle subscriptions need. Twice the database's gate keeps it busy.
static STARTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);

/// A subscription's responses: those of the execution that starts it (errors, if any) once
/// its turn has come, then, once that execution has ended and been dropped, one per event of
/// what it started.
fn subscription_stream(delivery: Box<Delivery>) -> BoxStream<'static, Response> {
    enum Phase {
        Waiting(Box<Delivery>),
        Starting {
            responses: BoxStream<'static, Response>,
            handoff: Arc<Handoff>,
            delivery: Box<Delivery>,
            _turn: Option<tokio::sync::SemaphorePermit<'static>>,
        },
        Live(Box<Live>),
    }
    stream::unfold(Phase::Waiting(delivery), |phase| async move {
        let mut phase = phase;
        loop {
            phase = match phase {
                Phase::Waiting(delivery) => {
                    // (The gate is never closed; if it were, there would just be no gate.)
                    let turn = STARTING.acquire().await.ok();
                    let handoff = Arc::new(Handoff::default());
                    Phase::Starting {
                        responses: delivery.start(handoff.clone()),
                        handoff,
                        delivery,
                        _turn: turn,
                    }
                }
                Phase::Starting {
                    mut responses,
                    handoff,
                    delivery,
                    _turn,
                } => {
                    if let Some(response) = responses.next().await {
                        let phase = Phase::Starting {
                            responses,
                            handoff,
                            delivery,
                            _turn,
                        };
                        return Some((response, phase));
                    }
                    drop(responses);
                    drop(_turn);
                    let (events, lease) = handoff.take()?;
                    let mut delivery = delivery;
                    delivery.lease = lease;
                    Phase::Live(Box::new(Live { events, delivery }))
                }
                Phase::Live(mut live) => {
                    let (field, item) = live.events.next().await?;
                    // Boxed: an execution's state exists only while an event is resolved,
                    // instead of being reserved in every idle subscriber's stream.
                    let delivered = Box::pin(live.delivery.deliver(field, item)).await;
                    if let Some(response) = delivered {
                        return Some((response, Phase::Live(live)));
                    }
                    Phase::Live(live)
                }
            };
        }
    })
    .boxed()
}
