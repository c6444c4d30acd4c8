//! Abuse, faults and races: hostile input never gets a 5xx or leaks
//! internals, conflicting writers have exactly one winner, and an exhausted
//! pool answers fast with a retryable error instead of piling up.

use std::time::{Duration, Instant};

use dermagraph::domain::staff::Role;
use dermagraph::error::AppError;
use futures_util::future::join_all;
use proptest::{
    prelude::*,
    strategy::{Strategy, ValueTree},
    test_runner::{Config as ProptestConfig, TestRunner},
};
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, error_code, error_codes, for_each_backend, for_each_backend_with, single_value,
};

/// Strings a hostile or careless client sends: SQL and LIKE metacharacters,
/// NUL and other control characters, escapes, markup and odd Unicode.
const HOSTILE_TEXT: &[&str] = &[
    "Robert'); DROP TABLE patients;--",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "%",
    "_",
    "100% \\_sure\\",
    "a\u{0}b",
    "\u{0}",
    "line\r\nbreak\u{7}bell\u{1b}[31m",
    "$1 $$ ; -- /* */ `id`",
    "<script>alert(1)</script>",
    "Zoë 🧴 مرحبا \u{202e}txet",
    "\u{fffd}\u{feff}",
];

/// A response that a client may see: a clear 4xx or a 200, never a 5xx,
/// never `INTERNAL`, never a word of SQL, driver or panic text.
async fn assert_handled(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.as_u16() < 500, "{what}: HTTP {status}: {text}");
    for leak in [
        "INTERNAL", "SELECT ", "INSERT ", "sqlx", "sea_orm", "panicked", "DbErr",
    ] {
        assert!(
            !text.contains(leak),
            "{what}: answer leaks {leak:?}: {text}"
        );
    }
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn post_raw(app: &TestApp, body: Vec<u8>, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

async fn run(app: &TestApp, query: &str, variables: Value, token: &str, what: &str) -> Value {
    let response = app
        .post_graphql(
            &json!({ "query": query, "variables": variables }),
            Some(token),
        )
        .await;
    assert_handled(response, what).await
}

const CREATE_PATIENT: &str = "mutation($input: CreatePatientInput!) {
    createPatient(input: $input) { patient { id version firstName lastName email phone
      address { line1 line2 city region postalCode country }
      medicalHistory { allergies medications notes } } } }";

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Admin).await;
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("truncated JSON", b"{\"query\": ".to_vec()),
            ("not JSON", b"query { me { __typename } }".to_vec()),
            ("JSON array of numbers", b"[1, 2, 3]".to_vec()),
            ("JSON string", b"\"{ me { __typename } }\"".to_vec()),
            (
                "invalid UTF-8",
                b"{\"query\": \"{ me { __typename } \xff\xfe }\"}".to_vec(),
            ),
            (
                "lone surrogate",
                br#"{"query": "{ me { __typename } }", "variables": {"x": "\ud800"}}"#.to_vec(),
            ),
            (
                "NUL in the query",
                b"{\"query\": \"{ me\\u0000 { __typename } }\"}".to_vec(),
            ),
            ("raw NUL byte", b"{\"query\": \"{ me \x00 }\"}".to_vec()),
            ("query is a number", br#"{"query": 42}"#.to_vec()),
            (
                "variables is a string",
                br#"{"query": "{ me { __typename } }", "variables": "x"}"#.to_vec(),
            ),
            (
                "deeply nested JSON",
                format!(
                    "{{\"query\": \"{{ me {{ __typename }} }}\", \"variables\": {{\"x\": {}1{}}}}}",
                    "[".repeat(10_000),
                    "]".repeat(10_000)
                )
                .into_bytes(),
            ),
            ("empty body", Vec::new()),
        ];
        for (what, body) in bodies {
            let response = post_raw(&app, body, Some(&token)).await;
            let status = response.status();
            let body = assert_handled(response, what).await;
            assert!(
                status.is_client_error() || !error_codes(&body).is_empty(),
                "{what}: {status} {body}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_types_and_out_of_range_arguments_are_bad_user_input() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Admin).await;
        let patients = "query($first: Int, $after: String) { patients(first: $first, after: $after) { totalCount edges { cursor } } }";
        let cases = [
            (patients, json!({ "first": "ten" }), "first as a string"),
            (patients, json!({ "first": 1.5 }), "first as a float"),
            (patients, json!({ "first": -1 }), "negative first"),
            (patients, json!({ "first": 2_147_483_647 }), "huge first"),
            (patients, json!({ "first": 1e20 }), "first beyond Int"),
            (patients, json!({ "after": "not-a-cursor" }), "bogus cursor"),
            (patients, json!({ "after": "AAAAAAAAAAAAAAAAAAAA" }), "base64 junk cursor"),
            (patients, json!({ "after": "eyJ4IjoxfQ" }), "cursor of another shape"),
            (patients, json!({ "first": [1] }), "first as a list"),
            ("query($id: ID!) { patient(id: $id) { id } }", json!({ "id": "not-an-id" }), "bogus id"),
            ("query($id: ID!) { patient(id: $id) { id } }", json!({ "id": "'; DROP TABLE patients; --" }), "SQL id"),
            ("query($id: ID!) { patient(id: $id) { id } }", json!({ "id": {"x": 1} }), "object id"),
            ("query($id: ID!) { procedure(id: $id) { id } }", json!({ "id": "00000000-0000-0000-0000-000000000000" }), "nil id"),
            ("query($f: DateTime!, $t: DateTime!) { schedule(from: $f, to: $t) { __typename } }", json!({ "f": "9999-12-31T23:59:59Z", "t": "9999-12-31T23:59:59Z" }), "schedule at the end of time"),
            ("query($f: DateTime!, $t: DateTime!) { schedule(from: $f, to: $t) { __typename } }", json!({ "f": "0001-01-01T00:00:00Z", "t": "9999-12-31T23:59:59Z" }), "schedule over all time"),
            ("query($f: DateTime!, $t: DateTime!) { schedule(from: $f, to: $t) { __typename } }", json!({ "f": "2026-02-30T00:00:00Z", "t": "2026-03-01T00:00:00Z" }), "schedule from February 30th"),
            ("query($f: DateTime, $t: DateTime) { followUps(filter: { dueFrom: $f, dueTo: $t }) { totalCount } }", json!({ "f": "+99999-01-01T00:00:00Z", "t": "-0001-01-01T00:00:00Z" }), "follow-ups from year 99999"),
            ("query($f: DateTime, $t: DateTime) { auditEvents(filter: { from: $f, to: $t }) { totalCount } }", json!({ "f": "9999-12-31T23:59:59Z", "t": "0001-01-01T00:00:00Z" }), "audit events backwards"),
            ("query($l: String!) { cartridgeLotExposure(lotNumber: $l) { __typename } }", json!({ "l": "%" }), "lot wildcard"),
        ];
        for (query, variables, what) in cases {
            run(&app, query, variables, &token, what).await;
        }
        let body = run(&app, patients, json!({ "first": -1 }), &token, "negative first").await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let body = run(&app, patients, json!({ "after": "not-a-cursor" }), &token, "bogus cursor").await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    })
    .await;
}

