//! `seed-bench`: a large, realistic clinic for the load benchmarks
//! (bench/run.sh, BENCHMARKS.md), written fast with bulk inserts.
//!
//! Unlike `seed-demo`, which goes through the services one write at a time,
//! this builds rows directly and inserts them in batches inside one
//! transaction per chunk of patients. It writes what the services would
//! have written: versions, statuses, times and the follow-ups that
//! completing a procedure creates (R-FOLLOWUP) are consistent, and every
//! history obeys the rules a live clinic would have enforced: licensed
//! providers (R-LICENSE), 56 days between sessions (R-INTERVAL), a signed
//! consent (R-CONSENT) and a screening within the policy's validity before
//! each session (R-SCREENING), active devices, one single-use cartridge per
//! device session (R-CARTRIDGE), depths in the guideline range (R-DEPTH),
//! no provider or device booked twice at once (R-BOOKING), SPF 30+
//! (R-POSTCARE). No audit history is written.
//!
//! It also prepares a *write pool* for the write-mix scenario: pairs of a
//! provider and a patient who is ready to be treated today (consent signed,
//! a fresh screening, an active plan, no procedure), plus devices used by
//! nothing else, so every iteration of the scenario passes every rule.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    Iterable, PaginatorTrait, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::{NoContext, Timestamp, Uuid};

use crate::{
    auth::password::hash_password,
    domain::{
        consultation::{ConsultationStatus, PlanStatus},
        device::{DeviceKind, DeviceStatus},
        follow_up::{
            CompletedSession, FollowUpKind, FollowUpStatus, Symptom, due_instant,
            follow_up_channel, follow_up_schedule,
        },
        patient::{
            ContactChannel, FitzpatrickType, MedicalCondition, SkinConcern, fold_for_search,
            join_codes,
        },
        policy::ClinicPolicy,
        procedure::{ClinicalEndpoint, NeedlingPattern, ProcedureStatus, clinic_day},
        screening::{ScreeningAnswers, evaluate},
        staff::{LicenseKind, Role},
        treatment_area::TreatmentArea,
    },
    entities::{
        cartridges, consultations, contact_consents, device_sessions, devices, follow_ups,
        informed_consents, medical_histories, patients, procedures, screenings, treatment_plans,
        users,
    },
    seed::{FIRST_NAMES, LAST_NAMES},
    services::{
        follow_ups::pending_follow_up,
        patients::{search_text, sort_name},
        policy::current_policy,
        procedures::ChartedRecord,
    },
};

/// Password of every bench staff account unless DERMAGRAPH_PASSWORD is set.
pub const BENCH_PASSWORD: &str = "bench-password-2026";

/// Patients written per transaction.
const CHUNK_PATIENTS: usize = 250;
/// Bind parameters per INSERT statement, under SQLite's 32766 and
/// PostgreSQL's 65535.
const MAX_BIND_PARAMETERS: usize = 30_000;
/// First bookable hour of a clinic day (local time).
const FIRST_HOUR: u32 = 7;
/// One-hour slots per provider and day (07:00 to 21:00).
const SLOTS_PER_DAY: u32 = 14;
/// How far back the last session of a patient may lie, in days.
const HISTORY_DAYS: i64 = 365;
/// Devices kept for the write-mix scenario.
const WRITE_POOL_DEVICES: usize = 16;

const CITIES: [(&str, &str, &str); 6] = [
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Jersey City", "NJ", "073"),
    ("Hoboken", "NJ", "070"),
    ("Stamford", "CT", "069"),
    ("Yonkers", "NY", "107"),
];
const AREA_CODES: [&str; 5] = ["212", "646", "718", "917", "347"];
const FITZPATRICK: [FitzpatrickType; 6] = [
    FitzpatrickType::I,
    FitzpatrickType::Ii,
    FitzpatrickType::Iii,
    FitzpatrickType::Iv,
    FitzpatrickType::V,
    FitzpatrickType::Vi,
];
/// Treatment goals: concerns, the two areas treated, goals.
const INDICATIONS: [(&[SkinConcern], [TreatmentArea; 2], &str); 6] = [
    (
        &[SkinConcern::AcneScars, SkinConcern::Texture],
        [TreatmentArea::Cheeks, TreatmentArea::Scars],
        "Soften rolling and boxcar acne scars",
    ),
    (
        &[SkinConcern::FineLines, SkinConcern::Wrinkles],
        [TreatmentArea::Forehead, TreatmentArea::Periorbital],
        "Reduce fine lines around the eyes and forehead",
    ),
    (
        &[SkinConcern::EnlargedPores, SkinConcern::Texture],
        [TreatmentArea::Cheeks, TreatmentArea::Nose],
        "Refine pores and even out texture",
    ),
    (
        &[SkinConcern::FineLines, SkinConcern::Hyperpigmentation],
        [TreatmentArea::Neck, TreatmentArea::Decollete],
        "Improve crepey skin and sun damage on neck and chest",
    ),
    (
        &[SkinConcern::StretchMarks],
        [TreatmentArea::Body, TreatmentArea::Scars],
        "Fade abdominal stretch marks",
    ),
    (
        &[SkinConcern::AtrophicScars, SkinConcern::Wrinkles],
        [TreatmentArea::ChinJaw, TreatmentArea::Perioral],
        "Smooth perioral lines and jawline scarring",
    ),
];

/// What to seed.
#[derive(Clone, Debug)]
pub struct BenchSeedOptions {
    /// Patients with a clinical history.
    pub patients: usize,
    /// Provider/patient pairs ready for the write-mix scenario.
    pub write_pool: usize,
    /// Password of every staff account (hashed once).
    pub password: String,
    /// Draw a progress bar on standard error.
    pub progress: bool,
}

/// The write-mix scenario's pool, written to a JSON file for the driver:
/// provider `i` treats patient `i` on one of `devices`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritePool {
    /// Licensed providers with no appointment today (token version 0).
    pub providers: Vec<Uuid>,
    /// Patients ready to be treated today.
    pub patients: Vec<Uuid>,
    /// Active pens used by nothing else.
    pub devices: Vec<Uuid>,
}

