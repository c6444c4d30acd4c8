//! Procedures, devices and cartridges: every rule of the treatment itself
//! (R-LICENSE, R-INTERVAL, R-BOOKING, R-CONSENT, R-SCREENING, R-PREP,
//! R-DEVICE, R-CARTRIDGE, R-DEPTH, R-POSTCARE, R-RECORDS, R-AUDIT), on both
//! databases.

use chrono::{Duration, NaiveDate, Utc};
use dermagraph::{
    domain::staff::Role,
    entities::{screenings, users},
};
use migration::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, error_code, error_codes, for_each_backend, for_each_backend_with};

pub(crate) const SCHEDULE: &str = "mutation($input: ScheduleProcedureInput!) { scheduleProcedure(input: $input) {
    procedure { id status version startsAt areas treatmentPlan { id } provider { id } patient { id } } } }";
pub(crate) const START: &str = "mutation($input: StartProcedureInput!) { startProcedure(input: $input) {
    procedure { id status version screeningOverrideReason prep { numbingProduct numbingDwellMinutes } } } }";
pub(crate) const ADD_SESSION: &str = "mutation($input: AddDeviceSessionInput!) { addDeviceSession(input: $input) {
    procedure { version areas } deviceSession { id depthMm depthOverrideReason area passes cartridge { serial lotNumber used } device { serial } } } }";
pub(crate) const COMPLETE: &str =
    "mutation($input: CompleteProcedureInput!) { completeProcedure(input: $input) {
    procedure { status version postCare { sunscreenSpf } } } }";
pub(crate) const SIGN: &str =
    "mutation($input: SignProcedureInput!) { signProcedure(input: $input) {
    procedure { status version signedAt signedBy { id } } } }";

/// The staff of a test clinic.
#[derive(Clone)]
pub(crate) struct Staff {
    pub desk: String,
    pub admin: String,
    pub provider: String,
    pub provider_id: String,
}

pub(crate) async fn staff(app: &TestApp) -> Staff {
    let (_, desk) = app.sign_in(Role::FrontDesk).await;
    let (_, admin) = app.sign_in(Role::Admin).await;
    let (provider_user, provider) = app.sign_in(Role::Provider).await;
    Staff {
        desk,
        admin,
        provider,
        provider_id: provider_user.id.to_string(),
    }
}

/// The same clinic with another provider: a provider performs one
/// procedure at a time, and a started procedure holds the provider from now.
pub(crate) async fn with_new_provider(app: &TestApp, staff: &Staff) -> Staff {
    let (provider_user, provider) = app.sign_in(Role::Provider).await;
    Staff {
        provider,
        provider_id: provider_user.id.to_string(),
        ..staff.clone()
    }
}

/// 15:00 UTC `days` from today: the same calendar day in UTC and in the
/// Americas, so day counts do not depend on the clinic's time zone.
pub(crate) fn day_at(days: i64) -> String {
    format!(
        "{}T15:00:00Z",
        (Utc::now() + Duration::days(days)).format("%Y-%m-%d")
    )
}

