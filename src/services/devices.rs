//! Devices (R-DEVICE) and needle cartridges (R-CARTRIDGE): the inventory,
//! claiming a cartridge for a procedure, and lot recalls.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    auth::actor::{Actor, RequestContext},
    domain::{
        audit::{AuditAction, EntityType},
        depth::Depth,
        device::{DeviceKind, DeviceStatus, NEEDLE_COUNT, cartridge_expired_on},
        names::api_name,
        procedure::clinic_day,
        staff::Role,
    },
    entities::{cartridges, devices, procedures},
    error::{AppError, AppResult, ErrorCode},
    graphql::pagination::{KeysetCursor, Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        input::{optional_text, required_text},
        policy::current_policy,
        users::stale_version,
    },
};

/// A device's description as an admin enters it.
#[derive(Clone, Debug)]
pub struct DeviceDetails {
    /// Pen or roller.
    pub kind: DeviceKind,
    /// Manufacturer.
    pub manufacturer: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// Labelled maximum depth, millimetres.
    pub max_depth_mm: f64,
    /// Fewest needles of the cartridges it takes.
    pub needle_count_min: Option<i32>,
    /// Most needles of the cartridges it takes.
    pub needle_count_max: Option<i32>,
    /// Regulatory clearance id.
    pub regulatory_id: Option<String>,
    /// Last service date.
    pub last_serviced_on: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
}

/// Changes to a device; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct DeviceChanges {
    /// New status.
    pub status: Option<DeviceStatus>,
    /// New labelled maximum depth, millimetres.
    pub max_depth_mm: Option<f64>,
    /// New regulatory id.
    pub regulatory_id: Option<String>,
    /// New last service date.
    pub last_serviced_on: Option<NaiveDate>,
    /// New notes.
    pub notes: Option<String>,
}

impl DeviceChanges {
    /// Whether this is only a move to MAINTENANCE, which providers may do
    /// (they take a faulty device out of use) while admins do the rest.
    fn only_sends_to_maintenance(&self) -> bool {
        self.status == Some(DeviceStatus::Maintenance)
            && self.max_depth_mm.is_none()
            && self.regulatory_id.is_none()
            && self.last_serviced_on.is_none()
            && self.notes.is_none()
    }
}

fn depth_um(field: &str, millimetres: f64) -> AppResult<i32> {
    let depth = Depth::from_mm(millimetres)
        .map_err(|error| AppError::bad_input(field, error.to_string()))?;
    Ok(i32::try_from(depth.micrometres()).unwrap_or(i32::MAX))
}