/// What was written, for the CLI's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BenchSummary {
    /// Staff accounts with their roles and emails (without the write pool).
    pub staff: Vec<(Role, String)>,
    /// Patients, the write pool's included.
    pub patients: usize,
    /// Consultations.
    pub consultations: usize,
    /// Procedures of every status.
    pub procedures: usize,
    /// Device sessions (each with its own cartridge).
    pub device_sessions: usize,
    /// Follow-ups.
    pub follow_ups: usize,
    /// Follow-ups due today (clinic time zone) and still pending.
    pub follow_ups_due_today: usize,
    /// Devices.
    pub devices: usize,
    /// The write-mix pool.
    pub write_pool: WritePool,
}

/// A UUIDv7 carrying `at` as its time, so that ids sort like the history
/// they record (the services rely on "latest id = latest row").
fn id_at(at: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or(0);
    Uuid::new_v7(Timestamp::from_unix(
        NoContext,
        seconds,
        at.timestamp_subsec_nanos(),
    ))
}

/// `day` at `hour:minute` in the clinic's time zone.
fn local(time_zone: Tz, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN));
    time_zone
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
}

/// Hands out one-hour slots to providers, day by day, so that no provider
/// (nor the pen each provider uses) is ever booked twice at once.
struct Calendar {
    time_zone: Tz,
    providers: u32,
    used: HashMap<NaiveDate, u32>,
}

impl Calendar {
    /// The next free slot on `day`, or on the nearest day with one (later
    /// days when `later`, earlier ones otherwise): the provider's index and
    /// the slot's start.
    fn book(&mut self, mut day: NaiveDate, later: bool) -> (usize, DateTime<Utc>) {
        loop {
            let used = self.used.entry(day).or_insert(0);
            if *used < SLOTS_PER_DAY * self.providers {
                let slot = *used;
                *used += 1;
                let provider = usize::try_from(slot % self.providers).unwrap_or(0);
                let start = local(self.time_zone, day, FIRST_HOUR + slot / self.providers, 0);
                return (provider, start);
            }
            day = if later {
                day + Duration::days(1)
            } else {
                day - Duration::days(1)
            };
        }
    }
}

/// Every row of one chunk of patients, in foreign-key order.
#[derive(Default)]
struct Rows {
    patients: Vec<patients::ActiveModel>,
    histories: Vec<medical_histories::ActiveModel>,
    consents: Vec<contact_consents::ActiveModel>,
    informed: Vec<informed_consents::ActiveModel>,
    consultations: Vec<consultations::ActiveModel>,
    screenings: Vec<screenings::ActiveModel>,
    plans: Vec<treatment_plans::ActiveModel>,
    procedures: Vec<procedures::ActiveModel>,
    cartridges: Vec<cartridges::ActiveModel>,
    sessions: Vec<device_sessions::ActiveModel>,
    follow_ups: Vec<follow_ups::ActiveModel>,
}

impl Rows {
    async fn insert(self, txn: &DatabaseTransaction) -> anyhow::Result<()> {
        insert_all(txn, self.patients).await?;
        insert_all(txn, self.histories).await?;
        insert_all(txn, self.consents).await?;
        insert_all(txn, self.informed).await?;
        insert_all(txn, self.consultations).await?;
        insert_all(txn, self.screenings).await?;
        insert_all(txn, self.plans).await?;
        insert_all(txn, self.procedures).await?;
        insert_all(txn, self.cartridges).await?;
        insert_all(txn, self.sessions).await?;
        insert_all(txn, self.follow_ups).await?;
        Ok(())
    }
}

