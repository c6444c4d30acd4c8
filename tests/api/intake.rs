//! Consultation requests: R-CONTACT, R-HONEYPOT, R-DEDUP, rate limits,
//! idempotency, the staff worklist and conversion into a patient.

use dermagraph::domain::staff::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, for_each_backend};

const SUBMIT: &str = "mutation($input: SubmitConsultationRequestInput!) { submitConsultationRequest(input: $input) { requestId message } }";
const REQUEST: &str = "query($id: ID!) { consultationRequest(id: $id) {
    id status source sourceDetail email phone consentedChannels consentTextVersion version
    suggestedPatient { id } patient { id } contactAttempts staffNotes } }";

fn form(overrides: Value) -> Value {
    let mut input = json!({
        "firstName": "Maya", "lastName": "Okafor", "email": "maya@mail.test", "phone": "212 736 5000",
        "preferredChannel": "TEXT", "consentedChannels": ["TEXT", "EMAIL"], "consentTextVersion": "web-2026-01",
        "message": "Acne scars on both cheeks"
    });
    for (key, value) in overrides.as_object().unwrap() {
        input[key] = value.clone();
    }
    json!({ "input": input })
}

async fn submit(app: &TestApp, overrides: Value, token: Option<&str>) -> Value {
    app.gql(SUBMIT, form(overrides), token).await
}

