//! The Frontdesk GraphQL schema.
//!
//! This crate owns the API's shape — types, inputs, errors, auth tokens, loaders, limits — and
//! resolves it against `frontdesk-db` scopes. It knows nothing of HTTP: the server crate turns
//! a request into a [`RequestCtx`] and calls [`execute`]; tests can do the same in process.

pub mod auth;
mod error;
mod execute;
pub mod limits;
pub mod list;
mod loader;
pub mod mutation;
mod prefetch;
mod query;
mod session;
pub mod types;
pub mod validate;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use frontdesk_db::Db;

pub use auth::{AuthError, Principal, Role, TokenKeys};
pub use error::{ApiError, ErrorCode};
pub use execute::{execute, execute_batch};
pub use mutation::Mutation;
pub use query::Query;

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Per-request data the transport layer supplies.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// The verified caller, or `None` for anonymous requests.
    pub principal: Option<Principal>,
    /// Correlates the response, the logs and masked internal errors.
    pub request_id: String,
}

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation::default(), EmptySubscription)
}

/// Builds the schema with its shared dependencies.
pub fn build_schema(db: Db, keys: TokenKeys) -> AppSchema {
    // No extensions: async-graphql runs every field of every row through each one, which
    // cost the nested benchmark a large share of its CPU; `execute` wraps requests instead.
    limits::apply(builder()).data(db).data(keys).finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