/// Inserts rows with multi-row INSERTs, as many rows per statement as the
/// bind-parameter limit allows.
async fn insert_all<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
{
    let columns = <<A::Entity as EntityTrait>::Column as Iterable>::iter().count();
    let per_statement = (MAX_BIND_PARAMETERS / columns.max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(per_statement).collect();
        A::Entity::insert_many(batch)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The facts every generated history shares.
struct Clinic {
    policy: ClinicPolicy,
    now: DateTime<Utc>,
    today: NaiveDate,
    providers: Vec<Uuid>,
    pens: Vec<devices::Model>,
    desk: Uuid,
}

/// Seeds an empty database with `options.patients` patients and their
/// histories, the staff, the devices and the write-mix pool.
///
/// # Errors
/// When the database already has staff or patients, or a write fails.
pub async fn seed_bench(
    db: &DatabaseConnection,
    options: &BenchSeedOptions,
) -> anyhow::Result<BenchSummary> {
    anyhow::ensure!(
        patients::Entity::find().count(db).await? == 0
            && users::Entity::find().count(db).await? == 0,
        "the database already has staff or patients; seed-bench only fills an empty one"
    );
    let policy = current_policy(db)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let now = Utc::now();
    let today = clinic_day(now, policy.time_zone);
    let password_hash = hash_password(options.password.clone())
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut summary = BenchSummary::default();

    // Enough providers that every appointment finds an hour (a busy clinic
    // books about one patient in a hundred each day).
    let provider_count = (options.patients.div_ceil(1000) + 2).max(3);
    let txn = db.begin().await?;
    let (staff, providers, desk) = staff_rows(&password_hash, provider_count, now);
    for user in &staff {
        summary.staff.push((user.role, user.email.clone()));
    }
    let (pool_users, pool_providers) = write_pool_staff(&password_hash, options.write_pool, now);
    let device_rows = device_rows(provider_count, now);
    let pens: Vec<devices::Model> = device_rows[..provider_count].to_vec();
    let pool_devices: Vec<devices::Model> = if options.write_pool > 0 {
        (0..WRITE_POOL_DEVICES)
            .map(|n| pen(&format!("WP-{:04}", n + 1), now))
            .collect()
    } else {
        Vec::new()
    };
    summary.devices = device_rows.len() + pool_devices.len();
    summary.write_pool.devices = pool_devices.iter().map(|device| device.id).collect();
    summary.write_pool.providers = pool_providers.clone();
    insert_all(
        &txn,
        staff
            .into_iter()
            .chain(pool_users)
            .map(users::ActiveModel::from)
            .collect(),
    )
    .await?;
    insert_all(
        &txn,
        device_rows
            .into_iter()
            .chain(pool_devices)
            .map(devices::ActiveModel::from)
            .collect(),
    )
    .await?;
    txn.commit().await?;

    let clinic = Clinic {
        today,
        now,
        providers,
        pens,
        desk,
        policy,
    };
    let mut calendar = Calendar {
        time_zone: clinic.policy.time_zone,
        providers: u32::try_from(provider_count).unwrap_or(3),
        used: HashMap::new(),
    };
    let progress = if options.progress {
        let bar = ProgressBar::new(u64::try_from(options.patients + options.write_pool)?);
        bar.set_style(
            ProgressStyle::with_template(
                "seeding {bar:40.cyan/blue} {pos}/{len} patients ({per_sec}, {elapsed_precise}, eta {eta})",
            )?
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut rng = StdRng::seed_from_u64(0x00de_2a6a);
    let mut start = 0;
    while start < options.patients {
        let end = (start + CHUNK_PATIENTS).min(options.patients);
        let mut rows = Rows::default();
        for n in start..end {
            patient_history(&clinic, &mut calendar, &mut rng, n, &mut rows);
        }
        count(&mut summary, &rows, &clinic);
        let txn = db.begin().await?;
        rows.insert(&txn).await.context("bulk insert")?;
        txn.commit().await?;
        progress.inc(u64::try_from(end - start)?);
        start = end;
    }
    for (chunk, providers) in pool_providers.chunks(CHUNK_PATIENTS).enumerate() {
        let mut rows = Rows::default();
        for (j, provider) in providers.iter().enumerate() {
            let n = options.patients + chunk * CHUNK_PATIENTS + j;
            let patient = ready_patient(&clinic, &mut rng, n, *provider, &mut rows);
            summary.write_pool.patients.push(patient);
        }
        count(&mut summary, &rows, &clinic);
        let txn = db.begin().await?;
        rows.insert(&txn).await.context("bulk insert")?;
        txn.commit().await?;
        progress.inc(u64::try_from(providers.len())?);
    }
    progress.finish_and_clear();
    // Fresh planner statistics, as after any bulk load: without them
    // PostgreSQL guesses row counts and scans whole tables.
    db.execute_unprepared("ANALYZE").await.context("ANALYZE")?;
    Ok(summary)
}

fn count(summary: &mut BenchSummary, rows: &Rows, clinic: &Clinic) {
    use sea_orm::ActiveValue;
    summary.patients += rows.patients.len();
    summary.consultations += rows.consultations.len();
    summary.procedures += rows.procedures.len();
    summary.device_sessions += rows.sessions.len();
    summary.follow_ups += rows.follow_ups.len();
    let (from, to) = crate::domain::follow_up::day_window(clinic.today, clinic.policy.time_zone);
    summary.follow_ups_due_today += rows
        .follow_ups
        .iter()
        .filter(|row| {
            matches!(
                &row.status,
                ActiveValue::Set(FollowUpStatus::Pending)
                    | ActiveValue::Unchanged(FollowUpStatus::Pending)
            ) && matches!(
                &row.due_at_s,
                ActiveValue::Set(due) | ActiveValue::Unchanged(due)
                    if (from.timestamp()..to.timestamp()).contains(due)
            )
        })
        .count();
}

fn user(
    email: String,
    display_name: String,
    role: Role,
    license: Option<(String, LicenseKind)>,
    password_hash: &str,
    now: DateTime<Utc>,
) -> users::Model {
    let created = now - Duration::days(HISTORY_DAYS + 200);
    users::Model {
        id: id_at(created),
        email,
        display_name,
        role,
        active: true,
        license_issuing_state: license.as_ref().map(|_| "NY".to_owned()),
        license_expires_on: license
            .as_ref()
            .map(|_| (now + Duration::days(3 * 365)).date_naive()),
        license_kind: license.as_ref().map(|(_, kind)| *kind),
        license_number: license.map(|(number, _)| number),
        password_hash: password_hash.to_owned(),
        token_version: 0,
        supervises_amendments: false,
        created_at: created,
        updated_at: created,
        version: 1,
    }
}

/// The admin, the providers and the front desk; returns the rows, the
/// providers' ids and the front desk's id.
fn staff_rows(
    password_hash: &str,
    provider_count: usize,
    now: DateTime<Utc>,
) -> (Vec<users::Model>, Vec<Uuid>, Uuid) {
    let kinds = [
        LicenseKind::Md,
        LicenseKind::Np,
        LicenseKind::Pa,
        LicenseKind::Rn,
        LicenseKind::Do,
    ];
    let mut rows = vec![user(
        "admin@bench.clinic".to_owned(),
        "Avery Admin".to_owned(),
        Role::Admin,
        None,
        password_hash,
        now,
    )];
    let mut providers = Vec::new();
    for n in 0..provider_count {
        let kind = kinds[n % kinds.len()];
        let first = FIRST_NAMES[(n * 7 + 3) % FIRST_NAMES.len()];
        let last = LAST_NAMES[(n * 11 + 5) % LAST_NAMES.len()];
        let title = match kind {
            LicenseKind::Md | LicenseKind::Do => format!("Dr. {first} {last}"),
            _ => format!("{first} {last}, {}", license_code(kind)),
        };
        let row = user(
            format!("provider{}@bench.clinic", n + 1),
            title,
            Role::Provider,
            Some((format!("{}-{}", license_code(kind), 50_000 + n), kind)),
            password_hash,
            now,
        );
        providers.push(row.id);
        rows.push(row);
    }
    let desk = user(
        "desk@bench.clinic".to_owned(),
        "Frankie Front Desk".to_owned(),
        Role::FrontDesk,
        None,
        password_hash,
        now,
    );
    let desk_id = desk.id;
    rows.push(desk);
    (rows, providers, desk_id)
}

/// The write pool's providers: licensed, with no appointment but one
/// consultation two days ago.
fn write_pool_staff(
    password_hash: &str,
    count: usize,
    now: DateTime<Utc>,
) -> (Vec<users::Model>, Vec<Uuid>) {
    let rows: Vec<users::Model> = (0..count)
        .map(|j| {
            user(
                format!("writer{:05}@bench.clinic", j + 1),
                format!("Bench Writer {:05}, RN", j + 1),
                Role::Provider,
                Some((format!("RN-{}", 70_000 + j), LicenseKind::Rn)),
                password_hash,
                now,
            )
        })
        .collect();
    let ids = rows.iter().map(|row| row.id).collect();
    (rows, ids)
}

fn license_code(kind: LicenseKind) -> &'static str {
    match kind {
        LicenseKind::Md => "MD",
        LicenseKind::Do => "DO",
        LicenseKind::Np => "NP",
        LicenseKind::Pa => "PA",
        LicenseKind::Rn => "RN",
        LicenseKind::LicensedEsthetician => "LE",
    }
}

fn pen(serial: &str, now: DateTime<Utc>) -> devices::Model {
    let created = now - Duration::days(HISTORY_DAYS + 150);
    devices::Model {
        id: id_at(created),
        kind: DeviceKind::Pen,
        manufacturer: "Dermapen".to_owned(),
        model: "4".to_owned(),
        serial: serial.to_owned(),
        max_depth_um: 3000,
        needle_count_min: Some(12),
        needle_count_max: Some(36),
        regulatory_id: Some("K190734".to_owned()),
        status: DeviceStatus::Active,
        last_serviced_on: Some((now - Duration::days(60)).date_naive()),
        notes: String::new(),
        created_at: created,
        updated_at: created,
        version: 1,
    }
}

/// One pen per provider (the first `providers` rows), two eye rollers, a
/// pen in maintenance and a retired one.
fn device_rows(providers: usize, now: DateTime<Utc>) -> Vec<devices::Model> {
    let mut rows: Vec<devices::Model> = (0..providers)
        .map(|n| pen(&format!("DP4-{:05}", 10_001 + n), now))
        .collect();
    for n in 0..2 {
        rows.push(devices::Model {
            kind: DeviceKind::Roller,
            manufacturer: "Dr. Roller".to_owned(),
            model: "Eye 0.25".to_owned(),
            max_depth_um: 500,
            needle_count_min: None,
            needle_count_max: None,
            regulatory_id: None,
            ..pen(&format!("RL-EYE-{:02}", n + 1), now)
        });
    }
    let mut maintenance = pen("DP4-09001", now);
    maintenance.status = DeviceStatus::Maintenance;
    maintenance.notes = "Motor noise; sent for service.".to_owned();
    maintenance.version = 2;
    let mut retired = pen("DP4-08001", now);
    retired.status = DeviceStatus::Retired;
    retired.notes = "End of life.".to_owned();
    retired.version = 2;
    rows.push(maintenance);
    rows.push(retired);
    rows
}

/// A base-30 chart number unique to patient `n` (`DG-` and six symbols).
fn chart_number(n: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut value = n + 7_000_000;
    let mut code = [b'2'; 6];
    for slot in code.iter_mut().rev() {
        *slot = ALPHABET[value % ALPHABET.len()];
        value /= ALPHABET.len();
    }
    format!("DG-{}", String::from_utf8_lossy(&code))
}

/// The patient, their medical history and contact consents; returns the
/// patient.
fn patient_rows(
    clinic: &Clinic,
    rng: &mut StdRng,
    n: usize,
    created: DateTime<Utc>,
    rows: &mut Rows,
) -> patients::Model {
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let (city, region, zip) = CITIES[rng.random_range(0..CITIES.len())];
    let age_days = rng.random_range(19 * 365..70 * 365);
    let fitzpatrick = FITZPATRICK[rng.random_range(0..FITZPATRICK.len())];
    let indication = &INDICATIONS[n % INDICATIONS.len()];
    let preferred = match rng.random_range(0..10) {
        0..=4 => ContactChannel::Text,
        5..=7 => ContactChannel::Email,
        _ => ContactChannel::Phone,
    };
    let email = format!(
        "{}.{}.{n}@example.com",
        fold_for_search(first).replace(' ', ""),
        fold_for_search(last).replace([' ', '\''], "")
    );
    let mut patient = patients::Model {
        id: id_at(created),
        chart_number: chart_number(n),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        preferred_name: (n.is_multiple_of(13)).then(|| first.chars().take(3).collect()),
        date_of_birth: Some(clinic.today - Duration::days(age_days)),
        sex_at_birth: Some(if n.is_multiple_of(5) { "M" } else { "F" }.to_owned()),
        pronouns: (n.is_multiple_of(4)).then(|| {
            if n.is_multiple_of(5) {
                "he/him"
            } else {
                "she/her"
            }
            .to_owned()
        }),
        email: Some(email),
        phone: Some(format!(
            "+1{}{:07}",
            AREA_CODES[n % AREA_CODES.len()],
            5_550_000 + n % 10_000
        )),
        address_line1: Some(format!("{} {} St", 10 + n % 890, 1 + n % 120)),
        address_line2: (n.is_multiple_of(3)).then(|| format!("Apt {}", 1 + n % 40)),
        city: Some(city.to_owned()),
        region: Some(region.to_owned()),
        postal_code: Some(format!("{zip}{:02}", n % 100)),
        country: Some("US".to_owned()),
        fitzpatrick_type: Some(fitzpatrick),
        skin_concerns: join_codes(&indication.0.iter().copied().collect::<BTreeSet<_>>()),
        preferred_channel: Some(preferred),
        sort_name: sort_name(first, last),
        search_text: String::new(),
        archived_at: None,
        created_at: created,
        updated_at: created,
        version: 1,
    };
    patient.search_text = search_text(&patient);
    let mut conditions = BTreeSet::new();
    if n.is_multiple_of(17) {
        conditions.insert(MedicalCondition::HerpesHistory);
    }
    rows.histories.push(
        medical_histories::Model {
            patient_id: patient.id,
            allergies: if n.is_multiple_of(7) {
                "penicillin"
            } else {
                ""
            }
            .to_owned(),
            medications: if n.is_multiple_of(6) {
                "oral contraceptive"
            } else {
                ""
            }
            .to_owned(),
            isotretinoin_last_dose: None,
            takes_anticoagulants: false,
            conditions: join_codes(&conditions),
            notes: String::new(),
            updated_at: created,
            version: 1,
        }
        .into(),
    );
    let channels = [preferred, ContactChannel::Email];
    for (k, channel) in channels
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
    {
        let at = created + Duration::seconds(i64::try_from(k).unwrap_or(0));
        rows.consents.push(
            contact_consents::Model {
                id: id_at(at),
                patient_id: patient.id,
                channel,
                granted: true,
                recorded_at: at,
                source: "WEB_FORM".to_owned(),
                consent_text_version: Some("web-2026-01".to_owned()),
                recorded_by: None,
            }
            .into(),
        );
    }
    rows.patients.push(patient.clone().into());
    patient
}

/// A screening recorded at `at` by `provider`.
fn screening(
    clinic: &Clinic,
    patient: &patients::Model,
    consultation: Option<Uuid>,
    provider: Uuid,
    at: DateTime<Utc>,
    rows: &mut Rows,
) -> Uuid {
    let answers = ScreeningAnswers::nothing_to_report(
        patient.fitzpatrick_type.unwrap_or(FitzpatrickType::Ii),
    );
    let findings = evaluate(
        &answers,
        clinic_day(at, clinic.policy.time_zone),
        clinic.policy.isotretinoin_washout_days,
    );
    let id = id_at(at);
    rows.screenings.push(
        screenings::Model {
            id,
            patient_id: patient.id,
            consultation_id: consultation,
            recorded_by: provider,
            recorded_at: at,
            answers: serde_json::to_string(&answers).unwrap_or_default(),
            absolute_findings: join_codes(&findings.absolute),
            relative_findings: join_codes(&findings.relative),
            advisories: join_codes(&findings.advisories),
            override_reason: None,
        }
        .into(),
    );
    id
}

/// A completed consultation at `start` with its screening; returns the
/// consultation's and the screening's ids.
fn completed_consultation(
    clinic: &Clinic,
    patient: &patients::Model,
    provider: Uuid,
    start: DateTime<Utc>,
    areas: &BTreeSet<TreatmentArea>,
    rows: &mut Rows,
) -> (Uuid, Uuid) {
    let booked = start - Duration::days(10);
    let done = start + Duration::minutes(30);
    let id = id_at(booked);
    rows.consultations.push(
        consultations::Model {
            id,
            patient_id: patient.id,
            provider_id: provider,
            starts_at_s: start.timestamp(),
            ends_at_s: done.timestamp(),
            status: ConsultationStatus::Completed,
            cancel_reason: None,
            concerns: patient.skin_concerns.clone(),
            treatment_areas: join_codes(areas),
            assessment_notes: "Assessed under magnification; good candidate for CIT.".to_owned(),
            photos: "[]".to_owned(),
            completed_at: Some(done),
            created_at: booked,
            updated_at: done,
            version: 2,
        }
        .into(),
    );
    let screening = screening(clinic, patient, Some(id), provider, done, rows);
    (id, screening)
}

/// A booked consultation, or a cancelled one.
fn other_consultation(
    patient: &patients::Model,
    provider: Uuid,
    start: DateTime<Utc>,
    booked: DateTime<Utc>,
    cancelled: bool,
    rows: &mut Rows,
) {
    rows.consultations.push(
        consultations::Model {
            id: id_at(booked),
            patient_id: patient.id,
            provider_id: provider,
            starts_at_s: start.timestamp(),
            ends_at_s: (start + Duration::minutes(30)).timestamp(),
            status: if cancelled {
                ConsultationStatus::Cancelled
            } else {
                ConsultationStatus::Scheduled
            },
            cancel_reason: cancelled.then(|| "Patient rescheduled by phone".to_owned()),
            concerns: String::new(),
            treatment_areas: String::new(),
            assessment_notes: String::new(),
            photos: "[]".to_owned(),
            completed_at: None,
            created_at: booked,
            updated_at: if cancelled {
                booked + Duration::hours(2)
            } else {
                booked
            },
            version: if cancelled { 2 } else { 1 },
        }
        .into(),
    );
}

/// A performed procedure: started at `start`, two device sessions (each
/// with its own cartridge), completed, signed unless `signed` is false,
/// and the follow-ups that completing it created.
#[allow(clippy::too_many_arguments)]
fn performed_procedure(
    clinic: &Clinic,
    rng: &mut StdRng,
    patient: &patients::Model,
    provider_index: usize,
    start: DateTime<Utc>,
    plan: Uuid,
    screening: Uuid,
    areas: [TreatmentArea; 2],
    sessions_left: u32,
    signed: bool,
    rows: &mut Rows,
) {
    let provider = clinic.providers[provider_index];
    let device = &clinic.pens[provider_index];
    let booked = start - Duration::days(rng.random_range(7..30));
    let completed = start + Duration::minutes(50);
    let signed_at = start + Duration::minutes(55);
    let record = ChartedRecord {
        clinical_notes: "Tolerated well; even erythema across the treated areas.".to_owned(),
        immediate_response: Some("Even erythema, minimal pinpoint bleeding.".to_owned()),
        lipopeptide_booster: Some(true),
        moisturizer: Some(true),
        sunscreen_spf: Some(if rng.random_bool(0.5) { 30 } else { 50 }),
    };
    let id = id_at(booked);
    rows.procedures.push(
        procedures::Model {
            id,
            patient_id: patient.id,
            provider_id: provider,
            treatment_plan_id: Some(plan),
            starts_at_s: start.timestamp(),
            ends_at_s: (start + Duration::minutes(60)).timestamp(),
            scheduled_starts_at_s: Some(start.timestamp()),
            status: if signed {
                ProcedureStatus::Signed
            } else {
                ProcedureStatus::Completed
            },
            areas: join_codes(&areas.into_iter().collect::<BTreeSet<_>>()),
            cancel_reason: None,
            idempotency_actor: None,
            idempotency_key: None,
            numbing_product: Some("BLT 20/6/4".to_owned()),
            numbing_applied_at: Some(start - Duration::minutes(40)),
            screening_id: Some(screening),
            screening_override_reason: None,
            started_at: Some(start),
            lipopeptide_booster: record.lipopeptide_booster,
            moisturizer: record.moisturizer,
            sunscreen_spf: record.sunscreen_spf,
            immediate_response: record.immediate_response.clone(),
            clinical_notes: record.clinical_notes.clone(),
            completed_at: Some(completed),
            signed_at: signed.then_some(signed_at),
            signed_by: signed.then_some(provider),
            signed_record: signed.then(|| serde_json::to_string(&record).unwrap_or_default()),
            adverse_flagged_at: None,
            created_by: clinic.desk,
            created_at: booked,
            updated_at: if signed { signed_at } else { completed },
            version: if signed { 4 } else { 3 },
        }
        .into(),
    );
    let day = clinic_day(start, clinic.policy.time_zone);
    for (k, area) in areas.into_iter().enumerate() {
        let begins = start + Duration::minutes(5 + 20 * i64::try_from(k).unwrap_or(0));
        let ends = begins + Duration::minutes(15);
        let serial_seq = rows.sessions.len();
        let cartridge = id_at(begins);
        let needles = [12, 16, 24, 36][rng.random_range(0..4)];
        rows.cartridges.push(
            cartridges::Model {
                id: cartridge,
                serial: format!("UDI-{}-{k}", &id.simple().to_string()[20..]),
                lot_number: format!("LOT-{}{}", day.format("%y%m"), ["A", "B"][serial_seq % 2]),
                needle_count: needles,
                needle_geometry: Some(format!("round, {needles}-pin")),
                max_depth_um: 2500,
                expires_on: day + Duration::days(400),
                opened_at: Some(begins),
                procedure_id: Some(id),
                registered_by: provider,
                created_at: begins,
            }
            .into(),
        );
        let range = clinic.policy.depth_range(area);
        let depth_um = range.map_or(1000, |range| {
            let mid = (range.min.micrometres() + range.max.micrometres()) / 2;
            i32::try_from(mid / 50 * 50).unwrap_or(1000)
        });
        rows.sessions.push(
            device_sessions::Model {
                id: id_at(ends),
                procedure_id: id,
                device_id: device.id,
                cartridge_id: cartridge,
                area,
                depth_um,
                passes: rng.random_range(2..5),
                pattern: [
                    NeedlingPattern::Crosshatch,
                    NeedlingPattern::Horizontal,
                    NeedlingPattern::Vertical,
                    NeedlingPattern::Circular,
                ][rng.random_range(0..4)],
                speed_setting: Some("8".to_owned()),
                glide_medium: Some("hyaluronic acid serum".to_owned()),
                clinical_endpoint: if matches!(area, TreatmentArea::Scars | TreatmentArea::Body) {
                    ClinicalEndpoint::PinpointBleeding
                } else {
                    ClinicalEndpoint::Erythema
                },
                started_at_s: begins.timestamp(),
                ended_at_s: ends.timestamp(),
                depth_override_reason: None,
                recorded_by: provider,
                created_at: ends,
            }
            .into(),
        );
    }
    follow_ups_of(
        clinic,
        rng,
        patient,
        id,
        day,
        &areas,
        sessions_left,
        completed,
        rows,
    );
}

/// R-FOLLOWUP: the follow-ups completing a procedure created, each as it
/// stands today: the ones due before today mostly worked (completed, a few
/// missed, cancelled or still pending), the rest pending.
#[allow(clippy::too_many_arguments)]
fn follow_ups_of(
    clinic: &Clinic,
    rng: &mut StdRng,
    patient: &patients::Model,
    procedure: Uuid,
    day: NaiveDate,
    areas: &[TreatmentArea; 2],
    sessions_left: u32,
    created: DateTime<Utc>,
    rows: &mut Rows,
) {
    let consented: BTreeSet<ContactChannel> = [
        patient.preferred_channel.unwrap_or(ContactChannel::Email),
        ContactChannel::Email,
    ]
    .into();
    let channel = follow_up_channel(patient.preferred_channel, &consented);
    let session = CompletedSession {
        day,
        areas: areas.iter().copied().collect(),
        sessions_left: Some(sessions_left),
    };
    let max_attempts = i32::try_from(clinic.policy.follow_up_max_attempts).unwrap_or(3);
    for (k, (kind, due_day)) in follow_up_schedule(
        &session,
        clinic.policy.min_interval_days,
        clinic.policy.recommended_interval_days,
    )
    .into_iter()
    .enumerate()
    {
        let due = due_instant(due_day, clinic.policy.time_zone);
        let mut row = pending_follow_up(
            id_at(created + Duration::milliseconds(i64::try_from(k).unwrap_or(0))),
            procedure,
            patient.id,
            kind,
            due,
            channel,
            created,
        );
        if due_day < clinic.today {
            let recent = clinic.today - due_day <= Duration::days(14);
            let roll = rng.random_range(0..100);
            if recent && roll < 10 {
                // Overdue: still on the worklist, maybe tried already.
                let attempts = rng.random_range(0..max_attempts);
                if attempts > 0 {
                    row.attempts = attempts;
                    row.last_attempt_at = Some(due + Duration::hours(1));
                    row.updated_at = due + Duration::hours(1);
                    row.version = 1 + attempts;
                }
            } else if roll < 90 {
                let done = due + Duration::hours(2);
                let check = matches!(
                    kind,
                    FollowUpKind::Day1Check
                        | FollowUpKind::HealingCheck
                        | FollowUpKind::BruisingCheck
                        | FollowUpKind::Week1Review
                );
                let symptoms: BTreeSet<Symptom> = match kind {
                    FollowUpKind::Day1Check => [Symptom::Redness].into(),
                    FollowUpKind::HealingCheck => [Symptom::Dryness, Symptom::Flaking].into(),
                    FollowUpKind::BruisingCheck => [Symptom::Bruising].into(),
                    _ => BTreeSet::new(),
                };
                row.status = FollowUpStatus::Completed;
                row.channel_used = Some(channel);
                row.symptoms = join_codes(&symptoms);
                row.nsaid_taken = check.then_some(false);
                row.notes = if check {
                    "Healing as expected; aftercare reviewed."
                } else {
                    "Next visit booked."
                }
                .to_owned();
                row.completed_at = Some(done);
                row.completed_by = Some(clinic.desk);
                row.updated_at = done;
                row.version = 2;
            } else if roll < 97 {
                let last = due + Duration::days(2);
                row.status = FollowUpStatus::Missed;
                row.attempts = max_attempts;
                row.last_attempt_at = Some(last);
                row.updated_at = last;
                row.version = 1 + max_attempts;
            } else {
                row.status = FollowUpStatus::Cancelled;
                row.cancel_reason = Some("Patient asked not to be called".to_owned());
                row.updated_at = due - Duration::hours(20);
                row.version = 2;
            }
        }
        rows.follow_ups.push(row.into());
    }
}

/// One patient's history. The last session lies 1 to 365 days back (the
/// first few patients' on the days whose follow-ups fall due today); 40%
/// had one session of a 3-session plan, 35% two and 25% all three; most
/// with sessions left have the next one booked.
fn patient_history(
    clinic: &Clinic,
    calendar: &mut Calendar,
    rng: &mut StdRng,
    n: usize,
    rows: &mut Rows,
) {
    const DUE_TODAY_GAPS: [i64; 8] = [1, 3, 4, 7, 1, 3, 7, 56];
    let interval = i64::from(
        clinic
            .policy
            .recommended_interval_days
            .max(clinic.policy.min_interval_days),
    );
    let planned = clinic.policy.planned_sessions.max(1);
    let gap = DUE_TODAY_GAPS
        .get(n)
        .copied()
        .unwrap_or_else(|| rng.random_range(1..=HISTORY_DAYS));
    let done: u32 = match rng.random_range(0..100) {
        0..40 => 1,
        40..75 => 2,
        _ => 3,
    }
    .min(planned);
    let last_day = clinic.today - Duration::days(gap);
    let first_day = last_day - Duration::days(interval * i64::from(done - 1));
    let consult_day = first_day - Duration::days(rng.random_range(7..22));
    let (consult_provider, consult_start) = calendar.book(consult_day, false);
    let created = consult_start - Duration::days(rng.random_range(5..30));
    let patient = patient_rows(clinic, rng, n, created, rows);
    let indication = &INDICATIONS[n % INDICATIONS.len()];
    let areas: BTreeSet<TreatmentArea> = indication.1.into_iter().collect();
    let provider = clinic.providers[consult_provider];
    let (consultation, first_screening) =
        completed_consultation(clinic, &patient, provider, consult_start, &areas, rows);
    let consent_at = consult_start + Duration::minutes(20);
    rows.informed.push(
        informed_consents::Model {
            id: id_at(consent_at),
            patient_id: patient.id,
            template_version: "cit-consent-v3".to_owned(),
            signer_name: format!("{} {}", patient.first_name, patient.last_name),
            signed_at: consent_at,
            witness_id: Some(provider),
            recorded_by: provider,
            created_at: consent_at,
        }
        .into(),
    );
    let plan_created = consult_start + Duration::minutes(30);
    let plan_id = id_at(plan_created);
    let mut plan_updated = plan_created;

    let mut last_start = consult_start;
    for session in 0..done {
        let wanted = first_day + Duration::days(interval * i64::from(session));
        let (provider_index, start) = calendar.book(wanted, false);
        let valid = Duration::days(i64::from(clinic.policy.screening_valid_days));
        let screening = if session == 0 && start - consult_start < valid {
            first_screening
        } else {
            // A fresh screening before each later session (R-SCREENING).
            screening(
                clinic,
                &patient,
                None,
                clinic.providers[provider_index],
                start - Duration::minutes(45),
                rows,
            )
        };
        let signed = !(session + 1 == done && gap <= 1 && rng.random_bool(0.5));
        performed_procedure(
            clinic,
            rng,
            &patient,
            provider_index,
            start,
            plan_id,
            screening,
            indication.1,
            planned - (session + 1),
            signed,
            rows,
        );
        plan_updated = start + Duration::minutes(50);
        last_start = start;
    }
    let plan_completed = done >= planned;
    rows.plans.push(
        treatment_plans::Model {
            id: plan_id,
            patient_id: patient.id,
            consultation_id: Some(consultation),
            planned_sessions: i32::try_from(planned).unwrap_or(3),
            interval_days: i32::try_from(interval).unwrap_or(56),
            areas: join_codes(&areas),
            goals: indication.2.to_owned(),
            status: if plan_completed {
                PlanStatus::Completed
            } else {
                PlanStatus::Active
            },
            created_by: provider,
            created_at: plan_created,
            updated_at: if plan_completed {
                plan_updated
            } else {
                plan_created
            },
            version: if plan_completed { 2 } else { 1 },
        }
        .into(),
    );
    if !plan_completed && rng.random_bool(0.6) {
        // The next session, booked (R-INTERVAL holds: 56+ days later).
        let last_day = clinic_day(last_start, clinic.policy.time_zone);
        let earliest = (last_day + Duration::days(interval))
            .max(clinic.today + Duration::days(rng.random_range(1..=60)));
        let (provider_index, start) = calendar.book(earliest, true);
        let booked = (last_start + Duration::days(1)).min(clinic.now - Duration::hours(1));
        rows.procedures.push(
            procedures::Model {
                id: id_at(booked),
                patient_id: patient.id,
                provider_id: clinic.providers[provider_index],
                treatment_plan_id: Some(plan_id),
                starts_at_s: start.timestamp(),
                ends_at_s: (start + Duration::minutes(60)).timestamp(),
                scheduled_starts_at_s: Some(start.timestamp()),
                status: ProcedureStatus::Scheduled,
                areas: join_codes(&areas),
                cancel_reason: None,
                idempotency_actor: None,
                idempotency_key: None,
                numbing_product: None,
                numbing_applied_at: None,
                screening_id: None,
                screening_override_reason: None,
                started_at: None,
                lipopeptide_booster: None,
                moisturizer: None,
                sunscreen_spf: None,
                immediate_response: None,
                clinical_notes: String::new(),
                completed_at: None,
                signed_at: None,
                signed_by: None,
                signed_record: None,
                adverse_flagged_at: None,
                created_by: clinic.desk,
                created_at: booked,
                updated_at: booked,
                version: 1,
            }
            .into(),
        );
    }
    // A second consultation: a review booked ahead (60%), a review held
    // after the first session (30%) or a cancelled one (10%).
    match rng.random_range(0..10) {
        0..6 => {
            let (provider_index, start) = calendar.book(
                clinic.today + Duration::days(rng.random_range(1..=90)),
                true,
            );
            let booked = clinic.now - Duration::days(rng.random_range(1..20));
            other_consultation(
                &patient,
                clinic.providers[provider_index],
                start,
                booked.max(created),
                false,
                rows,
            );
        }
        6..9 => {
            let wanted = (first_day + Duration::days(14)).min(clinic.today - Duration::days(1));
            let (provider_index, start) = calendar.book(wanted, false);
            completed_consultation(
                clinic,
                &patient,
                clinic.providers[provider_index],
                start,
                &areas,
                rows,
            );
        }
        _ => {
            let (provider_index, start) = calendar.book(
                clinic.today + Duration::days(rng.random_range(1..=30)),
                true,
            );
            other_consultation(
                &patient,
                clinic.providers[provider_index],
                start,
                clinic.now - Duration::days(3),
                true,
                rows,
            );
        }
    }
}

/// A write-pool patient: a consultation two days ago with the pool's
/// provider (screening, plan, signed consent) and no procedure, so a
/// session can be booked, started and completed today. Returns the id.
fn ready_patient(
    clinic: &Clinic,
    rng: &mut StdRng,
    n: usize,
    provider: Uuid,
    rows: &mut Rows,
) -> Uuid {
    let consult_start = local(
        clinic.policy.time_zone,
        clinic.today - Duration::days(2),
        10,
        0,
    );
    let patient = patient_rows(clinic, rng, n, consult_start - Duration::days(9), rows);
    let indication = &INDICATIONS[n % INDICATIONS.len()];
    let areas: BTreeSet<TreatmentArea> = indication.1.into_iter().collect();
    let (consultation, _) =
        completed_consultation(clinic, &patient, provider, consult_start, &areas, rows);
    let consent_at = consult_start + Duration::minutes(20);
    rows.informed.push(
        informed_consents::Model {
            id: id_at(consent_at),
            patient_id: patient.id,
            template_version: "cit-consent-v3".to_owned(),
            signer_name: format!("{} {}", patient.first_name, patient.last_name),
            signed_at: consent_at,
            witness_id: Some(provider),
            recorded_by: provider,
            created_at: consent_at,
        }
        .into(),
    );
    let plan_created = consult_start + Duration::minutes(30);
    rows.plans.push(
        treatment_plans::Model {
            id: id_at(plan_created),
            patient_id: patient.id,
            consultation_id: Some(consultation),
            planned_sessions: i32::try_from(clinic.policy.planned_sessions).unwrap_or(3),
            interval_days: i32::try_from(clinic.policy.recommended_interval_days).unwrap_or(56),
            areas: join_codes(&areas),
            goals: indication.2.to_owned(),
            status: PlanStatus::Active,
            created_by: provider,
            created_at: plan_created,
            updated_at: plan_created,
            version: 1,
        }
        .into(),
    );
    patient.id
}

/// The write-mix scenario's requests (bench/scenarios/5-write-mix.graphql):
/// shared by its load driver (`bench-writes`) and the test that proves a
/// seeded pool pair passes every rule.
pub mod write_mix {
    use chrono::{DateTime, Duration, SecondsFormat, Utc};
    use serde_json::{Value, json};
    use uuid::Uuid;

    /// The GraphQL document: operations `Schedule`, `Start`, `AddSession`
    /// and `Complete`.
    pub const DOCUMENT: &str = include_str!("../bench/scenarios/5-write-mix.graphql");
    /// The areas booked and needled (one device session each).
    pub const AREAS: [(&str, f64); 2] = [("CHEEKS", 1.0), ("SCARS", 1.25)];

    fn at(instant: DateTime<Utc>) -> String {
        instant.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// A request body: the document, one operation and its input.
    pub fn body(operation: &str, input: Value) -> Value {
        json!({ "query": DOCUMENT, "operationName": operation, "variables": { "input": input } })
    }

    /// Books tomorrow's session of `patient` with `provider`.
    pub fn schedule(provider: Uuid, patient: Uuid, now: DateTime<Utc>) -> Value {
        body(
            "Schedule",
            json!({
                "patientId": patient,
                "providerId": provider,
                "startsAt": at(now + Duration::days(1)),
                "durationMinutes": 30,
                "areas": AREAS.map(|(area, _)| area),
            }),
        )
    }

    /// Starts it with the R-PREP checklist (numbing applied at `numbing_at`).
    pub fn start(procedure: &str, version: i64, numbing_at: DateTime<Utc>) -> Value {
        body(
            "Start",
            json!({
                "id": procedure,
                "expectedVersion": version,
                "prep": {
                    "areaFreeOfTopicals": true,
                    "consentConfirmed": true,
                    "numbingProduct": "BLT 20/6/4",
                    "numbingAppliedAt": at(numbing_at),
                },
            }),
        )
    }

    /// Charts device session `k` (0 or 1) on `device` from `started` to
    /// `ended`, with a new cartridge whose serial is `serial`.
    pub fn add_session(
        procedure: &str,
        k: usize,
        device: Uuid,
        serial: &str,
        (started, ended): (DateTime<Utc>, DateTime<Utc>),
    ) -> Value {
        let (area, depth) = AREAS[k % AREAS.len()];
        body(
            "AddSession",
            json!({
                "procedureId": procedure,
                "deviceId": device,
                "cartridge": {
                    "serial": serial,
                    "lotNumber": "LOT-WM-01",
                    "needleCount": 16,
                    "maxDepthMm": 2.5,
                    "expiresOn": (Utc::now() + Duration::days(400)).date_naive().to_string(),
                },
                "area": area,
                "depthMm": depth,
                "passes": 3,
                "pattern": "CROSSHATCH",
                "clinicalEndpoint": "ERYTHEMA",
                "startedAt": at(started),
                "endedAt": at(ended),
            }),
        )
    }

    /// Completes it with R-POSTCARE.
    pub fn complete(procedure: &str, version: i64) -> Value {
        body(
            "Complete",
            json!({
                "id": procedure,
                "expectedVersion": version,
                "postCare": { "lipopeptideBooster": true, "moisturizer": true, "sunscreenSpf": 50 },
                "immediateResponse": "Even erythema.",
                "clinicalNotes": "Write-mix benchmark session.",
            }),
        )
    }

    /// When device session `k` of pool pair `index` runs: every session
    /// has its own slot of `slot_seconds` on one of `devices` devices,
    /// after `numbing_at`, so no device is ever charted twice at once.
    pub fn session_window(
        index: usize,
        k: usize,
        devices: usize,
        numbing_at: DateTime<Utc>,
        slot_seconds: i64,
    ) -> (usize, (DateTime<Utc>, DateTime<Utc>)) {
        let slot = 2 * index + k;
        let devices = devices.max(1);
        let round = i64::try_from(slot / devices).unwrap_or(i64::MAX / 2);
        let started = numbing_at + Duration::seconds(60 + round * slot_seconds);
        (
            slot % devices,
            (
                started,
                started + Duration::seconds((slot_seconds - 1).max(1)),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_numbers_are_unique_and_fit_the_column() {
        let numbers: BTreeSet<String> = (0..50_000).map(chart_number).collect();
        assert_eq!(numbers.len(), 50_000);
        assert!(numbers.iter().all(|number| number.len() <= 16));
    }

    #[test]
    fn ids_follow_the_time_they_record() {
        let earlier = Utc::now() - Duration::days(300);
        let later = earlier + Duration::milliseconds(1);
        assert!(id_at(earlier) < id_at(later));
    }

    #[test]
    fn the_calendar_never_books_a_provider_twice() {
        let mut calendar = Calendar {
            time_zone: chrono_tz::America::New_York,
            providers: 2,
            used: HashMap::new(),
        };
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default();
        let mut seen = BTreeSet::new();
        for _ in 0..(2 * SLOTS_PER_DAY + 3) {
            let booking = calendar.book(day, true);
            assert!(seen.insert(booking), "booked twice: {booking:?}");
        }
        assert_eq!(calendar.used.get(&(day + Duration::days(1))), Some(&3));
    }
}
