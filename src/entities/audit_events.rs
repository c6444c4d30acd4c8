//! `audit_events`: the append-only audit trail (R-AUDIT).

use sea_orm::entity::prelude::*;

use crate::domain::audit::{ActorKind, AuditAction, AuditOutcome};

/// One audited access. Never holds personal or clinical values.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// UUIDv7 (time-ordered).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: DateTimeUtc,
    /// Kind of actor.
    pub actor_kind: ActorKind,
    /// User or API client id.
    pub actor_id: Option<Uuid>,
    /// The user's role at the time.
    pub actor_role: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// Kind of record.
    pub entity_type: Option<String>,
    /// The record's id.
    pub entity_id: Option<Uuid>,
    /// The patient concerned, if any.
    pub patient_id: Option<Uuid>,
    /// GraphQL field or operation name.
    pub operation: Option<String>,
    /// The request's x-request-id.
    pub request_id: Option<String>,
    /// The client's IP address.
    pub client_ip: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
}

/// Stands alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
