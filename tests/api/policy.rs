//! `clinicPolicy`: the defaults of DOMAIN.md, seeded by the migration.

use dermagraph::domain::staff::Role;
use serde_json::json;

use crate::helpers::for_each_backend;

#[tokio::test]
async fn clinic_policy_has_the_protocol_defaults() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::FrontDesk).await;
        let body = app
            .gql(
                "{ clinicPolicy { timeZone minIntervalDays recommendedIntervalDays plannedSessions
                   screeningValidDays isotretinoinWashoutDays version updatedAt
                   depthGuidelines { area minDepthMm maxDepthMm } } }",
                json!({}),
                Some(&token),
            )
            .await;
        let policy = &body["data"]["clinicPolicy"];
        assert_eq!(policy["timeZone"], "America/New_York", "{body}");
        assert_eq!(policy["minIntervalDays"], 42);
        assert_eq!(policy["recommendedIntervalDays"], 56);
        assert_eq!(policy["plannedSessions"], 3);
        assert_eq!(policy["screeningValidDays"], 30);
        assert_eq!(policy["isotretinoinWashoutDays"], 182);
        assert_eq!(policy["version"], 1);
        assert!(
            chrono::DateTime::parse_from_rfc3339(policy["updatedAt"].as_str().unwrap()).is_ok()
        );

        let expected = [
            ("PERIORBITAL", 0.25, 0.5),
            ("FOREHEAD", 0.25, 0.5),
            ("NOSE", 0.25, 0.5),
            ("PERIORAL", 0.25, 0.5),
            ("CHEEKS", 0.5, 1.5),
            ("CHIN_JAW", 0.5, 1.5),
            ("NECK", 0.25, 1.0),
            ("DECOLLETE", 0.25, 1.0),
            ("HANDS", 0.25, 0.5),
            ("SCARS", 0.5, 2.0),
            ("BODY", 1.0, 2.5),
        ];
        let guidelines = policy["depthGuidelines"].as_array().unwrap();
        assert_eq!(guidelines.len(), expected.len());
        for ((area, min, max), guideline) in expected.iter().zip(guidelines) {
            assert_eq!(guideline["area"], *area);
            assert_eq!(guideline["minDepthMm"], *min, "{area}");
            assert_eq!(guideline["maxDepthMm"], *max, "{area}");
        }
    })
    .await;
}

const UPDATE_POLICY: &str = "mutation($input: UpdateClinicPolicyInput!) { updateClinicPolicy(input: $input) {
    clinicPolicy { version timeZone plannedSessions depthGuidelines { area minDepthMm maxDepthMm } } } }";

#[tokio::test]
async fn admins_change_the_policy_with_optimistic_locking() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .gql(
                UPDATE_POLICY,
                json!({ "input": { "expectedVersion": 1, "timeZone": "America/Chicago", "plannedSessions": 4,
                    "depthGuidelines": [{ "area": "NECK", "minDepthMm": 0.3, "maxDepthMm": 0.8 }] } }),
                Some(&admin),
            )
            .await;
        let policy = &response["data"]["updateClinicPolicy"]["clinicPolicy"];
        assert_eq!(policy["version"], 2, "{response}");
        assert_eq!(policy["timeZone"], "America/Chicago");
        assert_eq!(policy["plannedSessions"], 4);
        let neck = policy["depthGuidelines"].as_array().unwrap().iter().find(|g| g["area"] == "NECK").unwrap();
        assert_eq!(neck["minDepthMm"], 0.3);
        assert_eq!(neck["maxDepthMm"], 0.8);

        let stale = app.gql(UPDATE_POLICY, json!({ "input": { "expectedVersion": 1, "plannedSessions": 2 } }), Some(&admin)).await;
        assert_eq!(crate::helpers::error_code(&stale), "CONFLICT");

        for (input, field) in [
            (json!({ "expectedVersion": 2, "timeZone": "Mars/Olympus" }), "timeZone"),
            (json!({ "expectedVersion": 2, "minIntervalDays": 90 }), "recommendedIntervalDays"),
            (json!({ "expectedVersion": 2, "depthGuidelines": [{ "area": "BODY", "minDepthMm": 2.0, "maxDepthMm": 1.0 }] }), "depthGuidelines[0].maxDepthMm"),
        ] {
            let response = app.gql(UPDATE_POLICY, json!({ "input": input }), Some(&admin)).await;
            assert_eq!(crate::helpers::error_code(&response), "BAD_USER_INPUT", "{response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
        let unchanged = app.gql("{ clinicPolicy { version plannedSessions } }", json!({}), Some(&admin)).await;
        assert_eq!(unchanged["data"]["clinicPolicy"]["version"], 2, "refused changes write nothing");
    })
    .await;
}
