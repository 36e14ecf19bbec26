//! The one way in: run a GraphQL request (or batch) for a caller.
//!
//! Around async-graphql's own execution this applies what the schema itself cannot express,
//! once per request rather than once per resolved field (which is what an async-graphql
//! extension would cost): the document checks of [`crate::limits`] before anything runs, a
//! fresh [`Session`] (the request's one transaction) and loaders, the commit or rollback at
//! the end, and an `extensions.code` on every error.

use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request, Response, Value};
use frontdesk_db::Db;

use crate::loader::Loaders;
use crate::session::Session;
use crate::{limits, ApiError, AppSchema, RequestCtx};

/// Executes one request for the caller in `ctx`.
pub async fn execute(schema: &AppSchema, db: &Db, request: Request, ctx: RequestCtx) -> Response {
    let request_id = ctx.request_id.clone();
    let mut request = request.data(ctx);
    let arguments = match limits::check_document(&mut request) {
        Ok(arguments) => arguments,
        Err(refusal) => {
            let mut response = Response::from_errors(vec![refusal]);
            limits::code_errors(&mut response, &request_id, None);
            return response;
        }
    };
    let mutation = selects_mutation(&mut request);
    let session = Arc::new(Session::new(db.clone()));
    let request = request
        .data(Loaders::new(session.clone()))
        .data(session.clone());

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
        Ok(()) => {}
    }
    limits::code_errors(&mut response, &request_id, Some(&arguments));
    response
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

/// Whether the operation the request selects is a mutation (an unknown name is not; the
/// schema reports it).
fn selects_mutation(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    doc.operations.iter().any(|(op_name, op)| {
        op.node.ty == OperationType::Mutation
            && match (&name, op_name) {
                (Some(wanted), Some(n)) => n.as_str() == wanted,
                (None, _) => true,
                (Some(_), None) => false,
            }
    })
}
