//! `seed-demo`: a realistic demo clinic for trying the API in GraphiQL.
//! Everything goes through the services, so every rule and audit applies.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use indicatif::ProgressBar;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, prelude::Uuid,
};

use crate::{
    auth::actor::{Actor, RequestContext, StaffMember},
    domain::{
        audit::{AuditAction, EntityType},
        consultation::ConsultationStatus,
        device::{DeviceKind, DeviceStatus},
        patient::{ContactChannel, FitzpatrickType, MedicalCondition, SkinConcern},
        procedure::{ClinicalEndpoint, NeedlingPattern, ProcedureStatus},
        screening::ScreeningAnswers,
        staff::{License, LicenseKind, Role},
        treatment_area::TreatmentArea,
    },
    entities::{
        cartridges, consultations, device_sessions, devices, patients, procedures, treatment_plans,
        users,
    },
    services::{
        audit::{AuditEvent, AuditedWrite},
        consultations::{self as consultation_service, Assessment, PlanProposal},
        devices::{self as device_service, DeviceChanges, DeviceDetails},
        intake::{self, Submission},
        patients::{
            ClinicalDetails, ConsentGrant, Demographics, MedicalHistoryInput, create_patient,
        },
        procedures::{self as procedure_service, ChartedRecord, ProcedureBooking},
        users::{NewUser, create_user},
    },
};

/// The most patients `seed-demo` seeds: every one goes through the
/// services, so larger clinics are `seed-bench`'s job.
pub const MAX_DEMO_PATIENTS: usize = 10_000;

/// The demo's staff accounts, in the order they are created.
const DEMO_STAFF_EMAILS: [&str; 4] = [
    "admin@demo.clinic",
    "dr.rivera@demo.clinic",
    "nurse.kim@demo.clinic",
    "desk@demo.clinic",
];
/// The serial numbers of the demo's devices.
const DEMO_DEVICE_SERIALS: [&str; 4] = ["DP4-10021", "SP-55310", "RL-EYE-07", "DP4-10022"];

/// First names the seeded patients draw from, in several scripts.
pub(crate) const FIRST_NAMES: [&str; 40] = [
    "Maya", "Zoë", "Liam", "Aisha", "Mateo", "Chloé", "Noah", "Sofía", "Ethan", "Priya", "Lucas",
    "Amara", "Jonas", "Mei", "Omar", "Isabela", "Felix", "Hana", "Diego", "Léa", "Grace", "Kofi",
    "Elena", "Yusuf", "Ingrid", "Ravi", "Camille", "Tomás", "Nadia", "Hiroshi", "Olivia", "Emre",
    "Freya", "Andrés", "Leila", "Marcus", "Anya", "Kwame", "Julia", "Santiago",
];
/// Last names the seeded patients draw from.
pub(crate) const LAST_NAMES: [&str; 40] = [
    "Okafor",
    "Núñez",
    "Chen",
    "Haddad",
    "Rossi",
    "Dubois",
    "Kim",
    "García",
    "Patel",
    "Müller",
    "Silva",
    "Nguyen",
    "Kowalski",
    "Tanaka",
    "Ibrahim",
    "Costa",
    "Jensen",
    "Sato",
    "Fernández",
    "Moreau",
    "O'Brien",
    "Novak",
    "Andersson",
    "Mensah",
    "Cohen",
    "Yilmaz",
    "Petrov",
    "Lindqvist",
    "Herrera",
    "Park",
    "Schmidt",
    "Ali",
    "Murphy",
    "Rahman",
    "Bianchi",
    "Walker",
    "Santos",
    "Horvat",
    "Adeyemi",
    "Larsen",
];
const FITZPATRICK: [FitzpatrickType; 6] = [
    FitzpatrickType::I,
    FitzpatrickType::Ii,
    FitzpatrickType::Iii,
    FitzpatrickType::Iv,
    FitzpatrickType::V,
    FitzpatrickType::Vi,
];

/// What the demo contains, for the CLI's summary.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Staff accounts created, with their emails.
    pub staff: Vec<(Role, String)>,
    /// Patients created.
    pub patients: usize,
    /// Consultations created.
    pub consultations: usize,
    /// Consultation requests submitted.
    pub requests: usize,
    /// Devices registered.
    pub devices: usize,
    /// Procedures: signed ones in the past and booked ones ahead.
    pub procedures: usize,
}

