//! `screenings`: contraindication screenings (clinical).

use sea_orm::entity::prelude::*;

/// One screening: the answers as JSON and the findings as codes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "screenings")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// The consultation it was part of.
    pub consultation_id: Option<Uuid>,
    /// The provider who recorded it.
    pub recorded_by: Uuid,
    /// When.
    pub recorded_at: DateTimeUtc,
    /// JSON of every answer.
    pub answers: String,
    /// Comma-separated absolute findings.
    pub absolute_findings: String,
    /// Comma-separated relative findings.
    pub relative_findings: String,
    /// Comma-separated advisories.
    pub advisories: String,
    /// The provider's reason for proceeding despite relative findings.
    pub override_reason: Option<String>,
}

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
