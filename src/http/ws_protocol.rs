//! The graphql-transport-ws details async-graphql leaves generic, as the
//! protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) and its
//! clients expect them:
//! - a refused `connection_init` closes with 4401 Unauthorized (no or bad
//!   credentials) or 4403 Forbidden, not 1002; a `subscribe` before the
//!   acknowledgement closes with 4401 too; a message that is not the
//!   protocol's with 4400;
//! - a subscription the caller may not open (or that is over a limit) is
//!   answered with an `error` message, not a `next` that carries the
//!   refusal, and no `complete` follows it. `Schemas::execute_stream`
//!   marks such a refusal (it knows the operation once its text passed the
//!   limits); this layer only rewrites marked messages.
//!
//! The older `graphql-ws` (subscriptions-transport-ws) protocol is left as
//! async-graphql speaks it.

use std::collections::HashSet;

use async_graphql::http::{WebSocketProtocols, WsMessage};
use serde_json::Value;

use crate::{error::ErrorCode, graphql::schemas::REFUSED_SUBSCRIPTION};

/// graphql-transport-ws: the connection's credentials are missing or
/// no longer valid.
pub const UNAUTHORIZED: u16 = 4401;
/// graphql-transport-ws: the caller may not hold this connection.
pub const FORBIDDEN: u16 = 4403;

/// What one connection's translation remembers: the operations refused
/// with an `error` message, whose `complete` is not sent.
#[derive(Debug)]
pub struct Translator {
    protocol: WebSocketProtocols,
    refused: HashSet<String>,
}

impl Translator {
    /// A translator for a connection speaking `protocol`.
    pub fn new(protocol: WebSocketProtocols) -> Self {
        Self {
            protocol,
            refused: HashSet::new(),
        }
    }

    /// The server message to send for `message`, if any.
    pub fn server_says(&mut self, message: WsMessage) -> Option<WsMessage> {
        match message {
            WsMessage::Close(1002, reason) if self.speaks_transport_ws() => {
                Some(WsMessage::Close(init_close_code(&reason), reason))
            }
            WsMessage::Close(1011, reason) if self.speaks_transport_ws() => {
                // "The handshake is not completed": subscribe before ack.
                Some(WsMessage::Close(UNAUTHORIZED, reason))
            }
            WsMessage::Close(code, reason) => Some(WsMessage::Close(code, reason)),
            WsMessage::Text(text) => self.text(text),
        }
    }

    fn speaks_transport_ws(&self) -> bool {
        self.protocol == WebSocketProtocols::GraphQLWS
    }

    fn text(&mut self, text: String) -> Option<WsMessage> {
        // Cheap first: only marked refusals and the completes after them
        // are rewritten; events pass untouched.
        let marked = text.contains(REFUSED_SUBSCRIPTION);
        if !marked && self.refused.is_empty() {
            return Some(WsMessage::Text(text));
        }
        let Ok(mut message) = serde_json::from_str::<Value>(&text) else {
            return Some(WsMessage::Text(text));
        };
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        if marked {
            if let Some(payload) = message.get_mut("payload").and_then(Value::as_object_mut) {
                payload
                    .get_mut("extensions")
                    .and_then(Value::as_object_mut)
                    .map(|extensions| extensions.remove(REFUSED_SUBSCRIPTION));
                if payload
                    .get("extensions")
                    .and_then(Value::as_object)
                    .is_some_and(serde_json::Map::is_empty)
                {
                    payload.remove("extensions");
                }
            }
            if self.speaks_transport_ws() {
                self.refused.insert(id.clone());
                let errors = message["payload"]["errors"].take();
                let error = serde_json::json!({ "id": id, "type": "error", "payload": errors });
                return Some(WsMessage::Text(error.to_string()));
            }
            return Some(WsMessage::Text(message.to_string()));
        }
        if message["type"] == "complete" && self.refused.remove(&id) {
            return None;
        }
        Some(WsMessage::Text(text))
    }
}

/// How a refused `connection_init` begins its reason: the error code, so
/// that the close code can follow it (`FORBIDDEN: …`).
pub fn init_refusal(code: ErrorCode, message: &str) -> String {
    format!("{}: {message}", code.as_str())
}

