//! `Consultation`, `Screening`, `TreatmentPlan`, `InformedConsent` and
//! their inputs and payloads.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;

use crate::graphql::scalars::{Date, Timestamp, instant};

use super::{
    identity::{User, load_user},
    patient::{Patient, load_patient},
};
use crate::{
    auth::guards::Allow,
    domain::{
        consultation::{ConsultationStatus, PlanStatus, sessions_remaining},
        patient::{FitzpatrickType, SkinConcern, split_codes},
        policy::ClinicPolicy,
        procedure::{clinic_day, earliest_next_procedure},
        screening::{Contraindication, ScreeningAnswers, ScreeningFindings, clears_treatment},
        treatment_area::TreatmentArea,
    },
    entities::{consultations, informed_consents, screenings, treatment_plans},
    graphql::{loaders::Loaders, rows::Row},
    services::consultations::{Assessment, PhotoReference as StoredPhoto, PlanProposal},
};

super::row_object!(
    /// A consultation: the patient's visit with a provider before treatment.
    Consultation(Row<consultations::Entity>)
);

/// A consultation: the patient's visit with a provider before treatment.
#[Object]
impl Consultation {
    /// The consultation's id.
    async fn id(&self) -> ID {
        ID(self.0.core().id.to_string())
    }
    /// The patient seen at this consultation. Reading it is audited; callers
    /// who may not read patients get FORBIDDEN.
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        load_patient(ctx, self.0.core().patient_id, "Consultation.patient").await
    }
    /// The provider who holds the consultation; it blocks their calendar for
    /// its time.
    async fn provider(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.core().provider_id).await
    }
    /// Start.
    async fn starts_at(&self) -> Timestamp {
        instant(self.0.core().starts_at_s)
    }
    /// End.
    async fn ends_at(&self) -> Timestamp {
        instant(self.0.core().ends_at_s)
    }
    /// Length in minutes.
    async fn duration_minutes(&self) -> i64 {
        let row = self.0.core();
        (row.ends_at_s - row.starts_at_s) / 60
    }
    /// Where it stands.
    async fn status(&self) -> ConsultationStatus {
        self.0.core().status
    }
    /// Why it was cancelled (clinical: a reason is free text, and reasons
    /// such as a pregnancy or a new medication are clinical facts).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn cancel_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.cancel_reason.as_deref())
    }
    /// The provider's assessment (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn assessment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ConsultationAssessment>> {
        let row = self.0.whole(ctx).await?;
        Ok(
            (row.status == ConsultationStatus::Completed).then(|| ConsultationAssessment {
                concerns: split_codes::<SkinConcern>(&row.concerns)
                    .into_iter()
                    .collect(),
                treatment_areas: split_codes::<TreatmentArea>(&row.treatment_areas)
                    .into_iter()
                    .collect(),
                notes: row.assessment_notes.clone(),
                photos: serde_json::from_str::<Vec<StoredPhoto>>(&row.photos)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|photo| PhotoReference {
                        url: photo.url,
                        consent_to_use: photo.consent_to_use,
                    })
                    .collect(),
            }),
        )
    }
    /// The screening recorded at this consultation (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn screening(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Screening>> {
        Ok(ctx
            .data::<Loaders>()?
            .screenings_by_consultation
            .load_one(self.0.core().id)
            .await?
            .and_then(|rows| rows.into_iter().last())
            .map(Screening))
    }
    /// When it was booked.
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Timestamp> {
        Ok(self.0.whole(ctx).await?.created_at.into())
    }
    /// When it last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Timestamp> {
        Ok(self.0.whole(ctx).await?.updated_at.into())
    }
    /// Version for optimistic locking.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.0.whole(ctx).await?.version)
    }
}

/// A photo reference of an assessment.
#[derive(SimpleObject, InputObject, Clone, Debug)]
#[graphql(input_name = "PhotoReferenceInput")]
pub struct PhotoReference {
    /// Where the image is stored (https:// or s3://).
    pub url: String,
    /// Whether the patient consented to its use beyond the chart.
    pub consent_to_use: bool,
}

