//! Patients, their medical history (kept apart: clinical data), and the
//! history of their consent to be contacted per channel.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
    ChartNumber,
    FirstName,
    LastName,
    PreferredName,
    DateOfBirth,
    SexAtBirth,
    Pronouns,
    Email,
    Phone,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    PostalCode,
    Country,
    FitzpatrickType,
    SkinConcerns,
    PreferredChannel,
    SortName,
    SearchText,
    ArchivedAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum MedicalHistories {
    Table,
    PatientId,
    Allergies,
    Medications,
    IsotretinoinLastDose,
    TakesAnticoagulants,
    Conditions,
    Notes,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ContactConsents {
    Table,
    Id,
    PatientId,
    Channel,
    Granted,
    RecordedAt,
    Source,
    ConsentTextVersion,
    RecordedBy,
}

#[derive(DeriveIden)]
enum ClinicPolicy {
    Table,
    MinimumPatientAge,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patients::Table)
                    .col(uuid(Patients::Id).primary_key())
                    .col(string_len(Patients::ChartNumber, 16))
                    .col(string_len(Patients::FirstName, 100))
                    .col(string_len(Patients::LastName, 100))
                    .col(string_len_null(Patients::PreferredName, 100))
                    .col(date_null(Patients::DateOfBirth))
                    .col(string_len_null(Patients::SexAtBirth, 16))
                    .col(string_len_null(Patients::Pronouns, 32))
                    .col(string_len_null(Patients::Email, 254))
                    .col(string_len_null(Patients::Phone, 20))
                    .col(string_len_null(Patients::AddressLine1, 200))
                    .col(string_len_null(Patients::AddressLine2, 200))
                    .col(string_len_null(Patients::City, 100))
                    .col(string_len_null(Patients::Region, 100))
                    .col(string_len_null(Patients::PostalCode, 20))
                    .col(string_len_null(Patients::Country, 2))
                    .col(string_len_null(Patients::FitzpatrickType, 4))
                    .col(string_len(Patients::SkinConcerns, 400).default(""))
                    .col(string_len_null(Patients::PreferredChannel, 16))
                    .col(string_len(Patients::SortName, 210))
                    .col(string_len(Patients::SearchText, 800))
                    .col(timestamp_with_time_zone_null(Patients::ArchivedAt))
                    .col(timestamp_with_time_zone(Patients::CreatedAt))
                    .col(timestamp_with_time_zone(Patients::UpdatedAt))
                    .col(integer(Patients::Version).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_patients_chart_number")
                    .table(Patients::Table)
                    .col(Patients::ChartNumber)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_patients_sort_name",
                vec![Patients::SortName, Patients::Id],
            ),
            ("ix_patients_email", vec![Patients::Email]),
            ("ix_patients_phone", vec![Patients::Phone]),
            ("ix_patients_archived_at", vec![Patients::ArchivedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Patients::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(MedicalHistories::Table)
                    .col(uuid(MedicalHistories::PatientId).primary_key())
                    .col(text(MedicalHistories::Allergies).default(""))
                    .col(text(MedicalHistories::Medications).default(""))
                    .col(date_null(MedicalHistories::IsotretinoinLastDose))
                    .col(boolean(MedicalHistories::TakesAnticoagulants).default(false))
                    .col(string_len(MedicalHistories::Conditions, 1000).default(""))
                    .col(text(MedicalHistories::Notes).default(""))
                    .col(timestamp_with_time_zone(MedicalHistories::UpdatedAt))
                    .col(integer(MedicalHistories::Version).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_medical_histories_patient")
                            .from(MedicalHistories::Table, MedicalHistories::PatientId)
                            .to(Patients::Table, Patients::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ContactConsents::Table)
                    .col(uuid(ContactConsents::Id).primary_key())
                    .col(uuid(ContactConsents::PatientId))
                    .col(string_len(ContactConsents::Channel, 16))
                    .col(boolean(ContactConsents::Granted))
                    .col(timestamp_with_time_zone(ContactConsents::RecordedAt))
                    .col(string_len(ContactConsents::Source, 200))
                    .col(string_len_null(ContactConsents::ConsentTextVersion, 64))
                    .col(uuid_null(ContactConsents::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_contact_consents_patient")
                            .from(ContactConsents::Table, ContactConsents::PatientId)
                            .to(Patients::Table, Patients::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_contact_consents_patient")
                    .table(ContactConsents::Table)
                    .col(ContactConsents::PatientId)
                    .col(ContactConsents::Channel)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .add_column(integer(ClinicPolicy::MinimumPatientAge).default(18))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .drop_column(ClinicPolicy::MinimumPatientAge)
                    .to_owned(),
            )
            .await?;
        for table in [
            ContactConsents::Table.into_iden(),
            MedicalHistories::Table.into_iden(),
            Patients::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
