//! Procedures from booking to signature: R-LICENSE, R-INTERVAL, R-BOOKING,
//! R-CONSENT, R-SCREENING, R-PREP, R-DEVICE, R-CARTRIDGE, R-DEPTH,
//! R-POSTCARE and R-RECORDS, each checked here, in the transaction that
//! writes, by the API itself.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};

use crate::{
    auth::actor::RequestContext,
    domain::{
        audit::{AuditAction, EntityType},
        booking::{APPOINTMENT_MINUTES, Window},
        consultation::{ConsultationStatus, PlanStatus, sessions_remaining},
        depth::Depth,
        names::api_name,
        patient::{join_codes, split_codes},
        policy::{Amender, ClinicPolicy},
        procedure::{
            ChecklistProblem, ClinicalEndpoint, DepthProblem, DepthVerdict, NeedlingPattern,
            PostCare, PrepChecklist, ProcedureStatus, check_depth, check_interval, check_post_care,
            check_prep, clinic_day,
        },
        screening::{ScreeningFindings, clears_treatment},
        staff::Role,
        treatment_area::TreatmentArea,
    },
    entities::{
        consultations, device_sessions, informed_consents, patients, procedure_amendments,
        procedures, screenings, treatment_plans, users,
    },
    error::{AppError, AppResult, ErrorCode},
    events::DomainEvent,
    graphql::pagination::{KeysetCursor, Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        consultations::{ensure_provider_free, require_provider},
        devices::{CartridgeSpec, claim_cartridge, usable_device},
        input::{idempotency_actor, optional_text, required_text},
        listing::by_start,
        patients::{PatientAccess, authorize},
        policy::current_policy,
        users::{license_of, stale_version},
    },
};

/// How long an idempotency key keeps returning its first booking.
const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

/// Longest device session charted, in minutes.
const MAX_DEVICE_SESSION_MINUTES: i64 = 240;

/// Longest a procedure stays open for charting after its start: a session
/// charted later would escape the checks made at the start.
const MAX_PROCEDURE_LENGTH: Duration = Duration::hours(12);

/// Most passes over an area in one device session.
const MAX_PASSES: i32 = 20;

fn checklist_error(problem: ChecklistProblem) -> AppError {
    AppError::bad_input(problem.field, problem.message)
}

/// The procedure with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_procedure(db: &impl ConnectionTrait, id: Uuid) -> AppResult<procedures::Model> {
    procedures::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            entity: "procedure",
        })
}

/// The day, in the clinic's time zone, of a procedure starting at
/// `starts_at_s` (Unix seconds): the booked day, and once started the day
/// it was performed (starting moves it to its real time).
pub fn performed_day(starts_at_s: i64, policy: &ClinicPolicy) -> NaiveDate {
    let start = DateTime::from_timestamp(starts_at_s, 0).unwrap_or_default();
    clinic_day(start, policy.time_zone)
}

/// The procedure, locked until the transaction ends (a row lock on
/// PostgreSQL; SQLite's write transaction already serializes writers), so
/// that a status check holds until the write: a procedure being signed
/// cannot gain a device session meanwhile.
async fn lock_procedure(db: &impl ConnectionTrait, id: Uuid) -> AppResult<procedures::Model> {
    let mut query = procedures::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(db).await?.ok_or(AppError::NotFound {
        entity: "procedure",
    })
}

/// The patient, locked so that two bookings for them cannot both pass the
/// interval check (a row lock on PostgreSQL; SQLite's write transaction
/// already serializes writers).
async fn lock_patient(db: &impl ConnectionTrait, id: Uuid) -> AppResult<patients::Model> {
    let mut query = patients::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await?
        .ok_or(AppError::NotFound { entity: "patient" })
}

/// R-LICENSE: the user is a provider whose license is valid on `day`.
///
/// # Errors
/// `LICENSE_REQUIRED` for anyone but a provider with a license on file;
/// `LICENSE_EXPIRED`.
pub fn ensure_licensed(user: &users::Model, day: NaiveDate) -> AppResult<()> {
    let license = license_of(user).filter(|_| user.role == Role::Provider && user.active);
    let Some(license) = license else {
        return Err(AppError::rule(
            ErrorCode::LicenseRequired,
            format!(
                "{} is not a licensed provider; only licensed providers perform procedures",
                user.display_name
            ),
        ));
    };
    if !license.is_valid_on(day) {
        return Err(AppError::rule(
            ErrorCode::LicenseExpired,
            format!(
                "{}'s license {} expired on {}, before the procedure's date {day}",
                user.display_name, license.number, license.expires_on
            ),
        ));
    }
    Ok(())
}

async fn licensed_user(db: &impl ConnectionTrait, id: Uuid, day: NaiveDate) -> AppResult<()> {
    let user = users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound { entity: "user" })?;
    ensure_licensed(&user, day)
}

/// R-INTERVAL: `day` is far enough from every other non-cancelled
/// procedure of the patient, before and after.
async fn ensure_interval(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    day: NaiveDate,
    except: Option<Uuid>,
    policy: &ClinicPolicy,
) -> AppResult<()> {
    let mut others = procedures::Entity::find()
        .select_only()
        .column(procedures::Column::StartsAtS)
        .filter(procedures::Column::PatientId.eq(patient_id))
        .filter(procedures::Column::Status.ne(ProcedureStatus::Cancelled));
    if let Some(id) = except {
        others = others.filter(procedures::Column::Id.ne(id));
    }
    let days: Vec<NaiveDate> = others
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|start| DateTime::from_timestamp(start, 0))
        .map(|start| clinic_day(start, policy.time_zone))
        .collect();
    check_interval(day, &days, policy.min_interval_days).map_err(|earliest_allowed| {
        AppError::IntervalTooShort {
            min_days: policy.min_interval_days,
            earliest_allowed,
        }
    })
}

async fn earlier_booking(
    db: &impl ConnectionTrait,
    actor: &str,
    key: &str,
) -> AppResult<Option<procedures::Model>> {
    // At most one row holds a key (unique index); its age is compared in
    // Rust, never as timestamp text.
    Ok(keyed_booking(db, actor, key)
        .await?
        .filter(|row| row.created_at > Utc::now() - IDEMPOTENCY_WINDOW))
}

