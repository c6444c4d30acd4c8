//! `users`: staff accounts.

use sea_orm::entity::prelude::*;

use crate::domain::staff::{LicenseKind, Role};

/// A staff account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased, unique.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// False once deactivated.
    pub active: bool,
    /// License number, for licensed staff.
    pub license_number: Option<String>,
    /// License kind.
    pub license_kind: Option<LicenseKind>,
    /// Issuing state of the license.
    pub license_issuing_state: Option<String>,
    /// Last valid day of the license.
    pub license_expires_on: Option<Date>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Bumped to revoke every outstanding token at once.
    pub token_version: i32,
    /// A provider an admin designated to amend procedures others performed
    /// (under the `PERFORMER_AND_SUPERVISORS` amendment policy).
    pub supervises_amendments: bool,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Users relate to sessions and API clients through their ids only.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
