//! `AuditEvent` and its filter.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ID, InputObject, SimpleObject};

use crate::{
    domain::audit::{ActorKind, AuditAction, AuditOutcome},
    entities::audit_events,
};

/// One entry of the append-only audit trail: who did what to which record,
/// when, from where, and how it ended. It never holds personal or clinical
/// values.
#[derive(SimpleObject, Clone, Debug)]
pub struct AuditEvent {
    /// The entry's id (time-ordered).
    pub id: ID,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Kind of actor.
    pub actor_kind: ActorKind,
    /// The user or API client id.
    pub actor_id: Option<ID>,
    /// The user's role at the time.
    pub actor_role: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// Kind of record, e.g. `User`, `Patient`.
    pub entity_type: Option<String>,
    /// The record's id.
    pub entity_id: Option<ID>,
    /// The patient whose data was touched.
    pub patient_id: Option<ID>,
    /// The GraphQL field or command.
    pub operation: Option<String>,
    /// The request's `x-request-id`.
    pub request_id: Option<String>,
    /// The client's IP address.
    pub client_ip: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
}

impl From<audit_events::Model> for AuditEvent {
    fn from(row: audit_events::Model) -> Self {
        let id = |uuid: uuid::Uuid| ID(uuid.to_string());
        Self {
            id: id(row.id),
            occurred_at: row.occurred_at.into(),
            actor_kind: row.actor_kind,
            actor_id: row.actor_id.map(id),
            actor_role: row.actor_role,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id.map(id),
            patient_id: row.patient_id.map(id),
            operation: row.operation,
            request_id: row.request_id,
            client_ip: row.client_ip,
            outcome: row.outcome,
        }
    }
}

/// Filters of the audit trail.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Only entries of this user or API client.
    pub actor_id: Option<ID>,
    /// Only entries touching this patient.
    pub patient_id: Option<ID>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only entries at or after this time.
    pub from: Option<Timestamp>,
    /// Only entries before this time.
    pub to: Option<Timestamp>,
}

crate::connection_types!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "A page of the audit trail.",
    "An audit entry with its cursor."
);
