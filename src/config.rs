//! Typed settings, read from command-line flags or their environment
//! variables, and the checks that keep unsafe settings out of production.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::{Args, ValueEnum};

/// The embedded SQLite database that `cargo run` creates on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/dermagraph.db?mode=rwc";
/// Where the server listens unless told otherwise: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Shortest signing secret accepted for access tokens (256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// The shortest `DERMAGRAPH_METRICS_TOKEN` accepted.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// Which kind of deployment this is; production turns on the strict checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// A developer's machine: GraphiQL, introspection and pretty logs on.
    #[default]
    Development,
    /// A clinic's live deployment: unsafe settings refuse to start.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// How to reach the database and how many connections to keep.
#[derive(Args, Clone, Debug)]
pub struct DatabaseConfig {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Largest number of pooled database connections.
    #[arg(long, env = "DERMAGRAPH_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// Seconds to wait for a free pooled connection before failing the request.
    #[arg(long, env = "DERMAGRAPH_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub db_acquire_timeout_secs: u64,
}

impl DatabaseConfig {
    /// Settings for the given database with the default pool.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            db_max_connections: 10,
            db_acquire_timeout_secs: 5,
        }
    }

    /// True when the URL points at SQLite rather than PostgreSQL.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Limits that keep a hostile or careless query from taking the server down.
/// Defaults follow graphql-armor's.
#[derive(Args, Clone, Debug)]
pub struct GraphqlLimits {
    /// Deepest selection nesting allowed.
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_DEPTH", default_value_t = 10)]
    pub max_depth: usize,
    /// Highest query cost allowed (list fields are weighted by `first`).
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_COMPLEXITY", default_value_t = 5000)]
    pub max_complexity: usize,
    /// Most aliased fields allowed in one query (fragments counted per use).
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_ALIASES", default_value_t = 15)]
    pub max_aliases: usize,
    /// Most directives allowed on one field.
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_DIRECTIVES", default_value_t = 50)]
    pub max_directives: usize,
    /// Longest query text accepted, in characters.
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_QUERY_CHARS", default_value_t = 15_000)]
    pub max_query_chars: usize,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "DERMAGRAPH_MAX_BODY_BYTES", default_value_t = 100_000)]
    pub max_body_bytes: usize,
    /// Most operations in one batched (JSON array) request; 1 turns batching off.
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_BATCH", default_value_t = 1)]
    pub max_batch: usize,
    /// Seconds one request may run before it is cancelled.
    #[arg(long, env = "DERMAGRAPH_REQUEST_TIMEOUT_SECS", default_value_t = 15)]
    pub request_timeout_secs: u64,
    /// Most lexical tokens (names, punctuation, values) in one query text;
    /// counted before parsing, so a huge document costs almost nothing to refuse.
    #[arg(long, env = "DERMAGRAPH_GQL_MAX_TOKENS", default_value_t = 1000)]
    pub max_tokens: usize,
    /// A JSON file of persisted operations (`{"<sha256 hex of the text>": "<operation text>"}`).
    /// When set, only these operations run: the allow-list mode for production front ends.
    #[arg(long, env = "DERMAGRAPH_PERSISTED_QUERIES")]
    pub persisted_queries: Option<std::path::PathBuf>,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_complexity: 5000,
            max_aliases: 15,
            max_directives: 50,
            max_query_chars: 15_000,
            max_body_bytes: 100_000,
            max_batch: 1,
            request_timeout_secs: 15,
            max_tokens: 1000,
            persisted_queries: None,
        }
    }
}

