//! `consultation_requests`: requests from the web form, phone and partners.

use sea_orm::entity::prelude::*;

use crate::domain::{
    intake::{RequestSource, RequestStatus},
    patient::ContactChannel,
};

/// A consultation request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consultation_requests")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Lower-cased email.
    pub email: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Preferred channel.
    pub preferred_channel: ContactChannel,
    /// Comma-separated consented channels.
    pub consented_channels: String,
    /// Version of the consent text shown.
    pub consent_text_version: String,
    /// When consent was given.
    pub consented_at: DateTimeUtc,
    /// How the request arrived.
    pub source: RequestSource,
    /// The partner's name, for partner requests.
    pub source_detail: Option<String>,
    /// The person's message.
    pub message: Option<String>,
    /// Times the person prefers.
    pub preferred_times: Option<String>,
    /// Status.
    pub status: RequestStatus,
    /// Staff notes.
    pub staff_notes: String,
    /// Call-back attempts so far.
    pub contact_attempts: i32,
    /// Last call-back attempt.
    pub last_contacted_at: Option<DateTimeUtc>,
    /// Existing patient with the same email or phone (R-DEDUP).
    pub suggested_patient_id: Option<Uuid>,
    /// The patient it was converted to.
    pub patient_id: Option<Uuid>,
    /// Who sent the idempotency key.
    pub idempotency_actor: Option<String>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// Arrival time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked to patients by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
