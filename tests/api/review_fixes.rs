//! Regressions found in review: nested patient reads by partners, clinical
//! writes by admins, repeated history updates, long folded names, refusals
//! raised inside services, consent order after conversion, stale
//! idempotency keys.

use chrono::{Duration, Utc};
use dermagraph::domain::staff::Role;
use migration::sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{error_code, for_each_backend};

async fn patient_id(response: &Value) -> String {
    response["data"]["createPatient"]["patient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

#[tokio::test]
async fn a_schedule_reader_cannot_reach_patient_records_through_a_consultation() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let provider = app.create_user(Role::Provider).await;
        let created = app
            .gql("mutation { createPatient(input: { firstName: \"Secret\", lastName: \"Person\", email: \"secret@mail.test\" }) { patient { id } } }", json!({}), Some(&desk))
            .await;
        let patient = patient_id(&created).await;
        let start = (Utc::now() + Duration::days(2)).format("%Y-%m-%dT10:00:00Z").to_string();
        app.gql(
            "mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
            json!({ "input": { "patientId": patient, "providerId": provider.id.to_string(), "startsAt": start, "durationMinutes": 30 } }),
            Some(&desk),
        )
        .await;
        let (_, widget) = app.api_key(&["schedule:read"]).await;
        let response = app
            .gql("{ consultations { edges { node { startsAt provider { displayName email license { number } } patient { email lastName } } } } }", json!({}), Some(&widget))
            .await;
        let node = &response["data"]["consultations"]["edges"][0]["node"];
        assert!(node["startsAt"].is_string(), "{response}");
        assert!(node["patient"].is_null(), "{response}");
        assert!(!response.to_string().contains("secret@mail.test"));
        assert!(!response.to_string().contains(&provider.email), "staff emails stay inside the clinic");
        assert!(response["errors"].as_array().unwrap().iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"));
    })
    .await;
}

#[tokio::test]
async fn admins_read_but_never_write_clinical_data() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let (_, provider) = app.sign_in(Role::Provider).await;
        let create = "mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient { id } } }";
        let input = json!({ "input": { "firstName": "A", "lastName": "B", "medicalHistory": { "allergies": "nuts" } } });
        assert_eq!(error_code(&app.gql(create, input.clone(), Some(&admin)).await), "FORBIDDEN");
        let patient = patient_id(&app.gql(create, input, Some(&provider)).await).await;
        let read = app.gql("query($id: ID!) { patient(id: $id) { medicalHistory { allergies } } }", json!({ "id": patient }), Some(&admin)).await;
        assert_eq!(read["data"]["patient"]["medicalHistory"]["allergies"], "nuts");
    })
    .await;
}

#[tokio::test]
async fn a_medical_history_can_be_updated_again_and_again() {
    for_each_backend(|app| async move {
        let (_, provider) = app.sign_in(Role::Provider).await;
        let created = app
            .gql("mutation { createPatient(input: { firstName: \"H\", lastName: \"Istory\", medicalHistory: { allergies: \"none\" } }) { patient { id } } }", json!({}), Some(&provider))
            .await;
        let patient = patient_id(&created).await;
        let update = "mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { version medicalHistory { allergies medications } } } }";
        for (version, allergies) in [(1, "latex"), (2, "latex, lidocaine")] {
            let response = app
                .gql(update, json!({ "input": { "id": patient, "expectedVersion": version, "medicalHistory": { "allergies": allergies, "medications": "none" } } }), Some(&provider))
                .await;
            assert_eq!(response["data"]["updatePatient"]["patient"]["medicalHistory"]["allergies"], allergies, "{response}");
        }
    })
    .await;
}

#[tokio::test]
async fn long_names_in_any_script_are_stored_not_refused_with_internal() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let long = "鈴".repeat(100);
        let response = app
            .gql(
                "mutation($f: String!) { createPatient(input: { firstName: $f, lastName: $f, contactConsent: { channels: [EMAIL], consentTextVersion: \"v1\" }, email: \"x@mail.test\" }) { patient { firstName } } }",
                json!({ "f": long }),
                Some(&desk),
            )
            .await;
        assert_eq!(response["data"]["createPatient"]["patient"]["firstName"], long.as_str(), "{response}");
        let too_long_version = app
            .gql(
                "mutation($v: String!) { createPatient(input: { firstName: \"A\", lastName: \"B\", contactConsent: { channels: [EMAIL], consentTextVersion: $v } }) { patient { id } } }",
                json!({ "v": "v".repeat(65) }),
                Some(&desk),
            )
            .await;
        assert_eq!(error_code(&too_long_version), "BAD_USER_INPUT");
        let long_email = format!("{}@clinic.test", "a".repeat(400));
        assert_eq!(error_code(&app.login(&long_email, "whatever password").await), "UNAUTHENTICATED");
    })
    .await;
}

