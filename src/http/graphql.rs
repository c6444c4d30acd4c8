//! `POST /graphql` executes operations (`GET /graphql` only serves GraphiQL,
//! from `explorer`).
//!
//! Operations run only from a JSON body: no queries in URLs (they end up in
//! logs and browser history) and no form posts (CSRF).

use std::time::{Duration, Instant};

use async_graphql::{BatchRequest, BatchResponse, ServerError};
use std::net::{IpAddr, SocketAddr};

use axum::{
    Extension, Json,
    body::{Body, Bytes},
    extract::{ConnectInfo, State},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{HttpState, RequestId, media::Media, rate_limit::RetryAfter};
use crate::{
    auth::authenticate::authenticate,
    error::{
        AppError, ErrorCode, INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, UNAVAILABLE_NESTED_MESSAGE,
        UNAVAILABLE_RETRY_AFTER_SECONDS, carries_code,
    },
    graphql::{
        limits::{NUL_REFUSAL, carries_nul, check_value_depth},
        loaders::Loaders,
        persisted::has_persisted_hash,
        refusals::audit_refusals,
        tokens::scan_query,
    },
};

/// A GraphQL-shaped error body for answers given before execution.
pub(super) fn error_body(
    code: ErrorCode,
    message: &str,
    extra: Option<(&str, Value)>,
) -> Json<Value> {
    let mut extensions = json!({ "code": code.as_str() });
    if let (Some((key, value)), Some(map)) = (extra, extensions.as_object_mut()) {
        map.insert(key.to_owned(), value);
    }
    Json(json!({ "errors": [{ "message": message, "extensions": extensions }] }))
}

pub(super) fn reject(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (status, error_body(code, message, None)).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a request body was not read.
enum BodyProblem {
    /// Over the body limit (by its `Content-Length` or as it arrived).
    TooLarge,
    /// Not all there within the body deadline (a trickled body).
    TooSlow,
    /// The connection failed mid-body.
    Unreadable,
}

/// Reads a whole request body of at most `limit` bytes within `deadline`.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<Bytes, BodyProblem> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(BodyProblem::TooLarge);
    }
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(BodyProblem::TooSlow),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            let cause = error.into_inner();
            if cause
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(BodyProblem::TooLarge)
            } else {
                Err(BodyProblem::Unreadable)
            }
        }
    }
}

/// Executes a GraphQL request (or a batch, when batching is enabled), and
/// answers in the media type its `Accept` asks for (see [`Media`]).
pub(super) async fn execute(
    State(state): State<HttpState>,
    Extension(request_id): Extension<RequestId>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = Media::negotiate(&headers) else {
        return reject(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::BadUserInput,
            "accept application/graphql-response+json or application/json",
        );
    };
    let mut response = answer(&state, request_id, connection, &headers, body, media).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    if json {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, media.content_type());
    }
    response
}

/// A request error: the operation is refused before it runs, with the
/// status its media type gives such errors.
fn refuse(media: Media, code: ErrorCode, message: &str) -> Response {
    reject(media.request_error_status(), code, message)
}