/// The calendar day `days` from today in the clinic's time zone (the
/// default policy's America/New_York): what day-counting rules use.
pub(crate) fn clinic_date_in(days: i64) -> String {
    let new_york: chrono_tz::Tz = chrono_tz::America::New_York;
    (Utc::now().with_timezone(&new_york).date_naive() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

pub(crate) fn date_in(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

pub(crate) fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

pub(crate) fn clean_screening() -> Value {
    json!({
        "activeSkinInfection": false, "activeHerpesOutbreak": false, "pregnant": false, "openWounds": false,
        "keloidHistory": false, "anticoagulantsOrBleedingDisorder": false, "uncontrolledDiabetes": false,
        "immunosuppression": false, "eczemaPsoriasisRosacea": false, "anaestheticOrMetalAllergy": false,
        "herpesHistory": false, "fitzpatrickType": "II"
    })
}

pub(crate) async fn new_patient(app: &TestApp, staff: &Staff, last: &str) -> String {
    let response = app
        .gql(
            "mutation($last: String!) { createPatient(input: { firstName: \"Test\", lastName: $last }) { patient { id } } }",
            json!({ "last": last }),
            Some(&staff.desk),
        )
        .await;
    response["data"]["createPatient"]["patient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

pub(crate) async fn sign_consent(app: &TestApp, staff: &Staff, patient: &str) {
    let response = app
        .gql(
            "mutation($input: SignConsentInput!) { signConsent(input: $input) { informedConsent { id } } }",
            json!({ "input": { "patientId": patient, "templateVersion": "CIT-2026.1", "signerName": "Test Patient" } }),
            Some(&staff.desk),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
}

pub(crate) async fn record_screening(
    app: &TestApp,
    staff: &Staff,
    patient: &str,
    answers: Value,
    reason: Option<&str>,
) {
    let response = app
        .gql(
            "mutation($input: RecordScreeningInput!) { recordScreening(input: $input) { screening { id } } }",
            json!({ "input": { "patientId": patient, "answers": answers, "overrideReason": reason } }),
            Some(&staff.provider),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
}

pub(crate) async fn schedule(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(SCHEDULE, json!({ "input": input }), Some(token))
        .await
}

pub(crate) fn booking(patient: &str, provider: &str, days: i64) -> Value {
    json!({ "patientId": patient, "providerId": provider, "startsAt": day_at(days), "durationMinutes": 60, "areas": ["CHEEKS"] })
}

pub(crate) fn procedure_of(response: &Value) -> (String, i64) {
    let procedure = &response["data"]["scheduleProcedure"]["procedure"];
    (
        procedure["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{response}"))
            .to_owned(),
        procedure["version"].as_i64().unwrap_or(1),
    )
}

/// A patient with consent and a clean screening, booked with the provider.
pub(crate) async fn booked(
    app: &TestApp,
    staff: &Staff,
    last: &str,
    days: i64,
) -> (String, String, i64) {
    let patient = new_patient(app, staff, last).await;
    sign_consent(app, staff, &patient).await;
    record_screening(app, staff, &patient, clean_screening(), None).await;
    let (id, version) = procedure_of(
        &schedule(
            app,
            &staff.desk,
            booking(&patient, &staff.provider_id, days),
        )
        .await,
    );
    (patient, id, version)
}

pub(crate) fn prep() -> Value {
    json!({ "areaFreeOfTopicals": true, "consentConfirmed": true, "numbingProduct": "BLT 20/6/4", "numbingAppliedAt": minutes_ago(60) })
}

pub(crate) async fn start(
    app: &TestApp,
    token: &str,
    id: &str,
    version: i64,
    prep: Value,
    reason: Option<&str>,
) -> Value {
    app.gql(
        START,
        json!({ "input": { "id": id, "expectedVersion": version, "prep": prep, "screeningOverrideReason": reason } }),
        Some(token),
    )
    .await
}

/// A booked procedure, started: returns (patient, procedure, version).
pub(crate) async fn in_progress(
    app: &TestApp,
    staff: &Staff,
    last: &str,
    days: i64,
) -> (String, String, i64) {
    let (patient, id, version) = booked(app, staff, last, days).await;
    let started = start(app, &staff.provider, &id, version, prep(), None).await;
    let version = started["data"]["startProcedure"]["procedure"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{started}"));
    (patient, id, version)
}

pub(crate) async fn new_device(
    app: &TestApp,
    staff: &Staff,
    serial: &str,
    max_depth_mm: f64,
) -> String {
    let response = app
        .gql(
            "mutation($input: CreateDeviceInput!) { createDevice(input: $input) { device { id status maxDepthMm } } }",
            json!({ "input": { "kind": "PEN", "manufacturer": "Dermapen", "model": "4", "serial": serial,
                "maxDepthMm": max_depth_mm, "needleCountMin": 12, "needleCountMax": 36, "regulatoryId": "K123456" } }),
            Some(&staff.admin),
        )
        .await;
    let device = &response["data"]["createDevice"]["device"];
    assert_eq!(device["status"], "ACTIVE", "{response}");
    device["id"].as_str().unwrap().to_owned()
}

/// A session input; `slot` spaces sessions 5 minutes apart within the
/// last hour so they never overlap by accident.
pub(crate) fn session(
    procedure: &str,
    device: &str,
    serial: &str,
    lot: &str,
    area: &str,
    depth: f64,
    slot: i64,
) -> Value {
    json!({
        "procedureId": procedure, "deviceId": device,
        "cartridge": { "serial": serial, "lotNumber": lot, "needleCount": 16, "maxDepthMm": 2.5, "expiresOn": date_in(365) },
        "area": area, "depthMm": depth, "passes": 3, "pattern": "CROSSHATCH", "speedSetting": "8",
        "glideMedium": "hyaluronic acid serum", "clinicalEndpoint": "ERYTHEMA",
        "startedAt": minutes_ago(50 - 5 * slot), "endedAt": minutes_ago(46 - 5 * slot)
    })
}

pub(crate) async fn add_session(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(ADD_SESSION, json!({ "input": input }), Some(token))
        .await
}

pub(crate) async fn version_of(app: &TestApp, token: &str, id: &str) -> i64 {
    let response = app
        .gql(
            "query($id: ID!) { procedure(id: $id) { version } }",
            json!({ "id": id }),
            Some(token),
        )
        .await;
    response["data"]["procedure"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("{response}"))
}

pub(crate) async fn complete(app: &TestApp, token: &str, id: &str, spf: i32) -> Value {
    let version = version_of(app, token, id).await;
    app.gql(
        COMPLETE,
        json!({ "input": { "id": id, "expectedVersion": version, "immediateResponse": "even erythema",
            "clinicalNotes": "tolerated well", "postCare": { "lipopeptideBooster": true, "moisturizer": true, "sunscreenSpf": spf } } }),
        Some(token),
    )
    .await
}

pub(crate) async fn set_license_expiry(app: &TestApp, user: &str, expires: Option<NaiveDate>) {
    let id = Uuid::parse_str(user).unwrap();
    let mut update = users::Entity::update_many().filter(users::Column::Id.eq(id));
    update = match expires {
        Some(day) => update.col_expr(users::Column::LicenseExpiresOn, Expr::value(day)),
        None => update.col_expr(
            users::Column::LicenseNumber,
            Expr::value(Option::<String>::None),
        ),
    };
    update.exec(&app.db).await.unwrap();
}

#[tokio::test]
async fn r_license_unlicensed_staff_and_expired_licenses_are_refused() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let patient = new_patient(&app, &staff, "Licensed").await;
        let desk_user = app.create_user(Role::FrontDesk).await.id.to_string();
        let refused = schedule(&app, &staff.desk, booking(&patient, &desk_user, 3)).await;
        assert_eq!(error_code(&refused), "LICENSE_REQUIRED", "{refused}");

        let unlicensed = app.create_user(Role::Provider).await.id.to_string();
        set_license_expiry(&app, &unlicensed, None).await;
        let refused = schedule(&app, &staff.desk, booking(&patient, &unlicensed, 3)).await;
        assert_eq!(error_code(&refused), "LICENSE_REQUIRED", "{refused}");

        // Valid today, expired by the procedure's date.
        let expiring = app.create_user(Role::Provider).await.id.to_string();
        set_license_expiry(
            &app,
            &expiring,
            Some((Utc::now() + Duration::days(5)).date_naive()),
        )
        .await;
        let refused = schedule(&app, &staff.desk, booking(&patient, &expiring, 10)).await;
        assert_eq!(error_code(&refused), "LICENSE_EXPIRED", "{refused}");
        let on_time = schedule(&app, &staff.desk, booking(&patient, &expiring, 4)).await;
        assert!(on_time["errors"].is_null(), "valid on the day: {on_time}");

        // Rechecked at the start: the license was withdrawn after booking.
        let (_, withdrawn, withdrawn_version) = booked(&app, &staff, "Withdrawn", 6).await;
        set_license_expiry(&app, &staff.provider_id, None).await;
        let refused = start(
            &app,
            &staff.provider,
            &withdrawn,
            withdrawn_version,
            prep(),
            None,
        )
        .await;
        assert_eq!(error_code(&refused), "LICENSE_REQUIRED", "{refused}");
        dermagraph::entities::users::Entity::update_many()
            .col_expr(users::Column::LicenseNumber, Expr::value("RN-RESTORED"))
            .filter(users::Column::Id.eq(Uuid::parse_str(&staff.provider_id).unwrap()))
            .exec(&app.db)
            .await
            .unwrap();

        // Rechecked at the start: the license lapsed after booking.
        let (_, id, version) = booked(&app, &staff, "Lapsed", 2).await;
        set_license_expiry(
            &app,
            &staff.provider_id,
            Some((Utc::now() - Duration::days(2)).date_naive()),
        )
        .await;
        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "LICENSE_EXPIRED", "{refused}");
    })
    .await;
}

#[tokio::test]
async fn r_interval_41_days_is_refused_with_the_earliest_allowed_day_and_42_accepted() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let patient = new_patient(&app, &staff, "Interval").await;
        let first = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 2)).await;
        assert!(first["errors"].is_null(), "{first}");

        let too_soon = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 43)).await;
        assert_eq!(error_code(&too_soon), "INTERVAL_TOO_SHORT", "{too_soon}");
        assert_eq!(too_soon["errors"][0]["extensions"]["earliestAllowed"], date_in(44));
        let ok = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 44)).await;
        assert!(ok["errors"].is_null(), "42 days apart: {ok}");

        // Booking before an existing future procedure is checked too: 100
        // days out is free, then day 70 sits 26 days from day 44 and 30
        // from day 100.
        let later = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 100)).await;
        assert!(later["errors"].is_null(), "{later}");
        let between = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 70)).await;
        assert_eq!(error_code(&between), "INTERVAL_TOO_SHORT", "{between}");
        assert_eq!(between["errors"][0]["extensions"]["earliestAllowed"], date_in(142));

        // Cancelled procedures do not count.
        let (id, version) = procedure_of(&later);
        let cancelled = app
            .gql("mutation($input: CancelProcedureInput!) { cancelProcedure(input: $input) { procedure { status } } }",
                json!({ "input": { "id": id, "expectedVersion": version, "reason": "patient travelling" } }), Some(&staff.desk))
            .await;
        assert_eq!(cancelled["data"]["cancelProcedure"]["procedure"]["status"], "CANCELLED", "{cancelled}");
        let now_free = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 90)).await;
        assert!(now_free["errors"].is_null(), "{now_free}");
    })
    .await;
}

#[tokio::test]
async fn r_booking_procedures_and_consultations_never_overlap_for_a_provider() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (a, b) = (new_patient(&app, &staff, "Overlap").await, new_patient(&app, &staff, "Other").await);
        let consultation = app
            .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                json!({ "input": { "patientId": a, "providerId": staff.provider_id, "startsAt": day_at(5), "durationMinutes": 30 } }),
                Some(&staff.desk))
            .await;
        assert!(consultation["errors"].is_null(), "{consultation}");
        let clash = schedule(&app, &staff.desk, booking(&b, &staff.provider_id, 5)).await;
        assert_eq!(error_code(&clash), "DOUBLE_BOOKED", "{clash}");

        let procedure = schedule(&app, &staff.desk, booking(&b, &staff.provider_id, 6)).await;
        assert!(procedure["errors"].is_null(), "{procedure}");
        let clash = app
            .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                json!({ "input": { "patientId": a, "providerId": staff.provider_id,
                    "startsAt": format!("{}T15:30:00Z", date_in(6)), "durationMinutes": 30 } }),
                Some(&staff.desk))
            .await;
        assert_eq!(error_code(&clash), "DOUBLE_BOOKED", "{clash}");

        // Two parallel bookings of the same slot: exactly one wins.
        let (c, d) = (new_patient(&app, &staff, "RaceC").await, new_patient(&app, &staff, "RaceD").await);
        let (one, two) = tokio::join!(
            schedule(&app, &staff.desk, booking(&c, &staff.provider_id, 8)),
            schedule(&app, &staff.desk, booking(&d, &staff.provider_id, 8)),
        );
        let mut codes = [error_codes(&one), error_codes(&two)];
        codes.sort();
        assert_eq!(codes, [vec![], vec!["DOUBLE_BOOKED".to_owned()]], "{one} {two}");
    })
    .await;
}

