//! `GET /graphql/ws`: subscriptions over the graphql-ws protocols,
//! authenticated in `connection_init` (`{"authorization": "Bearer …"}`)
//! with the same rules as HTTP. A connection closes when its access token
//! expires, and when the server shuts down.

use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    response::Response,
};
use chrono::Utc;
use http::{HeaderMap, HeaderValue, header};
use tokio::sync::watch;

use super::HttpState;
use crate::{
    auth::{actor::Actor, authenticate::authenticate},
    graphql::loaders::Loaders,
    state::AppState,
};

/// Upgrades to a WebSocket and serves subscriptions on it.
pub async fn subscriptions(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let mut closing = state.app.events.closing();
            let (deadline_tx, mut deadline) = watch::channel(None::<Duration>);
            let app = state.app.clone();
            let connection = GraphQLWebSocket::new(socket, state.schemas.clone(), protocol)
                .on_connection_init(move |payload| connection_data(app, payload, deadline_tx))
                .serve();
            let expiry = async move {
                // Until the token's lifetime is known, nothing expires.
                let lifetime = match deadline.wait_for(Option::is_some).await {
                    Ok(lifetime) => *lifetime,
                    Err(_) => None,
                };
                match lifetime {
                    Some(lifetime) => tokio::time::sleep(lifetime).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = connection => {},
                () = expiry => {},
                _ = closing.wait_for(|closed| *closed) => {},
            }
        })
}

/// The request data of a connection: the caller (refused unless signed
/// in) and its DataLoaders.
async fn connection_data(
    app: AppState,
    payload: serde_json::Value,
    deadline: watch::Sender<Option<Duration>>,
) -> async_graphql::Result<Data> {
    let token = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(serde_json::Value::as_str));
    let mut headers = HeaderMap::new();
    if let Some(value) = token.and_then(|token| HeaderValue::from_str(token).ok()) {
        headers.insert(header::AUTHORIZATION, value);
    }
    let context = authenticate(&app, &headers, None, None)
        .await
        .map_err(|error| error.into_graphql_error())?;
    if matches!(context.actor, Actor::Anonymous) {
        return Err(async_graphql::Error::new(
            "UNAUTHENTICATED: send a valid access token or API key as `authorization` in connection_init",
        ));
    }
    let bearer = token
        .and_then(|token| token.strip_prefix("Bearer "))
        .unwrap_or_default();
    let lifetime = app.keys.verify(bearer).ok().map(|claims| {
        Duration::from_secs(u64::try_from(claims.exp - Utc::now().timestamp()).unwrap_or(0))
    });
    // Access tokens expire; API keys do not.
    if let Some(lifetime) = lifetime {
        deadline.send_replace(Some(lifetime));
    }
    let mut data = Data::default();
    data.insert(Loaders::for_connection(
        &app.db,
        Duration::from_millis(app.config.batch_window_ms),
    ));
    data.insert(context);
    Ok(data)
}
