//! Consultations: R-BOOKING (also racing), archived patients, completion
//! with screening (R-SCREENING) and plan (R-SERIES), consent (R-CONSENT),
//! clinical fields hidden from the front desk, statement counts.

use chrono::{Duration, Utc};
use dermagraph::domain::staff::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_codes, for_each_backend, for_each_backend_with};

const SCHEDULE: &str = "mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) {
    consultation { id status startsAt endsAt durationMinutes version provider { id } patient { id } } } }";
const COMPLETE: &str = "mutation($input: CompleteConsultationInput!) { completeConsultation(input: $input) {
    consultation { status version } screening { absoluteFindings relativeFindings advisories overrideReason clearsTreatment }
    treatmentPlan { plannedSessions intervalDays areas status } } }";

fn start_in(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string()
}

async fn new_patient(app: &TestApp, token: &str, last: &str) -> String {
    let response = app
        .gql(
            "mutation($last: String!) { createPatient(input: { firstName: \"Test\", lastName: $last }) { patient { id } } }",
            json!({ "last": last }),
            Some(token),
        )
        .await;
    response["data"]["createPatient"]["patient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

async fn book(
    app: &TestApp,
    token: &str,
    patient: &str,
    provider: &str,
    starts_at: &str,
    minutes: i32,
) -> Value {
    app.gql(
        SCHEDULE,
        json!({ "input": { "patientId": patient, "providerId": provider, "startsAt": starts_at, "durationMinutes": minutes } }),
        Some(token),
    )
    .await
}

fn clean_screening() -> Value {
    json!({
        "activeSkinInfection": false, "activeHerpesOutbreak": false, "pregnant": false, "openWounds": false,
        "keloidHistory": false, "anticoagulantsOrBleedingDisorder": false, "uncontrolledDiabetes": false,
        "immunosuppression": false, "eczemaPsoriasisRosacea": false, "anaestheticOrMetalAllergy": false,
        "herpesHistory": false, "fitzpatrickType": "III"
    })
}

fn consultation_id(response: &Value) -> String {
    response["data"]["scheduleConsultation"]["consultation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

#[tokio::test]
async fn r_booking_a_provider_is_never_double_booked() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let provider = app.create_user(Role::Provider).await.id.to_string();
        let (a, b) = (new_patient(&app, &desk, "Ames").await, new_patient(&app, &desk, "Bell").await);
        let nine = start_in(48);
        let first = book(&app, &desk, &a, &provider, &nine, 60).await;
        let booked = &first["data"]["scheduleConsultation"]["consultation"];
        assert_eq!(booked["status"], "SCHEDULED", "{first}");
        assert_eq!(booked["durationMinutes"], 60);
        assert_eq!(booked["provider"]["id"], provider.as_str());

        let overlapping = book(&app, &desk, &b, &provider, &start_in(48), 30).await;
        assert_eq!(error_code(&overlapping), "DOUBLE_BOOKED");
        let back_to_back = book(&app, &desk, &b, &provider, &start_in(49), 30).await;
        assert!(back_to_back["errors"].is_null(), "adjacent slots are fine: {back_to_back}");

        let cancel = app
            .gql(
                "mutation($input: CancelConsultationInput!) { cancelConsultation(input: $input) { consultation { id status } } }",
                json!({ "input": { "id": consultation_id(&first), "expectedVersion": 1, "reason": "patient rescheduled" } }),
                Some(&desk),
            )
            .await;
        assert_eq!(cancel["data"]["cancelConsultation"]["consultation"]["status"], "CANCELLED", "{cancel}");
        // The reason is free text, so clinical: the front desk that wrote
        // it, and a schedule:read partner, cannot read it back.
        let reason = "query($id: ID!) { consultation(id: $id) { cancelReason } }";
        let cancelled = json!({ "id": consultation_id(&first) });
        assert_eq!(error_code(&app.gql(reason, cancelled.clone(), Some(&desk)).await), "FORBIDDEN");
        let (_, partner) = app.api_key(&["schedule:read"]).await;
        assert_eq!(error_code(&app.gql(reason, cancelled.clone(), Some(&partner)).await), "FORBIDDEN");
        let (_, admin) = app.sign_in(Role::Admin).await;
        let read = app.gql(reason, cancelled, Some(&admin)).await;
        assert_eq!(read["data"]["consultation"]["cancelReason"], "patient rescheduled", "{read}");
        let rebooked = book(&app, &desk, &b, &provider, &nine, 30).await;
        assert!(rebooked["errors"].is_null(), "a cancelled slot is free again: {rebooked}");

        let not_provider = book(&app, &desk, &a, &app.create_user(Role::FrontDesk).await.id.to_string(), &start_in(72), 30).await;
        assert_eq!(not_provider["errors"][0]["extensions"]["field"], "providerId");
        let past = book(&app, &desk, &a, &provider, &start_in(-2), 30).await;
        assert_eq!(past["errors"][0]["extensions"]["field"], "startsAt");
        let too_long = book(&app, &desk, &a, &provider, &start_in(96), 600).await;
        assert_eq!(too_long["errors"][0]["extensions"]["field"], "durationMinutes");
    })
    .await;
}

#[tokio::test]
async fn r_booking_concurrent_bookings_of_one_slot_have_exactly_one_winner() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let provider = app.create_user(Role::Provider).await.id.to_string();
        let mut patients = Vec::new();
        for n in 0..6 {
            patients.push(new_patient(&app, &desk, &format!("Racer{n}")).await);
        }
        let slot = start_in(30);
        let attempts = patients
            .iter()
            .map(|patient| book(&app, &desk, patient, &provider, &slot, 45));
        let results = futures_util::future::join_all(attempts).await;
        let winners = results.iter().filter(|r| r["errors"].is_null()).count();
        let refused: Vec<_> = results
            .iter()
            .filter_map(|r| r["errors"][0]["extensions"]["code"].as_str())
            .collect();
        assert_eq!(winners, 1, "{results:?}");
        assert!(
            refused.iter().all(|code| *code == "DOUBLE_BOOKED"),
            "{refused:?}"
        );
        let listed = app
            .gql(
                "query($p: ID) { consultations(filter: { providerId: $p }) { totalCount } }",
                json!({ "p": provider }),
                Some(&desk),
            )
            .await;
        assert_eq!(listed["data"]["consultations"]["totalCount"], 1);
    })
    .await;
}