fn needle_range(min: Option<i32>, max: Option<i32>) -> AppResult<()> {
    for (field, value) in [("needleCountMin", min), ("needleCountMax", max)] {
        if value.is_some_and(|n| !NEEDLE_COUNT.contains(&n)) {
            return Err(AppError::bad_input(field, "must be between 1 and 1000"));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(AppError::bad_input(
            "needleCountMax",
            "cannot be below needleCountMin",
        ));
    }
    Ok(())
}

fn not_in_future(field: &str, day: Option<NaiveDate>) -> AppResult<()> {
    if day.is_some_and(|day| day > Utc::now().date_naive() + chrono::Duration::days(1)) {
        return Err(AppError::bad_input(field, "cannot be in the future"));
    }
    Ok(())
}

fn require_role(actor: &Actor, roles: &[Role]) -> AppResult<Uuid> {
    match actor {
        Actor::Staff(staff) if roles.contains(&staff.role) => Ok(staff.id),
        Actor::Anonymous => Err(AppError::Unauthenticated("sign in to do this")),
        _ => Err(AppError::Forbidden),
    }
}

/// Serials and lot numbers compare without case or surrounding spaces, so
/// "ab-12" cannot slip past "AB-12".
pub fn normalize_code(code: &str) -> String {
    code.trim().to_uppercase()
}

/// A required serial or lot number, normalized, then checked for length
/// (upper-casing can lengthen text: `ß` becomes `SS`).
fn required_code(field: &str, value: &str, max: usize) -> AppResult<String> {
    required_text(field, normalize_code(value), max)
}

/// Adds a device to the inventory (admins), ACTIVE.
///
/// # Errors
/// `FORBIDDEN`; `BAD_USER_INPUT` naming the field; `CONFLICT` for a serial
/// already registered.
pub async fn create_device(
    db: &DatabaseConnection,
    request: &RequestContext,
    details: DeviceDetails,
) -> AppResult<devices::Model> {
    require_role(&request.actor, &[Role::Admin])?;
    let manufacturer = required_text("manufacturer", details.manufacturer, 100)?;
    let model = required_text("model", details.model, 100)?;
    let serial = required_code("serial", &details.serial, 128)?;
    let max_depth_um = depth_um("maxDepthMm", details.max_depth_mm)?;
    needle_range(details.needle_count_min, details.needle_count_max)?;
    let regulatory_id = optional_text("regulatoryId", details.regulatory_id, 64)?;
    let notes = optional_text("notes", details.notes, 4000)?.unwrap_or_default();
    not_in_future("lastServicedOn", details.last_serviced_on)?;
    let mut write = AuditedWrite::begin(db, request, "createDevice").await?;
    let now = Utc::now();
    let device = devices::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(details.kind),
        manufacturer: Set(manufacturer),
        model: Set(model),
        serial: Set(serial),
        max_depth_um: Set(max_depth_um),
        needle_count_min: Set(details.needle_count_min),
        needle_count_max: Set(details.needle_count_max),
        regulatory_id: Set(regulatory_id),
        status: Set(DeviceStatus::Active),
        last_serviced_on: Set(details.last_serviced_on),
        notes: Set(notes),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*write)
    .await
    .map_err(|error| match AppError::from(error) {
        AppError::Conflict(_) => {
            AppError::Conflict("a device with this serial is already registered".to_owned())
        }
        other => other,
    })?;
    write.audit(AuditEvent::new(AuditAction::Create).entity(EntityType::Device, Some(device.id)));
    write.commit().await?;
    Ok(device)
}

/// Changes a device: admins anything, providers only a move to MAINTENANCE.
///
/// # Errors
/// `FORBIDDEN`; `NOT_FOUND`; `BAD_USER_INPUT`; `CONFLICT` when stale.
pub async fn update_device(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    expected_version: i32,
    changes: DeviceChanges,
) -> AppResult<devices::Model> {
    let role = match &request.actor {
        Actor::Staff(staff) => staff.role,
        Actor::Anonymous => return Err(AppError::Unauthenticated("sign in to do this")),
        _ => return Err(AppError::Forbidden),
    };
    if !(role == Role::Admin || (role == Role::Provider && changes.only_sends_to_maintenance())) {
        return Err(AppError::Forbidden);
    }
    let max_depth_um = changes
        .max_depth_mm
        .map(|mm| depth_um("maxDepthMm", mm))
        .transpose()?;
    let regulatory_id = optional_text("regulatoryId", changes.regulatory_id, 64)?;
    let notes = optional_text("notes", changes.notes, 4000)?;
    not_in_future("lastServicedOn", changes.last_serviced_on)?;
    let mut write = AuditedWrite::begin(db, request, "updateDevice").await?;
    find_device(&*write, id).await?;
    let mut update = devices::Entity::update_many()
        .col_expr(devices::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            devices::Column::Version,
            Expr::col(devices::Column::Version).add(1),
        )
        .filter(devices::Column::Id.eq(id))
        .filter(devices::Column::Version.eq(expected_version));
    if let Some(status) = changes.status {
        update = update.col_expr(devices::Column::Status, Expr::value(status));
    }
    if let Some(um) = max_depth_um {
        update = update.col_expr(devices::Column::MaxDepthUm, Expr::value(um));
    }
    if let Some(regulatory_id) = regulatory_id {
        update = update.col_expr(devices::Column::RegulatoryId, Expr::value(regulatory_id));
    }
    if let Some(day) = changes.last_serviced_on {
        update = update.col_expr(devices::Column::LastServicedOn, Expr::value(day));
    }
    if let Some(notes) = notes {
        update = update.col_expr(devices::Column::Notes, Expr::value(notes));
    }
    if update.exec(&*write).await?.rows_affected == 0 {
        return Err(stale_version());
    }
    write.audit(AuditEvent::new(AuditAction::Update).entity(EntityType::Device, Some(id)));
    let device = find_device(&*write, id).await?;
    write.commit().await?;
    Ok(device)
}

