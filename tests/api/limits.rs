//! Query limits reject before any resolver runs, naming the limit.

use std::num::NonZeroU32;

use dermagraph::domain::staff::Role;
use serde_json::json;

use crate::helpers::{
    GRAPHQL_RESPONSE, LOGIN_MUTATION, error_code, for_each_backend, for_each_backend_with,
};

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
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("query complexity") && message.contains("exceeds the limit of 3"),
                "{message}"
            );
            assert!(body["data"].is_null());
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
            let response = app
                .post_graphql_accepting(&json!({ "query": query }), GRAPHQL_RESPONSE)
                .await;
            assert_eq!(response.status(), 400);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
        },
    )
    .await;
}

#[tokio::test]
async fn token_limit_is_checked_before_parsing() {
    for_each_backend_with(
        |config| config.limits.max_tokens = 20,
        |app| async move {
            let query = format!("{{ {} }}", "__typename ".repeat(30));
            let response = app
                .post_graphql_accepting(&json!({ "query": query }), GRAPHQL_RESPONSE)
                .await;
            assert_eq!(response.status(), 400);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("more than 20 tokens"),
                "{body}"
            );
            let within = app.gql("{ a: __typename }", json!({}), None).await;
            assert_eq!(within["data"]["a"], "Query");
        },
    )
    .await;
}

/// Every kind of refusal costs no SQL beyond authenticating the caller: a
/// `{ __typename }` with the same token is the baseline.
#[tokio::test]
async fn rejected_queries_run_no_sql() {
    for_each_backend_with(
        |config| {
            config.limits.max_depth = 4;
            config.limits.max_complexity = 200;
        },
        |app| async move {
            let (_, token) = app.sign_in(Role::Admin).await;
            let baseline =
                statements_for(&app, &json!({ "query": "{ __typename }" }), &token).await;
            let deep =
                "{ patients(first: 1) { edges { node { consultations { patient { id } } } } } }";
            let costly = "{ patients(first: 100) { edges { node { id firstName lastName } } } }";
            let aliases = format!(
                "{{ {} }}",
                (0..20)
                    .map(|i| format!("a{i}: __typename"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let directives = format!("{{ __typename {} }}", "@include(if: true) ".repeat(60));
            let tokens = format!("{{ {} }}", "__typename ".repeat(1100));
            let long_text = format!("{{ __typename }} #{}", "x".repeat(20_000));
            let bombs = [
                json!({ "query": deep }),
                json!({ "query": costly }),
                json!({ "query": aliases }),
                json!({ "query": directives }),
                json!({ "query": tokens }),
                json!({ "query": long_text }),
                json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]),
            ];
            for bomb in &bombs {
                let statements = statements_for(&app, bomb, &token).await;
                assert!(
                    statements <= baseline,
                    "{statements} statements (baseline {baseline}) for {}",
                    &bomb.to_string()[..80.min(bomb.to_string().len())]
                );
            }
        },
    )
    .await;
}

async fn statements_for(
    app: &crate::helpers::TestApp,
    body: &serde_json::Value,
    token: &str,
) -> u64 {
    let before = app.statements_executed();
    let response = app.post_graphql(body, Some(token)).await;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(status.as_u16() < 500, "{status}: {body}");
    app.statements_executed() - before
}

#[tokio::test]
async fn field_suggestions_only_in_development() {
    for_each_backend(|app| async move {
        let body = app
            .gql("{ clinicPolicie { version } }", json!({}), None)
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("Did you mean"), "{message}");
    })
    .await;
    for_each_backend_with(
        |config| {
            config.environment = dermagraph::config::Environment::Production;
            config.jwt_secret = Some("3f9d8c2a7b1e4f60a5d9c8b7e6f5a4d3".to_owned());
        },
        |app| async move {
            let body = app
                .gql("{ clinicPolicie { version } }", json!({}), None)
                .await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(!message.contains("Did you mean"), "{message}");
        },
    )
    .await;
}

fn budget(requests: u32) -> NonZeroU32 {
    NonZeroU32::new(requests).unwrap()
}

async fn assert_rate_limited(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    let seconds = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!(seconds >= 1 && seconds == retry_after, "{body}");
}

#[tokio::test]
async fn each_staff_member_has_a_request_budget() {
    for_each_backend_with(
        |config| config.rate_limits.staff_per_minute = budget(3),
        |app| async move {
            let (_, nurse) = app.sign_in(Role::FrontDesk).await;
            let (_, colleague) = app.sign_in(Role::FrontDesk).await;
            let me = json!({ "query": "{ me { id } }" });
            for _ in 0..3 {
                let response = app.post_graphql(&me, Some(&nurse)).await;
                assert_eq!(response.status(), 200);
            }
            assert_rate_limited(app.post_graphql(&me, Some(&nurse)).await).await;
            let other = app.post_graphql(&me, Some(&colleague)).await;
            assert_eq!(other.status(), 200, "a colleague keeps their own budget");
        },
    )
    .await;
}