#[tokio::test]
async fn r_consent_and_r_screening_are_required_to_start() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let patient = new_patient(&app, &staff, "Unready").await;
        let (id, version) = procedure_of(&schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 1)).await);

        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "CONSENT_REQUIRED", "{refused}");
        sign_consent(&app, &staff, &patient).await;
        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "SCREENING_REQUIRED", "{refused}");

        // A screening older than the policy's 30 days is stale.
        record_screening(&app, &staff, &patient, clean_screening(), None).await;
        let patient_id = Uuid::parse_str(&patient).unwrap();
        screenings::Entity::update_many()
            .col_expr(screenings::Column::RecordedAt, Expr::value(Utc::now() - Duration::days(31)))
            .filter(screenings::Column::PatientId.eq(patient_id))
            .exec(&app.db)
            .await
            .unwrap();
        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "SCREENING_REQUIRED", "{refused}");

        let mut pregnant = clean_screening();
        pregnant["pregnant"] = json!(true);
        record_screening(&app, &staff, &patient, pregnant, Some("insists")).await;
        let refused = start(&app, &staff.provider, &id, version, prep(), Some("insists")).await;
        assert_eq!(error_code(&refused), "CONTRAINDICATED", "absolute findings never clear: {refused}");

        let mut keloid = clean_screening();
        keloid["keloidHistory"] = json!(true);
        record_screening(&app, &staff, &patient, keloid, None).await;
        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "CONTRAINDICATED", "relative without a reason: {refused}");
        let read = app.gql("query($id: ID!) { procedure(id: $id) { status version } }", json!({ "id": id }), Some(&staff.provider)).await;
        assert_eq!(read["data"]["procedure"], json!({ "status": "SCHEDULED", "version": version }), "refusals change nothing");

        let started = start(&app, &staff.provider, &id, version, prep(), Some("test spot healed flat")).await;
        let procedure = &started["data"]["startProcedure"]["procedure"];
        assert_eq!(procedure["status"], "IN_PROGRESS", "{started}");
        assert_eq!(procedure["screeningOverrideReason"], "test spot healed flat");
        assert_eq!(procedure["prep"]["numbingProduct"], "BLT 20/6/4");
        assert!(procedure["prep"]["numbingDwellMinutes"].is_null(), "no needle yet");

        app.flush_audit().await;
        let overrides = app
            .gql("{ auditEvents(filter: { action: OVERRIDE }) { edges { node { entityType patientId operation } } } }", json!({}), Some(&staff.admin))
            .await;
        assert_eq!(
            overrides["data"]["auditEvents"]["edges"][0]["node"],
            json!({ "entityType": "Screening", "patientId": patient, "operation": "startProcedure" }),
            "{overrides}"
        );
    })
    .await;
}

#[tokio::test]
async fn r_prep_every_checklist_item_is_required() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, id, version) = booked(&app, &staff, "Prep", 1).await;
        for (item, value, field) in [
            (
                "areaFreeOfTopicals",
                json!(false),
                "prep.areaFreeOfTopicals",
            ),
            ("consentConfirmed", json!(false), "prep.consentConfirmed"),
            ("numbingProduct", json!("  "), "prep.numbingProduct"),
            (
                "numbingAppliedAt",
                json!((Utc::now() + Duration::hours(1)).to_rfc3339()),
                "prep.numbingAppliedAt",
            ),
        ] {
            let mut checklist = prep();
            checklist[item] = value;
            let refused = start(&app, &staff.provider, &id, version, checklist, None).await;
            assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
            assert_eq!(refused["errors"][0]["extensions"]["field"], field);
        }
        let other_provider = app.sign_in(Role::Provider).await.1;
        let refused = start(&app, &other_provider, &id, version, prep(), None).await;
        assert_eq!(
            error_code(&refused),
            "FORBIDDEN",
            "only the performing provider starts: {refused}"
        );
        let started = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(
            started["data"]["startProcedure"]["procedure"]["status"], "IN_PROGRESS",
            "{started}"
        );
    })
    .await;
}

#[tokio::test]
async fn r_device_maintenance_and_retired_devices_cannot_be_used() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, id, _) = in_progress(&app, &staff, "Device", 1).await;
        let device = new_device(&app, &staff, "DP-0001", 2.5).await;
        let update = "mutation($input: UpdateDeviceInput!) { updateDevice(input: $input) { device { status version } } }";
        let widened = app
            .gql(update, json!({ "input": { "id": device, "expectedVersion": 1, "maxDepthMm": 3.0 } }), Some(&staff.provider))
            .await;
        assert_eq!(error_code(&widened), "FORBIDDEN", "providers only send devices to maintenance");
        let by_desk = app
            .gql(update, json!({ "input": { "id": device, "expectedVersion": 1, "status": "MAINTENANCE" } }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&by_desk), "FORBIDDEN");
        let maintenance = app
            .gql(update, json!({ "input": { "id": device, "expectedVersion": 1, "status": "MAINTENANCE" } }), Some(&staff.provider))
            .await;
        assert_eq!(maintenance["data"]["updateDevice"]["device"], json!({ "status": "MAINTENANCE", "version": 2 }), "{maintenance}");

        let refused = add_session(&app, &staff.provider, session(&id, &device, "C-1", "LOT-A", "CHEEKS", 1.0, 0)).await;
        assert_eq!(error_code(&refused), "DEVICE_UNAVAILABLE", "{refused}");
        let cartridge = app
            .gql("{ devices(filter: { status: MAINTENANCE }) { totalCount edges { node { serial } } } }", json!({}), Some(&staff.desk))
            .await;
        assert_eq!(cartridge["data"]["devices"]["totalCount"], 1, "{cartridge}");

        let retired = app
            .gql(update, json!({ "input": { "id": device, "expectedVersion": 2, "status": "RETIRED" } }), Some(&staff.admin))
            .await;
        assert_eq!(retired["data"]["updateDevice"]["device"]["status"], "RETIRED", "{retired}");
        let refused = add_session(&app, &staff.provider, session(&id, &device, "C-1", "LOT-A", "CHEEKS", 1.0, 0)).await;
        assert_eq!(error_code(&refused), "DEVICE_UNAVAILABLE", "{refused}");

        let duplicate = app
            .gql("mutation($input: CreateDeviceInput!) { createDevice(input: $input) { device { id } } }",
                json!({ "input": { "kind": "PEN", "manufacturer": "X", "model": "Y", "serial": "dp-0001", "maxDepthMm": 2.0 } }),
                Some(&staff.admin))
            .await;
        assert_eq!(error_code(&duplicate), "CONFLICT", "serials are unique: {duplicate}");
    })
    .await;
}

