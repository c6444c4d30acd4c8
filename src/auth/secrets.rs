//! Opaque secrets: refresh tokens and partner API keys. Only their SHA-256
//! is stored; they carry 256 bits of randomness, so a fast hash suffices.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use rand::{Rng, RngCore, distr::Alphanumeric};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix that makes a partner API key recognizable (API.md).
pub const API_KEY_PREFIX: &str = "dg_";
/// Prefix of refresh tokens, so they are never mistaken for API keys.
pub const REFRESH_TOKEN_PREFIX: &str = "dgr_";
/// Length of the public lookup part of an API key.
const KEY_ID_CHARS: usize = 12;

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a secret, as stored.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn matches_hash(secret: &str, stored_hex: &str) -> bool {
    sha256_hex(secret)
        .as_bytes()
        .ct_eq(stored_hex.as_bytes())
        .into()
}

/// A new webhook signing secret in the Standard Webhooks form: `whsec_` +
/// the standard base64 of 32 random bytes (the HMAC key), which the
/// published `standardwebhooks` libraries take as it is.
pub fn new_webhook_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// A new refresh token: `dgr_` + 43 URL-safe characters.
pub fn new_refresh_token() -> String {
    format!("{REFRESH_TOKEN_PREFIX}{}", random_secret())
}

/// A newly generated API key: the full key is shown to the admin once.
pub struct NewApiKey {
    /// The lookup part, stored in clear (`api_clients.key_prefix`).
    pub key_id: String,
    /// The secret part; only its hash is stored.
    pub secret: String,
}

impl NewApiKey {
    /// Generates a key.
    pub fn generate() -> Self {
        let key_id: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(KEY_ID_CHARS)
            .map(|byte| char::from(byte).to_ascii_lowercase())
            .collect();
        Self {
            key_id,
            secret: random_secret(),
        }
    }

    /// The key as the partner sends it: `dg_<key id>_<secret>`.
    pub fn full_key(&self) -> String {
        format!("{API_KEY_PREFIX}{}_{}", self.key_id, self.secret)
    }
}

/// Splits a presented API key into its lookup id and secret.
pub fn parse_api_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (key_id, secret) = rest.split_at_checked(KEY_ID_CHARS)?;
    let secret = secret.strip_prefix('_')?;
    (key_id.bytes().all(|b| b.is_ascii_alphanumeric()) && !secret.is_empty())
        .then_some((key_id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_round_trip() {
        let key = NewApiKey::generate();
        let full = key.full_key();
        assert!(full.starts_with("dg_"));
        let (key_id, secret) = parse_api_key(&full).unwrap();
        assert_eq!(key_id, key.key_id);
        assert_eq!(secret, key.secret);
        assert!(matches_hash(secret, &sha256_hex(&key.secret)));
        assert!(!matches_hash("other", &sha256_hex(&key.secret)));
    }

    #[test]
    fn malformed_api_keys_are_refused() {
        for bad in [
            "",
            "dg_",
            "dg_short_x",
            "xx_abcdefghijkl_secret",
            "dg_abcdefghijkl",
            "dg_abc-efghijkl_s",
        ] {
            assert!(parse_api_key(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn refresh_tokens_are_distinct_and_prefixed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert!(a.starts_with("dgr_") && a.len() == 4 + 43);
    }
}
