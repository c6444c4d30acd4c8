//! Partner webhooks delivered to a local receiver: signed with the
//! documented recipe, retried with backoff until the receiver recovers,
//! kept in the outbox across a restart, and endpoints disabled after
//! repeated failures.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::State, http::HeaderMap, routing::post};
use dermagraph::{config::Config, domain::staff::Role};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{TestApp, error_code, for_each_backend_with};

/// A partner's receiver: records every request; fails while `failures`
/// is above zero.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(failures: usize) -> (Self, String) {
        let receiver = Self::default();
        receiver.failures.store(failures, Ordering::SeqCst);
        let app = Router::new()
            .route(
                "/hook",
                post(|State(receiver): State<Receiver>, headers: HeaderMap, body: String| async move {
                    receiver.hits.lock().unwrap().push((headers, body));
                    let left = receiver.failures.load(Ordering::SeqCst);
                    if left > 0 {
                        receiver.failures.store(left - 1, Ordering::SeqCst);
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                }),
            )
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (receiver, url)
    }

    fn hits(&self) -> Vec<(HeaderMap, String)> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits until `count` requests arrived.
    async fn wait_for(&self, count: usize) -> Vec<(HeaderMap, String)> {
        for _ in 0..200 {
            if self.hits().len() >= count {
                return self.hits();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("only {} of {count} deliveries arrived", self.hits().len());
    }
}

fn fast(config: &mut Config) {
    config.webhook_poll_ms = 50;
    config.webhook_retry_base_ms = 100;
    config.webhook_disable_after = 3;
}

async fn endpoint(app: &TestApp, admin: &str, url: &str) -> (String, String) {
    let created = app
        .gql("mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { webhookEndpoint { id active eventTypes } secret } }",
            json!({ "input": { "url": url, "eventTypes": ["SCHEDULE_CHANGED"] } }), Some(admin))
        .await;
    let payload = &created["data"]["createWebhookEndpoint"];
    assert_eq!(
        payload["webhookEndpoint"]["eventTypes"],
        json!(["SCHEDULE_CHANGED"]),
        "{created}"
    );
    (
        payload["webhookEndpoint"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        payload["secret"].as_str().unwrap().to_owned(),
    )
}

/// Books a consultation: a SCHEDULE_CHANGED event. Returns its id.
async fn book(app: &TestApp, days: i64) -> String {
    let (_, desk) = app.sign_in(Role::FrontDesk).await;
    let provider = app.create_user(Role::Provider).await.id.to_string();
    let patient = app
        .gql("mutation { createPatient(input: { firstName: \"Hook\", lastName: \"Patient\" }) { patient { id } } }", json!({}), Some(&desk))
        .await;
    let booked = app
        .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
            json!({ "input": { "patientId": patient["data"]["createPatient"]["patient"]["id"], "providerId": provider,
                "startsAt": crate::procedures::day_at(days), "durationMinutes": 30 } }), Some(&desk))
        .await;
    booked["data"]["scheduleConsultation"]["consultation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{booked}"))
        .to_owned()
}

/// The documented recipe: `t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>.<body>"))`.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header.split_once(",v1=") else {
        return false;
    };
    let timestamp = t.trim_start_matches("t=");
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

