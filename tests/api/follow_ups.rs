//! Follow-ups and aftercare: R-FOLLOWUP (created with the completion, per
//! case), R-AFTERCARE, R-CONTACT on follow-up calls, MISSED after the
//! policy's attempts, R-ADVERSE escalation, and the worklist's "due today"
//! in the clinic's time zone.

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use dermagraph::entities::follow_ups;
use migration::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{TestApp, error_code, for_each_backend},
    procedures::{
        Staff, add_session, clean_screening, clinic_date_in, complete, day_at, new_device, prep,
        procedure_of, record_screening, schedule, session, sign_consent, staff, start,
        with_new_provider,
    },
};

const FOLLOW_UPS: &str = "query($id: ID!) { procedure(id: $id) {
    followUps { id kind dueAt channel status version } } }";

/// When an adverse event was flagged on the procedure (a clinical fact:
/// `token` must be a provider's or an admin's).
async fn adverse_event_flagged_at(app: &TestApp, token: &str, procedure: &str) -> Value {
    let response = app
        .gql(
            "query($id: ID!) { procedure(id: $id) { adverseEventFlaggedAt } }",
            json!({ "id": procedure }),
            Some(token),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["procedure"]["adverseEventFlaggedAt"].clone()
}
pub(crate) const COMPLETE_FOLLOW_UP: &str = "mutation($input: CompleteFollowUpInput!) { completeFollowUp(input: $input) {
    followUp { status attempts channelUsed version } providerReview { kind status dueAt channel } } }";

/// A patient who consents to EMAIL and TEXT and prefers EMAIL.
async fn consenting_patient(app: &TestApp, staff: &Staff, last: &str) -> String {
    let response = app
        .gql(
            "mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient { id } } }",
            json!({ "input": { "firstName": "Test", "lastName": last, "email": format!("{last}@example.com"),
                "preferredChannel": "EMAIL", "contactConsent": { "channels": ["EMAIL", "TEXT"], "consentTextVersion": "web-1" } } }),
            Some(&staff.desk),
        )
        .await;
    response["data"]["createPatient"]["patient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_owned()
}

/// A plan of `planned` sessions, made at a consultation `hours` from now.
async fn plan(app: &TestApp, staff: &Staff, patient: &str, planned: i32, hours: i64) {
    let starts = (Utc::now() + Duration::hours(hours))
        .format("%Y-%m-%dT%H:00:00Z")
        .to_string();
    let booked = app
        .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
            json!({ "input": { "patientId": patient, "providerId": staff.provider_id, "startsAt": starts, "durationMinutes": 30 } }),
            Some(&staff.desk))
        .await;
    let id = booked["data"]["scheduleConsultation"]["consultation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{booked}"))
        .to_owned();
    let done = app
        .gql("mutation($input: CompleteConsultationInput!) { completeConsultation(input: $input) { treatmentPlan { id } } }",
            json!({ "input": { "id": id, "expectedVersion": 1, "screening": clean_screening(),
                "treatmentPlan": { "plannedSessions": planned, "areas": ["CHEEKS"] } } }),
            Some(&staff.provider))
        .await;
    assert!(done["errors"].is_null(), "{done}");
}

/// A completed procedure over `areas`; a plan of `planned` sessions when
/// given. Returns (patient, procedure).
pub(crate) async fn completed(
    app: &TestApp,
    staff: &Staff,
    last: &str,
    areas: Value,
    planned: Option<i32>,
) -> (String, String) {
    let patient = consenting_patient(app, staff, last).await;
    sign_consent(app, staff, &patient).await;
    match planned {
        Some(planned) => plan(app, staff, &patient, planned, 3).await,
        None => record_screening(app, staff, &patient, clean_screening(), None).await,
    }
    let mut input = json!({ "patientId": patient, "providerId": staff.provider_id, "startsAt": day_at(1), "durationMinutes": 60 });
    input["areas"] = areas.clone();
    let (id, version) = procedure_of(&schedule(app, &staff.desk, input).await);
    let started = start(app, &staff.provider, &id, version, prep(), None).await;
    assert!(started["errors"].is_null(), "{started}");
    let pen = new_device(app, staff, &format!("PEN-{last}"), 2.5).await;
    let area = areas[0].as_str().unwrap_or("CHEEKS");
    let depth = if area == "PERIORBITAL" { 0.25 } else { 1.0 };
    let added = add_session(
        app,
        &staff.provider,
        session(&id, &pen, &format!("C-{last}"), "LOT-F", area, depth, 0),
    )
    .await;
    assert!(added["errors"].is_null(), "{added}");
    let done = complete(app, &staff.provider, &id, 50).await;
    assert!(done["errors"].is_null(), "{done}");
    (patient, id)
}

