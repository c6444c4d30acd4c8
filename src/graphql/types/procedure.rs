//! `Procedure`, `DeviceSession`, `Device`, `Cartridge`, amendments, the
//! `Appointment` union, and their inputs and payloads.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject, Union};

use crate::graphql::scalars::{Date, Timestamp, instant};

use super::{
    consultation::{Consultation, Screening, TreatmentPlan},
    follow_up::{AftercarePlan, FollowUp},
    identity::{User, load_user},
    patient::{Patient, load_patient},
};
use crate::graphql::types::may_withhold;
use crate::{
    auth::guards::Allow,
    domain::{
        aftercare::aftercare_plan,
        device::{DeviceKind, DeviceStatus},
        patient::split_codes,
        procedure::{
            ClinicalEndpoint, NeedlingPattern, PostCare, PrepChecklist, ProcedureStatus,
            dwell_minutes,
        },
        treatment_area::TreatmentArea,
    },
    entities::{cartridges, device_sessions, devices, procedure_amendments, procedures},
    graphql::{loaders::Loaders, request_context, rows::Row},
    services::{
        devices::{CartridgeSpec, DeviceChanges, DeviceDetails},
        procedures::{
            Appointment as ScheduledAppointment, ChartedRecord, FieldChange, performed_day,
        },
    },
};

fn mm(micrometres: i32) -> f64 {
    f64::from(micrometres) / 1000.0
}

super::row_object!(
    /// A micro-needling procedure, from booking to signature.
    Procedure(Row<procedures::Entity>)
);