/// When the demo clinic books (UTC: 09:00 to 17:00 in New York in winter),
/// Monday to Saturday.
const OPENS_AT_UTC: u32 = 14;
const CLOSES_AT_UTC: u32 = 22;

/// One provider's demo calendar: back-to-back slots within opening hours,
/// handed out forward into the future or backward into the past, so that
/// none of a provider's appointments overlap however many patients the
/// demo has (the old fixed offsets collided from about 670 patients on).
#[derive(Debug)]
struct Calendar {
    /// The next free instant (forward) or the end of the last free span
    /// (backward).
    cursor: DateTime<Utc>,
    forward: bool,
}

impl Calendar {
    /// Slots from `day`'s opening on, later and later.
    fn ahead_from(day: NaiveDate) -> Self {
        Self {
            cursor: at(day, OPENS_AT_UTC),
            forward: true,
        }
    }

    /// Slots ending by `day`'s closing, earlier and earlier.
    fn behind_from(day: NaiveDate) -> Self {
        Self {
            cursor: at(day, CLOSES_AT_UTC),
            forward: false,
        }
    }

    /// The start of the next free slot of `minutes` within opening hours.
    fn take(&mut self, minutes: i64) -> DateTime<Utc> {
        let length = Duration::minutes(minutes);
        loop {
            let day = self.cursor.date_naive();
            let open = day.weekday() != Weekday::Sun;
            if self.forward {
                if open && self.cursor + length <= at(day, CLOSES_AT_UTC) {
                    let start = self.cursor;
                    self.cursor += length;
                    return start;
                }
                self.cursor = at(day + Duration::days(1), OPENS_AT_UTC);
            } else {
                if open && self.cursor - length >= at(day, OPENS_AT_UTC) {
                    self.cursor -= length;
                    return self.cursor;
                }
                self.cursor = at(day - Duration::days(1), CLOSES_AT_UTC);
            }
        }
    }
}

/// `day` at `hour`:00 UTC.
fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
        .and_utc()
}

fn answers(fitzpatrick_type: FitzpatrickType, keloid: bool) -> ScreeningAnswers {
    ScreeningAnswers {
        keloid_history: keloid,
        ..ScreeningAnswers::nothing_to_report(fitzpatrick_type)
    }
}