pub(crate) async fn follow_ups_of(app: &TestApp, token: &str, procedure: &str) -> Value {
    let response = app
        .gql(FOLLOW_UPS, json!({ "id": procedure }), Some(token))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["procedure"].clone()
}

fn kinds_and_days(follow_ups: &Value) -> Vec<(String, String)> {
    follow_ups["followUps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["dueAt"].as_str().unwrap()[..10].to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn r_followup_first_session_of_a_plan_books_the_next_on_the_preferred_channel() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, procedure) = completed(&app, &staff, "First", json!(["CHEEKS"]), Some(3)).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        // Performed today: due dates count from today (10:00 New York is
        // the same calendar day in UTC).
        let expected: Vec<(String, String)> = [
            ("DAY_1_CHECK", 1),
            ("HEALING_CHECK", 3),
            ("WEEK_1_REVIEW", 7),
            ("NEXT_SESSION", 56),
        ]
        .iter()
        .map(|(kind, days)| ((*kind).to_owned(), clinic_date_in(*days)))
        .collect();
        assert_eq!(kinds_and_days(&view), expected, "{view}");
        assert!(
            view["followUps"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["channel"] == "EMAIL" && f["status"] == "PENDING")
        );
        assert!(
            adverse_event_flagged_at(&app, &staff.provider, &procedure)
                .await
                .is_null()
        );
    })
    .await;
}

#[tokio::test]
async fn r_followup_r_aftercare_periorbital_last_session_gets_a_bruising_check_and_a_refresher() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, procedure) = completed(&app, &staff, "Eyes", json!(["PERIORBITAL"]), Some(1)).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        let kinds: Vec<_> = kinds_and_days(&view).into_iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, ["DAY_1_CHECK", "HEALING_CHECK", "BRUISING_CHECK", "WEEK_1_REVIEW", "ANNUAL_REFRESHER"], "{view}");
        assert_eq!(kinds_and_days(&view)[4].1, clinic_date_in(365));

        // The front desk reads the aftercare sheet: it is what they tell callers.
        let sheet = app
            .gql("query($id: ID!) { procedure(id: $id) { aftercare { procedureDate steps { phase fromDate toDate avoid expectedEffects } } } }",
                json!({ "id": procedure }), Some(&staff.desk))
            .await;
        let plan = &sheet["data"]["procedure"]["aftercare"];
        assert_eq!(plan["procedureDate"], clinic_date_in(0), "{sheet}");
        let phases: Vec<_> = plan["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap().to_owned()).collect();
        assert_eq!(phases, ["DAY_0", "DAY_1", "DAYS_2_TO_7", "PERIORBITAL_BRUISING", "DAY_7_ONWARD", "ALWAYS"]);
        assert!(plan["steps"][0]["avoid"][0].as_str().unwrap().contains("ibuprofen"));
        assert_eq!(plan["steps"][2]["fromDate"], clinic_date_in(2));
        assert_eq!(plan["steps"][2]["toDate"], clinic_date_in(7));

        let other = with_new_provider(&app, &staff).await;
        let (_, cheeks) = completed(&app, &other, "NoEyes", json!(["CHEEKS"]), None).await;
        let view = follow_ups_of(&app, &staff.desk, &cheeks).await;
        let kinds: Vec<_> = kinds_and_days(&view).into_iter().map(|(kind, _)| kind).collect();
        assert_eq!(kinds, ["DAY_1_CHECK", "HEALING_CHECK", "WEEK_1_REVIEW"], "no plan: no next session; {view}");
    })
    .await;
}