/// [`execute`] once the media type is known.
async fn answer(
    state: &HttpState,
    request_id: RequestId,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    body: Body,
    media: Media,
) -> Response {
    let limits = &state.app.config.limits;
    if !is_json(headers) {
        return reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send GraphQL requests as JSON with `Content-Type: application/json`",
        );
    }
    let deadline = state.app.config.connections.body_read_timeout();
    let body = match read_body(headers, body, limits.max_body_bytes, deadline).await {
        Ok(body) => body,
        Err(BodyProblem::TooLarge) => {
            return reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::QueryTooComplex,
                &format!(
                    "the request body exceeds the limit of {} bytes",
                    limits.max_body_bytes
                ),
            );
        }
        Err(BodyProblem::TooSlow) => {
            let mut response = reject(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::BadUserInput,
                &format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs()
                ),
            );
            // The rest of a trickled body is not waited for.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        Err(BodyProblem::Unreadable) => {
            return reject(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the request body could not be read",
            );
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(_) => {
            return reject(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body must be a JSON object with `query` (and optional `variables`, `operationName`)",
            );
        }
    };
    let requests = match batch {
        BatchRequest::Single(request) => vec![request],
        BatchRequest::Batch(requests) => {
            if limits.max_batch <= 1 {
                return reject(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "batched requests (JSON arrays) are not accepted; send one operation per request",
                );
            }
            if requests.is_empty() || requests.len() > limits.max_batch {
                return reject(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &format!("a batch holds 1 to {} operations", limits.max_batch),
                );
            }
            requests
        }
    };
    let allow_list = state.app.persisted_operations.is_some();
    if requests.iter().any(|request| {
        request.query.trim().is_empty() && !(allow_list && has_persisted_hash(request))
    }) {
        return reject(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the request has no `query`",
        );
    }
    if requests
        .iter()
        .any(|request| request.query.chars().count() > limits.max_query_chars)
    {
        return refuse(
            media,
            ErrorCode::QueryTooComplex,
            &format!(
                "the query text exceeds the limit of {} characters",
                limits.max_query_chars
            ),
        );
    }

    let introspection_enabled = state.app.config.introspection_enabled();
    for request in &requests {
        let scan = scan_query(&request.query, limits.max_tokens);
        if scan.tokens > limits.max_tokens {
            return refuse(
                media,
                ErrorCode::QueryTooComplex,
                &format!(
                    "the query has more than {} tokens, the limit",
                    limits.max_tokens
                ),
            );
        }
        // The depth as written; fragments can only add to it, and
        // validation checks the exact depth later. An introspection query,
        // where introspection is on, is held to its own shape once parsed
        // (`graphql::introspection`); its text is bounded by the token
        // count and the nesting limit all the same.
        let introspection = introspection_enabled
            && (request.query.contains("__schema") || request.query.contains("__type"));
        if scan.depth > limits.max_depth && !introspection {
            return refuse(
                media,
                ErrorCode::QueryTooComplex,
                &format!(
                    "query depth {} exceeds the limit of {}",
                    scan.depth, limits.max_depth
                ),
            );
        }
        if let Err(error) = check_value_depth(&scan) {
            return refuse(media, ErrorCode::QueryTooComplex, &error.message);
        }
    }

    if requests
        .iter()
        .any(|request| carries_nul(&request.query, &request.variables))
    {
        return refuse(media, ErrorCode::BadUserInput, NUL_REFUSAL);
    }

    let client_ip = client_ip(
        headers,
        connection.map(|Extension(ConnectInfo(address))| address.ip()),
        state.app.config.trust_forwarded_for,
    );
    let deadline = limits.request_timeout();
    let work = run_operations(state, headers, request_id, client_ip, requests, media);
    match tokio::time::timeout(deadline, work).await {
        Ok(response) => response,
        Err(_) => timed_out(limits.request_timeout_secs),
    }
}

/// Authenticates the caller and runs the operations in order.
async fn run_operations(
    state: &HttpState,
    headers: &HeaderMap,
    request_id: RequestId,
    client_ip: Option<IpAddr>,
    requests: Vec<async_graphql::Request>,
    media: Media,
) -> Response {
    let context = match authenticate(
        &state.app,
        headers,
        Some(request_id.as_str().to_owned()),
        client_ip,
    )
    .await
    {
        Ok(context) => context,
        Err(error) => return internal_failure(error),
    };
    let operations = u32::try_from(requests.len()).unwrap_or(u32::MAX);
    if let Err(retry) = state
        .rate_limits
        .check(&context.actor, client_ip, operations)
    {
        state.app.metrics.record_rate_limited(context.actor.kind());
        return rate_limited(retry);
    }
    let single = requests.len() == 1;
    let mut responses = Vec::with_capacity(requests.len());
    // Whether a mutation ran: its changes are saved even if the answer is
    // withheld.
    let mut changed = false;
    // Whether a root field of any operation produced a value.
    let mut partly_answered = false;
    for request in requests {
        let started = Instant::now();
        let request = request
            .data(request_id.clone())
            .data(context.clone())
            .data(Loaders::new(
                &state.app.db,
                std::time::Duration::from_millis(state.app.config.batch_window_ms),
            ));
        let (mut response, ran) = state.schemas.execute_counted(request).await;
        changed |= ran.mutation;
        partly_answered |= ran.answered;
        response.errors.iter_mut().for_each(classify_error);
        audit_refusals(&state.app.audit, &context, &response.errors).await;
        state.app.metrics.record_operation(
            ran.label.as_deref(),
            response.is_err(),
            started.elapsed(),
        );
        responses.push(response);
    }
    // R-AUDIT: data leaves only once the trail holds its reads. The wait
    // for a database out of reach is as long as for a pooled connection.
    let patience = Duration::from_secs(state.app.config.database.db_acquire_timeout_secs);
    match tokio::time::timeout(patience, context.audit_receipts.stored()).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) | Err(_) => return audit_unavailable(changed),
    }
    let retry_after = responses
        .iter()
        .flat_map(|response| &response.errors)
        .filter_map(retry_after_seconds)
        .max();
    // 503 says nothing was done: never when a root field answered (an
    // earlier mutation of the operation may be saved, though the spec's
    // propagation nulled `data`).
    let unavailable = retry_after.is_some()
        && !partly_answered
        && responses.iter().all(|response| {
            response.data == async_graphql::Value::Null
                && response
                    .errors
                    .iter()
                    .all(|error| carries_code(error, ErrorCode::Internal))
        });
    let refused_before_running = responses.iter().all(is_request_error);
    let mut response = if responses.iter().any(is_request_error) {
        // An operation that never ran has no `data` at all (GraphQL spec,
        // "Response Format"), not `data: null`.
        let mut answers: Vec<Value> = responses
            .iter()
            .map(|response| {
                let mut answer = serde_json::to_value(response).unwrap_or(Value::Null);
                if is_request_error(response)
                    && let Some(answer) = answer.as_object_mut()
                {
                    answer.remove("data");
                }
                answer
            })
            .collect();
        if single {
            Json(answers.pop()).into_response()
        } else {
            Json(answers).into_response()
        }
    } else if single {
        Json(responses.pop().map(BatchResponse::Single)).into_response()
    } else {
        Json(BatchResponse::Batch(responses)).into_response()
    };
    if unavailable {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    } else if refused_before_running {
        *response.status_mut() = media.request_error_status();
    }
    if let Some(seconds) = retry_after.filter(|_| unavailable || !changed) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Whether `response` refused its operation before running it (parsing,
/// validation, limits, variables, the allow-list): no data, and only
/// errors without a path, none of them the server's own failure.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|error| error.path.is_empty() && !carries_code(error, ErrorCode::Internal))
}

