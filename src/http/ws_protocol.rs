//! The graphql-transport-ws details async-graphql leaves generic, as the
//! protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) and its
//! clients expect them:
//! - a refused `connection_init` closes with 4401 Unauthorized (no or bad
//!   credentials) or 4403 Forbidden, not 1002; a `subscribe` before the
//!   acknowledgement closes with 4401 too;
//! - a subscription the caller may not open (or that is over a limit) is
//!   answered with an `error` message, not a `next` that carries the
//!   refusal, and no `complete` follows it.
//!
//! The older `graphql-ws` (subscriptions-transport-ws) protocol is left as
//! async-graphql speaks it.

use std::collections::HashSet;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use serde_json::Value;

use crate::{error::ErrorCode, graphql::operation::selected_operation};

/// graphql-transport-ws: the connection's credentials are missing or
/// no longer valid.
pub const UNAUTHORIZED: u16 = 4401;
/// graphql-transport-ws: the caller may not hold this connection.
pub const FORBIDDEN: u16 = 4403;

/// What one connection's translation remembers: which operations are
/// subscriptions, which have answered, and which were refused.
#[derive(Debug)]
pub struct Translator {
    protocol: WebSocketProtocols,
    subscriptions: HashSet<String>,
    answered: HashSet<String>,
    refused: HashSet<String>,
}

impl Translator {
    /// A translator for a connection speaking `protocol`.
    pub fn new(protocol: WebSocketProtocols) -> Self {
        Self {
            protocol,
            subscriptions: HashSet::new(),
            answered: HashSet::new(),
            refused: HashSet::new(),
        }
    }

    /// Notes a client message: which ids run subscription operations.
    pub fn client_said(&mut self, message: &[u8]) {
        if self.protocol != WebSocketProtocols::GraphQLWS {
            return;
        }
        let Ok(message) = serde_json::from_slice::<Value>(message) else {
            return;
        };
        if message["type"] != "subscribe" {
            return;
        }
        let (Some(id), Some(query)) =
            (message["id"].as_str(), message["payload"]["query"].as_str())
        else {
            return;
        };
        let operation_name = message["payload"]["operationName"].as_str();
        let subscription = async_graphql::parser::parse_query(query).is_ok_and(|document| {
            selected_operation(&document, operation_name).is_some_and(|operation| {
                operation.ty == async_graphql::parser::types::OperationType::Subscription
            })
        });
        if subscription {
            self.subscriptions.insert(id.to_owned());
        }
    }

    /// The server message to send for `message`, if any.
    pub fn server_says(&mut self, message: WsMessage) -> Option<WsMessage> {
        if self.protocol != WebSocketProtocols::GraphQLWS {
            return Some(message);
        }
        match message {
            WsMessage::Close(1002, reason) => {
                Some(WsMessage::Close(init_close_code(&reason), reason))
            }
            WsMessage::Close(1011, reason) => Some(WsMessage::Close(UNAUTHORIZED, reason)),
            WsMessage::Close(code, reason) => Some(WsMessage::Close(code, reason)),
            WsMessage::Text(text) => self.text(text),
        }
    }

    fn text(&mut self, text: String) -> Option<WsMessage> {
        // Only a subscription's first answer can be a refusal to open it.
        let interesting = self
            .subscriptions
            .iter()
            .any(|id| !self.answered.contains(id))
            || !self.refused.is_empty();
        if !interesting {
            return Some(WsMessage::Text(text));
        }
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            return Some(WsMessage::Text(text));
        };
        let Some(id) = message["id"].as_str().map(str::to_owned) else {
            return Some(WsMessage::Text(text));
        };
        match message["type"].as_str() {
            Some("complete") if self.refused.remove(&id) => {
                self.subscriptions.remove(&id);
                None
            }
            Some("complete") => {
                self.subscriptions.remove(&id);
                self.answered.remove(&id);
                Some(WsMessage::Text(text))
            }
            Some("next")
                if self.subscriptions.contains(&id) && self.answered.insert(id.clone()) =>
            {
                match refusal(&message["payload"]) {
                    Some(errors) => {
                        self.refused.insert(id.clone());
                        let error =
                            serde_json::json!({ "id": id, "type": "error", "payload": errors });
                        Some(WsMessage::Text(error.to_string()))
                    }
                    None => Some(WsMessage::Text(text)),
                }
            }
            _ => Some(WsMessage::Text(text)),
        }
    }
}

