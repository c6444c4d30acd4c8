//! `Patient`, its medical history and contact consent, and their inputs.

use std::{collections::BTreeSet, sync::Arc};

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use crate::graphql::scalars::{Date, Timestamp};

use super::{
    consultation::{Consultation, InformedConsent, Screening, TreatmentPlan},
    follow_up::FollowUp,
    procedure::Procedure,
};
use crate::graphql::types::may_withhold;
use crate::{
    auth::guards::Allow,
    domain::{
        audit::{AuditAction, EntityType},
        consultation::PlanStatus,
        patient::{
            ConsentRecord, ContactChannel, FitzpatrickType, MedicalCondition, SkinConcern, age_on,
            consented_channels, split_codes,
        },
    },
    entities::{contact_consents, medical_histories, patients},
    graphql::{app_state, loaders::Loaders, request_context},
    services::{
        audit::AuditEvent,
        patients::{
            ClinicalDetails, ConsentGrant, Demographics, MedicalHistoryInput as HistoryInput,
            PatientAccess, authorize,
        },
    },
};

super::row_object!(
    /// A patient of the clinic. Demographics and contact data are visible to
    /// all staff (and partners with `patients:read`); the skin assessment and
    /// medical history only to admins and providers.
    Patient(patients::Model)
);

/// The patient's postal address as recorded; any part may be absent.
#[derive(SimpleObject, Clone, Debug)]
pub struct PostalAddress {
    /// Street and number.
    pub line1: Option<String>,
    /// Apartment, suite.
    pub line2: Option<String>,
    /// City or town of the address.
    pub city: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postal or ZIP code, as written.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

/// Consent to be contacted on one channel (R-CONTACT).
#[derive(SimpleObject, Clone, Debug)]
pub struct ChannelConsent {
    /// The contact channel this consent is about: PHONE, TEXT or EMAIL.
    pub channel: ContactChannel,
    /// Whether the patient consents now.
    pub granted: bool,
    /// When this was recorded (absent if never recorded).
    pub recorded_at: Option<Timestamp>,
    /// Where it came from: WEB_FORM, PHONE, PARTNER:<name>, STAFF.
    pub source: Option<String>,
    /// Version of the consent text shown.
    pub consent_text_version: Option<String>,
}

impl From<&contact_consents::Model> for ChannelConsent {
    fn from(row: &contact_consents::Model) -> Self {
        Self {
            channel: row.channel,
            granted: row.granted,
            recorded_at: Some(row.recorded_at.into()),
            source: Some(row.source.clone()),
            consent_text_version: row.consent_text_version.clone(),
        }
    }
}

/// A patient's medical history (clinical data: admins and providers only).
#[derive(SimpleObject, Clone, Debug)]
pub struct MedicalHistory {
    /// Known allergies.
    pub allergies: String,
    /// Current medications.
    pub medications: String,
    /// Last isotretinoin dose, if ever taken (a relative contraindication
    /// within the policy's wash-out).
    pub isotretinoin_last_dose: Option<Date>,
    /// Takes anticoagulants (relative contraindication).
    pub takes_anticoagulants: bool,
    /// Conditions of the contraindication list.
    pub conditions: Vec<MedicalCondition>,
    /// Clinical notes.
    pub notes: String,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl From<medical_histories::Model> for MedicalHistory {
    fn from(row: medical_histories::Model) -> Self {
        Self {
            conditions: split_codes::<MedicalCondition>(&row.conditions)
                .into_iter()
                .collect(),
            allergies: row.allergies,
            medications: row.medications,
            isotretinoin_last_dose: row.isotretinoin_last_dose.map(Into::into),
            takes_anticoagulants: row.takes_anticoagulants,
            notes: row.notes,
            updated_at: row.updated_at.into(),
        }
    }
}

/// A patient through the request's loader, for nested fields: the same
/// object-level check as `patient(id)` (FORBIDDEN for callers who may not
/// read patients), and the read is audited.
///
/// # Errors
/// `FORBIDDEN`/`UNAUTHENTICATED`, or the loader's database error.
pub async fn load_patient(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    operation: &str,
) -> async_graphql::Result<Option<Patient>> {
    // Boxed: async-graphql gives each field of an object a future as large
    // as the object's largest field, and this one holds a patient row and
    // an audit send (~1 KB) that `Procedure.id` and its siblings would all
    // pay for.
    Box::pin(load_audited_patient(ctx, id, operation)).await
}

async fn load_audited_patient(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    operation: &str,
) -> async_graphql::Result<Option<Patient>> {
    let request = request_context(ctx)?;
    authorize(&request.actor, PatientAccess::Read)?;
    let Some(patient) = ctx
        .data::<Loaders>()?
        .patients
        .load_one(id)
        .await?
        .and_then(|rows| rows.into_iter().next())
    else {
        return Ok(None);
    };
    app_state(ctx)?
        .audit
        .record(
            request,
            operation,
            AuditEvent::new(AuditAction::Read)
                .entity(EntityType::Patient, Some(id))
                .patient(id),
        )
        .await;
    Ok(Some(Patient(patient)))
}

async fn consent_history(
    ctx: &Context<'_>,
    patient_id: uuid::Uuid,
) -> async_graphql::Result<Vec<Arc<contact_consents::Model>>> {
    let loaders = ctx.data::<Loaders>()?;
    let mut history = loaders
        .contact_consents
        .load_one(patient_id)
        .await?
        .unwrap_or_default();
    // In the order the consent was given (a converted request's consent
    // keeps its original time); ties by insertion.
    history.sort_by_key(|row| (row.recorded_at, row.id));
    Ok(history)
}

/// A patient of the clinic. Demographics and contact data are visible to
/// all staff (and partners with `patients:read`); the skin assessment and
/// medical history only to admins and providers.
#[Object]
impl Patient {
    /// The patient's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Human-readable chart number, e.g. `DG-7K3M9Q`.
    async fn chart_number(&self) -> &str {
        &self.0.chart_number
    }
    /// Given name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    /// Family name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// Name the patient goes by.
    async fn preferred_name(&self) -> Option<&str> {
        self.0.preferred_name.as_deref()
    }
    /// The patient's date of birth (`YYYY-MM-DD`), from which `age` is
    /// computed; absent if not recorded.
    async fn date_of_birth(&self) -> Option<Date> {
        self.0.date_of_birth.map(Into::into)
    }
    /// Age in whole years today (UTC date).
    async fn age(&self) -> Option<i32> {
        self.0
            .date_of_birth
            .map(|dob| age_on(dob, chrono::Utc::now().date_naive()))
    }
    /// Sex assigned at birth, as recorded.
    async fn sex_at_birth(&self) -> Option<&str> {
        self.0.sex_at_birth.as_deref()
    }
    /// The pronouns the patient uses, as they gave them (e.g. `she/her`);
    /// absent if not given.
    async fn pronouns(&self) -> Option<&str> {
        self.0.pronouns.as_deref()
    }
    /// Email (lower-cased).
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Phone in E.164, e.g. `+12127365000`.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Postal address.
    async fn address(&self) -> PostalAddress {
        PostalAddress {
            line1: self.0.address_line1.clone(),
            line2: self.0.address_line2.clone(),
            city: self.0.city.clone(),
            region: self.0.region.clone(),
            postal_code: self.0.postal_code.clone(),
            country: self.0.country.clone(),
        }
    }
    /// The channel the patient prefers to be contacted on.
    async fn preferred_channel(&self) -> Option<ContactChannel> {
        self.0.preferred_channel
    }
    /// Current consent per channel (PHONE, TEXT, EMAIL); IN_PERSON needs none.
    async fn contact_consent(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ChannelConsent>> {
        let history = consent_history(ctx, self.0.id).await?;
        Ok(ContactChannel::CONSENTED
            .iter()
            .map(|channel| {
                history
                    .iter()
                    .rev()
                    .find(|row| row.channel == *channel)
                    .map(|row| ChannelConsent::from(&**row))
                    .unwrap_or(ChannelConsent {
                        channel: *channel,
                        granted: false,
                        recorded_at: None,
                        source: None,
                        consent_text_version: None,
                    })
            })
            .collect())
    }
    /// Channels the patient may be contacted on now, IN_PERSON included.
    async fn contactable_channels(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ContactChannel>> {
        let history = consent_history(ctx, self.0.id).await?;
        let records: Vec<_> = history
            .iter()
            .map(|row| ConsentRecord {
                channel: row.channel,
                granted: row.granted,
                recorded_at: row.recorded_at,
            })
            .collect();
        Ok(consented_channels(&records).into_iter().collect())
    }
    /// Every grant and revocation of contact consent, oldest first.
    async fn contact_consent_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ChannelConsent>> {
        Ok(consent_history(ctx, self.0.id)
            .await?
            .iter()
            .map(|row| ChannelConsent::from(&**row))
            .collect())
    }
    /// Fitzpatrick skin type (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn fitzpatrick_type(&self) -> Option<FitzpatrickType> {
        self.0.fitzpatrick_type
    }
    /// True for Fitzpatrick IV-VI: post-inflammatory hyperpigmentation risk
    /// (advisory, not a contraindication; clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn hyperpigmentation_risk(&self) -> Option<bool> {
        self.0
            .fitzpatrick_type
            .map(FitzpatrickType::has_hyperpigmentation_risk)
    }
    /// What the patient wants treated (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn skin_concerns(&self) -> Option<Vec<SkinConcern>> {
        Some(
            split_codes::<SkinConcern>(&self.0.skin_concerns)
                .into_iter()
                .collect(),
        )
    }
    /// The medical history (clinical; every read is audited).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn medical_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<MedicalHistory>> {
        let history = ctx
            .data::<Loaders>()?
            .medical_histories
            .load_one(self.0.id)
            .await?
            .and_then(|rows| rows.into_iter().next());
        let state = app_state(ctx)?;
        state
            .audit
            .record(
                request_context(ctx)?,
                "Patient.medicalHistory",
                AuditEvent::new(AuditAction::Read)
                    .entity(EntityType::MedicalHistory, Some(self.0.id))
                    .patient(self.0.id),
            )
            .await;
        Ok(history.map(|row| MedicalHistory::from(Arc::unwrap_or_clone(row))))
    }
    /// The patient's consultations, by start time (staff, or partners with
    /// `schedule:read`).
    #[graphql(guard = "Allow::SCHEDULE_READERS")]
    async fn consultations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<Consultation>>> {
        may_withhold(async {
            Ok(ctx
                .data::<Loaders>()?
                .consultations_by_patient
                .load_one(self.0.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(Consultation)
                .collect())
        })
        .await
    }
    /// The patient's procedures, by start time (staff, or partners with
    /// `schedule:read`).
    #[graphql(guard = "Allow::SCHEDULE_READERS")]
    async fn procedures(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Procedure>>> {
        may_withhold(async {
            let rows = ctx
                .data::<Loaders>()?
                .procedures_by_patient
                .load_one(self.0.id)
                .await?
                .unwrap_or_default();
            let (state, request) = (app_state(ctx)?, request_context(ctx)?);
            let events = rows.iter().map(|row| {
                AuditEvent::new(AuditAction::Read)
                    .entity(EntityType::Procedure, Some(row.core().id))
                    .patient(self.0.id)
            });
            state
                .audit
                .record_all(request, "Patient.procedures", events)
                .await;
            Ok(rows.into_iter().map(Procedure).collect())
        })
        .await
    }
    /// The patient's follow-ups by due time (staff, or partners with
    /// `follow_ups:read`).
    #[graphql(guard = "Allow::FOLLOW_UP_READERS")]
    async fn follow_ups(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<FollowUp>>> {
        may_withhold(async {
            Ok(ctx
                .data::<Loaders>()?
                .follow_ups_by_patient
                .load_one(self.0.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(FollowUp)
                .collect())
        })
        .await
    }
    /// The active treatment plan (R-SERIES), if any (staff).
    #[graphql(guard = "Allow::STAFF")]
    async fn treatment_plan(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<TreatmentPlan>> {
        Ok(ctx
            .data::<Loaders>()?
            .plans_by_patient
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .rfind(|plan| plan.status == PlanStatus::Active)
            .map(TreatmentPlan))
    }
    /// The most recent contraindication screening (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn latest_screening(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Screening>> {
        Ok(ctx
            .data::<Loaders>()?
            .screenings_by_patient
            .load_one(self.0.id)
            .await?
            .and_then(|rows| rows.into_iter().last())
            .map(Screening))
    }
    /// Signed informed consents, oldest first (R-CONSENT; staff).
    #[graphql(guard = "Allow::STAFF")]
    async fn informed_consents(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<InformedConsent>>> {
        may_withhold(async {
            Ok(ctx
                .data::<Loaders>()?
                .informed_consents
                .load_one(self.0.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(InformedConsent)
                .collect())
        })
        .await
    }
    /// Whether the patient is archived (hidden from default lists, not
    /// bookable; records are kept).
    async fn archived(&self) -> bool {
        self.0.archived_at.is_some()
    }
    /// When the patient was archived.
    async fn archived_at(&self) -> Option<Timestamp> {
        self.0.archived_at.map(Into::into)
    }
    /// When the patient was created.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// When the patient last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at.into()
    }
    /// Version for optimistic locking; pass it as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A postal address to record.
#[derive(InputObject, Clone, Debug, Default)]
pub struct PostalAddressInput {
    /// Street and number.
    pub line1: Option<String>,
    /// Apartment, suite.
    pub line2: Option<String>,
    /// City or town of the address (up to 100 characters).
    pub city: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postal or ZIP code, as written (up to 20 characters).
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

/// A medical history to record (replaces the current one).
#[derive(InputObject, Clone, Debug)]
pub struct MedicalHistoryInput {
    /// Known allergies.
    #[graphql(default)]
    pub allergies: String,
    /// Current medications.
    #[graphql(default)]
    pub medications: String,
    /// Last isotretinoin dose.
    pub isotretinoin_last_dose: Option<Date>,
    /// Whether the patient takes anticoagulants (blood thinners), a relative
    /// contraindication to micro-needling (R-SCREENING); false when omitted.
    #[graphql(default)]
    pub takes_anticoagulants: bool,
    /// Conditions of the contraindication list.
    #[graphql(default)]
    pub conditions: Vec<MedicalCondition>,
    /// Clinical notes.
    #[graphql(default)]
    pub notes: String,
}

impl From<MedicalHistoryInput> for HistoryInput {
    fn from(input: MedicalHistoryInput) -> Self {
        Self {
            allergies: input.allergies,
            medications: input.medications,
            isotretinoin_last_dose: input.isotretinoin_last_dose.map(Into::into),
            takes_anticoagulants: input.takes_anticoagulants,
            conditions: input.conditions.into_iter().collect(),
            notes: input.notes,
        }
    }
}

/// Consent to be contacted, given with a new patient.
#[derive(InputObject, Clone, Debug)]
pub struct ContactConsentInput {
    /// Channels the patient consents to.
    pub channels: Vec<ContactChannel>,
    /// Version of the consent text shown.
    pub consent_text_version: String,
    /// Where the consent was given (defaults to STAFF).
    pub source: Option<String>,
}

impl From<ContactConsentInput> for ConsentGrant {
    fn from(input: ContactConsentInput) -> Self {
        Self {
            channels: input.channels.into_iter().collect::<BTreeSet<_>>(),
            source: input.source.unwrap_or_else(|| "STAFF".to_owned()),
            consent_text_version: Some(input.consent_text_version),
        }
    }
}

/// A patient to create.
#[derive(InputObject)]
pub struct CreatePatientInput {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Name the patient goes by.
    pub preferred_name: Option<String>,
    /// Date of birth (the patient must be at least the policy's minimum age).
    pub date_of_birth: Option<Date>,
    /// Sex assigned at birth.
    pub sex_at_birth: Option<String>,
    /// The pronouns the patient uses, free text as they give them, e.g.
    /// `she/her` (up to 32 characters).
    pub pronouns: Option<String>,
    /// The patient's email address, checked and stored lower-cased. It is used
    /// to reach the patient (with EMAIL consent) and to match consultation
    /// requests to them (R-DEDUP).
    pub email: Option<String>,
    /// Phone; stored in E.164 (US numbers may omit +1).
    pub phone: Option<String>,
    /// Postal address.
    pub address: Option<PostalAddressInput>,
    /// Preferred contact channel.
    pub preferred_channel: Option<ContactChannel>,
    /// Consent to be contacted.
    pub contact_consent: Option<ContactConsentInput>,
    /// Fitzpatrick skin type (clinicians only).
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// Skin concerns (clinicians only).
    pub skin_concerns: Option<Vec<SkinConcern>>,
    /// Medical history (clinicians only).
    pub medical_history: Option<MedicalHistoryInput>,
}

/// Changes to a patient; omitted fields keep their values.
#[derive(InputObject)]
pub struct UpdatePatientInput {
    /// The patient.
    pub id: ID,
    /// The `version` you last read; a stale one fails with CONFLICT.
    pub expected_version: i32,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Name the patient goes by.
    pub preferred_name: Option<String>,
    /// Corrected date of birth (`YYYY-MM-DD`, in the past, and the patient at
    /// least the policy's minimum age).
    pub date_of_birth: Option<Date>,
    /// Sex assigned at birth.
    pub sex_at_birth: Option<String>,
    /// The pronouns the patient uses, e.g. `she/her` (up to 32 characters);
    /// omit or leave empty to keep the current ones.
    pub pronouns: Option<String>,
    /// New email address, checked and stored lower-cased; omit or leave empty
    /// to keep the current one.
    pub email: Option<String>,
    /// New phone number, stored in E.164 (US numbers may omit +1); omit or
    /// leave empty to keep the current one.
    pub phone: Option<String>,
    /// Postal address (fields given replace those stored).
    pub address: Option<PostalAddressInput>,
    /// Preferred contact channel.
    pub preferred_channel: Option<ContactChannel>,
    /// Fitzpatrick skin type (clinicians only).
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// Skin concerns (clinicians only).
    pub skin_concerns: Option<Vec<SkinConcern>>,
    /// Medical history, replacing the current one (clinicians only).
    pub medical_history: Option<MedicalHistoryInput>,
}

/// Builds the service inputs from the GraphQL fields shared by create and
/// update.
#[allow(clippy::too_many_arguments)]
pub fn patient_details(
    first_name: Option<String>,
    last_name: Option<String>,
    preferred_name: Option<String>,
    date_of_birth: Option<Date>,
    sex_at_birth: Option<String>,
    pronouns: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<PostalAddressInput>,
    preferred_channel: Option<ContactChannel>,
) -> Demographics {
    let address = address.unwrap_or_default();
    Demographics {
        first_name,
        last_name,
        preferred_name,
        date_of_birth: date_of_birth.map(Into::into),
        sex_at_birth,
        pronouns,
        email,
        phone,
        address_line1: address.line1,
        address_line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postal_code,
        country: address.country,
        preferred_channel,
    }
}

/// The clinical part of a create or update.
pub fn clinical_details(
    fitzpatrick_type: Option<FitzpatrickType>,
    skin_concerns: Option<Vec<SkinConcern>>,
    medical_history: Option<MedicalHistoryInput>,
) -> ClinicalDetails {
    ClinicalDetails {
        fitzpatrick_type,
        skin_concerns: skin_concerns.map(|concerns| concerns.into_iter().collect()),
        medical_history: medical_history.map(Into::into),
    }
}

/// The created patient.
#[derive(SimpleObject)]
pub struct CreatePatientPayload {
    /// The new patient.
    pub patient: Patient,
}

/// The changed patient.
#[derive(SimpleObject)]
pub struct UpdatePatientPayload {
    /// The patient as it is now.
    pub patient: Patient,
}

/// The patient to archive.
#[derive(InputObject)]
pub struct ArchivePatientInput {
    /// The patient.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
}

/// The archived patient.
#[derive(SimpleObject)]
pub struct ArchivePatientPayload {
    /// The patient, now archived.
    pub patient: Patient,
}

/// Consent to be contacted, given on some channels.
#[derive(InputObject)]
pub struct RecordContactConsentInput {
    /// The patient.
    pub patient_id: ID,
    /// Channels consented to (PHONE, TEXT, EMAIL).
    pub channels: Vec<ContactChannel>,
    /// Version of the consent text shown (required).
    pub consent_text_version: Option<String>,
    /// Where it was given (defaults to STAFF).
    pub source: Option<String>,
}

/// Consent to be contacted, withdrawn on some channels.
#[derive(InputObject)]
pub struct RevokeContactConsentInput {
    /// The patient.
    pub patient_id: ID,
    /// Channels withdrawn (PHONE, TEXT, EMAIL).
    pub channels: Vec<ContactChannel>,
    /// Where it was withdrawn (defaults to STAFF).
    pub source: Option<String>,
}

/// The patient with the consent now in force.
#[derive(SimpleObject)]
pub struct RecordContactConsentPayload {
    /// The patient, whose `contactConsent` now shows the channels just granted.
    pub patient: Patient,
}

/// The patient with the consent now in force.
#[derive(SimpleObject)]
pub struct RevokeContactConsentPayload {
    /// The patient, whose `contactConsent` now shows the channels just
    /// withdrawn.
    pub patient: Patient,
}

/// How the patient list is ordered.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PatientOrder {
    /// By last name, then first name (accents and case ignored).
    #[default]
    LastName,
    /// Most recently created first.
    CreatedAtDesc,
    /// Soonest upcoming appointment first; patients without one last.
    NextAppointment,
}

/// Filters of the patient list.
#[derive(InputObject, Default)]
pub struct PatientFilter {
    /// Words matched against names, email and phone; case and accents are
    /// ignored (`zoe` finds `Zoë`).
    pub search: Option<String>,
    /// Archived patients only (true); by default only active ones.
    pub archived: Option<bool>,
    /// Only patients with (true) or without (false) a scheduled procedure
    /// from now on.
    pub has_upcoming_procedure: Option<bool>,
}

crate::connection_types!(
    PatientConnection,
    PatientEdge,
    Patient,
    "A page of patients.",
    "A patient with its cursor."
);
