//! `device_sessions`: one device and cartridge over one area of a
//! procedure, with its settings.

use sea_orm::entity::prelude::*;

use crate::domain::{
    procedure::{ClinicalEndpoint, NeedlingPattern},
    treatment_area::TreatmentArea,
};

/// A device session. Times are Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_sessions")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The procedure.
    pub procedure_id: Uuid,
    /// The device.
    pub device_id: Uuid,
    /// The cartridge.
    pub cartridge_id: Uuid,
    /// The area needled.
    pub area: TreatmentArea,
    /// Needle depth, micrometres.
    pub depth_um: i32,
    /// Passes over the area.
    pub passes: i32,
    /// Pattern.
    pub pattern: NeedlingPattern,
    /// Speed setting as labelled on the device.
    pub speed_setting: Option<String>,
    /// Glide medium (e.g. hyaluronic acid serum).
    pub glide_medium: Option<String>,
    /// The clinical endpoint reached.
    pub clinical_endpoint: ClinicalEndpoint,
    /// Start, Unix seconds.
    pub started_at_s: i64,
    /// End, Unix seconds.
    pub ended_at_s: i64,
    /// Why the depth is outside the area's guideline range.
    pub depth_override_reason: Option<String>,
    /// The provider who charted it.
    pub recorded_by: Uuid,
    /// Creation time.
    pub created_at: DateTimeUtc,
}

super::core_columns!(
    /// What lists of device sessions read: keys, area, depth, passes, times.
    id: Uuid,
    procedure_id: Uuid,
    device_id: Uuid,
    cartridge_id: Uuid,
    area: TreatmentArea,
    depth_um: i32,
    passes: i32,
    started_at_s: i64,
    ended_at_s: i64,
);

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
