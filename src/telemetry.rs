//! Logging (tracing) and Prometheus metrics.

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// PostgreSQL notices relayed by sqlx, logged only from WARN up.
const QUIET_NOTICES: &str = "sqlx::postgres::notice=warn";

/// Installs the global log subscriber; `RUST_LOG` overrides the default
/// level (`info`). Calling it twice is harmless.
pub fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // PostgreSQL's notices ("relation … already exists, skipping" on every
    // start) say nothing to an operator: kept out at `RUST_LOG=info` too,
    // unless RUST_LOG names sqlx itself.
    let filter = if std::env::var("RUST_LOG").is_ok_and(|value| value.contains("sqlx")) {
        filter
    } else {
        filter.add_directive(QUIET_NOTICES.parse().unwrap_or_default())
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
    // Already installed (a second app in the same process): keep the first.
    drop(result);
}

/// Distinct operation names kept as metric labels; more become `other`, so a
/// client inventing names cannot grow the metrics without bound.
const MAX_OPERATION_LABELS: usize = 200;

/// Latency buckets (seconds) for request durations.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process-wide Prometheus registry and the labels it has seen.
pub struct Metrics {
    handle: PrometheusHandle,
    operation_labels: Mutex<HashSet<String>>,
    statements: Arc<AtomicU64>,
}

static PROMETHEUS: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The `# HELP` text of every metric the server records, so a scrape says
/// what each series means.
fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by route, method and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by route."
    );
    describe_counter!(
        "graphql_operations_total",
        "GraphQL operations run, by the operation name the document gives (anonymous, other past 200 names) and outcome."
    );
    describe_histogram!(
        "graphql_operation_duration_seconds",
        Unit::Seconds,
        "Time to run a GraphQL operation, by operation name."
    );
    describe_counter!(
        "rate_limited_requests_total",
        "Requests refused with 429 because the caller spent its budget, by kind of caller."
    );
    describe_counter!(
        "db_statements_total",
        "SQL statements run, by source (request or background) and outcome."
    );
    describe_histogram!(
        "db_statement_duration_seconds",
        Unit::Seconds,
        "Time a SQL statement took, by source."
    );
    describe_gauge!(
        "db_pool_connections",
        "Database pool connections by state (idle, in_use), at scrape time."
    );
    describe_gauge!(
        "audit_queue_rows",
        "Read and refusal audit rows waiting to be stored; answers wait for theirs, so a growing queue means slow or refused audit writes (alert on it)."
    );
    describe_gauge!(
        "webhook_backlog_deliveries",
        "Webhook deliveries still to be made (pending or waiting for a retry), at scrape time."
    );
    describe_gauge!(
        "websocket_connections",
        "Open subscription (WebSocket) connections on this instance."
    );
}