#[tokio::test]
async fn r_contact_follow_up_calls_use_consented_channels_and_are_missed_after_the_policy_attempts()
{
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (_, procedure) = completed(&app, &staff, "Calls", json!(["CHEEKS"]), None).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        let first = &view["followUps"][0];
        let (id, version) = (first["id"].as_str().unwrap().to_owned(), first["version"].as_i64().unwrap());

        let refused = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": id, "expectedVersion": version, "channel": "PHONE", "reached": true } }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&refused), "CONTACT_NOT_CONSENTED", "{refused}");
        let channel = refused["errors"][0]["extensions"]["channel"].as_str().unwrap().to_owned();
        assert!(["PHONE", "TEXT", "EMAIL"].contains(&channel.as_str()), "the API's spelling: {refused}");
        assert!(refused["errors"][0]["message"].as_str().unwrap().contains(&channel), "{refused}");

        let mut version = version;
        for attempt in 1..=3 {
            let tried = app
                .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": id, "expectedVersion": version, "channel": "TEXT", "reached": false } }), Some(&staff.desk))
                .await;
            let follow_up = &tried["data"]["completeFollowUp"]["followUp"];
            assert_eq!(follow_up["attempts"], attempt, "{tried}");
            assert_eq!(follow_up["status"], if attempt < 3 { "PENDING" } else { "MISSED" });
            version = follow_up["version"].as_i64().unwrap();
        }
        let after = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": id, "expectedVersion": version, "channel": "TEXT", "reached": true } }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&after), "INVALID_STATE", "{after}");

        let second = &view["followUps"][1];
        let reached = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": second["id"], "expectedVersion": second["version"], "channel": "IN_PERSON",
                "reached": true, "symptoms": ["DRYNESS", "FLAKING"], "nsaidTaken": false } }), Some(&staff.desk))
            .await;
        assert_eq!(reached["data"]["completeFollowUp"]["followUp"]["status"], "COMPLETED", "{reached}");
        assert!(reached["data"]["completeFollowUp"]["providerReview"].is_null(), "expected effects are not adverse");
        let hidden = app
            .gql("query($id: ID!) { procedure(id: $id) { followUps { symptoms } } }", json!({ "id": procedure }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&hidden), "FORBIDDEN", "symptoms are clinical: {hidden}");
        let shown = app
            .gql("query($id: ID!) { procedure(id: $id) { followUps { symptoms } } }", json!({ "id": procedure }), Some(&staff.provider))
            .await;
        assert_eq!(shown["data"]["procedure"]["followUps"][1]["symptoms"], json!(["DRYNESS", "FLAKING"]), "{shown}");

        let third = &view["followUps"][2];
        let moved_to = (Utc::now() + Duration::days(9)).to_rfc3339();
        let moved = app
            .gql("mutation($input: RescheduleFollowUpInput!) { rescheduleFollowUp(input: $input) { followUp { dueAt version } } }",
                json!({ "input": { "id": third["id"], "expectedVersion": third["version"], "dueAt": moved_to } }), Some(&staff.desk))
            .await;
        let version = moved["data"]["rescheduleFollowUp"]["followUp"]["version"].as_i64().unwrap_or_else(|| panic!("{moved}"));
        let cancelled = app
            .gql("mutation($input: CancelFollowUpInput!) { cancelFollowUp(input: $input) { followUp { status cancelReason } } }",
                json!({ "input": { "id": third["id"], "expectedVersion": version, "reason": "patient moved abroad" } }), Some(&staff.desk))
            .await;
        assert_eq!(cancelled["data"]["cancelFollowUp"]["followUp"], json!({ "status": "CANCELLED", "cancelReason": "patient moved abroad" }), "{cancelled}");

        let (_, reader) = app.api_key(&["follow_ups:read"]).await;
        let listed = app.gql("{ followUps(filter: { status: PENDING }) { totalCount } }", json!({}), Some(&reader)).await;
        assert!(listed["data"]["followUps"]["totalCount"].as_i64().is_some(), "{listed}");
        let refused = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": id, "expectedVersion": version, "channel": "TEXT", "reached": false } }), Some(&reader))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "follow_ups:read cannot write: {refused}");
    })
    .await;
}

