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

#[tokio::test]
async fn metrics_say_what_they_mean_and_show_what_an_operator_alerts_on() {
    for_each_backend(|app| async move {
        let app = app;
        let (_, token) = app.sign_in(dermagraph::domain::staff::Role::Provider).await;
        // An open subscription connection is counted while it is open.
        let (mut socket, _) = tokio_tungstenite::connect_async({
            use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
            let mut request = format!("ws://{}/graphql/ws", app.address).into_client_request().unwrap();
            request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
            request
        })
        .await
        .unwrap();
        use futures_util::SinkExt as _;
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
        socket.send(tokio_tungstenite::tungstenite::Message::Text(init.to_string().into())).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let text = app.client().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        for (metric, kind) in [
            ("http_requests_total", "counter"),
            ("graphql_operations_total", "counter"),
            ("db_pool_connections", "gauge"),
            ("audit_queue_rows", "gauge"),
            ("webhook_backlog_deliveries", "gauge"),
            ("websocket_connections", "gauge"),
            ("process_resident_memory_bytes", "gauge"),
            ("process_open_fds", "gauge"),
        ] {
            assert!(text.contains(&format!("# HELP {metric} ")), "no HELP for {metric}: {text}");
            assert!(text.contains(&format!("# TYPE {metric} {kind}")), "no TYPE for {metric}: {text}");
        }
        let open = text
            .lines()
            .find_map(|line| line.strip_prefix("websocket_connections "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{text}"));
        assert!(open >= 1.0, "the open connection is counted: {text}");
        assert!(text.contains("webhook_backlog_deliveries 0"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn production_serves_metrics_only_with_a_token_or_on_their_own_address() {
    let production = |config: &mut dermagraph::config::Config| {
        config.environment = dermagraph::config::Environment::Production;
        config.jwt_secret = Some("3f9d8c2a7b1e4f60a5d9c8b7e6f5a4d3".to_owned());
    };
    // Nothing configured: off.
    crate::helpers::for_each_backend_with(production, |app| async move {
        let response = app.client().get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 404);
    })
    .await;
    // A token: required.
    crate::helpers::for_each_backend_with(
        |config| {
            production(config);
            config.metrics_token = Some("scrape-token-0123456789".to_owned());
        },
        |app| async move {
            let response = app.client().get(app.url("/metrics")).send().await.unwrap();
            assert_eq!(response.status(), 401);
            let response = app
                .client()
                .get(app.url("/metrics"))
                .bearer_auth("scrape-token-wrong-wrong")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401);
            let response = app
                .client()
                .get(app.url("/metrics"))
                .bearer_auth("scrape-token-0123456789")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("# HELP http_requests_total")
            );
        },
    )
    .await;
    // Its own address: served there, not on the API's (one backend is
    // enough: the listener is the same on both).
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_address = free.local_addr().unwrap();
    drop(free);
    let (app, _) = crate::helpers::TestApp::spawn_with(crate::helpers::Backend::Sqlite, |config| {
        production(config);
        config.metrics_bind = Some(metrics_address);
    })
    .await;
    let response = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404, "not on the API's address");
    // The server binds it as it starts serving, just after spawn returns.
    let mut answer = None;
    for _ in 0..50 {
        if let Ok(response) = app
            .client()
            .get(format!("http://{metrics_address}/metrics"))
            .send()
            .await
        {
            answer = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let response = answer.expect("the metrics address answers");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("# TYPE db_pool_connections gauge")
    );
}
