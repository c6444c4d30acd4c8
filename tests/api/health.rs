//! `/healthz`, `/readyz` and `/metrics`.

use serde_json::{Value, json};

use crate::helpers::for_each_backend;

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    for_each_backend(|app| async move {
        let response = app.client().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    for_each_backend(|app| async move {
        let response = app.client().get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ready");

        app.db.close_by_ref().await.unwrap();

        let response = app.client().get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "unavailable");
        let health = app.client().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(
            health.status(),
            200,
            "liveness does not depend on the database"
        );
    })
    .await;
}

#[tokio::test]
async fn metrics_count_operations_and_show_the_pool() {
    for_each_backend(|app| async move {
        let app = app;
        let (_, token) = app.sign_in(dermagraph::domain::staff::Role::FrontDesk).await;
        app.post_graphql(
            &json!({ "query": "query MetricsProbe { __typename }", "operationName": "MetricsProbe" }),
            Some(&token),
        )
        .await;
        // A name the document does not define, and any name from a caller
        // without credentials, never become labels.
        app.post_graphql(
            &json!({ "query": "{ __typename }", "operationName": "InventedByTheClient" }),
            Some(&token),
        )
        .await;
        app.post_graphql(
            &json!({ "query": "query AnonymousInvention { __typename }" }),
            None,
        )
        .await;
        let response = app.client().get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(
            text.contains("graphql_operations_total{operation=\"MetricsProbe\",outcome=\"ok\"}"),
            "{text}"
        );
        assert!(text.contains("graphql_operation_duration_seconds_bucket{operation=\"MetricsProbe\""));
        assert!(!text.contains("InventedByTheClient"), "{text}");
        assert!(!text.contains("AnonymousInvention"), "{text}");
        assert!(text.contains("graphql_operations_total{operation=\"login\",outcome=\"ok\"}"), "anonymous logins count under their root field: {text}");
        assert!(text.contains("http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"}"));
        assert!(text.contains("db_pool_connections{state=\"idle\"}"));
    })
    .await;
}
