//! Follow-ups: created with the completion of a procedure (R-FOLLOWUP),
//! worked by the front desk on consented channels (R-CONTACT), and the
//! adverse-event escalation (R-ADVERSE).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{
        audit::{AuditAction, EntityType},
        follow_up::{
            AdverseEventKind, CompletedSession, FollowUpKind, FollowUpStatus, Severity, Symptom,
            day_window, due_instant, follow_up_channel, follow_up_schedule, is_adverse,
            status_after_unanswered,
        },
        names::api_name,
        patient::{ConsentRecord, ContactChannel, consented_channels, join_codes, split_codes},
        policy::ClinicPolicy,
        procedure::clinic_day,
        scope::ApiScope,
    },
    entities::{contact_consents, follow_ups, patients, procedures},
    error::{AppError, AppResult, ErrorCode},
    events::DomainEvent,
    graphql::pagination::{KeysetCursor, Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        input::{optional_text, required_text},
        listing::by_start,
        policy::current_policy,
        procedures::performed_day,
        users::stale_version,
    },
};

/// The channels the patient consents to now (IN_PERSON always).
///
/// # Errors
/// Database failures.
pub async fn current_channels(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<BTreeSet<ContactChannel>> {
    let history: Vec<ConsentRecord> = contact_consents::Entity::find()
        .filter(contact_consents::Column::PatientId.eq(patient_id))
        .order_by_asc(contact_consents::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|row| ConsentRecord {
            channel: row.channel,
            granted: row.granted,
            recorded_at: row.recorded_at,
        })
        .collect();
    Ok(consented_channels(&history))
}

/// R-CONTACT after a revocation: every pending follow-up of the patient on a
/// channel they no longer consent to moves, in the revoking transaction, to
/// the channel R-FOLLOWUP would choose now (the preferred one if still
/// consented, else phone, text, email, else in person), and is announced
/// like any follow-up change (subscriptions, webhooks).
///
/// # Errors
/// Database failures.
pub async fn move_off_revoked_channels(
    write: &mut AuditedWrite<'_>,
    patient: &patients::Model,
) -> AppResult<()> {
    let consented = current_channels(&**write, patient.id).await?;
    let channel = follow_up_channel(patient.preferred_channel, &consented);
    let stranded = follow_ups::Entity::find()
        .filter(follow_ups::Column::PatientId.eq(patient.id))
        .filter(follow_ups::Column::Status.eq(FollowUpStatus::Pending))
        .filter(follow_ups::Column::Channel.is_not_in(consented.iter().copied()))
        .all(&**write)
        .await?;
    let now = Utc::now();
    for follow_up in stranded {
        follow_ups::Entity::update_many()
            .col_expr(follow_ups::Column::Channel, Expr::value(channel))
            .col_expr(follow_ups::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                follow_ups::Column::Version,
                Expr::col(follow_ups::Column::Version).add(1),
            )
            .filter(follow_ups::Column::Id.eq(follow_up.id))
            .exec(&**write)
            .await?;
        write.audit(
            AuditEvent::new(AuditAction::Update)
                .entity(EntityType::FollowUp, Some(follow_up.id))
                .patient(patient.id),
        );
        write.emit(DomainEvent::follow_up(&follow_ups::Model {
            channel,
            ..follow_up
        }));
    }
    Ok(())
}

/// A follow-up as R-FOLLOWUP creates it: pending, not yet attempted,
/// version 1. Completion and the adverse-event review create theirs with
/// it, and so does the benchmark seed.
pub fn pending_follow_up(
    id: Uuid,
    procedure_id: Uuid,
    patient_id: Uuid,
    kind: FollowUpKind,
    due_at: DateTime<Utc>,
    channel: ContactChannel,
    created_at: DateTime<Utc>,
) -> follow_ups::Model {
    follow_ups::Model {
        id,
        procedure_id,
        patient_id,
        kind,
        due_at_s: due_at.timestamp(),
        channel,
        status: FollowUpStatus::Pending,
        attempts: 0,
        last_attempt_at: None,
        channel_used: None,
        symptoms: String::new(),
        nsaid_taken: None,
        adverse_kind: None,
        adverse_severity: None,
        adverse_description: None,
        notes: String::new(),
        cancel_reason: None,
        completed_at: None,
        completed_by: None,
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

fn new_follow_up(
    procedure: &procedures::Model,
    kind: FollowUpKind,
    due_at: DateTime<Utc>,
    channel: ContactChannel,
    now: DateTime<Utc>,
) -> follow_ups::ActiveModel {
    pending_follow_up(
        Uuid::now_v7(),
        procedure.id,
        procedure.patient_id,
        kind,
        due_at,
        channel,
        now,
    )
    .into_active_model()
}

/// R-FOLLOWUP: creates the follow-ups of a procedure being completed, in
/// the completing transaction, each on a channel the patient consents to
/// (the preferred one first), due at 10:00 in the clinic's time zone.
/// `sessions_left` is what remains of its treatment plan (`None` without
/// one).
///
/// # Errors
/// Database failures.
pub async fn create_for_completed(
    write: &mut AuditedWrite<'_>,
    procedure: &procedures::Model,
    policy: &ClinicPolicy,
    sessions_left: Option<u32>,
) -> AppResult<Vec<follow_ups::Model>> {
    let session = CompletedSession {
        day: performed_day(procedure.starts_at_s, policy),
        areas: split_codes(&procedure.areas),
        sessions_left,
    };
    let patient = patients::Entity::find_by_id(procedure.patient_id)
        .one(&**write)
        .await?
        .ok_or(AppError::NotFound { entity: "patient" })?;
    let channel = follow_up_channel(
        patient.preferred_channel,
        &current_channels(&**write, patient.id).await?,
    );
    let now = Utc::now();
    let mut created = Vec::new();
    for (kind, day) in follow_up_schedule(
        &session,
        policy.min_interval_days,
        policy.recommended_interval_days,
    ) {
        let row = new_follow_up(
            procedure,
            kind,
            due_instant(day, policy.time_zone),
            channel,
            now,
        )
        .insert(&**write)
        .await?;
        write.audit(
            AuditEvent::new(AuditAction::Create)
                .entity(EntityType::FollowUp, Some(row.id))
                .patient(row.patient_id),
        );
        write.emit(DomainEvent::follow_up(&row));
        created.push(row);
    }
    Ok(created)
}

/// Who may work follow-ups: staff, or partners with `follow_ups:write`.
fn ensure_follow_up_writer(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Staff(_) | Actor::System => Ok(()),
        Actor::Partner(partner) if partner.scopes.contains(&ApiScope::FollowUpsWrite) => Ok(()),
        Actor::Anonymous => Err(AppError::Unauthenticated("sign in to do this")),
        Actor::Partner(_) => Err(AppError::Forbidden),
    }
}

/// The follow-up with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_follow_up(db: &impl ConnectionTrait, id: Uuid) -> AppResult<follow_ups::Model> {
    let mut query = follow_ups::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    query.one(db).await?.ok_or(AppError::NotFound {
        entity: "follow-up",
    })
}

fn ensure_pending(follow_up: &follow_ups::Model) -> AppResult<()> {
    if follow_up.status != FollowUpStatus::Pending {
        return Err(AppError::InvalidState(format!(
            "a {} follow-up cannot change",
            api_name(&follow_up.status)
        )));
    }
    Ok(())
}

/// An adverse event as reported.
#[derive(Clone, Debug)]
pub struct AdverseEventReport {
    /// Kind.
    pub kind: AdverseEventKind,
    /// Severity.
    pub severity: Severity,
    /// What the patient describes.
    pub description: String,
}

/// What a follow-up call found.
#[derive(Clone, Debug)]
pub struct FollowUpReport {
    /// The channel used (must be consented).
    pub channel: ContactChannel,
    /// Whether the patient was reached.
    pub reached: bool,
    /// Symptoms reported.
    pub symptoms: BTreeSet<Symptom>,
    /// Whether the patient took an NSAID.
    pub nsaid_taken: Option<bool>,
    /// An adverse event, if any.
    pub adverse_event: Option<AdverseEventReport>,
    /// Notes.
    pub notes: Option<String>,
}

/// The outcome of completing a follow-up.
#[derive(Clone, Debug)]
pub struct FollowUpOutcome {
    /// The follow-up as it is now.
    pub follow_up: follow_ups::Model,
    /// The urgent provider review created for an adverse event (R-ADVERSE).
    pub provider_review: Option<follow_ups::Model>,
}

/// Records a follow-up attempt. Reached: COMPLETED with what was reported;
/// an adverse event (or infection, or redness/swelling past day 7) flags
/// the procedure and creates an urgent provider review due now
/// (R-ADVERSE). Not reached: the attempt is counted, MISSED after the
/// policy's number of attempts.
///
/// # Errors
/// `CONTACT_NOT_CONSENTED`; `INVALID_STATE` unless pending;
/// `BAD_USER_INPUT`; `CONFLICT` when stale.
pub async fn complete(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    report: FollowUpReport,
) -> AppResult<FollowUpOutcome> {
    ensure_follow_up_writer(&request.actor)?;
    let notes = optional_text("notes", report.notes, 4000)?.unwrap_or_default();
    let adverse = match report.adverse_event {
        Some(event) => Some((
            event.kind,
            event.severity,
            required_text("adverseEvent.description", event.description, 4000)?,
        )),
        None => None,
    };
    if !report.reached && (adverse.is_some() || !report.symptoms.is_empty()) {
        return Err(AppError::bad_input(
            "reached",
            "symptoms and adverse events come from a patient who was reached",
        ));
    }
    let mut write = AuditedWrite::begin(db, request, "completeFollowUp").await?;
    let current = find_follow_up(&*write, id).await?;
    ensure_pending(&current)?;
    if current.version != expected_version {
        return Err(stale_version());
    }
    if !current_channels(&*write, current.patient_id)
        .await?
        .contains(&report.channel)
    {
        let channel = api_name(&report.channel);
        return Err(AppError::rule_with(
            ErrorCode::ContactNotConsented,
            format!(
                "the patient does not consent to be contacted by {channel}; use a consented channel"
            ),
            "channel",
            async_graphql::Value::Enum(async_graphql::Name::new(&channel)),
        ));
    }
    let policy = current_policy(&*write).await?;
    let now = Utc::now();
    let mut update = follow_ups::Entity::update_many()
        .col_expr(follow_ups::Column::ChannelUsed, Expr::value(report.channel))
        .col_expr(follow_ups::Column::LastAttemptAt, Expr::value(now))
        .col_expr(follow_ups::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            follow_ups::Column::Version,
            Expr::col(follow_ups::Column::Version).add(1),
        )
        .filter(follow_ups::Column::Id.eq(id))
        .filter(follow_ups::Column::Version.eq(expected_version));
    let mut review = None;
    if report.reached {
        update = update
            .col_expr(
                follow_ups::Column::Status,
                Expr::value(FollowUpStatus::Completed),
            )
            .col_expr(
                follow_ups::Column::Symptoms,
                Expr::value(join_codes(&report.symptoms)),
            )
            .col_expr(
                follow_ups::Column::NsaidTaken,
                Expr::value(report.nsaid_taken),
            )
            .col_expr(
                follow_ups::Column::AdverseKind,
                Expr::value(adverse.as_ref().map(|a| a.0)),
            )
            .col_expr(
                follow_ups::Column::AdverseSeverity,
                Expr::value(adverse.as_ref().map(|a| a.1)),
            )
            .col_expr(
                follow_ups::Column::AdverseDescription,
                Expr::value(adverse.as_ref().map(|a| a.2.clone())),
            )
            .col_expr(follow_ups::Column::Notes, Expr::value(notes))
            .col_expr(follow_ups::Column::CompletedAt, Expr::value(now))
            .col_expr(
                follow_ups::Column::CompletedBy,
                Expr::value(request.actor.id()),
            );
        let procedure = procedures::Entity::find_by_id(current.procedure_id)
            .one(&*write)
            .await?
            .ok_or(AppError::NotFound {
                entity: "procedure",
            })?;
        let days_since = (clinic_day(now, policy.time_zone)
            - performed_day(procedure.starts_at_s, &policy))
        .num_days();
        if is_adverse(adverse.is_some(), &report.symptoms, days_since) {
            review = Some(escalate(&mut write, &procedure, now).await?);
        }
    } else {
        let attempts = current.attempts.saturating_add(1);
        let status = status_after_unanswered(
            u32::try_from(attempts).unwrap_or(u32::MAX),
            policy.follow_up_max_attempts,
        );
        update = update
            .col_expr(follow_ups::Column::Attempts, Expr::value(attempts))
            .col_expr(follow_ups::Column::Status, Expr::value(status))
            .col_expr(follow_ups::Column::Notes, Expr::value(notes));
    }
    if update.exec(&*write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::FollowUp, Some(id))
            .patient(current.patient_id),
    );
    let follow_up = find_follow_up(&*write, id).await?;
    write.emit(DomainEvent::follow_up(&follow_up));
    if let Some(review) = &review {
        write.emit(DomainEvent::follow_up(review));
        write.emit(adverse_event(&follow_up, review));
    }
    write.commit().await?;
    Ok(FollowUpOutcome {
        follow_up,
        provider_review: review,
    })
}