/// The close code for a refused `connection_init`, from the error code its
/// reason starts with (see [`init_refusal`]): 4401 for missing or invalid
/// credentials, 4403 for a caller who may not connect, 4429 for one over
/// its budget, 1011 for the server's own trouble (the database, say), which
/// clients retry. A 1002 without a code is async-graphql's answer to a
/// message that is not the protocol's: 4400 Bad Request.
fn init_close_code(reason: &str) -> u16 {
    let code = reason.split(':').next().unwrap_or_default();
    if code == ErrorCode::Unauthenticated.as_str() {
        UNAUTHORIZED
    } else if code == ErrorCode::Forbidden.as_str() {
        FORBIDDEN
    } else if code == ErrorCode::RateLimited.as_str() {
        4429
    } else if code == ErrorCode::Internal.as_str() {
        1011
    } else {
        4400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(message: &Value) -> WsMessage {
        WsMessage::Text(message.to_string())
    }

    fn sent(message: Option<WsMessage>) -> Value {
        let Some(WsMessage::Text(text)) = message else {
            panic!("a text message, got {message:?}");
        };
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn a_marked_refusal_is_an_error_without_complete() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        let refused = serde_json::json!({ "id": "7", "type": "next", "payload": { "data": null,
            "errors": [{ "message": "FORBIDDEN", "path": ["adverseEventReported"], "extensions": { "code": "FORBIDDEN" } }],
            "extensions": { REFUSED_SUBSCRIPTION: true } } });
        let error = sent(translator.server_says(text(&refused)));
        assert_eq!(error["type"], "error");
        assert_eq!(error["id"], "7");
        assert_eq!(error["payload"][0]["extensions"]["code"], "FORBIDDEN");
        assert!(!error.to_string().contains(REFUSED_SUBSCRIPTION));
        let complete = serde_json::json!({ "id": "7", "type": "complete" });
        assert!(translator.server_says(text(&complete)).is_none());
        // Another operation's complete still goes out.
        let other = serde_json::json!({ "id": "8", "type": "complete" });
        assert!(translator.server_says(text(&other)).is_some());
    }

    #[test]
    fn unmarked_answers_pass_as_they_are() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        let event = serde_json::json!({ "id": "1", "type": "next", "payload": { "data": { "adverseEventReported": { "procedureId": "p" } } } });
        assert_eq!(sent(translator.server_says(text(&event))), event);
        // A query's refusal, or an answer withheld for the audit trail, is
        // not marked: it stays a `next`.
        let withheld = serde_json::json!({ "id": "2", "type": "next", "payload": { "data": null,
            "errors": [{ "message": "the audit trail could not record", "extensions": { "code": "INTERNAL" } }] } });
        assert_eq!(
            sent(translator.server_says(text(&withheld)))["type"],
            "next"
        );
    }

    #[test]
    fn the_older_protocol_keeps_its_data_message_without_the_mark() {
        let mut translator = Translator::new(WebSocketProtocols::SubscriptionsTransportWS);
        let refused = serde_json::json!({ "id": "3", "type": "data", "payload": { "data": null,
            "errors": [{ "message": "FORBIDDEN" }], "extensions": { REFUSED_SUBSCRIPTION: true } } });
        let passed = sent(translator.server_says(text(&refused)));
        assert_eq!(passed["type"], "data");
        assert!(passed["payload"].get("extensions").is_none(), "{passed}");
    }

    #[test]
    fn closes_follow_the_protocol_codes() {
        let mut translator = Translator::new(WebSocketProtocols::GraphQLWS);
        let refused = |code| WsMessage::Close(1002, init_refusal(code, "refused"));
        let code_of = |message: Option<WsMessage>| match message {
            Some(WsMessage::Close(code, _)) => code,
            other => panic!("a close, got {other:?}"),
        };
        assert_eq!(
            code_of(translator.server_says(refused(ErrorCode::Unauthenticated))),
            UNAUTHORIZED
        );
        assert_eq!(
            code_of(translator.server_says(refused(ErrorCode::Forbidden))),
            FORBIDDEN
        );
        assert_eq!(
            code_of(translator.server_says(refused(ErrorCode::RateLimited))),
            4429
        );
        assert_eq!(
            code_of(translator.server_says(refused(ErrorCode::Internal))),
            1011
        );
        // async-graphql's answer to a message that is not the protocol's.
        let malformed =
            WsMessage::Close(1002, "invalid type: integer `7`, expected a string".into());
        assert_eq!(code_of(translator.server_says(malformed)), 4400);
        let early = WsMessage::Close(1011, "The handshake is not completed.".into());
        assert_eq!(code_of(translator.server_says(early)), UNAUTHORIZED);
    }
}
