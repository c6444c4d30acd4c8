//! The persisted-operation allow-list: when configured, only operations
//! whose text is in the list run, on HTTP and on subscriptions alike.
//!
//! The list is a JSON object mapping the SHA-256 (hex) of each operation's
//! text to the text, the format Relay's and Apollo's persisted-query tooling
//! write. A client sends either the full text (its hash must be listed) or
//! just the hash, as `extensions.persistedQuery.sha256Hash` (Apollo's
//! convention), and the server fills in the text.

use std::{collections::HashMap, path::Path};

use anyhow::Context as _;
use async_graphql::{Request, ServerError, ServerResult};
use sha2::{Digest, Sha256};

use crate::error::ErrorCode;

/// Operations allowed to run, by the SHA-256 of their text.
#[derive(Debug, Default)]
pub struct PersistedOperations {
    by_hash: HashMap<String, String>,
}

impl PersistedOperations {
    /// Reads the list and checks every hash matches its text, so a typo in
    /// the file fails at startup rather than as a refused operation later.
    ///
    /// # Errors
    /// An unreadable file, invalid JSON, or a hash that is not its text's.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::read_to_string(path)
            .with_context(|| format!("reading persisted operations from {}", path.display()))?;
        let listed: HashMap<String, String> = serde_json::from_str(&file).with_context(|| {
            format!(
                "{} must be a JSON object of \"<sha256 hex>\": \"<operation text>\"",
                path.display()
            )
        })?;
        Self::from_listed(listed)
    }

    fn from_listed(listed: HashMap<String, String>) -> anyhow::Result<Self> {
        let mut by_hash = HashMap::with_capacity(listed.len());
        for (hash, text) in listed {
            let actual = sha256_hex(&text);
            anyhow::ensure!(
                hash.eq_ignore_ascii_case(&actual),
                "persisted operation {hash} has text whose SHA-256 is {actual}"
            );
            by_hash.insert(actual, text);
        }
        Ok(Self { by_hash })
    }

    /// How many operations are allowed.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// The request with its operation text, if the operation is allowed.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when the operation is not on the list.
    pub fn admit(&self, mut request: Request) -> ServerResult<Request> {
        if request.query.trim().is_empty() {
            let hash = requested_hash(&request).ok_or_else(|| {
                refusal(
                    "the request has neither `query` nor `extensions.persistedQuery.sha256Hash`",
                )
            })?;
            let text = self
                .by_hash
                .get(&hash.to_ascii_lowercase())
                .ok_or_else(|| refusal("no persisted operation has this sha256Hash"))?;
            request.query.clone_from(text);
            return Ok(request);
        }
        if self.by_hash.contains_key(&sha256_hex(&request.query)) {
            Ok(request)
        } else {
            Err(refusal(
                "this server runs only persisted operations, and this one is not on its allow-list",
            ))
        }
    }
}

/// Whether the request names a persisted operation by hash.
pub fn has_persisted_hash(request: &Request) -> bool {
    requested_hash(request).is_some()
}

fn requested_hash(request: &Request) -> Option<String> {
    let persisted = request.extensions.get("persistedQuery")?;
    let async_graphql::Value::Object(fields) = persisted else {
        return None;
    };
    match fields.get("sha256Hash")? {
        async_graphql::Value::String(hash) => Some(hash.clone()),
        _ => None,
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn refusal(message: &str) -> ServerError {
    ErrorCode::BadUserInput.server_error(message)
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, Value};

    use super::*;

    const ME: &str = "query Me { me { id } }";

    fn list() -> PersistedOperations {
        PersistedOperations::from_listed(HashMap::from([(sha256_hex(ME), ME.to_owned())])).unwrap()
    }

    fn by_hash(hash: &str) -> Request {
        let mut persisted = async_graphql::indexmap::IndexMap::new();
        persisted.insert(Name::new("version"), Value::from(1));
        persisted.insert(Name::new("sha256Hash"), Value::from(hash));
        let mut request = Request::new("");
        request
            .extensions
            .insert("persistedQuery".to_owned(), Value::Object(persisted));
        request
    }

    #[test]
    fn a_listed_text_runs_and_another_is_refused() {
        assert!(list().admit(Request::new(ME)).is_ok());
        let refused = list()
            .admit(Request::new("{ me { id email } }"))
            .unwrap_err();
        assert!(refused.message.contains("allow-list"));
    }

    #[test]
    fn a_listed_hash_brings_its_text() {
        let admitted = list()
            .admit(by_hash(&sha256_hex(ME).to_uppercase()))
            .unwrap();
        assert_eq!(admitted.query, ME);
        assert!(list().admit(by_hash(&"0".repeat(64))).is_err());
    }

    #[test]
    fn a_hash_that_is_not_its_texts_fails_at_load() {
        let wrong = HashMap::from([("ab".repeat(32), ME.to_owned())]);
        assert!(PersistedOperations::from_listed(wrong).is_err());
    }
}