async fn keyed_booking(
    db: &impl ConnectionTrait,
    actor: &str,
    key: &str,
) -> AppResult<Option<procedures::Model>> {
    Ok(procedures::Entity::find()
        .filter(procedures::Column::IdempotencyActor.eq(actor))
        .filter(procedures::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// A procedure to book.
#[derive(Clone, Debug)]
pub struct ProcedureBooking {
    /// The patient (not archived).
    pub patient_id: Uuid,
    /// The performing provider (licensed on the day).
    pub provider_id: Uuid,
    /// The treatment plan; the patient's active plan when omitted.
    pub treatment_plan_id: Option<Uuid>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_minutes: i32,
    /// Areas to treat.
    pub areas: BTreeSet<TreatmentArea>,
    /// Retry key: the same key from the same actor within 24 h returns the
    /// first booking.
    pub idempotency_key: Option<String>,
}

async fn plan_for(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    requested: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let active = treatment_plans::Entity::find()
        .filter(treatment_plans::Column::PatientId.eq(patient_id))
        .filter(treatment_plans::Column::Status.eq(PlanStatus::Active));
    match requested {
        Some(id) => active
            .filter(treatment_plans::Column::Id.eq(id))
            .one(db)
            .await?
            .map(|plan| Some(plan.id))
            .ok_or_else(|| {
                AppError::bad_input(
                    "treatmentPlanId",
                    "not an active treatment plan of this patient",
                )
            }),
        None => Ok(active
            .order_by_desc(treatment_plans::Column::Id)
            .one(db)
            .await?
            .map(|plan| plan.id)),
    }
}

/// Books a procedure: R-LICENSE on its date, R-INTERVAL against every
/// other non-cancelled procedure of the patient, R-BOOKING for the provider
/// (race-safe), and a patient who is not archived.
///
/// # Errors
/// `BAD_USER_INPUT`; `INVALID_STATE` (archived); `LICENSE_REQUIRED`,
/// `LICENSE_EXPIRED`; `INTERVAL_TOO_SHORT`; `DOUBLE_BOOKED`.
pub async fn schedule(
    db: &DatabaseConnection,
    request: &RequestContext,
    booking: ProcedureBooking,
) -> AppResult<procedures::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let window =
        Window::new(booking.starts_at, i64::from(booking.duration_minutes)).ok_or_else(|| {
            AppError::bad_input(
                "durationMinutes",
                format!(
                    "must be {} to {} minutes",
                    APPOINTMENT_MINUTES.start(),
                    APPOINTMENT_MINUTES.end()
                ),
            )
        })?;
    if booking.starts_at <= Utc::now() {
        return Err(AppError::bad_input("startsAt", "must be in the future"));
    }
    if booking.areas.is_empty() {
        return Err(AppError::bad_input(
            "areas",
            "name at least one treatment area",
        ));
    }
    let actor_key = idempotency_actor(request);
    let idempotency_key = optional_text("idempotencyKey", booking.idempotency_key, 128)?;
    if let Some(key) = &idempotency_key
        && let Some(earlier) = earlier_booking(db, &actor_key, key).await?
    {
        return Ok(earlier);
    }
    let created_by = request.actor.id().ok_or(AppError::Forbidden)?;
    let mut write = AuditedWrite::begin(db, request, "scheduleProcedure").await?;
    if let Some(key) = &idempotency_key {
        // A key older than the window is free again.
        if let Some(stale) = keyed_booking(&*write, &actor_key, key)
            .await?
            .filter(|row| row.created_at <= Utc::now() - IDEMPOTENCY_WINDOW)
        {
            procedures::Entity::update_many()
                .col_expr(
                    procedures::Column::IdempotencyKey,
                    Expr::value(Option::<String>::None),
                )
                .filter(procedures::Column::Id.eq(stale.id))
                .exec(&*write)
                .await?;
        }
    }
    let patient = lock_patient(&*write, booking.patient_id).await?;
    if let Some(key) = &idempotency_key
        && let Some(earlier) = earlier_booking(&*write, &actor_key, key).await?
    {
        // A retry that raced the first request and waited for its lock.
        return Ok(earlier);
    }
    if patient.archived_at.is_some() {
        return Err(AppError::InvalidState(
            "archived patients cannot be booked".to_owned(),
        ));
    }
    let policy = current_policy(&*write).await?;
    let day = clinic_day(booking.starts_at, policy.time_zone);
    let provider =
        crate::services::consultations::lock_provider_any(&*write, booking.provider_id).await?;
    ensure_licensed(&provider, day)?;
    let plan = plan_for(&*write, patient.id, booking.treatment_plan_id).await?;
    ensure_interval(&*write, patient.id, day, None, &policy).await?;
    ensure_provider_free(&*write, provider.id, window, None).await?;
    let now = Utc::now();
    let inserted = procedures::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient.id),
        provider_id: Set(provider.id),
        treatment_plan_id: Set(plan),
        starts_at_s: Set(window.start_s()),
        ends_at_s: Set(window.end_s()),
        scheduled_starts_at_s: Set(Some(window.start_s())),
        status: Set(ProcedureStatus::Scheduled),
        areas: Set(join_codes(&booking.areas)),
        cancel_reason: Set(None),
        idempotency_actor: Set(idempotency_key.as_ref().map(|_| actor_key.clone())),
        idempotency_key: Set(idempotency_key.clone()),
        numbing_product: Set(None),
        numbing_applied_at: Set(None),
        screening_id: Set(None),
        screening_override_reason: Set(None),
        started_at: Set(None),
        lipopeptide_booster: Set(None),
        moisturizer: Set(None),
        sunscreen_spf: Set(None),
        immediate_response: Set(None),
        clinical_notes: Set(String::new()),
        completed_at: Set(None),
        signed_at: Set(None),
        signed_by: Set(None),
        signed_record: Set(None),
        adverse_flagged_at: Set(None),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*write)
    .await;
    let procedure = match (inserted, &idempotency_key) {
        (Ok(row), _) => row,
        // The same key raced in from a retry: answer with the first booking.
        (Err(error), Some(key))
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            drop(write);
            return earlier_booking(db, &actor_key, key)
                .await?
                .ok_or_else(|| AppError::Conflict("the idempotency key is in use".to_owned()));
        }
        (Err(error), _) => return Err(error.into()),
    };
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::Procedure, Some(procedure.id))
            .patient(procedure.patient_id),
    );
    write.emit(DomainEvent::procedure(&procedure));
    write.commit().await?;
    Ok(procedure)
}