/// A micro-needling procedure: SCHEDULED → IN_PROGRESS → COMPLETED →
/// SIGNED (immutable; corrected by amendments), or CANCELLED. The
/// schedule part is visible to all staff and to partners with
/// `schedule:read`; the clinical chart only to admins and providers.
#[Object]
impl Procedure {
    /// The procedure's id.
    async fn id(&self) -> ID {
        ID(self.0.core().id.to_string())
    }
    /// The patient treated. Reading it is audited; callers who may not read
    /// patients get FORBIDDEN.
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        load_patient(ctx, self.0.core().patient_id, "Procedure.patient").await
    }
    /// The performing provider.
    async fn provider(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.core().provider_id).await
    }
    /// The treatment plan this session belongs to (staff).
    #[graphql(guard = "Allow::STAFF")]
    async fn treatment_plan(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<TreatmentPlan>> {
        let Some(plan_id) = self.0.core().treatment_plan_id else {
            return Ok(None);
        };
        Ok(ctx
            .data::<Loaders>()?
            .plans_by_patient
            .load_one(self.0.core().patient_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|plan| plan.id == plan_id)
            .map(TreatmentPlan))
    }
    /// Start.
    async fn starts_at(&self) -> Timestamp {
        instant(self.0.core().starts_at_s)
    }
    /// End.
    async fn ends_at(&self) -> Timestamp {
        instant(self.0.core().ends_at_s)
    }
    /// The start it was booked for. `startsAt` moves to the real start when
    /// the session begins (so the protocol's intervals count from what
    /// happened); this keeps the appointment, for punctuality and no-show
    /// reports. Procedures booked before it was kept show their start.
    async fn scheduled_starts_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Timestamp> {
        let row = self.0.whole(ctx).await?;
        Ok(instant(
            row.scheduled_starts_at_s.unwrap_or(row.starts_at_s),
        ))
    }
    /// Length in minutes.
    async fn duration_minutes(&self) -> i64 {
        let row = self.0.core();
        (row.ends_at_s - row.starts_at_s) / 60
    }
    /// Where it stands.
    async fn status(&self) -> ProcedureStatus {
        self.0.core().status
    }
    /// Areas booked and treated.
    async fn areas(&self) -> Vec<TreatmentArea> {
        split_codes::<TreatmentArea>(&self.0.core().areas)
            .into_iter()
            .collect()
    }
    /// Why it was cancelled (staff). Once a procedure has started the
    /// reason is clinical (e.g. a finding on the day), so only admins and
    /// providers read it then.
    #[graphql(guard = "Allow::STAFF")]
    async fn cancel_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let row = self.0.whole(ctx).await?;
        if row.started_at.is_some() && !Allow::CLINICAL.admits(&request_context(ctx)?.actor) {
            return Err(crate::error::AppError::Forbidden.into());
        }
        Ok(row.cancel_reason.as_deref())
    }
    /// When it was started.
    async fn started_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.started_at.map(Into::into))
    }
    /// The pre-procedure checklist as charted at the start (R-PREP;
    /// clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn prep(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PrepRecord>> {
        let row = self.0.whole(ctx).await?;
        let (Some(product), Some(applied_at)) = (&row.numbing_product, row.numbing_applied_at)
        else {
            return Ok(None);
        };
        let first_needle = sessions_of(ctx, row.id)
            .await?
            .iter()
            .map(|session| session.core().started_at_s)
            .min()
            .map(instant);
        Ok(Some(PrepRecord {
            numbing_product: product.clone(),
            numbing_applied_at: applied_at.into(),
            first_needle_at: first_needle,
            numbing_dwell_minutes: first_needle.map(|first| dwell_minutes(applied_at, first.0)),
        }))
    }
    /// The screening that cleared the start (R-SCREENING; clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn screening(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Screening>> {
        let Some(screening_id) = self.0.whole(ctx).await?.screening_id else {
            return Ok(None);
        };
        Ok(ctx
            .data::<Loaders>()?
            .screenings_by_patient
            .load_one(self.0.core().patient_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|screening| screening.id == screening_id)
            .map(Screening))
    }
    /// The provider's reason to proceed despite relative contraindications
    /// (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn screening_override_reason(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .0
            .whole(ctx)
            .await?
            .screening_override_reason
            .as_deref())
    }
    /// Device sessions in charting order: device, cartridge and settings
    /// (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn device_sessions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<DeviceSession>>> {
        may_withhold(async {
            Ok(sessions_of(ctx, self.0.core().id)
                .await?
                .into_iter()
                .map(DeviceSession)
                .collect())
        })
        .await
    }
    /// What was applied after needling (R-POSTCARE; clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn post_care(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PostCareRecord>> {
        let row = self.0.whole(ctx).await?;
        Ok(post_care_of(row))
    }
    /// The skin's immediate response (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn immediate_response(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.immediate_response.as_deref())
    }
    /// Clinical notes (clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn clinical_notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        may_withhold(async { Ok(self.0.whole(ctx).await?.clinical_notes.as_str()) }).await
    }
    /// When it was completed.
    async fn completed_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.completed_at.map(Into::into))
    }
    /// When it was signed.
    async fn signed_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.signed_at.map(Into::into))
    }
    /// Who signed it.
    async fn signed_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.0.whole(ctx).await?.signed_by {
            Some(id) => load_user(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The chart exactly as signed, whatever amendments changed since
    /// (R-RECORDS; clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn signed_record(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ChartedRecordView>> {
        let Some(json) = &self.0.whole(ctx).await?.signed_record else {
            return Ok(None);
        };
        let record: ChartedRecord = serde_json::from_str(json)
            .map_err(|error| crate::error::AppError::Internal(error.into()))?;
        Ok(Some(record.into()))
    }
    /// Amendments after signature, oldest first (R-RECORDS; clinical).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn amendments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<ProcedureAmendment>>> {
        may_withhold(async {
            Ok(ctx
                .data::<Loaders>()?
                .amendments_by_procedure
                .load_one(self.0.core().id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(ProcedureAmendment)
                .collect())
        })
        .await
    }
    /// The aftercare sheet: the timeline adapted to the areas treated,
    /// with calendar dates from the procedure's day (R-AFTERCARE; staff,
    /// the front desk included: it is what they tell callers).
    #[graphql(guard = "Allow::STAFF")]
    async fn aftercare(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<AftercarePlan>> {
        may_withhold(async {
            let policy = ctx.data::<Loaders>()?.policy().await?;
            let row = self.0.core();
            let day = performed_day(row.starts_at_s, policy);
            Ok(AftercarePlan {
                procedure_date: day.into(),
                steps: aftercare_plan(day, &split_codes(&row.areas))
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            })
        })
        .await
    }
    /// Its follow-ups by due time (staff, or partners with
    /// `follow_ups:read`).
    #[graphql(guard = "Allow::FOLLOW_UP_READERS")]
    async fn follow_ups(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<FollowUp>>> {
        may_withhold(async {
            Ok(ctx
                .data::<Loaders>()?
                .follow_ups_by_procedure
                .load_one(self.0.core().id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(FollowUp)
                .collect())
        })
        .await
    }
    /// When an adverse event was reported after it (R-ADVERSE), if ever
    /// (clinical: that one happened is itself a clinical fact).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn adverse_event_flagged_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.adverse_flagged_at.map(Into::into))
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

/// What was applied after needling, once all of it is charted.
fn post_care_of(row: &procedures::Model) -> Option<PostCareRecord> {
    Some(PostCareRecord {
        lipopeptide_booster: row.lipopeptide_booster?,
        moisturizer: row.moisturizer?,
        sunscreen_spf: row.sunscreen_spf?,
    })
}

async fn sessions_of(
    ctx: &Context<'_>,
    procedure_id: uuid::Uuid,
) -> async_graphql::Result<Vec<Row<device_sessions::Entity>>> {
    Ok(ctx
        .data::<Loaders>()?
        .sessions_by_procedure
        .load_one(procedure_id)
        .await?
        .unwrap_or_default())
}

/// The pre-procedure checklist as charted (R-PREP).
#[derive(SimpleObject, Clone, Debug)]
pub struct PrepRecord {
    /// Numbing cream product.
    pub numbing_product: String,
    /// When it was applied.
    pub numbing_applied_at: Timestamp,
    /// Start of the first device session.
    pub first_needle_at: Option<Timestamp>,
    /// Minutes from application to the first needle (dwell time); absent
    /// until a device session is charted.
    pub numbing_dwell_minutes: Option<i64>,
}

/// What was applied after needling (R-POSTCARE).
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct PostCareRecord {
    /// A lipopeptide booster serum was applied.
    pub lipopeptide_booster: bool,
    /// A moisturizer was applied.
    pub moisturizer: bool,
    /// SPF of the sunscreen applied (30 or more).
    pub sunscreen_spf: i32,
}

/// The amendable part of a chart.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "ChartedRecord")]
pub struct ChartedRecordView {
    /// The provider's free-text clinical notes of the procedure, as they read
    /// in this version of the chart.
    pub clinical_notes: String,
    /// The skin's immediate response.
    pub immediate_response: Option<String>,
    /// Lipopeptide booster applied.
    pub lipopeptide_booster: Option<bool>,
    /// Moisturizer applied.
    pub moisturizer: Option<bool>,
    /// SPF of the sunscreen applied after needling (30 or more); absent if not
    /// charted.
    pub sunscreen_spf: Option<i32>,
}

impl From<ChartedRecord> for ChartedRecordView {
    fn from(record: ChartedRecord) -> Self {
        Self {
            clinical_notes: record.clinical_notes,
            immediate_response: record.immediate_response,
            lipopeptide_booster: record.lipopeptide_booster,
            moisturizer: record.moisturizer,
            sunscreen_spf: record.sunscreen_spf,
        }
    }
}

super::row_object!(
    /// A correction of a signed procedure (R-RECORDS).
    ProcedureAmendment(procedure_amendments::Model)
);

/// A correction of a signed procedure: who, when, why and what changed
/// (R-RECORDS).
#[Object]
impl ProcedureAmendment {
    /// The amendment's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The provider who amended.
    async fn amended_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.amended_by).await
    }
    /// When.
    async fn amended_at(&self) -> Timestamp {
        self.0.amended_at.into()
    }
    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Each changed field with its old and new value.
    async fn changes(&self) -> async_graphql::Result<Vec<AmendedField>> {
        let changes: Vec<FieldChange> = serde_json::from_str(&self.0.changes)
            .map_err(|error| crate::error::AppError::Internal(error.into()))?;
        Ok(changes
            .into_iter()
            .map(|change| AmendedField {
                field: change.field,
                old_value: Json(change.old_value),
                new_value: Json(change.new_value),
            })
            .collect())
    }
}

/// One field an amendment changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct AmendedField {
    /// The field, as named in `ChartedRecord`.
    pub field: String,
    /// The value before (JSON).
    pub old_value: Json<serde_json::Value>,
    /// The value after (JSON).
    pub new_value: Json<serde_json::Value>,
}

super::row_object!(
    /// One device and cartridge over one area of a procedure (clinical).
    DeviceSession(Row<device_sessions::Entity>)
);

/// One device and cartridge over one area of a procedure, with its
/// settings (clinical).
#[Object]
impl DeviceSession {
    /// The session's id.
    async fn id(&self) -> ID {
        ID(self.0.core().id.to_string())
    }
    /// The pen or roller used in this session.
    async fn device(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Device>> {
        Ok(ctx
            .data::<Loaders>()?
            .devices
            .load_one(self.0.core().device_id)
            .await?
            .and_then(|rows| rows.into_iter().next())
            .map(Device))
    }
    /// The needle cartridge used in this session; single-use, so it belongs to
    /// this procedure only.
    async fn cartridge(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Cartridge>> {
        Ok(ctx
            .data::<Loaders>()?
            .cartridges
            .load_one(self.0.core().cartridge_id)
            .await?
            .and_then(|rows| rows.into_iter().next())
            .map(Cartridge))
    }
    /// The area needled.
    async fn area(&self) -> TreatmentArea {
        self.0.core().area
    }
    /// Needle depth in millimetres.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn depth_mm(&self) -> Option<f64> {
        Some(mm(self.0.core().depth_um))
    }
    /// Why the depth is outside the area's guideline range (R-DEPTH).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn depth_override_reason(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.depth_override_reason.as_deref())
    }
    /// Passes over the area.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn passes(&self) -> Option<i32> {
        Some(self.0.core().passes)
    }
    /// How the device was moved over the area, e.g. CROSSHATCH.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn pattern(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<NeedlingPattern>> {
        may_withhold(async { Ok(self.0.whole(ctx).await?.pattern) }).await
    }
    /// Speed setting as labelled on the device.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn speed_setting(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.speed_setting.as_deref())
    }
    /// What was applied so the device glides over the skin, e.g. `hyaluronic
    /// acid serum`; absent if none was charted.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn glide_medium(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.glide_medium.as_deref())
    }
    /// The clinical endpoint reached.
    #[graphql(guard = "Allow::CLINICAL")]
    async fn clinical_endpoint(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<ClinicalEndpoint>> {
        may_withhold(async { Ok(self.0.whole(ctx).await?.clinical_endpoint) }).await
    }
    /// Start.
    async fn started_at(&self) -> Timestamp {
        instant(self.0.core().started_at_s)
    }
    /// End.
    async fn ended_at(&self) -> Timestamp {
        instant(self.0.core().ended_at_s)
    }
    /// The provider who charted it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        load_user(ctx, self.0.whole(ctx).await?.recorded_by).await
    }
}

