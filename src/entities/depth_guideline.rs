//! `depth_guideline`: the clinic's guideline needle depth range per area.

use sea_orm::entity::prelude::*;

use crate::domain::treatment_area::TreatmentArea;

/// One area's guideline range, in micrometres.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "depth_guideline")]
pub struct Model {
    /// The treatment area.
    #[sea_orm(primary_key, auto_increment = false)]
    pub area: TreatmentArea,
    /// Shallowest guideline depth, µm.
    pub min_depth_um: i32,
    /// Deepest guideline depth, µm.
    pub max_depth_um: i32,
}

/// The guideline rows relate to no other table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