#[tokio::test]
async fn r_adverse_an_adverse_event_flags_the_procedure_and_creates_an_urgent_review() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, procedure) = completed(&app, &staff, "Adverse", json!(["CHEEKS"]), None).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        let first = &view["followUps"][0];
        let reported = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": first["id"], "expectedVersion": first["version"], "channel": "EMAIL",
                "reached": true, "symptoms": ["SIGNS_OF_INFECTION"], "notes": "warm, yellow crusts on the left cheek" } }), Some(&staff.desk))
            .await;
        let review = &reported["data"]["completeFollowUp"]["providerReview"];
        assert_eq!(review["kind"], "PROVIDER_REVIEW", "{reported}");
        assert_eq!(review["status"], "PENDING");
        assert_eq!(review["channel"], "IN_PERSON");
        let due = chrono::DateTime::parse_from_rfc3339(review["dueAt"].as_str().unwrap()).unwrap();
        assert!((Utc::now() - due.with_timezone(&Utc)).num_minutes().abs() < 5, "due now: {review}");
        let flagged = adverse_event_flagged_at(&app, &staff.provider, &procedure).await;
        assert!(flagged.is_string(), "{flagged}");
        // That one happened is clinical: the front desk is not told.
        let desk = app
            .gql("query($id: ID!) { procedure(id: $id) { adverseEventFlaggedAt } }", json!({ "id": procedure }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&desk), "FORBIDDEN", "{desk}");

        // An explicit adverse event on another call, reported by a provider.
        let second = &view["followUps"][1];
        let event = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": second["id"], "expectedVersion": second["version"], "channel": "TEXT",
                "reached": true, "adverseEvent": { "kind": "ALLERGIC_REACTION", "severity": "MODERATE", "description": "hives after the serum" } } }),
                Some(&staff.provider))
            .await;
        assert_eq!(event["data"]["completeFollowUp"]["providerReview"]["kind"], "PROVIDER_REVIEW", "{event}");
        let reviews = app
            .gql("query($p: ID) { followUps(filter: { patientId: $p, kind: PROVIDER_REVIEW }) { totalCount } }", json!({ "p": patient }), Some(&staff.desk))
            .await;
        assert_eq!(reviews["data"]["followUps"]["totalCount"], 2, "{reviews}");
        let details = app
            .gql("query($id: ID!) { procedure(id: $id) { followUps { adverseEvent { kind severity } } } }", json!({ "id": procedure }), Some(&staff.desk))
            .await;
        assert_eq!(error_code(&details), "FORBIDDEN", "{details}");
    })
    .await;
}

#[tokio::test]
async fn the_worklist_lists_due_today_in_the_clinic_time_zone_and_overdue_by_due_time() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (patient, procedure) = completed(&app, &staff, "Worklist", json!(["CHEEKS"]), None).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        let ids: Vec<Uuid> = view["followUps"].as_array().unwrap().iter().map(|f| Uuid::parse_str(f["id"].as_str().unwrap()).unwrap()).collect();

        // Around midnight of today in New York (the policy's zone).
        let new_york: Tz = "America/New_York".parse().unwrap();
        let today = Utc::now().with_timezone(&new_york).date_naive();
        let midnight = |day: chrono::NaiveDate| new_york.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().timestamp();
        let (start, end) = (midnight(today), midnight(today + Duration::days(1)));
        for (id, due) in ids.iter().zip([start - 60, start + 60, end - 60]) {
            follow_ups::Entity::update_many()
                .col_expr(follow_ups::Column::DueAtS, Expr::value(due))
                .filter(follow_ups::Column::Id.eq(*id))
                .exec(&app.db)
                .await
                .unwrap();
        }
        let due_today = app
            .gql("query($p: ID) { followUps(filter: { patientId: $p, dueToday: true }) { edges { node { id } } } }", json!({ "p": patient }), Some(&staff.desk))
            .await;
        let found: Vec<_> = due_today["data"]["followUps"]["edges"].as_array().unwrap_or_else(|| panic!("{due_today}"))
            .iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(found, [ids[1].to_string(), ids[2].to_string()], "yesterday 23:59 is not today: {due_today}");

        let overdue = app
            .gql("query($p: ID) { followUps(filter: { patientId: $p, overdue: true }) { edges { node { id overdue } } } }", json!({ "p": patient }), Some(&staff.desk))
            .await;
        let edges = overdue["data"]["followUps"]["edges"].as_array().unwrap_or_else(|| panic!("{overdue}"));
        assert!(edges.iter().any(|e| e["node"]["id"] == ids[0].to_string()), "{overdue}");
        assert!(edges.iter().all(|e| e["node"]["overdue"] == true));

        let ordered = app
            .gql("query($p: ID) { patient(id: $p) { followUps { dueAt } } }", json!({ "p": patient }), Some(&staff.desk))
            .await;
        let dues: Vec<_> = ordered["data"]["patient"]["followUps"].as_array().unwrap_or_else(|| panic!("{ordered}"))
            .iter().map(|f| f["dueAt"].as_str().unwrap().to_owned()).collect();
        let mut sorted = dues.clone();
        sorted.sort();
        assert_eq!(dues, sorted, "by due time");
    })
    .await;
}