super::row_object!(
    /// A micro-needling pen or roller.
    Device(devices::Model)
);

/// A micro-needling pen or roller (R-DEVICE: only ACTIVE ones are used).
#[Object]
impl Device {
    /// The device's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Pen or roller.
    async fn kind(&self) -> DeviceKind {
        self.0.kind
    }
    /// The device's maker as on its label, e.g. `Dermapen`.
    async fn manufacturer(&self) -> &str {
        &self.0.manufacturer
    }
    /// The maker's model name or number, e.g. `4` for a Dermapen 4.
    async fn model(&self) -> &str {
        &self.0.model
    }
    /// Serial number.
    async fn serial(&self) -> &str {
        &self.0.serial
    }
    /// Labelled maximum needle depth, millimetres.
    async fn max_depth_mm(&self) -> f64 {
        mm(self.0.max_depth_um)
    }
    /// Fewest needles of the cartridges it takes.
    async fn needle_count_min(&self) -> Option<i32> {
        self.0.needle_count_min
    }
    /// Most needles of the cartridges it takes.
    async fn needle_count_max(&self) -> Option<i32> {
        self.0.needle_count_max
    }
    /// Regulatory clearance (e.g. FDA 510(k) number).
    async fn regulatory_id(&self) -> Option<&str> {
        self.0.regulatory_id.as_deref()
    }
    /// Whether it may be used.
    async fn status(&self) -> DeviceStatus {
        self.0.status
    }
    /// Last service date.
    async fn last_serviced_on(&self) -> Option<Date> {
        self.0.last_serviced_on.map(Into::into)
    }
    /// Free-text remarks about the device (e.g. its service history), kept by
    /// admins; empty when there are none.
    async fn notes(&self) -> &str {
        &self.0.notes
    }
    /// When it was registered.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at.into()
    }
    /// Version for optimistic locking.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

