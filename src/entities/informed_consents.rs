//! `informed_consents`: signed informed consents for micro-needling
//! (R-CONSENT); never changed once written.

use sea_orm::entity::prelude::*;

/// A signed consent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "informed_consents")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// Version of the consent template signed.
    pub template_version: String,
    /// Name of the signer.
    pub signer_name: String,
    /// When it was signed.
    pub signed_at: DateTimeUtc,
    /// The witnessing provider.
    pub witness_id: Option<Uuid>,
    /// Who recorded it.
    pub recorded_by: Uuid,
    /// When it was recorded.
    pub created_at: DateTimeUtc,
}

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
