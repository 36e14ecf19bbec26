//! The router, built without a socket so tests can call it directly.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use frontdesk_db::Db;
use frontdesk_graphql::{AppSchema, TokenKeys};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::persisted::PersistedDocuments;
use crate::routes;
use crate::telemetry;

/// Largest accepted request body. GraphQL documents are small; this stops memory abuse.
/// Enforced by `DefaultBodyLimit` where a body is read (only `POST /graphql` reads one), not
/// by tower-http's `RequestBodyLimitLayer`, whose plain-text 413 is no GraphQL error body.
pub(crate) const BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Upper bound on a whole HTTP request, well above the per-statement timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The executable GraphQL schema.
    pub schema: AppSchema,
    /// The runtime database handle (readiness checks).
    pub db: Db,
    /// Access-token keys (request authentication).
    pub keys: TokenKeys,
    /// Renders `/metrics`.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Persisted documents: the APQ store, or the trusted manifest.
    pub documents: Arc<PersistedDocuments>,
    /// How often a WebSocket peer is pinged; it is closed when it misses a pong for as long.
    pub ws_keepalive: Duration,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State for a database and token keys.
    pub fn new(db: Db, keys: TokenKeys) -> Self {
        Self {
            schema: frontdesk_graphql::build_schema(db.clone(), keys.clone()),
            db,
            keys,
            metrics: routes::metrics_handle(),
            documents: Arc::new(PersistedDocuments::default()),
            ws_keepalive: DEFAULT_WS_KEEPALIVE,
        }
    }

    /// The same state with other persisted documents (the trusted-documents mode).
    #[must_use]
    pub fn with_documents(mut self, documents: PersistedDocuments) -> Self {
        self.documents = Arc::new(documents);
        self
    }

    /// The same state with other rate limits (a new schema: the limits' state lives in it).
    #[must_use]
    pub fn with_rate_limits(self, limits: frontdesk_graphql::RateLimits) -> Self {
        self.with_schema(limits, true)
    }

    /// The same state with other rate limits and compiled reads on or off (a new schema).
    #[must_use]
    pub fn with_schema(
        mut self,
        limits: frontdesk_graphql::RateLimits,
        compiled_reads: bool,
    ) -> Self {
        self.schema = frontdesk_graphql::build_schema_options(
            self.db.clone(),
            self.keys.clone(),
            limits,
            compiled_reads,
        );
        self
    }

    /// The same state with another WebSocket keep-alive interval.
    #[must_use]
    pub fn with_ws_keepalive(mut self, every: Duration) -> Self {
        self.ws_keepalive = every;
        self
    }
}

/// The WebSocket keep-alive interval unless configured (`FRONTDESK_WS_KEEPALIVE_SECONDS`):
/// below the idle timeouts of common proxies (60 s for nginx and AWS load balancers).
pub const DEFAULT_WS_KEEPALIVE: Duration = Duration::from_secs(15);

/// All routes with their middleware.
pub fn app(state: AppState) -> Router {
    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .route("/", get(routes::graphiql))
        .route("/graphiql", get(routes::graphiql))
        .route("/graphiql/assets/{name}", get(routes::graphiql_asset))
        .route(
            "/graphql",
            get(routes::graphql_get).post(routes::graphql_post),
        )
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .route("/metrics", get(routes::metrics))
        .route_layer(axum::middleware::from_fn(routes::track_metrics))
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::request_span::<axum::body::Body>)
                .on_response(telemetry::on_response::<axum::body::Body>),
        )
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}