/// The live/webhook event of an adverse event reported at `follow_up`.
fn adverse_event(follow_up: &follow_ups::Model, review: &follow_ups::Model) -> DomainEvent {
    DomainEvent::AdverseEventReported {
        procedure_id: review.procedure_id,
        follow_up_id: follow_up.id,
        review_id: review.id,
    }
}

/// R-ADVERSE: flags the procedure and creates the urgent provider review,
/// due now, in the clinic (IN_PERSON is always allowed).
async fn escalate(
    write: &mut AuditedWrite<'_>,
    procedure: &procedures::Model,
    now: DateTime<Utc>,
) -> AppResult<follow_ups::Model> {
    procedures::Entity::update_many()
        .col_expr(procedures::Column::AdverseFlaggedAt, Expr::value(now))
        .filter(procedures::Column::Id.eq(procedure.id))
        .filter(procedures::Column::AdverseFlaggedAt.is_null())
        .exec(&**write)
        .await?;
    let review = new_follow_up(
        procedure,
        FollowUpKind::ProviderReview,
        now,
        ContactChannel::InPerson,
        now,
    )
    .insert(&**write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::FollowUp, Some(review.id))
            .patient(procedure.patient_id),
    );
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::Procedure, Some(procedure.id))
            .patient(procedure.patient_id),
    );
    Ok(review)
}