impl GraphqlLimits {
    /// The per-request deadline.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// Requests each caller may make per minute, with a burst of a minute's
/// worth; past it they get RATE_LIMITED and `Retry-After`.
#[derive(Args, Clone, Debug)]
pub struct RateLimitConfig {
    /// Requests per minute for each signed-in staff member.
    #[arg(long, env = "DERMAGRAPH_RATE_LIMIT_STAFF_PER_MINUTE", default_value_t = NonZeroU32::new(600).unwrap_or(NonZeroU32::MIN))]
    pub staff_per_minute: NonZeroU32,
    /// Requests per minute for each partner API key.
    #[arg(long, env = "DERMAGRAPH_RATE_LIMIT_PARTNER_PER_MINUTE", default_value_t = NonZeroU32::new(300).unwrap_or(NonZeroU32::MIN))]
    pub partner_per_minute: NonZeroU32,
    /// Requests per minute for each client IP without credentials.
    #[arg(long, env = "DERMAGRAPH_RATE_LIMIT_ANONYMOUS_PER_MINUTE", default_value_t = NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))]
    pub anonymous_per_minute: NonZeroU32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let per_minute = |value| NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN);
        Self {
            staff_per_minute: per_minute(600),
            partner_per_minute: per_minute(300),
            anonymous_per_minute: per_minute(60),
        }
    }
}

/// Everything the server needs to run.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "DERMAGRAPH_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Deployment kind: development or production.
    #[arg(long = "env", env = "DERMAGRAPH_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,
    /// Log line format; pretty in development and JSON in production unless set.
    #[arg(long, env = "DERMAGRAPH_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Browser origins allowed to call the API (comma-separated), e.g.
    /// `https://portal.example-clinic.com`; empty (or unset) means no
    /// cross-origin callers.
    #[arg(long, env = "DERMAGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Request headers browsers may send cross-origin besides the standard
    /// ones (`authorization`, `content-type`, `x-request-id`, Apollo's
    /// `apollographql-client-name` and `-version`), comma-separated.
    #[arg(long, env = "DERMAGRAPH_CORS_HEADERS", value_delimiter = ',')]
    pub cors_headers: Vec<String>,
    /// Secret that signs access tokens (at least 32 bytes); required in production.
    #[arg(long, env = "DERMAGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Serve the GraphiQL page on `GET /graphql`; on in development, off in production unless set.
    #[arg(long, env = "DERMAGRAPH_GRAPHIQL")]
    pub graphiql: Option<bool>,
    /// Folder for local state: the development token-signing key lives here.
    #[arg(long, env = "DERMAGRAPH_DATA_DIR", default_value = "./data")]
    pub data_dir: std::path::PathBuf,
    /// Serve `/metrics` on this separate address only (e.g. `0.0.0.0:9090`
    /// inside a private network), not on the API's.
    #[arg(long, env = "DERMAGRAPH_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Bearer token `/metrics` on the API's address requires (at least 16
    /// characters; empty means none). In production `/metrics` is off unless this or
    /// `DERMAGRAPH_METRICS_BIND` is set; in development it is open.
    #[arg(long, env = "DERMAGRAPH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Take the client IP from the last `X-Forwarded-For` entry (only behind
    /// a reverse proxy that sets it).
    #[arg(long, env = "DERMAGRAPH_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// How long (ms) the audit writer waits before trying again when the
    /// database refused read and refusal rows. Rows are otherwise written
    /// as soon as they queue, many requests' rows in one statement, and the
    /// answer that carries the data waits for them.
    #[arg(long, env = "DERMAGRAPH_AUDIT_FLUSH_MS", default_value_t = 1000)]
    pub audit_flush_ms: u64,
    /// How long (ms) a relation field waits to collect the keys of its
    /// sibling rows into one batched SQL statement. Longer windows batch
    /// more reliably on a busy machine; shorter ones add less latency.
    #[arg(long, env = "DERMAGRAPH_BATCH_WINDOW_MS", default_value_t = 2)]
    pub batch_window_ms: u64,
    /// How often (ms) the webhook dispatcher looks for due deliveries.
    #[arg(long, env = "DERMAGRAPH_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,
    /// First webhook retry delay (ms), doubled per failed attempt.
    #[arg(long, env = "DERMAGRAPH_WEBHOOK_RETRY_BASE_MS", default_value_t = 5000)]
    pub webhook_retry_base_ms: u64,
    /// Failed webhook attempts in a row after which an endpoint is disabled.
    #[arg(long, env = "DERMAGRAPH_WEBHOOK_DISABLE_AFTER", default_value_t = 20)]
    pub webhook_disable_after: i32,
    /// Let webhook endpoints be loopback addresses (local receivers in
    /// development and tests); on in development unless set, never allowed
    /// in production. Private, link-local and metadata addresses are always
    /// refused.
    #[arg(long, env = "DERMAGRAPH_WEBHOOK_ALLOW_LOOPBACK")]
    pub webhook_allow_loopback: Option<bool>,
    /// Public consultation requests accepted per client IP in 15 minutes
    /// before RATE_LIMITED.
    #[arg(
        long,
        env = "DERMAGRAPH_PUBLIC_SUBMISSIONS_PER_WINDOW",
        default_value_t = 10
    )]
    pub public_submissions_per_window: u32,
    /// Database settings.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// GraphQL and HTTP limits.
    #[command(flatten)]
    pub limits: GraphqlLimits,
    /// Per-caller request budgets.
    #[command(flatten)]
    pub rate_limits: RateLimitConfig,
    /// Connection timeouts, caps and the shutdown drain.
    #[command(flatten)]
    pub connections: ConnectionLimits,
}

