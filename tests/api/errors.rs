//! API.md "Errors": internal failures are masked behind an errorId; client
//! mistakes get BAD_USER_INPUT.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{error_code, for_each_backend};

#[tokio::test]
async fn database_error_is_internal_with_an_error_id_and_no_sql() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(dermagraph::domain::staff::Role::Admin).await;
        // Break the database under the running app.
        app.db
            .execute_unprepared("DROP TABLE depth_guideline")
            .await
            .unwrap();
        let response = app
            .post_graphql(
                &json!({ "query": "{ clinicPolicy { depthGuidelines { area } } }" }),
                Some(&token),
            )
            .await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "INTERNAL");
        let error_id = body["errors"][0]["extensions"]["errorId"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(error_id).is_ok());
        let text = body.to_string().to_lowercase();
        for leak in [
            "select",
            "depth_guideline",
            "no such table",
            "relation",
            "sqlx",
            "sqlite",
            "postgres",
        ] {
            assert!(!text.contains(leak), "response leaks {leak:?}: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_fields_and_wrong_variable_types_are_bad_user_input() {
    for_each_backend(|app| async move {
        let body = app.gql("{ nope }", json!({}), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let body = app
            .gql(
                "query Q($n: Int!) { __typename }",
                json!({ "n": "not a number" }),
                None,
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let body = app.gql("{ __typename", json!({}), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "syntax error: {body}");
    })
    .await;
}

#[tokio::test]
async fn a_missing_or_mistyped_variable_is_bad_user_input_naming_it() {
    for_each_backend(|app| async move {
        let (_, token) = app
            .sign_in(dermagraph::domain::staff::Role::FrontDesk)
            .await;
        let query = "query Patient($id: ID!) { patient(id: $id) { id } }";
        for body in [
            json!({ "query": query }),
            json!({ "query": query, "variables": {} }),
            json!({ "query": query, "variables": { "id": null } }),
        ] {
            let response = app.post_graphql(&body, Some(&token)).await;
            assert_eq!(response.status(), 200);
            let answer: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&answer), "BAD_USER_INPUT", "{body}: {answer}");
            assert_eq!(
                answer["errors"][0]["extensions"]["field"], "$id",
                "{answer}"
            );
            assert!(
                answer["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("$id"),
                "{answer}"
            );
        }
        let mistyped = app
            .gql(
                "query Patients($first: Int!) { patients(first: $first) { totalCount } }",
                json!({ "first": "many" }),
                Some(&token),
            )
            .await;
        assert_eq!(error_code(&mistyped), "BAD_USER_INPUT", "{mistyped}");
    })
    .await;
}