#[tokio::test]
async fn r_records_archived_patients_cannot_be_booked() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let provider = app.create_user(Role::Provider).await.id.to_string();
        let patient = new_patient(&app, &desk, "Gone").await;
        app.gql(
            "mutation($id: ID!) { archivePatient(input: { id: $id, expectedVersion: 1 }) { patient { archived } } }",
            json!({ "id": patient }),
            Some(&desk),
        )
        .await;
        let response = book(&app, &desk, &patient, &provider, &start_in(24), 30).await;
        assert_eq!(error_code(&response), "INVALID_STATE");
    })
    .await;
}

#[tokio::test]
async fn r_screening_r_series_completing_with_a_plan_requires_a_screening_that_clears_treatment() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let (provider_user, provider) = app.sign_in(Role::Provider).await;
        let patient = new_patient(&app, &desk, "Screened").await;
        let plan = json!({ "areas": ["CHEEKS", "SCARS"], "goals": "soften acne scars" });

        let absolute = consultation_id(&book(&app, &desk, &patient, &provider_user.id.to_string(), &start_in(24), 30).await);
        let mut pregnant = clean_screening();
        pregnant["pregnant"] = json!(true);
        let refused = app
            .gql(COMPLETE, json!({ "input": { "id": absolute, "expectedVersion": 1, "screening": pregnant, "overrideReason": "insists", "treatmentPlan": plan } }), Some(&provider))
            .await;
        assert_eq!(error_code(&refused), "CONTRAINDICATED", "{refused}");
        // In the API's own words, and in `extensions` for the client.
        assert_eq!(refused["errors"][0]["extensions"]["findings"], json!(["PREGNANCY"]), "{refused}");
        assert!(refused["errors"][0]["message"].as_str().unwrap().ends_with("absolute contraindication: PREGNANCY"), "{refused}");

        let mut keloid = clean_screening();
        keloid["keloidHistory"] = json!(true);
        let no_reason = app
            .gql(COMPLETE, json!({ "input": { "id": absolute, "expectedVersion": 1, "screening": keloid, "treatmentPlan": plan } }), Some(&provider))
            .await;
        assert_eq!(error_code(&no_reason), "CONTRAINDICATED", "{no_reason}");
        assert_eq!(no_reason["errors"][0]["extensions"]["findings"], json!(["KELOID_HISTORY"]), "{no_reason}");

        let read = app.gql("query($id: ID!) { consultation(id: $id) { status version screening { id } } }", json!({ "id": absolute }), Some(&provider)).await;
        assert_eq!(read["data"]["consultation"]["status"], "SCHEDULED", "refusals write nothing: {read}");
        assert!(read["data"]["consultation"]["screening"].is_null());

        let overridden = app
            .gql(COMPLETE, json!({ "input": { "id": absolute, "expectedVersion": 1, "screening": keloid,
                "overrideReason": "test patch healed without scarring", "treatmentPlan": plan,
                "assessment": { "concerns": ["ACNE_SCARS"], "treatmentAreas": ["CHEEKS"], "notes": "rolling scars",
                    "photos": [{ "url": "https://images.clinic.test/p/1.jpg", "consentToUse": false }] } } }), Some(&provider))
            .await;
        let payload = &overridden["data"]["completeConsultation"];
        assert_eq!(payload["consultation"]["status"], "COMPLETED", "{overridden}");
        assert_eq!(payload["screening"]["relativeFindings"], json!(["KELOID_HISTORY"]));
        assert_eq!(payload["screening"]["clearsTreatment"], true);
        assert_eq!(payload["treatmentPlan"]["plannedSessions"], 3, "policy default");
        assert_eq!(payload["treatmentPlan"]["intervalDays"], 56, "policy recommendation");
        assert_eq!(payload["treatmentPlan"]["areas"], json!(["CHEEKS", "SCARS"]));

        let view = app
            .gql("query($id: ID!) { patient(id: $id) { treatmentPlan { plannedSessions status } latestScreening { relativeFindings overrideReason } } }", json!({ "id": patient }), Some(&provider))
            .await;
        assert_eq!(view["data"]["patient"]["treatmentPlan"]["status"], "ACTIVE", "{view}");
        assert_eq!(view["data"]["patient"]["latestScreening"]["overrideReason"], "test patch healed without scarring");

        let short_interval = consultation_id(&book(&app, &desk, &patient, &provider_user.id.to_string(), &start_in(72), 30).await);
        let response = app
            .gql(COMPLETE, json!({ "input": { "id": short_interval, "expectedVersion": 1, "screening": clean_screening(), "treatmentPlan": { "areas": ["NECK"], "intervalDays": 30 } } }), Some(&provider))
            .await;
        assert_eq!(response["errors"][0]["extensions"]["field"], "treatmentPlan.intervalDays", "{response}");
    })
    .await;
}

