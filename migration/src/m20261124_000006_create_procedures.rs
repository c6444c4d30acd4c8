//! Devices, needle cartridges, procedures, their device sessions and the
//! amendments of signed procedures (R-DEVICE, R-CARTRIDGE, R-DEPTH,
//! R-INTERVAL, R-RECORDS).
//!
//! A cartridge is one row per serial (unique index), and the row names at
//! most one procedure: that is what makes a cartridge single-use even when
//! two requests race (R-CARTRIDGE). Times of appointments and device
//! sessions are Unix seconds, like consultations'.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    Kind,
    Manufacturer,
    Model,
    Serial,
    MaxDepthUm,
    NeedleCountMin,
    NeedleCountMax,
    RegulatoryId,
    Status,
    LastServicedOn,
    Notes,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Cartridges {
    Table,
    Id,
    Serial,
    LotNumber,
    NeedleCount,
    NeedleGeometry,
    MaxDepthUm,
    ExpiresOn,
    OpenedAt,
    ProcedureId,
    RegisteredBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    Id,
    PatientId,
    ProviderId,
    TreatmentPlanId,
    StartsAtS,
    EndsAtS,
    Status,
    Areas,
    CancelReason,
    IdempotencyActor,
    IdempotencyKey,
    NumbingProduct,
    NumbingAppliedAt,
    ScreeningId,
    ScreeningOverrideReason,
    StartedAt,
    LipopeptideBooster,
    Moisturizer,
    SunscreenSpf,
    ImmediateResponse,
    ClinicalNotes,
    CompletedAt,
    SignedAt,
    SignedBy,
    SignedRecord,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum DeviceSessions {
    Table,
    Id,
    ProcedureId,
    DeviceId,
    CartridgeId,
    Area,
    DepthUm,
    Passes,
    Pattern,
    SpeedSetting,
    GlideMedium,
    ClinicalEndpoint,
    StartedAtS,
    EndedAtS,
    DepthOverrideReason,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProcedureAmendments {
    Table,
    Id,
    ProcedureId,
    AmendedBy,
    AmendedAt,
    Reason,
    Changes,
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TreatmentPlans {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Screenings {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn indexes(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    list: Vec<(&str, Vec<DynIden>, bool)>,
) -> Result<(), DbErr> {
    let table = table.into_iden();
    for (name, columns, unique) in list {
        let mut index = Index::create();
        index.name(name).table(table.clone());
        for column in columns {
            index.col(column);
        }
        if unique {
            index.unique();
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .col(uuid(Devices::Id).primary_key())
                    .col(string_len(Devices::Kind, 16))
                    .col(string_len(Devices::Manufacturer, 100))
                    .col(string_len(Devices::Model, 100))
                    .col(string_len(Devices::Serial, 128))
                    .col(integer(Devices::MaxDepthUm))
                    .col(integer_null(Devices::NeedleCountMin))
                    .col(integer_null(Devices::NeedleCountMax))
                    .col(string_len_null(Devices::RegulatoryId, 64))
                    .col(string_len(Devices::Status, 16))
                    .col(date_null(Devices::LastServicedOn))
                    .col(text(Devices::Notes).default(""))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::UpdatedAt))
                    .col(integer(Devices::Version).default(1))
                    .check(Expr::col(Devices::MaxDepthUm).gt(0))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Devices::Table,
            vec![
                ("ux_devices_serial", vec![Devices::Serial.into_iden()], true),
                (
                    "ix_devices_status",
                    vec![Devices::Status.into_iden()],
                    false,
                ),
                ("ix_devices_kind", vec![Devices::Kind.into_iden()], false),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Procedures::Table)
                    .col(uuid(Procedures::Id).primary_key())
                    .col(uuid(Procedures::PatientId))
                    .col(uuid(Procedures::ProviderId))
                    .col(uuid_null(Procedures::TreatmentPlanId))
                    .col(big_integer(Procedures::StartsAtS))
                    .col(big_integer(Procedures::EndsAtS))
                    .col(string_len(Procedures::Status, 16))
                    .col(string_len(Procedures::Areas, 400))
                    .col(string_len_null(Procedures::CancelReason, 500))
                    .col(string_len_null(Procedures::IdempotencyActor, 128))
                    .col(string_len_null(Procedures::IdempotencyKey, 128))
                    .col(string_len_null(Procedures::NumbingProduct, 200))
                    .col(timestamp_with_time_zone_null(Procedures::NumbingAppliedAt))
                    .col(uuid_null(Procedures::ScreeningId))
                    .col(text_null(Procedures::ScreeningOverrideReason))
                    .col(timestamp_with_time_zone_null(Procedures::StartedAt))
                    .col(boolean_null(Procedures::LipopeptideBooster))
                    .col(boolean_null(Procedures::Moisturizer))
                    .col(integer_null(Procedures::SunscreenSpf))
                    .col(text_null(Procedures::ImmediateResponse))
                    .col(text(Procedures::ClinicalNotes).default(""))
                    .col(timestamp_with_time_zone_null(Procedures::CompletedAt))
                    .col(timestamp_with_time_zone_null(Procedures::SignedAt))
                    .col(uuid_null(Procedures::SignedBy))
                    .col(text_null(Procedures::SignedRecord))
                    .col(uuid(Procedures::CreatedBy))
                    .col(timestamp_with_time_zone(Procedures::CreatedAt))
                    .col(timestamp_with_time_zone(Procedures::UpdatedAt))
                    .col(integer(Procedures::Version).default(1))
                    .check(Expr::col(Procedures::EndsAtS).gt(Expr::col(Procedures::StartsAtS)))
                    .foreign_key(&mut fk(
                        "fk_procedures_patient",
                        (Procedures::Table, Procedures::PatientId),
                        (Patients::Table, Patients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedures_provider",
                        (Procedures::Table, Procedures::ProviderId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedures_plan",
                        (Procedures::Table, Procedures::TreatmentPlanId),
                        (TreatmentPlans::Table, TreatmentPlans::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedures_screening",
                        (Procedures::Table, Procedures::ScreeningId),
                        (Screenings::Table, Screenings::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedures_signed_by",
                        (Procedures::Table, Procedures::SignedBy),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedures_created_by",
                        (Procedures::Table, Procedures::CreatedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Procedures::Table,
            vec![
                (
                    "ix_procedures_provider_start",
                    vec![
                        Procedures::ProviderId.into_iden(),
                        Procedures::StartsAtS.into_iden(),
                    ],
                    false,
                ),
                (
                    "ix_procedures_patient_start",
                    vec![
                        Procedures::PatientId.into_iden(),
                        Procedures::StartsAtS.into_iden(),
                    ],
                    false,
                ),
                (
                    "ix_procedures_start",
                    vec![
                        Procedures::StartsAtS.into_iden(),
                        Procedures::Id.into_iden(),
                    ],
                    false,
                ),
                (
                    "ix_procedures_plan",
                    vec![Procedures::TreatmentPlanId.into_iden()],
                    false,
                ),
                (
                    "ix_procedures_screening",
                    vec![Procedures::ScreeningId.into_iden()],
                    false,
                ),
                (
                    "ix_procedures_signed_by",
                    vec![Procedures::SignedBy.into_iden()],
                    false,
                ),
                (
                    "ix_procedures_created_by",
                    vec![Procedures::CreatedBy.into_iden()],
                    false,
                ),
                (
                    "ux_procedures_idempotency",
                    vec![
                        Procedures::IdempotencyActor.into_iden(),
                        Procedures::IdempotencyKey.into_iden(),
                    ],
                    true,
                ),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Cartridges::Table)
                    .col(uuid(Cartridges::Id).primary_key())
                    .col(string_len(Cartridges::Serial, 128))
                    .col(string_len(Cartridges::LotNumber, 64))
                    .col(integer(Cartridges::NeedleCount))
                    .col(string_len_null(Cartridges::NeedleGeometry, 100))
                    .col(integer(Cartridges::MaxDepthUm))
                    .col(date(Cartridges::ExpiresOn))
                    .col(timestamp_with_time_zone_null(Cartridges::OpenedAt))
                    .col(uuid_null(Cartridges::ProcedureId))
                    .col(uuid(Cartridges::RegisteredBy))
                    .col(timestamp_with_time_zone(Cartridges::CreatedAt))
                    .check(Expr::col(Cartridges::NeedleCount).between(1, 1000))
                    .check(Expr::col(Cartridges::MaxDepthUm).gt(0))
                    .foreign_key(&mut fk(
                        "fk_cartridges_procedure",
                        (Cartridges::Table, Cartridges::ProcedureId),
                        (Procedures::Table, Procedures::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_cartridges_registered_by",
                        (Cartridges::Table, Cartridges::RegisteredBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            Cartridges::Table,
            vec![
                (
                    "ux_cartridges_serial",
                    vec![Cartridges::Serial.into_iden()],
                    true,
                ),
                (
                    "ix_cartridges_lot",
                    vec![Cartridges::LotNumber.into_iden()],
                    false,
                ),
                (
                    "ix_cartridges_procedure",
                    vec![Cartridges::ProcedureId.into_iden()],
                    false,
                ),
                (
                    "ix_cartridges_registered_by",
                    vec![Cartridges::RegisteredBy.into_iden()],
                    false,
                ),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DeviceSessions::Table)
                    .col(uuid(DeviceSessions::Id).primary_key())
                    .col(uuid(DeviceSessions::ProcedureId))
                    .col(uuid(DeviceSessions::DeviceId))
                    .col(uuid(DeviceSessions::CartridgeId))
                    .col(string_len(DeviceSessions::Area, 32))
                    .col(integer(DeviceSessions::DepthUm))
                    .col(integer(DeviceSessions::Passes))
                    .col(string_len(DeviceSessions::Pattern, 16))
                    .col(string_len_null(DeviceSessions::SpeedSetting, 32))
                    .col(string_len_null(DeviceSessions::GlideMedium, 200))
                    .col(string_len(DeviceSessions::ClinicalEndpoint, 24))
                    .col(big_integer(DeviceSessions::StartedAtS))
                    .col(big_integer(DeviceSessions::EndedAtS))
                    .col(text_null(DeviceSessions::DepthOverrideReason))
                    .col(uuid(DeviceSessions::RecordedBy))
                    .col(timestamp_with_time_zone(DeviceSessions::CreatedAt))
                    .check(
                        Expr::col(DeviceSessions::EndedAtS)
                            .gt(Expr::col(DeviceSessions::StartedAtS)),
                    )
                    .check(Expr::col(DeviceSessions::DepthUm).gt(0))
                    .foreign_key(&mut fk(
                        "fk_device_sessions_procedure",
                        (DeviceSessions::Table, DeviceSessions::ProcedureId),
                        (Procedures::Table, Procedures::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_device_sessions_device",
                        (DeviceSessions::Table, DeviceSessions::DeviceId),
                        (Devices::Table, Devices::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_device_sessions_cartridge",
                        (DeviceSessions::Table, DeviceSessions::CartridgeId),
                        (Cartridges::Table, Cartridges::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_device_sessions_recorded_by",
                        (DeviceSessions::Table, DeviceSessions::RecordedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            DeviceSessions::Table,
            vec![
                (
                    "ix_device_sessions_procedure",
                    vec![DeviceSessions::ProcedureId.into_iden()],
                    false,
                ),
                (
                    "ix_device_sessions_device_start",
                    vec![
                        DeviceSessions::DeviceId.into_iden(),
                        DeviceSessions::StartedAtS.into_iden(),
                    ],
                    false,
                ),
                (
                    "ix_device_sessions_cartridge",
                    vec![DeviceSessions::CartridgeId.into_iden()],
                    false,
                ),
                (
                    "ix_device_sessions_recorded_by",
                    vec![DeviceSessions::RecordedBy.into_iden()],
                    false,
                ),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProcedureAmendments::Table)
                    .col(uuid(ProcedureAmendments::Id).primary_key())
                    .col(uuid(ProcedureAmendments::ProcedureId))
                    .col(uuid(ProcedureAmendments::AmendedBy))
                    .col(timestamp_with_time_zone(ProcedureAmendments::AmendedAt))
                    .col(text(ProcedureAmendments::Reason))
                    .col(text(ProcedureAmendments::Changes))
                    .foreign_key(&mut fk(
                        "fk_procedure_amendments_procedure",
                        (ProcedureAmendments::Table, ProcedureAmendments::ProcedureId),
                        (Procedures::Table, Procedures::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_procedure_amendments_amended_by",
                        (ProcedureAmendments::Table, ProcedureAmendments::AmendedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        indexes(
            manager,
            ProcedureAmendments::Table,
            vec![
                (
                    "ix_procedure_amendments_procedure",
                    vec![ProcedureAmendments::ProcedureId.into_iden()],
                    false,
                ),
                (
                    "ix_procedure_amendments_amended_by",
                    vec![ProcedureAmendments::AmendedBy.into_iden()],
                    false,
                ),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProcedureAmendments::Table.into_iden(),
            DeviceSessions::Table.into_iden(),
            Cartridges::Table.into_iden(),
            Procedures::Table.into_iden(),
            Devices::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