#[tokio::test]
async fn r_audit_refusals_inside_services_are_audited_too() {
    for_each_backend(|app| async move {
        let (desk_user, desk) = app.sign_in(Role::FrontDesk).await;
        let refused = app
            .gql("mutation { createPatient(input: { firstName: \"A\", lastName: \"B\", medicalHistory: { allergies: \"nuts\" } }) { patient { id } } }", json!({}), Some(&desk))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
        app.flush_audit().await;
        let (_, admin) = app.sign_in(Role::Admin).await;
        let trail = app
            .gql("query($a: ID) { auditEvents(filter: { action: ACCESS_DENIED, actorId: $a }) { edges { node { operation outcome } } } }", json!({ "a": desk_user.id.to_string() }), Some(&admin))
            .await;
        assert_eq!(trail["data"]["auditEvents"]["edges"][0]["node"]["operation"], "createPatient", "{trail}");
    })
    .await;
}

#[tokio::test]
async fn r_contact_consent_views_agree_after_linking_an_older_request() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let created = app
            .gql("mutation { createPatient(input: { firstName: \"Cy\", lastName: \"Ng\", email: \"cy@mail.test\", contactConsent: { channels: [EMAIL], consentTextVersion: \"v1\" } }) { patient { id } } }", json!({}), Some(&desk))
            .await;
        let patient = patient_id(&created).await;
        let submitted = app
            .gql(
                "mutation { submitConsultationRequest(input: { firstName: \"Cy\", lastName: \"Ng\", email: \"cy@mail.test\", preferredChannel: EMAIL, consentedChannels: [EMAIL], consentTextVersion: \"web-1\" }) { requestId } }",
                json!({}),
                None,
            )
            .await;
        let request = submitted["data"]["submitConsultationRequest"]["requestId"].as_str().unwrap().to_owned();
        app.gql(
            "mutation($p: ID!) { revokeContactConsent(input: { patientId: $p, channels: [EMAIL] }) { patient { id } } }",
            json!({ "p": patient }),
            Some(&desk),
        )
        .await;
        let converted = app
            .gql(
                "mutation($id: ID!, $p: ID!) { convertConsultationRequest(input: { id: $id, expectedVersion: 1, patientId: $p }) {
                    patient { contactableChannels contactConsent { channel granted } } } }",
                json!({ "id": request, "p": patient }),
                Some(&desk),
            )
            .await;
        let view = &converted["data"]["convertConsultationRequest"]["patient"];
        assert_eq!(view["contactableChannels"], json!(["IN_PERSON"]), "the later revocation wins: {converted}");
        let email = view["contactConsent"].as_array().unwrap().iter().find(|c| c["channel"] == "EMAIL").unwrap().clone();
        assert_eq!(email["granted"], false, "both views agree");
    })
    .await;
}

#[tokio::test]
async fn an_idempotency_key_is_free_again_after_a_day() {
    for_each_backend(|app| async move {
        let submit = "mutation { submitConsultationRequest(input: { firstName: \"K\", lastName: \"Ey\", email: \"k@mail.test\", preferredChannel: EMAIL, consentedChannels: [EMAIL], consentTextVersion: \"web-1\", idempotencyKey: \"k-1\" }) { requestId } }";
        let first = app.gql(submit, json!({}), None).await;
        let first_id = first["data"]["submitConsultationRequest"]["requestId"].clone();
        let old = (Utc::now() - Duration::hours(25)).format("%Y-%m-%d %H:%M:%S").to_string();
        app.db
            .execute_unprepared(&format!("UPDATE consultation_requests SET created_at = '{old}+00:00'"))
            .await
            .unwrap();
        let later = app.gql(submit, json!({}), None).await;
        assert!(later["errors"].is_null(), "{later}");
        assert_ne!(later["data"]["submitConsultationRequest"]["requestId"], first_id);
    })
    .await;
}

#[tokio::test]
async fn r_contact_a_partner_always_records_itself_as_the_consent_source() {
    for_each_backend(|app| async move {
        let (_, crm) = app.api_key(&["patients:read", "patients:write"]).await;
        let created = app
            .gql(
                "mutation { createPatient(input: { firstName: \"P\", lastName: \"Q\", phone: \"+12127365000\",
                    contactConsent: { channels: [TEXT], consentTextVersion: \"crm-1\", source: \"STAFF\" } }) {
                    patient { contactConsent { channel source } } } }",
                json!({}),
                Some(&crm),
            )
            .await;
        let consent = &created["data"]["createPatient"]["patient"]["contactConsent"];
        let text = consent.as_array().unwrap_or_else(|| panic!("{created}")).iter().find(|c| c["channel"] == "TEXT").unwrap().clone();
        assert_eq!(text["source"], "PARTNER:Partner widget");
    })
    .await;
}
