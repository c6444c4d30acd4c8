//! R-AUDIT: every write, read and refusal leaves an audit row with no
//! personal data in it; the trail is append-only and survives shutdown.

use dermagraph::domain::staff::Role;
use migration::sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{
    TEST_PASSWORD, TestApp, error_code, for_each_backend, for_each_backend_with, single_value,
};

const EVENTS: &str = "query($filter: AuditEventFilter) { auditEvents(first: 100, filter: $filter) {
    totalCount edges { node { actorKind actorId actorRole action entityType entityId patientId operation requestId clientIp outcome } } } }";

async fn events(app: &TestApp, admin: &str, filter: Value) -> Vec<Value> {
    app.flush_audit().await;
    let response = app
        .gql(EVENTS, json!({ "filter": filter }), Some(admin))
        .await;
    response["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

#[tokio::test]
async fn r_audit_writes_are_audited_with_actor_and_request_id() {
    for_each_backend(|app| async move {
        let (admin_user, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .client()
            .post(app.url("/graphql"))
            .bearer_auth(&admin)
            .header("x-request-id", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
            .json(&json!({ "query": "mutation { createUser(input: { email: \"aud@clinic.test\", displayName: \"Audrey\", role: FRONT_DESK, password: \"a long enough password\" }) { user { id } } }" }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        let created = body["data"]["createUser"]["user"]["id"].as_str().unwrap().to_owned();
        let rows = events(&app, &admin, json!({ "action": "CREATE", "actorId": admin_user.id.to_string() })).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = &rows[0];
        assert_eq!(row["entityType"], "User");
        assert_eq!(row["entityId"], created.as_str());
        assert_eq!(row["actorKind"], "USER");
        assert_eq!(row["actorRole"], "ADMIN");
        assert_eq!(row["operation"], "createUser");
        assert_eq!(row["requestId"], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        assert_eq!(row["clientIp"], "127.0.0.1");
        assert_eq!(row["outcome"], "SUCCESS");
    })
    .await;
}

#[tokio::test]
async fn a_request_id_that_is_not_opaque_never_reaches_the_audit_trail() {
    for_each_backend(|app| async move {
        let (admin_user, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .client()
            .post(app.url("/graphql"))
            .bearer_auth(&admin)
            .header("x-request-id", "patient-jane-doe-dob-1980-01-01")
            .json(&json!({ "query": "mutation { createUser(input: { email: \"rid@clinic.test\", displayName: \"Rid\", role: FRONT_DESK, password: \"a long enough password\" }) { user { id } } }" }))
            .send()
            .await
            .unwrap();
        let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::try_parse(&echoed).is_ok(), "a generated id is echoed: {echoed}");
        let rows = events(&app, &admin, json!({ "action": "CREATE", "actorId": admin_user.id.to_string() })).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["requestId"], echoed.as_str());
        let traced = app
            .client()
            .post(app.url("/graphql"))
            .bearer_auth(&admin)
            .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .json(&json!({ "query": "{ me { ... on User { id } } }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(traced.headers()["x-request-id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    })
    .await;
}

#[tokio::test]
async fn r_audit_logins_and_failed_logins_are_audited() {
    for_each_backend(|app| async move {
        let (admin_user, admin) = app.sign_in(Role::Admin).await;
        let user = app.create_user(Role::Provider).await;
        app.login(&user.email, "wrong wrong wrong").await;
        let failed = events(&app, &admin, json!({ "action": "LOGIN_FAILED" })).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["actorKind"], "ANONYMOUS");
        assert_eq!(
            failed[0]["entityId"],
            user.id.to_string(),
            "the targeted account is named"
        );
        assert_eq!(failed[0]["outcome"], "DENIED");
        let logins = events(&app, &admin, json!({ "action": "LOGIN" })).await;
        assert_eq!(logins.len(), 1);
        assert_eq!(logins[0]["actorId"], admin_user.id.to_string());
    })
    .await;
}

#[tokio::test]
async fn r_audit_reads_are_audited_through_the_batched_writer() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let colleague = app.create_user(Role::Provider).await;
        app.gql(
            "{ users(first: 10) { totalCount } }",
            json!({}),
            Some(&admin),
        )
        .await;
        let reads = events(&app, &admin, json!({ "action": "READ" })).await;
        assert_eq!(reads.len(), 2, "one READ per account returned: {reads:?}");
        assert!(
            reads
                .iter()
                .any(|row| row["entityId"] == colleague.id.to_string())
        );
        assert!(reads.iter().all(|row| row["operation"] == "users"));
    })
    .await;
}

#[tokio::test]
async fn r_audit_refusals_are_audited() {
    for_each_backend(|app| async move {
        let (front_desk, token) = app.sign_in(Role::FrontDesk).await;
        let response = app
            .gql("{ auditEvents { totalCount } }", json!({}), Some(&token))
            .await;
        assert_eq!(error_code(&response), "FORBIDDEN");
        let (_, admin) = app.sign_in(Role::Admin).await;
        let denied = events(&app, &admin, json!({ "action": "ACCESS_DENIED" })).await;
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0]["actorId"], front_desk.id.to_string());
        assert_eq!(denied[0]["actorRole"], "FRONT_DESK");
        assert_eq!(denied[0]["operation"], "auditEvents");
        assert_eq!(denied[0]["outcome"], "DENIED");
    })
    .await;
}

#[tokio::test]
async fn r_audit_audit_rows_hold_no_personal_data() {
    for_each_backend(|app| async move {
        let (admin_user, admin) = app.sign_in(Role::Admin).await;
        let user = app.create_user(Role::FrontDesk).await;
        app.login(&user.email, TEST_PASSWORD).await;
        app.login(&user.email, "a wrong password").await;
        app.gql("{ users { totalCount } }", json!({}), Some(&admin))
            .await;
        app.flush_audit().await;
        let backend = app.db.get_database_backend();
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT * FROM audit_events",
            ))
            .await
            .unwrap();
        assert!(rows.len() >= 5, "{}", rows.len());
        let dump = format!("{rows:?}").to_lowercase();
        for secret in [
            user.email.as_str(),
            admin_user.email.as_str(),
            &user.display_name.to_lowercase(),
            TEST_PASSWORD,
            "a wrong password",
        ] {
            assert!(!dump.contains(secret), "audit rows contain {secret:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn r_audit_the_audit_table_refuses_update_and_delete() {
    for_each_backend(|app| async move {
        app.sign_in(Role::Admin).await;
        for statement in [
            "UPDATE audit_events SET outcome = 'DENIED'",
            "DELETE FROM audit_events",
        ] {
            let error = app.db.execute_unprepared(statement).await.err();
            let message = format!("{error:?}");
            assert!(
                message.contains("append-only"),
                "{statement} must fail: {message}"
            );
        }
        let count: i64 = single_value(&app.db, "SELECT COUNT(*) FROM audit_events").await;
        assert!(count >= 2, "rows survive");
    })
    .await;
}

/// READ rows stored, read on a connection of its own (the app may be stopped).
async fn stored_read_audits(database_url: &str) -> i64 {
    let db = Database::connect(database_url).await.unwrap();
    let reads = single_value(
        &db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'READ'",
    )
    .await;
    db.close().await.unwrap();
    reads
}

#[tokio::test]
async fn r_audit_queued_read_audits_are_written_on_shutdown() {
    for_each_backend_with(
        // Only the shutdown flush can write them within this test.
        |config| config.audit_flush_ms = 600_000,
        |mut app| async move {
            let (_, admin) = app.sign_in(Role::Admin).await;
            for _ in 0..3 {
                app.create_user(Role::FrontDesk).await;
            }
            app.gql(
                "{ users(first: 10) { totalCount } }",
                json!({}),
                Some(&admin),
            )
            .await;
            app.stop().await;
            let reads = stored_read_audits(&app.database_url).await;
            assert_eq!(
                reads, 4,
                "every read audit queued before shutdown is stored"
            );
        },
    )
    .await;
}

/// Renames the audit table, so that every audit insert fails, as while the
/// database restarts.
async fn take_the_audit_table_away(db: &impl ConnectionTrait) {
    db.execute_unprepared("ALTER TABLE audit_events RENAME TO audit_events_away")
        .await
        .unwrap();
}

async fn bring_the_audit_table_back(db: &impl ConnectionTrait) {
    db.execute_unprepared("ALTER TABLE audit_events_away RENAME TO audit_events")
        .await
        .unwrap();
}

#[tokio::test]
async fn r_audit_shutdown_waits_out_a_database_that_refuses_the_last_rows() {
    for_each_backend_with(
        |config| {
            config.audit_flush_ms = 600_000;
            config.database.db_acquire_timeout_secs = 1;
        },
        |mut app| async move {
            let (_, admin) = app.sign_in(Role::Admin).await;
            // The table is away, so every insert fails, as while the
            // database restarts; it comes back after shutdown has begun.
            take_the_audit_table_away(&app.db).await;
            let withheld = app
                .post_graphql(
                    &json!({ "query": "{ users(first: 10) { totalCount } }" }),
                    Some(&admin),
                )
                .await;
            assert_eq!(withheld.status(), 503, "the unaudited read is withheld");
            let database_url = app.database_url.clone();
            let restore = tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
                let db = Database::connect(database_url.as_str()).await.unwrap();
                bring_the_audit_table_back(&db).await;
                db.close().await.unwrap();
            });
            app.stop().await;
            restore.await.unwrap();
            let reads = stored_read_audits(&app.database_url).await;
            assert_eq!(
                reads, 1,
                "the queued read audit is stored once the database takes it"
            );
        },
    )
    .await;
}

const PATIENT_READ: &str = "query($id: ID!) { patient(id: $id) { id lastName } }";

async fn new_patient(app: &TestApp, token: &str) -> String {
    let created = app
        .gql(
            "mutation { createPatient(input: { firstName: \"Dora\", lastName: \"Durable\" }) { patient { id } } }",
            json!({}),
            Some(token),
        )
        .await;
    created["data"]["createPatient"]["patient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned()
}

/// READ rows of one patient, counted on a connection of the test's own.
pub async fn stored_patient_reads(database_url: &str, patient: &str) -> u64 {
    use dermagraph::{domain::audit::AuditAction, entities::audit_events};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let db = Database::connect(database_url).await.unwrap();
    let count = audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(AuditAction::Read))
        .filter(audit_events::Column::PatientId.eq(uuid::Uuid::parse_str(patient).unwrap()))
        .count(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    count
}

#[tokio::test]
async fn r_audit_a_read_is_answered_only_once_its_audit_row_is_stored() {
    for_each_backend_with(
        // Nothing but the answer's own wait writes the row in this test.
        |config| config.audit_flush_ms = 600_000,
        |app| async move {
            let app = app;
            let (_, desk) = app.sign_in(Role::FrontDesk).await;
            let patient = new_patient(&app, &desk).await;
            for read in 1..=3 {
                let answer = app
                    .gql(PATIENT_READ, json!({ "id": patient }), Some(&desk))
                    .await;
                assert_eq!(answer["data"]["patient"]["lastName"], "Durable", "{answer}");
                assert_eq!(
                    stored_patient_reads(&app.database_url, &patient).await,
                    read,
                    "the READ row is stored before the answer leaves"
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn r_audit_a_read_the_trail_cannot_record_is_withheld() {
    for_each_backend_with(
        |config| {
            config.database.db_acquire_timeout_secs = 1;
            config.audit_flush_ms = 100;
        },
        |app| async move {
            let app = app;
            let (_, desk) = app.sign_in(Role::FrontDesk).await;
            let patient = new_patient(&app, &desk).await;
            take_the_audit_table_away(&app.db).await;
            let withheld = app
                .post_graphql(
                    &json!({ "query": PATIENT_READ, "variables": { "id": patient } }),
                    Some(&desk),
                )
                .await;
            assert_eq!(withheld.status(), 503);
            assert!(withheld.headers().contains_key("retry-after"));
            let body: Value = withheld.json().await.unwrap();
            assert_eq!(error_code(&body), "INTERNAL", "{body}");
            assert!(
                body.get("data").is_none_or(Value::is_null),
                "no patient data: {body}"
            );
            assert!(!body.to_string().contains("Durable"), "{body}");

            bring_the_audit_table_back(&app.db).await;
            // The withheld read's row is stored on the writer's next try,
            // before or with this read's.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let answer = app
                .gql(PATIENT_READ, json!({ "id": patient }), Some(&desk))
                .await;
            assert_eq!(answer["data"]["patient"]["lastName"], "Durable", "{answer}");
            assert_eq!(stored_patient_reads(&app.database_url, &patient).await, 2);
        },
    )
    .await;
}

#[tokio::test]
async fn an_audit_batch_stored_twice_is_kept_once() {
    use dermagraph::{
        domain::audit::{ActorKind, AuditAction, AuditOutcome},
        entities::audit_events,
        services::audit_bulk::{Attempt, insert_rows},
    };
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

    for_each_backend(|app| async move {
        // Every column set, NULLs, text beyond ASCII, and a time with
        // nanoseconds (stored to the microsecond, as a bound time is).
        let full = |id| audit_events::Model {
            id,
            occurred_at: chrono::DateTime::from_timestamp(1_764_614_400, 123_456_789).unwrap(),
            actor_kind: ActorKind::User,
            actor_id: Some(uuid::Uuid::now_v7()),
            actor_role: Some("PROVIDER".to_owned()),
            action: AuditAction::Read,
            entity_type: Some("Procedure".to_owned()),
            entity_id: Some(uuid::Uuid::now_v7()),
            patient_id: Some(uuid::Uuid::now_v7()),
            operation: Some("Patient.procedures – Ünïcode ✓".to_owned()),
            request_id: Some("req-7".to_owned()),
            client_ip: Some("2001:db8::1".to_owned()),
            outcome: AuditOutcome::Denied,
        };
        let bare = |id| audit_events::Model {
            id,
            occurred_at: chrono::Utc::now(),
            actor_kind: ActorKind::System,
            actor_id: None,
            actor_role: None,
            action: AuditAction::Read,
            entity_type: None,
            entity_id: None,
            patient_id: None,
            operation: None,
            request_id: None,
            client_ip: None,
            outcome: AuditOutcome::Success,
        };
        let before = audit_events::Entity::find().count(&app.db).await.unwrap();
        let batch = vec![full(uuid::Uuid::now_v7()), bare(uuid::Uuid::now_v7())];
        insert_rows(&app.db, &batch, Attempt::First).await.unwrap();
        // A retry after a commit whose answer was lost must not fail forever.
        insert_rows(&app.db, &batch, Attempt::Retry).await.unwrap();
        let after = audit_events::Entity::find().count(&app.db).await.unwrap();
        assert_eq!(after - before, 2);

        let stored = audit_events::Entity::find()
            .filter(audit_events::Column::Id.is_in(batch.iter().map(|row| row.id)))
            .order_by_asc(audit_events::Column::Id)
            .all(&app.db)
            .await
            .unwrap();
        let mut expected = batch.clone();
        for (sent, kept) in expected.iter_mut().zip(&stored) {
            let lost = sent.occurred_at - kept.occurred_at;
            assert_eq!(lost.num_microseconds(), Some(0), "{sent:?} vs {kept:?}");
            sent.occurred_at = kept.occurred_at;
        }
        assert_eq!(stored, expected);
        if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Truncated to the microsecond, as sqlx truncates a bound time.
            let truncated = chrono::DateTime::from_timestamp(1_764_614_400, 123_456_000).unwrap();
            assert_eq!(stored[0].occurred_at, truncated);
        }
    })
    .await;
}

#[tokio::test]
async fn listing_a_rare_action_walks_the_index_that_leaves_reads_out() {
    use dermagraph::{
        domain::audit::AuditAction,
        services::audit::{AuditFilter, audit_events_matching},
    };
    use sea_orm::{DbBackend, QueryOrder, QuerySelect, QueryTrait, TransactionTrait};

    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        for _ in 0..3 {
            app.gql("{ me { __typename } }", json!({}), Some(&admin))
                .await;
        }
        let logins = events(&app, &admin, json!({ "action": "LOGIN" })).await;
        assert!(!logins.is_empty());
        assert!(
            logins.iter().all(|row| row["action"] == "LOGIN"),
            "{logins:?}"
        );

        let backend = app.db.get_database_backend();
        let (explain, analyze) = match backend {
            DbBackend::Postgres => ("EXPLAIN ", "ANALYZE audit_events"),
            _ => ("EXPLAIN QUERY PLAN ", "ANALYZE"),
        };
        app.db.execute_unprepared(analyze).await.unwrap();
        let listing = audit_events_matching(&AuditFilter {
            action: Some(AuditAction::Login),
            ..AuditFilter::default()
        })
        .order_by_desc(dermagraph::entities::audit_events::Column::Id)
        .limit(21)
        .build(backend);
        // A test's table is tiny: PostgreSQL would rather read all of it.
        let txn = app.db.begin().await.unwrap();
        if backend == DbBackend::Postgres {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .unwrap();
        }
        let plan = txn
            .query_all_raw(Statement {
                sql: format!("{explain}{}", listing.sql),
                ..listing
            })
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let column = if backend == DbBackend::Postgres {
                    "QUERY PLAN"
                } else {
                    "detail"
                };
                row.try_get::<String>("", column).unwrap()
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            plan.contains("ix_audit_events_action_except_reads"),
            "{backend:?} plan: {plan}"
        );
    })
    .await;
}

#[tokio::test]
async fn r_audit_archiving_deactivating_and_revoking_are_recorded_as_what_they_are() {
    for_each_backend(|app| async move {
        let app = app;
        let (_, admin) = app.sign_in(Role::Admin).await;
        let patient = new_patient(&app, &admin).await;
        let archived = app
            .gql(
                "mutation($input: ArchivePatientInput!) { archivePatient(input: $input) { patient { archived } } }",
                json!({ "input": { "id": patient, "expectedVersion": 1 } }),
                Some(&admin),
            )
            .await;
        assert_eq!(archived["data"]["archivePatient"]["patient"]["archived"], true, "{archived}");
        let colleague = app.create_user(Role::FrontDesk).await;
        let deactivated = app
            .gql(
                "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { active } } }",
                json!({ "input": { "id": colleague.id.to_string() } }),
                Some(&admin),
            )
            .await;
        assert_eq!(deactivated["data"]["deactivateUser"]["user"]["active"], false, "{deactivated}");
        let (key, _) = app.api_key(&["patients:read"]).await;
        let revoked = app
            .gql(
                "mutation($input: RevokeApiClientInput!) { revokeApiClient(input: $input) { apiClient { active } } }",
                json!({ "input": { "id": key } }),
                Some(&admin),
            )
            .await;
        assert_eq!(revoked["data"]["revokeApiClient"]["apiClient"]["active"], false, "{revoked}");

        for (action, entity_type, entity_id) in [
            ("ARCHIVE", "Patient", patient.clone()),
            ("DEACTIVATE", "User", colleague.id.to_string()),
            ("REVOKE", "ApiClient", key.clone()),
        ] {
            let rows = events(&app, &admin, json!({ "action": action })).await;
            assert_eq!(rows.len(), 1, "{action}: {rows:?}");
            assert_eq!(rows[0]["entityType"], entity_type);
            assert_eq!(rows[0]["entityId"], entity_id.as_str());
        }
        let deleted = events(&app, &admin, json!({ "action": "DELETE" })).await;
        assert!(deleted.is_empty(), "nothing is recorded as deleted: {deleted:?}");
    })
    .await;
}