async fn request_id(response: &Value) -> String {
    response["data"]["submitConsultationRequest"]["requestId"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

#[tokio::test]
async fn r_contact_the_public_form_needs_consent_to_be_contacted() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let accepted = submit(&app, json!({}), None).await;
        let id = request_id(&accepted).await;
        let stored = app.gql(REQUEST, json!({ "id": id }), Some(&desk)).await;
        let row = &stored["data"]["consultationRequest"];
        assert_eq!(row["status"], "NEW", "{stored}");
        assert_eq!(row["source"], "WEB_FORM");
        assert_eq!(row["phone"], "+12127365000");
        assert_eq!(row["consentedChannels"], json!(["TEXT", "EMAIL"]));
        assert_eq!(row["consentTextVersion"], "web-2026-01");

        for (overrides, field) in [
            (json!({ "consentedChannels": [] }), "consentedChannels"),
            (json!({ "preferredChannel": "PHONE" }), "consentedChannels"),
            (json!({ "email": null }), "email"),
            (json!({ "phone": null }), "phone"),
            (json!({ "consentTextVersion": " " }), "consentTextVersion"),
            (json!({ "firstName": "" }), "firstName"),
        ] {
            let refused = submit(&app, overrides.clone(), None).await;
            assert_eq!(
                error_code(&refused),
                "BAD_USER_INPUT",
                "{overrides}: {refused}"
            );
            assert_eq!(
                refused["errors"][0]["extensions"]["field"], field,
                "{overrides}"
            );
        }
        let list = app
            .gql(
                "{ consultationRequests { totalCount } }",
                json!({}),
                Some(&desk),
            )
            .await;
        assert_eq!(
            list["data"]["consultationRequests"]["totalCount"], 1,
            "refused requests store nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn r_honeypot_a_filled_honeypot_gets_the_same_answer_and_is_stored_as_spam() {
    for_each_backend(|app| async move {
        let human = submit(&app, json!({}), None).await;
        let bot = submit(&app, json!({ "honeypot": "http://cheap-pills.example" }), None).await;
        assert_eq!(bot["data"]["submitConsultationRequest"]["message"], human["data"]["submitConsultationRequest"]["message"]);
        assert!(bot["errors"].is_null());
        let bot_id = request_id(&bot).await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let default_list = app.gql("{ consultationRequests { totalCount edges { node { id } } } }", json!({}), Some(&desk)).await;
        assert_eq!(default_list["data"]["consultationRequests"]["totalCount"], 1);
        assert!(!default_list.to_string().contains(&bot_id), "SPAM is hidden by default");
        let spam = app.gql("{ consultationRequests(filter: { status: SPAM }) { edges { node { id status } } } }", json!({}), Some(&desk)).await;
        assert_eq!(spam["data"]["consultationRequests"]["edges"][0]["node"]["id"], bot_id.as_str());
    })
    .await;
}

#[tokio::test]
async fn r_honeypot_public_submissions_are_rate_limited_per_ip() {
    // README: 10 per client IP in 15 minutes (the default).
    for_each_backend(|app| async move {
        for n in 0..10 {
            let ok = submit(&app, json!({ "lastName": format!("Okafor{n}") }), None).await;
            assert!(ok["errors"].is_null(), "submission {n}: {ok}");
        }
        let limited = submit(&app, json!({}), None).await;
        assert_eq!(error_code(&limited), "RATE_LIMITED", "the 11th: {limited}");
        let wait = limited["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap();
        assert!(
            (800..=900).contains(&wait),
            "until 15 minutes after the first: {wait}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_first_request() {
    for_each_backend(|app| async move {
        let first =
            request_id(&submit(&app, json!({ "idempotencyKey": "form-7f2" }), None).await).await;
        let retry = request_id(
            &submit(
                &app,
                json!({ "idempotencyKey": "form-7f2", "message": "changed" }),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(first, retry);
        let other =
            request_id(&submit(&app, json!({ "idempotencyKey": "form-8a1" }), None).await).await;
        assert_ne!(first, other);
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let list = app
            .gql(
                "{ consultationRequests { totalCount } }",
                json!({}),
                Some(&desk),
            )
            .await;
        assert_eq!(list["data"]["consultationRequests"]["totalCount"], 2);
    })
    .await;
}

#[tokio::test]
async fn partners_submit_with_their_scope_and_are_named_as_the_source() {
    for_each_backend(|app| async move {
        let (_, widget) = app.api_key(&["consultation_requests:write"]).await;
        let (_, crm) = app.api_key(&["patients:read"]).await;
        let id = request_id(&submit(&app, json!({}), Some(&widget)).await).await;
        assert_eq!(
            error_code(&submit(&app, json!({}), Some(&crm)).await),
            "FORBIDDEN"
        );
        assert_eq!(
            error_code(&submit(&app, json!({}), Some("dg_notarealkey1_xxxxxxxx")).await),
            "UNAUTHENTICATED"
        );
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let row = app.gql(REQUEST, json!({ "id": id }), Some(&desk)).await;
        assert_eq!(row["data"]["consultationRequest"]["source"], "PARTNER");
        assert_eq!(
            row["data"]["consultationRequest"]["sourceDetail"],
            "Partner widget"
        );
        assert_eq!(
            error_code(&app.gql(REQUEST, json!({ "id": id }), Some(&widget)).await),
            "FORBIDDEN",
            "partners cannot read the worklist"
        );
        assert_eq!(
            error_code(&app.gql(REQUEST, json!({ "id": id }), None).await),
            "UNAUTHENTICATED"
        );
    })
    .await;
}

#[tokio::test]
async fn r_dedup_a_matching_patient_is_suggested_not_merged_and_conversion_carries_consent() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let existing = app
            .gql(
                "mutation { createPatient(input: { firstName: \"Maya\", lastName: \"Okafor\", email: \"MAYA@mail.test\" }) { patient { id } } }",
                json!({}),
                Some(&desk),
            )
            .await;
        let patient_id = existing["data"]["createPatient"]["patient"]["id"].as_str().unwrap().to_owned();
        let id = request_id(&submit(&app, json!({}), None).await).await;
        let row = app.gql(REQUEST, json!({ "id": id }), Some(&desk)).await;
        assert_eq!(row["data"]["consultationRequest"]["suggestedPatient"]["id"], patient_id.as_str(), "{row}");
        assert!(row["data"]["consultationRequest"]["patient"].is_null(), "not merged silently");

        let convert = "mutation($input: ConvertConsultationRequestInput!) { convertConsultationRequest(input: $input) {
            consultationRequest { status version } patient { id contactableChannels contactConsent { channel granted source consentTextVersion } } } }";
        let converted = app
            .gql(convert, json!({ "input": { "id": id, "expectedVersion": 1, "useSuggestedPatient": true } }), Some(&desk))
            .await;
        let payload = &converted["data"]["convertConsultationRequest"];
        assert_eq!(payload["consultationRequest"]["status"], "CONVERTED", "{converted}");
        assert_eq!(payload["patient"]["id"], patient_id.as_str());
        assert_eq!(payload["patient"]["contactableChannels"], json!(["TEXT", "EMAIL", "IN_PERSON"]));
        let text = payload["patient"]["contactConsent"].as_array().unwrap().iter().find(|c| c["channel"] == "TEXT").unwrap().clone();
        assert_eq!(text["source"], "WEB_FORM");
        assert_eq!(text["consentTextVersion"], "web-2026-01");

        let again = app.gql(convert, json!({ "input": { "id": id, "expectedVersion": 2 } }), Some(&desk)).await;
        assert_eq!(error_code(&again), "INVALID_STATE");

        // Without a match, conversion creates the patient from the request.
        let fresh = request_id(&submit(&app, json!({ "firstName": "Jon", "lastName": "Park", "email": "jon@mail.test", "phone": "+44 20 7946 0958" }), None).await).await;
        let created = app.gql(convert, json!({ "input": { "id": fresh, "expectedVersion": 1 } }), Some(&desk)).await;
        let new_patient = &created["data"]["convertConsultationRequest"]["patient"];
        assert_ne!(new_patient["id"], patient_id.as_str(), "{created}");
        assert_eq!(new_patient["contactableChannels"], json!(["TEXT", "EMAIL", "IN_PERSON"]));
    })
    .await;
}

#[tokio::test]
async fn the_front_desk_works_the_request_with_optimistic_locking() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let id = request_id(&submit(&app, json!({}), None).await).await;
        let update = "mutation($input: UpdateConsultationRequestInput!) { updateConsultationRequest(input: $input) { consultationRequest { status contactAttempts staffNotes version } } }";
        let called = app
            .gql(update, json!({ "input": { "id": id, "expectedVersion": 1, "status": "CONTACTED", "contactAttempted": true, "staffNotes": "left voicemail" } }), Some(&desk))
            .await;
        let row = &called["data"]["updateConsultationRequest"]["consultationRequest"];
        assert_eq!(row["status"], "CONTACTED", "{called}");
        assert_eq!(row["contactAttempts"], 1);
        assert_eq!(row["version"], 2);
        let stale = app.gql(update, json!({ "input": { "id": id, "expectedVersion": 1, "status": "DECLINED" } }), Some(&desk)).await;
        assert_eq!(error_code(&stale), "CONFLICT");
        let sneaky = app.gql(update, json!({ "input": { "id": id, "expectedVersion": 2, "status": "CONVERTED" } }), Some(&desk)).await;
        assert_eq!(error_code(&sneaky), "INVALID_STATE");
    })
    .await;
}
