//! Request ids, request spans, HTTP metrics and the panic fallback.

use std::{any::Any, sync::Arc, time::Instant};

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode};
use uuid::Uuid;

use super::graphql::error_body;
use crate::{error::ErrorCode, state::AppState};

/// Header carrying the request id in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of one request: the caller's `x-request-id` when it is sane,
/// otherwise a fresh UUIDv7. It is in every log line of the request, in the
/// response header, and (with the identity issue) in audit rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Accepts a caller's id only if it cannot corrupt logs: 1-128 characters of
/// `[A-Za-z0-9._:-]`.
fn is_acceptable_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Gives the request its id and echoes it on the response.
pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id: Arc<str> = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_acceptable_request_id(id))
        .map_or_else(|| Uuid::now_v7().to_string().into(), Into::into);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The tracing span of a request: method, path (never the query string,
/// which could carry personal data) and request id.
pub fn request_span(request: &http::Request<Body>) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or("-", RequestId::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// Counts requests and their latency per route.
pub async fn record_http_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    state.metrics.record_http(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The answer when a handler panics: `INTERNAL` with an error id, the panic
/// itself only in the log.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    let error_id = Uuid::now_v7();
    tracing::error!(error_id = %error_id, panic = detail, "handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        error_body(
            ErrorCode::Internal,
            crate::error::INTERNAL_MESSAGE,
            Some(("errorId", serde_json::json!(error_id.to_string()))),
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_that_could_corrupt_logs_are_replaced() {
        assert!(is_acceptable_request_id("abc-123_x.y:z"));
        assert!(!is_acceptable_request_id(""));
        assert!(!is_acceptable_request_id("line\nbreak"));
        assert!(!is_acceptable_request_id("with space"));
        assert!(!is_acceptable_request_id(&"a".repeat(129)));
    }
}