/// How long clients may take and how many connections they may hold, so a
/// few slow or idle sockets cannot take the server down.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Seconds a client has to send a request's headers; also how long a
    /// kept-alive connection may wait idle for its next request.
    #[arg(
        long,
        env = "DERMAGRAPH_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "DERMAGRAPH_BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub body_read_timeout_secs: u64,
    /// Open connections at most (lowered to fit the open-file limit);
    /// further ones are answered 503 and closed at once.
    #[arg(long, env = "DERMAGRAPH_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Open connections at most from one client address (not applied
    /// behind a trusted proxy, whose address every connection has).
    #[arg(long, env = "DERMAGRAPH_MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: usize,
    /// Seconds shutdown waits for open requests to finish before it closes
    /// their connections (queued audit rows are written after either way).
    #[arg(long, env = "DERMAGRAPH_SHUTDOWN_DRAIN_SECS", default_value_t = 10)]
    pub shutdown_drain_secs: u64,
    /// Subscriptions open at once on one WebSocket connection.
    #[arg(
        long,
        env = "DERMAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 50
    )]
    pub max_subscriptions_per_connection: usize,
    /// Subscriptions open at once by one user or API client, over all its
    /// connections to one instance.
    #[arg(
        long,
        env = "DERMAGRAPH_MAX_SUBSCRIPTIONS_PER_ACTOR",
        default_value_t = 200
    )]
    pub max_subscriptions_per_actor: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            max_connections: 4096,
            max_connections_per_ip: 256,
            shutdown_drain_secs: 10,
            max_subscriptions_per_connection: 50,
            max_subscriptions_per_actor: 200,
        }
    }
}

impl ConnectionLimits {
    /// See [`Self::header_read_timeout_secs`].
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// See [`Self::body_read_timeout_secs`].
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    /// See [`Self::shutdown_drain_secs`].
    pub fn shutdown_drain(&self) -> Duration {
        Duration::from_secs(self.shutdown_drain_secs)
    }
}

/// Who may read `/metrics` on the API's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who reaches the address (development).
    Open,
    /// Callers with `Authorization: Bearer <token>`.
    Token(String),
    /// Nobody: metrics are on their own address, or not configured in
    /// production.
    Off,
}

