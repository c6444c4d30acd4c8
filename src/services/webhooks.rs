//! Partner webhooks: endpoints, the durable outbox, and the dispatcher
//! that delivers at least once, with exponential backoff, and disables an
//! endpoint that keeps failing.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    prelude::Uuid,
    sea_query::{Expr, ExprTrait},
};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    auth::{actor::RequestContext, secrets::new_webhook_secret},
    domain::{
        audit::{AuditAction, EntityType},
        patient::{join_codes, split_codes},
        webhook::{
            DeliveryStatus, MAX_ATTEMPTS, WebhookEventType, backoff_ms, signature,
            standard_signature,
        },
        webhook_target::TargetPolicy,
    },
    entities::{webhook_deliveries, webhook_endpoints},
    error::{AppError, AppResult},
    events::DomainEvent,
    graphql::pagination::{KeysetCursor, Page, PageRequest},
    services::{
        audit::{AuditEvent, AuditedWrite},
        listing::newest_first,
        webhook_guard,
    },
};

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Registers an endpoint (admins); returns it and its signing secret,
/// which is shown only this once.
///
/// # Errors
/// `BAD_USER_INPUT` for a URL that is not http(s) (https in production),
/// is or resolves to a loopback (unless allowed), private, link-local or
/// reserved address, or no event types.
pub async fn create_endpoint(
    db: &DatabaseConnection,
    request: &RequestContext,
    url: &str,
    event_types: &[WebhookEventType],
    targets: TargetPolicy,
) -> AppResult<(webhook_endpoints::Model, String)> {
    let created_by = request.actor.id().ok_or(AppError::Forbidden)?;
    let url = url.trim();
    webhook_guard::check_new_url(url, targets).await?;
    if event_types.is_empty() {
        return Err(AppError::bad_input(
            "eventTypes",
            "name at least one event type",
        ));
    }
    let secret = new_webhook_secret();
    let now = Utc::now();
    let mut write = AuditedWrite::begin(db, request, "createWebhookEndpoint").await?;
    let endpoint = webhook_endpoints::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(url.to_owned()),
        event_types: Set(join_codes(&event_types.iter().copied().collect())),
        secret: Set(secret.clone()),
        active: Set(true),
        consecutive_failures: Set(0),
        disabled_at: Set(None),
        created_by: Set(created_by),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*write)
    .await?;
    write.audit(
        AuditEvent::new(AuditAction::Create).entity(EntityType::WebhookEndpoint, Some(endpoint.id)),
    );
    write.commit().await?;
    Ok((endpoint, secret))
}

/// Turns an endpoint on (resetting its failure count) or off (admins).
///
/// # Errors
/// `NOT_FOUND`.
pub async fn set_endpoint_active(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
    active: bool,
) -> AppResult<webhook_endpoints::Model> {
    let mut write = AuditedWrite::begin(db, request, "updateWebhookEndpoint").await?;
    let updated = webhook_endpoints::Entity::update_many()
        .col_expr(webhook_endpoints::Column::Active, Expr::value(active))
        .col_expr(
            webhook_endpoints::Column::ConsecutiveFailures,
            Expr::value(0),
        )
        .col_expr(
            webhook_endpoints::Column::DisabledAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_endpoints::Column::UpdatedAt,
            Expr::value(Utc::now()),
        )
        .col_expr(
            webhook_endpoints::Column::Version,
            Expr::col(webhook_endpoints::Column::Version).add(1),
        )
        .filter(webhook_endpoints::Column::Id.eq(id))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::NotFound {
            entity: "webhook endpoint",
        });
    }
    write.audit(AuditEvent::new(AuditAction::Update).entity(EntityType::WebhookEndpoint, Some(id)));
    let endpoint = webhook_endpoints::Entity::find_by_id(id)
        .one(&*write)
        .await?
        .ok_or(AppError::NotFound {
            entity: "webhook endpoint",
        })?;
    write.commit().await?;
    Ok(endpoint)
}

/// Every endpoint, newest first.
///
/// # Errors
/// Database failures.
pub async fn endpoints(db: &DatabaseConnection) -> AppResult<Vec<webhook_endpoints::Model>> {
    Ok(webhook_endpoints::Entity::find()
        .order_by_desc(webhook_endpoints::Column::Id)
        .all(db)
        .await?)
}

