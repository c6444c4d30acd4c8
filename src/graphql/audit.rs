//! Reading the audit trail (admins only).

use async_graphql::{Context, Object};

use super::{
    app_state, page_cost,
    pagination::{KeysetCursor, PageRequest, connection, wants_total_count},
    parse_id,
    types::audit::{AuditEvent, AuditEventConnection, AuditEventFilter},
};
use crate::{
    auth::guards::Allow,
    services::audit::{AUDIT_NEWEST_FIRST, AuditFilter, list_audit_events},
};

/// The audit part of the query root.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, newest first: every read and write of patient data,
    /// every sign-in and every refusal (admins only).
    #[graphql(
        guard = "Allow::ADMIN",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries matching these filters.")] filter: Option<AuditEventFilter>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let state = app_state(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            actor_id: filter
                .actor_id
                .as_ref()
                .map(|id| parse_id(id, "filter.actorId"))
                .transpose()?,
            patient_id: filter
                .patient_id
                .as_ref()
                .map(|id| parse_id(id, "filter.patientId"))
                .transpose()?,
            action: filter.action,
            from: filter.from.map(Into::into),
            to: filter.to.map(Into::into),
        };
        let (rows, total) = list_audit_events(&state.db, &filter, &page).await?;
        Ok(connection(
            rows,
            total,
            |row| KeysetCursor::new(AUDIT_NEWEST_FIRST, &row.id),
            AuditEvent::from,
        )?
        .into())
    }
}