/// The device with this id.
///
/// # Errors
/// `NOT_FOUND`.
pub async fn find_device(db: &impl ConnectionTrait, id: Uuid) -> AppResult<devices::Model> {
    devices::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound { entity: "device" })
}

/// R-DEVICE: the device, locked against concurrent sessions (a row lock on
/// PostgreSQL; SQLite's write transaction serializes), if it may be used.
///
/// # Errors
/// `BAD_USER_INPUT` on `field` when unknown; `DEVICE_UNAVAILABLE`.
pub async fn usable_device(
    db: &impl ConnectionTrait,
    id: Uuid,
    field: &str,
) -> AppResult<devices::Model> {
    let mut query = devices::Entity::find_by_id(id);
    if db.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    let device = query
        .one(db)
        .await?
        .ok_or_else(|| AppError::bad_input(field, "no such device"))?;
    if !device.status.is_usable() {
        return Err(AppError::rule(
            ErrorCode::DeviceUnavailable,
            format!(
                "device {} is {} and cannot be used",
                device.serial,
                api_name(&device.status)
            ),
        ));
    }
    Ok(device)
}

/// Filters of the device list.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceFilter {
    /// Only this status.
    pub status: Option<DeviceStatus>,
    /// Only this kind.
    pub kind: Option<DeviceKind>,
}

/// Name of the device list's ordering (newest first), in its cursors.
pub const DEVICES_NEWEST_FIRST: &str = "devices_newest_first";

/// The cursor of a device.
///
/// # Errors
/// Never in practice.
pub fn device_cursor(device: &devices::Model) -> AppResult<KeysetCursor> {
    KeysetCursor::new(DEVICES_NEWEST_FIRST, &device.id)
}

/// One page of devices, newest first, and the total matching.
///
/// # Errors
/// `BAD_USER_INPUT` for a foreign cursor; database failures.
pub async fn list_devices(
    db: &DatabaseConnection,
    filter: DeviceFilter,
    page: &PageRequest,
) -> AppResult<(Page<devices::Model>, i64)> {
    let mut query = devices::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(devices::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(devices::Column::Kind.eq(kind));
    }
    crate::services::listing::newest_first(
        db,
        query,
        devices::Column::Id,
        DEVICES_NEWEST_FIRST,
        page,
    )
    .await
}

/// A cartridge as printed on its pack; only the serial is needed once it
/// is registered.
#[derive(Clone, Debug, Default)]
pub struct CartridgeSpec {
    /// Serial or UDI.
    pub serial: String,
    /// Lot number.
    pub lot_number: Option<String>,
    /// Needles (1-1000).
    pub needle_count: Option<i32>,
    /// Needle geometry.
    pub needle_geometry: Option<String>,
    /// Labelled maximum depth, millimetres.
    pub max_depth_mm: Option<f64>,
    /// Last day of use.
    pub expires_on: Option<NaiveDate>,
}

struct CleanCartridge {
    serial: String,
    lot_number: Option<String>,
    needle_count: Option<i32>,
    needle_geometry: Option<String>,
    max_depth_um: Option<i32>,
    expires_on: Option<NaiveDate>,
}

fn clean_cartridge(prefix: &str, spec: CartridgeSpec) -> AppResult<CleanCartridge> {
    let field = |name: &str| format!("{prefix}{name}");
    let serial = required_code(&field("serial"), &spec.serial, 128)?;
    let lot_number = match spec.lot_number.filter(|lot| !lot.trim().is_empty()) {
        Some(lot) => Some(required_code(&field("lotNumber"), &lot, 64)?),
        None => None,
    };
    if spec
        .needle_count
        .is_some_and(|n| !NEEDLE_COUNT.contains(&n))
    {
        return Err(AppError::bad_input(
            field("needleCount"),
            "must be between 1 and 1000",
        ));
    }
    let max_depth_um = spec
        .max_depth_mm
        .map(|mm| depth_um(&field("maxDepthMm"), mm))
        .transpose()?;
    Ok(CleanCartridge {
        serial,
        lot_number,
        needle_count: spec.needle_count,
        needle_geometry: optional_text(&field("needleGeometry"), spec.needle_geometry, 100)?,
        max_depth_um,
        expires_on: spec.expires_on,
    })
}

