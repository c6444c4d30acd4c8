//! Consultations: booking (R-BOOKING, race-safe), cancelling, no-shows,
//! completion with assessment, screening (R-SCREENING) and treatment plan
//! (R-SERIES); screenings and informed consents (R-CONSENT) on their own.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{
        audit::{AuditAction, EntityType},
        booking::{APPOINTMENT_MINUTES, Window},
        consultation::{ConsultationStatus, PlanStatus},
        names::api_name,
        patient::{SkinConcern, join_codes},
        procedure::ProcedureStatus,
        screening::{ScreeningAnswers, ScreeningFindings, clears_treatment, evaluate},
        staff::Role,
        treatment_area::TreatmentArea,
    },
    entities::{consultations, informed_consents, procedures, screenings, treatment_plans, users},
    error::{AppError, AppResult, ErrorCode},
    events::DomainEvent,
    graphql::pagination::{KeysetCursor, Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        listing::by_start,
        patients::{PatientAccess, authorize, find_patient},
        policy::current_policy,
        users::stale_version,
    },
};

/// A photo taken at the assessment, stored by reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoReference {
    /// Where the image is stored (the clinic's image store).
    pub url: String,
    /// Whether the patient consented to its use beyond the chart.
    pub consent_to_use: bool,
}

/// The provider's assessment at a consultation.
#[derive(Clone, Debug, Default)]
pub struct Assessment {
    /// Concerns assessed.
    pub concerns: BTreeSet<SkinConcern>,
    /// Areas to treat.
    pub treatment_areas: BTreeSet<TreatmentArea>,
    /// Notes.
    pub notes: String,
    /// Photo references.
    pub photos: Vec<PhotoReference>,
}

/// A treatment plan to propose; `None` fields take the clinic policy's.
#[derive(Clone, Debug, Default)]
pub struct PlanProposal {
    /// Sessions planned (policy default, usually 2-3).
    pub planned_sessions: Option<i32>,
    /// Days between sessions (policy recommendation).
    pub interval_days: Option<i32>,
    /// Areas to treat.
    pub areas: BTreeSet<TreatmentArea>,
    /// Goals.
    pub goals: String,
}

/// The signed-in provider's id.
///
/// # Errors
/// `UNAUTHENTICATED` for anonymous callers, `FORBIDDEN` for anyone else.
pub fn require_provider(actor: &Actor) -> AppResult<Uuid> {
    match actor {
        Actor::Staff(staff) if staff.role == Role::Provider => Ok(staff.id),
        Actor::Anonymous => Err(AppError::Unauthenticated("sign in to do this")),
        _ => Err(AppError::Forbidden),
    }
}

/// The consultation with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_consultation(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<consultations::Model> {
    consultations::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            entity: "consultation",
        })
}

/// R-BOOKING: refuses a window that overlaps another appointment of the
/// provider, consultation or procedure (`except` is the appointment being
/// moved). Callers hold the provider's booking lock ([`lock_provider`]).
///
/// # Errors
/// `DOUBLE_BOOKED`.
pub async fn ensure_provider_free(
    db: &impl ConnectionTrait,
    provider_id: Uuid,
    window: Window,
    except: Option<Uuid>,
) -> AppResult<()> {
    let mut procedure_clash = procedures::Entity::find()
        .filter(procedures::Column::ProviderId.eq(provider_id))
        .filter(procedures::Column::Status.ne(ProcedureStatus::Cancelled))
        .filter(procedures::Column::StartsAtS.lt(window.end_s()))
        .filter(procedures::Column::EndsAtS.gt(window.start_s()));
    if let Some(id) = except {
        procedure_clash = procedure_clash.filter(procedures::Column::Id.ne(id));
    }
    if procedure_clash.count(db).await? > 0 {
        return Err(AppError::rule(
            ErrorCode::DoubleBooked,
            "the provider already has a procedure that overlaps this time",
        ));
    }
    let mut clash = consultations::Entity::find()
        .filter(consultations::Column::ProviderId.eq(provider_id))
        .filter(consultations::Column::Status.is_in([
            ConsultationStatus::Scheduled,
            ConsultationStatus::Completed,
            ConsultationStatus::NoShow,
        ]))
        .filter(consultations::Column::StartsAtS.lt(window.end_s()))
        .filter(consultations::Column::EndsAtS.gt(window.start_s()));
    if let Some(id) = except {
        clash = clash.filter(consultations::Column::Id.ne(id));
    }
    if clash.count(db).await? > 0 {
        return Err(AppError::rule(
            ErrorCode::DoubleBooked,
            "the provider already has an appointment that overlaps this time",
        ));
    }
    Ok(())
}

