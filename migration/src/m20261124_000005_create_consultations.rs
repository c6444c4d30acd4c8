//! Consultations, contraindication screenings, informed consents and
//! treatment plans (R-BOOKING, R-SCREENING, R-CONSENT, R-SERIES).
//!
//! Appointment times are stored as Unix seconds (`*_s`, BIGINT) so that
//! overlap checks and orderings compare numbers on every database, never
//! timestamp text.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consultations {
    Table,
    Id,
    PatientId,
    ProviderId,
    StartsAtS,
    EndsAtS,
    Status,
    CancelReason,
    Concerns,
    TreatmentAreas,
    AssessmentNotes,
    Photos,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Screenings {
    Table,
    Id,
    PatientId,
    ConsultationId,
    RecordedBy,
    RecordedAt,
    Answers,
    AbsoluteFindings,
    RelativeFindings,
    Advisories,
    OverrideReason,
}

#[derive(DeriveIden)]
enum InformedConsents {
    Table,
    Id,
    PatientId,
    TemplateVersion,
    SignerName,
    SignedAt,
    WitnessId,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TreatmentPlans {
    Table,
    Id,
    PatientId,
    ConsultationId,
    PlannedSessions,
    IntervalDays,
    Areas,
    Goals,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consultations::Table)
                    .col(uuid(Consultations::Id).primary_key())
                    .col(uuid(Consultations::PatientId))
                    .col(uuid(Consultations::ProviderId))
                    .col(big_integer(Consultations::StartsAtS))
                    .col(big_integer(Consultations::EndsAtS))
                    .col(string_len(Consultations::Status, 16))
                    .col(string_len_null(Consultations::CancelReason, 500))
                    .col(string_len(Consultations::Concerns, 400).default(""))
                    .col(string_len(Consultations::TreatmentAreas, 400).default(""))
                    .col(text(Consultations::AssessmentNotes).default(""))
                    .col(text(Consultations::Photos).default("[]"))
                    .col(timestamp_with_time_zone_null(Consultations::CompletedAt))
                    .col(timestamp_with_time_zone(Consultations::CreatedAt))
                    .col(timestamp_with_time_zone(Consultations::UpdatedAt))
                    .col(integer(Consultations::Version).default(1))
                    .check(
                        Expr::col(Consultations::EndsAtS).gt(Expr::col(Consultations::StartsAtS)),
                    )
                    .foreign_key(&mut fk(
                        "fk_consultations_patient",
                        (Consultations::Table, Consultations::PatientId),
                        (Patients::Table, Patients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_consultations_provider",
                        (Consultations::Table, Consultations::ProviderId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_consultations_provider_start",
                vec![Consultations::ProviderId, Consultations::StartsAtS],
            ),
            ("ix_consultations_patient", vec![Consultations::PatientId]),
            (
                "ix_consultations_start",
                vec![Consultations::StartsAtS, Consultations::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Consultations::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Screenings::Table)
                    .col(uuid(Screenings::Id).primary_key())
                    .col(uuid(Screenings::PatientId))
                    .col(uuid_null(Screenings::ConsultationId))
                    .col(uuid(Screenings::RecordedBy))
                    .col(timestamp_with_time_zone(Screenings::RecordedAt))
                    .col(text(Screenings::Answers))
                    .col(string_len(Screenings::AbsoluteFindings, 400))
                    .col(string_len(Screenings::RelativeFindings, 400))
                    .col(string_len(Screenings::Advisories, 400))
                    .col(text_null(Screenings::OverrideReason))
                    .foreign_key(&mut fk(
                        "fk_screenings_patient",
                        (Screenings::Table, Screenings::PatientId),
                        (Patients::Table, Patients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_screenings_consultation",
                        (Screenings::Table, Screenings::ConsultationId),
                        (Consultations::Table, Consultations::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_screenings_recorded_by",
                        (Screenings::Table, Screenings::RecordedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_screenings_patient", Screenings::PatientId),
            ("ix_screenings_consultation", Screenings::ConsultationId),
            ("ix_screenings_recorded_by", Screenings::RecordedBy),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Screenings::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(InformedConsents::Table)
                    .col(uuid(InformedConsents::Id).primary_key())
                    .col(uuid(InformedConsents::PatientId))
                    .col(string_len(InformedConsents::TemplateVersion, 64))
                    .col(string_len(InformedConsents::SignerName, 200))
                    .col(timestamp_with_time_zone(InformedConsents::SignedAt))
                    .col(uuid_null(InformedConsents::WitnessId))
                    .col(uuid(InformedConsents::RecordedBy))
                    .col(timestamp_with_time_zone(InformedConsents::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_informed_consents_patient",
                        (InformedConsents::Table, InformedConsents::PatientId),
                        (Patients::Table, Patients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_informed_consents_witness",
                        (InformedConsents::Table, InformedConsents::WitnessId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_informed_consents_recorded_by",
                        (InformedConsents::Table, InformedConsents::RecordedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_informed_consents_patient", InformedConsents::PatientId),
            ("ix_informed_consents_witness", InformedConsents::WitnessId),
            (
                "ix_informed_consents_recorded_by",
                InformedConsents::RecordedBy,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(InformedConsents::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(TreatmentPlans::Table)
                    .col(uuid(TreatmentPlans::Id).primary_key())
                    .col(uuid(TreatmentPlans::PatientId))
                    .col(uuid_null(TreatmentPlans::ConsultationId))
                    .col(integer(TreatmentPlans::PlannedSessions))
                    .col(integer(TreatmentPlans::IntervalDays))
                    .col(string_len(TreatmentPlans::Areas, 400))
                    .col(text(TreatmentPlans::Goals).default(""))
                    .col(string_len(TreatmentPlans::Status, 16))
                    .col(uuid(TreatmentPlans::CreatedBy))
                    .col(timestamp_with_time_zone(TreatmentPlans::CreatedAt))
                    .col(timestamp_with_time_zone(TreatmentPlans::UpdatedAt))
                    .col(integer(TreatmentPlans::Version).default(1))
                    .check(Expr::col(TreatmentPlans::PlannedSessions).gt(0))
                    .foreign_key(&mut fk(
                        "fk_treatment_plans_patient",
                        (TreatmentPlans::Table, TreatmentPlans::PatientId),
                        (Patients::Table, Patients::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatment_plans_consultation",
                        (TreatmentPlans::Table, TreatmentPlans::ConsultationId),
                        (Consultations::Table, Consultations::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_treatment_plans_created_by",
                        (TreatmentPlans::Table, TreatmentPlans::CreatedBy),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_treatment_plans_patient", TreatmentPlans::PatientId),
            (
                "ix_treatment_plans_consultation",
                TreatmentPlans::ConsultationId,
            ),
            ("ix_treatment_plans_created_by", TreatmentPlans::CreatedBy),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(TreatmentPlans::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TreatmentPlans::Table.into_iden(),
            InformedConsents::Table.into_iden(),
            Screenings::Table.into_iden(),
            Consultations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