/// A setting that is not safe for the chosen environment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Production without a token-signing secret.
    #[error("DERMAGRAPH_JWT_SECRET must be set in production")]
    MissingJwtSecret,
    /// A secret too short to resist brute force.
    #[error("DERMAGRAPH_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes (got {0})")]
    ShortJwtSecret(usize),
    /// A secret copied from an example file.
    #[error(
        "DERMAGRAPH_JWT_SECRET is a placeholder value; generate a random one (e.g. `openssl rand -hex 32`)"
    )]
    PlaceholderJwtSecret,
    /// A CORS wildcard would let any web page call the API with a user's token.
    #[error("DERMAGRAPH_CORS_ORIGINS must list explicit origins in production, not `*`")]
    WildcardCors,
    /// A CORS origin that is not a URL origin.
    #[error("DERMAGRAPH_CORS_ORIGINS has an invalid origin: {0}")]
    InvalidCorsOrigin(String),
    /// A CORS header that is not a header name.
    #[error("DERMAGRAPH_CORS_HEADERS has an invalid header name: {0}")]
    InvalidCorsHeader(String),
    /// Webhooks to loopback would let an admin account reach services on
    /// the server's own host.
    #[error(
        "DERMAGRAPH_WEBHOOK_ALLOW_LOOPBACK is for development; production webhooks go to public https URLs only"
    )]
    LoopbackWebhooksInProduction,
    /// A metrics token short enough to guess.
    #[error("DERMAGRAPH_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_CHARS} characters")]
    ShortMetricsToken,
    /// A limit of zero would reject every request.
    #[error("{0} must be greater than zero")]
    ZeroLimit(&'static str),
}