/// Applies `change` to the procedure if it is still at `expected_version`,
/// stamping the change time and bumping the version (optimistic locking).
///
/// # Errors
/// `CONFLICT` when stale.
async fn versioned_update(
    write: &AuditedWrite<'_>,
    id: Uuid,
    expected_version: i32,
    now: DateTime<Utc>,
    change: impl FnOnce(
        sea_orm::UpdateMany<procedures::Entity>,
    ) -> sea_orm::UpdateMany<procedures::Entity>,
) -> AppResult<()> {
    let update = procedures::Entity::update_many()
        .col_expr(procedures::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            procedures::Column::Version,
            Expr::col(procedures::Column::Version).add(1),
        )
        .filter(procedures::Column::Id.eq(id))
        .filter(procedures::Column::Version.eq(expected_version));
    if change(update).exec(&**write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    Ok(())
}

/// Refuses any change to a signed procedure (R-RECORDS) and any change the
/// status does not allow.
fn ensure_status(
    procedure: &procedures::Model,
    allowed: &[ProcedureStatus],
    doing: &str,
) -> AppResult<()> {
    if procedure.status == ProcedureStatus::Signed {
        return Err(AppError::rule(
            ErrorCode::ProcedureLocked,
            "the procedure is signed and locked; record corrections with amendProcedure",
        ));
    }
    if !allowed.contains(&procedure.status) {
        return Err(AppError::InvalidState(format!(
            "a {} procedure cannot be {doing}",
            api_name(&procedure.status)
        )));
    }
    Ok(())
}

fn ensure_performer(procedure: &procedures::Model, provider_id: Uuid) -> AppResult<()> {
    if procedure.provider_id != provider_id {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// What a provider charts to start a procedure.
#[derive(Clone, Debug)]
pub struct ProcedureStart {
    /// The R-PREP checklist.
    pub prep: PrepChecklist,
    /// Reason to proceed despite relative contraindications found by the
    /// screening (when the screening itself carries none).
    pub screening_override_reason: Option<String>,
}

/// R-CONSENT: a signed informed consent is on file.
async fn ensure_consent(db: &impl ConnectionTrait, patient_id: Uuid) -> AppResult<()> {
    let now = Utc::now();
    let signed = informed_consents::Entity::find()
        .filter(informed_consents::Column::PatientId.eq(patient_id))
        .all(db)
        .await?
        .iter()
        .any(|consent| consent.signed_at <= now);
    if !signed {
        return Err(AppError::rule(
            ErrorCode::ConsentRequired,
            "no signed informed consent for micro-needling is on file; record it with signConsent",
        ));
    }
    Ok(())
}

/// R-SCREENING: the latest screening within the policy's validity, and
/// whether it clears treatment with the override given.
async fn fresh_screening(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    policy: &ClinicPolicy,
    override_reason: Option<&str>,
) -> AppResult<(screenings::Model, Option<String>)> {
    let valid_since = Utc::now() - Duration::days(i64::from(policy.screening_valid_days));
    // The latest screening (ids are UUIDv7: in recording order), fresh
    // enough; times compared in Rust, never as timestamp text.
    let screening = screenings::Entity::find()
        .filter(screenings::Column::PatientId.eq(patient_id))
        .order_by_desc(screenings::Column::Id)
        .one(db)
        .await?
        .filter(|screening| screening.recorded_at >= valid_since)
        .ok_or_else(|| {
            AppError::rule(
                ErrorCode::ScreeningRequired,
                format!(
                    "no contraindication screening in the last {} days; record one with recordScreening",
                    policy.screening_valid_days
                ),
            )
        })?;
    let findings = ScreeningFindings {
        absolute: split_codes(&screening.absolute_findings),
        relative: split_codes(&screening.relative_findings),
        advisories: split_codes(&screening.advisories),
    };
    let reason = override_reason
        .map(str::to_owned)
        .or_else(|| screening.override_reason.clone())
        .filter(|reason| !reason.trim().is_empty());
    clears_treatment(&findings, reason.as_deref())
        .map_err(|problem| AppError::contraindicated(&problem))?;
    let reason = reason.filter(|_| !findings.relative.is_empty());
    Ok((screening, reason))
}

/// Starts a procedure (its performing provider): rechecks R-LICENSE and
/// R-INTERVAL on the day it is performed, requires R-CONSENT, a fresh
/// R-SCREENING that clears treatment and the R-PREP checklist.
///
/// # Errors
/// `FORBIDDEN`; `PROCEDURE_LOCKED`, `INVALID_STATE`; `LICENSE_*`;
/// `INTERVAL_TOO_SHORT`; `CONSENT_REQUIRED`; `SCREENING_REQUIRED`;
/// `CONTRAINDICATED`; `BAD_USER_INPUT` naming the checklist item;
/// `CONFLICT` when stale.
pub async fn start(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    start: ProcedureStart,
) -> AppResult<procedures::Model> {
    let provider_id = require_provider(&request.actor)?;
    let now = Utc::now();
    check_prep(&start.prep, now).map_err(checklist_error)?;
    let override_reason = optional_text(
        "screeningOverrideReason",
        start.screening_override_reason,
        1000,
    )?;
    let mut write = AuditedWrite::begin(db, request, "startProcedure").await?;
    let procedure = lock_procedure(&*write, id).await?;
    ensure_status(&procedure, &[ProcedureStatus::Scheduled], "started")?;
    ensure_performer(&procedure, provider_id)?;
    let patient = lock_patient(&*write, procedure.patient_id).await?;
    if patient.archived_at.is_some() {
        return Err(AppError::InvalidState(
            "archived patients cannot be treated".to_owned(),
        ));
    }
    let policy = current_policy(&*write).await?;
    let today = clinic_day(now, policy.time_zone);
    licensed_user(&*write, provider_id, today).await?;
    ensure_interval(&*write, procedure.patient_id, today, Some(id), &policy).await?;
    // The appointment moves to when it really happens, so R-INTERVAL and
    // R-BOOKING hold against the true time, however early or late it
    // starts.
    let duration_minutes = (procedure.ends_at_s - procedure.starts_at_s) / 60;
    let actual = Window::new(now, duration_minutes)
        .ok_or_else(|| anyhow::anyhow!("stored procedure {id} has an invalid length"))?;
    crate::services::consultations::lock_provider_any(&*write, provider_id).await?;
    ensure_provider_free(&*write, provider_id, actual, Some(id)).await?;
    ensure_consent(&*write, procedure.patient_id).await?;
    let (screening, reason) = fresh_screening(
        &*write,
        procedure.patient_id,
        &policy,
        override_reason.as_deref(),
    )
    .await?;
    let overridden_now = reason.is_some() && reason == override_reason;
    versioned_update(&write, id, expected_version, now, |update| {
        update
            .col_expr(
                procedures::Column::Status,
                Expr::value(ProcedureStatus::InProgress),
            )
            .col_expr(
                procedures::Column::NumbingProduct,
                Expr::value(start.prep.numbing_product.trim().to_owned()),
            )
            .col_expr(
                procedures::Column::NumbingAppliedAt,
                Expr::value(start.prep.numbing_applied_at),
            )
            .col_expr(procedures::Column::ScreeningId, Expr::value(screening.id))
            .col_expr(
                procedures::Column::ScreeningOverrideReason,
                Expr::value(reason),
            )
            .col_expr(procedures::Column::StartedAt, Expr::value(now))
            .col_expr(procedures::Column::StartsAtS, Expr::value(actual.start_s()))
            .col_expr(procedures::Column::EndsAtS, Expr::value(actual.end_s()))
    })
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Procedure, Some(id))
            .patient(procedure.patient_id),
    );
    if overridden_now {
        write.audit(
            AuditEvent::new(AuditAction::Override)
                .entity(EntityType::Screening, Some(screening.id))
                .patient(procedure.patient_id),
        );
    }
    let procedure = find_procedure(&*write, id).await?;
    write.emit(DomainEvent::procedure(&procedure));
    write.commit().await?;
    Ok(procedure)
}

/// One device and cartridge over one area, as charted.
#[derive(Clone, Debug)]
pub struct NewDeviceSession {
    /// The device (ACTIVE).
    pub device_id: Uuid,
    /// The cartridge (registered on first use).
    pub cartridge: CartridgeSpec,
    /// The area needled.
    pub area: TreatmentArea,
    /// Needle depth, millimetres.
    pub depth_mm: f64,
    /// Why the depth is outside the area's guideline range.
    pub depth_override_reason: Option<String>,
    /// Passes over the area.
    pub passes: i32,
    /// Pattern.
    pub pattern: NeedlingPattern,
    /// Speed setting as labelled on the device.
    pub speed_setting: Option<String>,
    /// Glide medium.
    pub glide_medium: Option<String>,
    /// The clinical endpoint reached.
    pub clinical_endpoint: ClinicalEndpoint,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: DateTime<Utc>,
}

fn session_window(session: &NewDeviceSession, now: DateTime<Utc>) -> AppResult<(i64, i64)> {
    let minutes = (session.ended_at - session.started_at).num_minutes();
    if session.ended_at <= session.started_at || minutes > MAX_DEVICE_SESSION_MINUTES {
        return Err(AppError::bad_input(
            "endedAt",
            format!("must be after startedAt, at most {MAX_DEVICE_SESSION_MINUTES} minutes later"),
        ));
    }
    if session.ended_at > now + Duration::minutes(5) {
        return Err(AppError::bad_input("endedAt", "cannot be in the future"));
    }
    Ok((session.started_at.timestamp(), session.ended_at.timestamp()))
}

/// R-BOOKING for devices: the device is in no other session at that time.
async fn ensure_device_free(
    db: &impl ConnectionTrait,
    device_id: Uuid,
    (start_s, end_s): (i64, i64),
) -> AppResult<()> {
    let clashes = device_sessions::Entity::find()
        .filter(device_sessions::Column::DeviceId.eq(device_id))
        .filter(device_sessions::Column::StartedAtS.lt(end_s))
        .filter(device_sessions::Column::EndedAtS.gt(start_s))
        .count(db)
        .await?;
    if clashes > 0 {
        return Err(AppError::rule(
            ErrorCode::DoubleBooked,
            "the device is already charted in another session at that time",
        ));
    }
    Ok(())
}

fn depth_error(problem: DepthProblem) -> AppError {
    let code = match problem {
        DepthProblem::ExceedsDevice { .. } => ErrorCode::DepthExceedsDevice,
        DepthProblem::OutOfRange { .. } => ErrorCode::DepthOutOfRange,
    };
    AppError::rule(code, problem.to_string())
}

/// Charts a device session of an IN_PROGRESS procedure (its performing
/// provider): R-DEVICE, R-CARTRIDGE, R-DEPTH and a device never in two
/// overlapping sessions. An area not booked is added to the procedure's
/// areas, so its aftercare covers it.
///
/// # Errors
/// `FORBIDDEN`; `PROCEDURE_LOCKED`, `INVALID_STATE`; `BAD_USER_INPUT`;
/// `DEVICE_UNAVAILABLE`; `CARTRIDGE_REUSED`, `CARTRIDGE_EXPIRED`;
/// `DEPTH_EXCEEDS_DEVICE`, `DEPTH_OUT_OF_RANGE`; `DOUBLE_BOOKED`.
pub async fn add_device_session(
    db: &DatabaseConnection,
    request: &RequestContext,
    procedure_id: Uuid,
    session: NewDeviceSession,
) -> AppResult<(procedures::Model, device_sessions::Model)> {
    let provider_id = require_provider(&request.actor)?;
    let now = Utc::now();
    let depth = Depth::from_mm(session.depth_mm)
        .map_err(|error| AppError::bad_input("depthMm", error.to_string()))?;
    if !(1..=MAX_PASSES).contains(&session.passes) {
        return Err(AppError::bad_input(
            "passes",
            format!("must be between 1 and {MAX_PASSES}"),
        ));
    }
    let times = session_window(&session, now)?;
    let override_reason =
        optional_text("depthOverrideReason", session.depth_override_reason, 1000)?;
    let speed_setting = optional_text("speedSetting", session.speed_setting, 32)?;
    let glide_medium = optional_text("glideMedium", session.glide_medium, 200)?;
    let mut write = AuditedWrite::begin(db, request, "addDeviceSession").await?;
    let procedure = lock_procedure(&*write, procedure_id).await?;
    ensure_status(&procedure, &[ProcedureStatus::InProgress], "charted")?;
    ensure_performer(&procedure, provider_id)?;
    if procedure
        .started_at
        .is_some_and(|started| now > started + MAX_PROCEDURE_LENGTH)
    {
        return Err(AppError::InvalidState(format!(
            "the procedure started more than {} hours ago; complete or cancel it and book a new one",
            MAX_PROCEDURE_LENGTH.num_hours()
        )));
    }
    if procedure
        .numbing_applied_at
        .is_some_and(|applied| session.started_at < applied)
    {
        return Err(AppError::bad_input(
            "startedAt",
            "cannot be before the numbing cream was applied",
        ));
    }
    let device = usable_device(&*write, session.device_id, "deviceId").await?;
    ensure_device_free(&*write, device.id, times).await?;
    let policy = current_policy(&*write).await?;
    let today = clinic_day(now, policy.time_zone);
    let cartridge = claim_cartridge(
        &mut write,
        session.cartridge,
        procedure_id,
        today,
        provider_id,
    )
    .await?;
    if let (Some(min), Some(max)) = (device.needle_count_min, device.needle_count_max)
        && !(min..=max).contains(&cartridge.needle_count)
    {
        return Err(AppError::bad_input(
            "cartridge.needleCount",
            format!("this device takes cartridges of {min} to {max} needles"),
        ));
    }
    let micrometres = |um: i32| Depth::from_micrometres(u32::try_from(um).unwrap_or(0));
    let device_max =
        micrometres(device.max_depth_um).map_err(|e| anyhow::anyhow!("device depth: {e}"))?;
    let cartridge_max =
        micrometres(cartridge.max_depth_um).map_err(|e| anyhow::anyhow!("cartridge depth: {e}"))?;
    let verdict = check_depth(
        depth,
        device_max,
        cartridge_max,
        policy.depth_range(session.area),
        override_reason.as_deref(),
    )
    .map_err(depth_error)?;
    let row = device_sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        procedure_id: Set(procedure_id),
        device_id: Set(device.id),
        cartridge_id: Set(cartridge.id),
        area: Set(session.area),
        depth_um: Set(i32::try_from(depth.micrometres()).unwrap_or(i32::MAX)),
        passes: Set(session.passes),
        pattern: Set(session.pattern),
        speed_setting: Set(speed_setting),
        glide_medium: Set(glide_medium),
        clinical_endpoint: Set(session.clinical_endpoint),
        started_at_s: Set(times.0),
        ended_at_s: Set(times.1),
        depth_override_reason: Set(override_reason.filter(|_| verdict == DepthVerdict::Overridden)),
        recorded_by: Set(provider_id),
        created_at: Set(now),
    }
    .insert(&*write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::DeviceSession, Some(row.id))
            .patient(procedure.patient_id),
    );
    if verdict == DepthVerdict::Overridden {
        write.audit(
            AuditEvent::new(AuditAction::Override)
                .entity(EntityType::DeviceSession, Some(row.id))
                .patient(procedure.patient_id),
        );
    }
    let mut areas: BTreeSet<TreatmentArea> = split_codes(&procedure.areas);
    if areas.insert(session.area) {
        procedures::Entity::update_many()
            .col_expr(procedures::Column::Areas, Expr::value(join_codes(&areas)))
            .col_expr(procedures::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                procedures::Column::Version,
                Expr::col(procedures::Column::Version).add(1),
            )
            .filter(procedures::Column::Id.eq(procedure_id))
            .exec(&*write)
            .await?;
    }
    let procedure = find_procedure(&*write, procedure_id).await?;
    write.commit().await?;
    Ok((procedure, row))
}

