//! `procedure_amendments`: corrections of signed procedures (R-RECORDS).

use sea_orm::entity::prelude::*;

/// An amendment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "procedure_amendments")]
pub struct Model {
    /// UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The procedure.
    pub procedure_id: Uuid,
    /// Who amended it.
    pub amended_by: Uuid,
    /// When.
    pub amended_at: DateTimeUtc,
    /// Why.
    pub reason: String,
    /// JSON list of `{field, oldValue, newValue}`.
    pub changes: String,
}

/// Linked by id columns.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
