//! `devices`: the clinic's micro-needling pens and rollers.

use sea_orm::entity::prelude::*;

use crate::domain::device::{DeviceKind, DeviceStatus};

/// A device.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Pen or roller.
    pub kind: DeviceKind,
    /// Manufacturer.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Serial number (unique).
    pub serial: String,
    /// Labelled maximum needle depth, micrometres.
    pub max_depth_um: i32,
    /// Fewest needles of the cartridges it takes.
    pub needle_count_min: Option<i32>,
    /// Most needles of the cartridges it takes.
    pub needle_count_max: Option<i32>,
    /// Regulatory clearance (e.g. FDA 510(k) number).
    pub regulatory_id: Option<String>,
    /// Whether it may be used.
    pub status: DeviceStatus,
    /// Last service date.
    pub last_serviced_on: Option<Date>,
    /// Notes.
    pub notes: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Optimistic-locking version.
    pub version: i32,
}

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
