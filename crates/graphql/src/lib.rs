//! The Frontdesk GraphQL schema.
//!
//! This crate owns the API's shape — types, inputs, errors, auth tokens, loaders, limits — and
//! resolves it against `frontdesk-db` scopes. It knows nothing of HTTP: the server crate turns
//! a request into a [`RequestCtx`] and calls [`execute`]; tests can do the same in process.

mod admission;
pub mod auth;
pub mod dashboard;
pub mod direct;
pub mod entity;
mod error;
mod execute;
pub mod limits;
pub mod list;
mod loader;
pub mod mutation;
pub mod observe;
pub mod password;
mod privacy;
mod query;
pub mod ratelimit;
mod session;
pub mod subscription;
mod telemetry;
pub mod types;
pub mod validate;

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder};
use frontdesk_db::Db;

pub use auth::{AuthError, Principal, Role, TokenKeys};
pub use entity::{Entity, NodeRef};
pub use error::{ApiError, ErrorCode};
pub use execute::{execute, execute_batch, execute_reply, execute_stream, Reply};
pub use mutation::Mutation;
pub use query::Query;
pub use ratelimit::RateLimits;
pub use subscription::{ConnectionSubscriptions, Hub, Subscription};

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Per-request data the transport layer supplies.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// The verified caller, or `None` for anonymous requests.
    pub principal: Option<Principal>,
    /// Correlates the response, the logs and masked internal errors.
    pub request_id: String,
    /// The client's network address, when the transport knows it: the socket peer (no
    /// forwarding header is trusted). Log-in limits failed attempts per address with it.
    pub client_addr: Option<std::net::IpAddr>,
    /// The client's `User-Agent` header, if any (recorded in audit entries).
    pub user_agent: Option<String>,
}

impl RequestCtx {
    /// What the audit trail records of this request.
    pub fn meta(&self) -> frontdesk_db::RequestMeta {
        frontdesk_db::RequestMeta::new(
            self.request_id.clone(),
            self.client_addr,
            self.user_agent.as_deref(),
        )
    }
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// Builds the schema with its shared dependencies and the default rate limits.
pub fn build_schema(db: Db, keys: TokenKeys) -> AppSchema {
    build_schema_with(db, keys, RateLimits::default())
}

/// Builds the schema with its shared dependencies and `limits`.
pub fn build_schema_with(db: Db, keys: TokenKeys, limits: RateLimits) -> AppSchema {
    build_schema_options(db, keys, limits, true)
}

/// Builds the schema with `limits`, answering reads the declarations cover with one compiled
/// statement ([`direct`]) unless `compiled_reads` is false.
pub fn build_schema_options(
    db: Db,
    keys: TokenKeys,
    limits: RateLimits,
    compiled_reads: bool,
) -> AppSchema {
    // One extension, hooking only once-per-request steps (see `admission`); anything per
    // field is done by `execute` instead, around the request.
    let hub: Arc<Hub> = Hub::new(db.clone());
    let limiter = Arc::new(ratelimit::Limiter::new(limits, db.clone()));
    let meters = Arc::new(observe::Meters::default());
    let direct = Arc::new(direct::Direct::new(
        limiter.clone(),
        meters.clone(),
        compiled_reads,
    ));
    limits::apply(builder())
        .extension(admission::Admission { limiter, meters })
        .data(direct)
        .data(db)
        .data(keys)
        .data(hub)
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