/// Moves a pending follow-up to another time.
///
/// # Errors
/// `BAD_USER_INPUT` for a time in the past or more than two years ahead;
/// `INVALID_STATE` unless pending; `CONFLICT` when stale.
pub async fn reschedule(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    due_at: DateTime<Utc>,
) -> AppResult<follow_ups::Model> {
    ensure_follow_up_writer(&request.actor)?;
    let now = Utc::now();
    if due_at < now - Duration::minutes(5) || due_at > now + Duration::days(730) {
        return Err(AppError::bad_input(
            "dueAt",
            "must be from now to two years ahead",
        ));
    }
    set(
        db,
        request,
        "rescheduleFollowUp",
        id,
        expected_version,
        |update| update.col_expr(follow_ups::Column::DueAtS, Expr::value(due_at.timestamp())),
    )
    .await
}

/// Cancels a pending follow-up with a reason.
///
/// # Errors
/// `BAD_USER_INPUT` without a reason; `INVALID_STATE` unless pending;
/// `CONFLICT` when stale.
pub async fn cancel(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    reason: String,
) -> AppResult<follow_ups::Model> {
    ensure_follow_up_writer(&request.actor)?;
    let reason = required_text("reason", reason, 500)?;
    set(
        db,
        request,
        "cancelFollowUp",
        id,
        expected_version,
        |update| {
            update
                .col_expr(
                    follow_ups::Column::Status,
                    Expr::value(FollowUpStatus::Cancelled),
                )
                .col_expr(follow_ups::Column::CancelReason, Expr::value(reason))
        },
    )
    .await
}