/// `extensions.retryAfterSeconds` of an error, if it has one.
fn retry_after_seconds(error: &ServerError) -> Option<u64> {
    match error.extensions.as_ref()?.get("retryAfterSeconds")? {
        async_graphql::Value::Number(seconds) => seconds.as_u64(),
        _ => None,
    }
}

/// 429 with `Retry-After`: the caller spent its request budget.
fn rate_limited(retry: RetryAfter) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        error_body(
            ErrorCode::RateLimited,
            &format!(
                "too many requests from this caller; retry in {} s",
                retry.seconds
            ),
            Some(("retryAfterSeconds", json!(retry.seconds))),
        ),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds));
    response
}

/// Gives every error a code. Errors without one come either from
/// async-graphql's parsing, validation and variable coercion (the client's
/// doing: `BAD_USER_INPUT`) or from a resolver that bypassed `AppError` (a
/// bug: `INTERNAL`, logged, message hidden).
fn classify_error(error: &mut ServerError) {
    // A nested field (a mutation's payload, say) may fail after its
    // operation committed: never tell the client that nothing changed.
    if error.path.len() > 1 && error.message == UNAVAILABLE_MESSAGE {
        error.message = UNAVAILABLE_NESTED_MESSAGE.to_owned();
    }
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some());
    if has_code {
        return;
    }
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if error.path.is_empty() || is_argument_coercion_error(&error.message) {
        extensions.set("code", ErrorCode::BadUserInput.as_str());
    } else {
        let error_id = Uuid::now_v7();
        tracing::error!(error_id = %error_id, error = %error.message, "resolver error without a code");
        extensions.set("code", ErrorCode::Internal.as_str());
        extensions.set("errorId", error_id.to_string());
        error.message = INTERNAL_MESSAGE.to_owned();
    }
}

/// Whether async-graphql refused an argument's value while resolving a
/// field (a variable that is a well-formed string but not a valid `DateTime`,
/// say). Those errors carry the field's path like a resolver's, but the
/// client sent them; async-graphql words them in these fixed forms.
fn is_argument_coercion_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
}

/// The client's address: the peer, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the one the proxy itself appended).
fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok())
    {
        return Some(forwarded);
    }
    peer
}

