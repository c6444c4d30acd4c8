//! `follow_ups`: calls and reviews after a procedure.

use sea_orm::entity::prelude::*;

use crate::domain::{
    follow_up::{AdverseEventKind, FollowUpKind, FollowUpStatus, Severity},
    patient::ContactChannel,
};

/// A follow-up. The due time is Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_ups")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The procedure it follows.
    pub procedure_id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// What it is for.
    pub kind: FollowUpKind,
    /// When it is due, Unix seconds.
    pub due_at_s: i64,
    /// The channel planned (one the patient consents to).
    pub channel: ContactChannel,
    /// Where it stands.
    pub status: FollowUpStatus,
    /// Unanswered attempts so far.
    pub attempts: i32,
    /// The last attempt.
    pub last_attempt_at: Option<DateTimeUtc>,
    /// The channel used when completed.
    pub channel_used: Option<ContactChannel>,
    /// Comma-separated symptoms reported.
    pub symptoms: String,
    /// Whether the patient took an NSAID.
    pub nsaid_taken: Option<bool>,
    /// Adverse event kind reported.
    pub adverse_kind: Option<AdverseEventKind>,
    /// Its severity.
    pub adverse_severity: Option<Severity>,
    /// Its description.
    pub adverse_description: Option<String>,
    /// Notes.
    pub notes: String,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// When it was completed.
    pub completed_at: Option<DateTimeUtc>,
    /// Who completed it.
    pub completed_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

super::core_columns!(
    /// What lists of follow-ups read: keys, kind, due time, channel, status.
    id: Uuid,
    procedure_id: Uuid,
    patient_id: Uuid,
    kind: FollowUpKind,
    due_at_s: i64,
    channel: ContactChannel,
    status: FollowUpStatus,
);

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