/// The provider's assessment at a consultation.
#[derive(SimpleObject, Clone, Debug)]
pub struct ConsultationAssessment {
    /// Concerns assessed.
    pub concerns: Vec<SkinConcern>,
    /// Areas proposed for treatment.
    pub treatment_areas: Vec<TreatmentArea>,
    /// The provider's free-text notes of the assessment.
    pub notes: String,
    /// Photo references.
    pub photos: Vec<PhotoReference>,
}

super::row_object!(
    /// A contraindication screening (clinical).
    Screening(screenings::Model)
);

/// A contraindication screening (R-SCREENING; clinical).
#[Object]
impl Screening {
    /// The screening's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// When it was recorded; it stays valid for the policy's
    /// `screeningValidDays`.
    async fn recorded_at(&self) -> Timestamp {
        self.0.recorded_at.into()
    }
    /// The provider who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.recorded_by).await
    }
    /// Findings that block treatment.
    async fn absolute_findings(&self) -> Vec<Contraindication> {
        split_codes::<Contraindication>(&self.0.absolute_findings)
            .into_iter()
            .collect()
    }
    /// Findings that block treatment unless a provider overrides them.
    async fn relative_findings(&self) -> Vec<Contraindication> {
        split_codes::<Contraindication>(&self.0.relative_findings)
            .into_iter()
            .collect()
    }
    /// Findings that never block (e.g. hyperpigmentation risk).
    async fn advisories(&self) -> Vec<Contraindication> {
        split_codes::<Contraindication>(&self.0.advisories)
            .into_iter()
            .collect()
    }
    /// The provider's reason for proceeding despite relative findings.
    async fn override_reason(&self) -> Option<&str> {
        self.0.override_reason.as_deref()
    }
    /// Whether the findings allow treatment.
    async fn clears_treatment(&self) -> bool {
        let findings = ScreeningFindings {
            absolute: split_codes(&self.0.absolute_findings),
            relative: split_codes(&self.0.relative_findings),
            advisories: split_codes(&self.0.advisories),
        };
        clears_treatment(&findings, self.0.override_reason.as_deref()).is_ok()
    }
    /// Every answer as given.
    async fn answers(&self) -> async_graphql::Result<ScreeningAnswersView> {
        let answers: ScreeningAnswers = serde_json::from_str(&self.0.answers)
            .map_err(|error| crate::error::AppError::Internal(error.into()))?;
        Ok(ScreeningAnswersView::from(answers))
    }
}

/// Answers to every screening question.
#[derive(SimpleObject, InputObject, Clone, Debug)]
#[graphql(name = "ScreeningAnswers", input_name = "ScreeningAnswersInput")]
#[allow(clippy::struct_excessive_bools)]
pub struct ScreeningAnswersView {
    /// Active skin infection or inflammatory acne in the area.
    pub active_skin_infection: bool,
    /// Active herpes simplex outbreak.
    pub active_herpes_outbreak: bool,
    /// The patient is pregnant: an absolute contraindication, treatment is
    /// blocked.
    pub pregnant: bool,
    /// Open wounds in the area.
    pub open_wounds: bool,
    /// Last isotretinoin dose, if ever taken.
    pub isotretinoin_last_dose: Option<Date>,
    /// History of keloid or hypertrophic scarring.
    pub keloid_history: bool,
    /// Takes anticoagulants or has a bleeding disorder.
    pub anticoagulants_or_bleeding_disorder: bool,
    /// The patient has uncontrolled diabetes: a relative contraindication,
    /// which blocks treatment unless a provider records an override reason.
    pub uncontrolled_diabetes: bool,
    /// Immunosuppression, chemotherapy or radiotherapy.
    pub immunosuppression: bool,
    /// Eczema, psoriasis or rosacea in the area.
    pub eczema_psoriasis_rosacea: bool,
    /// Allergy to topical anaesthetics or to metal.
    pub anaesthetic_or_metal_allergy: bool,
    /// History of herpes simplex.
    pub herpes_history: bool,
    /// Fitzpatrick skin type.
    pub fitzpatrick_type: FitzpatrickType,
}

