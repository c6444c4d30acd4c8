//! The treatment areas of the guideline depth table (DOMAIN.md).

use async_graphql::Enum;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// An area of the body that is needled, as named in the clinic's guideline
/// depth table. Each has its own guideline depth range in the clinic policy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enum, DeriveActiveEnum, EnumIter,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum TreatmentArea {
    /// Around the eyes; treated with a roller or a shallow pen setting.
    #[sea_orm(string_value = "PERIORBITAL")]
    Periorbital,
    /// The forehead; guideline depth 0.25-0.5 mm by default.
    #[sea_orm(string_value = "FOREHEAD")]
    Forehead,
    /// The nose; guideline depth 0.25-0.5 mm by default.
    #[sea_orm(string_value = "NOSE")]
    Nose,
    /// The upper lip and around the mouth.
    #[sea_orm(string_value = "PERIORAL")]
    Perioral,
    /// The cheeks; guideline depth 0.5-1.5 mm by default.
    #[sea_orm(string_value = "CHEEKS")]
    Cheeks,
    /// The chin and jawline.
    #[sea_orm(string_value = "CHIN_JAW")]
    ChinJaw,
    /// The neck; guideline depth 0.25-1.0 mm by default.
    #[sea_orm(string_value = "NECK")]
    Neck,
    /// The décolleté (upper chest).
    #[sea_orm(string_value = "DECOLLETE")]
    Decollete,
    /// The backs of the hands.
    #[sea_orm(string_value = "HANDS")]
    Hands,
    /// Focal treatment of acne or atrophic scars.
    #[sea_orm(string_value = "SCARS")]
    Scars,
    /// Abdomen, thighs or arms, typically for stretch marks.
    #[sea_orm(string_value = "BODY")]
    Body,
}