/// Serializes bookings of one provider: on PostgreSQL a row lock on the
/// provider (`SELECT … FOR UPDATE`) held until the transaction ends; on
/// SQLite the write transaction (`BEGIN IMMEDIATE`) already serializes
/// writers. Returns the provider.
///
/// # Errors
/// `BAD_USER_INPUT` on `providerId` when it is not an active provider.
pub async fn lock_provider(
    db: &impl ConnectionTrait,
    provider_id: Uuid,
) -> AppResult<users::Model> {
    Some(lock_provider_any(db, provider_id).await?)
        .filter(|user| user.role == Role::Provider)
        .ok_or_else(|| AppError::bad_input("providerId", "not an active provider"))
}

/// Like [`lock_provider`], but returns any active staff member, so that
/// the caller can say why they may not be assigned (R-LICENSE).
///
/// # Errors
/// `BAD_USER_INPUT` on `providerId` when there is no such active user.
pub async fn lock_provider_any(
    db: &impl ConnectionTrait,
    provider_id: Uuid,
) -> AppResult<users::Model> {
    let mut query = users::Entity::find_by_id(provider_id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await?
        .filter(|user| user.active)
        .ok_or_else(|| AppError::bad_input("providerId", "not an active staff member"))
}

/// Books a consultation.
///
/// # Errors
/// `BAD_USER_INPUT` (time, length, provider), `INVALID_STATE` (archived
/// patient), `DOUBLE_BOOKED`.
pub async fn schedule(
    db: &DatabaseConnection,
    request: &RequestContext,
    patient_id: Uuid,
    provider_id: Uuid,
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
) -> AppResult<consultations::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let window = Window::new(starts_at, i64::from(duration_minutes)).ok_or_else(|| {
        AppError::bad_input(
            "durationMinutes",
            format!(
                "must be {} to {} minutes",
                APPOINTMENT_MINUTES.start(),
                APPOINTMENT_MINUTES.end()
            ),
        )
    })?;
    if starts_at <= Utc::now() {
        return Err(AppError::bad_input("startsAt", "must be in the future"));
    }
    let mut write = AuditedWrite::begin(db, request, "scheduleConsultation").await?;
    let patient = find_patient(&*write, patient_id).await?;
    if patient.archived_at.is_some() {
        return Err(AppError::InvalidState(
            "archived patients cannot be booked".to_owned(),
        ));
    }
    lock_provider(&*write, provider_id).await?;
    ensure_provider_free(&*write, provider_id, window, None).await?;
    let now = Utc::now();
    let consultation = consultations::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        provider_id: Set(provider_id),
        starts_at_s: Set(window.start_s()),
        ends_at_s: Set(window.end_s()),
        status: Set(ConsultationStatus::Scheduled),
        cancel_reason: Set(None),
        concerns: Set(String::new()),
        treatment_areas: Set(String::new()),
        assessment_notes: Set(String::new()),
        photos: Set("[]".to_owned()),
        completed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::Consultation, Some(consultation.id))
            .patient(patient_id),
    );
    write.emit(DomainEvent::consultation(&consultation));
    write.commit().await?;
    Ok(consultation)
}

async fn set_status(
    db: &DatabaseConnection,
    request: &RequestContext,
    operation: &'static str,
    id: Uuid,
    expected_version: i32,
    status: ConsultationStatus,
    reason: Option<String>,
) -> AppResult<consultations::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let mut write = AuditedWrite::begin(db, request, operation).await?;
    let current = find_consultation(&*write, id).await?;
    if current.status != ConsultationStatus::Scheduled {
        return Err(AppError::InvalidState(format!(
            "a {} consultation cannot change",
            api_name(&current.status)
        )));
    }
    let updated = consultations::Entity::update_many()
        .col_expr(consultations::Column::Status, Expr::value(status))
        .col_expr(consultations::Column::CancelReason, Expr::value(reason))
        .col_expr(consultations::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            consultations::Column::Version,
            Expr::col(consultations::Column::Version).add(1),
        )
        .filter(consultations::Column::Id.eq(id))
        .filter(consultations::Column::Version.eq(expected_version))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Consultation, Some(id))
            .patient(current.patient_id),
    );
    let consultation = find_consultation(&*write, id).await?;
    write.emit(DomainEvent::consultation(&consultation));
    write.commit().await?;
    Ok(consultation)
}

