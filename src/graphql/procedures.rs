//! Procedures, the schedule, devices and cartridges.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, Object};

use super::{
    app_state,
    loaders::Loaders,
    page_cost,
    pagination::{PageRequest, connection, wants_total_count},
    parse_id, parse_optional_id, prefetch, request_context,
    types::procedure::{
        AddDeviceSessionInput, AddDeviceSessionPayload, AmendProcedureInput, AmendProcedurePayload,
        Appointment, CancelProcedureInput, CancelProcedurePayload, Cartridge,
        CompleteProcedureInput, CompleteProcedurePayload, CreateDeviceInput, CreateDevicePayload,
        Device, DeviceConnection, DeviceFilter, DeviceSession, Procedure, ProcedureAmendment,
        ProcedureConnection, ProcedureFilter, RegisterCartridgeInput, RegisterCartridgePayload,
        ScheduleProcedureInput, ScheduleProcedurePayload, SignProcedureInput, SignProcedurePayload,
        StartProcedureInput, StartProcedurePayload, UpdateDeviceInput, UpdateDevicePayload,
    },
};
use crate::{
    auth::{actor::RequestContext, guards::Allow},
    domain::{
        audit::{AuditAction, EntityType},
        staff::Role,
    },
    entities::procedures as procedure_rows,
    error::AppError,
    services::{
        audit::AuditEvent,
        devices::{self, DeviceFilter as DeviceListFilter},
        procedures::{
            self, NewDeviceSession, ProcedureBooking, ProcedureCompletion, ProcedureCorrections,
            ProcedureFilter as Filter, ProcedureStart,
        },
    },
    state::AppState,
};

const PROVIDERS: Allow = Allow::staff(&[Role::Provider]);

async fn audit_procedure_reads(
    state: &AppState,
    request: &RequestContext,
    operation: &str,
    action: AuditAction,
    rows: &[&procedure_rows::Model],
) {
    let events = rows.iter().map(|row| {
        AuditEvent::new(action)
            .entity(EntityType::Procedure, Some(row.id))
            .patient(row.patient_id)
    });
    state.audit.record_all(request, operation, events).await;
}

/// The procedure part of the query root.
#[derive(Default)]
pub struct ProcedureQuery;

#[Object]
impl ProcedureQuery {
    /// A procedure by id.
    #[graphql(guard = "PROCEDURE_READERS")]
    async fn procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The procedure's id.")] id: ID,
    ) -> async_graphql::Result<Option<Procedure>> {
        procedure_by_id(ctx, &id).await
    }

    /// Procedures by start time, filtered by patient, provider, status and
    /// time range.
    #[graphql(
        guard = "Allow::SCHEDULE_READERS",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn procedures(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only procedures matching these filters.")] filter: Option<
            ProcedureFilter,
        >,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ProcedureConnection> {
        let state = app_state(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = Filter {
            patient_id: parse_optional_id(filter.patient_id.as_ref(), "filter.patientId")?,
            provider_id: parse_optional_id(filter.provider_id.as_ref(), "filter.providerId")?,
            status: filter.status,
            from: filter.from.map(Into::into),
            to: filter.to.map(Into::into),
        };
        let (rows, total) = procedures::list_procedures(&state.db, &filter, &page).await?;
        let read: Vec<_> = rows.rows.iter().collect();
        audit_procedure_reads(
            state,
            request_context(ctx)?,
            "procedures",
            AuditAction::Read,
            &read,
        )
        .await;
        let cores: Vec<_> = rows.rows.iter().map(procedure_rows::Core::from).collect();
        prefetch::procedures(
            ctx.data::<Loaders>()?,
            &prefetch::connection_nodes(ctx),
            cores.iter(),
        )
        .await?;
        Ok(connection(rows, total, procedures::cursor_of, Procedure::from)?.into())
    }

    /// Consultations and procedures starting in `[from, to)` (at most 62
    /// days), optionally of one provider, by start time.
    #[graphql(guard = "Allow::SCHEDULE_READERS")]
    async fn schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First instant of the range.")] from: Timestamp,
        #[graphql(desc = "First instant after the range.")] to: Timestamp,
        #[graphql(desc = "Only this provider's appointments.")] provider_id: Option<ID>,
        #[graphql(desc = "Also list cancelled appointments.", default = false)]
        include_cancelled: bool,
    ) -> async_graphql::Result<Vec<Appointment>> {
        let state = app_state(ctx)?;
        let request = request_context(ctx)?;
        let provider = parse_optional_id(provider_id.as_ref(), "providerId")?;
        let appointments =
            procedures::schedule_between(&state.db, from.0, to.0, provider, include_cancelled)
                .await?;
        for appointment in &appointments {
            let (entity, id, patient) = appointment.audit_key();
            state
                .audit
                .record(
                    request,
                    "schedule",
                    AuditEvent::new(AuditAction::Read)
                        .entity(entity, Some(id))
                        .patient(patient),
                )
                .await;
        }
        Ok(appointments.into_iter().map(Appointment::from).collect())
    }

    /// R-CARTRIDGE recall: every procedure exposed to a cartridge of this
    /// lot, by start time (admins and providers; audited as an export).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn cartridge_lot_exposure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The recalled lot number.")] lot_number: String,
    ) -> async_graphql::Result<Vec<Procedure>> {
        let state = app_state(ctx)?;
        let rows = devices::lot_exposure(&state.db, &lot_number).await?;
        let read: Vec<_> = rows.iter().collect();
        audit_procedure_reads(
            state,
            request_context(ctx)?,
            "cartridgeLotExposure",
            AuditAction::Export,
            &read,
        )
        .await;
        Ok(rows.into_iter().map(Procedure::from).collect())
    }

    /// A device by id (staff).
    #[graphql(guard = "DEVICE_READERS")]
    async fn device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The device's id.")] id: ID,
    ) -> async_graphql::Result<Option<Device>> {
        device_by_id(ctx, &id).await
    }

    /// The device inventory, newest first, filtered by status and kind
    /// (staff).
    #[graphql(
        guard = "Allow::STAFF",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn devices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only devices matching these filters.")] filter: Option<DeviceFilter>,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<DeviceConnection> {
        let state = app_state(ctx)?;
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = DeviceListFilter {
            status: filter.status,
            kind: filter.kind,
        };
        let (rows, total) = devices::list_devices(&state.db, filter, &page).await?;
        Ok(connection(rows, total, devices::device_cursor, Device::from)?.into())
    }
}

