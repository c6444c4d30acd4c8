//! The follow-up worklist and its mutations.

use async_graphql::{Context, ID, Object};

use super::{
    app_state,
    loaders::Loaders,
    page_cost,
    pagination::{PageRequest, connection, wants_total_count},
    parse_id, parse_optional_id, prefetch, request_context,
    types::follow_up::{
        CancelFollowUpInput, CancelFollowUpPayload, CompleteFollowUpInput, CompleteFollowUpPayload,
        FollowUp, FollowUpConnection, FollowUpFilter, RescheduleFollowUpInput,
        RescheduleFollowUpPayload,
    },
};
use crate::{
    auth::guards::Allow,
    domain::audit::{AuditAction, EntityType},
    services::{
        audit::AuditEvent,
        follow_ups::{self, FollowUpFilter as Filter},
    },
};

/// The follow-up part of the query root.
#[derive(Default)]
pub struct FollowUpQuery;

#[Object]
impl FollowUpQuery {
    /// A follow-up by id (staff, or partners with `follow_ups:read`).
    #[graphql(guard = "FOLLOW_UP_BY_ID_READERS")]
    async fn follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The follow-up's id.")] id: ID,
    ) -> async_graphql::Result<Option<FollowUp>> {
        follow_up_by_id(ctx, &id).await
    }

    /// The follow-up worklist by due time: filter by status, kind,
    /// patient, procedure, due range, overdue, or due today in the clinic's
    /// time zone (staff, or partners with `follow_ups:read`).
    #[graphql(
        guard = "Allow::FOLLOW_UP_READERS",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn follow_ups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only follow-ups matching these filters.")] filter: Option<FollowUpFilter>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<FollowUpConnection> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = Filter {
            status: filter.status,
            kind: filter.kind,
            patient_id: parse_optional_id(filter.patient_id.as_ref(), "filter.patientId")?,
            procedure_id: parse_optional_id(filter.procedure_id.as_ref(), "filter.procedureId")?,
            due_from: filter.due_from.map(Into::into),
            due_to: filter.due_to.map(Into::into),
            overdue: filter.overdue,
            due_today: filter.due_today,
        };
        let (rows, total) = follow_ups::list_follow_ups(&state.db, &filter, &page).await?;
        let events = rows.rows.iter().map(|row| {
            AuditEvent::new(AuditAction::Read)
                .entity(EntityType::FollowUp, Some(row.id))
                .patient(row.patient_id)
        });
        state.audit.record_all(request, "followUps", events).await;
        let cores: Vec<_> = rows
            .rows
            .iter()
            .map(crate::entities::follow_ups::Core::from)
            .collect();
        prefetch::follow_ups(
            ctx.data::<Loaders>()?,
            &prefetch::connection_nodes(ctx),
            cores.iter(),
        )
        .await?;
        Ok(connection(rows, total, follow_ups::cursor_of, FollowUp::from)?.into())
    }
}

/// Who may read one follow-up by id, through the `followUp` root and
/// through `node(id:)` alike: whoever may read the worklist.
pub(crate) const FOLLOW_UP_BY_ID_READERS: Allow = Allow::FOLLOW_UP_READERS;

/// The follow-up with this id, as its root field answers it (its read
/// audited like a worklist row), `None` when there is none; for callers
/// [`FOLLOW_UP_BY_ID_READERS`] admits.
///
/// # Errors
/// The database's error.
pub(crate) async fn follow_up_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<FollowUp>> {
    let state = app_state(ctx)?;
    match follow_ups::find_follow_up(&state.db, parse_id(id, "id")?).await {
        Ok(row) => {
            state
                .audit
                .record(
                    request_context(ctx)?,
                    "followUp",
                    AuditEvent::new(AuditAction::Read)
                        .entity(EntityType::FollowUp, Some(row.id))
                        .patient(row.patient_id),
                )
                .await;
            Ok(Some(FollowUp::from(row)))
        }
        Err(crate::error::AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The follow-up part of the mutation root.
#[derive(Default)]
pub struct FollowUpMutation;

#[Object]
impl FollowUpMutation {
    /// Records a follow-up call: the channel must be one the patient
    /// consents to (CONTACT_NOT_CONSENTED); not reached counts an attempt
    /// (MISSED after the policy's number); an adverse event flags the
    /// procedure and creates an urgent provider review (R-ADVERSE).
    #[graphql(guard = "Allow::FOLLOW_UP_WRITERS")]
    async fn complete_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CompleteFollowUpInput,
    ) -> async_graphql::Result<CompleteFollowUpPayload> {
        let id = parse_id(&input.id, "id")?;
        let version = input.expected_version;
        let state = app_state(ctx)?;
        let outcome =
            follow_ups::complete(&state.db, request_context(ctx)?, id, version, input.into())
                .await?;
        Ok(CompleteFollowUpPayload {
            follow_up: FollowUp::from(outcome.follow_up),
            provider_review: outcome.provider_review.map(FollowUp::from),
        })
    }

    /// Moves a pending follow-up to another time.
    #[graphql(guard = "Allow::FOLLOW_UP_WRITERS")]
    async fn reschedule_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RescheduleFollowUpInput,
    ) -> async_graphql::Result<RescheduleFollowUpPayload> {
        let state = app_state(ctx)?;
        let follow_up = follow_ups::reschedule(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            input.due_at.into(),
        )
        .await?;
        Ok(RescheduleFollowUpPayload {
            follow_up: FollowUp::from(follow_up),
        })
    }

    /// Cancels a pending follow-up, with a reason.
    #[graphql(guard = "Allow::FOLLOW_UP_WRITERS")]
    async fn cancel_follow_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CancelFollowUpInput,
    ) -> async_graphql::Result<CancelFollowUpPayload> {
        let state = app_state(ctx)?;
        let follow_up = follow_ups::cancel(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            input.reason,
        )
        .await?;
        Ok(CancelFollowUpPayload {
            follow_up: FollowUp::from(follow_up),
        })
    }
}