#[tokio::test]
async fn dates_out_of_range_are_refused_clearly() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        for date in [
            "2024-02-30",
            "99999-01-01",
            "0000-00-00",
            "2026-13-01",
            "1800-01-01",
            "9999-12-31",
            "yesterday",
        ] {
            let input = json!({ "firstName": "Ana", "lastName": "Date", "dateOfBirth": date });
            let body = run(
                &app,
                CREATE_PATIENT,
                json!({ "input": input }),
                &token,
                date,
            )
            .await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{date}: {body}");
        }
    })
    .await;
}

#[tokio::test]
async fn sql_metacharacters_and_control_characters_in_every_patient_text_field() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        let fields = ["firstName", "lastName", "email", "phone", "address.line1", "address.line2", "address.city", "address.region", "address.postalCode", "medicalHistory.allergies", "medicalHistory.medications", "medicalHistory.notes"];
        for field in fields {
            for hostile in HOSTILE_TEXT {
                let mut input = json!({ "firstName": "Ana", "lastName": "Hostile", "address": { "country": "US" }, "medicalHistory": {} });
                match field.split_once('.') {
                    Some((group, name)) => input[group][name] = json!(hostile),
                    None => input[field] = json!(hostile),
                }
                let what = format!("{field} = {hostile:?}");
                let body = run(&app, CREATE_PATIENT, json!({ "input": input }), &token, &what).await;
                if body["errors"].is_null() {
                    // Accepted text is stored verbatim (trimmed), not interpreted.
                    let patient = &body["data"]["createPatient"]["patient"];
                    let stored = match field.split_once('.') {
                        Some((group, name)) => &patient[group][name],
                        None => &patient[field],
                    };
                    assert_eq!(stored.as_str(), Some(hostile.trim()), "{what}: {body}");
                } else {
                    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
                }
            }
        }
        // NUL is never stored (PostgreSQL cannot), on either engine.
        let input = json!({ "firstName": "a\u{0}b", "lastName": "Nul" });
        let body = run(&app, CREATE_PATIENT, json!({ "input": input }), &token, "NUL name").await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("NUL"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn search_treats_metacharacters_as_text() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        for last in ["Plain", "Percent%Sign", "Under_Score"] {
            let input = json!({ "firstName": "Ana", "lastName": last });
            let body = run(
                &app,
                CREATE_PATIENT,
                json!({ "input": input }),
                &token,
                last,
            )
            .await;
            assert!(body["errors"].is_null(), "{body}");
        }
        let search = "query($s: String) { patients(filter: { search: $s }) { totalCount } }";
        let expected = [
            ("%", 1),
            ("_", 1),
            ("percent%", 1),
            ("r_s", 1),
            ("' OR '1'='1", 0),
            ("\\", 0),
            ("a\u{0}b", 0),
            ("", 3),
        ];
        for (text, count) in expected {
            let body = run(&app, search, json!({ "s": text }), &token, text).await;
            if body["errors"].is_null() {
                assert_eq!(
                    body["data"]["patients"]["totalCount"], count,
                    "search {text:?}: {body}"
                );
            } else {
                assert_eq!(
                    error_code(&body),
                    "BAD_USER_INPUT",
                    "search {text:?}: {body}"
                );
            }
        }
        for hostile in HOSTILE_TEXT {
            run(&app, search, json!({ "s": hostile }), &token, hostile).await;
        }
    })
    .await;
}

