//! Consultations, screenings and informed consents.

use async_graphql::{Context, ID, Object};

use super::{
    app_state,
    loaders::Loaders,
    page_cost,
    pagination::{PageRequest, connection, wants_total_count},
    parse_id, parse_optional_id, prefetch, request_context,
    types::consultation::{
        CancelConsultationInput, CancelConsultationPayload, CompleteConsultationInput,
        CompleteConsultationPayload, Consultation, ConsultationConnection, ConsultationFilter,
        InformedConsent, MarkConsultationNoShowInput, MarkConsultationNoShowPayload,
        RecordScreeningInput, RecordScreeningPayload, ScheduleConsultationInput,
        ScheduleConsultationPayload, Screening, SignConsentInput, SignConsentPayload,
        TreatmentPlan,
    },
};
use crate::{
    auth::guards::Allow,
    domain::{
        audit::{AuditAction, EntityType},
        staff::Role,
    },
    error::AppError,
    services::{
        audit::AuditEvent,
        consultations::{self, ConsultationFilter as Filter},
    },
};

const PROVIDERS: Allow = Allow::staff(&[Role::Provider]);

/// The consultation part of the query root.
#[derive(Default)]
pub struct ConsultationQuery;

#[Object]
impl ConsultationQuery {
    /// A consultation by id.
    #[graphql(guard = "CONSULTATION_READERS")]
    async fn consultation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consultation's id.")] id: ID,
    ) -> async_graphql::Result<Option<Consultation>> {
        consultation_by_id(ctx, &id).await
    }

    /// Consultations by start time, filtered by patient, provider, status
    /// and time range.
    #[graphql(
        guard = "Allow::SCHEDULE_READERS",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only consultations matching these filters.")] filter: Option<
            ConsultationFilter,
        >,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ConsultationConnection> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = Filter {
            patient_id: parse_optional_id(filter.patient_id.as_ref(), "filter.patientId")?,
            provider_id: parse_optional_id(filter.provider_id.as_ref(), "filter.providerId")?,
            status: filter.status,
            from: filter.from.map(Into::into),
            to: filter.to.map(Into::into),
        };
        let (rows, total) = consultations::list_consultations(&state.db, &filter, &page).await?;
        let events = rows.rows.iter().map(|row| {
            AuditEvent::new(AuditAction::Read)
                .entity(EntityType::Consultation, Some(row.id))
                .patient(row.patient_id)
        });
        state
            .audit
            .record_all(request, "consultations", events)
            .await;
        let cores: Vec<_> = rows
            .rows
            .iter()
            .map(crate::entities::consultations::Core::from)
            .collect();
        prefetch::consultations(
            ctx.data::<Loaders>()?,
            &prefetch::connection_nodes(ctx),
            cores.iter(),
        )
        .await?;
        Ok(connection(rows, total, consultations::cursor_of, Consultation::from)?.into())
    }
}

/// The consultation part of the mutation root.
#[derive(Default)]
pub struct ConsultationMutation;

#[Object]
impl ConsultationMutation {
    /// Books a consultation. The provider must be free (R-BOOKING, also
    /// under concurrent requests: DOUBLE_BOOKED) and the patient not
    /// archived.
    #[graphql(guard = "Allow::STAFF")]
    async fn schedule_consultation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ScheduleConsultationInput,
    ) -> async_graphql::Result<ScheduleConsultationPayload> {
        let state = app_state(ctx)?;
        let consultation = consultations::schedule(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.patient_id, "patientId")?,
            parse_id(&input.provider_id, "providerId")?,
            input.starts_at.into(),
            input.duration_minutes,
        )
        .await?;
        Ok(ScheduleConsultationPayload {
            consultation: Consultation::from(consultation),
        })
    }

    /// Cancels a scheduled consultation, with a reason.
    #[graphql(guard = "Allow::STAFF")]
    async fn cancel_consultation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CancelConsultationInput,
    ) -> async_graphql::Result<CancelConsultationPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let consultation = consultations::cancel(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            &input.reason,
        )
        .await?;
        Ok(CancelConsultationPayload {
            consultation: Consultation::from(consultation),
        })
    }

    /// Records that the patient did not come.
    #[graphql(guard = "Allow::STAFF")]
    async fn mark_consultation_no_show(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: MarkConsultationNoShowInput,
    ) -> async_graphql::Result<MarkConsultationNoShowPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let consultation = consultations::mark_no_show(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
        )
        .await?;
        Ok(MarkConsultationNoShowPayload {
            consultation: Consultation::from(consultation),
        })
    }

    /// Completes a consultation (providers): assessment, screening and,
    /// when asked, a treatment plan, in one transaction. A plan needs a
    /// screening that clears treatment (CONTRAINDICATED otherwise).
    #[graphql(guard = "PROVIDERS")]
    async fn complete_consultation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CompleteConsultationInput,
    ) -> async_graphql::Result<CompleteConsultationPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let (consultation, screening, plan) = consultations::complete(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            input.assessment.into(),
            input.screening.into(),
            input.override_reason,
            input.treatment_plan.map(Into::into),
        )
        .await?;
        Ok(CompleteConsultationPayload {
            consultation: Consultation::from(consultation),
            screening: Screening::from(screening),
            treatment_plan: plan.map(TreatmentPlan::from),
        })
    }

    /// Records a contraindication screening (providers). It must be fresh
    /// (policy `screeningValidDays`) when a procedure starts.
    #[graphql(guard = "PROVIDERS")]
    async fn record_screening(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RecordScreeningInput,
    ) -> async_graphql::Result<RecordScreeningPayload> {
        let state = app_state(ctx)?;
        let screening = consultations::record_screening(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.patient_id, "patientId")?,
            input.answers.into(),
            input.override_reason,
        )
        .await?;
        Ok(RecordScreeningPayload {
            screening: Screening::from(screening),
        })
    }

    /// Records a signed informed consent for micro-needling (R-CONSENT).
    #[graphql(guard = "Allow::STAFF")]
    async fn sign_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SignConsentInput,
    ) -> async_graphql::Result<SignConsentPayload> {
        let state = app_state(ctx)?;
        let witness = parse_optional_id(input.witness_id.as_ref(), "witnessId")?;
        let consent = consultations::sign_consent(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.patient_id, "patientId")?,
            &input.template_version,
            &input.signer_name,
            input.signed_at.map(Into::into),
            witness,
        )
        .await?;
        Ok(SignConsentPayload {
            informed_consent: InformedConsent::from(consent),
        })
    }
}

/// Who may read one consultation by id, through the `consultation` root and through
/// `node(id:)` alike.
pub(crate) const CONSULTATION_READERS: Allow = Allow::SCHEDULE_READERS;

/// The consultation with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`CONSULTATION_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn consultation_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Consultation>> {
    let state = app_state(ctx)?;
    let id = parse_id(id, "id")?;
    match consultations::find_consultation(&state.db, id).await {
        Ok(row) => {
            state
                .audit
                .record(
                    request_context(ctx)?,
                    "consultation",
                    AuditEvent::new(AuditAction::Read)
                        .entity(EntityType::Consultation, Some(row.id))
                        .patient(row.patient_id),
                )
                .await;
            Ok(Some(Consultation::from(row)))
        }
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
