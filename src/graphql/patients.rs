//! Patient queries and mutations.

use async_graphql::{Context, ID, Object};

use super::{
    app_state,
    loaders::Loaders,
    page_cost,
    pagination::{PageRequest, connection, wants_total_count},
    parse_id, prefetch, request_context,
    types::patient::{
        ArchivePatientInput, ArchivePatientPayload, CreatePatientInput, CreatePatientPayload,
        Patient, PatientConnection, PatientFilter, PatientOrder, RecordContactConsentInput,
        RecordContactConsentPayload, RevokeContactConsentInput, RevokeContactConsentPayload,
        UpdatePatientInput, UpdatePatientPayload, clinical_details, patient_details,
    },
};
use crate::{
    auth::{actor::RequestContext, guards::Allow},
    domain::{
        audit::{AuditAction, EntityType},
        scope::ApiScope,
        staff::Role,
    },
    entities::patients as patient_rows,
    error::AppError,
    services::{
        audit::AuditEvent,
        patients::{self, PatientAccess, PatientOrdering},
    },
    state::AppState,
};

const STAFF_OR_PATIENTS_READ: Allow = Allow::staff_or_scope(
    &[Role::Admin, Role::Provider, Role::FrontDesk],
    ApiScope::PatientsRead,
);
const STAFF_OR_PATIENTS_WRITE: Allow = Allow::staff_or_scope(
    &[Role::Admin, Role::Provider, Role::FrontDesk],
    ApiScope::PatientsWrite,
);

/// Records that these patients were read.
async fn audit_reads(
    state: &AppState,
    request: &RequestContext,
    operation: &str,
    rows: &[&patient_rows::Model],
) {
    let events = rows.iter().map(|row| {
        AuditEvent::new(AuditAction::Read)
            .entity(EntityType::Patient, Some(row.id))
            .patient(row.id)
    });
    state.audit.record_all(request, operation, events).await;
}

/// The patient part of the query root.
#[derive(Default)]
pub struct PatientQuery;

#[Object]
impl PatientQuery {
    /// A patient by id (archived ones included).
    #[graphql(guard = "PATIENT_READERS")]
    async fn patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient's id.")] id: ID,
    ) -> async_graphql::Result<Option<Patient>> {
        patient_by_id(ctx, &id).await
    }

    /// Patients, active ones by default, searchable by name, email or phone.
    #[graphql(
        guard = "STAFF_OR_PATIENTS_READ",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn patients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only patients matching these filters.")] filter: Option<PatientFilter>,
        #[graphql(desc = "Ordering (default LAST_NAME).")] order_by: Option<PatientOrder>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<PatientConnection> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        patients::authorize(&request.actor, PatientAccess::Read)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = patients::PatientFilter {
            search: filter.search,
            archived: filter.archived,
            has_upcoming_procedure: filter.has_upcoming_procedure,
        };
        let ordering = match order_by.unwrap_or_default() {
            PatientOrder::LastName => PatientOrdering::LastName,
            PatientOrder::CreatedAtDesc => PatientOrdering::NewestFirst,
            PatientOrder::NextAppointment => PatientOrdering::NextAppointment,
        };
        let (rows, total) = patients::list_patients(&state.db, &filter, ordering, &page).await?;
        let read: Vec<&patient_rows::Model> = rows.rows.iter().map(|(row, _)| row).collect();
        audit_reads(state, request, "patients", &read).await;
        let ids: Vec<_> = read.iter().map(|row| row.id).collect();
        prefetch::patients(
            ctx.data::<Loaders>()?,
            &prefetch::connection_nodes(ctx),
            &ids,
        )
        .await?;
        Ok(connection(
            rows,
            total,
            |(_, cursor)| Ok(cursor.clone()),
            |(row, _)| Patient::from(row),
        )?
        .into())
    }
}

/// The patient part of the mutation root.
#[derive(Default)]
pub struct PatientMutation;

