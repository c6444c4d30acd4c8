//! Consultation requests: public submission (consent, honeypot, rate
//! limit, idempotency, duplicate detection), the staff worklist, updates
//! and conversion into a patient.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, SqlErr,
    prelude::Uuid,
    sea_query::{Condition, Expr, ExprTrait},
};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{
        audit::{AuditAction, EntityType},
        intake::{RequestSource, RequestStatus, check_request_consent, is_honeypot_filled},
        names::api_name,
        patient::{ContactChannel, join_codes, parse_phone, split_codes},
        staff::Email,
        throttle::submission_throttle,
    },
    entities::{consultation_requests, contact_consents, patients},
    error::{AppError, AppResult},
    graphql::pagination::{Page, PageRequest},
    services::input::{idempotency_actor, optional_text, required_text},
    services::{
        audit::{AuditEvent, AuditedWrite},
        listing::newest_first,
        patients::{
            ClinicalDetails, DEFAULT_PHONE_REGION, Demographics, PatientAccess, authorize,
            insert_patient,
        },
        throttle,
        users::stale_version,
    },
};

/// How long an idempotency key keeps returning its first result.
const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

/// A consultation request as submitted.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Preferred channel.
    pub preferred_channel: Option<ContactChannel>,
    /// Channels the person consents to.
    pub consented_channels: Vec<ContactChannel>,
    /// Version of the consent text shown.
    pub consent_text_version: String,
    /// The person's message.
    pub message: Option<String>,
    /// Times the person prefers.
    pub preferred_times: Option<String>,
    /// The hidden form field humans leave empty.
    pub honeypot: Option<String>,
    /// Client-chosen key making retries safe.
    pub idempotency_key: Option<String>,
}

async fn earlier_submission(
    db: &impl ConnectionTrait,
    actor: &str,
    key: &str,
) -> AppResult<Option<Uuid>> {
    Ok(keyed_submission(db, actor, key)
        .await?
        .filter(|row| row.created_at > Utc::now() - IDEMPOTENCY_WINDOW)
        .map(|row| row.id))
}