#[tokio::test]
async fn each_partner_key_has_a_request_budget() {
    for_each_backend_with(
        |config| config.rate_limits.partner_per_minute = budget(2),
        |app| async move {
            let (_, key) = app.api_key(&["patients:read"]).await;
            let query = json!({ "query": "{ patients(first: 1) { totalCount } }" });
            for _ in 0..2 {
                let body: serde_json::Value = app
                    .post_graphql(&query, Some(&key))
                    .await
                    .json()
                    .await
                    .unwrap();
                assert!(body["errors"].is_null(), "{body}");
            }
            assert_rate_limited(app.post_graphql(&query, Some(&key)).await).await;
        },
    )
    .await;
}

#[tokio::test]
async fn anonymous_callers_have_a_budget_per_ip() {
    for_each_backend_with(
        |config| config.rate_limits.anonymous_per_minute = budget(2),
        |app| async move {
            let typename = json!({ "query": "{ __typename }" });
            for _ in 0..2 {
                assert_eq!(app.post_graphql(&typename, None).await.status(), 200);
            }
            assert_rate_limited(app.post_graphql(&typename, None).await).await;
            // Logins are anonymous requests too: guessing passwords is capped
            // per IP before the per-account throttle even looks.
            let login = app.login("someone@clinic.test", "wrong password!!").await;
            assert_eq!(error_code(&login), "RATE_LIMITED");
        },
    )
    .await;
}

fn persisted_file(operations: &[&str]) -> tempfile::NamedTempFile {
    use sha2::Digest as _;
    let listed: serde_json::Map<String, serde_json::Value> = operations
        .iter()
        .map(|text| {
            (
                hex::encode(sha2::Sha256::digest(text.as_bytes())),
                json!(text),
            )
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&listed).unwrap()).unwrap();
    file
}

const POLICY_VERSION: &str = "query PolicyVersion { clinicPolicy { version } }";

#[tokio::test]
async fn persisted_mode_runs_only_listed_operations() {
    let file = persisted_file(&[POLICY_VERSION, LOGIN_MUTATION]);
    let path = file.path().to_owned();
    for_each_backend_with(
        move |config| config.limits.persisted_queries = Some(path.clone()),
        |app| async move {
            let (_, token) = app.sign_in(Role::Admin).await;
            let listed = app.gql(POLICY_VERSION, json!({}), Some(&token)).await;
            assert_eq!(listed["data"]["clinicPolicy"]["version"], 1, "{listed}");

            let unlisted = app.gql("{ clinicPolicy { timeZone } }", json!({}), Some(&token)).await;
            assert_eq!(error_code(&unlisted), "BAD_USER_INPUT");
            assert!(unlisted["data"].is_null());

            use sha2::Digest as _;
            let hash = hex::encode(sha2::Sha256::digest(POLICY_VERSION.as_bytes()));
            let by_hash = app
                .post_graphql(
                    &json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
                    Some(&token),
                )
                .await;
            let by_hash: serde_json::Value = by_hash.json().await.unwrap();
            assert_eq!(by_hash["data"]["clinicPolicy"]["version"], 1, "{by_hash}");

            let unknown_hash = app
                .post_graphql(
                    &json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } } }),
                    Some(&token),
                )
                .await;
            let unknown_hash: serde_json::Value = unknown_hash.json().await.unwrap();
            assert_eq!(error_code(&unknown_hash), "BAD_USER_INPUT");
        },
    )
    .await;
}

#[tokio::test]
async fn a_persisted_list_with_a_wrong_hash_stops_startup() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        json!({ "ab".repeat(32): POLICY_VERSION }).to_string(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = dermagraph::config::Config::development(format!(
        "sqlite://{}/db.sqlite?mode=rwc",
        dir.path().display()
    ));
    config.limits.persisted_queries = Some(file.path().to_owned());
    let error = dermagraph::build_app(config)
        .await
        .err()
        .expect("startup refused");
    assert!(format!("{error:#}").contains("SHA-256"), "{error:#}");
}

#[tokio::test]
async fn depth_through_named_fragments_is_still_refused() {
    for_each_backend_with(
        |config| config.limits.max_depth = 2,
        |app| async move {
            // As written each part nests 2 deep; expanded, 3.
            let query =
                "{ clinicPolicy { ...G } } fragment G on ClinicPolicy { depthGuidelines { area } }";
            let body = app.gql(query, json!({}), None).await;
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("depth 3") && message.contains("limit of 2"),
                "{message}"
            );
        },
    )
    .await;
}

/// Queries whose values nest `levels` deep: as an argument, inside a
/// directive and as a variable's default.
pub fn deep_value_queries(levels: usize) -> [String; 3] {
    let (open, close) = ("[".repeat(levels), "]".repeat(levels));
    [
        format!("{{ patients(first: {open}1{close}) {{ totalCount }} }}"),
        format!("{{ __typename @include(if: {open}true{close}) }}"),
        format!("query($n: Int = {open}1{close}) {{ __typename }}"),
    ]
}