impl Metrics {
    /// The metrics registry, installed as the global recorder on first use
    /// (one per process, shared by every app in it).
    ///
    /// # Errors
    /// When another global metrics recorder is already installed.
    pub fn install() -> anyhow::Result<Self> {
        let installed = PROMETHEUS.get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|error| error.to_string())?;
            describe_metrics();
            metrics_process::Collector::default().describe();
            Ok(handle)
        });
        let handle = installed
            .clone()
            .map_err(|error| anyhow::anyhow!("cannot install the metrics recorder: {error}"))?;
        Ok(Self {
            handle,
            operation_labels: Mutex::new(HashSet::new()),
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Counts every SQL statement the connection runs (`db_statements_total`,
    /// `db_statement_duration_seconds`), and keeps this app's own total for
    /// [`Metrics::statements_executed`].
    pub fn instrument(&self, db: &mut DatabaseConnection) {
        let statements = Arc::clone(&self.statements);
        db.set_metric_callback(move |info| {
            statements.fetch_add(1, Ordering::Relaxed);
            tracing::trace!(target: "dermagraph::sql", elapsed_us = info.elapsed.as_micros(), sql = %info.statement.sql);
            record_statement("request", info.failed, info.elapsed);
        });
    }

    /// Counts the statements of background work (the audit writer, the
    /// event listener) in `db_statements_total{source="background"}` but
    /// not in [`Metrics::statements_executed`], so a request's statement
    /// count does not depend on when a background flush happens to run.
    pub fn instrument_background(&self, db: &mut DatabaseConnection) {
        db.set_metric_callback(move |info| {
            record_statement("background", info.failed, info.elapsed);
        });
    }

    /// SQL statements this app's requests have run so far (for tests and benchmarks
    /// that check the statement count of a query).
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Records one GraphQL operation: its name, whether it had errors, and
    /// how long it took.
    pub fn record_operation(&self, operation: Option<&str>, had_errors: bool, elapsed: Duration) {
        let operation = self.operation_label(operation);
        let outcome = if had_errors { "error" } else { "ok" };
        metrics::counter!(
            "graphql_operations_total",
            "operation" => operation.clone(),
            "outcome" => outcome
        )
        .increment(1);
        metrics::histogram!("graphql_operation_duration_seconds", "operation" => operation)
            .record(elapsed.as_secs_f64());
    }

    /// Records a request refused because its caller spent its budget, by
    /// kind of caller (user, API client, anonymous).
    pub fn record_rate_limited(&self, actor: crate::domain::audit::ActorKind) {
        use sea_orm::ActiveEnum as _;
        metrics::counter!("rate_limited_requests_total", "actor" => actor.to_value()).increment(1);
    }

    /// Records one HTTP request by route and status.
    pub fn record_http(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        metrics::counter!(
            "http_requests_total",
            "route" => route.to_owned(),
            "method" => method.to_owned(),
            "status" => status.to_string()
        )
        .increment(1);
        metrics::histogram!("http_request_duration_seconds", "route" => route.to_owned())
            .record(elapsed.as_secs_f64());
    }

    /// Sets `webhook_backlog_deliveries`: deliveries still to be made.
    pub fn set_webhook_backlog(&self, deliveries: u64) {
        metrics::gauge!("webhook_backlog_deliveries")
            .set(f64::from(u32::try_from(deliveries).unwrap_or(u32::MAX)));
    }

    /// Counts an open WebSocket connection in `websocket_connections` until
    /// the returned guard is dropped.
    pub fn websocket_opened(&self) -> OpenConnection {
        metrics::gauge!("websocket_connections").increment(1.0);
        OpenConnection(())
    }

    /// The Prometheus text exposition, with the pool and process gauges
    /// (CPU, memory, open files, threads) refreshed.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        metrics_process::Collector::default().collect();
        let (size, idle) = pool_usage(db);
        metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("db_pool_connections", "state" => "in_use")
            .set(f64::from(size.saturating_sub(idle)));
        self.handle.run_upkeep();
        self.handle.render()
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|name| is_operation_name(name)) else {
            return "anonymous".to_owned();
        };
        let Ok(mut seen) = self.operation_labels.lock() else {
            return "other".to_owned();
        };
        if seen.contains(name) {
            name.to_owned()
        } else if seen.len() < MAX_OPERATION_LABELS {
            seen.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }
}

/// One open WebSocket connection, counted in `websocket_connections` while
/// it lives.
#[derive(Debug)]
pub struct OpenConnection(());

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("websocket_connections").decrement(1.0);
    }
}

/// A GraphQL name of reasonable length: `[_A-Za-z][_0-9A-Za-z]{0,63}`.
fn is_operation_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars
            .next()
            .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Open and idle connections of the pool.
fn pool_usage(db: &DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => (0, 0),
    }
}

fn record_statement(source: &'static str, failed: bool, elapsed: Duration) {
    let outcome = if failed { "error" } else { "ok" };
    metrics::counter!("db_statements_total", "source" => source, "outcome" => outcome).increment(1);
    metrics::histogram!("db_statement_duration_seconds", "source" => source)
        .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_validated() {
        assert!(is_operation_name("PatientList"));
        assert!(is_operation_name("_x1"));
        assert!(!is_operation_name("1abc"));
        assert!(!is_operation_name("drop table;"));
        assert!(!is_operation_name(&"a".repeat(65)));
    }
}
