//! `login_throttle`: failed-login counters per account and per client IP.

use sea_orm::entity::prelude::*;

/// Failures of one key (`account:<email>` or `ip:<address>`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    /// `account:<email>` or `ip:<address>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Failures in the current window.
    pub failures: i32,
    /// Start of the current window.
    pub window_started_at: DateTimeUtc,
    /// Attempts refused until then.
    pub locked_until: Option<DateTimeUtc>,
}

/// Stands alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