/// Cancels a scheduled consultation (frees the provider's time).
///
/// # Errors
/// `BAD_USER_INPUT` without a reason; `INVALID_STATE` unless scheduled;
/// `CONFLICT` when stale.
pub async fn cancel(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    reason: &str,
) -> AppResult<consultations::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_input(
            "reason",
            "give a reason of 1 to 500 characters",
        ));
    }
    set_status(
        db,
        request,
        "cancelConsultation",
        id,
        expected_version,
        ConsultationStatus::Cancelled,
        Some(reason.to_owned()),
    )
    .await
}

/// Records that the patient did not come.
///
/// # Errors
/// `INVALID_STATE` unless scheduled; `CONFLICT` when stale.
pub async fn mark_no_show(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
) -> AppResult<consultations::Model> {
    set_status(
        db,
        request,
        "markConsultationNoShow",
        id,
        expected_version,
        ConsultationStatus::NoShow,
        None,
    )
    .await
}

/// Codes of the findings, for storage.
fn codes(findings: &BTreeSet<crate::domain::screening::Contraindication>) -> String {
    join_codes(findings)
}

async fn insert_screening(
    write: &mut AuditedWrite<'_>,
    provider_id: Uuid,
    patient_id: Uuid,
    consultation_id: Option<Uuid>,
    answers: &ScreeningAnswers,
    findings: &ScreeningFindings,
    override_reason: Option<String>,
) -> AppResult<screenings::Model> {
    let screening = screenings::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        consultation_id: Set(consultation_id),
        recorded_by: Set(provider_id),
        recorded_at: Set(Utc::now()),
        answers: Set(serde_json::to_string(answers).map_err(anyhow::Error::from)?),
        absolute_findings: Set(codes(&findings.absolute)),
        relative_findings: Set(codes(&findings.relative)),
        advisories: Set(codes(&findings.advisories)),
        override_reason: Set(override_reason),
    }
    .insert(&**write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::Screening, Some(screening.id))
            .patient(patient_id),
    );
    Ok(screening)
}

fn clean_override(reason: Option<String>) -> AppResult<Option<String>> {
    let reason = reason
        .map(|reason| reason.trim().to_owned())
        .filter(|reason| !reason.is_empty());
    if reason
        .as_ref()
        .is_some_and(|reason| reason.chars().count() > 1000)
    {
        return Err(AppError::bad_input(
            "screening.overrideReason",
            "at most 1000 characters",
        ));
    }
    Ok(reason)
}

/// Records a contraindication screening on its own (providers only). An
/// override reason is kept only where relative findings need it.
///
/// # Errors
/// `FORBIDDEN` for non-providers; `NOT_FOUND`.
pub async fn record_screening(
    db: &DatabaseConnection,
    request: &RequestContext,
    patient_id: Uuid,
    answers: ScreeningAnswers,
    override_reason: Option<String>,
) -> AppResult<screenings::Model> {
    let provider_id = require_provider(&request.actor)?;
    let override_reason = clean_override(override_reason)?;
    let mut write = AuditedWrite::begin(db, request, "recordScreening").await?;
    find_patient(&*write, patient_id).await?;
    let policy = current_policy(&*write).await?;
    let today = Utc::now().with_timezone(&policy.time_zone).date_naive();
    let findings = evaluate(&answers, today, policy.isotretinoin_washout_days);
    let override_reason = override_reason.filter(|_| !findings.relative.is_empty());
    let screening = insert_screening(
        &mut write,
        provider_id,
        patient_id,
        None,
        &answers,
        &findings,
        override_reason,
    )
    .await?;
    write.commit().await?;
    Ok(screening)
}

