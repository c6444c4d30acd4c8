//! `cartridges`: sterile, single-use needle cartridges, one row per serial.

use sea_orm::entity::prelude::*;

/// A needle cartridge.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cartridges")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Serial or UDI (unique).
    pub serial: String,
    /// Manufacturing lot, for recalls.
    pub lot_number: String,
    /// Needles in the cartridge (1-1000).
    pub needle_count: i32,
    /// Needle geometry (e.g. "round 36-pin", "nano").
    pub needle_geometry: Option<String>,
    /// Labelled maximum depth, micrometres.
    pub max_depth_um: i32,
    /// Last day it may be used.
    pub expires_on: Date,
    /// When it was opened (first used).
    pub opened_at: Option<DateTimeUtc>,
    /// The one procedure it was used in.
    pub procedure_id: Option<Uuid>,
    /// Who registered it.
    pub registered_by: Uuid,
    /// Creation time.
    pub created_at: DateTimeUtc,
}

super::core_columns!(
    /// What lists of cartridges read: serial, lot, expiry, the procedure.
    id: Uuid,
    serial: String,
    lot_number: String,
    expires_on: Date,
    procedure_id: Option<Uuid>,
);

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