/// What the provider charts at the end of a procedure.
#[derive(Clone, Debug)]
pub struct ProcedureCompletion {
    /// R-POSTCARE.
    pub post_care: PostCare,
    /// The skin's immediate response.
    pub immediate_response: Option<String>,
    /// Clinical notes.
    pub clinical_notes: Option<String>,
}

/// Completes a procedure (its performing provider): at least one device
/// session, R-POSTCARE recorded. Marks the treatment plan completed when
/// this was its last planned session.
///
/// # Errors
/// `FORBIDDEN`; `PROCEDURE_LOCKED`, `INVALID_STATE`; `BAD_USER_INPUT`;
/// `CONFLICT` when stale.
pub async fn complete(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    completion: ProcedureCompletion,
) -> AppResult<procedures::Model> {
    let provider_id = require_provider(&request.actor)?;
    check_post_care(&completion.post_care).map_err(checklist_error)?;
    let immediate_response =
        optional_text("immediateResponse", completion.immediate_response, 2000)?;
    let notes =
        optional_text("clinicalNotes", completion.clinical_notes, 10_000)?.unwrap_or_default();
    let mut write = AuditedWrite::begin(db, request, "completeProcedure").await?;
    let procedure = lock_procedure(&*write, id).await?;
    ensure_status(&procedure, &[ProcedureStatus::InProgress], "completed")?;
    ensure_performer(&procedure, provider_id)?;
    let sessions = device_sessions::Entity::find()
        .filter(device_sessions::Column::ProcedureId.eq(id))
        .count(&*write)
        .await?;
    if sessions == 0 {
        return Err(AppError::InvalidState(
            "chart at least one device session before completing".to_owned(),
        ));
    }
    let now = Utc::now();
    versioned_update(&write, id, expected_version, now, |update| {
        update
            .col_expr(
                procedures::Column::Status,
                Expr::value(ProcedureStatus::Completed),
            )
            .col_expr(
                procedures::Column::LipopeptideBooster,
                Expr::value(completion.post_care.lipopeptide_booster),
            )
            .col_expr(
                procedures::Column::Moisturizer,
                Expr::value(completion.post_care.moisturizer),
            )
            .col_expr(
                procedures::Column::SunscreenSpf,
                Expr::value(completion.post_care.sunscreen_spf),
            )
            .col_expr(
                procedures::Column::ImmediateResponse,
                Expr::value(immediate_response),
            )
            .col_expr(procedures::Column::ClinicalNotes, Expr::value(notes))
            .col_expr(procedures::Column::CompletedAt, Expr::value(now))
    })
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Procedure, Some(id))
            .patient(procedure.patient_id),
    );
    let sessions_left = match procedure.treatment_plan_id {
        Some(plan_id) => {
            record_plan_progress(&mut write, plan_id, procedure.patient_id, now).await?
        }
        None => None,
    };
    let procedure = find_procedure(&*write, id).await?;
    // R-FOLLOWUP: in the same transaction as the completion.
    let policy = current_policy(&*write).await?;
    crate::services::follow_ups::create_for_completed(
        &mut write,
        &procedure,
        &policy,
        sessions_left,
    )
    .await?;
    write.emit(DomainEvent::procedure(&procedure));
    write.commit().await?;
    Ok(procedure)
}

