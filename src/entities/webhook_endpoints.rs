//! `webhook_endpoints`: partner URLs that receive signed events.

use sea_orm::entity::prelude::*;

/// A webhook endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Comma-separated event types it receives.
    pub event_types: String,
    /// The signing secret (shown once at creation).
    pub secret: String,
    /// Whether deliveries are attempted.
    pub active: bool,
    /// Failed attempts in a row.
    pub consecutive_failures: i32,
    /// When it was disabled after repeated failures.
    pub disabled_at: Option<DateTimeUtc>,
    /// The admin who created it.
    pub created_by: Uuid,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
