//! The clinic's editable policy (a single row) and the guideline depth range
//! per treatment area, seeded with the defaults from DOMAIN.md.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClinicPolicy {
    Table,
    Id,
    TimeZone,
    MinIntervalDays,
    RecommendedIntervalDays,
    PlannedSessions,
    ScreeningValidDays,
    IsotretinoinWashoutDays,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DepthGuideline {
    Table,
    Area,
    MinDepthUm,
    MaxDepthUm,
}

/// Guideline depth ranges from DOMAIN.md, in micrometres (0.25 mm = 250 µm)
/// so that limits compare exactly.
const DEPTH_GUIDELINES: [(&str, i32, i32); 11] = [
    ("PERIORBITAL", 250, 500),
    ("FOREHEAD", 250, 500),
    ("NOSE", 250, 500),
    ("PERIORAL", 250, 500),
    ("CHEEKS", 500, 1500),
    ("CHIN_JAW", 500, 1500),
    ("NECK", 250, 1000),
    ("DECOLLETE", 250, 1000),
    ("HANDS", 250, 500),
    ("SCARS", 500, 2000),
    ("BODY", 1000, 2500),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClinicPolicy::Table)
                    .col(integer(ClinicPolicy::Id).primary_key())
                    .col(string_len(ClinicPolicy::TimeZone, 64))
                    .col(integer(ClinicPolicy::MinIntervalDays))
                    .col(integer(ClinicPolicy::RecommendedIntervalDays))
                    .col(integer(ClinicPolicy::PlannedSessions))
                    .col(integer(ClinicPolicy::ScreeningValidDays))
                    .col(integer(ClinicPolicy::IsotretinoinWashoutDays))
                    .col(integer(ClinicPolicy::Version).default(1))
                    .col(timestamp_with_time_zone(ClinicPolicy::UpdatedAt))
                    // The policy is a single row: its id is always 1.
                    .check(Expr::col(ClinicPolicy::Id).eq(1))
                    .check(Expr::col(ClinicPolicy::MinIntervalDays).gt(0))
                    .check(
                        Expr::col(ClinicPolicy::RecommendedIntervalDays)
                            .gte(Expr::col(ClinicPolicy::MinIntervalDays)),
                    )
                    .check(Expr::col(ClinicPolicy::PlannedSessions).gt(0))
                    .check(Expr::col(ClinicPolicy::ScreeningValidDays).gt(0))
                    .check(Expr::col(ClinicPolicy::IsotretinoinWashoutDays).gte(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DepthGuideline::Table)
                    .col(string_len(DepthGuideline::Area, 32).primary_key())
                    .col(integer(DepthGuideline::MinDepthUm))
                    .col(integer(DepthGuideline::MaxDepthUm))
                    .check(Expr::col(DepthGuideline::MinDepthUm).gt(0))
                    .check(
                        Expr::col(DepthGuideline::MaxDepthUm)
                            .gte(Expr::col(DepthGuideline::MinDepthUm)),
                    )
                    .to_owned(),
            )
            .await?;

        let seed_policy = Query::insert()
            .into_table(ClinicPolicy::Table)
            .columns([
                ClinicPolicy::Id,
                ClinicPolicy::TimeZone,
                ClinicPolicy::MinIntervalDays,
                ClinicPolicy::RecommendedIntervalDays,
                ClinicPolicy::PlannedSessions,
                ClinicPolicy::ScreeningValidDays,
                ClinicPolicy::IsotretinoinWashoutDays,
                ClinicPolicy::Version,
                ClinicPolicy::UpdatedAt,
            ])
            .values_panic([
                1.into(),
                "America/New_York".into(),
                42.into(),
                56.into(),
                3.into(),
                30.into(),
                182.into(),
                1.into(),
                Expr::current_timestamp(),
            ])
            .to_owned();
        manager.exec_stmt(seed_policy).await?;

        let mut seed_depths = Query::insert()
            .into_table(DepthGuideline::Table)
            .columns([
                DepthGuideline::Area,
                DepthGuideline::MinDepthUm,
                DepthGuideline::MaxDepthUm,
            ])
            .to_owned();
        for (area, min_um, max_um) in DEPTH_GUIDELINES {
            seed_depths.values_panic([area.into(), min_um.into(), max_um.into()]);
        }
        manager.exec_stmt(seed_depths).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DepthGuideline::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ClinicPolicy::Table).to_owned())
            .await
    }
}
