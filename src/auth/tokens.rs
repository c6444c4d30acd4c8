//! Staff access tokens: short-lived JWTs (HS256, algorithm pinned) carrying
//! the user id and the user's token version.

use std::{fs, io::Write, path::Path};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{Config, MIN_JWT_SECRET_BYTES};

/// Issuer claim of every access token.
pub const ISSUER: &str = "dermagraph";
/// Audience claim of every access token.
pub const AUDIENCE: &str = "dermagraph-api";
/// Lifetime of an access token.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user's id.
    pub sub: Uuid,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Not before.
    pub nbf: i64,
    /// Issued at.
    pub iat: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// The user's token version when issued; a bump revokes the token.
    pub ver: i32,
    /// The session (refresh-token family) the token was issued for: while
    /// it is revoked (logout, a reused refresh token), the token is refused
    /// at once instead of living out its 15 minutes. Tokens the server's
    /// own tools issue outside any session have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// Signing and verification keys.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

/// An issued access token.
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

impl TokenKeys {
    /// Keys from a secret of at least 32 bytes.
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The keys for this configuration: the configured secret, or in
    /// development one generated once and kept in the data folder so
    /// restarts keep sessions.
    ///
    /// # Errors
    /// When the development key file cannot be read or written.
    pub fn for_config(config: &Config) -> anyhow::Result<Self> {
        match &config.jwt_secret {
            Some(secret) => Ok(Self::from_secret(secret.as_bytes())),
            None => Ok(Self::from_secret(&development_secret(&config.data_dir)?)),
        }
    }

    /// Signs an access token for a user at `now`.
    ///
    /// # Errors
    /// When signing fails (it does not with HS256 and a valid key).
    pub fn issue(
        &self,
        user_id: Uuid,
        token_version: i32,
        session: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<AccessToken> {
        let expires_at = now + ACCESS_TOKEN_TTL;
        let claims = AccessClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id,
            exp: expires_at.timestamp(),
            nbf: now.timestamp(),
            iat: now.timestamp(),
            jti: Uuid::now_v7(),
            ver: token_version,
            sid: session,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(AccessToken { token, expires_at })
    }

    /// Verifies signature, algorithm, issuer, audience, expiry and
    /// not-before, and that the token lives no longer than
    /// [`ACCESS_TOKEN_TTL`] from when it was issued: a token signed with the
    /// real key but a far `exp` (or an `iat` in the future) is refused.
    ///
    /// # Errors
    /// The reason the token is refused (never shown to clients in detail).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, jsonwebtoken::errors::Error> {
        let claims = decode::<AccessClaims>(token, &self.decoding, &self.validation)?.claims;
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
        let lifetime = claims.exp.saturating_sub(claims.iat);
        if lifetime > ACCESS_TOKEN_TTL.num_seconds() + leeway
            || claims.iat > Utc::now().timestamp() + leeway
        {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidToken.into());
        }
        Ok(claims)
    }
}

/// Reads, or creates with mode 0600, `<data_dir>/jwt-secret`.
fn development_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= MIN_JWT_SECRET_BYTES {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let secret = hex::encode(bytes);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a development token-signing key");
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(SECRET)
    }

    #[test]
    fn issued_tokens_verify() {
        let user = Uuid::now_v7();
        let token = keys().issue(user, 3, None, Utc::now()).unwrap();
        let claims = keys().verify(&token.token).unwrap();
        assert_eq!(claims.sub, user);
        assert_eq!(claims.ver, 3);
        assert_eq!(claims.iss, ISSUER);
    }

    #[test]
    fn expired_tokens_are_refused() {
        let token = keys()
            .issue(Uuid::now_v7(), 0, None, Utc::now() - Duration::hours(1))
            .unwrap();
        assert!(keys().verify(&token.token).is_err());
    }

    #[test]
    fn tokens_living_longer_than_the_access_lifetime_are_refused() {
        let now = Utc::now().timestamp();
        let sign = |iat: i64, exp: i64| {
            let claims = AccessClaims {
                iss: ISSUER.to_owned(),
                aud: AUDIENCE.to_owned(),
                sub: Uuid::now_v7(),
                exp,
                nbf: iat,
                iat,
                jti: Uuid::now_v7(),
                ver: 0,
                sid: None,
            };
            encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(SECRET),
            )
            .unwrap()
        };
        let fifteen_minutes = ACCESS_TOKEN_TTL.num_seconds();
        assert!(keys().verify(&sign(now, now + fifteen_minutes)).is_ok());
        assert!(keys().verify(&sign(now, now + 10 * 365 * 86_400)).is_err());
        assert!(
            keys()
                .verify(&sign(now, now + fifteen_minutes + 60))
                .is_err()
        );
        // An iat in the future cannot stretch the window either.
        assert!(keys().verify(&sign(now + 3_600, now + 3_600 + 60)).is_err());
    }

    #[test]
    fn tokens_of_another_key_are_refused() {
        let token = TokenKeys::from_secret(b"another-secret-another-secret-xx")
            .issue(Uuid::now_v7(), 0, None, Utc::now())
            .unwrap();
        assert!(keys().verify(&token.token).is_err());
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let valid = keys()
            .issue(Uuid::now_v7(), 0, None, Utc::now())
            .unwrap()
            .token;
        let payload = valid.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys().verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn development_secret_persists() {
        let dir = tempfile::tempdir().unwrap();
        let first = development_secret(dir.path()).unwrap();
        let second = development_secret(dir.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
    }
}
