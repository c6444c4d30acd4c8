//! The audit log's index by action leaves out reads.
//!
//! Reads are nearly every audit row (a 50-patient page records about 160),
//! all with the same action, so the plain index on `action` grew a posting
//! list that every read's insert rewrote: about a third of the cost of
//! storing a read's audit row. Listing reads newest first walks the primary
//! key (UUIDv7, time-ordered) and needs no index on `action`; the rare
//! actions (logins, changes, refusals) keep theirs, in the listing's order.
//!
//! Deploying: the new index is built inside the migration's transaction,
//! which holds off audit writes (and so audited requests) while it scans
//! the log; a partial index of the rare actions builds quickly even on a
//! large log, but on a log of many millions of rows build it first by hand
//! (`CREATE INDEX CONCURRENTLY ix_audit_events_action_except_reads ON
//! audit_events (action, id) WHERE action <> 'READ'`): the migration then
//! finds it and only drops the old one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Action,
}

const OLD_INDEX: &str = "ix_audit_events_action";
const NEW_INDEX: &str = "ix_audit_events_action_except_reads";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(OLD_INDEX)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_INDEX)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Action)
                    .col(AuditEvents::Id)
                    .and_where(Expr::col(AuditEvents::Action).ne("READ"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(NEW_INDEX)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_INDEX)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Action)
                    .to_owned(),
            )
            .await
    }
}