super::row_object!(
    /// A sterile, single-use needle cartridge.
    Cartridge(Row<cartridges::Entity>)
);

/// A sterile, single-use needle cartridge (R-CARTRIDGE).
#[Object]
impl Cartridge {
    /// The cartridge's id.
    async fn id(&self) -> ID {
        ID(self.0.core().id.to_string())
    }
    /// Serial or UDI.
    async fn serial(&self) -> &str {
        &self.0.core().serial
    }
    /// Manufacturing lot.
    async fn lot_number(&self) -> &str {
        &self.0.core().lot_number
    }
    /// Needles (1-1000).
    async fn needle_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.0.whole(ctx).await?.needle_count)
    }
    /// The needle arrangement as printed on the pack, e.g. `round, 16-pin`;
    /// absent if not recorded.
    async fn needle_geometry(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.whole(ctx).await?.needle_geometry.as_deref())
    }
    /// Labelled maximum depth, millimetres.
    async fn max_depth_mm(&self, ctx: &Context<'_>) -> async_graphql::Result<f64> {
        Ok(mm(self.0.whole(ctx).await?.max_depth_um))
    }
    /// Last day of use.
    async fn expires_on(&self) -> Date {
        self.0.core().expires_on.into()
    }
    /// When it was opened.
    async fn opened_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Timestamp>> {
        Ok(self.0.whole(ctx).await?.opened_at.map(Into::into))
    }
    /// Whether it was used (it never can be again).
    async fn used(&self) -> bool {
        self.0.core().procedure_id.is_some()
    }
}

