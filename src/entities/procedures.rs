//! `procedures`: micro-needling sessions, from booking to signature.

use sea_orm::entity::prelude::*;

use crate::domain::procedure::ProcedureStatus;

/// A procedure. Appointment times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "procedures")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The performing provider.
    pub provider_id: Uuid,
    /// The treatment plan this session belongs to.
    pub treatment_plan_id: Option<Uuid>,
    /// Start, Unix seconds.
    pub starts_at_s: i64,
    /// End, Unix seconds.
    pub ends_at_s: i64,
    /// The start it was booked for, Unix seconds: kept when the session
    /// starts and `starts_at_s` moves to the real time.
    pub scheduled_starts_at_s: Option<i64>,
    /// Status.
    pub status: ProcedureStatus,
    /// Comma-separated treatment areas.
    pub areas: String,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// Who sent the idempotency key.
    pub idempotency_actor: Option<String>,
    /// The idempotency key of the booking request.
    pub idempotency_key: Option<String>,
    /// Numbing cream product (R-PREP).
    pub numbing_product: Option<String>,
    /// When the numbing cream was applied (R-PREP).
    pub numbing_applied_at: Option<DateTimeUtc>,
    /// The screening that cleared the start (R-SCREENING).
    pub screening_id: Option<Uuid>,
    /// The provider's reason to proceed despite relative findings.
    pub screening_override_reason: Option<String>,
    /// When it was started.
    pub started_at: Option<DateTimeUtc>,
    /// Lipopeptide booster applied after needling (R-POSTCARE).
    pub lipopeptide_booster: Option<bool>,
    /// Moisturizer applied after needling (R-POSTCARE).
    pub moisturizer: Option<bool>,
    /// SPF of the sunscreen applied (R-POSTCARE).
    pub sunscreen_spf: Option<i32>,
    /// The skin's immediate response.
    pub immediate_response: Option<String>,
    /// Clinical notes.
    pub clinical_notes: String,
    /// When it was completed.
    pub completed_at: Option<DateTimeUtc>,
    /// When it was signed.
    pub signed_at: Option<DateTimeUtc>,
    /// Who signed it.
    pub signed_by: Option<Uuid>,
    /// JSON of the charted record as signed (R-RECORDS).
    pub signed_record: Option<String>,
    /// When an adverse event was reported for it (R-ADVERSE).
    pub adverse_flagged_at: Option<DateTimeUtc>,
    /// Who booked it.
    pub created_by: Uuid,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

super::core_columns!(
    /// What lists of procedures read: keys, plan, times, status, areas.
    id: Uuid,
    patient_id: Uuid,
    provider_id: Uuid,
    treatment_plan_id: Option<Uuid>,
    starts_at_s: i64,
    ends_at_s: i64,
    status: ProcedureStatus,
    areas: String,
);

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
