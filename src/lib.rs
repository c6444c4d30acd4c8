//! dermagraph: an authenticated GraphQL API for clinics that perform
//! micro-needling (Collagen Induction Therapy).
//!
//! [`build_app`] assembles the real application (database, migrations,
//! schema, router) so that the binary and the tests run the same code.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod seed;
pub mod seed_bench;
pub mod services;
pub mod state;
pub mod telemetry;

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use tokio::net::TcpListener;

use crate::{
    auth::tokens::TokenKeys, config::Config, events::EventBus,
    graphql::persisted::PersistedOperations, services::audit::AuditSink, state::AppState,
    telemetry::Metrics,
};

/// A ready-to-serve application.
pub struct App {
    /// Shared state (database pool, settings, metrics).
    pub state: AppState,
    /// The HTTP router.
    pub router: Router,
}

/// Checks the settings, connects to the database, applies pending
/// migrations and builds the router.
///
/// # Errors
/// An unsafe setting, an unreachable database or a failing migration.
pub async fn build_app(config: Config) -> anyhow::Result<App> {
    config.validate()?;
    let persisted_operations = match &config.limits.persisted_queries {
        Some(path) => {
            let operations = PersistedOperations::load(path)?;
            tracing::info!(
                operations = operations.len(),
                "persisted-operation allow-list in force"
            );
            Some(Arc::new(operations))
        }
        None => None,
    };
    let metrics = Arc::new(Metrics::install()?);
    let mut db = db::connect(&config.database).await?;
    db::migrate(&db).await?;
    let mut background_db = db.clone();
    metrics.instrument_background(&mut background_db);
    metrics.instrument(&mut db);
    let keys = TokenKeys::for_config(&config)?;
    let (audit, _writer) = AuditSink::start(
        background_db.clone(),
        std::time::Duration::from_millis(config.audit_flush_ms),
    );
    let (events, _listener) = EventBus::start(db.clone(), &config.database.database_url);
    services::webhooks::start_dispatcher(
        background_db.clone(),
        services::webhooks::DispatchSettings {
            poll: std::time::Duration::from_millis(config.webhook_poll_ms),
            retry_base_ms: config.webhook_retry_base_ms,
            disable_after: config.webhook_disable_after,
            targets: config.webhook_targets(),
        },
        events.closing(),
    );
    let state = AppState {
        persisted_operations,
        events,
        db,
        keys: Arc::new(keys),
        audit,
        config: Arc::new(config),
        metrics,
    };
    Ok(App {
        router: http::router(state.clone()),
        state,
    })
}

/// How long shutdown keeps retrying the queued audit rows while the
/// database refuses them (a restart usually takes a few seconds); well
/// inside the 30 s a container orchestrator grants by default.
const AUDIT_SHUTDOWN_PATIENCE: Duration = Duration::from_secs(10);

/// Serves the app on `listener` until `shutdown` completes, then lets
/// in-flight requests finish (for at most the configured drain, after which
/// their connections are closed), writes the queued audit rows, and closes
/// the database pool.
///
/// # Errors
/// When the database pool fails to close.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let App { state, router } = app;
    let events = state.events.clone();
    let shutdown = async move {
        shutdown.await;
        // Open subscriptions end, so graceful shutdown does not wait on them.
        events.close();
    };
    let open_files = http::server::raise_open_file_limit();
    let limits = state.config.connections.clone();
    // Room under the open-file limit for the database pool, the log and
    // the listener, beyond the connections themselves.
    let reserved = usize::try_from(state.config.database.db_max_connections)
        .unwrap_or(usize::MAX)
        .saturating_add(64);
    let max_connections =
        http::server::connection_cap(limits.max_connections, open_files, reserved);
    tracing::info!(
        max_connections,
        per_ip = limits.max_connections_per_ip,
        header_read_timeout_secs = limits.header_read_timeout_secs,
        body_read_timeout_secs = limits.body_read_timeout_secs,
        shutdown_drain_secs = limits.shutdown_drain_secs,
        "connection limits"
    );
    let metrics = match state.config.metrics_bind {
        Some(address) => Some(serve_metrics(&state, address).await?),
        None => {
            if state.config.metrics_on_api_address() == crate::config::MetricsAccess::Off {
                tracing::warn!(
                    "/metrics is off: set DERMAGRAPH_METRICS_BIND (a private address) or DERMAGRAPH_METRICS_TOKEN"
                );
            }
            None
        }
    };
    http::server::serve_connections(
        listener,
        router,
        &limits,
        max_connections,
        !state.config.trust_forwarded_for,
        shutdown,
    )
    .await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    let unwritten = state.audit.flush_within(AUDIT_SHUTDOWN_PATIENCE).await;
    if unwritten == usize::MAX {
        tracing::error!(
            "the audit writer stopped or did not answer before shutdown; its queued read and refusal rows are lost"
        );
    } else if unwritten > 0 {
        tracing::error!(
            unwritten,
            "the database refused the last read and refusal audit rows until shutdown; they are lost"
        );
    }
    state.db.close_by_ref().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `/metrics` alone on `address` (`DERMAGRAPH_METRICS_BIND`) until
/// the returned task is aborted at shutdown. It is a private address for a
/// Prometheus scraper, so it goes without the API listener's connection
/// caps and header timeouts.
///
/// # Errors
/// When the address cannot be bound.
async fn serve_metrics(
    state: &AppState,
    address: std::net::SocketAddr,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(address).await.map_err(|error| {
        anyhow::anyhow!("cannot listen on DERMAGRAPH_METRICS_BIND {address}: {error}")
    })?;
    tracing::info!(%address, "serving /metrics");
    let router = http::metrics_router(state.clone());
    Ok(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    }))
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