#[tokio::test]
async fn r_cartridge_single_use_also_when_two_procedures_race() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let other = with_new_provider(&app, &staff).await;
        let (_, first, _) = in_progress(&app, &staff, "First", 1).await;
        let (_, second, _) = in_progress(&app, &other, "Second", 2).await;
        let (pen_a, pen_b) = (
            new_device(&app, &staff, "PEN-A", 2.5).await,
            new_device(&app, &staff, "PEN-B", 2.5).await,
        );

        let used = add_session(
            &app,
            &staff.provider,
            session(&first, &pen_a, "c-100", "lot-a", "CHEEKS", 1.0, 0),
        )
        .await;
        let cartridge = &used["data"]["addDeviceSession"]["deviceSession"]["cartridge"];
        assert_eq!(
            cartridge,
            &json!({ "serial": "C-100", "lotNumber": "LOT-A", "used": true }),
            "{used}"
        );
        // A second session of the same procedure may share it.
        let again = add_session(
            &app,
            &staff.provider,
            session(&first, &pen_a, "C-100", "LOT-A", "CHIN_JAW", 1.0, 1),
        )
        .await;
        assert!(again["errors"].is_null(), "{again}");
        let reused = add_session(
            &app,
            &other.provider,
            session(&second, &pen_b, "C-100", "LOT-A", "CHEEKS", 1.0, 2),
        )
        .await;
        assert_eq!(error_code(&reused), "CARTRIDGE_REUSED", "{reused}");

        let (one, two) = tokio::join!(
            add_session(
                &app,
                &staff.provider,
                session(&first, &pen_a, "RACE-1", "LOT-R", "CHEEKS", 1.0, 3)
            ),
            add_session(
                &app,
                &other.provider,
                session(&second, &pen_b, "RACE-1", "LOT-R", "CHEEKS", 1.0, 3)
            ),
        );
        let mut codes = [error_codes(&one), error_codes(&two)];
        codes.sort();
        assert_eq!(
            codes,
            [vec![], vec!["CARTRIDGE_REUSED".to_owned()]],
            "{one} {two}"
        );

        let mut expired = session(&second, &pen_b, "OLD-1", "LOT-OLD", "CHEEKS", 1.0, 5);
        expired["cartridge"]["expiresOn"] = json!(date_in(-2));
        let refused = add_session(&app, &other.provider, expired).await;
        assert_eq!(error_code(&refused), "CARTRIDGE_EXPIRED", "{refused}");

        let mut unknown = session(&second, &pen_b, "NEW-2", "LOT-N", "CHEEKS", 1.0, 6);
        unknown["cartridge"] = json!({ "serial": "NEW-2" });
        let refused = add_session(&app, &other.provider, unknown).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], "cartridge.lotNumber",
            "{refused}"
        );

        // Details that contradict the registered cartridge are refused.
        let mut contradicting = session(&first, &pen_a, "C-100", "LOT-A", "CHEEKS", 1.0, 6);
        contradicting["cartridge"]["needleCount"] = json!(36);
        let refused = add_session(&app, &staff.provider, contradicting).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["field"], "cartridge.needleCount",
            "{refused}"
        );

        // Two sessions racing for one device at the same time: one wins.
        let (one, two) = tokio::join!(
            add_session(
                &app,
                &staff.provider,
                session(&first, &pen_b, "DEV-1", "LOT-N", "CHEEKS", 1.0, 7)
            ),
            add_session(
                &app,
                &other.provider,
                session(&second, &pen_b, "DEV-2", "LOT-N", "CHEEKS", 1.0, 7)
            ),
        );
        let mut codes = [error_codes(&one), error_codes(&two)];
        codes.sort();
        assert_eq!(
            codes,
            [vec![], vec!["DOUBLE_BOOKED".to_owned()]],
            "{one} {two}"
        );

        // A device is never in two overlapping sessions.
        let overlapping = add_session(
            &app,
            &other.provider,
            session(&second, &pen_a, "NEW-3", "LOT-N", "CHEEKS", 1.0, 0),
        )
        .await;
        assert_eq!(error_code(&overlapping), "DOUBLE_BOOKED", "{overlapping}");
    })
    .await;
}

#[tokio::test]
async fn r_depth_device_maximum_is_absolute_and_guideline_range_needs_an_audited_reason() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, id, _) = in_progress(&app, &staff, "Depth", 1).await;
        let pen = new_device(&app, &staff, "PEN-D", 2.0).await;

        let too_deep = session(&id, &pen, "D-1", "LOT-D", "SCARS", 2.1, 0);
        let mut with_reason = too_deep.clone();
        with_reason["depthOverrideReason"] = json!("deep boxcar scars");
        let refused = add_session(&app, &staff.provider, with_reason).await;
        assert_eq!(error_code(&refused), "DEPTH_EXCEEDS_DEVICE", "{refused}");

        let mut shallow_cartridge = session(&id, &pen, "D-2", "LOT-D", "CHEEKS", 1.0, 1);
        shallow_cartridge["cartridge"]["maxDepthMm"] = json!(0.5);
        let refused = add_session(&app, &staff.provider, shallow_cartridge).await;
        assert_eq!(error_code(&refused), "DEPTH_EXCEEDS_DEVICE", "the cartridge's maximum counts too: {refused}");

        for depth in [0.0, -0.5] {
            let refused = add_session(&app, &staff.provider, session(&id, &pen, "D-3", "LOT-D", "FOREHEAD", depth, 2)).await;
            assert_eq!(refused["errors"][0]["extensions"]["field"], "depthMm", "{refused}");
        }

        let out_of_range = add_session(&app, &staff.provider, session(&id, &pen, "D-3", "LOT-D", "FOREHEAD", 1.0, 2)).await;
        assert_eq!(error_code(&out_of_range), "DEPTH_OUT_OF_RANGE", "{out_of_range}");
        let at_limit = add_session(&app, &staff.provider, session(&id, &pen, "D-3", "LOT-D", "FOREHEAD", 0.5, 2)).await;
        assert_eq!(at_limit["data"]["addDeviceSession"]["deviceSession"]["depthMm"], 0.5, "{at_limit}");

        let mut overridden = session(&id, &pen, "D-3", "LOT-D", "PERIORBITAL", 0.75, 3);
        overridden["depthOverrideReason"] = json!("thick periorbital skin, tested");
        let accepted = add_session(&app, &staff.provider, overridden).await;
        let charted = &accepted["data"]["addDeviceSession"];
        assert_eq!(charted["deviceSession"]["depthOverrideReason"], "thick periorbital skin, tested", "{accepted}");
        assert_eq!(charted["procedure"]["areas"], json!(["PERIORBITAL", "FOREHEAD", "CHEEKS"]), "charted areas join the procedure");

        app.flush_audit().await;
        let overrides = app
            .gql("{ auditEvents(filter: { action: OVERRIDE }) { edges { node { entityType entityId patientId } } } }", json!({}), Some(&staff.admin))
            .await;
        assert_eq!(
            overrides["data"]["auditEvents"]["edges"][0]["node"],
            json!({ "entityType": "DeviceSession", "entityId": charted["deviceSession"]["id"], "patientId": patient }),
            "{overrides}"
        );
    })
    .await;
}