/// Seeds a demo clinic: an admin, two providers and a front-desk account
/// (all with `password`), `patient_count` patients with contact consent and
/// medical histories, a completed consultation with screening and plan for
/// every other patient (half of whom had a signed first session two weeks
/// ago, the other half booked for next week), an upcoming consultation for
/// each, four devices (one in maintenance) and a few web requests.
///
/// # Errors
/// When the database already has patients (the demo is for an empty
/// clinic) or a write fails.
pub async fn seed_demo(
    db: &DatabaseConnection,
    patient_count: usize,
    password: &str,
    progress: &ProgressBar,
) -> anyhow::Result<DemoSummary> {
    anyhow::ensure!(
        (1..=MAX_DEMO_PATIENTS).contains(&patient_count),
        "seed-demo seeds 1 to {MAX_DEMO_PATIENTS} patients (seed-bench seeds more)"
    );
    anyhow::ensure!(
        patients::Entity::find().count(db).await? == 0,
        "the database already has patients; seed-demo only fills an empty clinic"
    );
    // Whatever could refuse a write part-way is checked first: the audit
    // trail is append-only, so a half-seeded clinic could not be undone.
    let taken = users::Entity::find()
        .filter(users::Column::Email.is_in(DEMO_STAFF_EMAILS))
        .count(db)
        .await?;
    anyhow::ensure!(
        taken == 0,
        "the demo's staff accounts ({}) already exist; seed-demo only fills an empty clinic",
        DEMO_STAFF_EMAILS.join(", ")
    );
    let serials = devices::Entity::find()
        .filter(devices::Column::Serial.is_in(DEMO_DEVICE_SERIALS))
        .count(db)
        .await?;
    anyhow::ensure!(
        serials == 0,
        "the demo's devices ({}) are already registered; seed-demo only fills an empty clinic",
        DEMO_DEVICE_SERIALS.join(", ")
    );
    progress.set_length(u64::try_from(patient_count).unwrap_or(u64::MAX));
    let system = RequestContext::system();
    let mut summary = DemoSummary::default();
    let staff = [
        (Role::Admin, DEMO_STAFF_EMAILS[0], "Avery Admin", None),
        (
            Role::Provider,
            DEMO_STAFF_EMAILS[1],
            "Dr. Sofia Rivera",
            Some(LicenseKind::Md),
        ),
        (
            Role::Provider,
            DEMO_STAFF_EMAILS[2],
            "Jin Kim, NP",
            Some(LicenseKind::Np),
        ),
        (
            Role::FrontDesk,
            DEMO_STAFF_EMAILS[3],
            "Frankie Front Desk",
            None,
        ),
    ];
    let mut providers = Vec::new();
    let mut admin_id = Uuid::nil();
    for (role, email, name, license) in staff {
        let user = create_user(
            db,
            &system,
            "cli:seed-demo",
            NewUser {
                email: email.to_owned(),
                display_name: name.to_owned(),
                role,
                password: password.to_owned(),
                license: license.map(|kind| License {
                    number: format!("{}-{}", kind_code(kind), 40_000 + summary.staff.len()),
                    kind,
                    issuing_state: "NY".to_owned(),
                    expires_on: (Utc::now() + Duration::days(900)).date_naive(),
                }),
            },
        )
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
        if role == Role::Provider {
            providers.push(user.id);
        }
        if role == Role::Admin {
            admin_id = user.id;
        }
        summary.staff.push((role, email.to_owned()));
    }

    let (devices, registered) = seed_devices(db, &system, admin_id).await?;
    summary.devices = registered;
    // The past (history) ends two weeks ago, the future (bookings) starts
    // tomorrow; each provider's slots within each follow one another.
    let today = Utc::now().date_naive();
    let mut behind: Vec<Calendar> = providers
        .iter()
        .map(|_| Calendar::behind_from(today - Duration::days(14)))
        .collect();
    let mut ahead: Vec<Calendar> = providers
        .iter()
        .map(|_| Calendar::ahead_from(today + Duration::days(1)))
        .collect();
    for n in 0..patient_count {
        progress.set_position(u64::try_from(n).unwrap_or(u64::MAX));
        let first = FIRST_NAMES[n % FIRST_NAMES.len()];
        let last = LAST_NAMES[(n / FIRST_NAMES.len() + n) % LAST_NAMES.len()];
        let fitzpatrick_type = FITZPATRICK[n % FITZPATRICK.len()];
        let patient = create_patient(
            db,
            &system,
            Demographics {
                first_name: Some(first.to_owned()),
                last_name: Some(last.to_owned()),
                email: Some(format!("patient{n}@example.com")),
                phone: Some(format!("+1212555{:04}", n % 10_000)),
                date_of_birth: (Utc::now() - Duration::days(365 * (22 + (n % 40) as i64)))
                    .date_naive()
                    .into(),
                city: Some("New York".to_owned()),
                region: Some("NY".to_owned()),
                country: Some("US".to_owned()),
                preferred_channel: Some(if n % 2 == 0 {
                    ContactChannel::Text
                } else {
                    ContactChannel::Email
                }),
                ..Demographics::default()
            },
            ClinicalDetails {
                fitzpatrick_type: Some(fitzpatrick_type),
                skin_concerns: Some([SkinConcern::AcneScars, SkinConcern::Texture].into()),
                medical_history: Some(MedicalHistoryInput {
                    allergies: if n % 7 == 0 {
                        "lidocaine".to_owned()
                    } else {
                        String::new()
                    },
                    conditions: if n % 9 == 0 {
                        [MedicalCondition::KeloidHistory].into()
                    } else {
                        Default::default()
                    },
                    ..MedicalHistoryInput::default()
                }),
            },
            Some(ConsentGrant {
                channels: [ContactChannel::Text, ContactChannel::Email].into(),
                source: "WEB_FORM".to_owned(),
                consent_text_version: Some("web-2026-01".to_owned()),
            }),
        )
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
        summary.patients += 1;

        let slot = n % providers.len();
        let provider = providers[slot];
        let as_provider = RequestContext {
            actor: Actor::Staff(StaffMember {
                id: provider,
                role: Role::Provider,
            }),
            ..RequestContext::system()
        };
        if n % 2 == 0 {
            // A consultation in the weeks before, completed with a plan,
            // and for half of these the first session after it, signed.
            let signed_session = n % 4 == 0;
            let session_start = signed_session.then(|| behind[slot].take(75));
            let start = behind[slot].take(30);
            let mut write = AuditedWrite::begin(db, &system, "cli:seed-demo")
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let past = consultations::ActiveModel {
                id: Set(Uuid::now_v7()),
                patient_id: Set(patient.id),
                provider_id: Set(provider),
                starts_at_s: Set(start.timestamp()),
                ends_at_s: Set(start.timestamp() + 30 * 60),
                status: Set(ConsultationStatus::Scheduled),
                cancel_reason: Set(None),
                concerns: Set(String::new()),
                treatment_areas: Set(String::new()),
                assessment_notes: Set(String::new()),
                photos: Set("[]".to_owned()),
                completed_at: Set(None),
                created_at: Set(start - Duration::days(7)),
                updated_at: Set(start - Duration::days(7)),
                version: Set(1),
            }
            .insert(&*write)
            .await?;
            write.audit(
                AuditEvent::new(AuditAction::Create)
                    .entity(EntityType::Consultation, Some(past.id))
                    .patient(patient.id),
            );
            write
                .commit()
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let keloid = n % 9 == 0;
            consultation_service::complete(
                db,
                &as_provider,
                past.id,
                1,
                Assessment {
                    concerns: [SkinConcern::AcneScars].into(),
                    treatment_areas: [TreatmentArea::Cheeks, TreatmentArea::Scars].into(),
                    notes: "Rolling and boxcar scars on both cheeks.".to_owned(),
                    photos: Vec::new(),
                },
                answers(fitzpatrick_type, keloid),
                keloid.then(|| "Test spot healed without hypertrophic scarring.".to_owned()),
                Some(PlanProposal {
                    areas: [TreatmentArea::Cheeks, TreatmentArea::Scars].into(),
                    goals: "Soften acne scarring".to_owned(),
                    ..PlanProposal::default()
                }),
            )
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
            summary.consultations += 1;
            if let Some(start) = session_start {
                past_signed_procedure(db, &system, patient.id, provider, start, devices[n % 2], n)
                    .await?;
            } else {
                // The first session, booked ahead.
                let start = ahead[slot].take(75);
                procedure_service::schedule(
                    db,
                    &as_provider,
                    ProcedureBooking {
                        patient_id: patient.id,
                        provider_id: provider,
                        treatment_plan_id: None,
                        starts_at: start,
                        duration_minutes: 60,
                        areas: [TreatmentArea::Cheeks, TreatmentArea::Scars].into(),
                        idempotency_key: None,
                    },
                )
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            }
            summary.procedures += 1;
        }
        // An upcoming consultation.
        let start = ahead[slot].take(30);
        consultation_service::schedule(db, &as_provider, patient.id, provider, start, 30)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        summary.consultations += 1;
    }

    for (n, (first, last)) in [("Grace", "Hopper"), ("Ada", "Byrne"), ("Spam", "Bot")]
        .into_iter()
        .enumerate()
    {
        intake::submit(
            db,
            &RequestContext::system(),
            u32::MAX,
            Submission {
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                email: Some(format!("prospect{n}@example.com")),
                preferred_channel: Some(ContactChannel::Email),
                consented_channels: vec![ContactChannel::Email],
                consent_text_version: "web-2026-01".to_owned(),
                message: Some("I'd like to discuss micro-needling for acne scars.".to_owned()),
                honeypot: (first == "Spam").then(|| "http://spam.example".to_owned()),
                ..Submission::default()
            },
        )
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
        summary.requests += 1;
    }
    progress.finish_and_clear();
    Ok(summary)
}

