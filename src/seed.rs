//! `seed-demo`: a realistic demo clinic for trying the API in GraphiQL.
//! Everything goes through the services, so every rule and audit applies.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
    prelude::Uuid,
};

use crate::{
    auth::actor::{Actor, RequestContext, StaffMember},
    domain::{
        audit::{AuditAction, EntityType},
        consultation::ConsultationStatus,
        patient::{ContactChannel, FitzpatrickType, MedicalCondition, SkinConcern},
        screening::ScreeningAnswers,
        staff::{License, LicenseKind, Role},
        treatment_area::TreatmentArea,
    },
    entities::{consultations, patients},
    services::{
        audit::{AuditEvent, AuditedWrite},
        consultations::{self as consultation_service, Assessment, PlanProposal},
        intake::{self, Submission},
        patients::{
            ClinicalDetails, ConsentGrant, Demographics, MedicalHistoryInput, create_patient,
        },
        users::{NewUser, create_user},
    },
};

const FIRST_NAMES: [&str; 20] = [
    "Maya", "Zoë", "Liam", "Aisha", "Mateo", "Chloé", "Noah", "Sofía", "Ethan", "Priya", "Lucas",
    "Amara", "Jonas", "Mei", "Omar", "Isabela", "Felix", "Hana", "Diego", "Léa",
];
const LAST_NAMES: [&str; 20] = [
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
}

fn answers(fitzpatrick_type: FitzpatrickType, keloid: bool) -> ScreeningAnswers {
    ScreeningAnswers {
        active_skin_infection: false,
        active_herpes_outbreak: false,
        pregnant: false,
        open_wounds: false,
        isotretinoin_last_dose: None,
        keloid_history: keloid,
        anticoagulants_or_bleeding_disorder: false,
        uncontrolled_diabetes: false,
        immunosuppression: false,
        eczema_psoriasis_rosacea: false,
        anaesthetic_or_metal_allergy: false,
        herpes_history: false,
        fitzpatrick_type,
    }
}

/// Seeds a demo clinic: an admin, two providers and a front-desk account
/// (all with `password`), `patient_count` patients with contact consent and
/// medical histories, a completed consultation with screening and plan for
/// every other patient, an upcoming one for each, and a few web requests.
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
        summary.staff.push((role, email.to_owned()));
    }

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
