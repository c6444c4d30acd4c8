//! Consultation requests: the public web form and partner booking widgets
//! (R-CONTACT, R-HONEYPOT, R-DEDUP).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsultationRequests {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    Phone,
    PreferredChannel,
    ConsentedChannels,
    ConsentTextVersion,
    ConsentedAt,
    Source,
    SourceDetail,
    Message,
    PreferredTimes,
    Status,
    StaffNotes,
    ContactAttempts,
    LastContactedAt,
    SuggestedPatientId,
    PatientId,
    IdempotencyActor,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsultationRequests::Table)
                    .col(uuid(ConsultationRequests::Id).primary_key())
                    .col(string_len(ConsultationRequests::FirstName, 100))
                    .col(string_len(ConsultationRequests::LastName, 100))
                    .col(string_len_null(ConsultationRequests::Email, 254))
                    .col(string_len_null(ConsultationRequests::Phone, 20))
                    .col(string_len(ConsultationRequests::PreferredChannel, 16))
                    .col(string_len(ConsultationRequests::ConsentedChannels, 64))
                    .col(string_len(ConsultationRequests::ConsentTextVersion, 64))
                    .col(timestamp_with_time_zone(ConsultationRequests::ConsentedAt))
                    .col(string_len(ConsultationRequests::Source, 16))
                    .col(string_len_null(ConsultationRequests::SourceDetail, 200))
                    .col(text_null(ConsultationRequests::Message))
                    .col(string_len_null(ConsultationRequests::PreferredTimes, 500))
                    .col(string_len(ConsultationRequests::Status, 16))
                    .col(text(ConsultationRequests::StaffNotes).default(""))
                    .col(integer(ConsultationRequests::ContactAttempts).default(0))
                    .col(timestamp_with_time_zone_null(
                        ConsultationRequests::LastContactedAt,
                    ))
                    .col(uuid_null(ConsultationRequests::SuggestedPatientId))
                    .col(uuid_null(ConsultationRequests::PatientId))
                    .col(string_len_null(ConsultationRequests::IdempotencyActor, 128))
                    .col(string_len_null(ConsultationRequests::IdempotencyKey, 128))
                    .col(timestamp_with_time_zone(ConsultationRequests::CreatedAt))
                    .col(timestamp_with_time_zone(ConsultationRequests::UpdatedAt))
                    .col(integer(ConsultationRequests::Version).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consultation_requests_suggested_patient")
                            .from(
                                ConsultationRequests::Table,
                                ConsultationRequests::SuggestedPatientId,
                            )
                            .to(Patients::Table, Patients::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consultation_requests_patient")
                            .from(ConsultationRequests::Table, ConsultationRequests::PatientId)
                            .to(Patients::Table, Patients::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_consultation_requests_idempotency")
                    .table(ConsultationRequests::Table)
                    .col(ConsultationRequests::IdempotencyActor)
                    .col(ConsultationRequests::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "ix_consultation_requests_status",
                ConsultationRequests::Status,
            ),
            (
                "ix_consultation_requests_suggested_patient",
                ConsultationRequests::SuggestedPatientId,
            ),
            (
                "ix_consultation_requests_patient",
                ConsultationRequests::PatientId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ConsultationRequests::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsultationRequests::Table).to_owned())
            .await
    }
}
