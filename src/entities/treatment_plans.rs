//! `treatment_plans`: the series proposed at consultation (R-SERIES).

use sea_orm::entity::prelude::*;

use crate::domain::consultation::PlanStatus;

/// A treatment plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treatment_plans")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The consultation that made it.
    pub consultation_id: Option<Uuid>,
    /// Sessions planned.
    pub planned_sessions: i32,
    /// Days between sessions.
    pub interval_days: i32,
    /// Comma-separated treatment areas.
    pub areas: String,
    /// Goals, free text.
    pub goals: String,
    /// Status.
    pub status: PlanStatus,
    /// The provider who made it.
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
