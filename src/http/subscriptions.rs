//! `GET /graphql/ws`: subscriptions over the graphql-ws protocols,
//! authenticated in `connection_init` (`{"authorization": "Bearer …"}`)
//! with the same rules as HTTP, within the header-read timeout (else the
//! connection closes). A connection closes when its access token
//! expires, when its caller's access ends (deactivation, a password or
//! role change, a revoked key, or logout of its session; announced to
//! every instance), and when the server shuts down, each with its
//! graphql-transport-ws close code (see `ws_protocol`).

use std::{sync::Arc, time::Duration};

use async_graphql::{
    Data,
    http::{WebSocketProtocols, WsMessage},
};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::{IntoResponse as _, Response},
};
use chrono::Utc;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{
    HttpState,
    ws_protocol::{self, Translator, init_refusal},
};
use crate::{
    auth::{actor::Actor, authenticate::authenticate},
    error::ErrorCode,
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

/// Why the server ends a connection, and the close frame it says so with.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// `connection_init` did not arrive in time (graphql-transport-ws 4408).
    InitTimeout,
    /// The access token expired (4401: sign in again).
    Expired,
    /// The caller's access ended: deactivation, a password or role change,
    /// a revoked key, logout (4403).
    AccessEnded,
    /// Events were missed, a revocation perhaps among them (1013: try
    /// again, with credentials that are checked again).
    Lagged,
    /// The server is shutting down (1001: going away; reconnect elsewhere).
    Shutdown,
}

impl Ending {
    fn frame(self) -> CloseFrame {
        let (code, reason) = match self {
            Self::InitTimeout => (4408, "Connection initialisation timeout"),
            Self::Expired => (
                ws_protocol::UNAUTHORIZED,
                "Unauthorized: the access token expired",
            ),
            Self::AccessEnded => (ws_protocol::FORBIDDEN, "Forbidden: access ended"),
            Self::Lagged => (1013, "Try again: events were missed"),
            Self::Shutdown => (1001, "The server is shutting down"),
        };
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// Upgrades to a WebSocket and serves subscriptions on it.
/// A request without a subprotocol both sides speak is refused with 400,
/// as async-graphql-axum's extractor does.
pub async fn subscriptions(
    State(state): State<HttpState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = spoken_protocol(&headers) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    upgrade
        // Answer with the subprotocol that is spoken, whatever order the
        // client offered them in.
        .protocols([protocol.sec_websocket_protocol()])
        .on_upgrade(move |socket| serve(state, protocol, socket))
}

/// The first GraphQL subprotocol the client offers that the server speaks.
fn spoken_protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|offered| offered.trim().parse().ok())
}

/// Serves one connection until the client leaves or the server ends it.
async fn serve(state: HttpState, protocol: WebSocketProtocols, socket: WebSocket) {
    let _open = state.app.metrics.websocket_opened();
    let mut closing = state.app.events.closing();
    // Listening before the connection is initialised, so that a
    // revocation right after it is not missed.
    let events = state.app.events.subscribe();
    let (bounds_tx, bounds) = watch::channel(None::<Bounds>);
    let app = state.app.clone();
    let open = state.subscriptions.clone();
    let mut translator = Translator::new(protocol);
    let (mut sink, incoming) = socket.split();
    let incoming = incoming
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
                _ => None,
            })
        });
    let outgoing = async_graphql::http::WebSocket::new(state.schemas.clone(), incoming, protocol)
        .on_connection_init(move |payload| connection_data(app, open, payload, bounds_tx))
        .filter_map(move |message| futures_util::future::ready(translator.server_says(message)))
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        });
    let init_within = state.app.config.connections.header_read_timeout();
    let ended = ending(bounds, events, init_within);
    futures_util::pin_mut!(outgoing, ended);
    loop {
        tokio::select! {
            message = outgoing.next() => {
                let Some(message) = message else { break };
                if sink.send(message).await.is_err() {
                    return;
                }
            }
            ending = &mut ended => {
                let _ = sink.send(Message::Close(Some(ending.frame()))).await;
                return;
            }
            () = shutdown(&mut closing) => {
                let _ = sink.send(Message::Close(Some(Ending::Shutdown.frame()))).await;
                return;
            }
        }
    }
    let _ = sink.close().await;
}

/// Resolves when the server starts shutting down.
async fn shutdown(closing: &mut watch::Receiver<bool>) {
    if closing.wait_for(|closed| *closed).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// When and why the server ends a connection: no `connection_init` in
/// time, the access token's expiry, or the end of the caller's access.
async fn ending(
    mut bounds: watch::Receiver<Option<Bounds>>,
    mut events: broadcast::Receiver<crate::events::DomainEvent>,
    init_within: Duration,
) -> Ending {
    // A connection that does not say who it is in time is closed, so
    // unidentified sockets cannot pile up.
    let known = match tokio::time::timeout(init_within, bounds.wait_for(Option::is_some)).await {
        Ok(Ok(known)) => *known,
        Ok(Err(_)) => None,
        Err(_) => return Ending::InitTimeout,
    };
    let Some(known) = known else {
        // The initialisation was refused; the protocol closes the socket.
        return std::future::pending().await;
    };
    let expiry = async {
        match known.lifetime {
            Some(lifetime) => tokio::time::sleep(lifetime).await,
            None => std::future::pending::<()>().await,
        }
    };
    let revoked = async {
        let Some(actor_id) = known.actor_id else {
            return std::future::pending().await;
        };
        loop {
            match events.recv().await {
                Ok(event) if event.revokes(actor_id, known.session_id) => {
                    return Ending::AccessEnded;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return Ending::Lagged,
                Err(broadcast::error::RecvError::Closed) => {
                    return std::future::pending().await;
                }
            }
        }
    };
    tokio::select! {
        () = expiry => Ending::Expired,
        ending = revoked => ending,
    }
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
        .map_err(|error| {
            let code = error.code();
            let message = error.into_graphql_error().message;
            async_graphql::Error::new(init_refusal(code, &message))
        })?;
    if matches!(context.actor, Actor::Anonymous) {
        return Err(async_graphql::Error::new(init_refusal(
            ErrorCode::Unauthenticated,
            "send a valid access token or API key as `authorization` in connection_init",
        )));
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
