//! `contact_consents`: every grant and revocation of consent to contact a
//! patient on a channel (R-CONTACT), never overwritten.

use sea_orm::entity::prelude::*;

use crate::domain::patient::ContactChannel;

/// One grant or revocation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_consents")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The channel.
    pub channel: ContactChannel,
    /// Granted (true) or revoked (false).
    pub granted: bool,
    /// When.
    pub recorded_at: DateTimeUtc,
    /// Where the consent came from (web form, phone, partner name, staff).
    pub source: String,
    /// Version of the consent text shown.
    pub consent_text_version: Option<String>,
    /// The staff member or client who recorded it.
    pub recorded_by: Option<Uuid>,
}

/// Linked to patients by `patient_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
