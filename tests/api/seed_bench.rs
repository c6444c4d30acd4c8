//! `seed-bench` writes data the API reads back without errors: the
//! benchmark's own queries (bench/scenarios) run on a small seed.

use dermagraph::seed_bench::{BenchSeedOptions, seed_bench, write_mix};
use serde_json::{Value, json};

use crate::helpers::{error_code, for_each_backend};

const PASSWORD: &str = "bench passphrase 2026";

fn token(login: &Value) -> String {
    login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned()
}

#[tokio::test]
async fn seed_bench_data_reads_back_through_the_api() {
    for_each_backend(|app| async move {
        let options = BenchSeedOptions {
            patients: 20,
            write_pool: 2,
            password: PASSWORD.to_owned(),
            progress: false,
        };
        let summary = seed_bench(&app.db, &options).await.unwrap();
        assert_eq!(summary.patients, 22);
        assert_eq!(summary.write_pool.providers.len(), 2);
        assert_eq!(summary.write_pool.patients.len(), 2);
        assert!(summary.follow_ups_due_today >= 4, "{summary:?}");
        assert_eq!(summary.device_sessions % 2, 0);
        assert!(summary.procedures >= 20, "{summary:?}");

        let provider = token(&app.login("provider1@bench.clinic", PASSWORD).await);
        let me = app.gql(include_str!("../../bench/scenarios/1-me.graphql"), json!({}), Some(&provider)).await;
        assert_eq!(me["data"]["me"]["role"], "PROVIDER", "{me}");

        let headline = app
            .gql(include_str!("../../bench/scenarios/3-headline.graphql"), json!({}), Some(&provider))
            .await;
        assert!(headline["errors"].is_null(), "{headline}");
        let edges = headline["data"]["patients"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 22);
        let procedures: Vec<&Value> =
            edges.iter().flat_map(|edge| edge["node"]["procedures"].as_array().unwrap()).collect();
        let performed: Vec<&&Value> =
            procedures.iter().filter(|p| p["status"] == "SIGNED" || p["status"] == "COMPLETED").collect();
        assert!(!performed.is_empty());
        for procedure in &performed {
            let sessions = procedure["deviceSessions"].as_array().unwrap();
            assert_eq!(sessions.len(), 2, "{procedure}");
            assert_ne!(sessions[0]["cartridge"]["serial"], sessions[1]["cartridge"]["serial"]);
            assert!(sessions[0]["device"]["serial"].is_string());
            assert!(procedure["provider"]["displayName"].is_string());
        }
        assert!(procedures.iter().any(|p| p["status"] == "SCHEDULED"), "{headline}");
        let id = edges[0]["node"]["id"].clone();
        let one = app
            .gql(include_str!("../../bench/scenarios/2-patient.graphql"), json!({ "id": id }), Some(&provider))
            .await;
        assert!(one["errors"].is_null(), "{one}");
        assert_eq!(one["data"]["patient"]["id"], id);

        // Deeper reads of the same rows: plans, screenings, aftercare, signed records.
        let deep = app
            .gql(
                "{ patients(first: 50) { totalCount edges { node { age treatmentPlan { plannedSessions sessionsDone status }
                   latestScreening { clearsTreatment advisories } medicalHistory { allergies } contactableChannels
                   informedConsents { templateVersion }
                   consultations { assessment { concerns treatmentAreas } screening { clearsTreatment } }
                   procedures { version prep { numbingDwellMinutes } postCare { sunscreenSpf } signedRecord { clinicalNotes }
                     aftercare { __typename } screening { id } followUps { kind status completedBy { displayName } } } } } } }",
                json!({}),
                Some(&provider),
            )
            .await;
        assert!(deep["errors"].is_null(), "{deep}");

        let desk = token(&app.login("desk@bench.clinic", PASSWORD).await);
        let worklist = app
            .gql(include_str!("../../bench/scenarios/4-worklist.graphql"), json!({}), Some(&desk))
            .await;
        assert!(worklist["errors"].is_null(), "{worklist}");
        let due = worklist["data"]["followUps"]["totalCount"].as_u64().unwrap();
        assert_eq!(usize::try_from(due).unwrap(), summary.follow_ups_due_today, "{worklist}");

        // One write-mix iteration by a pool pair: every rule passes.
        let writer = token(&app.login("writer00001@bench.clinic", PASSWORD).await);
        let pool = &summary.write_pool;
        let now = chrono::Utc::now();
        let numbing_at = now - chrono::Duration::minutes(90);
        let send = |body: Value| {
            let app = &app;
            let writer = writer.clone();
            async move {
                let response: Value = app.post_graphql(&body, Some(&writer)).await.json().await.unwrap();
                assert!(response["errors"].is_null(), "{response}");
                response
            }
        };
        let booked = send(write_mix::schedule(pool.providers[0], pool.patients[0], now)).await;
        let id = booked["data"]["scheduleProcedure"]["procedure"]["id"].as_str().unwrap().to_owned();
        let started = send(write_mix::start(&id, 1, numbing_at)).await;
        let mut version = started["data"]["startProcedure"]["procedure"]["version"].as_i64().unwrap();
        for k in 0..2 {
            let (device, window) = write_mix::session_window(0, k, pool.devices.len(), numbing_at, 60);
            let serial = format!("WM-TEST-{k}");
            let added = send(write_mix::add_session(&id, k, pool.devices[device], &serial, window)).await;
            version = added["data"]["addDeviceSession"]["procedure"]["version"].as_i64().unwrap();
        }
        let completed = send(write_mix::complete(&id, version)).await;
        let procedure = &completed["data"]["completeProcedure"]["procedure"];
        assert_eq!(procedure["status"], "COMPLETED");
        assert_eq!(procedure["followUps"].as_array().map(Vec::len), Some(4), "{procedure}");

        let bomb = app.gql(include_str!("../../bench/scenarios/6-bomb.graphql"), json!({}), None).await;
        assert_eq!(error_code(&bomb), "QUERY_TOO_COMPLEX", "{bomb}");

        let again = seed_bench(&app.db, &options).await;
        assert!(again.is_err(), "seeding twice is refused");
    })
    .await;
}