/// R-SERIES: the sessions of the plan still to perform after this one; a
/// plan whose planned sessions are all performed is completed. `None` when
/// the plan is gone.
async fn record_plan_progress(
    write: &mut AuditedWrite<'_>,
    plan_id: Uuid,
    patient_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<u32>> {
    let Some(plan) = treatment_plans::Entity::find_by_id(plan_id)
        .one(&**write)
        .await?
    else {
        return Ok(None);
    };
    let performed = procedures::Entity::find()
        .filter(procedures::Column::TreatmentPlanId.eq(plan_id))
        .filter(
            procedures::Column::Status.is_in([ProcedureStatus::Completed, ProcedureStatus::Signed]),
        )
        .count(&**write)
        .await?;
    let left = sessions_remaining(
        u32::try_from(plan.planned_sessions).unwrap_or(0),
        u32::try_from(performed).unwrap_or(u32::MAX),
    );
    if plan.status != PlanStatus::Active || left > 0 {
        return Ok(Some(left));
    }
    treatment_plans::Entity::update_many()
        .col_expr(
            treatment_plans::Column::Status,
            Expr::value(PlanStatus::Completed),
        )
        .col_expr(treatment_plans::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            treatment_plans::Column::Version,
            Expr::col(treatment_plans::Column::Version).add(1),
        )
        .filter(treatment_plans::Column::Id.eq(plan_id))
        .exec(&**write)
        .await?;
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::TreatmentPlan, Some(plan_id))
            .patient(patient_id),
    );
    Ok(Some(0))
}

