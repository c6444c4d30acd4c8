//! `refresh_tokens`: one row per issued refresh token; a login starts a
//! family, each refresh adds a row to it.

use sea_orm::entity::prelude::*;

/// An issued refresh token (only its SHA-256 is stored).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The session's user.
    pub user_id: Uuid,
    /// The login this token descends from.
    pub family_id: Uuid,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The user's token version when issued.
    pub token_version: i32,
    /// Issue time.
    pub issued_at: DateTimeUtc,
    /// End of the session's absolute lifetime.
    pub expires_at: DateTimeUtc,
    /// Set when exchanged for a new token.
    pub rotated_at: Option<DateTimeUtc>,
    /// Set when revoked (logout, reuse, deactivation, password change).
    pub revoked_at: Option<DateTimeUtc>,
}

/// Linked to users by `user_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
