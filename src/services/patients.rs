//! Patients: creating, changing, archiving, contact consent, reading and
//! listing. Every call goes through [`authorize`] and is audited.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait, LikeExpr},
};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{
        audit::{AuditAction, EntityType},
        patient::{
            ContactChannel, FitzpatrickType, MedicalCondition, SkinConcern, check_date_of_birth,
            fold_for_search, join_codes, parse_phone,
        },
        scope::ApiScope,
        staff::Email,
    },
    entities::{contact_consents, medical_histories, patients},
    error::{AppError, AppResult},
    graphql::pagination::{KeysetCursor, Page, PageDirection, PageRequest},
    services::listing::total_count,
    services::{
        audit::{AuditEvent, AuditedWrite},
        policy::current_policy,
        users::stale_version,
    },
};

/// Region used to read phone numbers written without a country code.
pub const DEFAULT_PHONE_REGION: &str = "US";

/// What an actor wants to do with patient data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatientAccess {
    /// Read demographics and contact data.
    Read,
    /// Change demographics and contact data.
    Write,
    /// Read clinical data (medical history, skin assessment).
    ClinicalRead,
    /// Change clinical data.
    ClinicalWrite,
}

/// The one object-level check every patient-scoped read and write passes:
/// staff read and write demographics, admins and providers read clinical
/// data and only providers write it, partners need `patients:read` / `patients:write` and never
/// see clinical data.
///
/// # Errors
/// `UNAUTHENTICATED` for anonymous callers, `FORBIDDEN` otherwise.
pub fn authorize(actor: &Actor, access: PatientAccess) -> AppResult<()> {
    let allowed = match (actor, access) {
        (Actor::System, _) => true,
        (Actor::Staff(staff), PatientAccess::ClinicalRead) => staff.role.sees_clinical_data(),
        (Actor::Staff(staff), PatientAccess::ClinicalWrite) => staff.role.writes_clinical_data(),
        (Actor::Staff(_), _) => true,
        (Actor::Partner(partner), PatientAccess::Read) => {
            partner.scopes.contains(&ApiScope::PatientsRead)
        }
        (Actor::Partner(partner), PatientAccess::Write) => {
            partner.scopes.contains(&ApiScope::PatientsWrite)
        }
        (Actor::Partner(_), PatientAccess::ClinicalRead | PatientAccess::ClinicalWrite) => false,
        (Actor::Anonymous, _) => return Err(AppError::Unauthenticated("sign in to do this")),
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The consent source a partner's calls always record: `PARTNER:<name>`.
pub fn partner_source(actor: &Actor) -> Option<String> {
    match actor {
        Actor::Partner(partner) => Some(
            format!("PARTNER:{}", partner.name)
                .chars()
                .take(200)
                .collect(),
        ),
        _ => None,
    }
}

/// Demographics and contact data; on update `None` keeps a value.
#[derive(Clone, Debug, Default)]
pub struct Demographics {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Name the patient goes by.
    pub preferred_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Sex assigned at birth.
    pub sex_at_birth: Option<String>,
    /// Pronouns.
    pub pronouns: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone, any common format.
    pub phone: Option<String>,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// Preferred contact channel.
    pub preferred_channel: Option<ContactChannel>,
}

/// The medical history as entered by a clinician.
#[derive(Clone, Debug, Default)]
pub struct MedicalHistoryInput {
    /// Known allergies.
    pub allergies: String,
    /// Current medications.
    pub medications: String,
    /// Last isotretinoin dose.
    pub isotretinoin_last_dose: Option<NaiveDate>,
    /// Takes anticoagulants.
    pub takes_anticoagulants: bool,
    /// Conditions of the contraindication list.
    pub conditions: BTreeSet<MedicalCondition>,
    /// Clinical notes.
    pub notes: String,
}

/// Clinical data of a patient; only admins and providers may set it.
#[derive(Clone, Debug, Default)]
pub struct ClinicalDetails {
    /// Fitzpatrick skin type.
    pub fitzpatrick_type: Option<FitzpatrickType>,
    /// Skin concerns.
    pub skin_concerns: Option<BTreeSet<SkinConcern>>,
    /// Medical history (replaces the current one).
    pub medical_history: Option<MedicalHistoryInput>,
}

impl ClinicalDetails {
    fn is_empty(&self) -> bool {
        self.fitzpatrick_type.is_none()
            && self.skin_concerns.is_none()
            && self.medical_history.is_none()
    }
}

/// Consent to be contacted, as given on a form or a call (R-CONTACT).
#[derive(Clone, Debug)]
pub struct ConsentGrant {
    /// Channels consented to.
    pub channels: BTreeSet<ContactChannel>,
    /// Where it came from: `WEB_FORM`, `PHONE`, `PARTNER:<name>`, `STAFF`.
    pub source: String,
    /// Version of the consent text shown.
    pub consent_text_version: Option<String>,
}

fn clean(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let value = value.trim().to_owned();
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            format!("must have at most {max} printable characters"),
        ));
    }
    Ok((!value.is_empty()).then_some(value))
}

