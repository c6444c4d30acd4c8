//! The test harness: the real app on a random port with a fresh database
//! and the real migrations, on SQLite and (with `TEST_DATABASE_URL`) on
//! PostgreSQL.

use std::{future::Future, net::SocketAddr, panic::AssertUnwindSafe};

use chrono::NaiveDate;
use dermagraph::{
    App,
    auth::actor::RequestContext,
    build_app,
    config::Config,
    domain::staff::{License, LicenseKind, Role},
    serve,
    services::users::{NewUser, create_user},
};
use futures_util::FutureExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TryGetable};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use uuid::Uuid;

/// The GraphQL-over-HTTP response media type, for `Accept`.
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
/// The token-signing secret of every test app, so tests can forge tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-of-at-least-32-bytes-0123456789";
/// The password of every user the tests create.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// A staff account made for a test.
#[derive(Clone, Debug)]
pub struct TestUser {
    /// User id.
    pub id: Uuid,
    /// Login email.
    pub email: String,
    /// Display name.
    pub display_name: String,
}

/// The database engine a test runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `TEST_DATABASE_URL`.
    Postgres {
        /// Admin URL (a database the tests may create databases from).
        admin_url: String,
    },
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite => f.write_str("SQLite"),
            Self::Postgres { .. } => f.write_str("PostgreSQL"),
        }
    }
}

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if let Ok(admin_url) = std::env::var("TEST_DATABASE_URL")
        && !admin_url.is_empty()
    {
        backends.push(Backend::Postgres { admin_url });
    }
    backends
}

/// A running app and a client for it.
pub struct TestApp {
    /// Where the app listens.
    pub address: SocketAddr,
    /// A connection to the app's own database, for arranging and checking.
    pub db: DatabaseConnection,
    /// The app's database URL, to connect again after the app stopped.
    pub database_url: String,
    client: reqwest::Client,
    state_audit: dermagraph::services::audit::AuditSink,
    metrics: std::sync::Arc<dermagraph::telemetry::Metrics>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

/// A fresh database for one test; dropped (on PostgreSQL) when the test ends.
struct FreshDatabase {
    url: String,
    sqlite_dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl FreshDatabase {
    async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/dermagraph.db?mode=rwc", dir.path().display());
                Self {
                    url,
                    sqlite_dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres { admin_url } => {
                let name = format!("dgtest_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(admin_url.as_str()).await.unwrap_or_else(|error| {
                    panic!("TEST_DATABASE_URL={admin_url} is set but PostgreSQL is unreachable: {error}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    sqlite_dir: None,
                    postgres: Some((admin_url.clone(), name)),
                }
            }
        }
    }
}

/// Drops a PostgreSQL test database, closing its connections.
pub async fn drop_test_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .ok();
        admin.close().await.ok();
    }
}

/// The login operation the helpers send.
pub const LOGIN_MUTATION: &str = "mutation($input: LoginInput!) { login(input: $input) {
                accessToken refreshToken accessTokenExpiresAt user { id email role } } }";

