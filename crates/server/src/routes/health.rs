//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

/// The process is up and serving HTTP.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database is reachable as the runtime role and has every migration this binary knows.
/// While the database is known to be unreachable the answer is immediate (see
/// `frontdesk_db::health`), so a probe with a short timeout still gets a real answer.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if !state.db.is_reachable() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "database_unreachable" })),
        );
    }
    match state.db.readiness().await {
        Ok(r) if r.is_migrated() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "migration": r.applied })),
        ),
        Ok(r) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_migrated", "applied": r.applied, "expected": r.expected })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "database_unreachable" })),
            )
        }
    }
}