/// Two active pens, a roller for the eye area and a pen in maintenance;
/// returns the ids of the two active pens and how many devices there are.
async fn seed_devices(
    db: &DatabaseConnection,
    system: &RequestContext,
    admin_id: Uuid,
) -> anyhow::Result<(Vec<Uuid>, usize)> {
    let admin = RequestContext {
        actor: Actor::Staff(StaffMember {
            id: admin_id,
            role: Role::Admin,
        }),
        ..system.clone()
    };
    let mut active_pens = Vec::new();
    let inventory = [
        (
            DeviceKind::Pen,
            "Dermapen",
            "4",
            DEMO_DEVICE_SERIALS[0],
            3.0,
            false,
        ),
        (
            DeviceKind::Pen,
            "SkinPen",
            "Precision",
            DEMO_DEVICE_SERIALS[1],
            2.5,
            false,
        ),
        (
            DeviceKind::Roller,
            "Dr. Roller",
            "Eye 0.25",
            DEMO_DEVICE_SERIALS[2],
            0.5,
            false,
        ),
        (
            DeviceKind::Pen,
            "Dermapen",
            "4",
            DEMO_DEVICE_SERIALS[3],
            3.0,
            true,
        ),
    ];
    for (kind, manufacturer, model, serial, max_depth_mm, maintenance) in inventory {
        let device = device_service::create_device(
            db,
            &admin,
            DeviceDetails {
                kind,
                manufacturer: manufacturer.to_owned(),
                model: model.to_owned(),
                serial: serial.to_owned(),
                max_depth_mm,
                needle_count_min: (kind == DeviceKind::Pen).then_some(12),
                needle_count_max: (kind == DeviceKind::Pen).then_some(36),
                regulatory_id: (kind == DeviceKind::Pen).then(|| "K190734".to_owned()),
                last_serviced_on: Some((Utc::now() - Duration::days(60)).date_naive()),
                notes: None,
            },
        )
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
        if maintenance {
            device_service::update_device(
                db,
                &admin,
                device.id,
                device.version,
                DeviceChanges {
                    status: Some(DeviceStatus::Maintenance),
                    notes: Some("Motor noise; sent for service.".to_owned()),
                    ..DeviceChanges::default()
                },
            )
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        } else if kind == DeviceKind::Pen {
            active_pens.push(device.id);
        }
    }
    Ok((active_pens, inventory.len()))
}

