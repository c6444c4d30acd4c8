//! Staff accounts, refresh-token sessions, partner API clients, login
//! throttling, the append-only audit trail, and the session lifetime policy.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    Role,
    Active,
    LicenseNumber,
    LicenseKind,
    LicenseIssuingState,
    LicenseExpiresOn,
    PasswordHash,
    TokenVersion,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    TokenVersion,
    IssuedAt,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    Name,
    Scopes,
    KeyPrefix,
    SecretHash,
    Active,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
    Version,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    ActorKind,
    ActorId,
    ActorRole,
    Action,
    EntityType,
    EntityId,
    PatientId,
    Operation,
    RequestId,
    ClientIp,
    Outcome,
}

#[derive(DeriveIden)]
enum ClinicPolicy {
    Table,
    SessionLifetimeHours,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::DisplayName, 200))
                    .col(string_len(Users::Role, 16))
                    .col(boolean(Users::Active))
                    .col(string_len_null(Users::LicenseNumber, 64))
                    .col(string_len_null(Users::LicenseKind, 32))
                    .col(string_len_null(Users::LicenseIssuingState, 64))
                    .col(date_null(Users::LicenseExpiresOn))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(integer(Users::TokenVersion).default(0))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(integer(Users::Version).default(1))
                    .to_owned(),
            )
            .await?;
        // Emails are stored lower-cased, so this index is case-insensitive.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_email")
                    .table(Users::Table)
                    .col(Users::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_role")
                    .table(Users::Table)
                    .col(Users::Role)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(uuid(RefreshTokens::Id).primary_key())
                    .col(uuid(RefreshTokens::UserId))
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(string_len(RefreshTokens::TokenHash, 64))
                    .col(integer(RefreshTokens::TokenVersion))
                    .col(timestamp_with_time_zone(RefreshTokens::IssuedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_user")
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            ("ux_refresh_tokens_hash", RefreshTokens::TokenHash, true),
            ("ix_refresh_tokens_user", RefreshTokens::UserId, false),
            ("ix_refresh_tokens_family", RefreshTokens::FamilyId, false),
        ] {
            let mut index = Index::create();
            index.name(name).table(RefreshTokens::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ApiClients::Table)
                    .col(uuid(ApiClients::Id).primary_key())
                    .col(string_len(ApiClients::Name, 200))
                    .col(string_len(ApiClients::Scopes, 1000))
                    .col(string_len(ApiClients::KeyPrefix, 32))
                    .col(string_len(ApiClients::SecretHash, 64))
                    .col(boolean(ApiClients::Active))
                    .col(uuid(ApiClients::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiClients::RevokedAt))
                    .col(integer(ApiClients::Version).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_clients_created_by")
                            .from(ApiClients::Table, ApiClients::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_clients_key_prefix")
                    .table(ApiClients::Table)
                    .col(ApiClients::KeyPrefix)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_clients_created_by")
                    .table(ApiClients::Table)
                    .col(ApiClients::CreatedBy)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(string_len(LoginThrottle::Key, 300).primary_key())
                    .col(integer(LoginThrottle::Failures))
                    .col(timestamp_with_time_zone(LoginThrottle::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .col(string_len(AuditEvents::ActorKind, 16))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len_null(AuditEvents::ActorRole, 16))
                    .col(string_len(AuditEvents::Action, 32))
                    .col(string_len_null(AuditEvents::EntityType, 64))
                    .col(uuid_null(AuditEvents::EntityId))
                    .col(uuid_null(AuditEvents::PatientId))
                    .col(string_len_null(AuditEvents::Operation, 128))
                    .col(string_len_null(AuditEvents::RequestId, 128))
                    .col(string_len_null(AuditEvents::ClientIp, 64))
                    .col(string_len(AuditEvents::Outcome, 16))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_audit_events_occurred_at", AuditEvents::OccurredAt),
            ("ix_audit_events_actor", AuditEvents::ActorId),
            ("ix_audit_events_patient", AuditEvents::PatientId),
            ("ix_audit_events_action", AuditEvents::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        make_audit_append_only(manager).await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .add_column(integer(ClinicPolicy::SessionLifetimeHours).default(12))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ClinicPolicy::Table)
                    .drop_column(ClinicPolicy::SessionLifetimeHours)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE")
                .await?;
        }
        for table in [
            AuditEvents::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            ApiClients::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// R-AUDIT: the audit log is append-only. Triggers make the database itself
/// refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE), whoever asks.
async fn make_audit_append_only(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    match manager.get_database_backend() {
        DbBackend::Postgres => {
            connection
                .execute_unprepared(
                    r"CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
                    BEGIN
                        RAISE EXCEPTION 'audit_events is append-only';
                    END;
                    $$ LANGUAGE plpgsql",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events \
                     FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
                )
                .await?;
            connection
                .execute_unprepared(
                    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
                     FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
                )
                .await?;
        }
        _ => {
            for (name, event) in [
                ("audit_events_no_update", "UPDATE"),
                ("audit_events_no_delete", "DELETE"),
            ] {
                connection
                    .execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {event} ON audit_events \
                         BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
                    ))
                    .await?;
            }
        }
    }
    Ok(())
}