/// A failure before execution (authentication's database lookup): 503,
/// with `Retry-After` when the database was only out of reach for now.
fn internal_failure(error: AppError) -> Response {
    let retry_after =
        matches!(error, AppError::Unavailable(_)).then_some(UNAVAILABLE_RETRY_AFTER_SECONDS);
    let graphql_error = error.into_graphql_error();
    let mut error = ServerError::new(graphql_error.message, None);
    error.extensions = graphql_error.extensions;
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "errors": [error] })),
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The reads were done but the audit trail could not record them, so their
/// answer is withheld: 503 with `Retry-After` for reads, which are safe to
/// send again; for a request with a mutation, whose changes are saved, an
/// answer that says so and does not invite a blind retry (200, no
/// `Retry-After`, `data: null`).
fn audit_unavailable(changed: bool) -> Response {
    let error_id = Uuid::now_v7();
    tracing::error!(error_id = %error_id, changed, "answer withheld: its read-audit rows were not stored");
    if changed {
        return (
            StatusCode::OK,
            error_body(
                ErrorCode::Internal,
                "the change was saved, but the audit trail could not record the reads of its \
                 answer, so the answer is withheld; read the record again instead of repeating the change",
                Some(("errorId", json!(error_id.to_string()))),
            ),
        )
            .into_response();
    }
    service_unavailable(
        "the audit trail could not record this request's reads, so the answer is withheld; retry later",
        ("retryAfterSeconds", json!(UNAVAILABLE_RETRY_AFTER_SECONDS)),
        UNAVAILABLE_RETRY_AFTER_SECONDS,
    )
}

fn timed_out(seconds: u64) -> Response {
    let error_id = Uuid::now_v7();
    tracing::warn!(error_id = %error_id, "request cancelled after {seconds} s");
    service_unavailable(
        &format!("the request did not finish within {seconds} s and was cancelled; retry later"),
        ("errorId", json!(error_id.to_string())),
        1,
    )
}

/// 503 with an `INTERNAL` error carrying `extension`, and `Retry-After`.
fn service_unavailable(message: &str, extension: (&str, Value), retry_after: u64) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        error_body(ErrorCode::Internal, message, Some(extension)),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, Value as GqlValue};

    use super::*;

    fn code(error: &ServerError) -> Option<GqlValue> {
        error.extensions.as_ref()?.get("code").cloned()
    }

    #[test]
    fn a_withheld_answer_invites_a_retry_only_when_nothing_changed() {
        let read = audit_unavailable(false);
        assert_eq!(read.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(read.headers().contains_key(header::RETRY_AFTER));
        // A mutation's changes are saved: repeating it could book twice.
        let change = audit_unavailable(true);
        assert_eq!(change.status(), StatusCode::OK);
        assert!(!change.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn errors_outside_resolvers_are_bad_user_input() {
        let mut error = ServerError::new("Unknown field \"nope\"", None);
        classify_error(&mut error);
        assert_eq!(code(&error), Some(GqlValue::from("BAD_USER_INPUT")));
    }

    #[test]
    fn uncoded_resolver_errors_are_masked_as_internal() {
        let mut error = ServerError::new("SELECT * FROM secrets", None);
        error.path = vec![PathSegment::Field("clinicPolicy".to_owned())];
        classify_error(&mut error);
        assert_eq!(code(&error), Some(GqlValue::from("INTERNAL")));
        assert_eq!(error.message, INTERNAL_MESSAGE);
    }

    #[test]
    fn arguments_refused_while_resolving_are_bad_user_input() {
        let mut error =
            ServerError::new("Failed to parse \"DateTime\": input is out of range", None);
        error.path = vec![PathSegment::Field("schedule".to_owned())];
        classify_error(&mut error);
        assert_eq!(code(&error), Some(GqlValue::from("BAD_USER_INPUT")));
        assert!(error.message.contains("DateTime"));
    }

    #[test]
    fn an_unavailable_nested_field_does_not_claim_nothing_changed() {
        let unavailable = || ErrorCode::Internal.server_error(UNAVAILABLE_MESSAGE);
        let mut root = unavailable();
        root.path = vec![PathSegment::Field("createPatient".to_owned())];
        classify_error(&mut root);
        assert_eq!(root.message, UNAVAILABLE_MESSAGE);
        let mut nested = unavailable();
        nested.path = vec![
            PathSegment::Field("createPatient".to_owned()),
            PathSegment::Field("patient".to_owned()),
        ];
        classify_error(&mut nested);
        assert_eq!(nested.message, UNAVAILABLE_NESTED_MESSAGE);
    }

    #[test]
    fn coded_errors_keep_their_code() {
        let mut error = crate::graphql::limits::too_complex(
            "query depth 11 exceeds the limit of 10".to_owned(),
        );
        classify_error(&mut error);
        assert_eq!(code(&error), Some(GqlValue::from("QUERY_TOO_COMPLEX")));
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(&headers, Some(peer), false), Some(peer));
        assert_eq!(
            client_ip(&headers, Some(peer), true),
            Some("198.51.100.7".parse().unwrap())
        );
    }

    #[test]
    fn only_json_is_accepted() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(is_json(&headers));
    }
}