/// How a refused `connection_init` begins its reason: the error code, so
/// that the close code can follow it (`FORBIDDEN: …`).
pub fn init_refusal(code: ErrorCode, message: &str) -> String {
    format!("{}: {message}", code.as_str())
}

/// The close code for a refused `connection_init`, from the error code its
/// reason starts with: the server's own trouble (the database, say) is
/// 1011, which clients retry; any other refusal is of the credentials.
fn init_close_code(reason: &str) -> u16 {
    let code = reason.split(':').next().unwrap_or_default();
    if code == ErrorCode::Forbidden.as_str() {
        FORBIDDEN
    } else if code == ErrorCode::Internal.as_str() {
        1011
    } else {
        UNAUTHORIZED
    }
}

/// The errors of a first answer that refused to open a subscription: no
/// data, and only errors before or at its root field (validation, limits,
/// the root field's guard).
fn refusal(payload: &Value) -> Option<Value> {
    let errors = payload["errors"].as_array()?;
    let refused = payload["data"].is_null()
        && !errors.is_empty()
        && errors
            .iter()
            .all(|error| error["path"].as_array().is_none_or(|path| path.len() <= 1));
    refused.then(|| Value::Array(errors.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribed(translator: &mut Translator, id: &str) {
        let message = serde_json::json!({ "id": id, "type": "subscribe",
            "payload": { "query": "subscription { adverseEventReported { procedureId } }" } });
        translator.client_said(message.to_string().as_bytes());
    }

    fn text(message: &Value) -> WsMessage {
        WsMessage::Text(message.to_string())
    }

    #[test]
    fn a_refused_subscription_is_an_error_without_complete() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        subscribed(&mut translator, "7");
        let refused = serde_json::json!({ "id": "7", "type": "next", "payload": { "data": null,
            "errors": [{ "message": "FORBIDDEN", "path": ["adverseEventReported"], "extensions": { "code": "FORBIDDEN" } }] } });
        let Some(WsMessage::Text(sent)) = translator.server_says(text(&refused)) else {
            panic!("an error message");
        };
        let sent: Value = serde_json::from_str(&sent).unwrap();
        assert_eq!(sent["type"], "error");
        assert_eq!(sent["payload"][0]["extensions"]["code"], "FORBIDDEN");
        let complete = serde_json::json!({ "id": "7", "type": "complete" });
        assert!(translator.server_says(text(&complete)).is_none());
    }

    #[test]
    fn events_and_queries_pass_as_they_are() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        subscribed(&mut translator, "1");
        let event = serde_json::json!({ "id": "1", "type": "next", "payload": { "data": { "adverseEventReported": { "procedureId": "p" } } } });
        assert!(matches!(
            translator.server_says(text(&event)),
            Some(WsMessage::Text(_))
        ));
        let query_refused = serde_json::json!({ "id": "2", "type": "next", "payload": { "data": null,
            "errors": [{ "message": "no", "path": ["login"] }] } });
        let Some(WsMessage::Text(sent)) = translator.server_says(text(&query_refused)) else {
            panic!("passed on");
        };
        assert!(
            sent.contains("\"next\""),
            "a query's refusal stays a next: {sent}"
        );
    }

    #[test]
    fn refused_credentials_close_with_the_protocol_codes() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        let refused = |code| WsMessage::Close(1002, init_refusal(code, "refused"));
        let closed = translator.server_says(refused(ErrorCode::Unauthenticated));
        assert!(matches!(closed, Some(WsMessage::Close(UNAUTHORIZED, _))));
        let closed = translator.server_says(refused(ErrorCode::Forbidden));
        assert!(matches!(closed, Some(WsMessage::Close(FORBIDDEN, _))));
        let closed = translator.server_says(refused(ErrorCode::Internal));
        assert!(matches!(closed, Some(WsMessage::Close(1011, _))));
        let closed = translator.server_says(WsMessage::Close(
            1011,
            "The handshake is not completed.".into(),
        ));
        assert!(matches!(closed, Some(WsMessage::Close(UNAUTHORIZED, _))));
    }
}