#[tokio::test]
async fn huge_strings_are_refused_not_stored() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        let huge = "x".repeat(50_000);
        for field in ["firstName", "lastName", "email", "phone"] {
            let mut input = json!({ "firstName": "Ana", "lastName": "Huge" });
            input[field] = json!(huge);
            let body = run(&app, CREATE_PATIENT, json!({ "input": input }), &token, field).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{field}");
        }
        let body = run(
            &app,
            "query($s: String) { patients(filter: { search: $s }) { totalCount } }",
            json!({ "s": huge }),
            &token,
            "huge search",
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let body = run(
            &app,
            "query { patients { totalCount } }",
            json!({}),
            &token,
            "count",
        )
        .await;
        assert_eq!(body["data"]["patients"]["totalCount"], 0);
        // Past the body limit the transport refuses before parsing.
        let response = app
            .post_graphql(&json!({ "query": CREATE_PATIENT, "variables": { "input": { "firstName": "x".repeat(300_000), "lastName": "L" } } }), Some(&token))
            .await;
        assert_eq!(response.status(), 413);
        assert_handled(response, "body over the limit").await;
    })
    .await;
}

#[tokio::test]
async fn conflicting_updates_have_exactly_one_winner() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        let input = json!({ "firstName": "Ana", "lastName": "Race" });
        let body = run(&app, CREATE_PATIENT, json!({ "input": input }), &token, "create").await;
        let id = body["data"]["createPatient"]["patient"]["id"].as_str().unwrap().to_owned();
        let update = "mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { version firstName } } }";
        let attempts = (0..100).map(|n| {
            let (app, token, id) = (&app, &token, &id);
            async move {
                let input = json!({ "id": id, "expectedVersion": 1, "firstName": format!("Writer{n}") });
                (n, run(app, update, json!({ "input": input }), token, "update").await)
            }
        });
        let results = join_all(attempts).await;
        let winners: Vec<_> = results.iter().filter(|(_, body)| body["errors"].is_null()).collect();
        assert_eq!(winners.len(), 1, "exactly one writer wins: {winners:?}");
        for (_, body) in results.iter().filter(|(_, body)| !body["errors"].is_null()) {
            assert_eq!(error_code(body), "CONFLICT", "{body}");
        }
        let (winner, answer) = winners[0];
        assert_eq!(answer["data"]["updatePatient"]["patient"]["version"], 2);
        let body = run(&app, "query($id: ID!) { patient(id: $id) { version firstName } }", json!({ "id": id }), &token, "read").await;
        assert_eq!(body["data"]["patient"], json!({ "version": 2, "firstName": format!("Writer{winner}") }));
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_never_see_a_locked_database() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        let creates = (0..60).map(|n| {
            let (app, token) = (&app, &token);
            async move {
                let input = json!({ "firstName": "Ana", "lastName": format!("Parallel{n}"), "medicalHistory": { "allergies": "none" } });
                run(app, CREATE_PATIENT, json!({ "input": input }), token, "parallel create").await
            }
        });
        for body in join_all(creates).await {
            assert!(body["errors"].is_null(), "{body}");
        }
        let body = run(&app, "{ patients { totalCount } }", json!({}), &token, "count").await;
        assert_eq!(body["data"]["patients"]["totalCount"], 60);
    })
    .await;
}

