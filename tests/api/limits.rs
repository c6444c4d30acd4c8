//! Query limits reject before any resolver runs, naming the limit.

use serde_json::json;

use crate::helpers::{error_code, for_each_backend, for_each_backend_with};

#[tokio::test]
async fn depth_limit_names_itself() {
    for_each_backend_with(
        |config| config.limits.max_depth = 2,
        |app| async move {
            let body = app
                .gql(
                    "{ clinicPolicy { depthGuidelines { area } } }",
                    json!({}),
                    None,
                )
                .await;
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("depth 3") && message.contains("limit of 2"),
                "{message}"
            );
            assert!(body["data"].is_null());
        },
    )
    .await;
}

#[tokio::test]
async fn complexity_limit_names_itself() {
    for_each_backend_with(
        |config| config.limits.max_complexity = 3,
        |app| async move {
            let body = app
                .gql(
                    "{ clinicPolicy { version timeZone minIntervalDays planned: plannedSessions } }",
                    json!({}),
                    None,
                )
                .await;
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
            assert!(body["errors"][0]["message"].as_str().unwrap().contains("complexity"));
        },
    )
    .await;
}

#[tokio::test]
async fn alias_limit_counts_fragment_spreads() {
    for_each_backend(|app| async move {
        let query = "{ ...A ...A ...A ...A } fragment A on Query { a: clinicPolicy { version } b: clinicPolicy { version } c: clinicPolicy { version } d: clinicPolicy { version } }";
        let body = app.gql(query, json!({}), None).await;
        assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("16 aliases"));
    })
    .await;
}

#[tokio::test]
async fn query_text_length_is_limited() {
    for_each_backend_with(
        |config| config.limits.max_query_chars = 100,
        |app| async move {
            let query = format!("{{ clinicPolicy {{ version }} }} # {}", "x".repeat(200));
            let response = app.post_graphql(&json!({ "query": query }), None).await;
            assert_eq!(response.status(), 400);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
        },
    )
    .await;
}