/// Completes a consultation: records the assessment and the screening and,
/// when asked, proposes a treatment plan, all in one transaction. A plan
/// needs a screening that clears treatment (R-SCREENING); a new plan
/// replaces the patient's active one.
///
/// # Errors
/// `FORBIDDEN` for non-providers; `INVALID_STATE` unless scheduled;
/// `CONTRAINDICATED`; `BAD_USER_INPUT`; `CONFLICT` when stale.
#[allow(clippy::too_many_arguments)]
pub async fn complete(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    assessment: Assessment,
    answers: ScreeningAnswers,
    override_reason: Option<String>,
    plan: Option<PlanProposal>,
) -> AppResult<(
    consultations::Model,
    screenings::Model,
    Option<treatment_plans::Model>,
)> {
    let provider_id = require_provider(&request.actor)?;
    let override_reason = clean_override(override_reason)?;
    if assessment.notes.chars().count() > 10_000 {
        return Err(AppError::bad_input(
            "assessment.notes",
            "at most 10000 characters",
        ));
    }
    for (index, photo) in assessment.photos.iter().enumerate() {
        if !(photo.url.starts_with("https://") || photo.url.starts_with("s3://"))
            || photo.url.len() > 2000
        {
            return Err(AppError::bad_input(
                format!("assessment.photos[{index}].url"),
                "an https:// or s3:// reference",
            ));
        }
    }
    let mut write = AuditedWrite::begin(db, request, "completeConsultation").await?;
    let current = find_consultation(&*write, id).await?;
    if current.status != ConsultationStatus::Scheduled {
        return Err(AppError::InvalidState(format!(
            "a {} consultation cannot be completed",
            api_name(&current.status)
        )));
    }
    let policy = current_policy(&*write).await?;
    let today = Utc::now().with_timezone(&policy.time_zone).date_naive();
    let findings = evaluate(&answers, today, policy.isotretinoin_washout_days);
    if plan.is_some() {
        clears_treatment(&findings, override_reason.as_deref())
            .map_err(|problem| AppError::contraindicated(&problem))?;
    }
    let override_reason = override_reason.filter(|_| !findings.relative.is_empty());
    let now = Utc::now();
    let updated = consultations::Entity::update_many()
        .col_expr(
            consultations::Column::Status,
            Expr::value(ConsultationStatus::Completed),
        )
        .col_expr(
            consultations::Column::Concerns,
            Expr::value(join_codes(&assessment.concerns)),
        )
        .col_expr(
            consultations::Column::TreatmentAreas,
            Expr::value(join_codes(&assessment.treatment_areas)),
        )
        .col_expr(
            consultations::Column::AssessmentNotes,
            Expr::value(assessment.notes.trim().to_owned()),
        )
        .col_expr(
            consultations::Column::Photos,
            Expr::value(serde_json::to_string(&assessment.photos).map_err(anyhow::Error::from)?),
        )
        .col_expr(consultations::Column::CompletedAt, Expr::value(now))
        .col_expr(consultations::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            consultations::Column::Version,
            Expr::col(consultations::Column::Version).add(1),
        )
        .filter(consultations::Column::Id.eq(id))
        .filter(consultations::Column::Version.eq(expected_version))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Consultation, Some(id))
            .patient(current.patient_id),
    );
    let screening = insert_screening(
        &mut write,
        provider_id,
        current.patient_id,
        Some(id),
        &answers,
        &findings,
        override_reason,
    )
    .await?;
    let plan = match plan {
        Some(proposal) => Some(
            insert_plan(
                &mut write,
                provider_id,
                current.patient_id,
                id,
                proposal,
                &policy,
            )
            .await?,
        ),
        None => None,
    };
    let consultation = find_consultation(&*write, id).await?;
    write.emit(DomainEvent::consultation(&consultation));
    write.commit().await?;
    Ok((consultation, screening, plan))
}

async fn insert_plan(
    write: &mut AuditedWrite<'_>,
    provider_id: Uuid,
    patient_id: Uuid,
    consultation_id: Uuid,
    proposal: PlanProposal,
    policy: &crate::domain::policy::ClinicPolicy,
) -> AppResult<treatment_plans::Model> {
    let planned = proposal
        .planned_sessions
        .unwrap_or(i32::try_from(policy.planned_sessions).unwrap_or(3));
    if !(1..=20).contains(&planned) {
        return Err(AppError::bad_input(
            "treatmentPlan.plannedSessions",
            "must be between 1 and 20",
        ));
    }
    let minimum = i32::try_from(policy.min_interval_days).unwrap_or(42);
    let interval = proposal
        .interval_days
        .unwrap_or(i32::try_from(policy.recommended_interval_days).unwrap_or(56));
    if interval < minimum || interval > 365 {
        return Err(AppError::bad_input(
            "treatmentPlan.intervalDays",
            format!("must be between the policy minimum of {minimum} days and 365"),
        ));
    }
    if proposal.areas.is_empty() {
        return Err(AppError::bad_input(
            "treatmentPlan.areas",
            "name at least one treatment area",
        ));
    }
    let now = Utc::now();
    treatment_plans::Entity::update_many()
        .col_expr(
            treatment_plans::Column::Status,
            Expr::value(PlanStatus::Cancelled),
        )
        .col_expr(treatment_plans::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            treatment_plans::Column::Version,
            Expr::col(treatment_plans::Column::Version).add(1),
        )
        .filter(treatment_plans::Column::PatientId.eq(patient_id))
        .filter(treatment_plans::Column::Status.eq(PlanStatus::Active))
        .exec(&**write)
        .await?;
    let plan = treatment_plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        consultation_id: Set(Some(consultation_id)),
        planned_sessions: Set(planned),
        interval_days: Set(interval),
        areas: Set(join_codes(&proposal.areas)),
        goals: Set(proposal.goals.trim().chars().take(4000).collect()),
        status: Set(PlanStatus::Active),
        created_by: Set(provider_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&**write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::TreatmentPlan, Some(plan.id))
            .patient(patient_id),
    );
    Ok(plan)
}

