//! Liveness, readiness and metrics endpoints for orchestrators and
//! Prometheus.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use super::HttpState;
use crate::db;

/// Longest a readiness probe waits for the database.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: the process is up and serving.
pub(super) async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: the database answers and every migration is applied.
pub(super) async fn readyz(State(state): State<HttpState>) -> Response {
    let db = &state.app.db;
    let check = async {
        db.ping().await.map_err(|_| "database unreachable")?;
        match db::pending_migrations(db).await {
            Ok(0) => Ok(()),
            Ok(_) => Err("migrations pending"),
            Err(_) => Err("migration status unreadable"),
        }
    };
    let outcome = tokio::time::timeout(READINESS_TIMEOUT, check)
        .await
        .unwrap_or(Err("database timed out"));
    match outcome {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": reason })),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub(super) async fn metrics(State(state): State<HttpState>) -> Response {
    let body = state.app.metrics.render(&state.app.db);
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
