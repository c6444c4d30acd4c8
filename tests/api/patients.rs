//! Patients: demographics, clinical data hidden from the front desk (root
//! and nested), contact consent, archive, search, paging, optimistic
//! locking, audit, and a statement count that does not grow with the page.

use dermagraph::{
    auth::actor::RequestContext,
    domain::{patient::ContactChannel, staff::Role},
    entities::patients,
    services::patients::{
        ClinicalDetails, ConsentGrant, Demographics, MedicalHistoryInput, create_patient,
        insert_with_free_chart_number,
    },
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, error_codes, for_each_backend, for_each_backend_with};

const CREATE: &str =
    "mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient {
    id chartNumber firstName lastName email phone version archived
    contactConsent { channel granted source consentTextVersion } contactableChannels } } }";

async fn seed_patient(app: &TestApp, first: &str, last: &str) -> uuid::Uuid {
    create_patient(
        &app.db,
        &RequestContext::system(),
        Demographics {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            email: Some(format!(
                "{}.{}@mail.test",
                first.to_lowercase(),
                uuid::Uuid::now_v7().simple()
            )),
            phone: Some("(212) 736-5000".to_owned()),
            ..Demographics::default()
        },
        ClinicalDetails {
            medical_history: Some(MedicalHistoryInput {
                allergies: "latex".to_owned(),
                ..MedicalHistoryInput::default()
            }),
            ..ClinicalDetails::default()
        },
        Some(ConsentGrant {
            channels: [ContactChannel::Email, ContactChannel::Text].into(),
            source: "WEB_FORM".to_owned(),
            consent_text_version: Some("v1".to_owned()),
        }),
    )
    .await
    .expect("patient")
    .id
}

#[tokio::test]
async fn the_front_desk_registers_a_patient_with_normalized_contact_data() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let response = app
            .gql(
                CREATE,
                json!({ "input": {
                    "firstName": " Maya ", "lastName": "Okafor", "email": "Maya.Okafor@Mail.TEST",
                    "phone": "(212) 736-5000", "dateOfBirth": "1990-04-12", "preferredChannel": "TEXT",
                    "address": { "city": "Brooklyn", "region": "NY", "country": "us" },
                    "contactConsent": { "channels": ["TEXT", "EMAIL"], "consentTextVersion": "2026-01", "source": "PHONE" }
                } }),
                Some(&desk),
            )
            .await;
        let patient = &response["data"]["createPatient"]["patient"];
        assert_eq!(patient["firstName"], "Maya", "{response}");
        assert_eq!(patient["email"], "maya.okafor@mail.test");
        assert_eq!(patient["phone"], "+12127365000");
        assert!(patient["chartNumber"].as_str().unwrap().starts_with("DG-"));
        let consent = patient["contactConsent"].as_array().unwrap();
        let granted: Vec<_> = consent.iter().filter(|c| c["granted"] == true).map(|c| c["channel"].clone()).collect();
        assert_eq!(granted, vec![json!("TEXT"), json!("EMAIL")]);
        assert_eq!(patient["contactableChannels"], json!(["TEXT", "EMAIL", "IN_PERSON"]));

        for (input, field) in [
            (json!({ "firstName": "A", "lastName": "B", "phone": "12" }), "phone"),
            (json!({ "firstName": "A", "lastName": "B", "email": "nope" }), "email"),
            (json!({ "firstName": "A", "lastName": "B", "dateOfBirth": "2015-01-01" }), "dateOfBirth"),
            (json!({ "firstName": " ", "lastName": "B" }), "firstName"),
        ] {
            let response = app.gql(CREATE, json!({ "input": input }), Some(&desk)).await;
            assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
    })
    .await;
}