#[tokio::test]
async fn r_postcare_r_records_signed_procedures_are_locked_and_amendments_keep_history() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, id, _) = in_progress(&app, &staff, "Charted", 1).await;
        let pen = new_device(&app, &staff, "PEN-R", 2.5).await;
        let empty = complete(&app, &staff.provider, &id, 30).await;
        assert_eq!(error_code(&empty), "INVALID_STATE", "a procedure without a session: {empty}");
        let charted = add_session(&app, &staff.provider, session(&id, &pen, "R-1", "LOT-R", "CHEEKS", 1.0, 0)).await;
        assert!(charted["errors"].is_null(), "{charted}");

        let weak = complete(&app, &staff.provider, &id, 15).await;
        assert_eq!(error_code(&weak), "BAD_USER_INPUT", "{weak}");
        assert_eq!(weak["errors"][0]["extensions"]["field"], "postCare.sunscreenSpf");
        let done = complete(&app, &staff.provider, &id, 30).await;
        assert_eq!(done["data"]["completeProcedure"]["procedure"]["status"], "COMPLETED", "{done}");

        let version = version_of(&app, &staff.provider, &id).await;
        let other_provider = app.sign_in(Role::Provider).await.1;
        let refused = app.gql(SIGN, json!({ "input": { "id": id, "expectedVersion": version } }), Some(&other_provider)).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "only the performing provider signs");
        // R-LICENSE at signature: not valid on the procedure's date.
        set_license_expiry(&app, &staff.provider_id, Some((Utc::now() - Duration::days(2)).date_naive())).await;
        let refused = app.gql(SIGN, json!({ "input": { "id": id, "expectedVersion": version } }), Some(&staff.provider)).await;
        assert_eq!(error_code(&refused), "LICENSE_EXPIRED", "{refused}");
        set_license_expiry(&app, &staff.provider_id, Some((Utc::now() + Duration::days(400)).date_naive())).await;
        let signed = app.gql(SIGN, json!({ "input": { "id": id, "expectedVersion": version } }), Some(&staff.provider)).await;
        assert_eq!(signed["data"]["signProcedure"]["procedure"]["status"], "SIGNED", "{signed}");
        assert_eq!(signed["data"]["signProcedure"]["procedure"]["signedBy"]["id"], staff.provider_id);
        let version = version + 1;

        let locked = add_session(&app, &staff.provider, session(&id, &pen, "R-1", "LOT-R", "CHIN_JAW", 1.0, 1)).await;
        assert_eq!(error_code(&locked), "PROCEDURE_LOCKED", "{locked}");
        let locked = complete(&app, &staff.provider, &id, 50).await;
        assert_eq!(error_code(&locked), "PROCEDURE_LOCKED", "{locked}");
        let locked = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&locked), "PROCEDURE_LOCKED", "{locked}");
        let locked = app.gql(SIGN, json!({ "input": { "id": id, "expectedVersion": version } }), Some(&staff.provider)).await;
        assert_eq!(error_code(&locked), "PROCEDURE_LOCKED", "{locked}");
        let locked = app
            .gql("mutation($input: CancelProcedureInput!) { cancelProcedure(input: $input) { procedure { id } } }",
                json!({ "input": { "id": id, "expectedVersion": version, "reason": "oops" } }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&locked), "PROCEDURE_LOCKED", "{locked}");

        let amend = "mutation($input: AmendProcedureInput!) { amendProcedure(input: $input) {
            procedure { version clinicalNotes postCare { sunscreenSpf } signedRecord { clinicalNotes sunscreenSpf } }
            amendment { reason amendedBy { id } changes { field oldValue newValue } } } }";
        let no_reason = app
            .gql(amend, json!({ "input": { "id": id, "expectedVersion": version, "reason": " ", "sunscreenSpf": 50 } }), Some(&staff.provider))
            .await;
        assert_eq!(no_reason["errors"][0]["extensions"]["field"], "reason", "{no_reason}");
        let amended = app
            .gql(amend, json!({ "input": { "id": id, "expectedVersion": version, "reason": "SPF 50 was applied, not 30",
                "sunscreenSpf": 50, "clinicalNotes": "tolerated well" } }), Some(&staff.provider))
            .await;
        let payload = &amended["data"]["amendProcedure"];
        assert_eq!(payload["procedure"]["postCare"]["sunscreenSpf"], 50, "{amended}");
        assert_eq!(payload["procedure"]["signedRecord"], json!({ "clinicalNotes": "tolerated well", "sunscreenSpf": 30 }));
        assert_eq!(payload["amendment"]["amendedBy"]["id"], staff.provider_id);
        assert_eq!(
            payload["amendment"]["changes"],
            json!([{ "field": "sunscreenSpf", "oldValue": 30, "newValue": 50 }]),
            "only what changed is listed"
        );
        let history = app
            .gql("query($id: ID!) { procedure(id: $id) { status amendments { reason changes { field } } } }", json!({ "id": id }), Some(&staff.admin))
            .await;
        assert_eq!(history["data"]["procedure"]["status"], "SIGNED");
        assert_eq!(history["data"]["procedure"]["amendments"][0]["reason"], "SPF 50 was applied, not 30", "{history}");
    })
    .await;
}

#[tokio::test]
async fn front_desk_sees_the_schedule_but_not_device_settings_or_clinical_notes() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, id, _) = in_progress(&app, &staff, "Private", 1).await;
        let pen = new_device(&app, &staff, "PEN-P", 2.5).await;
        add_session(&app, &staff.provider, session(&id, &pen, "P-1", "LOT-P", "CHEEKS", 1.0, 0)).await;
        let consultation = app
            .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                json!({ "input": { "patientId": patient, "providerId": staff.provider_id, "startsAt": day_at(3), "durationMinutes": 30 } }),
                Some(&staff.desk))
            .await;
        assert!(consultation["errors"].is_null(), "{consultation}");

        let schedule_query = "query($from: DateTime!, $to: DateTime!, $provider: ID) { schedule(from: $from, to: $to, providerId: $provider) {
            __typename ... on Procedure { id status patient { id } } ... on Consultation { id } } }";
        let range = json!({ "from": day_at(-1), "to": day_at(5), "provider": staff.provider_id });
        let listed = app.gql(schedule_query, range.clone(), Some(&staff.desk)).await;
        let kinds: Vec<_> = listed["data"]["schedule"].as_array().unwrap_or_else(|| panic!("{listed}")).iter().map(|a| a["__typename"].clone()).collect();
        assert_eq!(kinds, [json!("Procedure"), json!("Consultation")], "by start: {listed}");
        assert_eq!(listed["data"]["schedule"][0]["patient"]["id"], patient.as_str());

        for field in ["deviceSessions { depthMm }", "clinicalNotes", "prep { numbingProduct }", "postCare { sunscreenSpf }"] {
            let query = format!("query($id: ID!) {{ procedure(id: $id) {{ status {field} }} }}");
            let hidden = app.gql(&query, json!({ "id": id }), Some(&staff.desk)).await;
            assert_eq!(error_code(&hidden), "FORBIDDEN", "{field}: {hidden}");
            let nested = format!("query($id: ID!) {{ patient(id: $id) {{ procedures {{ {field} }} }} }}");
            let hidden = app.gql(&nested, json!({ "id": patient }), Some(&staff.desk)).await;
            assert_eq!(error_code(&hidden), "FORBIDDEN", "nested {field}: {hidden}");
        }
        let (_, partner) = app.api_key(&["schedule:read"]).await;
        let listed = app.gql(schedule_query, range, Some(&partner)).await;
        assert_eq!(listed["data"]["schedule"][0]["status"], "IN_PROGRESS", "{listed}");
        let hidden = app.gql("query($id: ID!) { procedure(id: $id) { deviceSessions { depthMm } } }", json!({ "id": id }), Some(&partner)).await;
        assert_eq!(error_code(&hidden), "FORBIDDEN", "{hidden}");
        let mutation = app.gql(SCHEDULE, json!({ "input": booking(&patient, &staff.provider_id, 60) }), Some(&partner)).await;
        assert_eq!(error_code(&mutation), "FORBIDDEN", "{mutation}");
    })
    .await;
}

#[tokio::test]
async fn r_cartridge_lot_exposure_finds_exactly_the_exposed_procedures() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let teams = [
            staff.clone(),
            with_new_provider(&app, &staff).await,
            with_new_provider(&app, &staff).await,
        ];
        let (a, first, _) = in_progress(&app, &teams[0], "ExposedA", 1).await;
        let (b, second, _) = in_progress(&app, &teams[1], "ExposedB", 2).await;
        let (_, third, _) = in_progress(&app, &teams[2], "Safe", 3).await;
        let pens = [
            new_device(&app, &staff, "PEN-1", 2.5).await,
            new_device(&app, &staff, "PEN-2", 2.5).await,
            new_device(&app, &staff, "PEN-3", 2.5).await,
        ];
        for (team, procedure, pen, serial, lot) in [
            (&teams[0], &first, &pens[0], "L-1", "RECALL-7"),
            (&teams[1], &second, &pens[1], "L-2", "RECALL-7"),
            (&teams[2], &third, &pens[2], "L-3", "FINE-1"),
        ] {
            let added = add_session(&app, &team.provider, session(procedure, pen, serial, lot, "CHEEKS", 1.0, 0)).await;
            assert!(added["errors"].is_null(), "{added}");
        }
        let query = "query($lot: String!) { cartridgeLotExposure(lotNumber: $lot) { id startsAt patient { id } } }";
        let exposed = app.gql(query, json!({ "lot": "recall-7" }), Some(&staff.provider)).await;
        let found: Vec<_> = exposed["data"]["cartridgeLotExposure"].as_array().unwrap_or_else(|| panic!("{exposed}"))
            .iter().map(|p| (p["id"].as_str().unwrap().to_owned(), p["patient"]["id"].as_str().unwrap().to_owned())).collect();
        assert_eq!(found, [(first.clone(), a), (second.clone(), b)]);
        let none = app.gql(query, json!({ "lot": "NEVER-USED" }), Some(&staff.admin)).await;
        assert_eq!(none["data"]["cartridgeLotExposure"], json!([]));
        let refused = app.gql(query, json!({ "lot": "RECALL-7" }), Some(&staff.desk)).await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
    })
    .await;
}