impl From<ScreeningAnswers> for ScreeningAnswersView {
    fn from(a: ScreeningAnswers) -> Self {
        Self {
            active_skin_infection: a.active_skin_infection,
            active_herpes_outbreak: a.active_herpes_outbreak,
            pregnant: a.pregnant,
            open_wounds: a.open_wounds,
            isotretinoin_last_dose: a.isotretinoin_last_dose.map(Into::into),
            keloid_history: a.keloid_history,
            anticoagulants_or_bleeding_disorder: a.anticoagulants_or_bleeding_disorder,
            uncontrolled_diabetes: a.uncontrolled_diabetes,
            immunosuppression: a.immunosuppression,
            eczema_psoriasis_rosacea: a.eczema_psoriasis_rosacea,
            anaesthetic_or_metal_allergy: a.anaesthetic_or_metal_allergy,
            herpes_history: a.herpes_history,
            fitzpatrick_type: a.fitzpatrick_type,
        }
    }
}

impl From<ScreeningAnswersView> for ScreeningAnswers {
    fn from(a: ScreeningAnswersView) -> Self {
        Self {
            active_skin_infection: a.active_skin_infection,
            active_herpes_outbreak: a.active_herpes_outbreak,
            pregnant: a.pregnant,
            open_wounds: a.open_wounds,
            isotretinoin_last_dose: a.isotretinoin_last_dose.map(Into::into),
            keloid_history: a.keloid_history,
            anticoagulants_or_bleeding_disorder: a.anticoagulants_or_bleeding_disorder,
            uncontrolled_diabetes: a.uncontrolled_diabetes,
            immunosuppression: a.immunosuppression,
            eczema_psoriasis_rosacea: a.eczema_psoriasis_rosacea,
            anaesthetic_or_metal_allergy: a.anaesthetic_or_metal_allergy,
            herpes_history: a.herpes_history,
            fitzpatrick_type: a.fitzpatrick_type,
        }
    }
}

super::row_object!(
    /// A treatment plan: a series of sessions (R-SERIES).
    TreatmentPlan(treatment_plans::Model)
);

/// A treatment plan: a series of sessions, then a refresher a year
/// (R-SERIES).
#[Object]
impl TreatmentPlan {
    /// The plan's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Sessions planned.
    async fn planned_sessions(&self) -> i32 {
        self.0.planned_sessions
    }
    /// Days between sessions.
    async fn interval_days(&self) -> i32 {
        self.0.interval_days
    }
    /// Areas to treat.
    async fn areas(&self) -> Vec<TreatmentArea> {
        split_codes::<TreatmentArea>(&self.0.areas)
            .into_iter()
            .collect()
    }
    /// Goals (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn goals(&self) -> Option<&str> {
        Some(&self.0.goals)
    }
    /// Where the plan stands.
    async fn status(&self) -> PlanStatus {
        self.0.status
    }
    /// Sessions of this plan performed (completed or signed).
    async fn sessions_done(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let done = patient_procedures(ctx, self.0.patient_id)
            .await?
            .iter()
            .map(Row::core)
            .filter(|row| row.treatment_plan_id == Some(self.0.id) && row.status.is_performed())
            .count();
        Ok(i32::try_from(done).unwrap_or(i32::MAX))
    }
    /// Sessions still to perform (R-SERIES); a refresher a year follows
    /// the last.
    async fn sessions_remaining(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let done = self.sessions_done(ctx).await?;
        let remaining = sessions_remaining(
            u32::try_from(self.0.planned_sessions).unwrap_or(0),
            u32::try_from(done).unwrap_or(0),
        );
        Ok(i32::try_from(remaining).unwrap_or(i32::MAX))
    }
    /// The first day the next session may be booked: the policy's minimum
    /// interval after the patient's latest booked or performed procedure,
    /// not before today (R-INTERVAL; clinic time zone).
    async fn earliest_next_session(&self, ctx: &Context<'_>) -> async_graphql::Result<Date> {
        let (latest, today, policy) = latest_procedure_day(ctx, self.0.patient_id).await?;
        Ok(earliest_next_procedure(latest, today, policy.min_interval_days).into())
    }
    /// The day this plan recommends for the next session: its interval
    /// after the latest procedure, never before `earliestNextSession`.
    async fn recommended_next_session(&self, ctx: &Context<'_>) -> async_graphql::Result<Date> {
        let (latest, today, policy) = latest_procedure_day(ctx, self.0.patient_id).await?;
        let interval = u32::try_from(self.0.interval_days).unwrap_or(policy.min_interval_days);
        Ok(earliest_next_procedure(latest, today, interval.max(policy.min_interval_days)).into())
    }
    /// The provider who made it.
    async fn created_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.created_by).await
    }
    /// When it was made.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

