//! A procedure keeps the time it was booked for (issue 17).
//!
//! `startProcedure` moves `starts_at_s`/`ends_at_s` to when the session
//! really begins, so that R-INTERVAL and R-BOOKING hold against the true
//! time; the booked time was lost with it, and with it punctuality and
//! no-show reports. `scheduled_starts_at_s` keeps it: set at booking and
//! rescheduling, never at start. Existing rows take their current start
//! (for those not started yet it is the booked time; for the others the
//! booked time is unknown).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Procedures {
    Table,
    StartsAtS,
    ScheduledStartsAtS,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Procedures::Table)
                    .add_column(
                        ColumnDef::new(Procedures::ScheduledStartsAtS)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Procedures::Table)
                    .value(
                        Procedures::ScheduledStartsAtS,
                        Expr::col(Procedures::StartsAtS),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Procedures::Table)
                    .drop_column(Procedures::ScheduledStartsAtS)
                    .to_owned(),
            )
            .await
    }
}