/// A consultation or a procedure on the schedule.
// Short-lived rows of one response; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Union)]
pub enum Appointment {
    /// A consultation.
    Consultation(Consultation),
    /// A procedure.
    Procedure(Procedure),
}

impl From<ScheduledAppointment> for Appointment {
    fn from(appointment: ScheduledAppointment) -> Self {
        match appointment {
            ScheduledAppointment::Consultation(row) => Self::Consultation(Consultation::from(row)),
            ScheduledAppointment::Procedure(row) => Self::Procedure(Procedure::from(row)),
        }
    }
}

/// A procedure to book.
#[derive(InputObject)]
pub struct ScheduleProcedureInput {
    /// The patient (not archived).
    pub patient_id: ID,
    /// The performing provider (licensed on the procedure's date).
    pub provider_id: ID,
    /// The treatment plan; the patient's active plan when omitted.
    pub treatment_plan_id: Option<ID>,
    /// Start (in the future).
    pub starts_at: Timestamp,
    /// Length in minutes (10-480).
    pub duration_minutes: i32,
    /// Areas to treat (at least one).
    pub areas: Vec<TreatmentArea>,
    /// Retry key: the same key from the same caller within 24 hours returns
    /// the first booking and books nothing.
    pub idempotency_key: Option<String>,
}

/// The booked procedure.
#[derive(SimpleObject)]
pub struct ScheduleProcedurePayload {
    /// The booked procedure, SCHEDULED. A retry with the same `idempotencyKey`
    /// returns this same procedure.
    pub procedure: Procedure,
}

