//! Liveness, readiness and metrics endpoints for orchestrators and
//! Prometheus.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::HttpState;
use crate::{config::MetricsAccess, db, services::webhooks, state::AppState};

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

/// `GET /metrics` on the API's address: Prometheus text, for whom
/// [`crate::config::Config::metrics_on_api_address`] admits (404 when it is off, 401
/// without the token).
pub(super) async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    match state.app.config.metrics_on_api_address() {
        MetricsAccess::Open => exposition(&state.app).await,
        MetricsAccess::Token(token) if bearer_matches(&headers, &token) => {
            exposition(&state.app).await
        }
        MetricsAccess::Token(_) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "send DERMAGRAPH_METRICS_TOKEN as a bearer token\n",
        )
            .into_response(),
        MetricsAccess::Off => (
            StatusCode::NOT_FOUND,
            "metrics are served on DERMAGRAPH_METRICS_BIND, or need DERMAGRAPH_METRICS_TOKEN\n",
        )
            .into_response(),
    }
}

/// `GET /metrics` on `DERMAGRAPH_METRICS_BIND`: open to whoever reaches
/// that (private) address.
pub(super) async fn metrics_only(State(app): State<AppState>) -> Response {
    exposition(&app).await
}

/// Whether `Authorization` carries `token`, compared in constant time.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes())))
}

/// The Prometheus text exposition, with the gauges read at scrape time
/// (the webhook backlog, the pool, the process) refreshed first.
async fn exposition(app: &AppState) -> Response {
    // On a failure the gauge keeps its last value; the pool gauges and
    // the statement errors say why.
    if let Ok(Ok(backlog)) =
        tokio::time::timeout(READINESS_TIMEOUT, webhooks::backlog(&app.db)).await
    {
        app.metrics.set_webhook_backlog(backlog);
    }
    let body = app.metrics.render(&app.db);
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