/// The amendable part of a charted procedure; what a signature freezes
/// and an amendment changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartedRecord {
    /// Clinical notes.
    pub clinical_notes: String,
    /// The skin's immediate response.
    pub immediate_response: Option<String>,
    /// Lipopeptide booster applied.
    pub lipopeptide_booster: Option<bool>,
    /// Moisturizer applied.
    pub moisturizer: Option<bool>,
    /// Sunscreen SPF.
    pub sunscreen_spf: Option<i32>,
}

impl From<&procedures::Model> for ChartedRecord {
    fn from(row: &procedures::Model) -> Self {
        Self {
            clinical_notes: row.clinical_notes.clone(),
            immediate_response: row.immediate_response.clone(),
            lipopeptide_booster: row.lipopeptide_booster,
            moisturizer: row.moisturizer,
            sunscreen_spf: row.sunscreen_spf,
        }
    }
}

/// Signs a completed procedure (its performing provider, licensed today):
/// it becomes immutable and the record as signed is kept (R-RECORDS).
///
/// # Errors
/// `FORBIDDEN`; `PROCEDURE_LOCKED`, `INVALID_STATE`; `LICENSE_*`;
/// `CONFLICT` when stale.
pub async fn sign(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
) -> AppResult<procedures::Model> {
    let provider_id = require_provider(&request.actor)?;
    let mut write = AuditedWrite::begin(db, request, "signProcedure").await?;
    let procedure = lock_procedure(&*write, id).await?;
    ensure_status(&procedure, &[ProcedureStatus::Completed], "signed")?;
    ensure_performer(&procedure, provider_id)?;
    let policy = current_policy(&*write).await?;
    let now = Utc::now();
    // R-LICENSE on the procedure's date: a license that lapsed since does
    // not leave a performed session unsignable.
    licensed_user(
        &*write,
        provider_id,
        performed_day(procedure.starts_at_s, &policy),
    )
    .await?;
    let record =
        serde_json::to_string(&ChartedRecord::from(&procedure)).map_err(anyhow::Error::from)?;
    versioned_update(&write, id, expected_version, now, |update| {
        update
            .col_expr(
                procedures::Column::Status,
                Expr::value(ProcedureStatus::Signed),
            )
            .col_expr(procedures::Column::SignedAt, Expr::value(now))
            .col_expr(procedures::Column::SignedBy, Expr::value(provider_id))
            .col_expr(procedures::Column::SignedRecord, Expr::value(record))
    })
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Sign)
            .entity(EntityType::Procedure, Some(id))
            .patient(procedure.patient_id),
    );
    let procedure = find_procedure(&*write, id).await?;
    write.commit().await?;
    Ok(procedure)
}