#[tokio::test]
async fn a_provider_charts_a_complete_signed_session_and_the_plan_counts_it() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let patient = new_patient(&app, &staff, "Series").await;
        sign_consent(&app, &staff, &patient).await;
        let consultation = app
            .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                json!({ "input": { "patientId": patient, "providerId": staff.provider_id, "startsAt": (Utc::now() + Duration::hours(2)).format("%Y-%m-%dT%H:00:00Z").to_string(), "durationMinutes": 30 } }),
                Some(&staff.desk))
            .await;
        let consultation = consultation["data"]["scheduleConsultation"]["consultation"]["id"].as_str().map(str::to_owned);
        let plan = match consultation {
            Some(consultation) => {
                let done = app
                    .gql("mutation($input: CompleteConsultationInput!) { completeConsultation(input: $input) { treatmentPlan { id } } }",
                        json!({ "input": { "id": consultation, "expectedVersion": 1, "screening": clean_screening(),
                            "treatmentPlan": { "plannedSessions": 3, "areas": ["CHEEKS"] } } }), Some(&staff.provider))
                    .await;
                done["data"]["completeConsultation"]["treatmentPlan"]["id"].as_str().unwrap_or_else(|| panic!("{done}")).to_owned()
            }
            None => panic!("consultation not booked"),
        };
        let keyed = json!({ "patientId": patient, "providerId": staff.provider_id, "startsAt": day_at(1), "durationMinutes": 60,
            "areas": ["CHEEKS"], "idempotencyKey": "widget-42" });
        let first = schedule(&app, &staff.desk, keyed.clone()).await;
        let retried = schedule(&app, &staff.desk, keyed).await;
        assert_eq!(first["data"]["scheduleProcedure"]["procedure"]["id"], retried["data"]["scheduleProcedure"]["procedure"]["id"], "{retried}");
        assert_eq!(first["data"]["scheduleProcedure"]["procedure"]["treatmentPlan"]["id"], plan.as_str(), "the active plan by default");
        let (id, version) = procedure_of(&first);

        let upcoming = app
            .gql("{ patients(filter: { hasUpcomingProcedure: true }) { edges { node { id } } } }", json!({}), Some(&staff.desk))
            .await;
        assert_eq!(upcoming["data"]["patients"]["edges"], json!([{ "node": { "id": patient } }]), "{upcoming}");

        let started = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert!(started["errors"].is_null(), "{started}");
        let pen = new_device(&app, &staff, "PEN-S", 2.5).await;
        add_session(&app, &staff.provider, session(&id, &pen, "S-1", "LOT-S", "CHEEKS", 1.0, 0)).await;
        let done = complete(&app, &staff.provider, &id, 50).await;
        assert!(done["errors"].is_null(), "{done}");
        let version = version_of(&app, &staff.provider, &id).await;
        let signed = app.gql(SIGN, json!({ "input": { "id": id, "expectedVersion": version } }), Some(&staff.provider)).await;
        assert!(signed["errors"].is_null(), "{signed}");

        let read = app
            .gql("query($id: ID!) { patient(id: $id) { treatmentPlan { sessionsDone sessionsRemaining earliestNextSession }
                procedures { status prep { numbingDwellMinutes } deviceSessions { depthMm device { serial } cartridge { serial } } } } }",
                json!({ "id": patient }), Some(&staff.provider))
            .await;
        let patient_view = &read["data"]["patient"];
        assert_eq!(patient_view["treatmentPlan"]["sessionsDone"], 1, "{read}");
        assert_eq!(patient_view["treatmentPlan"]["sessionsRemaining"], 2);
        assert_eq!(patient_view["treatmentPlan"]["earliestNextSession"], clinic_date_in(42), "performed today, booked for tomorrow: today + 42");
        assert_eq!(patient_view["procedures"][0]["status"], "SIGNED");
        // Numbing 60 minutes ago, first needle 50 minutes ago (both taken
        // from the clock a moment apart, so 9 or 10 whole minutes).
        let dwell = patient_view["procedures"][0]["prep"]["numbingDwellMinutes"].as_i64();
        assert!(matches!(dwell, Some(9 | 10)), "{read}");
        assert_eq!(patient_view["procedures"][0]["deviceSessions"][0]["device"]["serial"], "PEN-S");
    })
    .await;
}

#[tokio::test]
async fn nested_procedures_sessions_devices_and_cartridges_cost_the_same_for_5_or_50_patients() {
    for_each_backend_with(
        // A wide batch window, so a busy shared machine cannot split a batch.
        |config| config.batch_window_ms = 50,
        |app| async move {
            let staff = staff(&app).await;
            let pen = new_device(&app, &staff, "PEN-N", 2.5).await;
            for n in 0..50 {
                let last = format!("Nested{n:02}");
                if n < 3 {
                    let team = with_new_provider(&app, &staff).await;
                    let (_, id, _) = in_progress(&app, &team, &last, n + 1).await;
                    let added = add_session(&app, &team.provider, session(&id, &pen, &format!("N-{n}"), "LOT-N", "CHEEKS", 1.0, n)).await;
                    assert!(added["errors"].is_null(), "{added}");
                } else {
                    booked(&app, &staff, &last, n + 1).await;
                }
            }
            let query = "query($n: Int) { patients(first: $n) { edges { node { id procedures { status provider { displayName }
                deviceSessions { depthMm device { serial } cartridge { lotNumber } } } treatmentPlan { id } } } } }";
            let mut counts = Vec::new();
            for size in [5, 50] {
                let before = app.statements_executed();
                let response = app.gql(query, json!({ "n": size }), Some(&staff.provider)).await;
                assert!(response["errors"].is_null(), "{response}");
                assert_eq!(response["data"]["patients"]["edges"].as_array().unwrap().len(), size);
                counts.push(app.statements_executed() - before);
            }
            assert_eq!(counts[0], counts[1], "statements for 5 and 50 patients: {counts:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn r_interval_r_booking_a_procedure_moves_to_when_it_really_starts() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        // Booked for day 100, performed today: day 30 is now too close.
        let (patient, id, version) = booked(&app, &staff, "Early", 100).await;
        let started = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert!(started["errors"].is_null(), "{started}");
        let read = app
            .gql(
                "query($id: ID!) { procedure(id: $id) { startsAt durationMinutes } }",
                json!({ "id": id }),
                Some(&staff.desk),
            )
            .await;
        let starts_at = read["data"]["procedure"]["startsAt"]
            .as_str()
            .unwrap_or_else(|| panic!("{read}"));
        assert!(starts_at.starts_with(&date_in(0)), "moved to today: {read}");
        assert_eq!(read["data"]["procedure"]["durationMinutes"], 60);
        let too_soon = schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 30)).await;
        assert_eq!(error_code(&too_soon), "INTERVAL_TOO_SHORT", "{too_soon}");
        assert_eq!(
            too_soon["errors"][0]["extensions"]["earliestAllowed"],
            clinic_date_in(42)
        );

        // The provider is busy now: another procedure cannot start meanwhile.
        let (_, other, other_version) = booked(&app, &staff, "Waiting", 5).await;
        let busy = start(&app, &staff.provider, &other, other_version, prep(), None).await;
        assert_eq!(error_code(&busy), "DOUBLE_BOOKED", "{busy}");

        // Starting rechecks the interval on the day it really happens.
        let (patient, first, _) = booked(&app, &staff, "Twice", 2).await;
        let (second, second_version) = procedure_of(
            &schedule(&app, &staff.desk, booking(&patient, &staff.provider_id, 50)).await,
        );
        let other_provider = with_new_provider(&app, &staff).await;
        let reassigned = dermagraph::entities::procedures::Entity::update_many()
            .col_expr(
                dermagraph::entities::procedures::Column::ProviderId,
                Expr::value(Uuid::parse_str(&other_provider.provider_id).unwrap()),
            )
            .filter(
                dermagraph::entities::procedures::Column::Id.eq(Uuid::parse_str(&second).unwrap()),
            )
            .exec(&app.db)
            .await
            .unwrap();
        assert_eq!(reassigned.rows_affected, 1);
        let refused = start(
            &app,
            &other_provider.provider,
            &second,
            second_version,
            prep(),
            None,
        )
        .await;
        assert_eq!(
            error_code(&refused),
            "INTERVAL_TOO_SHORT",
            "2 days from {first}: {refused}"
        );
    })
    .await;
}

