//! The schema's one async-graphql extension: admits each operation under the rate limits
//! ([`crate::ratelimit`]) and measures it for `/metrics` ([`crate::observe`]).
//!
//! It hooks only the once-per-request steps (parse, validation, execution), never field
//! resolution. async-graphql still takes its extension path for every field once any
//! extension is installed (it builds a `ResolveInfo` and passes it through the chain); on the
//! nested read of 800 SMS rows (debug build, this shared machine) that stayed within the
//! run-to-run noise, and a hook here is the only place the validated complexity can be had
//! without computing it a second time.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Pos, Request, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use crate::observe::{Meters, Operation};
use crate::ratelimit::leases::Lease;
use crate::ratelimit::Limiter;
use crate::subscription::{Deliver, Handoff};
use crate::{ApiError, Principal, RequestCtx};

/// Creates the per-request extension.
pub(crate) struct Admission {
    pub(crate) limiter: Arc<Limiter>,
    pub(crate) meters: Arc<Meters>,
}

impl ExtensionFactory for Admission {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            limiter: self.limiter.clone(),
            meters: self.meters.clone(),
            wanted: Mutex::default(),
            operation: Mutex::default(),
            lease: Mutex::default(),
        })
    }
}

/// One request's (or subscription's) state; dropped with its response or stream, which ends
/// its subscription lease.
struct PerRequest {
    limiter: Arc<Limiter>,
    meters: Arc<Meters>,
    /// The request's `operationName`.
    wanted: Mutex<Option<String>>,
    /// The operation that runs, once the document is parsed.
    operation: Mutex<Option<Operation>>,
    /// A subscription's lease of its tenant's subscription limit.
    lease: Mutex<Option<Lease>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The verified caller and the request id, when the request has a caller.
fn caller(ctx: &ExtensionContext<'_>) -> Option<(Principal, String)> {
    let r = ctx.data_opt::<RequestCtx>()?;
    Some((r.principal?, r.request_id.clone()))
}

/// A refusal of the whole request: no location, no path.
fn refusal(e: ApiError, request_id: &str) -> ServerError {
    let mut error = e.into_graphql(request_id).into_server_error(Pos::default());
    error.locations.clear();
    error
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        lock(&self.wanted).clone_from(&request.operation_name);
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Before anything else (`execute` parsed the document already; this only reuses it).
        // A compiled read that declined has charged the request already.
        // An event's delivery ([`Deliver`]) is part of the subscription admitted before.
        let admitted = ctx.data_opt::<crate::direct::Admitted>().is_some()
            || ctx.data_opt::<Deliver>().is_some();
        if let Some((p, request_id)) = caller(ctx).filter(|_| !admitted) {
            self.limiter
                .request(&p)
                .map_err(|e| refusal(e, &request_id))?;
        }
        let doc = next.run(ctx, query, variables).await?;
        let wanted = lock(&self.wanted).clone();
        *lock(&self.operation) = self.meters.operation(&doc, wanted.as_deref());
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if ctx.data_opt::<Deliver>().is_some() {
            // An event of a subscription admitted (and measured) when it started.
            return Ok(result);
        }
        if let Some(cost) = ctx.data_opt::<crate::direct::ValidatedCost>() {
            cost.0
                .store(result.complexity, std::sync::atomic::Ordering::Relaxed);
        }
        let operation = lock(&self.operation).clone();
        if let Some(op) = &operation {
            op.validated(result.complexity);
        }
        let Some((p, request_id)) = caller(ctx) else {
            return Ok(result);
        };
        self.limiter
            .complexity(&p, result.complexity)
            .map_err(|e| vec![refusal(e, &request_id)])?;
        if operation.is_some_and(|op| op.is_subscription()) {
            let taken = {
                let _turn = crate::subscription::start_turn().await;
                self.limiter.subscriptions.take(p.tenant_id).await
            };
            match taken {
                // Held by the subscription's events when they outlive this execution.
                Ok(lease) => match ctx.data_opt::<Arc<Handoff>>() {
                    Some(handoff) => handoff.hold(lease),
                    None => *lock(&self.lease) = lease,
                },
                Err(None) => {
                    let max = self.limiter.subscriptions.max().unwrap_or_default();
                    return Err(vec![refusal(Limiter::subscriptions_full(max), &request_id)]);
                }
                Err(Some(e)) => return Err(vec![refusal(ApiError::from(e), &request_id)]),
            }
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        // A subscription executes once per event; its events are not operations.
        if let Some(op) = lock(&self.operation)
            .as_ref()
            .filter(|op| !op.is_subscription())
        {
            op.executed(started.elapsed());
        }
        response
    }
}
