//! Partner webhooks: endpoints, deliveries and redelivery (admins).

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::{
    app_state, page_cost,
    pagination::{PageRequest, connection, wants_total_count},
    parse_id, request_context,
};
use crate::{
    auth::guards::Allow,
    domain::{
        patient::split_codes,
        webhook::{DeliveryStatus, WebhookEventType},
    },
    entities::{webhook_deliveries, webhook_endpoints},
    services::webhooks::{self, DeliveryFilter as Filter},
};

/// A partner URL that receives signed events.
pub struct WebhookEndpoint(pub webhook_endpoints::Model);

/// A partner URL that receives signed events (`Dermagraph-Signature:
/// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`).
#[Object]
impl WebhookEndpoint {
    /// The endpoint's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The events it receives.
    async fn event_types(&self) -> Vec<WebhookEventType> {
        split_codes::<WebhookEventType>(&self.0.event_types)
            .into_iter()
            .collect()
    }
    /// Whether deliveries are attempted (false once disabled after repeated
    /// failures; turn it back on with `updateWebhookEndpoint`).
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Failed attempts in a row.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// When it was disabled after repeated failures.
    async fn disabled_at(&self) -> Option<Timestamp> {
        self.0.disabled_at.map(Into::into)
    }
    /// When it was registered.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// One event for one endpoint, from the durable outbox.
pub struct WebhookDelivery(pub webhook_deliveries::Model);

/// One event for one endpoint, from the durable outbox (at-least-once).
#[Object]
impl WebhookDelivery {
    /// The delivery's id (also sent as `Dermagraph-Delivery`; receivers
    /// use it to drop duplicates).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The endpoint.
    async fn endpoint_id(&self) -> ID {
        ID(self.0.endpoint_id.to_string())
    }
    /// Which kind of event this delivery carries; it tells the receiver how to
    /// read `payload`.
    async fn event_type(&self) -> WebhookEventType {
        self.0.event_type
    }
    /// The JSON body sent.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status
    }
    /// Attempts made.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due.
    async fn next_attempt_at(&self) -> Option<Timestamp> {
        (self.0.status == DeliveryStatus::Pending)
            .then(|| chrono::DateTime::from_timestamp_millis(self.0.next_attempt_at_ms))
            .flatten()
            .map(Timestamp)
    }
    /// HTTP status of the last attempt.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was delivered.
    async fn delivered_at(&self) -> Option<Timestamp> {
        self.0.delivered_at.map(Into::into)
    }
    /// When the event happened.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

crate::connection_types!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "A page of webhook deliveries.",
    "A webhook delivery with its cursor."
);

/// Filters of the delivery list.
#[derive(InputObject, Default)]
pub struct WebhookDeliveryFilter {
    /// Only this endpoint.
    pub endpoint_id: Option<ID>,
    /// Only this status.
    pub status: Option<DeliveryStatus>,
}

/// An endpoint to register.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to POST (https in production).
    pub url: String,
    /// The events to receive.
    pub event_types: Vec<WebhookEventType>,
}

/// The endpoint and its signing secret, shown only this once.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The endpoint.
    pub webhook_endpoint: WebhookEndpoint,
    /// The signing secret; store it now.
    pub secret: String,
}

/// An endpoint to turn on or off.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint.
    pub id: ID,
    /// On (resets its failure count) or off.
    pub active: bool,
}

/// The changed endpoint.
#[derive(SimpleObject)]
pub struct UpdateWebhookEndpointPayload {
    /// The endpoint.
    pub webhook_endpoint: WebhookEndpoint,
}

/// A delivery to send again.
#[derive(InputObject)]
pub struct RedeliverWebhookInput {
    /// The delivery.
    pub delivery_id: ID,
}

/// The queued delivery.
#[derive(SimpleObject)]
pub struct RedeliverWebhookPayload {
    /// The delivery, PENDING again.
    pub delivery: WebhookDelivery,
}

/// The webhook part of the query root.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook endpoint, newest first (admins).
    #[graphql(guard = "Allow::ADMIN")]
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookEndpoint>> {
        Ok(webhooks::endpoints(&app_state(ctx)?.db)
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    /// Webhook deliveries, newest first, for inspection (admins).
    #[graphql(
        guard = "Allow::ADMIN",
        complexity = "page_cost(first, last, child_complexity)"
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries matching these filters.")] filter: Option<
            WebhookDeliveryFilter,
        >,
        #[graphql(desc = "Page size from the start or after `after` (1-100, default 20).")]
        first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end or before `before` (1-100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let page = PageRequest::new(first, after, last, before)?.counting(wants_total_count(ctx));
        let filter = filter.unwrap_or_default();
        let filter = Filter {
            endpoint_id: filter
                .endpoint_id
                .as_ref()
                .map(|id| parse_id(id, "filter.endpointId"))
                .transpose()?,
            status: filter.status,
        };
        let (rows, total) = webhooks::deliveries(&app_state(ctx)?.db, filter, &page).await?;
        Ok(connection(rows, total, webhooks::delivery_cursor, WebhookDelivery)?.into())
    }
}

/// The webhook part of the mutation root.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a partner endpoint (admins); the signing secret is in the
    /// payload only this once.
    #[graphql(guard = "Allow::ADMIN")]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateWebhookEndpointInput,
    ) -> async_graphql::Result<CreateWebhookEndpointPayload> {
        let state = app_state(ctx)?;
        let (endpoint, secret) = webhooks::create_endpoint(
            &state.db,
            request_context(ctx)?,
            &input.url,
            &input.event_types,
            state.config.webhook_targets(),
        )
        .await?;
        Ok(CreateWebhookEndpointPayload {
            webhook_endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Turns an endpoint on or off (admins).
    #[graphql(guard = "Allow::ADMIN")]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateWebhookEndpointInput,
    ) -> async_graphql::Result<UpdateWebhookEndpointPayload> {
        let endpoint = webhooks::set_endpoint_active(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            parse_id(&input.id, "id")?,
            input.active,
        )
        .await?;
        Ok(UpdateWebhookEndpointPayload {
            webhook_endpoint: WebhookEndpoint(endpoint),
        })
    }

    /// Sends a delivery again from its first attempt (admins).
    #[graphql(guard = "Allow::ADMIN")]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RedeliverWebhookInput,
    ) -> async_graphql::Result<RedeliverWebhookPayload> {
        let delivery = webhooks::redeliver(
            &app_state(ctx)?.db,
            request_context(ctx)?,
            parse_id(&input.delivery_id, "deliveryId")?,
        )
        .await?;
        Ok(RedeliverWebhookPayload {
            delivery: WebhookDelivery(delivery),
        })
    }
}
