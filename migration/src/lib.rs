//! Database migrations for dermagraph, one file per change.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL,
//! so they stick to portable column types: enums are stored as strings and
//! each `alter_table` call makes a single alteration (a SQLite limitation).

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_clinic_policy;
mod m20261124_000002_create_identity_and_audit;
mod m20261124_000003_create_patients;
mod m20261124_000004_create_consultation_requests;
mod m20261124_000005_create_consultations;
mod m20261124_000006_create_procedures;
mod m20261124_000007_create_follow_ups;
mod m20261124_000008_create_webhooks;
mod m20261201_000009_audit_action_index_without_reads;
mod m20261203_000010_amendment_policy;
mod m20261203_000011_procedure_booked_start;

/// Every migration of the application, in the order they apply.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_clinic_policy::Migration),
            Box::new(m20261124_000002_create_identity_and_audit::Migration),
            Box::new(m20261124_000003_create_patients::Migration),
            Box::new(m20261124_000004_create_consultation_requests::Migration),
            Box::new(m20261124_000005_create_consultations::Migration),
            Box::new(m20261124_000006_create_procedures::Migration),
            Box::new(m20261124_000007_create_follow_ups::Migration),
            Box::new(m20261124_000008_create_webhooks::Migration),
            Box::new(m20261201_000009_audit_action_index_without_reads::Migration),
            Box::new(m20261203_000010_amendment_policy::Migration),
            Box::new(m20261203_000011_procedure_booked_start::Migration),
        ]
    }
}
