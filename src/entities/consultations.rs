//! `consultations`: a patient's visit with a provider before treatment.

use sea_orm::entity::prelude::*;

use crate::domain::consultation::ConsultationStatus;

/// A consultation. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultations")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The provider.
    pub provider_id: Uuid,
    /// Start, Unix seconds.
    pub starts_at_s: i64,
    /// End, Unix seconds.
    pub ends_at_s: i64,
    /// Status.
    pub status: ConsultationStatus,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Comma-separated skin concerns assessed.
    pub concerns: String,
    /// Comma-separated treatment areas assessed.
    pub treatment_areas: String,
    /// The provider's assessment notes.
    pub assessment_notes: String,
    /// JSON list of photo references.
    pub photos: String,
    /// When it was completed.
    pub completed_at: Option<DateTimeUtc>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

super::core_columns!(
    /// What lists of consultations read: keys, times, status.
    id: Uuid,
    patient_id: Uuid,
    provider_id: Uuid,
    starts_at_s: i64,
    ends_at_s: i64,
    status: ConsultationStatus,
);

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
