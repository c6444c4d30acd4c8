//! `patients`: demographics and contact data.

use sea_orm::entity::prelude::*;

use crate::domain::patient::{ContactChannel, FitzpatrickType};

/// A patient. Never hard-deleted (R-RECORDS): archived instead.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patients")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Human-readable chart number, unique.
    pub chart_number: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Name the patient goes by.
    pub preferred_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<Date>,
    /// Sex assigned at birth.
    pub sex_at_birth: Option<String>,
    /// Pronouns.
    pub pronouns: Option<String>,
    /// Lower-cased email.
    pub email: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
    /// Fitzpatrick skin type.
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// Comma-separated skin concerns.
    pub skin_concerns: String,
    /// Channel the patient prefers.
    pub preferred_channel: Option<ContactChannel>,
    /// Folded "last first" + id ordering key.
    pub sort_name: String,
    /// Folded names, email and phone for search.
    pub search_text: String,
    /// When archived.
    pub archived_at: Option<DateTimeUtc>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked to histories and consents by `patient_id`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
