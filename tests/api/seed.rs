//! `seed-demo` builds a clinic a new user can explore at once.

use serde_json::json;

use crate::helpers::for_each_backend;

#[tokio::test]
async fn seed_demo_builds_a_clinic_to_explore() {
    for_each_backend(|app| async move {
        let summary = dermagraph::seed::seed_demo(&app.db, 6, "demo passphrase 2026", &indicatif::ProgressBar::hidden()).await.unwrap();
        assert_eq!(summary.patients, 6);
        assert_eq!(summary.consultations, 9, "6 upcoming and 3 completed");
        assert_eq!((summary.devices, summary.procedures), (4, 3), "2 signed, 1 booked");
        let login = app.login("dr.rivera@demo.clinic", "demo passphrase 2026").await;
        let token = login["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{login}")).to_owned();
        let view = app
            .gql(
                "{ patients(first: 10) { totalCount edges { node { lastName consultations { status provider { displayName } }
                   treatmentPlan { plannedSessions sessionsDone } medicalHistory { allergies }
                   procedures { status deviceSessions { depthMm device { serial } cartridge { lotNumber } } } } } }
                   devices { totalCount }
                   consultationRequests { totalCount } }",
                json!({}),
                Some(&token),
            )
            .await;
        assert!(view["errors"].is_null(), "{view}");
        assert_eq!(view["data"]["patients"]["totalCount"], 6);
        assert_eq!(view["data"]["consultationRequests"]["totalCount"], 2, "the spam request is hidden");
        let plans = view["data"]["patients"]["edges"].as_array().unwrap().iter().filter(|e| e["node"]["treatmentPlan"].is_object()).count();
        assert_eq!(plans, 3);
        assert_eq!(view["data"]["devices"]["totalCount"], 4);
        let signed: Vec<_> = view["data"]["patients"]["edges"].as_array().unwrap().iter()
            .flat_map(|e| e["node"]["procedures"].as_array().unwrap().clone())
            .filter(|p| p["status"] == "SIGNED").collect();
        assert_eq!(signed.len(), 2, "{view}");
        assert_eq!(signed[0]["deviceSessions"].as_array().unwrap().len(), 2);
        let exposure = app.gql("{ cartridgeLotExposure(lotNumber: \"LOT-2611A\") { id } }", json!({}), Some(&token)).await;
        assert_eq!(exposure["data"]["cartridgeLotExposure"].as_array().map(Vec::len), Some(1), "{exposure}");

        let again = dermagraph::seed::seed_demo(&app.db, 6, "demo passphrase 2026", &indicatif::ProgressBar::hidden()).await;
        assert!(again.is_err(), "seeding twice is refused");
    })
    .await;
}

/// Past the size where fixed offsets once made a provider's bookings
/// collide (about 670 patients): every provider's consultations and
/// procedures are disjoint, history is in the past and bookings ahead.
#[tokio::test]
async fn seed_demo_books_no_provider_twice_at_any_size() {
    use dermagraph::entities::{consultations, procedures};
    use sea_orm::EntityTrait as _;

    for_each_backend(|app| async move {
        let summary = dermagraph::seed::seed_demo(
            &app.db,
            720,
            "demo passphrase 2026",
            &indicatif::ProgressBar::hidden(),
        )
        .await
        .unwrap();
        assert_eq!(summary.patients, 720);
        assert_eq!(summary.consultations, 720 + 360);
        assert_eq!(summary.procedures, 360);
        let mut busy: std::collections::BTreeMap<uuid::Uuid, Vec<(i64, i64)>> = Default::default();
        for row in consultations::Entity::find().all(&app.db).await.unwrap() {
            busy.entry(row.provider_id)
                .or_default()
                .push((row.starts_at_s, row.ends_at_s));
        }
        for row in procedures::Entity::find().all(&app.db).await.unwrap() {
            busy.entry(row.provider_id)
                .or_default()
                .push((row.starts_at_s, row.ends_at_s));
        }
        assert_eq!(busy.len(), 2, "two providers");
        for (provider, mut spans) in busy {
            spans.sort_unstable();
            for pair in spans.windows(2) {
                assert!(
                    pair[0].1 <= pair[1].0,
                    "provider {provider} is booked twice: {pair:?}"
                );
            }
        }
        let again = dermagraph::seed::seed_demo(
            &app.db,
            1,
            "demo passphrase 2026",
            &indicatif::ProgressBar::hidden(),
        )
        .await;
        assert!(
            again
                .unwrap_err()
                .to_string()
                .contains("already has patients")
        );
        let too_many =
            dermagraph::seed::seed_demo(&app.db, 10_001, "x", &indicatif::ProgressBar::hidden())
                .await;
        assert!(too_many.unwrap_err().to_string().contains("1 to 10000"));
    })
    .await;
}