/// Verifies Standard Webhooks headers as the specification says, written
/// here independently of the server's code: the key is the base64 after
/// `whsec_`, the signed content `"<webhook-id>.<webhook-timestamp>.<body>"`,
/// and `webhook-signature` lists `v1,<base64>` signatures separated by
/// spaces. (The real `standardwebhooks` library checks them in `.ci/run`.)
fn verify_standard(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return false;
    };
    let Ok(key) = STANDARD.decode(secret.trim_start_matches("whsec_")) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|signature| signature == expected)
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_until_the_receiver_recovers() {
    for_each_backend_with(fast, |app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let (receiver, url) = Receiver::start(2).await;
        let refused = app
            .gql("mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
                json!({ "input": { "url": url, "eventTypes": ["SCHEDULE_CHANGED"] } }), Some(&desk))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN");
        let (_, secret) = endpoint(&app, &admin, &url).await;

        let consultation = book(&app, 2).await;
        let hits = receiver.wait_for(3).await;
        let ids: Vec<_> = hits.iter().map(|(headers, _)| headers["dermagraph-delivery"].to_str().unwrap().to_owned()).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "one delivery, retried: {ids:?}");
        let (headers, body) = &hits[2];
        assert!(verify(&secret, headers["dermagraph-signature"].to_str().unwrap(), body), "signature verifies");
        assert!(!verify("whsec_wrong", headers["dermagraph-signature"].to_str().unwrap(), body));
        // Standard Webhooks: a `whsec_` secret of a 32-byte key, the delivery
        // id as `webhook-id` on every retry, a timestamp near now.
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert_eq!(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &secret[6..]).map(|key| key.len()).ok(), Some(32));
        assert!(verify_standard(&secret, headers, body), "Standard Webhooks signature verifies: {headers:?}");
        assert!(!verify_standard(&secret, headers, &body.replace('}', " }")), "a changed body does not verify");
        assert!(!verify_standard("whsec_d3Jvbmcgc2VjcmV0", headers, body), "another key does not verify");
        assert!(hits.iter().all(|(headers, _)| headers["webhook-id"] == ids[0].as_str()), "one webhook-id across retries");
        let sent_at: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60, "{sent_at}");
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "SCHEDULE_CHANGED");
        assert_eq!(event["data"]["appointmentId"], consultation.as_str());
        assert_eq!(event["data"]["appointment"], "CONSULTATION", "the API's enum spelling");
        assert_eq!(headers["dermagraph-event"], "SCHEDULE_CHANGED");

        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.hits().len(), 3, "nothing sent after the success");
        let listed = app
            .gql("{ webhookDeliveries { totalCount edges { node { status attempts lastStatusCode } } } }", json!({}), Some(&admin))
            .await;
        assert_eq!(listed["data"]["webhookDeliveries"]["edges"][0]["node"], json!({ "status": "DELIVERED", "attempts": 3, "lastStatusCode": 200 }), "{listed}");
    })
    .await;
}

