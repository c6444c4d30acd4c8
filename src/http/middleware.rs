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

/// The id of one request: an opaque id, never the caller's own words. It
/// is the caller's `x-request-id` when that is a UUID, else the trace id of
/// a W3C `traceparent` header, else a fresh UUIDv7; it is in every log line
/// of the request, in the response header, and in audit rows. A caller's
/// id that is none of those (e.g. `patient-jane-doe-dob-1980-01-01`) is
/// kept only in the request's log line, as `caller_request_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A caller's `x-request-id` that was not taken as the request id, for the
/// log line only.
#[derive(Clone, Debug)]
struct CallerRequestId(Arc<str>);

/// Whether a caller's text can go into a log line as it is: 1-128
/// characters of `[A-Za-z0-9._:-]`.
fn is_loggable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`),
/// lower case, unless it is the invalid all-zero id.
fn trace_id(traceparent: &str) -> Option<String> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex =
        |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0'))
    .then(|| trace.to_ascii_lowercase())
}

/// The opaque id a request's headers offer, if any (see [`RequestId`]).
fn offered_request_id(headers: &http::HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    header(REQUEST_ID_HEADER)
        .and_then(|id| Uuid::try_parse(id.trim()).ok())
        .map(|id| id.hyphenated().to_string())
        .or_else(|| header("traceparent").and_then(trace_id))
}

/// Gives the request its id and echoes it on the response.
pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id: Arc<str> = offered_request_id(request.headers())
        .map_or_else(|| Uuid::now_v7().to_string().into(), Into::into);
    let caller = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|caller| *caller != &*id && is_loggable(caller))
        .map(|caller| CallerRequestId(caller.into()));
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
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
    let caller_request_id = request
        .extensions()
        .get::<CallerRequestId>()
        .map(|caller| &*caller.0);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        caller_request_id,
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
    fn callers_text_is_logged_only_when_it_cannot_corrupt_logs() {
        assert!(is_loggable("abc-123_x.y:z"));
        assert!(!is_loggable(""));
        assert!(!is_loggable("line\nbreak"));
        assert!(!is_loggable("with space"));
        assert!(!is_loggable(&"a".repeat(129)));
    }

    fn offered(headers: &[(&'static str, &str)]) -> Option<String> {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        offered_request_id(&map)
    }

    #[test]
    fn only_opaque_ids_are_taken_from_the_caller() {
        assert_eq!(
            offered(&[("x-request-id", "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B")]).as_deref(),
            Some("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        );
        assert_eq!(
            offered(&[("x-request-id", "patient-jane-doe-dob-1980-01-01")]),
            None
        );
        assert_eq!(
            offered(&[(
                "traceparent",
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
            )])
            .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        // A UUID wins over a trace id; a bad one falls back to it.
        assert_eq!(
            offered(&[
                ("x-request-id", "jane-doe"),
                (
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                ),
            ])
            .as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-jane-doe-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(offered(&[("traceparent", bad)]), None, "{bad}");
        }
    }
}