/// The pre-procedure checklist (R-PREP).
#[derive(InputObject)]
pub struct PrepChecklistInput {
    /// The area is free of lotions, makeup and other topicals (must be true).
    pub area_free_of_topicals: bool,
    /// The signed consent was confirmed with the patient (must be true).
    pub consent_confirmed: bool,
    /// Numbing cream product.
    pub numbing_product: String,
    /// When the numbing cream was applied (within the last 3 hours).
    pub numbing_applied_at: Timestamp,
}

impl From<PrepChecklistInput> for PrepChecklist {
    fn from(input: PrepChecklistInput) -> Self {
        Self {
            area_free_of_topicals: input.area_free_of_topicals,
            consent_confirmed: input.consent_confirmed,
            numbing_product: input.numbing_product,
            numbing_applied_at: input.numbing_applied_at.into(),
        }
    }
}

/// A procedure to start (its performing provider).
#[derive(InputObject)]
pub struct StartProcedureInput {
    /// The procedure.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// The pre-procedure checklist.
    pub prep: PrepChecklistInput,
    /// Reason to proceed despite relative contraindications of the latest
    /// screening, when it carries none (audited).
    pub screening_override_reason: Option<String>,
}

/// The started procedure.
#[derive(SimpleObject)]
pub struct StartProcedurePayload {
    /// The procedure, now IN_PROGRESS.
    pub procedure: Procedure,
}

/// A cartridge as printed on its pack. Only the serial is needed once it is
/// registered; a new serial needs the lot, needle count, maximum depth and
/// expiry.
#[derive(InputObject)]
pub struct CartridgeInput {
    /// Serial or UDI.
    pub serial: String,
    /// The manufacturing lot printed on the pack: required for a serial not yet
    /// registered, otherwise it must match the registered one. Recalls are
    /// traced by lot (`cartridgeLotExposure`).
    pub lot_number: Option<String>,
    /// Needles (1-1000).
    pub needle_count: Option<i32>,
    /// The needle arrangement as printed on the pack, e.g. `round, 16-pin`
    /// (optional, up to 100 characters).
    pub needle_geometry: Option<String>,
    /// Labelled maximum depth, millimetres.
    pub max_depth_mm: Option<f64>,
    /// Last day of use.
    pub expires_on: Option<Date>,
}

impl From<CartridgeInput> for CartridgeSpec {
    fn from(input: CartridgeInput) -> Self {
        Self {
            serial: input.serial,
            lot_number: input.lot_number,
            needle_count: input.needle_count,
            needle_geometry: input.needle_geometry,
            max_depth_mm: input.max_depth_mm,
            expires_on: input.expires_on.map(Into::into),
        }
    }
}

/// A device session to chart (its performing provider, while IN_PROGRESS).
#[derive(InputObject)]
pub struct AddDeviceSessionInput {
    /// The procedure.
    pub procedure_id: ID,
    /// The device (ACTIVE).
    pub device_id: ID,
    /// The cartridge (single-use, not expired).
    pub cartridge: CartridgeInput,
    /// The area needled.
    pub area: TreatmentArea,
    /// Needle depth in millimetres (positive, at most 3 decimals).
    pub depth_mm: f64,
    /// Why the depth is outside the area's guideline range (audited);
    /// never allows more than the device's or cartridge's maximum.
    pub depth_override_reason: Option<String>,
    /// Passes over the area (1-20).
    pub passes: i32,
    /// How the device was moved over the area, e.g. CROSSHATCH.
    pub pattern: NeedlingPattern,
    /// Speed setting as labelled on the device.
    pub speed_setting: Option<String>,
    /// Glide medium (e.g. hyaluronic acid serum).
    pub glide_medium: Option<String>,
    /// The clinical endpoint reached.
    pub clinical_endpoint: ClinicalEndpoint,
    /// Start.
    pub started_at: Timestamp,
    /// End (after the start, at most 4 hours later).
    pub ended_at: Timestamp,
}

/// The charted session and its procedure.
#[derive(SimpleObject)]
pub struct AddDeviceSessionPayload {
    /// The procedure after this session was charted: its `areas` now include
    /// the area needled, and its `version` is new when that added an area.
    pub procedure: Procedure,
    /// The session.
    pub device_session: DeviceSession,
}