#[tokio::test]
async fn front_desk_never_sees_or_writes_clinical_data_at_the_root_or_nested() {
    for_each_backend(|app| async move {
        let patient = seed_patient(&app, "Lena", "Fischer").await;
        let (_, provider) = app.sign_in(Role::Provider).await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let (_, partner) = app.api_key(&["patients:read"]).await;
        let root = "query($id: ID!) { patient(id: $id) { firstName medicalHistory { allergies } fitzpatrickType } }";
        let nested = "{ patients(first: 5) { edges { node { firstName medicalHistory { allergies } skinConcerns } } } }";

        let as_provider = app.gql(root, json!({ "id": patient.to_string() }), Some(&provider)).await;
        assert_eq!(as_provider["data"]["patient"]["medicalHistory"]["allergies"], "latex", "{as_provider}");
        assert!(as_provider["errors"].is_null());

        for (who, token) in [("FRONT_DESK", &desk), ("partner with patients:read", &partner)] {
            let at_root = app.gql(root, json!({ "id": patient.to_string() }), Some(token)).await;
            assert_eq!(at_root["data"]["patient"]["firstName"], "Lena", "{who} still sees demographics");
            assert!(at_root["data"]["patient"]["medicalHistory"].is_null(), "{who}: {at_root}");
            assert_eq!(error_codes(&at_root), vec!["FORBIDDEN", "FORBIDDEN"], "{who}");
            assert!(!at_root.to_string().contains("latex"));

            let deep = app.gql(nested, json!({}), Some(token)).await;
            assert!(deep["data"]["patients"]["edges"][0]["node"]["medicalHistory"].is_null(), "{who}: {deep}");
            assert!(error_codes(&deep).iter().all(|code| code == "FORBIDDEN") && !error_codes(&deep).is_empty());
            assert!(!deep.to_string().contains("latex"));
        }

        let write = app
            .gql(CREATE, json!({ "input": { "firstName": "A", "lastName": "B", "medicalHistory": { "allergies": "nuts" } } }), Some(&desk))
            .await;
        assert_eq!(error_code(&write), "FORBIDDEN");
    })
    .await;
}

