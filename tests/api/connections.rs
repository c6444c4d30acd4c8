//! Connections that misbehave cannot take the server down: slow or silent
//! headers, trickled bodies and thousands of idle sockets are cut off or
//! refused, and a stuck client cannot hold up shutdown.

use std::time::{Duration, Instant};

use dermagraph::domain::staff::Role;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::helpers::{TestApp, for_each_backend_with};

fn short_timeouts(config: &mut dermagraph::config::Config) {
    config.connections.header_read_timeout_secs = 1;
    config.connections.body_read_timeout_secs = 1;
}

/// Reads until the server closes the connection (or 10 s pass), returning
/// what it sent and when it closed.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            Err(_) => panic!("the connection was still open after 10 s"),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn slow_or_silent_headers_are_cut_off() {
    for_each_backend_with(short_timeouts, |app| async move {
        // The block holds the whole app (it would capture only its address,
        // and the app would stop before the block runs).
        let app = app;
        // Silent: connects and says nothing.
        let mut silent = TcpStream::connect(app.address).await.unwrap();
        // Slowloris: a header line every 300 ms, never the blank line.
        let mut slow = TcpStream::connect(app.address).await.unwrap();
        slow.write_all(b"POST /graphql HTTP/1.1\r\nhost: clinic\r\n")
            .await
            .unwrap();
        let trickle = tokio::spawn(async move {
            for n in 0..30 {
                let line = format!("x-filler-{n}: a\r\n");
                if slow.write_all(line.as_bytes()).await.is_err() {
                    return slow;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            slow
        });
        let (_, waited) = until_closed(&mut silent).await;
        assert!(
            waited < Duration::from_secs(4),
            "silent socket closed after {waited:?}"
        );
        let mut slow = trickle.await.unwrap();
        let (_, waited) = until_closed(&mut slow).await;
        assert!(
            waited < Duration::from_secs(4),
            "slowloris closed after {waited:?}"
        );
        // A kept-alive connection idle past the timeout is closed too.
        let mut kept = TcpStream::connect(app.address).await.unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: clinic\r\n\r\n")
            .await
            .unwrap();
        let (answer, waited) = until_closed(&mut kept).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            waited < Duration::from_secs(4),
            "idle keep-alive closed after {waited:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_trickled_body_is_refused_within_the_body_deadline() {
    for_each_backend_with(short_timeouts, |app| async move {
        let app = app;
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        stream
            .write_all(b"POST /graphql HTTP/1.1\r\nhost: clinic\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"query\":")
            .await
            .unwrap();
        let (read, mut write) = stream.into_split();
        let trickle = tokio::spawn(async move {
            for _ in 0..40 {
                if write.write_all(b" ").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let mut stream = read;
        let started = Instant::now();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await
        {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
        trickle.abort();
        let answer = String::from_utf8_lossy(&received);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    })
    .await;
}

#[tokio::test]
async fn two_thousand_idle_sockets_leave_health_checks_answering() {
    // The sockets of the test and of the server it runs share this
    // process's descriptors, as a load balancer's checks and an attacker's
    // sockets share the server's.
    dermagraph::http::server::raise_open_file_limit();
    for_each_backend_with(
        |_| {},
        |app| async move {
            // One attacker address (127.0.0.2 is loopback too), the health
            // check from another.
            let mut idle = Vec::new();
            for _ in 0..2000 {
                let socket = TcpSocket::new_v4().unwrap();
                socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
                idle.push(socket.connect(app.address).await.unwrap());
            }
            let started = Instant::now();
            let health = app.client().get(app.url("/healthz")).send().await.unwrap();
            assert_eq!(health.status(), 200);
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
            // Past the per-address cap (256), the attacker's sockets were
            // answered 503 and closed at once.
            let (answer, waited) = until_closed(idle.last_mut().unwrap()).await;
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            assert!(answer.contains("retry-after: 1"), "{answer}");
            assert!(waited < Duration::from_secs(1), "{waited:?}");
            // And a query still works.
            let (_, token) = app.sign_in(Role::Admin).await;
            let me = app
                .gql("{ me { ... on User { id } } }", json!({}), Some(&token))
                .await;
            assert!(me["data"]["me"]["id"].is_string(), "{me}");
        },
    )
    .await;
}

#[tokio::test]
async fn shutdown_closes_a_stuck_client_after_the_drain_and_still_writes_audits() {
    for_each_backend_with(
        |config| {
            config.connections.shutdown_drain_secs = 1;
            config.connections.body_read_timeout_secs = 60;
            // Read audits wait in memory until shutdown writes them.
            config.audit_flush_ms = 600_000;
        },
        |mut app: TestApp| async move {
            let (_, token) = app.sign_in(Role::Provider).await;
            let created = app
                .gql("mutation { createPatient(input: { firstName: \"Drain\", lastName: \"Patient\" }) { patient { id } } }", json!({}), Some(&token))
                .await;
            let patient = created["data"]["createPatient"]["patient"]["id"].as_str().unwrap().to_owned();
            let read = app
                .gql("query($id: ID!) { patient(id: $id) { lastName } }", json!({ "id": patient }), Some(&token))
                .await;
            assert_eq!(read["data"]["patient"]["lastName"], "Patient", "{read}");
            // A request whose body never finishes arriving.
            let mut stuck = TcpStream::connect(app.address).await.unwrap();
            stuck
                .write_all(b"POST /graphql HTTP/1.1\r\nhost: clinic\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"query\":")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let started = Instant::now();
            app.stop().await;
            let stopped = started.elapsed();
            assert!(stopped < Duration::from_secs(4), "stopped after {stopped:?}");
            let (_, _) = until_closed(&mut stuck).await;
            use dermagraph::{domain::audit::AuditAction, entities::audit_events};
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            // The app closed its pool on the way out.
            let db = sea_orm::Database::connect(app.database_url.as_str()).await.unwrap();
            let reads = audit_events::Entity::find()
                .filter(audit_events::Column::Action.eq(AuditAction::Read))
                .filter(audit_events::Column::PatientId.eq(uuid::Uuid::parse_str(&patient).unwrap()))
                .count(&db)
                .await
                .unwrap();
            db.close().await.ok();
            assert!(reads >= 1, "the queued read audit was written on shutdown");
        },
    )
    .await;
}

/// Opens a WebSocket from `source` by hand and returns the socket once the
/// server has answered the upgrade.
async fn upgraded(app: &TestApp, source: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(app.address).await.unwrap();
    stream
        .write_all(b"GET /graphql/ws HTTP/1.1\r\nhost: clinic\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\nsec-websocket-protocol: graphql-transport-ws\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&buffer[..read]);
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    stream
}

#[tokio::test]
async fn websockets_hold_their_place_and_must_say_who_they_are_in_time() {
    for_each_backend_with(
        |config| {
            config.connections.max_connections_per_ip = 2;
            config.connections.header_read_timeout_secs = 2;
        },
        |app| async move {
            let app = app;
            let mut first = upgraded(&app, "127.0.0.6").await;
            let _second = upgraded(&app, "127.0.0.6").await;
            // Both upgraded sockets still count against their address.
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.6:0".parse().unwrap()).unwrap();
            let mut third = socket.connect(app.address).await.unwrap();
            let (answer, _) = until_closed(&mut third).await;
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            // Neither sent connection_init: both are closed after the
            // timeout, and their places are free again.
            let (_, waited) = until_closed(&mut first).await;
            assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _again = upgraded(&app, "127.0.0.6").await;
        },
    )
    .await;
}