/// Records a signed informed consent for micro-needling (R-CONSENT); it is
/// never changed afterwards.
///
/// # Errors
/// `BAD_USER_INPUT` (template, signer, time, witness); `NOT_FOUND`.
pub async fn sign_consent(
    db: &DatabaseConnection,
    request: &RequestContext,
    patient_id: Uuid,
    template_version: &str,
    signer_name: &str,
    signed_at: Option<DateTime<Utc>>,
    witness_id: Option<Uuid>,
) -> AppResult<informed_consents::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let recorder = request.actor.id().ok_or(AppError::Forbidden)?;
    let template_version = template_version.trim();
    let signer_name = signer_name.trim();
    if template_version.is_empty() || template_version.len() > 64 {
        return Err(AppError::bad_input(
            "templateVersion",
            "give the consent template's version",
        ));
    }
    if signer_name.is_empty() || signer_name.chars().count() > 200 {
        return Err(AppError::bad_input(
            "signerName",
            "give the signer's full name",
        ));
    }
    let now = Utc::now();
    let signed_at = signed_at.unwrap_or(now);
    if signed_at > now + chrono::Duration::minutes(5) {
        return Err(AppError::bad_input("signedAt", "cannot be in the future"));
    }
    let mut write = AuditedWrite::begin(db, request, "signConsent").await?;
    find_patient(&*write, patient_id).await?;
    if let Some(witness) = witness_id {
        users::Entity::find_by_id(witness)
            .one(&*write)
            .await?
            .filter(|user| user.active && user.role == Role::Provider)
            .ok_or_else(|| {
                AppError::bad_input("witnessId", "the witness must be an active provider")
            })?;
    }
    let consent = informed_consents::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        template_version: Set(template_version.to_owned()),
        signer_name: Set(signer_name.to_owned()),
        signed_at: Set(signed_at),
        witness_id: Set(witness_id),
        recorded_by: Set(recorder),
        created_at: Set(now),
    }
    .insert(&*write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::InformedConsent, Some(consent.id))
            .patient(patient_id),
    );
    write.commit().await?;
    Ok(consent)
}

/// Filters of the consultation list.
#[derive(Clone, Debug, Default)]
pub struct ConsultationFilter {
    /// Only this patient.
    pub patient_id: Option<Uuid>,
    /// Only this provider.
    pub provider_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<ConsultationStatus>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
}

/// Name of the consultation list's ordering (by start), in its cursors.
pub const CONSULTATIONS_BY_START: &str = "consultations_by_start";

/// The cursor of a consultation.
///
/// # Errors
/// Never in practice (serializing two values).
pub fn cursor_of(consultation: &consultations::Model) -> AppResult<KeysetCursor> {
    KeysetCursor::new(
        CONSULTATIONS_BY_START,
        &(consultation.starts_at_s, consultation.id),
    )
}

/// One page of consultations by start time, and the total matching.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another list; database failures.
pub async fn list_consultations(
    db: &DatabaseConnection,
    filter: &ConsultationFilter,
    page: &PageRequest,
) -> AppResult<(Page<consultations::Model>, i64)> {
    let mut query = consultations::Entity::find();
    if let Some(patient) = filter.patient_id {
        query = query.filter(consultations::Column::PatientId.eq(patient));
    }
    if let Some(provider) = filter.provider_id {
        query = query.filter(consultations::Column::ProviderId.eq(provider));
    }
    if let Some(status) = filter.status {
        query = query.filter(consultations::Column::Status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(consultations::Column::StartsAtS.gte(from.timestamp()));
    }
    if let Some(to) = filter.to {
        query = query.filter(consultations::Column::StartsAtS.lt(to.timestamp()));
    }
    by_start(
        db,
        query,
        (consultations::Column::StartsAtS, consultations::Column::Id),
        CONSULTATIONS_BY_START,
        page,
    )
    .await
}