#[tokio::test]
async fn an_exhausted_pool_answers_fast_with_a_retryable_error() {
    for_each_backend_with(
        |config| {
            config.database.db_max_connections = 1;
            config.database.db_acquire_timeout_secs = 1;
        },
        |app| async move {
            let (_, token) = app.sign_in(Role::Admin).await;
            let query = json!({ "query": "{ patients { totalCount } }" });
            let held = app.db.begin().await.expect("the only connection");
            let started = Instant::now();
            let waiting = (0..8).map(|_| app.post_graphql(&query, Some(&token)));
            let responses = join_all(waiting).await;
            let elapsed = started.elapsed();
            assert!(
                elapsed < Duration::from_secs(4),
                "answered in {elapsed:?}, not piled up"
            );
            for response in responses {
                assert_eq!(response.status(), 503);
                assert_eq!(response.headers()["retry-after"], "1");
                let body: Value = response.json().await.unwrap();
                assert_eq!(error_code(&body), "INTERNAL", "{body}");
                assert_eq!(
                    body["errors"][0]["extensions"]["retryAfterSeconds"], 1,
                    "{body}"
                );
                assert!(
                    body["errors"][0]["extensions"]["errorId"].is_string(),
                    "{body}"
                );
            }
            held.rollback().await.expect("release");
            let response = app.post_graphql(&query, Some(&token)).await;
            assert_eq!(response.status(), 200);
        },
    )
    .await;
}

/// One generated operation: a valid-shaped document with hostile values.
#[derive(Debug, Clone)]
struct Operation {
    query: &'static str,
    variables: Value,
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,64}",
        proptest::sample::select(HOSTILE_TEXT).prop_map(str::to_owned),
        (0usize..5_000).prop_map(|n| "é".repeat(n)),
    ]
}

fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u128>().prop_map(|n| uuid::Uuid::from_u128(n).to_string()),
        hostile_string(),
    ]
}

fn any_date() -> impl Strategy<Value = String> {
    (-1i32..100_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn any_datetime() -> impl Strategy<Value = String> {
    prop_oneof![
        (any_date(), 0u32..25, 0u32..61).prop_map(|(d, h, m)| format!("{d}T{h:02}:{m:02}:00Z")),
        hostile_string(),
    ]
}

fn any_int() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-100i64..200).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
    ]
}