async fn cartridge_by_serial(
    db: &impl ConnectionTrait,
    serial: &str,
) -> AppResult<Option<cartridges::Model>> {
    Ok(cartridges::Entity::find()
        .filter(cartridges::Column::Serial.eq(serial))
        .one(db)
        .await?)
}

/// Inserts the cartridge unless its serial exists (a concurrent insert
/// included: `ON CONFLICT DO NOTHING` waits for it), then returns the row.
async fn insert_cartridge(
    write: &mut AuditedWrite<'_>,
    prefix: &str,
    clean: &CleanCartridge,
    registered_by: Uuid,
) -> AppResult<cartridges::Model> {
    let missing = |name: &str| {
        AppError::bad_input(
            format!("{prefix}{name}"),
            "is required to register a new cartridge",
        )
    };
    let id = Uuid::now_v7();
    let row = cartridges::ActiveModel {
        id: Set(id),
        serial: Set(clean.serial.clone()),
        lot_number: Set(clean
            .lot_number
            .clone()
            .ok_or_else(|| missing("lotNumber"))?),
        needle_count: Set(clean.needle_count.ok_or_else(|| missing("needleCount"))?),
        needle_geometry: Set(clean.needle_geometry.clone()),
        max_depth_um: Set(clean.max_depth_um.ok_or_else(|| missing("maxDepthMm"))?),
        expires_on: Set(clean.expires_on.ok_or_else(|| missing("expiresOn"))?),
        opened_at: Set(None),
        procedure_id: Set(None),
        registered_by: Set(registered_by),
        created_at: Set(Utc::now()),
    };
    cartridges::Entity::insert(row)
        .on_conflict(
            OnConflict::column(cartridges::Column::Serial)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&**write)
        .await?;
    let stored = cartridge_by_serial(&**write, &clean.serial)
        .await?
        .ok_or_else(|| anyhow::anyhow!("cartridge {} vanished after insert", clean.serial))?;
    if stored.id == id {
        write.audit(AuditEvent::new(AuditAction::Create).entity(EntityType::Cartridge, Some(id)));
    }
    Ok(stored)
}

/// Registers a cartridge ahead of its use (admins and providers); one
/// already expired in the clinic's today is refused, as it would be at use.
///
/// # Errors
/// `FORBIDDEN`; `BAD_USER_INPUT`; `CARTRIDGE_EXPIRED`; `CONFLICT` when the
/// serial is known.
pub async fn register_cartridge(
    db: &DatabaseConnection,
    request: &RequestContext,
    spec: CartridgeSpec,
) -> AppResult<cartridges::Model> {
    let registered_by = require_role(&request.actor, &[Role::Admin, Role::Provider])?;
    let clean = clean_cartridge("", spec)?;
    let mut write = AuditedWrite::begin(db, request, "registerCartridge").await?;
    let today = clinic_day(Utc::now(), current_policy(&*write).await?.time_zone);
    if let Some(expires_on) = clean.expires_on
        && cartridge_expired_on(expires_on, today)
    {
        return Err(AppError::rule(
            ErrorCode::CartridgeExpired,
            format!(
                "cartridge {} expired on {expires_on}; register one that has not",
                clean.serial
            ),
        ));
    }
    if cartridge_by_serial(&*write, &clean.serial).await?.is_some() {
        return Err(AppError::Conflict(
            "a cartridge with this serial is already registered".to_owned(),
        ));
    }
    let cartridge = insert_cartridge(&mut write, "", &clean, registered_by).await?;
    write.commit().await?;
    Ok(cartridge)
}