#[tokio::test]
async fn archived_patients_cannot_be_treated_and_stale_procedures_cannot_be_charted() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, id, version) = booked(&app, &staff, "Archived", 1).await;
        let archived = app
            .gql("mutation($id: ID!) { archivePatient(input: { id: $id, expectedVersion: 1 }) { patient { archived } } }",
                json!({ "id": patient }), Some(&staff.desk))
            .await;
        assert_eq!(archived["data"]["archivePatient"]["patient"]["archived"], true, "{archived}");
        let refused = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert_eq!(error_code(&refused), "INVALID_STATE", "{refused}");

        let (_, open, _) = in_progress(&app, &staff, "Forgotten", 2).await;
        let pen = new_device(&app, &staff, "PEN-F", 2.5).await;
        dermagraph::entities::procedures::Entity::update_many()
            .col_expr(dermagraph::entities::procedures::Column::StartedAt, Expr::value(Utc::now() - Duration::hours(13)))
            .filter(dermagraph::entities::procedures::Column::Id.eq(Uuid::parse_str(&open).unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
        let late = add_session(&app, &staff.provider, session(&open, &pen, "F-1", "LOT-F", "CHEEKS", 1.0, 0)).await;
        assert_eq!(error_code(&late), "INVALID_STATE", "{late}");
    })
    .await;
}

#[tokio::test]
async fn idempotent_booking_retries_racing_the_first_request_book_once() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let patient = new_patient(&app, &staff, "Retried").await;
        let mut keyed = booking(&patient, &staff.provider_id, 3);
        keyed["idempotencyKey"] = json!("widget-retry-7");
        let (one, two) = tokio::join!(
            schedule(&app, &staff.desk, keyed.clone()),
            schedule(&app, &staff.desk, keyed.clone()),
        );
        assert!(
            one["errors"].is_null() && two["errors"].is_null(),
            "{one} {two}"
        );
        assert_eq!(procedure_of(&one).0, procedure_of(&two).0);
        let listed = app
            .gql(
                "query($p: ID) { procedures(filter: { patientId: $p }) { totalCount } }",
                json!({ "p": patient }),
                Some(&staff.desk),
            )
            .await;
        assert_eq!(listed["data"]["procedures"]["totalCount"], 1, "{listed}");
    })
    .await;
}

#[tokio::test]
async fn a_reason_given_after_the_start_is_clinical() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, booked_id, booked_version) = booked(&app, &staff, "Reasons", 2).await;
        let (_, started_id, _) = in_progress(&app, &with_new_provider(&app, &staff).await, "Started", 3).await;
        let cancel = "mutation($input: CancelProcedureInput!) { cancelProcedure(input: $input) { procedure { status } } }";
        let by_desk = app
            .gql(cancel, json!({ "input": { "id": booked_id, "expectedVersion": booked_version, "reason": "patient travelling" } }), Some(&staff.desk))
            .await;
        assert_eq!(by_desk["data"]["cancelProcedure"]["procedure"]["status"], "CANCELLED", "{by_desk}");
        let version = version_of(&app, &staff.admin, &started_id).await;
        let refused = app
            .gql(cancel, json!({ "input": { "id": started_id, "expectedVersion": version, "reason": "active HSV lesion" } }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "only its provider stops a started procedure: {refused}");
        let performer = app
            .gql("query($id: ID!) { procedure(id: $id) { provider { id } } }", json!({ "id": started_id }), Some(&staff.admin))
            .await;
        let performer_id = performer["data"]["procedure"]["provider"]["id"].as_str().unwrap().to_owned();
        assert_ne!(performer_id, staff.provider_id);

        let reason = "query($id: ID!) { procedure(id: $id) { status cancelReason } }";
        let desk_view = app.gql(reason, json!({ "id": booked_id }), Some(&staff.desk)).await;
        assert_eq!(desk_view["data"]["procedure"]["cancelReason"], "patient travelling", "{desk_view}");
        let (_, partner) = app.api_key(&["schedule:read"]).await;
        let partner_view = app.gql(reason, json!({ "id": booked_id }), Some(&partner)).await;
        assert_eq!(error_code(&partner_view), "FORBIDDEN", "partners never read reasons: {partner_view}");
        let nested = app
            .gql("query($id: ID!) { patient(id: $id) { procedures { status cancelReason } } }", json!({ "id": patient }), Some(&partner))
            .await;
        assert_eq!(error_code(&nested), "FORBIDDEN", "{nested}");
    })
    .await;
}

#[tokio::test]
async fn r_cartridge_registered_ahead_is_charted_by_its_serial_alone() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let register = "mutation($input: RegisterCartridgeInput!) { registerCartridge(input: $input) { cartridge { serial lotNumber used } } }";
        let input = json!({ "input": { "serial": " udi-777 ", "lotNumber": "lot-9", "needleCount": 36, "maxDepthMm": 2.0, "expiresOn": date_in(200) } });
        let refused = app.gql(register, input.clone(), Some(&staff.desk)).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
        let registered = app.gql(register, input.clone(), Some(&staff.provider)).await;
        assert_eq!(registered["data"]["registerCartridge"]["cartridge"], json!({ "serial": "UDI-777", "lotNumber": "LOT-9", "used": false }), "{registered}");
        let again = app.gql(register, input, Some(&staff.admin)).await;
        assert_eq!(error_code(&again), "CONFLICT", "{again}");
        let expired = json!({ "input": { "serial": "UDI-OLD", "lotNumber": "LOT-0", "needleCount": 36, "maxDepthMm": 2.0, "expiresOn": date_in(-2) } });
        let refused = app.gql(register, expired, Some(&staff.provider)).await;
        assert_eq!(error_code(&refused), "CARTRIDGE_EXPIRED", "an expired cartridge is refused at registration too: {refused}");
        let last_day = json!({ "input": { "serial": "UDI-LAST", "lotNumber": "LOT-0", "needleCount": 36, "maxDepthMm": 2.0, "expiresOn": date_in(1) } });
        let kept = app.gql(register, last_day, Some(&staff.provider)).await;
        assert!(kept["errors"].is_null(), "{kept}");

        let (_, id, _) = in_progress(&app, &staff, "Registered", 1).await;
        let pen = new_device(&app, &staff, "PEN-REG", 2.5).await;
        let mut charted = session(&id, &pen, "UDI-777", "LOT-9", "CHEEKS", 1.0, 0);
        charted["cartridge"] = json!({ "serial": "UDI-777" });
        let added = add_session(&app, &staff.provider, charted).await;
        assert_eq!(added["data"]["addDeviceSession"]["deviceSession"]["cartridge"], json!({ "serial": "UDI-777", "lotNumber": "LOT-9", "used": true }), "{added}");
    })
    .await;
}

