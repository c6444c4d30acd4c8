//! Relay's `Node`: for every type that implements it (read from the schema,
//! so a new one cannot skip this), for every role and partner scope,
//! `node(id:)` answers exactly what the type's own by-id root field
//! answers (the same data, the same refusals at the same paths), and
//! `nodes(ids:)` answers each in order.

use serde_json::{Value, json};

use crate::{
    follow_ups::completed,
    helpers::{TestApp, error_code, for_each_backend_with},
    procedures::{new_device, staff},
};

const SCHEMA: &str = "{ __schema { queryType { fields { name type { ...T } args { name type { ...T } } } }
    types { name kind possibleTypes { name } fields { name args { name type { kind } } type { ...T } } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

fn named(mut ty: &Value) -> (&str, &str) {
    while ty["name"].is_null() {
        ty = &ty["ofType"];
    }
    (ty["kind"].as_str().unwrap(), ty["name"].as_str().unwrap())
}

/// The scalar and enum fields of `type_name` that take no required
/// argument: everything a refetch might ask for at the top level.
fn leaves(types: &[Value], type_name: &str) -> Vec<String> {
    let ty = types.iter().find(|ty| ty["name"] == type_name).unwrap();
    ty["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|field| matches!(named(&field["type"]).0, "SCALAR" | "ENUM"))
        .filter(|field| {
            field["args"]
                .as_array()
                .unwrap()
                .iter()
                .all(|arg| arg["type"]["kind"] != "NON_NULL")
        })
        .map(|field| field["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Errors as (code, path without its first step), in order.
fn refusals(response: &Value) -> Vec<(String, Vec<Value>)> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|error| {
            let path = error["path"].as_array().cloned().unwrap_or_default();
            (
                error["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                path.into_iter().skip(1).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn node_answers_as_each_types_own_root_field_for_every_caller() {
    for_each_backend_with(
        |config| {
            config.limits.max_complexity = 100_000;
            config.limits.max_aliases = 100;
        },
        |app: TestApp| async move {
            let clinic = staff(&app).await;
            let (patient, procedure) = completed(&app, &clinic, "Refetch", json!(["CHEEKS"]), None).await;
            let device = new_device(&app, &clinic, "PEN-NODE", 2.5).await;
            let booked = app
                .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                    json!({ "input": { "patientId": patient, "providerId": clinic.provider_id, "startsAt": crate::procedures::day_at(3), "durationMinutes": 30 } }),
                    Some(&clinic.desk))
                .await;
            let consultation = booked["data"]["scheduleConsultation"]["consultation"]["id"].as_str().unwrap().to_owned();
            let submitted = app
                .gql("mutation($input: SubmitConsultationRequestInput!) { submitConsultationRequest(input: $input) { requestId } }",
                    json!({ "input": { "firstName": "Node", "lastName": "Request", "email": "node@mail.test", "preferredChannel": "EMAIL",
                        "consentedChannels": ["EMAIL"], "consentTextVersion": "web-2026-01", "message": "Scars" } }), None)
                .await;
            let request = submitted["data"]["submitConsultationRequest"]["requestId"].as_str().unwrap_or_else(|| panic!("{submitted}")).to_owned();
            let follow_up = crate::follow_ups::follow_ups_of(&app, &clinic.desk, &procedure).await["followUps"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let records = [
                ("FollowUp", follow_up),
                ("Patient", patient.clone()),
                ("Procedure", procedure.clone()),
                ("Consultation", consultation),
                ("ConsultationRequest", request),
                ("Device", device),
                ("User", clinic.provider_id.clone()),
            ];

            let schema = app.gql(SCHEMA, json!({}), Some(&clinic.admin)).await;
            let types = schema["data"]["__schema"]["types"].as_array().unwrap().clone();
            let node = types.iter().find(|ty| ty["name"] == "Node").expect("a Node interface");
            let implementors: Vec<&str> = node["possibleTypes"].as_array().unwrap().iter().map(|ty| ty["name"].as_str().unwrap()).collect();
            let roots = schema["data"]["__schema"]["queryType"]["fields"].as_array().unwrap().clone();

            let mut callers = vec![clinic.admin.clone(), clinic.provider.clone(), clinic.desk.clone()];
            for scope in ["patients:read", "schedule:read", "follow_ups:read"] {
                callers.push(app.api_key(&[scope]).await.1);
            }
            let mut compared = 0;
            for type_name in &implementors {
                let (_, id) = records.iter().find(|(name, _)| name == type_name)
                    .unwrap_or_else(|| panic!("no fixture record for Node type {type_name}: add one"));
                // The type's own by-id root: `x(id: ID!): Type`.
                let root = roots.iter().find(|field| {
                    named(&field["type"]).1 == *type_name
                        && field["args"].as_array().unwrap().iter().any(|arg| arg["name"] == "id")
                }).unwrap_or_else(|| panic!("{type_name} implements Node but has no by-id root field"));
                let root_name = root["name"].as_str().unwrap();
                let selection = leaves(&types, type_name).join(" ");
                let own = format!("query($id: ID!) {{ {root_name}(id: $id) {{ {selection} }} }}");
                let refetch = format!("query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {selection} }} }} }}");
                let batch = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ id ... on {type_name} {{ {selection} }} }} }}");
                for token in &callers {
                    let own_answer = app.gql(&own, json!({ "id": id }), Some(token)).await;
                    let node_answer = app.gql(&refetch, json!({ "id": id }), Some(token)).await;
                    assert_eq!(node_answer["data"]["node"], own_answer["data"][root_name],
                        "{type_name}: node(id:) and {root_name}(id:) disagree:\n{node_answer}\n{own_answer}");
                    // Refused at the root, node(id:) answers null without saying
                    // why: it does not tell which records exist to callers who
                    // may not read them. Otherwise the same refusals.
                    let refused_at_root = refusals(&own_answer).iter().any(|(code, rest)| code == "FORBIDDEN" && rest.is_empty());
                    if !(refused_at_root && node_answer["errors"].is_null()) {
                        assert_eq!(refusals(&node_answer), refusals(&own_answer),
                            "{type_name}: different refusals:\n{node_answer}\n{own_answer}");
                    }
                    let both = app.gql(&batch, json!({ "ids": [id, uuid::Uuid::now_v7().to_string(), id] }), Some(token)).await;
                    let items = both["data"]["nodes"].as_array().unwrap_or_else(|| panic!("{both}"));
                    assert_eq!(items.len(), 3, "{both}");
                    assert!(items[1].is_null(), "an unknown id is null: {both}");
                    assert_eq!(items[0], items[2], "{both}");
                    compared += 1;
                }
            }
            assert_eq!(implementors.len(), records.len(), "{implementors:?}");
            assert!(compared >= 42, "{compared}");

            // The front desk's refetch of a procedure: clinical fields null
            // with FORBIDDEN at their paths, as through procedure(id:).
            let desk = app
                .gql("query($id: ID!) { node(id: $id) { id ... on Procedure { status clinicalNotes } } }",
                    json!({ "id": procedure }), Some(&clinic.desk))
                .await;
            assert_eq!(desk["data"]["node"]["id"], procedure.as_str(), "{desk}");
            assert!(desk["data"]["node"]["clinicalNotes"].is_null(), "{desk}");
            assert_eq!(error_code(&desk), "FORBIDDEN");
            assert_eq!(desk["errors"][0]["path"], json!(["node", "clinicalNotes"]));

            // A partner that may not read patients cannot tell a patient's id
            // from an unknown one; the ids it may read are answered.
            let (_, scheduler) = app.api_key(&["schedule:read"]).await;
            let unknown_id = uuid::Uuid::now_v7().to_string();
            let mixed = app
                .gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [procedure, patient, unknown_id] }), Some(&scheduler))
                .await;
            assert_eq!(mixed["data"]["nodes"][0]["id"], procedure.as_str(), "{mixed}");
            assert!(mixed["data"]["nodes"][1].is_null() && mixed["data"]["nodes"][2].is_null(), "{mixed}");
            assert!(mixed["errors"].is_null(), "no oracle: {mixed}");
            // A refusal inside the type's own path (the front desk reading
            // another staff member) is the item's, at its index.
            let desk_user_token = clinic.desk.clone();
            let others = app
                .gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": [procedure, clinic.provider_id] }), Some(&desk_user_token))
                .await;
            assert_eq!(others["data"]["nodes"][0]["id"], procedure.as_str(), "{others}");
            assert!(others["data"]["nodes"][1].is_null(), "{others}");
            assert_eq!(others["errors"][0]["path"], json!(["nodes", 1]), "{others}");
            assert_eq!(error_code(&others), "FORBIDDEN");

            let unknown = app.gql("{ node(id: \"0192f0c1-0000-7000-8000-000000000000\") { id } }", json!({}), Some(&clinic.admin)).await;
            assert!(unknown["errors"].is_null() && unknown["data"]["node"].is_null(), "{unknown}");
            let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
            let refused = app.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": too_many }), Some(&clinic.admin)).await;
            assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
            let anonymous = app.gql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": patient }), None).await;
            assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
        },
    )
    .await;
}