fn required(field: &str, value: Option<String>) -> AppResult<String> {
    clean(field, value, 100)?.ok_or_else(|| AppError::bad_input(field, "is required"))
}

/// Demographics checked and normalized: trimmed text, lower-cased email,
/// E.164 phone, date of birth in the past and old enough.
struct CleanDemographics(Demographics);

async fn check_demographics(
    db: &impl ConnectionTrait,
    input: Demographics,
) -> AppResult<CleanDemographics> {
    let email = match clean("email", input.email, 254)? {
        Some(email) => Some(
            Email::parse(&email)
                .ok_or_else(|| AppError::bad_input("email", "not a valid email address"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let phone = match clean("phone", input.phone, 32)? {
        Some(phone) => Some(parse_phone(&phone, DEFAULT_PHONE_REGION).ok_or_else(|| {
            AppError::bad_input(
                "phone",
                "not a valid phone number; include the country code if outside the US",
            )
        })?),
        None => None,
    };
    if let Some(date_of_birth) = input.date_of_birth {
        let policy = current_policy(db).await?;
        let today = Utc::now().with_timezone(&policy.time_zone).date_naive();
        check_date_of_birth(date_of_birth, today, policy.minimum_patient_age)
            .map_err(|error| AppError::bad_input("dateOfBirth", error.to_string()))?;
    }
    let country = clean("country", input.country, 2)?.map(|country| country.to_ascii_uppercase());
    if country
        .as_ref()
        .is_some_and(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(AppError::bad_input(
            "country",
            "use the two-letter ISO code, e.g. US",
        ));
    }
    Ok(CleanDemographics(Demographics {
        first_name: clean("firstName", input.first_name, 100)?,
        last_name: clean("lastName", input.last_name, 100)?,
        preferred_name: clean("preferredName", input.preferred_name, 100)?,
        date_of_birth: input.date_of_birth,
        sex_at_birth: clean("sexAtBirth", input.sex_at_birth, 16)?,
        pronouns: clean("pronouns", input.pronouns, 32)?,
        email,
        phone,
        address_line1: clean("address.line1", input.address_line1, 200)?,
        address_line2: clean("address.line2", input.address_line2, 200)?,
        city: clean("address.city", input.city, 100)?,
        region: clean("address.region", input.region, 100)?,
        postal_code: clean("address.postalCode", input.postal_code, 20)?,
        country,
        preferred_channel: input.preferred_channel,
    }))
}

/// Folding can lengthen text (one CJK character becomes several letters);
/// keys are cut to their column's length.
fn cut(text: String, max_chars: usize) -> String {
    if text.chars().count() > max_chars {
        text.chars().take(max_chars).collect()
    } else {
        text
    }
}

/// The folded "last first" ordering key of the patient list.
pub(crate) fn sort_name(first: &str, last: &str) -> String {
    cut(
        format!("{} {}", fold_for_search(last), fold_for_search(first)),
        210,
    )
}

/// The folded names, email and phone that `search` matches.
pub(crate) fn search_text(patient: &patients::Model) -> String {
    let digits: String = patient
        .phone
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    cut(
        fold_for_search(&format!(
            "{} {} {} {} {} {}",
            patient.first_name,
            patient.last_name,
            patient.preferred_name.as_deref().unwrap_or(""),
            patient.email.as_deref().unwrap_or(""),
            patient.phone.as_deref().unwrap_or(""),
            digits
        )),
        800,
    )
}

/// Chart numbers drawn for one new patient before giving up. Each is one of
/// 30⁶ (~729 million), so a second draw is needed about once per 72,900
/// new patients when the clinic has 10,000, and a ninth practically never.
const CHART_NUMBER_DRAWS: usize = 8;

/// Stores a new patient, drawing another chart number from `draw` while the
/// one it has is already taken: a collision of random numbers is not the
/// caller's conflict. Any other unique clash still fails the insert.
///
/// # Errors
/// The database's error; `INTERNAL` if every draw was taken.
pub async fn insert_with_free_chart_number(
    db: &impl ConnectionTrait,
    mut patient: patients::Model,
    mut draw: impl FnMut() -> String,
) -> AppResult<patients::Model> {
    for _ in 0..CHART_NUMBER_DRAWS {
        let inserted = patients::Entity::insert(patients::ActiveModel::from(patient.clone()))
            .on_conflict_do_nothing_on([patients::Column::ChartNumber])
            .exec_without_returning(db)
            .await?;
        if let TryInsertResult::Inserted(1) = inserted {
            // As stored (timestamps at the database's precision).
            return patients::Entity::find_by_id(patient.id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the new patient vanished")));
        }
        patient.chart_number = draw();
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "{CHART_NUMBER_DRAWS} chart numbers in a row were taken"
    )))
}

/// A new human-readable chart number such as `DG-7K3M9Q`.
fn new_chart_number() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let code: String = (0..6)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("DG-{code}")
}

async fn write_medical_history(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    history: MedicalHistoryInput,
    exists: bool,
) -> AppResult<()> {
    let model = medical_histories::ActiveModel {
        patient_id: Set(patient_id),
        allergies: Set(history.allergies.trim().to_owned()),
        medications: Set(history.medications.trim().to_owned()),
        isotretinoin_last_dose: Set(history.isotretinoin_last_dose),
        takes_anticoagulants: Set(history.takes_anticoagulants),
        conditions: Set(join_codes(&history.conditions)),
        notes: Set(history.notes.trim().to_owned()),
        updated_at: Set(Utc::now()),
        version: Set(1),
    };
    if exists {
        let mut model = model;
        model.version = sea_orm::ActiveValue::NotSet;
        medical_histories::Entity::update_many()
            .set(model)
            .col_expr(
                medical_histories::Column::Version,
                Expr::col(medical_histories::Column::Version).add(1),
            )
            .filter(medical_histories::Column::PatientId.eq(patient_id))
            .exec(db)
            .await?;
    } else {
        model.insert(db).await?;
    }
    Ok(())
}

/// Records consent grants (or revocations) for a patient.
async fn write_consents(
    db: &impl ConnectionTrait,
    request: &RequestContext,
    patient_id: Uuid,
    channels: &BTreeSet<ContactChannel>,
    granted: bool,
    source: &str,
    consent_text_version: Option<&str>,
) -> AppResult<()> {
    let now = Utc::now();
    let rows: Vec<_> = channels
        .iter()
        .filter(|channel| **channel != ContactChannel::InPerson)
        .map(|channel| contact_consents::ActiveModel {
            id: Set(Uuid::now_v7()),
            patient_id: Set(patient_id),
            channel: Set(*channel),
            granted: Set(granted),
            recorded_at: Set(now),
            source: Set(source.to_owned()),
            consent_text_version: Set(consent_text_version.map(str::to_owned)),
            recorded_by: Set(request.actor.id()),
        })
        .collect();
    if !rows.is_empty() {
        contact_consents::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

/// Creates a patient with an optional clinical part and contact consent.
///
/// # Errors
/// `FORBIDDEN` when a non-clinician sends clinical data; `BAD_USER_INPUT`
/// naming the field.
pub async fn create_patient(
    db: &DatabaseConnection,
    request: &RequestContext,
    demographics: Demographics,
    clinical: ClinicalDetails,
    consent: Option<ConsentGrant>,
) -> AppResult<patients::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    if !clinical.is_empty() {
        authorize(&request.actor, PatientAccess::ClinicalWrite)?;
    }
    let mut write = AuditedWrite::begin(db, request, "createPatient").await?;
    let patient = insert_patient(&mut write, demographics, clinical, consent).await?;
    write.commit().await?;
    Ok(patient)
}

/// Inserts a patient inside an audited write (used by `createPatient` and
/// by converting a consultation request).
///
/// # Errors
/// `BAD_USER_INPUT` naming the field.
pub async fn insert_patient(
    write: &mut AuditedWrite<'_>,
    demographics: Demographics,
    clinical: ClinicalDetails,
    consent: Option<ConsentGrant>,
) -> AppResult<patients::Model> {
    let request = write.request().clone();
    let request = &request;
    let CleanDemographics(details) = check_demographics(&**write, demographics).await?;
    let first_name = required("firstName", details.first_name)?;
    let last_name = required("lastName", details.last_name)?;
    let now = Utc::now();
    let mut patient = patients::Model {
        id: Uuid::now_v7(),
        chart_number: new_chart_number(),
        sort_name: sort_name(&first_name, &last_name),
        first_name,
        last_name,
        preferred_name: details.preferred_name,
        date_of_birth: details.date_of_birth,
        sex_at_birth: details.sex_at_birth,
        pronouns: details.pronouns,
        email: details.email,
        phone: details.phone,
        address_line1: details.address_line1,
        address_line2: details.address_line2,
        city: details.city,
        region: details.region,
        postal_code: details.postal_code,
        country: details.country,
        fitzpatrick_type: clinical.fitzpatrick_type,
        skin_concerns: clinical
            .skin_concerns
            .as_ref()
            .map(join_codes)
            .unwrap_or_default(),
        preferred_channel: details.preferred_channel,
        search_text: String::new(),
        archived_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    patient.search_text = search_text(&patient);
    let patient = insert_with_free_chart_number(&**write, patient, new_chart_number).await?;
    if let Some(history) = clinical.medical_history {
        write_medical_history(&**write, patient.id, history, false).await?;
    }
    if let Some(consent) = consent {
        let version = clean(
            "contactConsent.consentTextVersion",
            consent.consent_text_version.clone(),
            64,
        )?;
        let source = clean("contactConsent.source", Some(consent.source.clone()), 200)?
            .unwrap_or_else(|| "STAFF".to_owned());
        let source = partner_source(&request.actor).unwrap_or(source);
        let consent = ConsentGrant {
            consent_text_version: version,
            source,
            ..consent
        };
        write_consents(
            &**write,
            request,
            patient.id,
            &consent.channels,
            true,
            &consent.source,
            consent.consent_text_version.as_deref(),
        )
        .await?;
    }
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::Patient, Some(patient.id))
            .patient(patient.id),
    );
    Ok(patient)
}

/// Applies changes if the patient is still at `expected_version`.
///
/// # Errors
/// `NOT_FOUND`, `CONFLICT` (stale), `FORBIDDEN` (clinical data by a
/// non-clinician), `INVALID_STATE` (archived), `BAD_USER_INPUT`.
pub async fn update_patient(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    demographics: Demographics,
    clinical: ClinicalDetails,
) -> AppResult<patients::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    if !clinical.is_empty() {
        authorize(&request.actor, PatientAccess::ClinicalWrite)?;
    }
    let mut write = AuditedWrite::begin(db, request, "updatePatient").await?;
    let current = find_patient(&*write, id).await?;
    if current.archived_at.is_some() {
        return Err(AppError::InvalidState("the patient is archived".to_owned()));
    }
    let CleanDemographics(details) = check_demographics(&*write, demographics).await?;
    let mut next = current.clone();
    macro_rules! keep_or_set {
        ($($field:ident),*) => { $( if let Some(value) = details.$field { next.$field = Some(value); } )* };
    }
    keep_or_set!(
        preferred_name,
        date_of_birth,
        sex_at_birth,
        pronouns,
        email,
        phone,
        address_line1,
        address_line2,
        city,
        region,
        postal_code,
        country,
        preferred_channel
    );
    if let Some(first_name) = details.first_name {
        next.first_name = first_name;
    }
    if let Some(last_name) = details.last_name {
        next.last_name = last_name;
    }
    if let Some(fitzpatrick_type) = clinical.fitzpatrick_type {
        next.fitzpatrick_type = Some(fitzpatrick_type);
    }
    if let Some(concerns) = &clinical.skin_concerns {
        next.skin_concerns = join_codes(concerns);
    }
    next.sort_name = sort_name(&next.first_name, &next.last_name);
    next.search_text = search_text(&next);
    next.updated_at = Utc::now();
    next.version = current.version.saturating_add(1);
    // Every column is written (`reset_all`), except the key.
    let mut active = patients::ActiveModel::from(next).reset_all();
    active.id = sea_orm::ActiveValue::Unchanged(id);
    let updated = patients::Entity::update_many()
        .set(active)
        .filter(patients::Column::Id.eq(id))
        .filter(patients::Column::Version.eq(expected_version))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale_version());
    }
    if let Some(history) = clinical.medical_history {
        let exists = medical_histories::Entity::find_by_id(id)
            .one(&*write)
            .await?
            .is_some();
        write_medical_history(&*write, id, history, exists).await?;
        write.audit(
            AuditEvent::new(AuditAction::Update)
                .entity(EntityType::MedicalHistory, Some(id))
                .patient(id),
        );
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Patient, Some(id))
            .patient(id),
    );
    let patient = find_patient(&*write, id).await?;
    write.commit().await?;
    Ok(patient)
}