#[tokio::test]
async fn only_providers_complete_and_the_front_desk_never_sees_clinical_parts() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let (provider_user, provider) = app.sign_in(Role::Provider).await;
        let (_, admin) = app.sign_in(Role::Admin).await;
        let patient = new_patient(&app, &desk, "Private").await;
        let id = consultation_id(&book(&app, &desk, &patient, &provider_user.id.to_string(), &start_in(24), 30).await);
        let input = json!({ "input": { "id": id, "expectedVersion": 1, "screening": clean_screening(), "assessment": { "notes": "private note" } } });
        for token in [&desk, &admin] {
            assert_eq!(error_code(&app.gql(COMPLETE, input.clone(), Some(token)).await), "FORBIDDEN");
        }
        let done = app.gql(COMPLETE, input, Some(&provider)).await;
        assert!(done["errors"].is_null(), "{done}");

        let root = app.gql("query($id: ID!) { consultation(id: $id) { status assessment { notes } screening { clearsTreatment } } }", json!({ "id": id }), Some(&desk)).await;
        assert_eq!(root["data"]["consultation"]["status"], "COMPLETED");
        assert_eq!(error_codes(&root), vec!["FORBIDDEN", "FORBIDDEN"], "{root}");
        let nested = app.gql("query($id: ID!) { patient(id: $id) { consultations { status assessment { notes } } latestScreening { id } } }", json!({ "id": patient }), Some(&desk)).await;
        assert_eq!(nested["data"]["patient"]["consultations"][0]["status"], "COMPLETED");
        assert_eq!(error_codes(&nested), vec!["FORBIDDEN", "FORBIDDEN"], "{nested}");
        assert!(!nested.to_string().contains("private note"));
        let as_provider = app.gql("query($id: ID!) { consultation(id: $id) { assessment { notes } } }", json!({ "id": id }), Some(&provider)).await;
        assert_eq!(as_provider["data"]["consultation"]["assessment"]["notes"], "private note");
    })
    .await;
}

