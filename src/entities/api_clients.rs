//! `api_clients`: partner integrations and their hashed keys.

use sea_orm::entity::prelude::*;

/// A partner integration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Partner's name, e.g. "Glow booking widget".
    pub name: String,
    /// Space-separated scope names.
    pub scopes: String,
    /// Public part of the key, used to find the row.
    pub key_prefix: String,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
    /// False once revoked.
    pub active: bool,
    /// The admin who created it.
    pub created_by: Uuid,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last authenticated request (updated at most once a minute).
    pub last_used_at: Option<DateTimeUtc>,
    /// Revocation time.
    pub revoked_at: Option<DateTimeUtc>,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked to users by `created_by`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
