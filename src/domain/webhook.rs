//! Partner webhooks: event types, the signatures partners verify, and the
//! retry schedule.
//!
//! Deliveries follow the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>), so partners verify them with the
//! published `standardwebhooks` libraries: `webhook-id` (the delivery id,
//! the same on every retry), `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<raw
//! body>">`, keyed with the bytes the `whsec_` secret encodes.
//!
//! Until the next release, deliveries also carry the earlier
//! `Dermagraph-Signature: t=<unix seconds>,v1=<hex>` (HMAC-SHA256 keyed with
//! the secret's text over `"<t>.<raw body>"`), so partners who verify that
//! keep working while they move to the standard headers.

use async_graphql::Enum;
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac};
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};
use sha2::Sha256;

use crate::events::DomainEvent;

/// Events partners can receive.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, DeriveActiveEnum, EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum WebhookEventType {
    /// A follow-up was created or changed.
    #[sea_orm(string_value = "FOLLOW_UP_CHANGED")]
    FollowUpChanged,
    /// A provider's schedule changed.
    #[sea_orm(string_value = "SCHEDULE_CHANGED")]
    ScheduleChanged,
    /// An adverse event was reported.
    #[sea_orm(string_value = "ADVERSE_EVENT_REPORTED")]
    AdverseEventReported,
}

impl WebhookEventType {
    /// The type of an event.
    pub fn of(event: &DomainEvent) -> Option<Self> {
        match event {
            DomainEvent::FollowUpChanged { .. } => Some(Self::FollowUpChanged),
            DomainEvent::ScheduleChanged { .. } => Some(Self::ScheduleChanged),
            DomainEvent::AdverseEventReported { .. } => Some(Self::AdverseEventReported),
            DomainEvent::AccessRevoked { .. } => None,
        }
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Given up after the last attempt; `redeliverWebhook` retries it.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// The HMAC key a `whsec_` secret stands for. Secrets are the standard
/// base64 of the key; those issued before the move to Standard Webhooks
/// (December 2026) are URL-safe base64 without padding, and decode as such.
pub fn signing_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

fn hmac_sha256(key: &[u8], message: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The Standard Webhooks `webhook-signature` value for delivery `id` of
/// `body` sent at `timestamp`: `v1,` and the base64 HMAC-SHA256 of
/// `"<id>.<timestamp>.<body>"`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let digest = hmac_sha256(&signing_key(secret), &format!("{id}.{timestamp}.{body}"));
    format!("v1,{}", STANDARD.encode(digest))
}

/// The earlier `Dermagraph-Signature` header value for `body` sent at
/// `timestamp` (sent until the next release; see the module's text).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let digest = hmac_sha256(secret.as_bytes(), &format!("{timestamp}.{body}"));
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Milliseconds to wait after failed attempt number `attempts` (1-based):
/// `base`, doubled each time, at most an hour.
pub fn backoff_ms(attempts: i32, base_ms: u64) -> u64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    base_ms.saturating_mul(1 << doublings).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_follows_the_documented_recipe() {
        // HMAC-SHA256("secret", "1700000000.{}") computed independently.
        let header = signature("secret", 1_700_000_000, "{}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(header, signature("other", 1_700_000_000, "{}"));
        assert_ne!(header, signature("secret", 1_700_000_001, "{}"));
    }

    #[test]
    fn standard_signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification and of its
        // reference libraries' tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_of_both_encodings_give_their_key() {
        assert_eq!(signing_key("whsec_AAEC"), vec![0, 1, 2]);
        // URL-safe, unpadded, as issued before December 2026.
        assert_eq!(signing_key("whsec_-_8"), vec![0xfb, 0xff]);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1, 1000), 1000);
        assert_eq!(backoff_ms(2, 1000), 2000);
        assert_eq!(backoff_ms(4, 1000), 8000);
        assert_eq!(backoff_ms(30, 1000), 3_600_000);
    }
}
