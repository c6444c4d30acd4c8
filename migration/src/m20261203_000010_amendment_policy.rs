//! Who may amend a signed procedure (R-RECORDS, issue 16).
//!
//! Until now any provider could amend any signed procedure. Clinics now
//! choose: `clinic_policy.amendment_policy` is `PERFORMER_AND_SUPERVISORS`
//! (the default: the provider who performed it, and providers an admin
//! marked as supervising with `users.supervises_amendments`) or
//! `ANY_PROVIDER` (the old behaviour, for clinics whose practice it is).
//! Both columns have defaults, so adding them rewrites no rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClinicPolicy {
    Table,
    AmendmentPolicy,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SupervisesAmendments,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .add_column(
                        ColumnDef::new(ClinicPolicy::AmendmentPolicy)
                            .string_len(32)
                            .not_null()
                            .default("PERFORMER_AND_SUPERVISORS"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::SupervisesAmendments)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::SupervisesAmendments)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .drop_column(ClinicPolicy::AmendmentPolicy)
                    .to_owned(),
            )
            .await
    }
}