impl TestApp {
    /// Starts the app with development settings on a fresh database.
    pub async fn spawn(backend: Backend) -> (Self, Option<(String, String)>) {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the app with settings adjusted by `configure`.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> (Self, Option<(String, String)>) {
        let database = FreshDatabase::create(&backend).await;
        let mut test_app = Self::start_on(&database.url, configure).await;
        test_app._sqlite_dir = database.sqlite_dir;
        (test_app, database.postgres)
    }

    /// Another instance of the app on this app's database, as behind a
    /// load balancer.
    pub async fn second_instance(&self) -> Self {
        Self::start_on(&self.database_url, |_| {}).await
    }

    /// Another instance on this app's database with settings adjusted by
    /// `configure` (tokens of one instance are valid on the other).
    pub async fn instance_with(&self, configure: impl FnOnce(&mut Config)) -> Self {
        Self::start_on(&self.database_url, configure).await
    }

    async fn start_on(database_url: &str, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::development(database_url.to_owned());
        config.database.db_max_connections = 5;
        config.jwt_secret = Some(TEST_JWT_SECRET.to_owned());
        // Tests sign in many users from one IP; budgets are tested on their own.
        let generous = std::num::NonZeroU32::new(100_000).expect("non-zero");
        config.rate_limits.staff_per_minute = generous;
        config.rate_limits.partner_per_minute = generous;
        config.rate_limits.anonymous_per_minute = generous;
        configure(&mut config);
        let app: App = build_app(config).await.expect("app starts");
        let db = app.state.db.clone();
        let state_audit = app.state.audit.clone();
        let metrics = app.state.metrics.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (shutdown, stop) = oneshot::channel();
        let server = tokio::spawn(serve(app, listener, async {
            stop.await.ok();
        }));
        Self {
            address,
            db,
            database_url: database_url.to_owned(),
            client: reqwest::Client::new(),
            state_audit,
            metrics,
            shutdown: Some(shutdown),
            server: Some(server),
            _sqlite_dir: None,
        }
    }

    /// `http://127.0.0.1:port` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// An HTTP client for requests the helpers do not cover.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// POSTs a JSON body to `/graphql`.
    pub async fn post_graphql(&self, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(self.url("/graphql")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// Posts a GraphQL request asking for answers as `accept` (e.g.
    /// [`GRAPHQL_RESPONSE`]).
    pub async fn post_graphql_accepting(&self, body: &Value, accept: &str) -> reqwest::Response {
        self.client
            .post(self.url("/graphql"))
            .header(reqwest::header::ACCEPT, accept)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Runs an operation and returns the parsed response (any HTTP status).
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.post_graphql(&json!({ "query": query, "variables": variables }), token)
            .await
            .json()
            .await
            .expect("JSON response")
    }

    /// Creates an active staff account with [`TEST_PASSWORD`] (providers get
    /// a license valid for years).
    pub async fn create_user(&self, role: Role) -> TestUser {
        let unique = Uuid::now_v7().simple().to_string();
        let email = format!(
            "{}-{}@clinic.test",
            role.as_str().to_lowercase(),
            &unique[20..]
        );
        let display_name = format!("{} {}", role.as_str(), &unique[24..]);
        let license = (role == Role::Provider).then(|| License {
            number: format!("RN-{}", &unique[24..]),
            kind: LicenseKind::Rn,
            issuing_state: "NY".to_owned(),
            expires_on: NaiveDate::from_ymd_opt(2035, 12, 31).expect("date"),
        });
        let user = create_user(
            &self.db,
            &RequestContext::system(),
            "test",
            NewUser {
                email: email.clone(),
                display_name: display_name.clone(),
                role,
                password: TEST_PASSWORD.to_owned(),
                license,
            },
        )
        .await
        .expect("user created");
        TestUser {
            id: user.id,
            email,
            display_name,
        }
    }

    /// Logs in and returns the `login` payload (or the errors).
    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            LOGIN_MUTATION,
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    /// A new user of `role`, signed in: returns the user and an access token.
    pub async fn sign_in(&self, role: Role) -> (TestUser, String) {
        let user = self.create_user(role).await;
        let response = self.login(&user.email, TEST_PASSWORD).await;
        let token = response["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {response}"))
            .to_owned();
        (user, token)
    }

    /// A partner API key with the given scopes, created by a new admin.
    pub async fn api_key(&self, scopes: &[&str]) -> (String, String) {
        let (_, admin) = self.sign_in(Role::Admin).await;
        let response = self
            .gql(
                "mutation($input: CreateApiClientInput!) { createApiClient(input: $input) { apiClient { id } secret } }",
                json!({ "input": { "name": "Partner widget", "scopes": scopes } }),
                Some(&admin),
            )
            .await;
        let payload = &response["data"]["createApiClient"];
        (
            payload["apiClient"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{response}"))
                .to_owned(),
            payload["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// SQL statements the app has run so far.
    pub fn statements_executed(&self) -> u64 {
        self.metrics.statements_executed()
    }

    /// Writes the queued read-audit rows now.
    pub async fn flush_audit(&self) {
        self.state_audit.flush().await;
    }

    /// Stops the server gracefully and checks it stopped cleanly.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Runs `test` once per backend, each time against a fresh app, and cleans
/// the backend's database up afterwards even when the test fails.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for_each_backend_with(|_| {}, test).await;
}

/// [`for_each_backend`] with adjusted settings.
pub async fn for_each_backend_with<C, F, Fut>(configure: C, test: F)
where
    C: Fn(&mut Config),
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        eprintln!("-- on {backend}");
        let (app, postgres) = TestApp::spawn_with(backend, &configure).await;
        let outcome = AssertUnwindSafe(test(app)).catch_unwind().await;
        if let Some((admin_url, name)) = postgres {
            drop_test_database(&admin_url, &name).await;
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// The `extensions.code` of every error, in order.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|error| {
            error["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// The `extensions.code` of the first error.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {response}"))
}

/// The first column of the single row `sql` returns (a count, a backend
/// pid), on a connection or inside a transaction.
pub async fn single_value<T: TryGetable>(db: &impl ConnectionTrait, sql: &str) -> T {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{sql} returned no row"))
        .try_get_by_index::<T>(0)
        .unwrap()
}
