//! Password hashing with argon2id (OWASP parameters), off the async runtime.

use std::sync::OnceLock;

use crate::error::AppResult;
use anyhow::anyhow;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};

/// argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's minimum).
fn hasher() -> AppResult<Argon2<'static>> {
    let params =
        Params::new(19_456, 2, 1, None).map_err(|error| anyhow!("argon2 params: {error}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string, in a blocking thread.
///
/// # Errors
/// `INTERNAL` if hashing fails.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|error| anyhow!("hashing task failed: {error}"))?
}

fn hash_blocking(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| anyhow!("argon2 hash: {error}"))?
        .to_string())
}

/// A hash of a password nobody has, verified when the account does not
/// exist so that unknown emails take as long as wrong passwords.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_blocking("decoy password that matches no account").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZGVjb3k".to_owned()
        })
    })
}

/// Checks a password against a stored hash, or against a decoy when there
/// is no account, taking the same time either way.
///
/// # Errors
/// `INTERNAL` if the blocking task fails.
pub async fn verify_password(password: String, stored_hash: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let account_exists = stored_hash.is_some();
        let hash_text = stored_hash.unwrap_or_else(|| decoy_hash().to_owned());
        let matches = PasswordHash::new(&hash_text).is_ok_and(|hash| {
            hasher().is_ok_and(|argon| argon.verify_password(password.as_bytes(), &hash).is_ok())
        });
        matches && account_exists
    })
    .await
    .map_err(|error| anyhow!("verification task failed: {error}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password("correct horse battery".to_owned(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".to_owned(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(
            !verify_password("decoy password that matches no account".to_owned(), None)
                .await
                .unwrap()
        );
    }
}