#[tokio::test]
async fn r_consent_screenings_and_signed_consents_are_recorded() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let (provider_user, provider) = app.sign_in(Role::Provider).await;
        let patient = new_patient(&app, &desk, "Consenting").await;
        let mut answers = clean_screening();
        answers["fitzpatrickType"] = json!("V");
        answers["isotretinoinLastDose"] = json!((Utc::now() - Duration::days(30)).format("%Y-%m-%d").to_string());
        let screening = app
            .gql(
                "mutation($input: RecordScreeningInput!) { recordScreening(input: $input) { screening { relativeFindings advisories clearsTreatment answers { fitzpatrickType } } } }",
                json!({ "input": { "patientId": patient, "answers": answers } }),
                Some(&provider),
            )
            .await;
        let recorded = &screening["data"]["recordScreening"]["screening"];
        assert_eq!(recorded["relativeFindings"], json!(["RECENT_ISOTRETINOIN"]), "{screening}");
        assert_eq!(recorded["advisories"], json!(["HYPERPIGMENTATION_RISK"]));
        assert_eq!(recorded["clearsTreatment"], false);
        assert_eq!(recorded["answers"]["fitzpatrickType"], "V");
        let by_desk = app
            .gql("mutation($input: RecordScreeningInput!) { recordScreening(input: $input) { screening { id } } }", json!({ "input": { "patientId": patient, "answers": clean_screening() } }), Some(&desk))
            .await;
        assert_eq!(error_code(&by_desk), "FORBIDDEN");

        let sign = "mutation($input: SignConsentInput!) { signConsent(input: $input) { informedConsent { templateVersion signerName witness { id } } } }";
        let signed = app
            .gql(sign, json!({ "input": { "patientId": patient, "templateVersion": "CIT-2026.1", "signerName": "Test Consenting", "witnessId": provider_user.id.to_string() } }), Some(&desk))
            .await;
        assert_eq!(signed["data"]["signConsent"]["informedConsent"]["witness"]["id"], provider_user.id.to_string(), "{signed}");
        let missing = app.gql(sign, json!({ "input": { "patientId": patient, "templateVersion": "", "signerName": "X" } }), Some(&desk)).await;
        assert_eq!(missing["errors"][0]["extensions"]["field"], "templateVersion");
        let on_file = app.gql("query($id: ID!) { patient(id: $id) { informedConsents { templateVersion signerName } } }", json!({ "id": patient }), Some(&desk)).await;
        assert_eq!(on_file["data"]["patient"]["informedConsents"][0]["templateVersion"], "CIT-2026.1");
    })
    .await;
}

#[tokio::test]
async fn nested_consultations_and_providers_cost_the_same_for_5_or_50_patients() {
    for_each_backend_with(
        // A wide batch window, so a busy shared machine cannot split a batch.
        |config| config.batch_window_ms = 50,
        |app| async move {
            let (_, desk) = app.sign_in(Role::FrontDesk).await;
            let providers = [app.create_user(Role::Provider).await.id.to_string(), app.create_user(Role::Provider).await.id.to_string()];
            for n in 0..50 {
                let patient = new_patient(&app, &desk, &format!("Load{n:02}")).await;
                let provider = &providers[n % 2];
                let booked = book(&app, &desk, &patient, provider, &start_in(24 + i64::try_from(n).unwrap()), 30).await;
                assert!(booked["errors"].is_null(), "{booked}");
            }
            let (_, provider) = app.sign_in(Role::Provider).await;
            let query = "query($n: Int) { patients(first: $n) { edges { node {
                id consultations { status provider { displayName license { number } } screening { id } }
                treatmentPlan { plannedSessions } informedConsents { signerName } contactConsent { granted } } } } }";
            let mut counts = Vec::new();
            for size in [5, 50] {
                let before = app.statements_executed();
                let response = app.gql(query, json!({ "n": size }), Some(&provider)).await;
                assert!(response["errors"].is_null(), "{response}");
                counts.push(app.statements_executed() - before);
            }
            assert_eq!(counts[0], counts[1], "statements for 5 and 50 patients: {counts:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn patients_order_by_their_next_appointment_across_pages() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let provider = app.create_user(Role::Provider).await.id.to_string();
        for (last, hours) in [("Later", Some(72)), ("Soonest", Some(24)), ("Unbooked", None), ("Middle", Some(48))] {
            let patient = new_patient(&app, &desk, last).await;
            if let Some(hours) = hours {
                let booked = book(&app, &desk, &patient, &provider, &start_in(hours), 30).await;
                assert!(booked["errors"].is_null(), "{booked}");
            }
        }
        let query = "query($first: Int, $after: String, $last: Int, $before: String) {
            patients(orderBy: NEXT_APPOINTMENT, first: $first, after: $after, last: $last, before: $before) {
              pageInfo { hasNextPage endCursor startCursor } edges { node { lastName } } } }";
        let names = |response: &Value| -> Vec<String> {
            response["data"]["patients"]["edges"].as_array().unwrap_or_else(|| panic!("{response}")).iter().map(|e| e["node"]["lastName"].as_str().unwrap().to_owned()).collect()
        };
        let page1 = app.gql(query, json!({ "first": 2 }), Some(&desk)).await;
        assert_eq!(names(&page1), ["Soonest", "Middle"]);
        let end = page1["data"]["patients"]["pageInfo"]["endCursor"].clone();
        let page2 = app.gql(query, json!({ "first": 2, "after": end }), Some(&desk)).await;
        assert_eq!(names(&page2), ["Later", "Unbooked"], "patients without an appointment come last");
        assert_eq!(page2["data"]["patients"]["pageInfo"]["hasNextPage"], false);
        let start = page2["data"]["patients"]["pageInfo"]["startCursor"].clone();
        let back = app.gql(query, json!({ "last": 1, "before": start }), Some(&desk)).await;
        assert_eq!(names(&back), ["Middle"]);
    })
    .await;
}