#[tokio::test]
async fn the_headline_query_costs_one_statement_per_relation_under_concurrent_load() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let pen = new_device(&app, &staff, "PEN-H", 2.5).await;
        for n in 0..6 {
            let last = format!("Headline{n:02}");
            if n < 3 {
                let team = with_new_provider(&app, &staff).await;
                let (_, id, _) = in_progress(&app, &team, &last, n + 1).await;
                let added = add_session(
                    &app,
                    &team.provider,
                    session(&id, &pen, &format!("H-{n}"), "LOT-H", "CHEEKS", 1.0, n),
                )
                .await;
                assert!(added["errors"].is_null(), "{added}");
            } else {
                booked(&app, &staff, &last, n + 1).await;
            }
        }
        let query = "{ patients(first: 50) { edges { node { id firstName
                consultations { id status startsAt }
                procedures { id status provider { id displayName }
                  deviceSessions { id depthMm device { id serial } cartridge { id lotNumber } } }
                followUps { id kind } } } } }";
        // A batching window far longer than the request needs: fields
        // whose rows were fetched ahead never wait for it.
        let app = app
            .instance_with(|config| config.batch_window_ms = 3_000)
            .await;
        let before = app.statements_executed();
        let started = std::time::Instant::now();
        let requests = (0..8).map(|_| app.gql(query, json!({}), Some(&staff.provider)));
        let responses = futures_util::future::join_all(requests).await;
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(3),
            "a field waited for the window: {elapsed:?}"
        );
        for response in responses {
            assert!(response["errors"].is_null(), "{response}");
            assert_eq!(
                response["data"]["patients"]["edges"]
                    .as_array()
                    .unwrap()
                    .len(),
                6
            );
        }
        // Per request: the token's account, the page, then consultations,
        // procedures, providers, device sessions, devices, cartridges and
        // follow-ups: one statement each.
        assert_eq!(app.statements_executed() - before, 8 * 9);
    })
    .await;
}

/// A completed and signed procedure of `staff.provider`: (id, version).
async fn signed_procedure(app: &TestApp, staff: &Staff, last: &str) -> (String, i64) {
    let (_, id, _) = in_progress(app, staff, last, 1).await;
    let pen = new_device(app, staff, &format!("PEN-{last}"), 2.5).await;
    let charted = add_session(
        app,
        &staff.provider,
        session(&id, &pen, &format!("{last}-1"), "LOT-A", "CHEEKS", 1.0, 0),
    )
    .await;
    assert!(charted["errors"].is_null(), "{charted}");
    let done = complete(app, &staff.provider, &id, 30).await;
    assert!(done["errors"].is_null(), "{done}");
    let version = version_of(app, &staff.provider, &id).await;
    let signed = app
        .gql(
            SIGN,
            json!({ "input": { "id": id, "expectedVersion": version } }),
            Some(&staff.provider),
        )
        .await;
    assert_eq!(
        signed["data"]["signProcedure"]["procedure"]["status"], "SIGNED",
        "{signed}"
    );
    (id, version + 1)
}

#[tokio::test]
async fn r_records_only_the_performer_and_supervising_providers_amend_unless_the_clinic_allows_any()
{
    for_each_backend(|app| async move {
        let app = app;
        let staff = staff(&app).await;
        let (id, version) = signed_procedure(&app, &staff, "Amended").await;
        let (colleague_user, colleague) = app.sign_in(Role::Provider).await;
        let amend = "mutation($input: AmendProcedureInput!) { amendProcedure(input: $input) {
            procedure { version } amendment { amendedBy { id } } } }";
        let correction = |version: i64, spf: i64| json!({ "input": { "id": id, "expectedVersion": version,
            "reason": "the SPF applied was recorded wrong", "sunscreenSpf": spf } });

        let policy = app.gql("{ clinicPolicy { amendmentPolicy version } }", json!({}), Some(&staff.admin)).await;
        assert_eq!(policy["data"]["clinicPolicy"]["amendmentPolicy"], "PERFORMER_AND_SUPERVISORS", "{policy}");
        let refused = app.gql(amend, correction(version, 50), Some(&colleague)).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "a colleague who did not perform it: {refused}");
        assert!(refused["errors"][0]["message"].as_str().unwrap().contains("amendment policy"), "{refused}");
        app.flush_audit().await;
        let denied = app
            .gql("query($actor: ID!) { auditEvents(first: 10, filter: { actorId: $actor, action: ACCESS_DENIED }) { edges { node { operation } } } }",
                json!({ "actor": colleague_user.id.to_string() }), Some(&staff.admin))
            .await;
        assert_eq!(denied["data"]["auditEvents"]["edges"][0]["node"]["operation"], "amendProcedure", "{denied}");

        // An admin designates the colleague as a supervising provider.
        let designate = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { supervisesAmendments version } } }";
        let desk_user = app.create_user(Role::FrontDesk).await;
        let not_a_provider = app
            .gql(designate, json!({ "input": { "id": desk_user.id.to_string(), "expectedVersion": 1, "supervisesAmendments": true } }), Some(&staff.admin))
            .await;
        assert_eq!(error_code(&not_a_provider), "BAD_USER_INPUT", "{not_a_provider}");
        assert_eq!(not_a_provider["errors"][0]["extensions"]["field"], "supervisesAmendments");
        let input = json!({ "input": { "id": colleague_user.id.to_string(), "expectedVersion": 1, "supervisesAmendments": true } });
        let by_provider = app.gql(designate, input.clone(), Some(&staff.provider)).await;
        assert_eq!(error_code(&by_provider), "FORBIDDEN", "only an admin designates: {by_provider}");
        let designated = app.gql(designate, input, Some(&staff.admin)).await;
        assert_eq!(designated["data"]["updateUser"]["user"]["supervisesAmendments"], true, "{designated}");
        let amended = app.gql(amend, correction(version, 50), Some(&colleague)).await;
        assert_eq!(amended["data"]["amendProcedure"]["amendment"]["amendedBy"]["id"], colleague_user.id.to_string(), "{amended}");
        let version = amended["data"]["amendProcedure"]["procedure"]["version"].as_i64().unwrap();
        // The performer always may.
        let by_performer = app.gql(amend, correction(version, 40), Some(&staff.provider)).await;
        assert!(by_performer["errors"].is_null(), "{by_performer}");
        let version = by_performer["data"]["amendProcedure"]["procedure"]["version"].as_i64().unwrap();

        // A clinic whose practice is that any provider corrects any chart.
        let third = app.sign_in(Role::Provider).await.1;
        assert_eq!(error_code(&app.gql(amend, correction(version, 45), Some(&third)).await), "FORBIDDEN");
        let policy_version = policy["data"]["clinicPolicy"]["version"].as_i64().unwrap();
        let opened = app
            .gql("mutation($input: UpdateClinicPolicyInput!) { updateClinicPolicy(input: $input) { clinicPolicy { amendmentPolicy } } }",
                json!({ "input": { "expectedVersion": policy_version, "amendmentPolicy": "ANY_PROVIDER" } }), Some(&staff.admin))
            .await;
        assert_eq!(opened["data"]["updateClinicPolicy"]["clinicPolicy"]["amendmentPolicy"], "ANY_PROVIDER", "{opened}");
        let by_third = app.gql(amend, correction(version, 45), Some(&third)).await;
        assert!(by_third["errors"].is_null(), "{by_third}");

        // Every amendment is audited, whoever made it.
        app.flush_audit().await;
        let amends = app
            .gql("{ auditEvents(first: 10, filter: { action: AMEND }) { totalCount } }", json!({}), Some(&staff.admin))
            .await;
        assert_eq!(amends["data"]["auditEvents"]["totalCount"], 3, "{amends}");
    })
    .await;
}

#[tokio::test]
async fn a_started_procedure_keeps_the_time_it_was_booked_for() {
    for_each_backend(|app| async move {
        let app = app;
        let staff = staff(&app).await;
        let (_, id, version) = booked(&app, &staff, "Punctual", 1).await;
        let times = "query($id: ID!) { procedure(id: $id) { startsAt scheduledStartsAt } }";
        let before = app.gql(times, json!({ "id": id }), Some(&staff.desk)).await;
        let booked_for = before["data"]["procedure"]["scheduledStartsAt"].clone();
        assert_eq!(
            booked_for, before["data"]["procedure"]["startsAt"],
            "{before}"
        );
        let started = start(&app, &staff.provider, &id, version, prep(), None).await;
        assert!(started["errors"].is_null(), "{started}");
        let after = app.gql(times, json!({ "id": id }), Some(&staff.desk)).await;
        assert_eq!(
            after["data"]["procedure"]["scheduledStartsAt"], booked_for,
            "the booking is kept: {after}"
        );
        assert_ne!(
            after["data"]["procedure"]["startsAt"], booked_for,
            "the start moved to now: {after}"
        );
    })
    .await;
}
