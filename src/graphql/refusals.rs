//! R-AUDIT for refusals: every FORBIDDEN or UNAUTHENTICATED in an answer
//! (a guard at the root or on a nested field, or an object-level check in
//! a service) leaves an ACCESS_DENIED row naming the field's path, over
//! HTTP and over WebSocket alike.

use async_graphql::{PathSegment, ServerError};

use crate::{
    auth::actor::RequestContext,
    domain::audit::{AuditAction, AuditOutcome},
    error::{ErrorCode, carries_code},
    services::audit::{AuditEvent, AuditSink},
};

/// Records an ACCESS_DENIED row for each refusal among `errors`.
pub async fn audit_refusals(audit: &AuditSink, context: &RequestContext, errors: &[ServerError]) {
    for error in errors {
        let refused = carries_code(error, ErrorCode::Forbidden)
            || carries_code(error, ErrorCode::Unauthenticated);
        if !refused || error.path.is_empty() {
            continue;
        }
        let operation = error
            .path
            .iter()
            .filter_map(|segment| match segment {
                PathSegment::Field(name) => Some(name.as_str()),
                PathSegment::Index(_) => None,
            })
            .collect::<Vec<_>>()
            .join(".");
        audit
            .record(
                context,
                &operation,
                AuditEvent::new(AuditAction::AccessDenied).outcome(AuditOutcome::Denied),
            )
            .await;
    }
}