fn any_operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        (any_int(), proptest::option::of(hostile_string()), proptest::option::of(hostile_string())).prop_map(|(first, after, search)| Operation {
            query: "query($first: Int, $after: String, $s: String) { patients(first: $first, after: $after, filter: { search: $s }) { totalCount edges { cursor node { id chartNumber firstName } } } }",
            variables: json!({ "first": first, "after": after, "s": search }),
        }),
        any_id().prop_map(|id| Operation {
            query: "query($id: ID!) { patient(id: $id) { id firstName procedures { status } followUps { kind } } }",
            variables: json!({ "id": id }),
        }),
        (any_id(), any_id(), any_id()).prop_map(|(a, b, c)| Operation {
            query: "query($a: ID!, $b: ID!, $c: ID!) { procedure(id: $a) { id } consultation(id: $b) { id } device(id: $c) { id } }",
            variables: json!({ "a": a, "b": b, "c": c }),
        }),
        (hostile_string(), hostile_string(), proptest::option::of(hostile_string()), proptest::option::of(hostile_string()), proptest::option::of(any_date()), hostile_string()).prop_map(|(first, last, email, phone, born, notes)| Operation {
            query: CREATE_PATIENT,
            variables: json!({ "input": { "firstName": first, "lastName": last, "email": email, "phone": phone, "dateOfBirth": born, "medicalHistory": { "notes": notes } } }),
        }),
        (any_id(), any_int(), hostile_string()).prop_map(|(id, version, first)| Operation {
            query: "mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { id } } }",
            variables: json!({ "input": { "id": id, "expectedVersion": version, "firstName": first } }),
        }),
        (any_datetime(), any_datetime(), proptest::option::of(any_id())).prop_map(|(from, to, provider)| Operation {
            query: "query($f: DateTime!, $t: DateTime!, $p: ID) { schedule(from: $f, to: $t, providerId: $p) { __typename } }",
            variables: json!({ "f": from, "t": to, "p": provider }),
        }),
        (proptest::option::of(any_datetime()), proptest::option::of(any_datetime()), any_int(), proptest::option::of(any_id())).prop_map(|(from, to, first, patient)| Operation {
            query: "query($f: DateTime, $t: DateTime, $n: Int, $p: ID) { followUps(first: $n, filter: { dueFrom: $f, dueTo: $t, patientId: $p }) { totalCount edges { node { id dueAt } } } }",
            variables: json!({ "f": from, "t": to, "n": first, "p": patient }),
        }),
        (any_id(), any_id(), any_datetime(), any_int()).prop_map(|(patient, provider, starts, minutes)| Operation {
            query: "mutation($input: ScheduleProcedureInput!) { scheduleProcedure(input: $input) { procedure { id } } }",
            variables: json!({ "input": { "patientId": patient, "providerId": provider, "startsAt": starts, "durationMinutes": minutes, "areas": ["CHEEKS"] } }),
        }),
        (hostile_string(), hostile_string(), hostile_string(), proptest::option::of(hostile_string())).prop_map(|(first, last, consent, message)| Operation {
            query: "mutation($input: SubmitConsultationRequestInput!) { submitConsultationRequest(input: $input) { __typename } }",
            variables: json!({ "input": { "firstName": first, "lastName": last, "consentTextVersion": consent, "consentedChannels": ["EMAIL"], "preferredChannel": "EMAIL", "email": "ana@example.com", "message": message } }),
        }),
        hostile_string().prop_map(|lot| Operation {
            query: "query($l: String!) { cartridgeLotExposure(lotNumber: $l) { __typename } }",
            variables: json!({ "l": lot }),
        }),
    ]
}

#[tokio::test]
async fn generated_operations_never_get_a_5xx_or_internal() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Admin).await;
        let mut runner = TestRunner::new(ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        });
        let strategy = any_operation();
        for _ in 0..300 {
            let operation = strategy.new_tree(&mut runner).expect("generated").current();
            let what = format!("{operation:?}");
            let what: String = what.chars().take(2_000).collect();
            run(&app, operation.query, operation.variables, &token, &what).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_postgres_shutdown_is_retryable_and_the_pool_recovers_by_itself() {
    for_each_backend(|app| async move {
        if app.db.get_database_backend() != DbBackend::Postgres {
            return; // SQLite has no server that could go away.
        }
        let (_, token) = app.sign_in(Role::Admin).await;
        // One connection, so `pg_backend_pid()` below excludes all of the
        // admin side: terminating a sibling admin connection would fail the
        // statement doing the terminating (57P01) instead of the app's.
        let mut options = sea_orm::ConnectOptions::new(app.database_url.clone());
        options
            .max_connections(1)
            .min_connections(1)
            .sqlx_logging(false);
        let admin = sea_orm::Database::connect(options).await.unwrap();
        // A statement on a connection the server terminates (SQLSTATE 57P01,
        // as in a restart) is retryable: its transaction was rolled back.
        let transaction = app.db.begin().await.unwrap();
        let pid: i32 = single_value(&transaction, "SELECT pg_backend_pid()").await;
        admin
            .execute_unprepared(&format!("SELECT pg_terminate_backend({pid})"))
            .await
            .unwrap();
        let error = transaction
            .execute_unprepared("SELECT 1")
            .await
            .unwrap_err();
        assert!(
            matches!(AppError::from(error), AppError::Unavailable(_)),
            "retryable"
        );
        // Every other connection to this database killed at once, as in a
        // restart: the next request still works.
        admin
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        let body = run(
            &app,
            "{ patients { totalCount } }",
            json!({}),
            &token,
            "after the restart",
        )
        .await;
        assert_eq!(body["data"]["patients"]["totalCount"], 0, "{body}");
    })
    .await;
}
