//! Consultation requests: the public form and the front desk's worklist.

use async_graphql::{Context, ID, Object};

use super::{
    app_state, page_cost,
    pagination::{KeysetCursor, PageRequest, connection, wants_total_count},
    parse_id, request_context,
    types::{
        intake::{
            ConsultationRequest, ConsultationRequestConnection, ConsultationRequestFilter,
            ConvertConsultationRequestInput, ConvertConsultationRequestPayload,
            SubmitConsultationRequestInput, SubmitConsultationRequestPayload,
            UpdateConsultationRequestInput, UpdateConsultationRequestPayload,
        },
        patient::Patient,
    },
};
use crate::{
    auth::{
        actor::{Actor, RequestContext},
        guards::Allow,
    },
    domain::{
        audit::{AuditAction, EntityType},
        scope::ApiScope,
    },
    error::AppError,
    services::{
        audit::AuditEvent,
        intake::{self, RequestChanges, Submission},
    },
    state::AppState,
};

/// What every accepted submission is told.
const THANK_YOU: &str = "Thank you! The clinic will contact you on your preferred channel.";

async fn audit_read(
    state: &AppState,
    request: &RequestContext,
    operation: &str,
    row: &crate::entities::consultation_requests::Model,
) {
    let mut event =
        AuditEvent::new(AuditAction::Read).entity(EntityType::ConsultationRequest, Some(row.id));
    if let Some(patient) = row.patient_id {
        event = event.patient(patient);
    }
    state.audit.record(request, operation, event).await;
}

/// The consultation-request part of the query root.
#[derive(Default)]
pub struct IntakeQuery;

#[Object]
impl IntakeQuery {
    /// A consultation request by id.
    #[graphql(guard = "CONSULTATION_REQUEST_READERS")]
    async fn consultation_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request's id.")] id: ID,
    ) -> async_graphql::Result<Option<ConsultationRequest>> {
        consultation_request_by_id(ctx, &id).await
    }

    /// The front desk's worklist of requests, newest first; SPAM only when
    /// filtered for.
    #[graphql(
        guard = "Allow::STAFF",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn consultation_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests matching these filters.")] filter: Option<
            ConsultationRequestFilter,
        >,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ConsultationRequestConnection> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let status = filter.and_then(|filter| filter.status);
        let (rows, total) = intake::list_requests(&state.db, status, &page).await?;
        for row in &rows.rows {
            audit_read(state, request, "consultationRequests", row).await;
        }
        Ok(connection(
            rows,
            total,
            |row| KeysetCursor::new(intake::REQUESTS_NEWEST_FIRST, &row.id),
            ConsultationRequest,
        )?
        .into())
    }
}

/// The consultation-request part of the mutation root.
#[derive(Default)]
pub struct IntakeMutation;

#[Object]
impl IntakeMutation {
    /// Submits a consultation request: public (no token), from a partner
    /// with `consultation_requests:write`, or by staff taking a call.
    /// Consent to be contacted is required (R-CONTACT). Public submissions
    /// are rate-limited per client IP (RATE_LIMITED).
    async fn submit_consultation_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SubmitConsultationRequestInput,
    ) -> async_graphql::Result<SubmitConsultationRequestPayload> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        match (&request.actor, request.credential_problem) {
            (Actor::Partner(partner), _)
                if !partner
                    .scopes
                    .contains(&ApiScope::ConsultationRequestsWrite) =>
            {
                return Err(AppError::Forbidden.into());
            }
            (Actor::Anonymous, Some(problem)) => {
                return Err(AppError::Unauthenticated(problem.message()).into());
            }
            _ => {}
        }
        let submission = Submission {
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            phone: input.phone,
            preferred_channel: Some(input.preferred_channel),
            consented_channels: input.consented_channels,
            consent_text_version: input.consent_text_version,
            message: input.message,
            preferred_times: input.preferred_times,
            honeypot: input.honeypot,
            idempotency_key: input.idempotency_key,
        };
        let id = intake::submit(
            &state.db,
            request,
            state.config.public_submissions_per_window,
            submission,
        )
        .await?;
        Ok(SubmitConsultationRequestPayload {
            request_id: ID(id.to_string()),
            message: THANK_YOU.to_owned(),
        })
    }

    /// Updates a request's status, notes or call-back attempts.
    #[graphql(guard = "Allow::STAFF")]
    async fn update_consultation_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateConsultationRequestInput,
    ) -> async_graphql::Result<UpdateConsultationRequestPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let changes = RequestChanges {
            status: input.status,
            staff_notes: input.staff_notes,
            contact_attempted: input.contact_attempted,
        };
        let row = intake::update_request(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            changes,
        )
        .await?;
        Ok(UpdateConsultationRequestPayload {
            consultation_request: ConsultationRequest(row),
        })
    }

    /// Converts a request into a patient (new, or the given / suggested
    /// existing one) and carries the contact consent over.
    #[graphql(guard = "Allow::STAFF")]
    async fn convert_consultation_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ConvertConsultationRequestInput,
    ) -> async_graphql::Result<ConvertConsultationRequestPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let link = input
            .patient_id
            .as_ref()
            .map(|id| parse_id(id, "patientId"))
            .transpose()?;
        let (row, patient) = intake::convert_request(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            link,
            input.use_suggested_patient,
        )
        .await?;
        Ok(ConvertConsultationRequestPayload {
            consultation_request: ConsultationRequest(row),
            patient: Patient::from(patient),
        })
    }
}

/// Who may read one consultation request by id, through the `consultationRequest` root and through
/// `node(id:)` alike.
pub(crate) const CONSULTATION_REQUEST_READERS: Allow = Allow::STAFF;

/// The consultation request with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`CONSULTATION_REQUEST_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn consultation_request_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<ConsultationRequest>> {
    let state = app_state(ctx)?;
    let id = parse_id(id, "id")?;
    match intake::find_request(&state.db, id).await {
        Ok(row) => {
            audit_read(state, request_context(ctx)?, "consultationRequest", &row).await;
            Ok(Some(ConsultationRequest(row)))
        }
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