impl Config {
    /// Development settings for the given database: what `cargo run` uses
    /// when nothing is set, and what the tests start from.
    pub fn development(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            environment: Environment::Development,
            log_format: None,
            cors_origins: Vec::new(),
            cors_headers: Vec::new(),
            jwt_secret: None,
            graphiql: None,
            data_dir: std::path::PathBuf::from("./data"),
            trust_forwarded_for: false,
            metrics_bind: None,
            metrics_token: None,
            audit_flush_ms: 1000,
            batch_window_ms: 2,
            webhook_poll_ms: 1000,
            webhook_retry_base_ms: 5000,
            webhook_disable_after: 20,
            webhook_allow_loopback: None,
            public_submissions_per_window: 10,
            database: DatabaseConfig::new(database_url),
            limits: GraphqlLimits::default(),
            rate_limits: RateLimitConfig::default(),
            connections: ConnectionLimits::default(),
        }
    }

    /// True in a clinic's live deployment.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Who may read `/metrics` on the API's own address.
    pub fn metrics_on_api_address(&self) -> MetricsAccess {
        let token = self
            .metrics_token
            .as_deref()
            .filter(|token| !token.is_empty());
        match (&self.metrics_bind, token) {
            (Some(_), _) => MetricsAccess::Off,
            (None, Some(token)) => MetricsAccess::Token(token.to_owned()),
            (None, None) if self.is_production() => MetricsAccess::Off,
            (None, None) => MetricsAccess::Open,
        }
    }

    /// Whether `GET /graphql` serves GraphiQL.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(!self.is_production())
    }

    /// Where partner webhooks may be sent: https only in production, and
    /// loopback only where allowed (development, by default).
    pub fn webhook_targets(&self) -> crate::domain::webhook_target::TargetPolicy {
        crate::domain::webhook_target::TargetPolicy {
            https_only: self.is_production(),
            allow_loopback: self.webhook_allow_loopback.unwrap_or(!self.is_production()),
        }
    }

    /// Whether introspection and field suggestions are answered.
    pub fn introspection_enabled(&self) -> bool {
        !self.is_production()
    }

    /// The log format in effect.
    pub fn effective_log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(if self.is_production() {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        })
    }

    /// The browser origins allowed to call the API: the configured ones,
    /// trimmed, without empty entries (`DERMAGRAPH_CORS_ORIGINS=` as
    /// docker-compose passes an unset variable means none).
    pub fn cors_allow_list(&self) -> impl Iterator<Item = &str> {
        non_empty(&self.cors_origins)
    }

    /// The extra request headers allowed cross-origin, trimmed, without
    /// empty entries.
    pub fn cors_extra_headers(&self) -> impl Iterator<Item = &str> {
        non_empty(&self.cors_headers)
    }

    /// Refuses settings that are unsafe for the chosen environment, naming
    /// the first offending one.
    ///
    /// # Errors
    /// A [`ConfigError`] saying which setting to fix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("DERMAGRAPH_GQL_MAX_DEPTH", self.limits.max_depth),
            ("DERMAGRAPH_GQL_MAX_COMPLEXITY", self.limits.max_complexity),
            (
                "DERMAGRAPH_GQL_MAX_QUERY_CHARS",
                self.limits.max_query_chars,
            ),
            ("DERMAGRAPH_MAX_BODY_BYTES", self.limits.max_body_bytes),
            ("DERMAGRAPH_GQL_MAX_BATCH", self.limits.max_batch),
            ("DERMAGRAPH_GQL_MAX_TOKENS", self.limits.max_tokens),
            (
                "DERMAGRAPH_MAX_CONNECTIONS",
                self.connections.max_connections,
            ),
            (
                "DERMAGRAPH_MAX_CONNECTIONS_PER_IP",
                self.connections.max_connections_per_ip,
            ),
            (
                "DERMAGRAPH_PUBLIC_SUBMISSIONS_PER_WINDOW",
                usize::try_from(self.public_submissions_per_window).unwrap_or(usize::MAX),
            ),
            (
                "DERMAGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                self.connections.max_subscriptions_per_connection,
            ),
            (
                "DERMAGRAPH_MAX_SUBSCRIPTIONS_PER_ACTOR",
                self.connections.max_subscriptions_per_actor,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        if self.audit_flush_ms == 0 {
            return Err(ConfigError::ZeroLimit("DERMAGRAPH_AUDIT_FLUSH_MS"));
        }
        for (name, seconds) in [
            (
                "DERMAGRAPH_REQUEST_TIMEOUT_SECS",
                self.limits.request_timeout_secs,
            ),
            (
                "DERMAGRAPH_HEADER_READ_TIMEOUT_SECS",
                self.connections.header_read_timeout_secs,
            ),
            (
                "DERMAGRAPH_BODY_READ_TIMEOUT_SECS",
                self.connections.body_read_timeout_secs,
            ),
            // Also how long an answer waits for its read-audit rows: zero
            // would withhold every read.
            (
                "DERMAGRAPH_DB_ACQUIRE_TIMEOUT_SECS",
                self.database.db_acquire_timeout_secs,
            ),
        ] {
            if seconds == 0 {
                return Err(ConfigError::ZeroLimit(name));
            }
        }
        for name in self.cors_extra_headers() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(ConfigError::InvalidCorsHeader(name.to_owned()));
            }
        }
        for origin in self.cors_allow_list() {
            let is_url_origin = (origin.starts_with("http://") || origin.starts_with("https://"))
                && http::HeaderValue::from_str(origin).is_ok();
            if origin != "*" && !is_url_origin {
                return Err(ConfigError::InvalidCorsOrigin(origin.to_owned()));
            }
        }
        if self.metrics_token.as_ref().is_some_and(|token| {
            !token.is_empty() && token.chars().count() < MIN_METRICS_TOKEN_CHARS
        }) {
            return Err(ConfigError::ShortMetricsToken);
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < MIN_JWT_SECRET_BYTES {
                return Err(ConfigError::ShortJwtSecret(secret.len()));
            }
            if is_placeholder_secret(secret) {
                return Err(ConfigError::PlaceholderJwtSecret);
            }
        }
        if self.is_production() {
            if self.jwt_secret.is_none() {
                return Err(ConfigError::MissingJwtSecret);
            }
            if self.cors_allow_list().any(|origin| origin == "*") {
                return Err(ConfigError::WildcardCors);
            }
            if self.webhook_allow_loopback == Some(true) {
                return Err(ConfigError::LoopbackWebhooksInProduction);
            }
        }
        Ok(())
    }
}

