//! `medical_histories`: a patient's medical history (clinical data).

use sea_orm::entity::prelude::*;

/// The medical history of one patient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "medical_histories")]
pub struct Model {
    /// The patient.
    #[sea_orm(primary_key, auto_increment = false)]
    pub patient_id: Uuid,
    /// Known allergies, free text.
    pub allergies: String,
    /// Current medications, free text.
    pub medications: String,
    /// Last isotretinoin dose, if ever taken.
    pub isotretinoin_last_dose: Option<Date>,
    /// Takes anticoagulants.
    pub takes_anticoagulants: bool,
    /// Comma-separated conditions of the contraindication list.
    pub conditions: String,
    /// Clinical notes.
    pub notes: String,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked to patients by `patient_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
