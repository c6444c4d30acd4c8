//! The HTTP surface: routes, and the layers every response goes through
//! (request id, tracing, metrics, panic safety, CORS, security headers).

mod explorer;
mod graphql;
mod health;
mod media;
mod middleware;
mod rate_limit;
pub mod server;
mod subscriptions;
mod ws_protocol;

use axum::{Router, extract::DefaultBodyLimit, routing::get};
use http::{HeaderName, HeaderValue, Method, header};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

pub use middleware::{REQUEST_ID_HEADER, RequestId};

use crate::{config::Config, graphql::Schemas, state::AppState};

/// What the handlers need: the shared state and the executable schemas.
#[derive(Clone)]
struct HttpState {
    app: AppState,
    schemas: Schemas,
    rate_limits: std::sync::Arc<rate_limit::ActorRateLimits>,
    /// Open subscriptions per caller, shared by the WebSocket connections.
    subscriptions: std::sync::Arc<crate::graphql::subscriptions::OpenSubscriptions>,
}

/// The complete HTTP application.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let http_state = HttpState {
        schemas: Schemas::new(state.clone()),
        rate_limits: std::sync::Arc::new(rate_limit::ActorRateLimits::new(&config.rate_limits)),
        subscriptions: std::sync::Arc::default(),
        app: state.clone(),
    };
    let mut router = Router::new()
        .route("/graphql", get(explorer::page).post(graphql::execute))
        .route("/graphql/assets/{file}", get(explorer::asset))
        .route("/graphql/ws", get(subscriptions::subscriptions))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::record_http_metrics,
        ))
        .with_state(http_state)
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes));
    for (name, value) in security_headers(config.is_production()) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(cors(&config))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(middleware::assign_request_id))
}

/// The router of `DERMAGRAPH_METRICS_BIND`: `/metrics` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics_only))
        .with_state(state)
}

/// Headers that keep browsers from sniffing, framing or caching responses
/// that may hold health data.
fn security_headers(production: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    if production {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}

/// CORS from the allow-list; no list means same-origin only.
fn cors(config: &Config) -> CorsLayer {
    let origins: Vec<&str> = config.cors_allow_list().collect();
    let allow_origin = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    let standard = [
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        HeaderName::from_static(REQUEST_ID_HEADER),
        // Apollo Client sends these on every request.
        HeaderName::from_static("apollographql-client-name"),
        HeaderName::from_static("apollographql-client-version"),
    ];
    let extra = config
        .cors_extra_headers()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok());
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(standard.into_iter().chain(extra).collect::<Vec<_>>())
        .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
        .max_age(std::time::Duration::from_secs(600))
}