#[Object]
impl PatientMutation {
    /// Creates a patient. Clinical fields (skin type, concerns, medical
    /// history) need an admin or provider.
    #[graphql(guard = "STAFF_OR_PATIENTS_WRITE")]
    async fn create_patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreatePatientInput,
    ) -> async_graphql::Result<CreatePatientPayload> {
        let state = app_state(ctx)?;
        let demographics = patient_details(
            Some(input.first_name),
            Some(input.last_name),
            input.preferred_name,
            input.date_of_birth,
            input.sex_at_birth,
            input.pronouns,
            input.email,
            input.phone,
            input.address,
            input.preferred_channel,
        );
        let clinical = clinical_details(
            input.fitzpatrick_type,
            input.skin_concerns,
            input.medical_history,
        );
        let patient = patients::create_patient(
            &state.db,
            request_context(ctx)?,
            demographics,
            clinical,
            input.contact_consent.map(Into::into),
        )
        .await?;
        Ok(CreatePatientPayload {
            patient: Patient::from(patient),
        })
    }

    /// Changes a patient if `expectedVersion` is current (else CONFLICT,
    /// and nothing is written).
    #[graphql(guard = "STAFF_OR_PATIENTS_WRITE")]
    async fn update_patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdatePatientInput,
    ) -> async_graphql::Result<UpdatePatientPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let demographics = patient_details(
            input.first_name,
            input.last_name,
            input.preferred_name,
            input.date_of_birth,
            input.sex_at_birth,
            input.pronouns,
            input.email,
            input.phone,
            input.address,
            input.preferred_channel,
        );
        let clinical = clinical_details(
            input.fitzpatrick_type,
            input.skin_concerns,
            input.medical_history,
        );
        let patient = patients::update_patient(
            &state.db,
            request_context(ctx)?,
            id,
            input.expected_version,
            demographics,
            clinical,
        )
        .await?;
        Ok(UpdatePatientPayload {
            patient: Patient::from(patient),
        })
    }

    /// Archives a patient: hidden from default lists and not bookable; no
    /// record is deleted.
    #[graphql(guard = "Allow::STAFF")]
    async fn archive_patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ArchivePatientInput,
    ) -> async_graphql::Result<ArchivePatientPayload> {
        let state = app_state(ctx)?;
        let id = parse_id(&input.id, "id")?;
        let patient =
            patients::archive_patient(&state.db, request_context(ctx)?, id, input.expected_version)
                .await?;
        Ok(ArchivePatientPayload {
            patient: Patient::from(patient),
        })
    }

    /// Records the patient's consent to be contacted on some channels.
    #[graphql(guard = "STAFF_OR_PATIENTS_WRITE")]
    async fn record_contact_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RecordContactConsentInput,
    ) -> async_graphql::Result<RecordContactConsentPayload> {
        let patient = change_consent(
            ctx,
            &input.patient_id,
            input.channels,
            true,
            input.source.as_deref(),
            input.consent_text_version.as_deref(),
        )
        .await?;
        Ok(RecordContactConsentPayload { patient })
    }

    /// Records that the patient withdrew consent on some channels; follow-ups
    /// will no longer use them.
    #[graphql(guard = "STAFF_OR_PATIENTS_WRITE")]
    async fn revoke_contact_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RevokeContactConsentInput,
    ) -> async_graphql::Result<RevokeContactConsentPayload> {
        let patient = change_consent(
            ctx,
            &input.patient_id,
            input.channels,
            false,
            input.source.as_deref(),
            None,
        )
        .await?;
        Ok(RevokeContactConsentPayload { patient })
    }
}

async fn change_consent(
    ctx: &Context<'_>,
    patient_id: &ID,
    channels: Vec<crate::domain::patient::ContactChannel>,
    granted: bool,
    source: Option<&str>,
    consent_text_version: Option<&str>,
) -> async_graphql::Result<Patient> {
    let patient = patients::set_contact_consent(
        &app_state(ctx)?.db,
        request_context(ctx)?,
        parse_id(patient_id, "patientId")?,
        &channels.into_iter().collect(),
        granted,
        source.unwrap_or("STAFF"),
        consent_text_version,
    )
    .await?;
    Ok(Patient::from(patient))
}

/// Who may read one patient by id, through the `patient` root and through
/// `node(id:)` alike.
pub(crate) const PATIENT_READERS: Allow = STAFF_OR_PATIENTS_READ;

/// The patient with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`PATIENT_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn patient_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Patient>> {
    let state = app_state(ctx)?;
    let request = request_context(ctx)?;
    patients::authorize(&request.actor, PatientAccess::Read)?;
    let id = parse_id(id, "id")?;
    match patients::find_patient(&state.db, id).await {
        Ok(row) => {
            audit_reads(state, request, "patient", &[&row]).await;
            Ok(Some(Patient::from(row)))
        }
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