/// Secrets that appear in examples and documentation and must never sign
/// real tokens.
fn non_empty(values: &[String]) -> impl Iterator<Item = &str> {
    values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

fn is_placeholder_secret(secret: &str) -> bool {
    let lowered = secret.to_ascii_lowercase();
    [
        "change-me",
        "changeme",
        "replace-me",
        "example",
        "placeholder",
    ]
    .iter()
    .any(|marker| lowered.contains(marker))
        || secret.bytes().all(|byte| byte == secret.as_bytes()[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Config {
        let mut config = Config::development("sqlite::memory:");
        config.environment = Environment::Production;
        config.jwt_secret = Some("f3c1a9e0b7d24c55a8e6d1f09b3c7a42".to_owned());
        config
    }

    #[test]
    fn development_defaults_are_valid_and_open_graphiql() {
        let config = Config::development(DEFAULT_DATABASE_URL);
        assert_eq!(config.validate(), Ok(()));
        assert!(config.graphiql_enabled());
        assert!(config.introspection_enabled());
        assert_eq!(config.effective_log_format(), LogFormat::Pretty);
    }

    #[test]
    fn production_requires_a_jwt_secret() {
        let mut config = production();
        config.jwt_secret = None;
        assert_eq!(config.validate(), Err(ConfigError::MissingJwtSecret));
    }

    #[test]
    fn short_and_placeholder_secrets_are_refused() {
        let mut config = production();
        config.jwt_secret = Some("too-short".to_owned());
        assert_eq!(config.validate(), Err(ConfigError::ShortJwtSecret(9)));
        config.jwt_secret = Some("change-me-change-me-change-me-change-me".to_owned());
        assert_eq!(config.validate(), Err(ConfigError::PlaceholderJwtSecret));
        config.jwt_secret = Some("a".repeat(40));
        assert_eq!(config.validate(), Err(ConfigError::PlaceholderJwtSecret));
    }

    #[test]
    fn production_refuses_wildcard_cors_and_hides_tools() {
        let mut config = production();
        assert_eq!(config.validate(), Ok(()));
        assert!(!config.graphiql_enabled());
        assert!(!config.introspection_enabled());
        assert_eq!(config.effective_log_format(), LogFormat::Json);
        config.cors_origins = vec!["*".to_owned()];
        assert_eq!(config.validate(), Err(ConfigError::WildcardCors));
    }

    #[test]
    fn production_webhooks_are_https_to_public_addresses_only() {
        let mut config = production();
        let targets = config.webhook_targets();
        assert!(targets.https_only && !targets.allow_loopback);
        config.webhook_allow_loopback = Some(true);
        assert_eq!(
            config.validate(),
            Err(ConfigError::LoopbackWebhooksInProduction)
        );
        let development = Config::development("sqlite::memory:");
        let targets = development.webhook_targets();
        assert!(!targets.https_only && targets.allow_loopback);
    }

    #[test]
    fn an_empty_cors_list_means_no_cross_origin_callers() {
        // docker-compose passes `${DERMAGRAPH_CORS_ORIGINS:-}` as "".
        let mut config = Config::development("sqlite::memory:");
        config.cors_origins = vec![String::new()];
        config.cors_headers = vec![" ".to_owned()];
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.cors_allow_list().count(), 0);
        assert_eq!(config.cors_extra_headers().count(), 0);
        config.cors_headers = vec!["x-clinic-app".to_owned(), "bad header".to_owned()];
        assert_eq!(
            config.validate(),
            Err(ConfigError::InvalidCorsHeader("bad header".to_owned()))
        );
    }

    #[test]
    fn cors_origins_must_be_urls() {
        let mut config = production();
        config.cors_origins = vec!["portal.example.org".to_owned()];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::InvalidCorsOrigin(_))
        ));
        config.cors_origins = vec!["https://portal.clinic.test".to_owned()];
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn zero_limits_are_refused() {
        let mut config = production();
        config.limits.max_depth = 0;
        assert_eq!(
            config.validate(),
            Err(ConfigError::ZeroLimit("DERMAGRAPH_GQL_MAX_DEPTH"))
        );
    }
}
