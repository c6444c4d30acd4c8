//! The migrations apply, roll back completely and apply again, on every
//! backend.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::for_each_backend;

async fn policy_rows(app: &crate::helpers::TestApp) -> Result<i64, sea_orm::DbErr> {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM clinic_policy",
        ))
        .await?
        .expect("a count row");
    row.try_get::<i64>("", "n")
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    for_each_backend(|app| async move {
        assert!(
            Migrator::get_pending_migrations(&app.db)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(policy_rows(&app).await.unwrap(), 1);

        Migrator::down(&app.db, None).await.unwrap();
        assert!(
            Migrator::get_applied_migrations(&app.db)
                .await
                .unwrap()
                .is_empty(),
            "every migration rolls back"
        );
        assert!(
            policy_rows(&app).await.is_err(),
            "tables are gone after down"
        );

        Migrator::up(&app.db, None).await.unwrap();
        assert_eq!(
            policy_rows(&app).await.unwrap(),
            1,
            "the policy is seeded again"
        );
        let (_, token) = app
            .sign_in(dermagraph::domain::staff::Role::FrontDesk)
            .await;
        let body = app
            .gql(
                "{ clinicPolicy { minIntervalDays } }",
                serde_json::json!({}),
                Some(&token),
            )
            .await;
        assert_eq!(
            body["data"]["clinicPolicy"]["minIntervalDays"], 42,
            "{body}"
        );
    })
    .await;
}