/// The procedure part of the mutation root.
#[derive(Default)]
pub struct ProcedureMutation;

#[Object]
impl ProcedureMutation {
    /// Books a procedure: the provider licensed on its date (R-LICENSE),
    /// at least the policy's interval from the patient's other procedures
    /// (R-INTERVAL, `earliestAllowed`), the provider free (R-BOOKING), the
    /// patient not archived. Partners may retry with an `idempotencyKey`.
    #[graphql(guard = "Allow::STAFF")]
    async fn schedule_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ScheduleProcedureInput,
    ) -> async_graphql::Result<ScheduleProcedurePayload> {
        let booking = ProcedureBooking {
            patient_id: parse_id(&input.patient_id, "patientId")?,
            provider_id: parse_id(&input.provider_id, "providerId")?,
            treatment_plan_id: parse_optional_id(
                input.treatment_plan_id.as_ref(),
                "treatmentPlanId",
            )?,
            starts_at: input.starts_at.into(),
            duration_minutes: input.duration_minutes,
            areas: input.areas.into_iter().collect(),
            idempotency_key: input.idempotency_key,
        };
        let state = app_state(ctx)?;
        let procedure = procedures::schedule(&state.db, request_context(ctx)?, booking).await?;
        Ok(ScheduleProcedurePayload {
            procedure: Procedure::from(procedure),
        })
    }

    /// Starts a procedure (its performing provider): license and interval
    /// rechecked, signed consent (R-CONSENT), a fresh screening that clears
    /// treatment (R-SCREENING) and the checklist (R-PREP).
    #[graphql(guard = "PROVIDERS")]
    async fn start_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: StartProcedureInput,
    ) -> async_graphql::Result<StartProcedurePayload> {
        let start = ProcedureStart {
            prep: input.prep.into(),
            screening_override_reason: input.screening_override_reason,
        };
        let state = app_state(ctx)?;
        let procedure = procedures::start(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            start,
        )
        .await?;
        Ok(StartProcedurePayload {
            procedure: Procedure::from(procedure),
        })
    }

    /// Charts one device and cartridge over one area (its performing
    /// provider, while IN_PROGRESS): R-DEVICE, R-CARTRIDGE, R-DEPTH, and a
    /// device never in two overlapping sessions.
    #[graphql(guard = "PROVIDERS")]
    async fn add_device_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: AddDeviceSessionInput,
    ) -> async_graphql::Result<AddDeviceSessionPayload> {
        let procedure_id = parse_id(&input.procedure_id, "procedureId")?;
        let session = NewDeviceSession {
            device_id: parse_id(&input.device_id, "deviceId")?,
            cartridge: input.cartridge.into(),
            area: input.area,
            depth_mm: input.depth_mm,
            depth_override_reason: input.depth_override_reason,
            passes: input.passes,
            pattern: input.pattern,
            speed_setting: input.speed_setting,
            glide_medium: input.glide_medium,
            clinical_endpoint: input.clinical_endpoint,
            started_at: input.started_at.into(),
            ended_at: input.ended_at.into(),
        };
        let (procedure, session) = procedures::add_device_session(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            procedure_id,
            session,
        )
        .await?;
        Ok(AddDeviceSessionPayload {
            procedure: Procedure::from(procedure),
            device_session: DeviceSession::from(session),
        })
    }

    /// Completes a procedure (its performing provider) with the post-care
    /// applied (R-POSTCARE).
    #[graphql(guard = "PROVIDERS")]
    async fn complete_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CompleteProcedureInput,
    ) -> async_graphql::Result<CompleteProcedurePayload> {
        let completion = ProcedureCompletion {
            post_care: input.post_care.into(),
            immediate_response: input.immediate_response,
            clinical_notes: input.clinical_notes,
        };
        let state = app_state(ctx)?;
        let procedure = procedures::complete(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            completion,
        )
        .await?;
        Ok(CompleteProcedurePayload {
            procedure: Procedure::from(procedure),
        })
    }

    /// Signs a completed procedure (its performing provider): it is locked
    /// from then on (R-RECORDS).
    #[graphql(guard = "PROVIDERS")]
    async fn sign_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SignProcedureInput,
    ) -> async_graphql::Result<SignProcedurePayload> {
        let procedure = procedures::sign(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
        )
        .await?;
        Ok(SignProcedurePayload {
            procedure: Procedure::from(procedure),
        })
    }

    /// Corrects a signed procedure (providers the clinic's amendment policy
    /// allows: by default its performer and supervising providers): who,
    /// when, why and each change are kept; the record as signed stays
    /// readable.
    #[graphql(guard = "PROVIDERS")]
    async fn amend_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: AmendProcedureInput,
    ) -> async_graphql::Result<AmendProcedurePayload> {
        let corrections = ProcedureCorrections {
            clinical_notes: input.clinical_notes,
            immediate_response: input.immediate_response,
            lipopeptide_booster: input.lipopeptide_booster,
            moisturizer: input.moisturizer,
            sunscreen_spf: input.sunscreen_spf,
        };
        let (procedure, amendment) = procedures::amend(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            input.reason,
            corrections,
        )
        .await?;
        Ok(AmendProcedurePayload {
            procedure: Procedure::from(procedure),
            amendment: ProcedureAmendment::from(amendment),
        })
    }

    /// Cancels a procedure with a reason: staff while SCHEDULED, its
    /// performing provider while IN_PROGRESS.
    #[graphql(guard = "Allow::STAFF")]
    async fn cancel_procedure(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CancelProcedureInput,
    ) -> async_graphql::Result<CancelProcedurePayload> {
        let state = app_state(ctx)?;
        let procedure = procedures::cancel(
            &state.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.expected_version,
            input.reason,
        )
        .await?;
        Ok(CancelProcedurePayload {
            procedure: Procedure::from(procedure),
        })
    }

    /// Registers a device, ACTIVE (admins).
    #[graphql(guard = "Allow::ADMIN")]
    async fn create_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDeviceInput,
    ) -> async_graphql::Result<CreateDevicePayload> {
        let device =
            devices::create_device(&app_state(ctx)?.db, request_context(ctx)?, input.into())
                .await?;
        Ok(CreateDevicePayload {
            device: Device::from(device),
        })
    }

    /// Changes a device: admins anything, providers only a move to
    /// MAINTENANCE (taking a faulty device out of use).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn update_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDeviceInput,
    ) -> async_graphql::Result<UpdateDevicePayload> {
        let id = parse_id(&input.id, "id")?;
        let version = input.expected_version;
        let device = devices::update_device(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            id,
            version,
            input.into(),
        )
        .await?;
        Ok(UpdateDevicePayload {
            device: Device::from(device),
        })
    }

    /// Registers a needle cartridge ahead of its use (admins, providers).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn register_cartridge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RegisterCartridgeInput,
    ) -> async_graphql::Result<RegisterCartridgePayload> {
        let cartridge =
            devices::register_cartridge(&app_state(ctx)?.db, request_context(ctx)?, input.into())
                .await?;
        Ok(RegisterCartridgePayload {
            cartridge: Cartridge::from(cartridge),
        })
    }
}

/// Who may read one procedure by id, through the `procedure` root and through
/// `node(id:)` alike.
pub(crate) const PROCEDURE_READERS: Allow = Allow::SCHEDULE_READERS;

/// The procedure with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`PROCEDURE_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn procedure_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Procedure>> {
    let state = app_state(ctx)?;
    match procedures::find_procedure(&state.db, parse_id(id, "id")?).await {
        Ok(row) => {
            let request = request_context(ctx)?;
            audit_procedure_reads(state, request, "procedure", AuditAction::Read, &[&row]).await;
            Ok(Some(Procedure::from(row)))
        }
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Who may read one device by id, through the `device` root and through
/// `node(id:)` alike.
pub(crate) const DEVICE_READERS: Allow = Allow::STAFF;

/// The device with this id, as its root field answers it (its access check
/// and read audit), `None` when there is none; for callers [`DEVICE_READERS`]
/// admits.
///
/// # Errors
/// FORBIDDEN, or the database's error.
pub(crate) async fn device_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Device>> {
    let state = app_state(ctx)?;
    match devices::find_device(&state.db, parse_id(id, "id")?).await {
        Ok(row) => Ok(Some(Device::from(row))),
        Err(AppError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}
