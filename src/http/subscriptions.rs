//! `GET /graphql/ws`: subscriptions over the graphql-ws protocols,
//! authenticated in `connection_init` (`{"authorization": "Bearer …"}`)
//! with the same rules as HTTP, within the header-read timeout (else the
//! connection closes). A connection closes when its access token
//! expires, when its caller's access ends (deactivation, a password or
//! role change, a revoked key, or logout of its session; announced to
//! every instance), and when the server shuts down.

use std::{sync::Arc, time::Duration};

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::{
    extract::{State, WebSocketUpgrade},
    response::Response,
};
use chrono::Utc;
use http::{HeaderMap, HeaderValue, header};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::HttpState;
use crate::{
    auth::{actor::Actor, authenticate::authenticate},
    graphql::{
        loaders::Loaders,
        subscriptions::{OpenSubscriptions, SubscriptionLimits, SubscriptionSlots},
    },
    state::AppState,
};

/// What ends a connection besides the client or shutdown, learnt when it
/// is initialised: its token's expiry, and whose access it holds.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    /// Time left on the access token; API keys do not expire.
    lifetime: Option<Duration>,
    /// The user or API client.
    actor_id: Option<Uuid>,
    /// The session the access token belongs to.
    session_id: Option<Uuid>,
}

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
            // Listening before the connection is initialised, so that a
            // revocation right after it is not missed.
            let mut events = state.app.events.subscribe();
            let (bounds_tx, mut bounds) = watch::channel(None::<Bounds>);
            let app = state.app.clone();
            let open = state.subscriptions.clone();
            let connection = GraphQLWebSocket::new(socket, state.schemas.clone(), protocol)
                .on_connection_init(move |payload| connection_data(app, open, payload, bounds_tx))
                .serve();
            let init_within = state.app.config.connections.header_read_timeout();
            let ended = async move {
                // A connection that does not say who it is in time is
                // closed, so unidentified sockets cannot pile up.
                let known =
                    match tokio::time::timeout(init_within, bounds.wait_for(Option::is_some)).await
                    {
                        Ok(Ok(known)) => *known,
                        Ok(Err(_)) => None,
                        Err(_) => return,
                    };
                let Some(known) = known else {
                    return std::future::pending::<()>().await;
                };
                let expiry = async {
                    match known.lifetime {
                        Some(lifetime) => tokio::time::sleep(lifetime).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                let revoked = async {
                    let Some(actor_id) = known.actor_id else {
                        return std::future::pending::<()>().await;
                    };
                    loop {
                        match events.recv().await {
                            Ok(event) if event.revokes(actor_id, known.session_id) => return,
                            Ok(_) => {}
                            // Events were skipped, a revocation perhaps among
                            // them: close; the client reconnects with
                            // credentials that are checked again.
                            Err(broadcast::error::RecvError::Lagged(_)) => return,
                            Err(broadcast::error::RecvError::Closed) => {
                                return std::future::pending::<()>().await;
                            }
                        }
                    }
                };
                tokio::select! {
                    () = expiry => {},
                    () = revoked => {},
                }
            };
            tokio::select! {
                () = connection => {},
                () = ended => {},
                _ = closing.wait_for(|closed| *closed) => {},
            }
        })
}

/// The request data of a connection: the caller (refused unless signed
/// in) and its DataLoaders.
async fn connection_data(
    app: AppState,
    open: Arc<OpenSubscriptions>,
    payload: serde_json::Value,
    bounds: watch::Sender<Option<Bounds>>,
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
    // Access tokens expire and belong to a session; API keys do neither.
    let claims = app.keys.verify(bearer).ok();
    bounds.send_replace(Some(Bounds {
        lifetime: claims.as_ref().map(|claims| {
            Duration::from_secs(u64::try_from(claims.exp - Utc::now().timestamp()).unwrap_or(0))
        }),
        actor_id: context.actor.id(),
        session_id: claims.and_then(|claims| claims.sid),
    }));
    let mut data = Data::default();
    data.insert(Loaders::for_connection(
        &app.db,
        Duration::from_millis(app.config.batch_window_ms),
    ));
    let limits = &app.config.connections;
    data.insert(SubscriptionSlots::new(
        SubscriptionLimits {
            per_connection: limits.max_subscriptions_per_connection,
            per_actor: limits.max_subscriptions_per_actor,
        },
        open,
        context.actor.id(),
    ));
    data.insert(context);
    Ok(data)
}