/// A signed session in the past, with its cartridge and device session:
/// the services only book the future, so history is written directly
/// (audited like any write).
async fn past_signed_procedure(
    db: &DatabaseConnection,
    system: &RequestContext,
    patient_id: Uuid,
    provider_id: Uuid,
    start: chrono::DateTime<Utc>,
    device_id: Uuid,
    n: usize,
) -> anyhow::Result<()> {
    let plan = treatment_plans::Entity::find()
        .filter(treatment_plans::Column::PatientId.eq(patient_id))
        .one(db)
        .await?
        .map(|plan| plan.id);
    let record = ChartedRecord {
        clinical_notes: "Tolerated well; even erythema across both cheeks.".to_owned(),
        immediate_response: Some("Even erythema, no pinpoint bleeding.".to_owned()),
        lipopeptide_booster: Some(true),
        moisturizer: Some(true),
        sunscreen_spf: Some(50),
    };
    let mut write = AuditedWrite::begin(db, system, "cli:seed-demo")
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let procedure = procedures::ActiveModel {
        id: Set(Uuid::now_v7()),
        patient_id: Set(patient_id),
        provider_id: Set(provider_id),
        treatment_plan_id: Set(plan),
        starts_at_s: Set(start.timestamp()),
        ends_at_s: Set(start.timestamp() + 60 * 60),
        scheduled_starts_at_s: Set(Some(start.timestamp())),
        status: Set(ProcedureStatus::Signed),
        areas: Set("CHEEKS,SCARS".to_owned()),
        cancel_reason: Set(None),
        idempotency_actor: Set(None),
        idempotency_key: Set(None),
        numbing_product: Set(Some("BLT 20/6/4".to_owned())),
        numbing_applied_at: Set(Some(start - Duration::minutes(40))),
        screening_id: Set(None),
        screening_override_reason: Set(None),
        started_at: Set(Some(start)),
        lipopeptide_booster: Set(record.lipopeptide_booster),
        moisturizer: Set(record.moisturizer),
        sunscreen_spf: Set(record.sunscreen_spf),
        immediate_response: Set(record.immediate_response.clone()),
        clinical_notes: Set(record.clinical_notes.clone()),
        completed_at: Set(Some(start + Duration::minutes(50))),
        signed_at: Set(Some(start + Duration::minutes(55))),
        signed_by: Set(Some(provider_id)),
        signed_record: Set(Some(serde_json::to_string(&record)?)),
        adverse_flagged_at: Set(None),
        created_by: Set(provider_id),
        created_at: Set(start - Duration::days(7)),
        updated_at: Set(start + Duration::minutes(55)),
        version: Set(4),
    }
    .insert(&*write)
    .await?;
    let cartridge = cartridges::ActiveModel {
        id: Set(Uuid::now_v7()),
        serial: Set(format!("UDI-0085{n:06}")),
        lot_number: Set(if n.is_multiple_of(8) {
            "LOT-2611A"
        } else {
            "LOT-2611B"
        }
        .to_owned()),
        needle_count: Set(16),
        needle_geometry: Set(Some("round, 16-pin".to_owned())),
        max_depth_um: Set(2500),
        expires_on: Set((Utc::now() + Duration::days(400)).date_naive()),
        opened_at: Set(Some(start)),
        procedure_id: Set(Some(procedure.id)),
        registered_by: Set(provider_id),
        created_at: Set(start),
    }
    .insert(&*write)
    .await?;
    for (k, (area, depth_um)) in [(TreatmentArea::Cheeks, 1000), (TreatmentArea::Scars, 1500)]
        .into_iter()
        .enumerate()
    {
        let begins = start + Duration::minutes(10 + 15 * k as i64);
        let session = device_sessions::ActiveModel {
            id: Set(Uuid::now_v7()),
            procedure_id: Set(procedure.id),
            device_id: Set(device_id),
            cartridge_id: Set(cartridge.id),
            area: Set(area),
            depth_um: Set(depth_um),
            passes: Set(3),
            pattern: Set(NeedlingPattern::Crosshatch),
            speed_setting: Set(Some("8".to_owned())),
            glide_medium: Set(Some("hyaluronic acid serum".to_owned())),
            clinical_endpoint: Set(if area == TreatmentArea::Scars {
                ClinicalEndpoint::PinpointBleeding
            } else {
                ClinicalEndpoint::Erythema
            }),
            started_at_s: Set(begins.timestamp()),
            ended_at_s: Set((begins + Duration::minutes(12)).timestamp()),
            depth_override_reason: Set(None),
            recorded_by: Set(provider_id),
            created_at: Set(begins),
        }
        .insert(&*write)
        .await?;
        write.audit(
            AuditEvent::new(AuditAction::Create)
                .entity(EntityType::DeviceSession, Some(session.id))
                .patient(patient_id),
        );
    }
    write.audit(
        AuditEvent::new(AuditAction::Create)
            .entity(EntityType::Procedure, Some(procedure.id))
            .patient(patient_id),
    );
    write
        .commit()
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(())
}