/// Puts the event in the outbox of every active endpoint subscribed to
/// its type; the dispatcher delivers from there, across restarts.
///
/// # Errors
/// Database failures.
pub async fn enqueue(db: &impl ConnectionTrait, event: &DomainEvent) -> AppResult<()> {
    let Some(event_type) = WebhookEventType::of(event) else {
        return Ok(());
    };
    let targets: Vec<_> = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter(|endpoint| {
            split_codes::<WebhookEventType>(&endpoint.event_types).contains(&event_type)
        })
        .collect();
    let now = Utc::now();
    for endpoint in targets {
        let id = Uuid::now_v7();
        let payload = serde_json::json!({
            "id": id,
            "type": event_type.to_value(),
            "createdAt": now,
            "data": event,
        });
        webhook_deliveries::ActiveModel {
            id: Set(id),
            endpoint_id: Set(endpoint.id),
            event_type: Set(event_type),
            payload: Set(payload.to_string()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at_ms: Set(now.timestamp_millis()),
            last_status_code: Set(None),
            last_error: Set(None),
            delivered_at: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Filters of the delivery list.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeliveryFilter {
    /// Only this endpoint.
    pub endpoint_id: Option<Uuid>,
    /// Only this status.
    pub status: Option<DeliveryStatus>,
}

/// Name of the delivery list's ordering (newest first), in its cursors.
pub const DELIVERIES_NEWEST_FIRST: &str = "deliveries_newest_first";

/// The cursor of a delivery.
///
/// # Errors
/// Never in practice.
pub fn delivery_cursor(delivery: &webhook_deliveries::Model) -> AppResult<KeysetCursor> {
    KeysetCursor::new(DELIVERIES_NEWEST_FIRST, &delivery.id)
}

/// One page of deliveries, newest first, for inspection.
///
/// # Errors
/// `BAD_USER_INPUT` for a foreign cursor; database failures.
pub async fn deliveries(
    db: &DatabaseConnection,
    filter: DeliveryFilter,
    page: &PageRequest,
) -> AppResult<(Page<webhook_deliveries::Model>, i64)> {
    let mut query = webhook_deliveries::Entity::find();
    if let Some(endpoint) = filter.endpoint_id {
        query = query.filter(webhook_deliveries::Column::EndpointId.eq(endpoint));
    }
    if let Some(status) = filter.status {
        query = query.filter(webhook_deliveries::Column::Status.eq(status));
    }
    newest_first(
        db,
        query,
        webhook_deliveries::Column::Id,
        DELIVERIES_NEWEST_FIRST,
        page,
    )
    .await
}

/// Deliveries still to be made (pending, including those waiting for a
/// retry), for the operator's `webhook_backlog_deliveries` gauge.
///
/// # Errors
/// The database's error.
pub async fn backlog(db: &DatabaseConnection) -> AppResult<u64> {
    use sea_orm::PaginatorTrait as _;
    Ok(webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .count(db)
        .await?)
}

/// Queues a delivery again, now, from its first attempt (admins).
///
/// # Errors
/// `NOT_FOUND`.
pub async fn redeliver(
    db: &DatabaseConnection,
    request: &RequestContext,
    id: Uuid,
) -> AppResult<webhook_deliveries::Model> {
    let mut write = AuditedWrite::begin(db, request, "redeliverWebhook").await?;
    let updated = webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(webhook_deliveries::Column::Attempts, Expr::value(0))
        .col_expr(
            webhook_deliveries::Column::NextAttemptAtMs,
            Expr::value(now_ms()),
        )
        .filter(webhook_deliveries::Column::Id.eq(id))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::NotFound {
            entity: "webhook delivery",
        });
    }
    write.audit(AuditEvent::new(AuditAction::Update).entity(EntityType::WebhookEndpoint, Some(id)));
    let delivery = webhook_deliveries::Entity::find_by_id(id)
        .one(&*write)
        .await?
        .ok_or(AppError::NotFound {
            entity: "webhook delivery",
        })?;
    write.commit().await?;
    Ok(delivery)
}

/// How the dispatcher paces itself.
#[derive(Clone, Copy, Debug)]
pub struct DispatchSettings {
    /// How often the outbox is polled.
    pub poll: Duration,
    /// First retry delay; doubled per failed attempt.
    pub retry_base_ms: u64,
    /// Failed attempts in a row after which an endpoint is disabled.
    pub disable_after: i32,
    /// Where deliveries may go, checked again at every send.
    pub targets: TargetPolicy,
}

/// Starts the dispatcher; it stops when `closing` turns true.
pub fn start_dispatcher(
    db: DatabaseConnection,
    settings: DispatchSettings,
    mut closing: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = match webhook_guard::client(settings.targets) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "the webhook client cannot start; no webhook is sent");
                return;
            }
        };
        loop {
            if let Err(error) = dispatch_due(&db, &client, settings).await {
                tracing::warn!(%error, "webhook dispatch failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(settings.poll) => {}
                _ = closing.wait_for(|closed| *closed) => return,
            }
        }
    })
}

