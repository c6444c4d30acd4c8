//! What every request shares: the database pool, the settings, the token
//! keys, the audit writer, the metrics registry and the event bus.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::tokens::TokenKeys, config::Config, events::EventBus,
    graphql::persisted::PersistedOperations, services::audit::AuditSink, telemetry::Metrics,
};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Settings in force.
    pub config: Arc<Config>,
    /// Access-token signing keys.
    pub keys: Arc<TokenKeys>,
    /// Batched writer of read and refusal audit rows.
    pub audit: AuditSink,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Live events for subscriptions.
    pub events: EventBus,
    /// The persisted-operation allow-list, when the server runs in that mode.
    pub persisted_operations: Option<Arc<PersistedOperations>>,
}