/// What was applied after needling (R-POSTCARE).
#[derive(InputObject)]
pub struct PostCareInput {
    /// A lipopeptide booster serum was applied.
    pub lipopeptide_booster: bool,
    /// A moisturizer was applied.
    pub moisturizer: bool,
    /// SPF of the sunscreen applied (30 or more).
    pub sunscreen_spf: i32,
}

impl From<PostCareInput> for PostCare {
    fn from(input: PostCareInput) -> Self {
        Self {
            lipopeptide_booster: input.lipopeptide_booster,
            moisturizer: input.moisturizer,
            sunscreen_spf: input.sunscreen_spf,
        }
    }
}

/// A procedure to complete (its performing provider).
#[derive(InputObject)]
pub struct CompleteProcedureInput {
    /// The procedure.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// What was applied after needling.
    pub post_care: PostCareInput,
    /// The skin's immediate response.
    pub immediate_response: Option<String>,
    /// The provider's free-text clinical notes (up to 10,000 characters). The
    /// signature freezes them; after it they change only through
    /// `amendProcedure`.
    pub clinical_notes: Option<String>,
}

/// The completed procedure.
#[derive(SimpleObject)]
pub struct CompleteProcedurePayload {
    /// The procedure, now COMPLETED.
    pub procedure: Procedure,
}

/// A procedure to sign (its performing provider).
#[derive(InputObject)]
pub struct SignProcedureInput {
    /// The procedure.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
}

/// The signed procedure.
#[derive(SimpleObject)]
pub struct SignProcedurePayload {
    /// The procedure, now SIGNED and locked.
    pub procedure: Procedure,
}

/// Corrections of a signed procedure; omitted fields stay as they are.
#[derive(InputObject)]
pub struct AmendProcedureInput {
    /// The procedure.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// Why the record is corrected.
    pub reason: String,
    /// Corrected clinical notes.
    pub clinical_notes: Option<String>,
    /// Corrected immediate response.
    pub immediate_response: Option<String>,
    /// Corrected booster record.
    pub lipopeptide_booster: Option<bool>,
    /// Corrected moisturizer record.
    pub moisturizer: Option<bool>,
    /// Corrected sunscreen SPF (30 or more).
    pub sunscreen_spf: Option<i32>,
}

/// The amended procedure and the amendment.
#[derive(SimpleObject)]
pub struct AmendProcedurePayload {
    /// The procedure as it reads now.
    pub procedure: Procedure,
    /// The amendment recorded.
    pub amendment: ProcedureAmendment,
}

/// A procedure to cancel.
#[derive(InputObject)]
pub struct CancelProcedureInput {
    /// The procedure.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// Why.
    pub reason: String,
}

/// The cancelled procedure.
#[derive(SimpleObject)]
pub struct CancelProcedurePayload {
    /// The procedure, now CANCELLED.
    pub procedure: Procedure,
}

/// Filters of the procedure list.
#[derive(InputObject, Default)]
pub struct ProcedureFilter {
    /// Only this patient.
    pub patient_id: Option<ID>,
    /// Only this provider.
    pub provider_id: Option<ID>,
    /// Only this status.
    pub status: Option<ProcedureStatus>,
    /// Starting at or after.
    pub from: Option<Timestamp>,
    /// Starting before.
    pub to: Option<Timestamp>,
}

crate::connection_types!(
    ProcedureConnection,
    ProcedureEdge,
    Procedure,
    "A page of procedures.",
    "A procedure with its cursor."
);