/// One changed field of an amendment, old and new values as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// The field, as named in the API.
    pub field: String,
    /// The value before.
    pub old_value: serde_json::Value,
    /// The value after.
    pub new_value: serde_json::Value,
}

/// Corrections asked for; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct ProcedureCorrections {
    /// New clinical notes.
    pub clinical_notes: Option<String>,
    /// New immediate response.
    pub immediate_response: Option<String>,
    /// New booster record.
    pub lipopeptide_booster: Option<bool>,
    /// New moisturizer record.
    pub moisturizer: Option<bool>,
    /// New sunscreen SPF.
    pub sunscreen_spf: Option<i32>,
}

/// The fields that differ between two charted records, in API names.
pub fn changed_fields(before: &ChartedRecord, after: &ChartedRecord) -> Vec<FieldChange> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    old.into_iter()
        .filter_map(|(field, old_value)| {
            let new_value = new.get(&field).cloned().unwrap_or(serde_json::Value::Null);
            (old_value != new_value).then_some(FieldChange {
                field,
                old_value,
                new_value,
            })
        })
        .collect()
}

/// Amends a signed procedure (providers the clinic's amendment policy
/// allows: by default the performer and supervising providers): who, when,
/// why and each changed field with its old and new value are kept; the
/// record as signed stays readable.
///
/// # Errors
/// `FORBIDDEN` (not a provider, or one the amendment policy leaves out); `INVALID_STATE` unless signed; `BAD_USER_INPUT` (no reason,
/// nothing changed, invalid post-care); `CONFLICT` when stale.
pub async fn amend(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    reason: String,
    corrections: ProcedureCorrections,
) -> AppResult<(procedures::Model, procedure_amendments::Model)> {
    let provider_id = require_provider(&request.actor)?;
    let reason = required_text("reason", reason, 1000)?;
    let notes = optional_text("clinicalNotes", corrections.clinical_notes, 10_000)?;
    let immediate_response =
        optional_text("immediateResponse", corrections.immediate_response, 2000)?;
    let mut write = AuditedWrite::begin(db, request, "amendProcedure").await?;
    let procedure = lock_procedure(&*write, id).await?;
    if procedure.status != ProcedureStatus::Signed {
        return Err(AppError::InvalidState(
            "only signed procedures are amended".to_owned(),
        ));
    }
    let policy = current_policy(&*write).await?;
    let amender = Amender {
        performed_it: procedure.provider_id == provider_id,
        supervises: users::Entity::find_by_id(provider_id)
            .one(&*write)
            .await?
            .is_some_and(|user| user.supervises_amendments),
    };
    // Refused, it is audited as ACCESS_DENIED like every refusal.
    if !policy.amendment_policy.allows(amender) {
        return Err(AppError::ForbiddenByPolicy(
            "the clinic's amendment policy lets only the provider who performed this procedure, \
             or a supervising provider, amend it",
        ));
    }
    let before = ChartedRecord::from(&procedure);
    let after = ChartedRecord {
        clinical_notes: notes.unwrap_or_else(|| before.clinical_notes.clone()),
        immediate_response: immediate_response.or_else(|| before.immediate_response.clone()),
        lipopeptide_booster: corrections
            .lipopeptide_booster
            .or(before.lipopeptide_booster),
        moisturizer: corrections.moisturizer.or(before.moisturizer),
        sunscreen_spf: corrections.sunscreen_spf.or(before.sunscreen_spf),
    };
    if let Some(spf) = corrections.sunscreen_spf {
        check_post_care(&PostCare {
            lipopeptide_booster: after.lipopeptide_booster.unwrap_or(false),
            moisturizer: after.moisturizer.unwrap_or(false),
            sunscreen_spf: spf,
        })
        .map_err(checklist_error)?;
    }
    let changes = changed_fields(&before, &after);
    if changes.is_empty() {
        return Err(AppError::bad_input(
            "input",
            "the amendment changes nothing",
        ));
    }
    let now = Utc::now();
    versioned_update(&write, id, expected_version, now, |update| {
        update
            .col_expr(
                procedures::Column::ClinicalNotes,
                Expr::value(after.clinical_notes.clone()),
            )
            .col_expr(
                procedures::Column::ImmediateResponse,
                Expr::value(after.immediate_response.clone()),
            )
            .col_expr(
                procedures::Column::LipopeptideBooster,
                Expr::value(after.lipopeptide_booster),
            )
            .col_expr(
                procedures::Column::Moisturizer,
                Expr::value(after.moisturizer),
            )
            .col_expr(
                procedures::Column::SunscreenSpf,
                Expr::value(after.sunscreen_spf),
            )
    })
    .await?;
    let amendment = procedure_amendments::ActiveModel {
        id: Set(Uuid::now_v7()),
        procedure_id: Set(id),
        amended_by: Set(provider_id),
        amended_at: Set(now),
        reason: Set(reason),
        changes: Set(serde_json::to_string(&changes).map_err(anyhow::Error::from)?),
    }
    .insert(&*write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Amend)
            .entity(EntityType::Procedure, Some(id))
            .patient(procedure.patient_id),
    );
    let procedure = find_procedure(&*write, id).await?;
    write.commit().await?;
    Ok((procedure, amendment))
}

/// Cancels a procedure with a reason: staff while it is SCHEDULED, its
/// performing provider while IN_PROGRESS. Cartridges already opened stay
/// bound to it (they are single-use).
///
/// # Errors
/// `BAD_USER_INPUT` without a reason; `FORBIDDEN`; `PROCEDURE_LOCKED`,
/// `INVALID_STATE`; `CONFLICT` when stale.
pub async fn cancel(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    reason: String,
) -> AppResult<procedures::Model> {
    authorize(&request.actor, PatientAccess::Write)?;
    let reason = required_text("reason", reason, 500)?;
    let mut write = AuditedWrite::begin(db, request, "cancelProcedure").await?;
    let procedure = lock_procedure(&*write, id).await?;
    ensure_status(
        &procedure,
        &[ProcedureStatus::Scheduled, ProcedureStatus::InProgress],
        "cancelled",
    )?;
    if procedure.status == ProcedureStatus::InProgress {
        ensure_performer(&procedure, require_provider(&request.actor)?)?;
    }
    let now = Utc::now();
    versioned_update(&write, id, expected_version, now, |update| {
        update
            .col_expr(
                procedures::Column::Status,
                Expr::value(ProcedureStatus::Cancelled),
            )
            .col_expr(procedures::Column::CancelReason, Expr::value(reason))
    })
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Procedure, Some(id))
            .patient(procedure.patient_id),
    );
    let procedure = find_procedure(&*write, id).await?;
    write.emit(DomainEvent::procedure(&procedure));
    write.commit().await?;
    Ok(procedure)
}