super::row_object!(
    /// A signed informed consent for micro-needling (R-CONSENT); immutable.
    InformedConsent(informed_consents::Model)
);

/// A signed informed consent for micro-needling (R-CONSENT); immutable.
#[Object]
impl InformedConsent {
    /// The consent's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Version of the consent template signed.
    async fn template_version(&self) -> &str {
        &self.0.template_version
    }
    /// Name of the signer.
    async fn signer_name(&self) -> &str {
        &self.0.signer_name
    }
    /// When it was signed.
    async fn signed_at(&self) -> Timestamp {
        self.0.signed_at.into()
    }
    /// The witnessing provider.
    async fn witness(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.witness_id {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }
    /// When it was recorded.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// A consultation to book.
#[derive(InputObject)]
pub struct ScheduleConsultationInput {
    /// The patient (not archived).
    pub patient_id: ID,
    /// The provider.
    pub provider_id: ID,
    /// Start (in the future).
    pub starts_at: Timestamp,
    /// Length in minutes (10-480).
    pub duration_minutes: i32,
}

/// The booked consultation.
#[derive(SimpleObject)]
pub struct ScheduleConsultationPayload {
    /// The booked consultation, SCHEDULED, with the `version` to pass for later
    /// changes.
    pub consultation: Consultation,
}

/// A consultation to cancel.
#[derive(InputObject)]
pub struct CancelConsultationInput {
    /// The consultation.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// Why.
    pub reason: String,
}

/// A consultation the patient missed.
#[derive(InputObject)]
pub struct MarkConsultationNoShowInput {
    /// The consultation.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
}

/// The cancelled consultation.
#[derive(SimpleObject)]
pub struct CancelConsultationPayload {
    /// The consultation, now CANCELLED.
    pub consultation: Consultation,
}

/// The missed consultation.
#[derive(SimpleObject)]
pub struct MarkConsultationNoShowPayload {
    /// The consultation, now NO_SHOW.
    pub consultation: Consultation,
}

/// The provider's assessment.
#[derive(InputObject, Default)]
pub struct AssessmentInput {
    /// Concerns assessed.
    #[graphql(default)]
    pub concerns: Vec<SkinConcern>,
    /// Areas proposed for treatment.
    #[graphql(default)]
    pub treatment_areas: Vec<TreatmentArea>,
    /// The provider's free-text notes of the assessment (up to 10,000
    /// characters).
    #[graphql(default)]
    pub notes: String,
    /// Photo references.
    #[graphql(default)]
    pub photos: Vec<PhotoReference>,
}

impl From<AssessmentInput> for Assessment {
    fn from(input: AssessmentInput) -> Self {
        Self {
            concerns: input.concerns.into_iter().collect(),
            treatment_areas: input.treatment_areas.into_iter().collect(),
            notes: input.notes,
            photos: input
                .photos
                .into_iter()
                .map(|photo| StoredPhoto {
                    url: photo.url,
                    consent_to_use: photo.consent_to_use,
                })
                .collect(),
        }
    }
}

/// A treatment plan to propose; omitted numbers take the clinic policy's.
#[derive(InputObject)]
pub struct TreatmentPlanInput {
    /// Sessions planned (default: the policy's, usually 3).
    pub planned_sessions: Option<i32>,
    /// Days between sessions (default: the policy's recommendation; never
    /// below its minimum).
    pub interval_days: Option<i32>,
    /// Areas to treat.
    pub areas: Vec<TreatmentArea>,
    /// What the patient hopes the series achieves, as the provider words it
    /// (free text; cut at 4,000 characters).
    #[graphql(default)]
    pub goals: String,
}

impl From<TreatmentPlanInput> for PlanProposal {
    fn from(input: TreatmentPlanInput) -> Self {
        Self {
            planned_sessions: input.planned_sessions,
            interval_days: input.interval_days,
            areas: input.areas.into_iter().collect(),
            goals: input.goals,
        }
    }
}

/// A consultation to complete (providers only).
#[derive(InputObject)]
pub struct CompleteConsultationInput {
    /// The consultation.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// The provider's findings at this consultation: concerns, proposed areas,
    /// notes and photos; empty when omitted.
    #[graphql(default)]
    pub assessment: AssessmentInput,
    /// Answers to every screening question.
    pub screening: ScreeningAnswersView,
    /// Reason to proceed despite relative findings.
    pub override_reason: Option<String>,
    /// The plan to propose; needs a screening that clears treatment.
    pub treatment_plan: Option<TreatmentPlanInput>,
}

/// The completed consultation with its screening and plan.
#[derive(SimpleObject)]
pub struct CompleteConsultationPayload {
    /// The consultation, now COMPLETED.
    pub consultation: Consultation,
    /// The screening recorded.
    pub screening: Screening,
    /// The plan made, if one was asked for.
    pub treatment_plan: Option<TreatmentPlan>,
}

/// A screening to record on its own (providers only).
#[derive(InputObject)]
pub struct RecordScreeningInput {
    /// The patient.
    pub patient_id: ID,
    /// Answers to every screening question.
    pub answers: ScreeningAnswersView,
    /// Reason to proceed despite relative findings.
    pub override_reason: Option<String>,
}

/// The recorded screening.
#[derive(SimpleObject)]
pub struct RecordScreeningPayload {
    /// The screening just recorded, with its findings and whether it
    /// `clearsTreatment`; it stays valid for the policy's `screeningValidDays`.
    pub screening: Screening,
}

/// A signed informed consent to record.
#[derive(InputObject)]
pub struct SignConsentInput {
    /// The patient.
    pub patient_id: ID,
    /// Version of the consent template signed.
    pub template_version: String,
    /// Full name of the signer.
    pub signer_name: String,
    /// When it was signed (default: now).
    pub signed_at: Option<Timestamp>,
    /// The witnessing provider.
    pub witness_id: Option<ID>,
}

/// The recorded consent.
#[derive(SimpleObject)]
pub struct SignConsentPayload {
    /// The consent.
    pub informed_consent: InformedConsent,
}

/// Filters of the consultation list.
#[derive(InputObject, Default)]
pub struct ConsultationFilter {
    /// Only this patient.
    pub patient_id: Option<ID>,
    /// Only this provider.
    pub provider_id: Option<ID>,
    /// Only this status.
    pub status: Option<ConsultationStatus>,
    /// Starting at or after.
    pub from: Option<Timestamp>,
    /// Starting before.
    pub to: Option<Timestamp>,
}

crate::connection_types!(
    ConsultationConnection,
    ConsultationEdge,
    Consultation,
    "A page of consultations.",
    "A consultation with its cursor."
);

async fn patient_procedures(
    ctx: &Context<'_>,
    patient_id: uuid::Uuid,
) -> async_graphql::Result<Vec<Row<crate::entities::procedures::Entity>>> {
    Ok(ctx
        .data::<Loaders>()?
        .procedures_by_patient
        .load_one(patient_id)
        .await?
        .unwrap_or_default())
}

/// The day of the patient's latest non-cancelled procedure, today, and the
/// policy, all in the clinic's time zone.
async fn latest_procedure_day<'a>(
    ctx: &Context<'a>,
    patient_id: uuid::Uuid,
) -> async_graphql::Result<(Option<NaiveDate>, NaiveDate, &'a ClinicPolicy)> {
    let policy = ctx.data::<Loaders>()?.policy().await?;
    let latest = patient_procedures(ctx, patient_id)
        .await?
        .iter()
        .map(Row::core)
        .filter(|row| row.status.counts())
        .map(|row| row.starts_at_s)
        .max()
        .map(|start| clinic_day(instant(start).0, policy.time_zone));
    Ok((
        latest,
        clinic_day(chrono::Utc::now(), policy.time_zone),
        policy,
    ))
}
