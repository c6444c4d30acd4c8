//! API.md "Transport": POST-only JSON execution, GraphiQL on GET, request
//! ids, body limits, security headers, CORS.

use reqwest::header;
use serde_json::json;

use crate::helpers::{error_code, for_each_backend, for_each_backend_with};

use dermagraph::domain::staff::Role;

/// An operation anyone may run; it touches no data.
const POLICY_QUERY: &str = "{ __typename }";

#[tokio::test]
async fn graphiql_get_serves_html_and_never_executes_the_query_string() {
    for_each_backend(|app| async move {
        let response = app
            .client()
            .get(app.url("/graphql"))
            .query(&[("query", "{ clinicPolicy { minIntervalDays } }")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let body = response.text().await.unwrap();
        assert!(body.contains("graphiql"), "GraphiQL page expected");
        assert!(
            !body.contains("minIntervalDays\":"),
            "GET must not execute operations"
        );
        assert!(
            !body.contains("\"data\""),
            "GET must not execute operations"
        );
    })
    .await;
}

#[tokio::test]
async fn graphiql_loads_only_from_this_server() {
    for_each_backend(|app| async move {
        let page = app.client().get(app.url("/graphql")).send().await.unwrap();
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(
            !csp.contains("http"),
            "the page may load from elsewhere: {csp}"
        );
        let body = page.text().await.unwrap();
        let assets: Vec<&str> = body
            .split('"')
            .filter(|part| part.starts_with("/graphql/assets/"))
            .collect();
        assert!(assets.len() >= 6, "{body}");
        assert!(!body.contains("unpkg") && !body.contains("://"), "{body}");
        for asset in assets {
            let response = app.client().get(app.url(asset)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            let kind = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                ["text/javascript", "text/css", "image/svg+xml"]
                    .iter()
                    .any(|expected| kind.starts_with(expected)),
                "{asset}: {kind}"
            );
            assert!(!response.bytes().await.unwrap().is_empty(), "{asset}");
        }
        let missing = app
            .client()
            .get(app.url("/graphql/assets/secrets.env"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    })
    .await;
}

/// GraphQL over HTTP, "Status Codes": with `application/json` every answer
/// to a well-formed request is 200; with
/// `application/graphql-response+json` an operation refused before it ran
/// is 400 and has no `data`, while one that ran is 200 whatever its field
/// errors; transport refusals keep their statuses under both.
#[tokio::test]
async fn http_statuses_follow_the_media_type_asked_for() {
    for_each_backend(|app| async move {
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let refused_before_running = [
            ("a parse error", json!({ "query": "{ clinicPolicy { " })),
            ("an unknown field", json!({ "query": "{ noSuchField }" })),
            ("a missing variable", json!({ "query": "query($id: ID!) { patient(id: $id) { id } }" })),
            ("inline nesting over the limit", json!({ "query": format!("{{ {} __typename {} }}", "a { ".repeat(11), "} ".repeat(11)) })),
            ("aliases through fragments", json!({ "query": "{ ...A } fragment A on Query { ...B } fragment B on Query { a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename h: __typename i: __typename j: __typename k: __typename l: __typename m: __typename n: __typename o: __typename p: __typename q: __typename }" })),
        ];
        for (what, body) in &refused_before_running {
            for (accept, status, kind) in [
                (None, 200, "application/json"),
                (Some("application/json"), 200, "application/json"),
                (Some(crate::helpers::GRAPHQL_RESPONSE), 400, crate::helpers::GRAPHQL_RESPONSE),
            ] {
                let mut request = app.client().post(app.url("/graphql")).bearer_auth(&desk).json(body);
                if let Some(accept) = accept {
                    request = request.header(header::ACCEPT, accept);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), status, "{what} asking for {accept:?}");
                let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
                assert!(content_type.starts_with(kind), "{what}: {content_type}");
                let answer: serde_json::Value = response.json().await.unwrap();
                assert!(answer.get("data").is_none(), "{what}: nothing ran, so no data: {answer}");
                assert!(matches!(error_code(&answer), "BAD_USER_INPUT" | "QUERY_TOO_COMPLEX"), "{what}: {answer}");
            }
        }
        // A field error: the operation ran, so 200 under both, with data.
        let refused_field = json!({ "query": "{ users(first: 1) { totalCount } clinicPolicy { timeZone } }" });
        for accept in ["application/json", crate::helpers::GRAPHQL_RESPONSE] {
            let response = app.client().post(app.url("/graphql")).bearer_auth(&desk)
                .header(header::ACCEPT, accept).json(&refused_field).send().await.unwrap();
            assert_eq!(response.status(), 200, "{accept}");
            let answer: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&answer), "FORBIDDEN", "{answer}");
            // `users` is non-null, so its refusal nulls `data` (the spec's
            // propagation); the operation ran all the same.
            assert!(answer.get("data").is_some_and(serde_json::Value::is_null), "{answer}");
        }
        // Transport refusals are the same under both.
        for accept in ["application/json", crate::helpers::GRAPHQL_RESPONSE] {
            let response = app.client().post(app.url("/graphql")).header(header::ACCEPT, accept)
                .header(header::CONTENT_TYPE, "text/plain").body("{}").send().await.unwrap();
            assert_eq!(response.status(), 415, "{accept}");
            let response = app.client().post(app.url("/graphql")).header(header::ACCEPT, accept)
                .header(header::CONTENT_TYPE, "application/json").body("{not json").send().await.unwrap();
            assert_eq!(response.status(), 400, "{accept}: a body that is no GraphQL request");
        }
        let response = app.client().post(app.url("/graphql")).header(header::ACCEPT, "text/html")
            .json(&json!({ "query": POLICY_QUERY })).send().await.unwrap();
        assert_eq!(response.status(), 406);
    })
    .await;
}

#[tokio::test]
async fn graphiql_is_off_in_production() {
    for_each_backend_with(
        |config| {
            config.environment = dermagraph::config::Environment::Production;
            config.jwt_secret = Some("3f9d8c2a7b1e4f60a5d9c8b7e6f5a4d3".to_owned());
        },
        |app| async move {
            let response = app.client().get(app.url("/graphql")).send().await.unwrap();
            assert_eq!(response.status(), 404);
            let asset = app
                .client()
                .get(app.url("/graphql/assets/graphiql.min.js"))
                .send()
                .await
                .unwrap();
            assert_eq!(asset.status(), 404);
            let response = app
                .gql("{ __schema { queryType { name } } }", json!({}), None)
                .await;
            assert!(
                response["data"]["__schema"].is_null(),
                "introspection must be off in production: {response}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn post_without_json_content_type_is_415() {
    for_each_backend(|app| async move {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            let response = app
                .client()
                .post(app.url("/graphql"))
                .header(header::CONTENT_TYPE, content_type)
                .body(json!({ "query": POLICY_QUERY }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{content_type}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body.get("data").is_none());
        }
        let response = app
            .client()
            .post(app.url("/graphql"))
            .body(json!({ "query": POLICY_QUERY }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "no content type at all");
    })
    .await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    for_each_backend_with(
        |config| config.limits.max_body_bytes = 2_000,
        |app| async move {
            let padding = "x".repeat(3_000);
            let response = app
                .post_graphql(
                    &json!({ "query": POLICY_QUERY, "variables": { "padding": padding } }),
                    None,
                )
                .await;
            assert_eq!(response.status(), 413);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");

            let response = app
                .post_graphql(&json!({ "query": POLICY_QUERY }), None)
                .await;
            assert_eq!(response.status(), 200, "a small body still works");
        },
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_bad_user_input() {
    for_each_backend(|app| async move {
        for body in ["{not json", "[]", "42", "{\"query\": 7}", ""] {
            let response = app
                .client()
                .post(app.url("/graphql"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{body:?}");
            let json: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&json), "BAD_USER_INPUT", "{body:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn batched_arrays_are_refused_unless_enabled() {
    for_each_backend(|app| async move {
        let batch = json!([{ "query": POLICY_QUERY }, { "query": POLICY_QUERY }]);
        let response = app.post_graphql(&batch, None).await;
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    })
    .await;
    for_each_backend_with(
        |config| config.limits.max_batch = 2,
        |app| async move {
            let batch = json!([{ "query": POLICY_QUERY }, { "query": POLICY_QUERY }]);
            let body: serde_json::Value = app.post_graphql(&batch, None).await.json().await.unwrap();
            assert_eq!(body[1]["data"]["__typename"], "Query");
            let too_many = json!([{ "query": POLICY_QUERY }, { "query": POLICY_QUERY }, { "query": POLICY_QUERY }]);
            let response = app.post_graphql(&too_many, None).await;
            assert_eq!(response.status(), 400);
        },
    )
    .await;
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    for_each_backend(|app| async move {
        let response = app
            .client()
            .post(app.url("/graphql"))
            .header("x-request-id", "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B")
            .json(&json!({ "query": POLICY_QUERY }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["x-request-id"],
            "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "a caller's UUID is kept"
        );
        let response = app
            .client()
            .post(app.url("/graphql"))
            .header("x-request-id", "portal-7f3a")
            .json(&json!({ "query": POLICY_QUERY }))
            .send()
            .await
            .unwrap();
        let replaced = response.headers()["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(replaced).is_ok(),
            "a caller's own words are not an id: {replaced}"
        );

        let response = app.client().get(app.url("/healthz")).send().await.unwrap();
        let generated = response.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

        let response = app
            .client()
            .get(app.url("/healthz"))
            .header("x-request-id", "bad id with spaces")
            .send()
            .await
            .unwrap();
        let replaced = response.headers()["x-request-id"].to_str().unwrap();
        assert!(
            uuid::Uuid::parse_str(replaced).is_ok(),
            "unsafe ids are replaced: {replaced}"
        );

        let response = app
            .client()
            .get(app.url("/no-such-route"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert!(response.headers().contains_key("x-request-id"));
    })
    .await;
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    for_each_backend(|app| async move {
        let response = app
            .post_graphql(&json!({ "query": POLICY_QUERY }), None)
            .await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers.contains_key("content-security-policy"));
    })
    .await;
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    for_each_backend_with(
        |config| config.cors_origins = vec!["https://portal.clinic.test".to_owned()],
        |app| async move {
            let preflight = |origin: &'static str| {
                app.client()
                    .request(reqwest::Method::OPTIONS, app.url("/graphql"))
                    .header(header::ORIGIN, origin)
                    .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                    .header(
                        header::ACCESS_CONTROL_REQUEST_HEADERS,
                        "authorization,content-type",
                    )
                    .send()
            };
            let allowed = preflight("https://portal.clinic.test").await.unwrap();
            assert_eq!(
                allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
                "https://portal.clinic.test"
            );
            let denied = preflight("https://evil.test").await.unwrap();
            assert!(
                !denied
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn cors_lets_the_headers_standard_clients_send_through_preflight() {
    for_each_backend_with(
        |config| {
            config.cors_origins = vec!["https://portal.clinic.test".to_owned()];
            config.cors_headers = vec!["x-clinic-app".to_owned()];
        },
        |app| async move {
            let app = app;
            let preflight = app
                .client()
                .request(reqwest::Method::OPTIONS, app.url("/graphql"))
                .header(header::ORIGIN, "https://portal.clinic.test")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "apollographql-client-name,apollographql-client-version,authorization,content-type,x-clinic-app,x-request-id",
                )
                .send()
                .await
                .unwrap();
            assert!(preflight.status().is_success(), "{}", preflight.status());
            let allowed = preflight.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            for name in [
                "apollographql-client-name",
                "apollographql-client-version",
                "authorization",
                "content-type",
                "x-request-id",
                "x-clinic-app",
            ] {
                assert!(allowed.contains(name), "{name} in {allowed}");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn an_empty_cors_list_as_docker_compose_passes_it_starts_with_no_cross_origin_callers() {
    for_each_backend_with(
        // `DERMAGRAPH_CORS_ORIGINS: ${DERMAGRAPH_CORS_ORIGINS:-}` arrives as "".
        |config| config.cors_origins = vec![String::new()],
        |app| async move {
            let app = app;
            let preflight = app
                .client()
                .request(reqwest::Method::OPTIONS, app.url("/graphql"))
                .header(header::ORIGIN, "https://portal.clinic.test")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .send()
                .await
                .unwrap();
            assert!(
                !preflight
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            );
            let health = app.client().get(app.url("/healthz")).send().await.unwrap();
            assert_eq!(health.status(), 200);
        },
    )
    .await;
}

#[tokio::test]
async fn a_request_past_its_deadline_is_cancelled_with_retry_after() {
    for_each_backend_with(
        |config| {
            config.limits.request_timeout_secs = 1;
            config.database.db_max_connections = 1;
            config.database.db_acquire_timeout_secs = 30;
        },
        |app| async move {
            let (_, token) = app.sign_in(Role::Admin).await;
            let query = json!({ "query": "{ clinicPolicy { version } }" });
            // Hold the only pooled connection so the request cannot proceed.
            let held = sea_orm::TransactionTrait::begin(&app.db).await.unwrap();
            let response = app.post_graphql(&query, Some(&token)).await;
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()[header::RETRY_AFTER], "1");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "INTERNAL");
            assert!(body["errors"][0]["extensions"]["errorId"].is_string());
            drop(held);
            let body: serde_json::Value = app
                .post_graphql(&query, Some(&token))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                body["data"]["clinicPolicy"]["version"], 1,
                "the server recovers once the pool frees up: {body}"
            );
        },
    )
    .await;
}