/// R-CARTRIDGE: the cartridge for a device session of `procedure_id`,
/// registered on first use, never expired on `day`, and bound to this one
/// procedure by a conditional update, so that of two procedures racing for
/// it exactly one wins.
///
/// # Errors
/// `BAD_USER_INPUT` (missing details of a new cartridge, details that
/// contradict the registered ones); `CARTRIDGE_EXPIRED`; `CARTRIDGE_REUSED`.
pub async fn claim_cartridge(
    write: &mut AuditedWrite<'_>,
    spec: CartridgeSpec,
    procedure_id: Uuid,
    day: NaiveDate,
    provider_id: Uuid,
) -> AppResult<cartridges::Model> {
    let prefix = "cartridge.";
    let clean = clean_cartridge(prefix, spec)?;
    let cartridge = match cartridge_by_serial(&**write, &clean.serial).await? {
        Some(existing) => existing,
        None => insert_cartridge(write, prefix, &clean, provider_id).await?,
    };
    let contradictions = [
        (
            "lotNumber",
            clean
                .lot_number
                .as_ref()
                .is_some_and(|lot| *lot != cartridge.lot_number),
        ),
        (
            "needleCount",
            clean
                .needle_count
                .is_some_and(|n| n != cartridge.needle_count),
        ),
        (
            "maxDepthMm",
            clean
                .max_depth_um
                .is_some_and(|um| um != cartridge.max_depth_um),
        ),
        (
            "expiresOn",
            clean
                .expires_on
                .is_some_and(|day| day != cartridge.expires_on),
        ),
    ];
    if let Some((field, _)) = contradictions.iter().find(|(_, differs)| *differs) {
        return Err(AppError::bad_input(
            format!("{prefix}{field}"),
            "does not match the cartridge registered under this serial",
        ));
    }
    if cartridge_expired_on(cartridge.expires_on, day) {
        return Err(AppError::rule(
            ErrorCode::CartridgeExpired,
            format!(
                "cartridge {} expired on {}; use a new one",
                cartridge.serial, cartridge.expires_on
            ),
        ));
    }
    let reused = || {
        AppError::rule(
            ErrorCode::CartridgeReused,
            format!(
                "cartridge {} was used in another procedure; cartridges are single-use",
                cartridge.serial
            ),
        )
    };
    match cartridge.procedure_id {
        Some(used_in) if used_in == procedure_id => return Ok(cartridge),
        Some(_) => return Err(reused()),
        None => {}
    }
    let claimed = cartridges::Entity::update_many()
        .col_expr(cartridges::Column::ProcedureId, Expr::value(procedure_id))
        .col_expr(cartridges::Column::OpenedAt, Expr::value(Utc::now()))
        .filter(cartridges::Column::Id.eq(cartridge.id))
        .filter(cartridges::Column::ProcedureId.is_null())
        .exec(&**write)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(reused());
    }
    write.audit(
        AuditEvent::new(AuditAction::Update).entity(EntityType::Cartridge, Some(cartridge.id)),
    );
    Ok(cartridges::Entity::find_by_id(cartridge.id)
        .one(&**write)
        .await?
        .unwrap_or(cartridge))
}

/// R-CARTRIDGE recall: every procedure exposed to a cartridge of this lot,
/// by start time.
///
/// # Errors
/// `BAD_USER_INPUT` for an empty lot number; database failures.
pub async fn lot_exposure(
    db: &DatabaseConnection,
    lot_number: &str,
) -> AppResult<Vec<procedures::Model>> {
    let lot = required_code("lotNumber", lot_number, 64)?;
    let exposed = procedures::Entity::find().filter(
        procedures::Column::Id.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(cartridges::Column::ProcedureId)
                .from(cartridges::Entity)
                .and_where(Expr::col(cartridges::Column::LotNumber).eq(lot))
                .and_where(Expr::col(cartridges::Column::ProcedureId).is_not_null())
                .to_owned(),
        ),
    );
    Ok(exposed
        .order_by_asc(procedures::Column::StartsAtS)
        .order_by_asc(procedures::Column::Id)
        .all(db)
        .await?)
}
