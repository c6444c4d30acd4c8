//! `clinic_policy`: the single row of the clinic's editable policy.

use sea_orm::entity::prelude::*;

/// The policy row (its id is always 1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clinic_policy")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// IANA time zone name.
    pub time_zone: String,
    /// R-INTERVAL minimum, in days.
    pub min_interval_days: i32,
    /// R-INTERVAL recommendation, in days.
    pub recommended_interval_days: i32,
    /// R-SERIES default planned sessions.
    pub planned_sessions: i32,
    /// R-SCREENING validity, in days.
    pub screening_valid_days: i32,
    /// Isotretinoin wash-out, in days.
    pub isotretinoin_washout_days: i32,
    /// Absolute lifetime of a login session, in hours.
    pub session_lifetime_hours: i32,
    /// Youngest age the clinic treats.
    pub minimum_patient_age: i32,
    /// Unanswered call attempts before a follow-up is MISSED.
    pub follow_up_max_attempts: i32,
    /// Who may amend a signed procedure.
    pub amendment_policy: crate::domain::policy::AmendmentPolicy,
    /// Optimistic-locking version.
    pub version: i32,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// The policy row relates to no other table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
