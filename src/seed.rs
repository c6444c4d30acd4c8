//! `seed-demo`: a realistic demo clinic for trying the API in GraphiQL.
//! Everything goes through the services, so every rule and audit applies.

use chrono::{Duration, Utc};
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
    entities::{cartridges, consultations, device_sessions, patients, procedures, treatment_plans},
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
) -> anyhow::Result<DemoSummary> {
    anyhow::ensure!(
        patients::Entity::find().count(db).await? == 0,
        "the database already has patients; seed-demo only fills an empty clinic"
    );
    let system = RequestContext::system();
    let mut summary = DemoSummary::default();
    let staff = [
        (Role::Admin, "admin@demo.clinic", "Avery Admin", None),
        (
            Role::Provider,
            "dr.rivera@demo.clinic",
            "Dr. Sofia Rivera",
            Some(LicenseKind::Md),
        ),
        (
            Role::Provider,
            "nurse.kim@demo.clinic",
            "Jin Kim, NP",
            Some(LicenseKind::Np),
        ),
        (
            Role::FrontDesk,
            "desk@demo.clinic",
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
    let tomorrow_morning = (Utc::now() + Duration::days(1))
        .date_naive()
        .and_hms_opt(14, 0, 0)
        .unwrap_or_default()
        .and_utc();
    for n in 0..patient_count {
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

        let provider = providers[n % providers.len()];
        let as_provider = RequestContext {
            actor: Actor::Staff(StaffMember {
                id: provider,
                role: Role::Provider,
            }),
            ..RequestContext::system()
        };
        if n % 2 == 0 {
            // A consultation three weeks ago, completed with a plan.
            let start = Utc::now() - Duration::days(21) + Duration::minutes(45 * n as i64);
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
            if n % 4 == 0 {
                // The first session of the plan, two weeks ago, signed.
                let start =
                    Utc::now() - Duration::days(14) - Duration::minutes(75 * (n / 4) as i64);
                past_signed_procedure(db, &system, patient.id, provider, start, devices[n % 2], n)
                    .await?;
            } else {
                // The first session, booked for next week.
                let start =
                    tomorrow_morning + Duration::days(7) + Duration::minutes(75 * (n / 2) as i64);
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
        // An upcoming consultation; each provider's slots follow each other.
        let slot = tomorrow_morning + Duration::minutes(30 * (n / providers.len()) as i64);
        consultation_service::schedule(db, &as_provider, patient.id, provider, slot, 30)
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
        (DeviceKind::Pen, "Dermapen", "4", "DP4-10021", 3.0, false),
        (
            DeviceKind::Pen,
            "SkinPen",
            "Precision",
            "SP-55310",
            2.5,
            false,
        ),
        (
            DeviceKind::Roller,
            "Dr. Roller",
            "Eye 0.25",
            "RL-EYE-07",
            0.5,
            false,
        ),
        (DeviceKind::Pen, "Dermapen", "4", "DP4-10022", 3.0, true),
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
