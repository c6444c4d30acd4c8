//! Starting and stopping the server.

use dermagraph::config::{Config, Environment};

use crate::helpers::{TestApp, backends};

#[tokio::test]
async fn production_refuses_to_start_without_a_jwt_secret() {
    let mut config = Config::development("sqlite::memory:");
    config.environment = Environment::Production;
    let error = dermagraph::build_app(config).await.err().expect("refused");
    assert!(
        error.to_string().contains("DERMAGRAPH_JWT_SECRET"),
        "{error}"
    );
}

#[tokio::test]
async fn graceful_shutdown_stops_the_server_cleanly() {
    for backend in backends() {
        let (mut app, postgres) = TestApp::spawn(backend).await;
        let response = app.client().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        app.stop().await;
        assert!(
            app.client().get(app.url("/healthz")).send().await.is_err(),
            "no longer listening after shutdown"
        );
        drop(app);
        if let Some((admin_url, name)) = postgres {
            crate::helpers::drop_test_database(&admin_url, &name).await;
        }
    }
}