/// A device to register (admins).
#[derive(InputObject)]
pub struct CreateDeviceInput {
    /// Pen or roller.
    pub kind: DeviceKind,
    /// The device's maker as on its label, e.g. `Dermapen` (up to 100
    /// characters).
    pub manufacturer: String,
    /// The maker's model name or number, e.g. `4` for a Dermapen 4 (up to 100
    /// characters).
    pub model: String,
    /// Serial number (unique).
    pub serial: String,
    /// Labelled maximum needle depth, millimetres.
    pub max_depth_mm: f64,
    /// Fewest needles of the cartridges it takes.
    pub needle_count_min: Option<i32>,
    /// Most needles of the cartridges it takes.
    pub needle_count_max: Option<i32>,
    /// Regulatory clearance (e.g. FDA 510(k) number).
    pub regulatory_id: Option<String>,
    /// Last service date.
    pub last_serviced_on: Option<Date>,
    /// Free-text remarks about the device for staff, e.g. its service history
    /// (up to 4,000 characters).
    pub notes: Option<String>,
}

impl From<CreateDeviceInput> for DeviceDetails {
    fn from(input: CreateDeviceInput) -> Self {
        Self {
            kind: input.kind,
            manufacturer: input.manufacturer,
            model: input.model,
            serial: input.serial,
            max_depth_mm: input.max_depth_mm,
            needle_count_min: input.needle_count_min,
            needle_count_max: input.needle_count_max,
            regulatory_id: input.regulatory_id,
            last_serviced_on: input.last_serviced_on.map(Into::into),
            notes: input.notes,
        }
    }
}

/// The registered device.
#[derive(SimpleObject)]
pub struct CreateDevicePayload {
    /// The device, ACTIVE.
    pub device: Device,
}

/// Changes to a device: admins any, providers only `status: MAINTENANCE`.
#[derive(InputObject)]
pub struct UpdateDeviceInput {
    /// The device.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// New status.
    pub status: Option<DeviceStatus>,
    /// New labelled maximum depth, millimetres.
    pub max_depth_mm: Option<f64>,
    /// New regulatory id.
    pub regulatory_id: Option<String>,
    /// New last service date.
    pub last_serviced_on: Option<Date>,
    /// New notes.
    pub notes: Option<String>,
}

impl From<UpdateDeviceInput> for DeviceChanges {
    fn from(input: UpdateDeviceInput) -> Self {
        Self {
            status: input.status,
            max_depth_mm: input.max_depth_mm,
            regulatory_id: input.regulatory_id,
            last_serviced_on: input.last_serviced_on.map(Into::into),
            notes: input.notes,
        }
    }
}

/// The changed device.
#[derive(SimpleObject)]
pub struct UpdateDevicePayload {
    /// The device as it is now.
    pub device: Device,
}

/// A cartridge to register ahead of use (admins, providers).
#[derive(InputObject)]
pub struct RegisterCartridgeInput {
    /// Serial or UDI (unique).
    pub serial: String,
    /// The manufacturing lot printed on the pack (up to 64 characters); recalls
    /// are traced by lot (`cartridgeLotExposure`).
    pub lot_number: String,
    /// Needles (1-1000).
    pub needle_count: i32,
    /// The needle arrangement as printed on the pack, e.g. `round, 16-pin`
    /// (optional, up to 100 characters).
    pub needle_geometry: Option<String>,
    /// Labelled maximum depth, millimetres.
    pub max_depth_mm: f64,
    /// Last day of use.
    pub expires_on: Date,
}

impl From<RegisterCartridgeInput> for CartridgeSpec {
    fn from(input: RegisterCartridgeInput) -> Self {
        Self {
            serial: input.serial,
            lot_number: Some(input.lot_number),
            needle_count: Some(input.needle_count),
            needle_geometry: input.needle_geometry,
            max_depth_mm: Some(input.max_depth_mm),
            expires_on: Some(input.expires_on.into()),
        }
    }
}

/// The registered cartridge.
#[derive(SimpleObject)]
pub struct RegisterCartridgePayload {
    /// The registered cartridge, unused: chart it in a device session by its
    /// serial, once.
    pub cartridge: Cartridge,
}

/// Filters of the device list.
#[derive(InputObject, Default)]
pub struct DeviceFilter {
    /// Only this status.
    pub status: Option<DeviceStatus>,
    /// Only this kind.
    pub kind: Option<DeviceKind>,
}

crate::connection_types!(
    DeviceConnection,
    DeviceEdge,
    Device,
    "A page of devices.",
    "A device with its cursor."
);