/// Claims and sends the deliveries that are due.
async fn dispatch_due(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    settings: DispatchSettings,
) -> AppResult<()> {
    let due = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_deliveries::Column::NextAttemptAtMs.lte(now_ms()))
        .order_by_asc(webhook_deliveries::Column::NextAttemptAtMs)
        .limit(20)
        .all(db)
        .await?;
    for delivery in due {
        let Some(endpoint) = webhook_endpoints::Entity::find_by_id(delivery.endpoint_id)
            .one(db)
            .await?
            .filter(|endpoint| endpoint.active)
        else {
            continue;
        };
        // Claim it: another instance that read the same row loses here.
        let lease = now_ms() + 60_000;
        let claimed = webhook_deliveries::Entity::update_many()
            .col_expr(
                webhook_deliveries::Column::NextAttemptAtMs,
                Expr::value(lease),
            )
            .filter(webhook_deliveries::Column::Id.eq(delivery.id))
            .filter(webhook_deliveries::Column::NextAttemptAtMs.eq(delivery.next_attempt_at_ms))
            .filter(webhook_deliveries::Column::Status.eq(DeliveryStatus::Pending))
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        let outcome = match webhook_guard::send_refusal(&endpoint.url, settings.targets) {
            Some(why) => Err((None, why)),
            None => send(client, &endpoint, &delivery).await,
        };
        record_outcome(db, &endpoint, &delivery, outcome, settings).await?;
    }
    Ok(())
}

/// The HTTP status of an answered attempt, or why there was no answer.
async fn send(
    client: &reqwest::Client,
    endpoint: &webhook_endpoints::Model,
    delivery: &webhook_deliveries::Model,
) -> Result<u16, (Option<u16>, String)> {
    let timestamp = Utc::now().timestamp();
    let id = delivery.id.to_string();
    let response = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        // Standard Webhooks.
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            standard_signature(&endpoint.secret, &id, timestamp, &delivery.payload),
        )
        .header("dermagraph-event", delivery.event_type.to_value())
        // The earlier headers, until the next release.
        .header("dermagraph-delivery", &id)
        .header(
            "dermagraph-signature",
            signature(&endpoint.secret, timestamp, &delivery.payload),
        )
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| (None, error_chain(&error)))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("the receiver answered {status}")))
    }
}

/// An error with its causes, so the reason staff see names the root (a
/// refused address, a refused connection) and not only "error sending
/// request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

async fn record_outcome(
    db: &DatabaseConnection,
    endpoint: &webhook_endpoints::Model,
    delivery: &webhook_deliveries::Model,
    outcome: Result<u16, (Option<u16>, String)>,
    settings: DispatchSettings,
) -> AppResult<()> {
    let attempts = delivery.attempts.saturating_add(1);
    let update = webhook_deliveries::Entity::update_many()
        .col_expr(webhook_deliveries::Column::Attempts, Expr::value(attempts))
        .filter(webhook_deliveries::Column::Id.eq(delivery.id));
    match outcome {
        Ok(status) => {
            update
                .col_expr(
                    webhook_deliveries::Column::Status,
                    Expr::value(DeliveryStatus::Delivered),
                )
                .col_expr(
                    webhook_deliveries::Column::LastStatusCode,
                    Expr::value(i32::from(status)),
                )
                .col_expr(
                    webhook_deliveries::Column::LastError,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    webhook_deliveries::Column::DeliveredAt,
                    Expr::value(Utc::now()),
                )
                .exec(db)
                .await?;
            webhook_endpoints::Entity::update_many()
                .col_expr(
                    webhook_endpoints::Column::ConsecutiveFailures,
                    Expr::value(0),
                )
                .filter(webhook_endpoints::Column::Id.eq(endpoint.id))
                .exec(db)
                .await?;
        }
        Err((status, error)) => {
            let (next_status, next_at) = if attempts >= MAX_ATTEMPTS {
                (DeliveryStatus::Failed, now_ms())
            } else {
                let wait =
                    i64::try_from(backoff_ms(attempts, settings.retry_base_ms)).unwrap_or(i64::MAX);
                (DeliveryStatus::Pending, now_ms().saturating_add(wait))
            };
            update
                .col_expr(webhook_deliveries::Column::Status, Expr::value(next_status))
                .col_expr(
                    webhook_deliveries::Column::NextAttemptAtMs,
                    Expr::value(next_at),
                )
                .col_expr(
                    webhook_deliveries::Column::LastStatusCode,
                    Expr::value(status.map(i32::from)),
                )
                .col_expr(webhook_deliveries::Column::LastError, Expr::value(error))
                .exec(db)
                .await?;
            let failures = endpoint.consecutive_failures.saturating_add(1);
            let mut endpoint_update = webhook_endpoints::Entity::update_many()
                .col_expr(
                    webhook_endpoints::Column::ConsecutiveFailures,
                    Expr::value(failures),
                )
                .filter(webhook_endpoints::Column::Id.eq(endpoint.id));
            if failures >= settings.disable_after {
                endpoint_update = endpoint_update
                    .col_expr(webhook_endpoints::Column::Active, Expr::value(false))
                    .col_expr(
                        webhook_endpoints::Column::DisabledAt,
                        Expr::value(Utc::now()),
                    );
                tracing::warn!(endpoint = %endpoint.id, failures, "webhook endpoint disabled after repeated failures");
            }
            endpoint_update.exec(db).await?;
        }
    }
    Ok(())
}