/// Archives a patient: hidden from default lists and never bookable, but
/// every record is kept (R-RECORDS).
///
/// # Errors
/// `NOT_FOUND`, `CONFLICT` when stale.
pub async fn archive_patient(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
) -> AppResult<patients::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let mut write = AuditedWrite::begin(db, request, "archivePatient").await?;
    let current = find_patient(&*write, id).await?;
    if current.archived_at.is_none() {
        let now = Utc::now();
        let updated = patients::Entity::update_many()
            .col_expr(patients::Column::ArchivedAt, Expr::value(now))
            .col_expr(patients::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                patients::Column::Version,
                Expr::col(patients::Column::Version).add(1),
            )
            .filter(patients::Column::Id.eq(id))
            .filter(patients::Column::Version.eq(expected_version))
            .exec(&*write)
            .await?;
        if updated.rows_affected == 0 {
            return Err(stale_version());
        }
    }
    write.audit(
        AuditEvent::new(AuditAction::Archive)
            .entity(EntityType::Patient, Some(id))
            .patient(id),
    );
    let patient = find_patient(&*write, id).await?;
    write.commit().await?;
    Ok(patient)
}

/// Grants or revokes consent to contact a patient on some channels; a
/// revocation moves the patient's pending follow-ups off the revoked
/// channels (R-CONTACT).
///
/// # Errors
/// `NOT_FOUND`; `BAD_USER_INPUT` for an empty channel list or a grant
/// without the consent text version.
pub async fn set_contact_consent(
    db: &DatabaseConnection,
    request: &RequestContext,
    patient_id: Uuid,
    channels: &BTreeSet<ContactChannel>,
    granted: bool,
    source: &str,
    consent_text_version: Option<&str>,
) -> AppResult<patients::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let operation = if granted {
        "recordContactConsent"
    } else {
        "revokeContactConsent"
    };
    if channels
        .iter()
        .all(|channel| *channel == ContactChannel::InPerson)
    {
        return Err(AppError::bad_input(
            "channels",
            "name at least one of PHONE, TEXT, EMAIL",
        ));
    }
    let version = clean(
        "consentTextVersion",
        consent_text_version.map(str::to_owned),
        64,
    )?;
    if granted && version.is_none() {
        return Err(AppError::bad_input(
            "consentTextVersion",
            "record the version of the consent text shown",
        ));
    }
    let source =
        clean("source", Some(source.to_owned()), 200)?.unwrap_or_else(|| "STAFF".to_owned());
    let source = partner_source(&request.actor).unwrap_or(source);
    let mut write = AuditedWrite::begin(db, request, operation).await?;
    let patient = find_patient(&*write, patient_id).await?;
    write_consents(
        &*write,
        request,
        patient_id,
        channels,
        granted,
        &source,
        version.as_deref(),
    )
    .await?;
    write.audit(
        AuditEvent::new(if granted {
            AuditAction::Create
        } else {
            AuditAction::Update
        })
        .entity(EntityType::ContactConsent, Some(patient_id))
        .patient(patient_id),
    );
    if !granted {
        crate::services::follow_ups::move_off_revoked_channels(&mut write, &patient).await?;
    }
    write.commit().await?;
    Ok(patient)
}

