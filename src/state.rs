//! What every request shares: the database pool, the settings and the
//! metrics registry.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{config::Config, telemetry::Metrics};

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Settings in force.
    pub config: Arc<Config>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
}