async fn set(
    db: &DatabaseConnection,
    request: &RequestContext,
    operation: &'static str,
    id: Uuid,
    expected_version: i32,
    change: impl FnOnce(
        sea_orm::UpdateMany<follow_ups::Entity>,
    ) -> sea_orm::UpdateMany<follow_ups::Entity>,
) -> AppResult<follow_ups::Model> {
    let mut write = AuditedWrite::begin(db, request, operation).await?;
    let current = find_follow_up(&*write, id).await?;
    ensure_pending(&current)?;
    let update = follow_ups::Entity::update_many()
        .col_expr(follow_ups::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            follow_ups::Column::Version,
            Expr::col(follow_ups::Column::Version).add(1),
        )
        .filter(follow_ups::Column::Id.eq(id))
        .filter(follow_ups::Column::Version.eq(expected_version));
    if change(update).exec(&*write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update)
            .entity(EntityType::FollowUp, Some(id))
            .patient(current.patient_id),
    );
    let follow_up = find_follow_up(&*write, id).await?;
    write.emit(DomainEvent::follow_up(&follow_up));
    write.commit().await?;
    Ok(follow_up)
}

/// Filters of the follow-up worklist.
#[derive(Clone, Debug, Default)]
pub struct FollowUpFilter {
    /// Only this status.
    pub status: Option<FollowUpStatus>,
    /// Only this kind.
    pub kind: Option<FollowUpKind>,
    /// Only this patient.
    pub patient_id: Option<Uuid>,
    /// Only this procedure.
    pub procedure_id: Option<Uuid>,
    /// Due at or after.
    pub due_from: Option<DateTime<Utc>>,
    /// Due before.
    pub due_to: Option<DateTime<Utc>>,
    /// Pending and due before now (true), or not (false).
    pub overdue: Option<bool>,
    /// Due today in the clinic's time zone.
    pub due_today: bool,
}

