//! `clinicPolicy`: the defaults of DOMAIN.md, seeded by the migration.

use serde_json::json;

use crate::helpers::for_each_backend;

#[tokio::test]
async fn clinic_policy_has_the_protocol_defaults() {
    for_each_backend(|app| async move {
        let body = app
            .gql(
                "{ clinicPolicy { timeZone minIntervalDays recommendedIntervalDays plannedSessions
                   screeningValidDays isotretinoinWashoutDays version updatedAt
                   depthGuidelines { area minDepthMm maxDepthMm } } }",
                json!({}),
                None,
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