fn kind_code(kind: LicenseKind) -> &'static str {
    match kind {
        LicenseKind::Md => "MD",
        LicenseKind::Do => "DO",
        LicenseKind::Np => "NP",
        LicenseKind::Pa => "PA",
        LicenseKind::Rn => "RN",
        LicenseKind::LicensedEsthetician => "LE",
    }
}

#[cfg(test)]
mod tests {
    use chrono::Timelike as _;

    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn slots_ahead_follow_each_other_within_opening_hours_and_skip_sundays() {
        // 2027-03-06 is a Saturday.
        let mut calendar = Calendar::ahead_from(day("2027-03-06"));
        let mut previous_end: Option<DateTime<Utc>> = None;
        for _ in 0..100 {
            let start = calendar.take(75);
            let end = start + Duration::minutes(75);
            assert_ne!(start.weekday(), Weekday::Sun, "{start}");
            assert!(
                start.hour() >= OPENS_AT_UTC && end <= at(start.date_naive(), CLOSES_AT_UTC),
                "{start}"
            );
            if let Some(previous) = previous_end {
                assert!(start >= previous, "{start} overlaps the slot before");
            }
            previous_end = Some(end);
        }
        assert_eq!(
            Calendar::ahead_from(day("2027-03-06")).take(30),
            at(day("2027-03-06"), 14)
        );
        let mut late = Calendar::ahead_from(day("2027-03-06"));
        for _ in 0..6 {
            late.take(75);
        }
        // Six 75-minute slots fill 14:00-21:30; the seventh is on Monday.
        assert_eq!(late.take(75), at(day("2027-03-08"), 14));
    }

    #[test]
    fn slots_behind_go_back_in_time_without_overlapping() {
        let mut calendar = Calendar::behind_from(day("2027-03-08"));
        let first = calendar.take(30);
        assert_eq!(first, at(day("2027-03-08"), 22) - Duration::minutes(30));
        let mut later_start = first;
        for minutes in [75, 30, 30, 75, 30].repeat(40) {
            let start = calendar.take(minutes);
            assert!(start + Duration::minutes(minutes) <= later_start, "{start}");
            assert_ne!(start.weekday(), Weekday::Sun, "{start}");
            assert!(start.hour() >= OPENS_AT_UTC, "{start}");
            later_start = start;
        }
    }
}