/// The one request holding this key (unique index); its age is compared in
/// Rust, never as timestamp text.
async fn keyed_submission(
    db: &impl ConnectionTrait,
    actor: &str,
    key: &str,
) -> AppResult<Option<consultation_requests::Model>> {
    Ok(consultation_requests::Entity::find()
        .filter(consultation_requests::Column::IdempotencyActor.eq(actor))
        .filter(consultation_requests::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Takes a consultation request. Bots that fill the honeypot get the same
/// answer and their request is stored as SPAM. Returns the request id.
///
/// # Errors
/// `BAD_USER_INPUT` naming the field (missing consent included);
/// `RATE_LIMITED` when the client IP sent too many.
pub async fn submit(
    db: &DatabaseConnection,
    request: &RequestContext,
    per_window: u32,
    submission: Submission,
) -> AppResult<Uuid> {
    let actor_key = idempotency_actor(request);
    let idempotency_key = optional_text("idempotencyKey", submission.idempotency_key, 128)?;
    if let Some(key) = &idempotency_key
        && let Some(id) = earlier_submission(db, &actor_key, key).await?
    {
        return Ok(id);
    }
    let throttle_key = (matches!(request.actor, Actor::Anonymous))
        .then(|| {
            request
                .client_ip
                .map(|ip| (format!("submit:{ip}"), submission_throttle(per_window)))
        })
        .flatten();
    if let Some(key) = &throttle_key
        && let Some(retry_after_seconds) =
            throttle::retry_after(db, std::slice::from_ref(key), Utc::now()).await?
    {
        return Err(AppError::RateLimited {
            retry_after_seconds,
        });
    }

    let first_name = required_text("firstName", submission.first_name, 100)?;
    let last_name = required_text("lastName", submission.last_name, 100)?;
    let email = match optional_text("email", submission.email, 254)? {
        Some(email) => Some(
            Email::parse(&email)
                .ok_or_else(|| AppError::bad_input("email", "not a valid email address"))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let phone = match optional_text("phone", submission.phone, 32)? {
        Some(phone) => Some(
            parse_phone(&phone, DEFAULT_PHONE_REGION)
                .ok_or_else(|| AppError::bad_input("phone", "not a valid phone number"))?,
        ),
        None => None,
    };
    let preferred = submission
        .preferred_channel
        .ok_or_else(|| AppError::bad_input("preferredChannel", "is required"))?;
    let consented: BTreeSet<_> = submission.consented_channels.into_iter().collect();
    check_request_consent(preferred, &consented, email.is_some(), phone.is_some())
        .map_err(|problem| AppError::bad_input(problem.field(), problem.to_string()))?;
    let consent_text_version = optional_text(
        "consentTextVersion",
        Some(submission.consent_text_version),
        64,
    )?
    .ok_or_else(|| {
        AppError::bad_input(
            "consentTextVersion",
            "record the version of the consent text shown",
        )
    })?;
    let message = optional_text("message", submission.message, 2000)?;
    let preferred_times = optional_text("preferredTimes", submission.preferred_times, 500)?;
    let spam = is_honeypot_filled(submission.honeypot.as_deref());

    let (source, source_detail) = match &request.actor {
        Actor::Partner(partner) => (RequestSource::Partner, Some(partner.name.clone())),
        Actor::Staff(_) => (RequestSource::Phone, None),
        _ => (RequestSource::WebForm, None),
    };
    let mut write = AuditedWrite::begin(db, request, "submitConsultationRequest").await?;
    if let Some(key) = &idempotency_key {
        // A key older than the window is free again.
        if let Some(stale) = keyed_submission(&*write, &actor_key, key)
            .await?
            .filter(|row| row.created_at <= Utc::now() - IDEMPOTENCY_WINDOW)
        {
            consultation_requests::Entity::update_many()
                .col_expr(
                    consultation_requests::Column::IdempotencyKey,
                    Expr::value(Option::<String>::None),
                )
                .filter(consultation_requests::Column::Id.eq(stale.id))
                .exec(&*write)
                .await?;
        }
    }
    if let Some(key) = &throttle_key {
        throttle::record_attempt(&*write, &key.0, key.1).await?;
    }
    let suggested = if spam {
        None
    } else {
        matching_patient(&*write, email.as_deref(), phone.as_deref()).await?
    };
    let now = Utc::now();
    let row = consultation_requests::ActiveModel {
        id: Set(Uuid::now_v7()),
        first_name: Set(first_name),
        last_name: Set(last_name),
        email: Set(email),
        phone: Set(phone),
        preferred_channel: Set(preferred),
        consented_channels: Set(join_codes(&consented)),
        consent_text_version: Set(consent_text_version),
        consented_at: Set(now),
        source: Set(source),
        source_detail: Set(source_detail),
        message: Set(message),
        preferred_times: Set(preferred_times),
        status: Set(if spam {
            RequestStatus::Spam
        } else {
            RequestStatus::New
        }),
        staff_notes: Set(String::new()),
        contact_attempts: Set(0),
        last_contacted_at: Set(None),
        suggested_patient_id: Set(suggested),
        patient_id: Set(None),
        idempotency_actor: Set(idempotency_key.as_ref().map(|_| actor_key.clone())),
        idempotency_key: Set(idempotency_key.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    };
    let inserted = row.insert(&*write).await;
    let row = match (inserted, &idempotency_key) {
        (Ok(row), _) => row,
        // The same key raced in from a retry: answer with the first one.
        (Err(error), Some(key))
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            drop(write);
            return earlier_submission(db, &actor_key, key)
                .await?
                .ok_or_else(|| AppError::Conflict("the idempotency key is in use".to_owned()));
        }
        (Err(error), _) => return Err(error.into()),
    };
    write.audit(
        AuditEvent::new(AuditAction::Create).entity(EntityType::ConsultationRequest, Some(row.id)),
    );
    write.commit().await?;
    Ok(row.id)
}

/// R-DEDUP: an existing, active patient with this email or phone.
async fn matching_patient(
    db: &impl ConnectionTrait,
    email: Option<&str>,
    phone: Option<&str>,
) -> AppResult<Option<Uuid>> {
    let mut any = Condition::any();
    if let Some(email) = email {
        any = any.add(patients::Column::Email.eq(email));
    }
    if let Some(phone) = phone {
        any = any.add(patients::Column::Phone.eq(phone));
    }
    if email.is_none() && phone.is_none() {
        return Ok(None);
    }
    Ok(patients::Entity::find()
        .filter(any)
        .filter(patients::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .map(|patient| patient.id))
}

/// The consultation request with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_request(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<consultation_requests::Model> {
    consultation_requests::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound {
            entity: "consultation request",
        })
}

/// Name of the worklist's ordering (newest first), in its cursors.
pub const REQUESTS_NEWEST_FIRST: &str = "consultation_requests_newest_first";

/// One page of requests, newest first. SPAM is listed only when asked for.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another list; database failures.
pub async fn list_requests(
    db: &DatabaseConnection,
    status: Option<RequestStatus>,
    page: &PageRequest,
) -> AppResult<(Page<consultation_requests::Model>, i64)> {
    let query = match status {
        Some(status) => consultation_requests::Entity::find()
            .filter(consultation_requests::Column::Status.eq(status)),
        None => consultation_requests::Entity::find()
            .filter(consultation_requests::Column::Status.ne(RequestStatus::Spam)),
    };
    newest_first(
        db,
        query,
        consultation_requests::Column::Id,
        REQUESTS_NEWEST_FIRST,
        page,
    )
    .await
}

/// Staff changes to a request.
#[derive(Clone, Debug, Default)]
pub struct RequestChanges {
    /// New status (not CONVERTED: use the conversion).
    pub status: Option<RequestStatus>,
    /// Replaces the staff notes.
    pub staff_notes: Option<String>,
    /// Counts one call-back attempt now.
    pub contact_attempted: bool,
}

/// Applies staff changes if the request is still at `expected_version`.
///
/// # Errors
/// `NOT_FOUND`, `CONFLICT`, `INVALID_STATE` for a forbidden status change.
pub async fn update_request(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    changes: RequestChanges,
) -> AppResult<consultation_requests::Model> {
    let notes = optional_text("staffNotes", changes.staff_notes, 4000)?;
    let mut write = AuditedWrite::begin(db, request, "updateConsultationRequest").await?;
    let current = find_request(&*write, id).await?;
    let status = changes.status.unwrap_or(current.status);
    if !current.status.may_become(status) {
        return Err(AppError::InvalidState(format!(
            "a {} request cannot become {}{}",
            api_name(&current.status),
            api_name(&status),
            if status == RequestStatus::Converted {
                "; use convertConsultationRequest"
            } else {
                ""
            }
        )));
    }
    let now = Utc::now();
    let mut update = consultation_requests::Entity::update_many()
        .col_expr(consultation_requests::Column::Status, Expr::value(status))
        .col_expr(consultation_requests::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            consultation_requests::Column::Version,
            Expr::col(consultation_requests::Column::Version).add(1),
        )
        .filter(consultation_requests::Column::Id.eq(id))
        .filter(consultation_requests::Column::Version.eq(expected_version));
    if let Some(notes) = notes {
        update = update.col_expr(
            consultation_requests::Column::StaffNotes,
            Expr::value(notes),
        );
    }
    if changes.contact_attempted {
        update = update
            .col_expr(
                consultation_requests::Column::ContactAttempts,
                Expr::col(consultation_requests::Column::ContactAttempts).add(1),
            )
            .col_expr(
                consultation_requests::Column::LastContactedAt,
                Expr::value(now),
            );
    }
    if update.exec(&*write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update).entity(EntityType::ConsultationRequest, Some(id)),
    );
    let updated = find_request(&*write, id).await?;
    write.commit().await?;
    Ok(updated)
}

/// Turns a request into a patient: links `patient_id` (or the R-DEDUP
/// suggestion when `use_suggestion`), or creates a new patient from the
/// request's data, and carries the contact consent over.
///
/// # Errors
/// `INVALID_STATE` for spam or an already converted request; `NOT_FOUND`;
/// `CONFLICT` when stale.
pub async fn convert_request(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    link_patient: Option<Uuid>,
    use_suggestion: bool,
) -> AppResult<(consultation_requests::Model, patients::Model)> {
    authorize(&request.actor, PatientAccess::Write)?;
    let mut write = AuditedWrite::begin(db, request, "convertConsultationRequest").await?;
    let current = find_request(&*write, id).await?;
    if matches!(
        current.status,
        RequestStatus::Converted | RequestStatus::Spam
    ) {
        return Err(AppError::InvalidState(format!(
            "a {} request cannot be converted",
            api_name(&current.status)
        )));
    }
    let target = link_patient.or(if use_suggestion {
        current.suggested_patient_id
    } else {
        None
    });
    let patient = match target {
        Some(patient_id) => {
            let patient = patients::Entity::find_by_id(patient_id)
                .one(&*write)
                .await?
                .ok_or(AppError::NotFound { entity: "patient" })?;
            if patient.archived_at.is_some() {
                return Err(AppError::InvalidState("the patient is archived".to_owned()));
            }
            patient
        }
        None => {
            let demographics = Demographics {
                first_name: Some(current.first_name.clone()),
                last_name: Some(current.last_name.clone()),
                email: current.email.clone(),
                phone: current.phone.clone(),
                preferred_channel: Some(current.preferred_channel),
                ..Demographics::default()
            };
            insert_patient(&mut write, demographics, ClinicalDetails::default(), None).await?
        }
    };
    // Carry the consent over as it was given: same time, source and text.
    let source = match (&current.source, &current.source_detail) {
        (RequestSource::Partner, Some(partner)) => {
            format!("PARTNER:{partner}").chars().take(200).collect()
        }
        (RequestSource::Partner, None) => "PARTNER".to_owned(),
        (RequestSource::WebForm, _) => "WEB_FORM".to_owned(),
        (RequestSource::Phone, _) => "PHONE".to_owned(),
    };
    let consents: Vec<_> = split_codes::<ContactChannel>(&current.consented_channels)
        .into_iter()
        .filter(|channel| *channel != ContactChannel::InPerson)
        .map(|channel| contact_consents::ActiveModel {
            id: Set(Uuid::now_v7()),
            patient_id: Set(patient.id),
            channel: Set(channel),
            granted: Set(true),
            recorded_at: Set(current.consented_at),
            source: Set(source.clone()),
            consent_text_version: Set(Some(current.consent_text_version.clone())),
            recorded_by: Set(request.actor.id()),
        })
        .collect();
    if !consents.is_empty() {
        contact_consents::Entity::insert_many(consents)
            .exec(&*write)
            .await?;
    }
    let converted = consultation_requests::Entity::update_many()
        .col_expr(
            consultation_requests::Column::Status,
            Expr::value(RequestStatus::Converted),
        )
        .col_expr(
            consultation_requests::Column::PatientId,
            Expr::value(patient.id),
        )
        .col_expr(
            consultation_requests::Column::UpdatedAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            consultation_requests::Column::Version,
            Expr::col(consultation_requests::Column::Version).add(1),
        )
        .filter(consultation_requests::Column::Id.eq(id))
        .filter(consultation_requests::Column::Version.eq(expected_version))
        .exec(&*write)
        .await?;
    if converted.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::ConsultationRequest, Some(id))
            .patient(patient.id),
    );
    let updated = find_request(&*write, id).await?;
    write.commit().await?;
    Ok((updated, patient))
}