#[tokio::test]
async fn partners_need_the_patient_scopes() {
    for_each_backend(|app| async move {
        seed_patient(&app, "Ana", "Silva").await;
        let (_, widget) = app.api_key(&["consultation_requests:write"]).await;
        let (_, crm) = app.api_key(&["patients:read"]).await;
        let list = "{ patients { totalCount } }";
        assert_eq!(
            error_code(&app.gql(list, json!({}), Some(&widget)).await),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(list, json!({}), Some(&crm)).await["data"]["patients"]["totalCount"],
            1
        );
        let create = app
            .gql(
                CREATE,
                json!({ "input": { "firstName": "A", "lastName": "B" } }),
                Some(&crm),
            )
            .await;
        assert_eq!(
            error_code(&create),
            "FORBIDDEN",
            "patients:read cannot write"
        );
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_writes_nothing() {
    for_each_backend(|app| async move {
        let patient = seed_patient(&app, "Omar", "Haddad").await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let update = "mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { preferredName version } } }";
        let first = app.gql(update, json!({ "input": { "id": patient.to_string(), "expectedVersion": 1, "preferredName": "Om" } }), Some(&desk)).await;
        assert_eq!(first["data"]["updatePatient"]["patient"]["version"], 2, "{first}");
        let stale = app.gql(update, json!({ "input": { "id": patient.to_string(), "expectedVersion": 1, "preferredName": "Lost" } }), Some(&desk)).await;
        assert_eq!(error_code(&stale), "CONFLICT");
        let read = app.gql("query($id: ID!) { patient(id: $id) { preferredName version } }", json!({ "id": patient.to_string() }), Some(&desk)).await;
        assert_eq!(read["data"]["patient"]["preferredName"], "Om");
        assert_eq!(read["data"]["patient"]["version"], 2);
    })
    .await;
}

#[tokio::test]
async fn r_records_archived_patients_leave_the_default_list_but_are_kept() {
    for_each_backend(|app| async move {
        let patient = seed_patient(&app, "Iris", "Chen").await;
        seed_patient(&app, "Noah", "Brown").await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let archive = app
            .gql(
                "mutation($input: ArchivePatientInput!) { archivePatient(input: $input) { patient { archived archivedAt } } }",
                json!({ "input": { "id": patient.to_string(), "expectedVersion": 1 } }),
                Some(&desk),
            )
            .await;
        assert_eq!(archive["data"]["archivePatient"]["patient"]["archived"], true, "{archive}");
        let names = |response: &Value, key: &str| -> Vec<String> {
            response["data"][key]["edges"].as_array().unwrap().iter().map(|e| e["node"]["lastName"].as_str().unwrap().to_owned()).collect()
        };
        let active = app.gql("{ patients { totalCount edges { node { lastName } } } }", json!({}), Some(&desk)).await;
        assert_eq!(names(&active, "patients"), vec!["Brown"]);
        let archived = app.gql("{ patients(filter: { archived: true }) { edges { node { lastName } } } }", json!({}), Some(&desk)).await;
        assert_eq!(names(&archived, "patients"), vec!["Chen"]);
        let by_id = app.gql("query($id: ID!) { patient(id: $id) { lastName } }", json!({ "id": patient.to_string() }), Some(&desk)).await;
        assert_eq!(by_id["data"]["patient"]["lastName"], "Chen", "archived records stay readable");
        let update = app
            .gql("mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { id } } }", json!({ "input": { "id": patient.to_string(), "expectedVersion": 2, "preferredName": "I" } }), Some(&desk))
            .await;
        assert_eq!(error_code(&update), "INVALID_STATE");
    })
    .await;
}

#[tokio::test]
async fn search_ignores_case_and_accents() {
    for_each_backend(|app| async move {
        seed_patient(&app, "Zoë", "Núñez").await;
        seed_patient(&app, "Zoe", "Smith").await;
        seed_patient(&app, "Paul", "Martin").await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let search = "query($s: String) { patients(filter: { search: $s }) { totalCount edges { node { lastName } } } }";
        for (term, expected) in [("zoe nunez", 1), ("NÚÑEZ", 1), ("ZOË", 2), ("mart", 1), ("7365000", 3), ("nobody", 0), ("100%_", 0)] {
            let response = app.gql(search, json!({ "s": term }), Some(&desk)).await;
            assert_eq!(response["data"]["patients"]["totalCount"], expected, "{term}: {response}");
        }
    })
    .await;
}

#[tokio::test]
async fn patients_page_forward_and_backward_over_a_boundary() {
    for_each_backend(|app| async move {
        for last in ["Adams", "Baker", "Clark", "Davis", "Evans"] {
            seed_patient(&app, "Pat", last).await;
        }
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let query = "query($first: Int, $after: String, $last: Int, $before: String) {
            patients(first: $first, after: $after, last: $last, before: $before) {
              pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { lastName } } } }";
        let names = |response: &Value| -> Vec<String> {
            response["data"]["patients"]["edges"].as_array().unwrap_or_else(|| panic!("{response}")).iter().map(|e| e["node"]["lastName"].as_str().unwrap().to_owned()).collect()
        };
        let page1 = app.gql(query, json!({ "first": 2 }), Some(&desk)).await;
        assert_eq!(names(&page1), ["Adams", "Baker"]);
        let end = page1["data"]["patients"]["pageInfo"]["endCursor"].clone();
        let page2 = app.gql(query, json!({ "first": 2, "after": end }), Some(&desk)).await;
        assert_eq!(names(&page2), ["Clark", "Davis"]);
        assert_eq!(page2["data"]["patients"]["pageInfo"]["hasNextPage"], true);
        assert_eq!(page2["data"]["patients"]["pageInfo"]["hasPreviousPage"], true);
        let start = page2["data"]["patients"]["pageInfo"]["startCursor"].clone();
        let back = app.gql(query, json!({ "last": 2, "before": start }), Some(&desk)).await;
        assert_eq!(names(&back), ["Adams", "Baker"]);
        assert_eq!(back["data"]["patients"]["pageInfo"]["hasPreviousPage"], false);
        let tail = app.gql(query, json!({ "last": 2 }), Some(&desk)).await;
        assert_eq!(names(&tail), ["Davis", "Evans"]);
        let bogus = app.gql(query, json!({ "first": 2, "after": "garbage" }), Some(&desk)).await;
        assert_eq!(error_code(&bogus), "BAD_USER_INPUT");
        assert_eq!(bogus["errors"][0]["extensions"]["field"], "after");
    })
    .await;
}

#[tokio::test]
async fn r_contact_consent_is_recorded_and_revoked_with_history() {
    for_each_backend(|app| async move {
        let patient = seed_patient(&app, "Rosa", "Diaz").await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let change = |name: &str| {
            let input = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
            format!("mutation($input: {input}!) {{ {name}(input: $input) {{ patient {{ contactableChannels contactConsentHistory {{ channel granted }} }} }} }}")
        };
        let revoke = app
            .gql(&change("revokeContactConsent"), json!({ "input": { "patientId": patient.to_string(), "channels": ["TEXT"] } }), Some(&desk))
            .await;
        let patient_view = &revoke["data"]["revokeContactConsent"]["patient"];
        assert_eq!(patient_view["contactableChannels"], json!(["EMAIL", "IN_PERSON"]), "{revoke}");
        assert_eq!(patient_view["contactConsentHistory"].as_array().unwrap().len(), 3, "history is kept");
        let missing_version = app
            .gql(&change("recordContactConsent"), json!({ "input": { "patientId": patient.to_string(), "channels": ["PHONE"] } }), Some(&desk))
            .await;
        assert_eq!(missing_version["errors"][0]["extensions"]["field"], "consentTextVersion");
        let record = app
            .gql(&change("recordContactConsent"), json!({ "input": { "patientId": patient.to_string(), "channels": ["PHONE"], "consentTextVersion": "v2" } }), Some(&desk))
            .await;
        assert_eq!(record["data"]["recordContactConsent"]["patient"]["contactableChannels"], json!(["PHONE", "EMAIL", "IN_PERSON"]));
    })
    .await;
}

#[tokio::test]
async fn r_audit_every_patient_read_and_write_is_audited() {
    for_each_backend(|app| async move {
        let (_, provider) = app.sign_in(Role::Provider).await;
        let response = app.gql(CREATE, json!({ "input": { "firstName": "Eve", "lastName": "Adler" } }), Some(&provider)).await;
        let id = response["data"]["createPatient"]["patient"]["id"].as_str().unwrap().to_owned();
        app.gql("query($id: ID!) { patient(id: $id) { firstName medicalHistory { notes } } }", json!({ "id": id }), Some(&provider)).await;
        app.gql("{ patients { edges { node { id } } } }", json!({}), Some(&provider)).await;
        app.flush_audit().await;
        let (_, admin) = app.sign_in(Role::Admin).await;
        let trail = app
            .gql(
                "query($p: ID) { auditEvents(filter: { patientId: $p }) { edges { node { action entityType operation } } } }",
                json!({ "p": id }),
                Some(&admin),
            )
            .await;
        let entries: Vec<(String, String, String)> = trail["data"]["auditEvents"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = &e["node"];
                (n["action"].as_str().unwrap().into(), n["entityType"].as_str().unwrap().into(), n["operation"].as_str().unwrap().into())
            })
            .collect();
        for expected in [
            ("CREATE", "Patient", "createPatient"),
            ("READ", "Patient", "patient"),
            ("READ", "MedicalHistory", "Patient.medicalHistory"),
            ("READ", "Patient", "patients"),
        ] {
            assert!(
                entries.contains(&(expected.0.into(), expected.1.into(), expected.2.into())),
                "missing {expected:?} in {entries:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn statement_count_does_not_grow_with_the_page_size() {
    for_each_backend_with(
        // A wide batch window, so a busy shared machine cannot split a batch.
        |config| config.batch_window_ms = 50,
        |app| async move {
            for n in 0..50 {
                seed_patient(&app, "Page", &format!("Patient{n:02}")).await;
            }
            let (_, provider) = app.sign_in(Role::Provider).await;
            let query = "query($n: Int) { patients(first: $n) { totalCount edges { node {
                id firstName medicalHistory { allergies } contactConsent { channel granted } contactableChannels } } } }";
            let mut counts = Vec::new();
            for size in [5, 50] {
                let before = app.statements_executed();
                let response = app.gql(query, json!({ "n": size }), Some(&provider)).await;
                assert!(response["errors"].is_null(), "{response}");
                assert_eq!(response["data"]["patients"]["edges"].as_array().unwrap().len(), size);
                counts.push(app.statements_executed() - before);
            }
            assert_eq!(counts[0], counts[1], "statements for 5 and 50 patients: {counts:?}");
            assert!(counts[0] <= 6, "auth + count + page + one batch per relation: {counts:?}");
        },
    )
    .await;
}