/// Name of the worklist's ordering (by due time), in its cursors.
pub const FOLLOW_UPS_BY_DUE: &str = "follow_ups_by_due";

/// The cursor of a follow-up.
///
/// # Errors
/// Never in practice.
pub fn cursor_of(follow_up: &follow_ups::Model) -> AppResult<KeysetCursor> {
    KeysetCursor::new(FOLLOW_UPS_BY_DUE, &(follow_up.due_at_s, follow_up.id))
}

/// One page of the worklist by due time, and the total matching.
///
/// # Errors
/// `BAD_USER_INPUT` for a foreign cursor; database failures.
pub async fn list_follow_ups(
    db: &DatabaseConnection,
    filter: &FollowUpFilter,
    page: &PageRequest,
) -> AppResult<(Page<follow_ups::Model>, i64)> {
    let now = Utc::now();
    let mut query = follow_ups::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(follow_ups::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(follow_ups::Column::Kind.eq(kind));
    }
    if let Some(patient) = filter.patient_id {
        query = query.filter(follow_ups::Column::PatientId.eq(patient));
    }
    if let Some(procedure) = filter.procedure_id {
        query = query.filter(follow_ups::Column::ProcedureId.eq(procedure));
    }
    if let Some(from) = filter.due_from {
        query = query.filter(follow_ups::Column::DueAtS.gte(from.timestamp()));
    }
    if let Some(to) = filter.due_to {
        query = query.filter(follow_ups::Column::DueAtS.lt(to.timestamp()));
    }
    if filter.due_today {
        let policy = current_policy(db).await?;
        let (start, end) = day_window(clinic_day(now, policy.time_zone), policy.time_zone);
        query = query
            .filter(follow_ups::Column::DueAtS.gte(start.timestamp()))
            .filter(follow_ups::Column::DueAtS.lt(end.timestamp()));
    }
    match filter.overdue {
        Some(true) => {
            query = query
                .filter(follow_ups::Column::Status.eq(FollowUpStatus::Pending))
                .filter(follow_ups::Column::DueAtS.lt(now.timestamp()));
        }
        Some(false) => {
            query = query.filter(
                sea_orm::Condition::any()
                    .add(follow_ups::Column::Status.ne(FollowUpStatus::Pending))
                    .add(follow_ups::Column::DueAtS.gte(now.timestamp())),
            );
        }
        None => {}
    }
    by_start(
        db,
        query,
        (follow_ups::Column::DueAtS, follow_ups::Column::Id),
        FOLLOW_UPS_BY_DUE,
        page,
    )
    .await
}
