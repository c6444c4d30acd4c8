//! Follow-ups after a procedure (R-FOLLOWUP), the adverse-event flag on
//! procedures (R-ADVERSE) and the policy's number of call attempts.
//!
//! Due times are Unix seconds (`due_at_s`), so the worklist's "due today"
//! and "overdue" compare numbers on both databases.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FollowUps {
    Table,
    Id,
    ProcedureId,
    PatientId,
    Kind,
    DueAtS,
    Channel,
    Status,
    Attempts,
    LastAttemptAt,
    ChannelUsed,
    Symptoms,
    NsaidTaken,
    AdverseKind,
    AdverseSeverity,
    AdverseDescription,
    Notes,
    CancelReason,
    CompletedAt,
    CompletedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    Id,
    AdverseFlaggedAt,
}

#[derive(DeriveIden)]
enum ClinicPolicy {
    Table,
    FollowUpMaxAttempts,
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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FollowUps::Table)
                    .col(uuid(FollowUps::Id).primary_key())
                    .col(uuid(FollowUps::ProcedureId))
                    .col(uuid(FollowUps::PatientId))
                    .col(string_len(FollowUps::Kind, 24))
                    .col(big_integer(FollowUps::DueAtS))
                    .col(string_len(FollowUps::Channel, 16))
                    .col(string_len(FollowUps::Status, 16))
                    .col(integer(FollowUps::Attempts).default(0))
                    .col(timestamp_with_time_zone_null(FollowUps::LastAttemptAt))
                    .col(string_len_null(FollowUps::ChannelUsed, 16))
                    .col(string_len(FollowUps::Symptoms, 400).default(""))
                    .col(boolean_null(FollowUps::NsaidTaken))
                    .col(string_len_null(FollowUps::AdverseKind, 32))
                    .col(string_len_null(FollowUps::AdverseSeverity, 16))
                    .col(text_null(FollowUps::AdverseDescription))
                    .col(text(FollowUps::Notes).default(""))
                    .col(string_len_null(FollowUps::CancelReason, 500))
                    .col(timestamp_with_time_zone_null(FollowUps::CompletedAt))
                    .col(uuid_null(FollowUps::CompletedBy))
                    .col(timestamp_with_time_zone(FollowUps::CreatedAt))
                    .col(timestamp_with_time_zone(FollowUps::UpdatedAt))
                    .col(integer(FollowUps::Version).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follow_ups_procedure")
                            .from(FollowUps::Table, FollowUps::ProcedureId)
                            .to(Procedures::Table, Procedures::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follow_ups_patient")
                            .from(FollowUps::Table, FollowUps::PatientId)
                            .to(Patients::Table, Patients::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_follow_ups_completed_by")
                            .from(FollowUps::Table, FollowUps::CompletedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ix_follow_ups_due", vec![FollowUps::DueAtS, FollowUps::Id]),
            (
                "ix_follow_ups_status_due",
                vec![FollowUps::Status, FollowUps::DueAtS],
            ),
            ("ix_follow_ups_procedure", vec![FollowUps::ProcedureId]),
            ("ix_follow_ups_patient", vec![FollowUps::PatientId]),
            ("ix_follow_ups_completed_by", vec![FollowUps::CompletedBy]),
        ] {
            let mut index = Index::create();
            index.name(name).table(FollowUps::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Procedures::Table)
                    .add_column(timestamp_with_time_zone_null(Procedures::AdverseFlaggedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .add_column(integer(ClinicPolicy::FollowUpMaxAttempts).default(3))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .drop_column(ClinicPolicy::FollowUpMaxAttempts)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Procedures::Table)
                    .drop_column(Procedures::AdverseFlaggedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(FollowUps::Table).to_owned())
            .await
    }
}