/// The patient with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_patient(db: &impl ConnectionTrait, id: Uuid) -> AppResult<patients::Model> {
    patients::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound { entity: "patient" })
}

/// How the patient list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatientOrdering {
    /// Last name, then first name.
    LastName,
    /// Newest first.
    NewestFirst,
    /// Soonest upcoming appointment first; patients without one last.
    NextAppointment,
}

impl PatientOrdering {
    fn cursor_name(self) -> &'static str {
        match self {
            Self::LastName => "patients_by_last_name",
            Self::NewestFirst => "patients_newest_first",
            Self::NextAppointment => "patients_by_next_appointment",
        }
    }
}

/// Sort key of patients without an upcoming appointment: after everyone.
const NO_APPOINTMENT: i64 = i64::MAX;

/// One kind of appointment a patient can have booked: its table and the
/// columns the next-appointment sort reads.
struct AppointmentTable {
    table: sea_orm::sea_query::DynIden,
    patient_id: sea_orm::sea_query::DynIden,
    starts_at_s: sea_orm::sea_query::DynIden,
    status: sea_orm::sea_query::DynIden,
    scheduled: sea_orm::Value,
}

/// Consultations and procedures, each with its SCHEDULED status.
fn appointment_tables() -> [AppointmentTable; 2] {
    use sea_orm::{ActiveEnum, IdenStatic, sea_query::IntoIden};

    use crate::{
        domain::{consultation::ConsultationStatus, procedure::ProcedureStatus},
        entities::{consultations, procedures},
    };
    [
        AppointmentTable {
            table: consultations::Entity.into_iden(),
            patient_id: consultations::Column::PatientId.as_str().into_iden(),
            starts_at_s: consultations::Column::StartsAtS.as_str().into_iden(),
            status: consultations::Column::Status.as_str().into_iden(),
            scheduled: ConsultationStatus::Scheduled.to_value().into(),
        },
        AppointmentTable {
            table: procedures::Entity.into_iden(),
            patient_id: procedures::Column::PatientId.as_str().into_iden(),
            starts_at_s: procedures::Column::StartsAtS.as_str().into_iden(),
            status: procedures::Column::Status.as_str().into_iden(),
            scheduled: ProcedureStatus::Scheduled.to_value().into(),
        },
    ]
}