/// Filters of the procedure list.
#[derive(Clone, Debug, Default)]
pub struct ProcedureFilter {
    /// Only this patient.
    pub patient_id: Option<Uuid>,
    /// Only this provider.
    pub provider_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<ProcedureStatus>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
}

/// Name of the procedure list's ordering (by start), in its cursors.
pub const PROCEDURES_BY_START: &str = "procedures_by_start";

/// The cursor of a procedure.
///
/// # Errors
/// Never in practice.
pub fn cursor_of(procedure: &procedures::Model) -> AppResult<KeysetCursor> {
    KeysetCursor::new(PROCEDURES_BY_START, &(procedure.starts_at_s, procedure.id))
}

/// One page of procedures by start time, and the total matching.
///
/// # Errors
/// `BAD_USER_INPUT` for a foreign cursor; database failures.
pub async fn list_procedures(
    db: &DatabaseConnection,
    filter: &ProcedureFilter,
    page: &PageRequest,
) -> AppResult<(Page<procedures::Model>, i64)> {
    let mut query = procedures::Entity::find();
    if let Some(patient) = filter.patient_id {
        query = query.filter(procedures::Column::PatientId.eq(patient));
    }
    if let Some(provider) = filter.provider_id {
        query = query.filter(procedures::Column::ProviderId.eq(provider));
    }
    if let Some(status) = filter.status {
        query = query.filter(procedures::Column::Status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(procedures::Column::StartsAtS.gte(from.timestamp()));
    }
    if let Some(to) = filter.to {
        query = query.filter(procedures::Column::StartsAtS.lt(to.timestamp()));
    }
    by_start(
        db,
        query,
        (procedures::Column::StartsAtS, procedures::Column::Id),
        PROCEDURES_BY_START,
        page,
    )
    .await
}

/// Longest stretch the schedule returns at once.
pub const MAX_SCHEDULE_DAYS: i64 = 62;

/// One appointment of the schedule.
// Short-lived rows of one response; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Appointment {
    /// A consultation.
    Consultation(consultations::Model),
    /// A procedure.
    Procedure(procedures::Model),
}

impl Appointment {
    fn start_and_id(&self) -> (i64, Uuid) {
        match self {
            Self::Consultation(row) => (row.starts_at_s, row.id),
            Self::Procedure(row) => (row.starts_at_s, row.id),
        }
    }

    /// What a read of it is audited as: entity type, id and patient.
    pub fn audit_key(&self) -> (EntityType, Uuid, Uuid) {
        match self {
            Self::Consultation(row) => (EntityType::Consultation, row.id, row.patient_id),
            Self::Procedure(row) => (EntityType::Procedure, row.id, row.patient_id),
        }
    }
}

/// Consultations and procedures starting in `[from, to)`, optionally of one
/// provider, by start time; cancelled ones only when asked for.
///
/// # Errors
/// `BAD_USER_INPUT` for an empty or too long range.
pub async fn schedule_between(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    provider_id: Option<Uuid>,
    include_cancelled: bool,
) -> AppResult<Vec<Appointment>> {
    if to <= from {
        return Err(AppError::bad_input("to", "must be after from"));
    }
    if to - from > Duration::days(MAX_SCHEDULE_DAYS) {
        return Err(AppError::bad_input(
            "to",
            format!("ask for at most {MAX_SCHEDULE_DAYS} days at once"),
        ));
    }
    let mut visits = consultations::Entity::find()
        .filter(consultations::Column::StartsAtS.gte(from.timestamp()))
        .filter(consultations::Column::StartsAtS.lt(to.timestamp()));
    let mut sessions = procedures::Entity::find()
        .filter(procedures::Column::StartsAtS.gte(from.timestamp()))
        .filter(procedures::Column::StartsAtS.lt(to.timestamp()));
    if let Some(provider) = provider_id {
        visits = visits.filter(consultations::Column::ProviderId.eq(provider));
        sessions = sessions.filter(procedures::Column::ProviderId.eq(provider));
    }
    if !include_cancelled {
        visits = visits.filter(consultations::Column::Status.ne(ConsultationStatus::Cancelled));
        sessions = sessions.filter(procedures::Column::Status.ne(ProcedureStatus::Cancelled));
    }
    let mut appointments: Vec<Appointment> = visits
        .all(db)
        .await?
        .into_iter()
        .map(Appointment::Consultation)
        .chain(
            sessions
                .all(db)
                .await?
                .into_iter()
                .map(Appointment::Procedure),
        )
        .collect();
    appointments.sort_by_key(Appointment::start_and_id);
    Ok(appointments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amendment_lists_only_changed_fields_with_old_and_new_values() {
        let before = ChartedRecord {
            clinical_notes: "tolerated well".to_owned(),
            immediate_response: Some("mild erythema".to_owned()),
            lipopeptide_booster: Some(true),
            moisturizer: Some(true),
            sunscreen_spf: Some(30),
        };
        let after = ChartedRecord {
            sunscreen_spf: Some(50),
            ..before.clone()
        };
        assert_eq!(
            changed_fields(&before, &after),
            vec![FieldChange {
                field: "sunscreenSpf".to_owned(),
                old_value: serde_json::json!(30),
                new_value: serde_json::json!(50),
            }]
        );
        assert!(changed_fields(&before, &before).is_empty());
    }
}