#[tokio::test]
async fn the_total_is_counted_only_when_the_client_asks_for_it() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        for last in ["Ames", "Baker", "Cole"] {
            seed_patient(&app, "Ana", last).await;
        }
        let mut statements = Vec::new();
        let mut bodies = Vec::new();
        for query in [
            "{ patients(first: 2) { edges { node { id } } } }",
            "{ patients(first: 2) { ...Counted edges { node { id } } } }
             fragment Counted on PatientConnection { totalCount }",
        ] {
            let before = app.statements_executed();
            bodies.push(app.gql(query, json!({}), Some(&token)).await);
            statements.push(app.statements_executed() - before);
        }
        assert_eq!(statements[1], statements[0] + 1, "{statements:?}");
        assert!(bodies[0]["errors"].is_null(), "{}", bodies[0]);
        assert_eq!(bodies[1]["data"]["patients"]["totalCount"], 3);
    })
    .await;
}

#[tokio::test]
async fn a_chart_number_already_taken_is_drawn_again_not_a_conflict() {
    for_each_backend(|app| async move {
        let first = seed_patient(&app, "Maya", "Okafor").await;
        let taken = patients::Entity::find_by_id(first)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        // A second patient whose first random chart number collides.
        let mut second = taken.clone();
        second.id = uuid::Uuid::now_v7();
        second.first_name = "Liam".to_owned();
        let mut draws = ["DG-ZZZZZZ".to_owned()].into_iter();
        let stored = insert_with_free_chart_number(&app.db, second.clone(), || {
            draws.next().expect("one more draw")
        })
        .await
        .expect("a collision of chart numbers is not the caller's conflict");
        assert_eq!(stored.chart_number, "DG-ZZZZZZ");
        let reread = patients::Entity::find_by_id(second.id)
            .one(&app.db)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(reread.chart_number, "DG-ZZZZZZ");
        assert_eq!(reread.first_name, "Liam");
        let unchanged = patients::Entity::find_by_id(first)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(unchanged, taken, "the first patient keeps its number");
    })
    .await;
}
