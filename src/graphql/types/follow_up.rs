//! `FollowUp`, the aftercare plan, and their inputs and payloads.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::graphql::scalars::{Date, Timestamp, instant};

use super::{
    identity::{User, load_user},
    patient::{Patient, load_patient},
    procedure::Procedure,
};
use crate::graphql::types::may_withhold;
use crate::{
    auth::guards::Allow,
    domain::{
        aftercare::{AftercarePhase, AftercareStep as Step},
        follow_up::{AdverseEventKind, FollowUpKind, FollowUpStatus, Severity, Symptom},
        patient::{ContactChannel, split_codes},
    },
    entities::follow_ups,
    graphql::loaders::Loaders,
    services::follow_ups::{AdverseEventReport, FollowUpReport},
};

super::row_object!(
    /// A call or review after a procedure.
    FollowUp(Row<follow_ups::Entity>)
);

/// A call or review after a procedure (R-FOLLOWUP), on a channel the
/// patient consents to (R-CONTACT). What the patient reported is clinical.
#[Object]
impl FollowUp {
    /// The follow-up's id.
    async fn id(&self) -> ID {
        ID(self.0.core().id.to_string())
    }
    /// What it is for.
    async fn kind(&self) -> FollowUpKind {
        self.0.core().kind
    }
    /// When it is due.
    async fn due_at(&self) -> Timestamp {
        instant(self.0.core().due_at_s)
    }
    /// Pending and past its due time.
    async fn overdue(&self) -> bool {
        let row = self.0.core();
        row.status == FollowUpStatus::Pending && row.due_at_s < chrono::Utc::now().timestamp()
    }
    /// The channel to use (one the patient consents to).
    async fn channel(&self) -> ContactChannel {
        self.0.core().channel
    }
    /// Where it stands.
    async fn status(&self) -> FollowUpStatus {
        self.0.core().status
    }
    /// Unanswered attempts so far.
    async fn attempts(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.0.whole(ctx).await?.attempts)
    }
    /// The last attempt.
    async fn last_attempt_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.last_attempt_at.map(Into::into))
    }
    /// The channel used when it was completed.
    async fn channel_used(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ContactChannel>> {
        Ok(self.0.whole(ctx).await?.channel_used)
    }
    /// Symptoms the patient reported (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn symptoms(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Symptom>>> {
        may_withhold(async {
            Ok(split_codes::<Symptom>(&self.0.whole(ctx).await?.symptoms)
                .into_iter()
                .collect())
        })
        .await
    }
    /// Whether the patient took an NSAID (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn nsaid_taken(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        Ok(self.0.whole(ctx).await?.nsaid_taken)
    }
    /// The adverse event reported, if any (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn adverse_event(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<AdverseEvent>> {
        let row = self.0.whole(ctx).await?;
        Ok(row
            .adverse_kind
            .zip(row.adverse_severity)
            .map(|(kind, severity)| AdverseEvent {
                kind,
                severity,
                description: row.adverse_description.clone().unwrap_or_default(),
            }))
    }
    /// Notes of the call (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        may_withhold(async { Ok(self.0.whole(ctx).await?.notes.as_str()) }).await
    }
    /// Why it was cancelled (staff).
    #[graphql(guard = "Allow::STAFF")]
    async fn cancel_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.cancel_reason.as_deref())
    }
    /// When it was completed.
    async fn completed_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.completed_at.map(Into::into))
    }
    /// Who completed it (staff member; empty for partners).
    async fn completed_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.whole(ctx).await?.completed_by {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The procedure it follows (as `procedures` at the root: staff, or
    /// partners with `schedule:read`).
    #[graphql(guard = "Allow::SCHEDULE_READERS")]
    async fn procedure(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Procedure>> {
        Ok(ctx
            .data::<Loaders>()?
            .procedures
            .load_one(self.0.core().procedure_id)
            .await?
            .and_then(|rows| rows.into_iter().next())
            .map(Procedure))
    }
    /// The patient to contact. Reading it is audited; callers who may not read
    /// patients get FORBIDDEN.
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        load_patient(ctx, self.0.core().patient_id, "FollowUp.patient").await
    }
    /// When it was created.
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

/// An adverse event reported at a follow-up (R-ADVERSE).
#[derive(SimpleObject, Clone, Debug)]
pub struct AdverseEvent {
    /// What happened, by category (R-ADVERSE); `description` gives the details.
    pub kind: AdverseEventKind,
    /// How serious it is, as judged by whoever took the report; any severity
    /// flags the procedure.
    pub severity: Severity,
    /// What the patient describes.
    pub description: String,
}

/// The aftercare sheet of a procedure (R-AFTERCARE).
#[derive(SimpleObject, Clone, Debug)]
pub struct AftercarePlan {
    /// The procedure's day in the clinic's time zone (day 0).
    pub procedure_date: Date,
    /// The timeline, day 0 first.
    pub steps: Vec<AftercareStep>,
}

/// One step of the aftercare timeline.
#[derive(SimpleObject, Clone, Debug)]
pub struct AftercareStep {
    /// Which part of the timeline.
    pub phase: AftercarePhase,
    /// First day, counted from the procedure day (0).
    pub from_day: u32,
    /// Last day, if the step ends.
    pub to_day: Option<u32>,
    /// First calendar day.
    pub from_date: Date,
    /// Last calendar day, if the step ends.
    pub to_date: Option<Date>,
    /// What to do.
    pub instructions: Vec<String>,
    /// What to avoid.
    pub avoid: Vec<String>,
    /// What is normal to see.
    pub expected_effects: Vec<String>,
}

impl From<Step> for AftercareStep {
    fn from(step: Step) -> Self {
        let owned = |items: Vec<&'static str>| items.into_iter().map(str::to_owned).collect();
        Self {
            phase: step.phase,
            from_day: step.from_day,
            to_day: step.to_day,
            from_date: step.from_date.into(),
            to_date: step.to_date.map(Into::into),
            instructions: owned(step.instructions),
            avoid: owned(step.avoid),
            expected_effects: owned(step.expected_effects),
        }
    }
}

/// An adverse event to report.
#[derive(InputObject)]
pub struct AdverseEventInput {
    /// What happened, by category (R-ADVERSE); use OTHER for anything not
    /// listed.
    pub kind: AdverseEventKind,
    /// How serious it is, in your judgement; any severity flags the procedure
    /// and notifies providers.
    pub severity: Severity,
    /// What the patient describes.
    pub description: String,
}

/// What a follow-up call found.
#[derive(InputObject)]
pub struct CompleteFollowUpInput {
    /// The follow-up.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// The channel used (must be one the patient consents to).
    pub channel: ContactChannel,
    /// Whether the patient was reached; if not, the attempt is counted.
    pub reached: bool,
    /// Symptoms reported.
    #[graphql(default)]
    pub symptoms: Vec<Symptom>,
    /// Whether the patient took an NSAID.
    pub nsaid_taken: Option<bool>,
    /// An adverse event, if one was reported.
    pub adverse_event: Option<AdverseEventInput>,
    /// Free-text notes of the call or the attempt (up to 4,000 characters);
    /// only admins and providers read them back.
    pub notes: Option<String>,
}

impl From<CompleteFollowUpInput> for FollowUpReport {
    fn from(input: CompleteFollowUpInput) -> Self {
        Self {
            channel: input.channel,
            reached: input.reached,
            symptoms: input.symptoms.into_iter().collect(),
            nsaid_taken: input.nsaid_taken,
            adverse_event: input.adverse_event.map(|event| AdverseEventReport {
                kind: event.kind,
                severity: event.severity,
                description: event.description,
            }),
            notes: input.notes,
        }
    }
}

/// The worked follow-up, and the urgent review an adverse event created.
#[derive(SimpleObject)]
pub struct CompleteFollowUpPayload {
    /// The follow-up as it is now.
    pub follow_up: FollowUp,
    /// The provider review created for an adverse event (R-ADVERSE).
    pub provider_review: Option<FollowUp>,
}

/// A follow-up to move.
#[derive(InputObject)]
pub struct RescheduleFollowUpInput {
    /// The follow-up.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// The new due time (from now to two years ahead).
    pub due_at: Timestamp,
}

/// The moved follow-up.
#[derive(SimpleObject)]
pub struct RescheduleFollowUpPayload {
    /// The follow-up with its new `dueAt` and `version`.
    pub follow_up: FollowUp,
}

/// A follow-up to cancel.
#[derive(InputObject)]
pub struct CancelFollowUpInput {
    /// The follow-up.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// Why.
    pub reason: String,
}

/// The cancelled follow-up.
#[derive(SimpleObject)]
pub struct CancelFollowUpPayload {
    /// The follow-up, now CANCELLED, with its reason and new `version`.
    pub follow_up: FollowUp,
}

/// Filters of the follow-up worklist.
#[derive(InputObject, Default)]
pub struct FollowUpFilter {
    /// Only this status.
    pub status: Option<FollowUpStatus>,
    /// Only this kind.
    pub kind: Option<FollowUpKind>,
    /// Only this patient.
    pub patient_id: Option<ID>,
    /// Only this procedure.
    pub procedure_id: Option<ID>,
    /// Due at or after.
    pub due_from: Option<Timestamp>,
    /// Due before.
    pub due_to: Option<Timestamp>,
    /// Pending and past due (true), or not (false).
    pub overdue: Option<bool>,
    /// Due today in the clinic's time zone.
    #[graphql(default)]
    pub due_today: bool,
}

crate::connection_types!(
    FollowUpConnection,
    FollowUpEdge,
    FollowUp,
    "A page of follow-ups.",
    "A follow-up with its cursor."
);