/// The patient's earliest scheduled consultation or procedure at or after
/// `now_s` (Unix seconds), or [`NO_APPOINTMENT`], as correlated subqueries.
fn next_appointment_expr(now_s: i64) -> Expr {
    use sea_orm::sea_query::{Func, Query};
    let [first, second] = appointment_tables().map(|t| {
        let earliest = Query::select()
            .expr(Expr::col((t.table.clone(), t.starts_at_s.clone())).min())
            .from(t.table.clone())
            .and_where(
                Expr::col((t.table.clone(), t.patient_id))
                    .equals((patients::Entity, patients::Column::Id)),
            )
            .and_where(Expr::col((t.table.clone(), t.status)).eq(t.scheduled))
            .and_where(Expr::col((t.table, t.starts_at_s)).gte(now_s))
            .to_owned();
        Expr::from(Func::coalesce([
            Expr::SubQuery(None, Box::new(earliest.into())),
            Expr::value(NO_APPOINTMENT),
        ]))
    });
    Expr::case(first.clone().lte(second.clone()), first)
        .finally(second)
        .into()
}

/// The next appointment (Unix seconds) of each of these patients.
async fn next_appointments(
    db: &impl ConnectionTrait,
    patient_ids: &[Uuid],
    now_s: i64,
) -> AppResult<std::collections::HashMap<Uuid, i64>> {
    use sea_orm::sea_query::Query;
    let mut next = std::collections::HashMap::new();
    for t in appointment_tables() {
        let query = Query::select()
            .column((t.table.clone(), t.patient_id.clone()))
            .expr_as(
                Expr::col((t.table.clone(), t.starts_at_s.clone())).min(),
                "next_s",
            )
            .from(t.table.clone())
            .and_where(
                Expr::col((t.table.clone(), t.patient_id.clone()))
                    .is_in(patient_ids.iter().copied()),
            )
            .and_where(Expr::col((t.table.clone(), t.status)).eq(t.scheduled))
            .and_where(Expr::col((t.table, t.starts_at_s)).gte(now_s))
            .group_by_col(t.patient_id)
            .to_owned();
        let statement = db.get_database_backend().build(&query);
        for row in db.query_all_raw(statement).await? {
            let patient: Uuid = row.try_get("", "patient_id")?;
            let at: Option<i64> = row.try_get("", "next_s")?;
            if let Some(at) = at {
                next.entry(patient)
                    .and_modify(|earliest: &mut i64| *earliest = Ord::min(*earliest, at))
                    .or_insert(at);
            }
        }
    }
    Ok(next)
}