#[tokio::test]
async fn the_policy_sets_how_many_unanswered_calls_make_a_follow_up_missed() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let policy = app.gql("{ clinicPolicy { version followUpMaxAttempts } }", json!({}), Some(&staff.admin)).await;
        assert_eq!(policy["data"]["clinicPolicy"]["followUpMaxAttempts"], 3, "{policy}");
        let changed = app
            .gql("mutation($input: UpdateClinicPolicyInput!) { updateClinicPolicy(input: $input) { clinicPolicy { followUpMaxAttempts } } }",
                json!({ "input": { "expectedVersion": policy["data"]["clinicPolicy"]["version"], "followUpMaxAttempts": 1 } }), Some(&staff.admin))
            .await;
        assert_eq!(changed["data"]["updateClinicPolicy"]["clinicPolicy"]["followUpMaxAttempts"], 1, "{changed}");

        let (_, procedure) = completed(&app, &staff, "Once", json!(["CHEEKS"]), None).await;
        let view = follow_ups_of(&app, &staff.desk, &procedure).await;
        let first = &view["followUps"][0];
        let tried = app
            .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": first["id"], "expectedVersion": first["version"], "channel": "TEXT", "reached": false } }), Some(&staff.desk))
            .await;
        assert_eq!(tried["data"]["completeFollowUp"]["followUp"]["status"], "MISSED", "{tried}");
    })
    .await;
}

#[tokio::test]
async fn r_contact_revoking_a_channel_moves_pending_follow_ups_to_the_next_consented_one() {
    for_each_backend(|app| async move {
        let app = app;
        let staff = staff(&app).await;
        // Prefers EMAIL, consents to EMAIL and TEXT.
        let (patient, procedure) = completed(&app, &staff, "Revoker", json!(["CHEEKS"]), None).await;
        let channels = |listed: &Value| -> Vec<String> {
            listed["data"]["procedure"]["followUps"]
                .as_array()
                .unwrap_or_else(|| panic!("{listed}"))
                .iter()
                .map(|follow_up| follow_up["channel"].as_str().unwrap().to_owned())
                .collect()
        };
        let before = app.gql(FOLLOW_UPS, json!({ "id": procedure }), Some(&staff.desk)).await;
        assert!(channels(&before).iter().all(|channel| channel == "EMAIL"), "{before}");
        let count = channels(&before).len();
        let endpoint = app
            .gql("mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { webhookEndpoint { id } } }",
                json!({ "input": { "url": "http://127.0.0.1:9/hooks", "eventTypes": ["FOLLOW_UP_CHANGED"] } }), Some(&staff.admin))
            .await;
        let endpoint = endpoint["data"]["createWebhookEndpoint"]["webhookEndpoint"]["id"].clone();

        let revoke = "mutation($input: RevokeContactConsentInput!) { revokeContactConsent(input: $input) { patient { id } } }";
        let revoked = app.gql(revoke, json!({ "input": { "patientId": patient, "channels": ["EMAIL"] } }), Some(&staff.desk)).await;
        assert!(revoked["errors"].is_null(), "{revoked}");
        let after = app.gql(FOLLOW_UPS, json!({ "id": procedure }), Some(&staff.desk)).await;
        assert_eq!(channels(&after), vec!["TEXT".to_owned(); count], "the next consented channel: {after}");
        assert!(after["data"]["procedure"]["followUps"].as_array().unwrap().iter().all(|f| f["version"] == 2), "{after}");
        let announced = app
            .gql("query($filter: WebhookDeliveryFilter) { webhookDeliveries(first: 50, filter: $filter) { totalCount } }",
                json!({ "filter": { "endpointId": endpoint } }), Some(&staff.admin))
            .await;
        assert_eq!(announced["data"]["webhookDeliveries"]["totalCount"], count, "each move is announced: {announced}");

        let revoked = app.gql(revoke, json!({ "input": { "patientId": patient, "channels": ["TEXT"] } }), Some(&staff.desk)).await;
        assert!(revoked["errors"].is_null(), "{revoked}");
        let last = app.gql(FOLLOW_UPS, json!({ "id": procedure }), Some(&staff.desk)).await;
        assert_eq!(channels(&last), vec!["IN_PERSON".to_owned(); count], "in person when nothing else is consented: {last}");
    })
    .await;
}