#[tokio::test]
async fn the_outbox_survives_a_restart() {
    for_each_backend_with(fast, |mut app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let (receiver, url) = Receiver::start(usize::MAX).await;
        endpoint(&app, &admin, &url).await;
        let consultation = book(&app, 3).await;
        receiver.wait_for(1).await;
        app.stop().await;
        receiver.failures.store(0, Ordering::SeqCst);
        let restarted = app.second_instance().await;
        for _ in 0..200 {
            let delivered = receiver
                .hits()
                .iter()
                .any(|(_, body)| body.contains(&consultation))
                && receiver.failures.load(Ordering::SeqCst) == 0
                && receiver.hits().len() >= 2;
            if delivered {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (_, admin) = restarted.sign_in(Role::Admin).await;
        for _ in 0..100 {
            let listed = restarted
                .gql(
                    "{ webhookDeliveries(filter: { status: DELIVERED }) { totalCount } }",
                    json!({}),
                    Some(&admin),
                )
                .await;
            if listed["data"]["webhookDeliveries"]["totalCount"] == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the queued delivery was not sent after the restart: {:?}",
            receiver.hits().len()
        );
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_can_be_redelivered_to() {
    for_each_backend_with(fast, |app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let (receiver, url) = Receiver::start(usize::MAX).await;
        let (id, _) = endpoint(&app, &admin, &url).await;
        book(&app, 4).await;
        receiver.wait_for(3).await;
        let mut disabled = Value::Null;
        for _ in 0..100 {
            disabled = app.gql("{ webhookEndpoints { active consecutiveFailures disabledAt } }", json!({}), Some(&admin)).await;
            if disabled["data"]["webhookEndpoints"][0]["active"] == false {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(disabled["data"]["webhookEndpoints"][0]["active"], false, "{disabled}");
        assert!(disabled["data"]["webhookEndpoints"][0]["disabledAt"].is_string());
        tokio::time::sleep(Duration::from_millis(400)).await;
        let before = receiver.hits().len();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(receiver.hits().len(), before, "a disabled endpoint gets nothing");

        receiver.failures.store(0, Ordering::SeqCst);
        let enabled = app
            .gql("mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, active: true }) { webhookEndpoint { active consecutiveFailures } } }",
                json!({ "id": id }), Some(&admin))
            .await;
        assert_eq!(enabled["data"]["updateWebhookEndpoint"]["webhookEndpoint"], json!({ "active": true, "consecutiveFailures": 0 }), "{enabled}");
        let delivery = app.gql("{ webhookDeliveries { edges { node { id status } } } }", json!({}), Some(&admin)).await;
        let delivery_id = delivery["data"]["webhookDeliveries"]["edges"][0]["node"]["id"].clone();
        let redelivered = app
            .gql("mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { delivery { status attempts } } }", json!({ "id": delivery_id }), Some(&admin))
            .await;
        assert_eq!(redelivered["data"]["redeliverWebhook"]["delivery"]["status"], "PENDING", "{redelivered}");
        receiver.wait_for(before + 1).await;
        for _ in 0..100 {
            let listed = app.gql("{ webhookDeliveries(filter: { status: DELIVERED }) { totalCount } }", json!({}), Some(&admin)).await;
            if listed["data"]["webhookDeliveries"]["totalCount"] == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("not delivered after re-enabling");
    })
    .await;
}

#[tokio::test]
async fn endpoints_cannot_point_into_the_servers_own_network() {
    for_each_backend_with(
        |config| {
            fast(config);
            config.webhook_allow_loopback = Some(false);
        },
        |app| async move {
            let (admin_user, admin) = app.sign_in(Role::Admin).await;
            for url in [
                "http://127.0.0.1:5432/",
                "http://localhost:5432/",
                "http://[::1]:8080/hook",
                "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.7/hook",
                "http://[::ffff:192.168.1.1]/hook",
                "ftp://partner.example/hook",
            ] {
                let refused = app
                    .gql("mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
                        json!({ "input": { "url": url, "eventTypes": ["SCHEDULE_CHANGED"] } }), Some(&admin))
                    .await;
                assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{url}: {refused}");
                assert_eq!(refused["errors"][0]["extensions"]["field"], "url", "{refused}");
            }

            // Endpoints stored before (or pointed there by DNS later) are
            // refused again when a delivery is sent.
            let (receiver, url) = Receiver::start(0).await;
            let by_name = url.replace("127.0.0.1", "localhost");
            for stored in [url.clone(), by_name] {
                use dermagraph::entities::webhook_endpoints;
                use sea_orm::{ActiveModelTrait, ActiveValue::Set};
                let now = chrono::Utc::now();
                webhook_endpoints::ActiveModel {
                    id: Set(uuid::Uuid::now_v7()),
                    url: Set(stored),
                    event_types: Set("SCHEDULE_CHANGED".to_owned()),
                    secret: Set("whsec_stored".to_owned()),
                    active: Set(true),
                    consecutive_failures: Set(0),
                    disabled_at: Set(None),
                    created_by: Set(admin_user.id),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                }
                .insert(&app.db)
                .await
                .unwrap();
            }
            book(&app, 2).await;
            let mut errors = Vec::new();
            for _ in 0..100 {
                let listed = app
                    .gql("{ webhookDeliveries { edges { node { attempts lastError } } } }", json!({}), Some(&admin))
                    .await;
                errors = listed["data"]["webhookDeliveries"]["edges"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{listed}"))
                    .iter()
                    .filter_map(|edge| edge["node"]["lastError"].as_str().map(str::to_owned))
                    .collect();
                if errors.len() == 2 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(errors.iter().any(|e| e.contains("loopback")), "{errors:?}");
            assert!(errors.iter().any(|e| e.contains("no public address")), "{errors:?}");
            assert!(receiver.hits().is_empty(), "nothing reached the loopback receiver");
        },
    )
    .await;
}