/// Filters of the patient list.
#[derive(Clone, Debug, Default)]
pub struct PatientFilter {
    /// Words matched against names, email and phone (case and accents
    /// ignored).
    pub search: Option<String>,
    /// Archived patients only (true), or active only (false, the default).
    pub archived: Option<bool>,
    /// Only patients with (true) or without (false) a scheduled procedure
    /// from now on.
    pub has_upcoming_procedure: Option<bool>,
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One page of patients, each with its cursor, and the total matching
/// the filter.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another ordering; database failures.
pub async fn list_patients(
    db: &DatabaseConnection,
    filter: &PatientFilter,
    ordering: PatientOrdering,
    page: &PageRequest,
) -> AppResult<(Page<(patients::Model, KeysetCursor)>, i64)> {
    let mut query = patients::Entity::find();
    query = if filter.archived.unwrap_or(false) {
        query.filter(patients::Column::ArchivedAt.is_not_null())
    } else {
        query.filter(patients::Column::ArchivedAt.is_null())
    };
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if search.chars().count() > 100 {
            return Err(AppError::bad_input(
                "filter.search",
                "search at most 100 characters",
            ));
        }
        for word in fold_for_search(search).split_whitespace() {
            let pattern = format!("%{}%", escape_like(word));
            query = query.filter(
                Expr::col(patients::Column::SearchText).like(LikeExpr::new(pattern).escape('\\')),
            );
        }
    }
    if let Some(wanted) = filter.has_upcoming_procedure {
        use crate::{domain::procedure::ProcedureStatus, entities::procedures};
        let upcoming = sea_orm::sea_query::Query::select()
            .expr(Expr::val(1))
            .from(procedures::Entity)
            .and_where(
                Expr::col((procedures::Entity, procedures::Column::PatientId))
                    .equals((patients::Entity, patients::Column::Id)),
            )
            .and_where(
                Expr::col((procedures::Entity, procedures::Column::Status))
                    .eq(sea_orm::ActiveEnum::to_value(&ProcedureStatus::Scheduled)),
            )
            .and_where(
                Expr::col((procedures::Entity, procedures::Column::StartsAtS))
                    .gte(Utc::now().timestamp()),
            )
            .to_owned();
        let exists = Expr::exists(upcoming);
        query = query.filter(if wanted { exists } else { exists.not() });
    }
    let total = total_count(db, &query, page).await?;
    let forward = page.direction == PageDirection::Forward;
    let name = ordering.cursor_name();
    let mut next_now_s = 0;
    match ordering {
        PatientOrdering::LastName => {
            if let Some((sort, id)) = page.cursor_key::<(String, Uuid)>(name)? {
                let key = Expr::tuple([
                    Expr::col(patients::Column::SortName),
                    Expr::col(patients::Column::Id),
                ]);
                let at = Expr::tuple([Expr::value(sort), Expr::value(id)]);
                query = query.filter(if forward { key.gt(at) } else { key.lt(at) });
            }
            let order = if forward { Order::Asc } else { Order::Desc };
            query = query
                .order_by(patients::Column::SortName, order.clone())
                .order_by(patients::Column::Id, order);
        }
        PatientOrdering::NewestFirst => {
            if let Some(id) = page.cursor_key::<Uuid>(name)? {
                query = query.filter(if forward {
                    patients::Column::Id.lt(id)
                } else {
                    patients::Column::Id.gt(id)
                });
            }
            query = query.order_by(
                patients::Column::Id,
                if forward { Order::Desc } else { Order::Asc },
            );
        }
        PatientOrdering::NextAppointment => {
            // "Now" travels in the cursor, so every page sorts alike.
            let cursor = page.cursor_key::<(i64, i64, Uuid)>(name)?;
            let now_s = cursor.map_or_else(|| Utc::now().timestamp(), |(now_s, _, _)| now_s);
            next_now_s = now_s;
            if let Some((_, next_s, id)) = cursor {
                let key = Expr::tuple([
                    next_appointment_expr(now_s),
                    Expr::col(patients::Column::Id),
                ]);
                let at = Expr::tuple([Expr::value(next_s), Expr::value(id)]);
                query = query.filter(if forward { key.gt(at) } else { key.lt(at) });
            }
            let order = if forward { Order::Asc } else { Order::Desc };
            query = query
                .order_by(next_appointment_expr(now_s), order.clone())
                .order_by(patients::Column::Id, order);
        }
    }
    let rows = query.limit(page.fetch_limit()).all(db).await?;
    let next = if ordering == PatientOrdering::NextAppointment {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        next_appointments(db, &ids, next_now_s).await?
    } else {
        std::collections::HashMap::new()
    };
    let rows = rows
        .into_iter()
        .map(|row| {
            let cursor = match ordering {
                PatientOrdering::LastName => KeysetCursor::new(name, &(&row.sort_name, row.id)),
                PatientOrdering::NewestFirst => KeysetCursor::new(name, &row.id),
                PatientOrdering::NextAppointment => {
                    let next_s = next.get(&row.id).copied().unwrap_or(NO_APPOINTMENT);
                    KeysetCursor::new(name, &(next_now_s, next_s, row.id))
                }
            }?;
            Ok((row, cursor))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((page.into_page(rows), total))
}