#[tokio::test]
async fn deeply_nested_values_are_refused_before_parsing_whatever_the_token_limit() {
    // Each query is a few hundred bytes: with the token limit raised, the
    // recursive parser would overflow its stack on them and abort the
    // process (the debug build `cargo run` starts first).
    for_each_backend_with(
        |config| config.limits.max_tokens = 1_000_000,
        |app| async move {
            for query in deep_value_queries(300) {
                let response = app
                    .post_graphql_accepting(&json!({ "query": query }), GRAPHQL_RESPONSE)
                    .await;
                assert_eq!(response.status(), 400, "{query}");
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
                let message = body["errors"][0]["message"].as_str().unwrap();
                assert!(message.contains("values nest 300 levels deep"), "{message}");
            }
            // Still serving, and a plain query with a list works.
            let fine = app
                .gql("{ __typename @include(if: true) }", json!({}), None)
                .await;
            assert_eq!(fine["data"]["__typename"], "Query", "{fine}");
        },
    )
    .await;
}

#[tokio::test]
async fn a_condition_that_is_not_a_boolean_is_bad_input_not_an_empty_answer() {
    for_each_backend(|app| async move {
        for query in [
            "{ __typename @include(if: [[[true]]]) }",
            "{ __typename @skip(if: \"no\") }",
        ] {
            let body = app.gql(query, json!({}), None).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{query}: {body}");
            assert!(body["data"].is_null(), "{body}");
        }
    })
    .await;
}

/// A query of `levels` nested inline fragments: no field depth, but as
/// deep for the parser as nested lists.
pub fn nested_fragments(levels: usize) -> String {
    format!(
        "{{ {}__typename {}}}",
        "... { ".repeat(levels),
        "} ".repeat(levels)
    )
}

#[tokio::test]
async fn nested_inline_fragments_are_refused_before_parsing() {
    for_each_backend_with(
        |config| config.limits.max_tokens = 1_000_000,
        |app| async move {
            let response = app
                .post_graphql_accepting(
                    &json!({ "query": nested_fragments(400) }),
                    GRAPHQL_RESPONSE,
                )
                .await;
            assert_eq!(response.status(), 400);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX", "{body}");
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("nests 401 levels deep"), "{message}");
            let fine = app.gql(&nested_fragments(5), json!({}), None).await;
            assert_eq!(fine["data"]["__typename"], "Query", "{fine}");
        },
    )
    .await;
}

/// graphql-core's `get_introspection_query(descriptions=True)`: the text
/// GraphiQL, codegen, graphql-inspector and Python `gql` send.
const STANDARD_INTROSPECTION: &str = include_str!("fixtures/introspection_query.graphql");

#[tokio::test]
async fn the_standard_introspection_query_is_answered_where_introspection_is_on() {
    for_each_backend(|app| async move {
        let app = app;
        let (_, token) = app.sign_in(Role::FrontDesk).await;
        for caller in [None, Some(token.as_str())] {
            let response = app
                .post_graphql(&json!({ "query": STANDARD_INTROSPECTION, "operationName": "IntrospectionQuery" }), caller)
                .await;
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body["errors"].is_null(), "{body}");
            let types = body["data"]["__schema"]["types"].as_array().unwrap();
            assert!(types.iter().any(|ty| ty["name"] == "Patient"), "{} types", types.len());
        }
        // Going round the type graph is still refused, 20 levels deep.
        let circular = format!(
            "{{ __schema {{ types {{ {}name{} }} }} }}",
            "fields { type { ".repeat(9),
            " } }".repeat(9)
        );
        let refused = app.gql(&circular, json!({}), None).await;
        assert_eq!(error_code(&refused), "QUERY_TOO_COMPLEX", "{refused}");
        // Data next to introspection keeps the data limits.
        let mixed = format!(
            "{{ patients(first: 1) {{ totalCount }} __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
            "ofType { ".repeat(8),
            " }".repeat(8)
        );
        let refused = app.gql(&mixed, json!({}), Some(&token)).await;
        assert_eq!(error_code(&refused), "QUERY_TOO_COMPLEX", "{refused}");
    })
    .await;
}

#[tokio::test]
async fn where_introspection_is_off_the_standard_query_is_refused() {
    for_each_backend_with(
        |config| {
            config.environment = dermagraph::config::Environment::Production;
            config.jwt_secret = Some("3f9d8c2a7b1e4f60a5d9c8b7e6f5a4d3".to_owned());
        },
        |app| async move {
            let app = app;
            let body = app.gql(STANDARD_INTROSPECTION, json!({}), None).await;
            assert!(
                body["data"].is_null() || body["data"]["__schema"].is_null(),
                "{body}"
            );
            assert!(!body["errors"].is_null(), "{body}");
        },
    )
    .await;
}
