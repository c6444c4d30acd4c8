//! The schema that serves operations, and the checks every operation passes
//! before it runs, over HTTP and over WebSocket alike.
//!
//! When a schema has any extension, async-graphql resolves every field of
//! every operation on a slower path: it looks the field up in the registry
//! to build a `ResolveInfo` and chains a boxed future through each
//! extension. The headline page resolves thousands of fields, so the
//! serving schema has no extensions; [`Schemas`] applies the limits around
//! it instead and is the [`Executor`] the WebSocket protocol drives.
//!
//! async-graphql's own depth and complexity refusals name neither the limit
//! nor the measured value. When one happens, the operation is validated
//! again by a second schema that reports both; it is built on the first
//! such refusal, so a server that never sees one never pays its memory
//! (about 3 MB).

use std::{
    any::TypeId,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_graphql::{
    Data, Executor, Request, Response, ServerError, ServerResult, Variables,
    parser::types::OperationType,
};
use futures_util::{StreamExt as _, stream::BoxStream};

use super::{
    AppSchema,
    introspection::{check_introspection_shape, is_introspection_only},
    limits::QueryLimits,
    nulls::{FieldTypes, complete as complete_nulls},
    operation::{metric_label, selected_operation},
    persisted::PersistedOperations,
    refusals::audit_refusals,
    variables::check_required_variables,
};
use crate::{
    auth::actor::RequestContext,
    error::{ErrorCode, carries_code},
    services::audit::{AuditReceipts, AuditSink},
    state::AppState,
};

/// async-graphql's refusals when a document is over the depth or complexity
/// limit (`validation/mod.rs`); [`Schemas`] replaces them with its own.
const STOCK_LIMIT_REFUSALS: [&str; 2] = ["Query is too complex.", "Query is nested too deep."];

/// What the HTTP handler needs to know of an operation that ran.
#[derive(Clone, Debug, Default)]
pub struct Ran {
    /// The name it is counted under in the metrics (see [`metric_label`];
    /// `None` for an unnamed one or one refused before it was parsed).
    pub label: Option<String>,
    /// Whether it was a mutation (its changes may be saved even when its
    /// answer is withheld, so it must not be retried blindly).
    pub mutation: bool,
    /// Whether any root field produced a value, before failed fields were
    /// nulled: an operation whose later mutation failed may have saved its
    /// earlier ones, even when the spec's propagation nulls `data`.
    pub answered: bool,
}

/// The serving schema with the limits and allow-list it is run under.
#[derive(Clone)]
pub struct Schemas {
    serving: AppSchema,
    /// Validates refused operations again to say which limit and by how
    /// much; built on first use.
    explaining: Arc<OnceLock<AppSchema>>,
    limits: QueryLimits,
    persisted: Option<Arc<PersistedOperations>>,
    /// How long an answer over a WebSocket waits for its read-audit rows.
    audit_patience: Duration,
    /// Where introspection is on, runs queries that ask for nothing else,
    /// without the data limits (see [`super::introspection`]); built on
    /// first use.
    introspecting: Option<Arc<OnceLock<AppSchema>>>,
    /// Where refusals over a WebSocket are audited (as over HTTP).
    audit: AuditSink,
    /// Field types for putting spec nulls where fields failed (see
    /// [`super::nulls`]); read from the schema on the first field error.
    field_types: Arc<OnceLock<FieldTypes>>,
}

/// What an operation's refusal is explained from, kept while it runs.
struct Retained {
    query: String,
    variables: Variables,
    operation_name: Option<String>,
}

impl Retained {
    fn of(request: &Request) -> Self {
        Self {
            query: request.query.clone(),
            variables: request.variables.clone(),
            operation_name: request.operation_name.clone(),
        }
    }

    fn request(&self) -> Request {
        let request = Request::new(self.query.clone()).variables(self.variables.clone());
        match &self.operation_name {
            Some(name) => request.operation_name(name.clone()),
            None => request,
        }
    }
}

impl Schemas {
    /// The serving schema for the configured limits and allow-list.
    pub fn new(state: AppState) -> Self {
        let limits = QueryLimits::new(&state.config.limits);
        let (max_depth, max_complexity) = limits.depth_and_complexity();
        let mut serving = super::schema_builder()
            .limit_depth(max_depth)
            .limit_complexity(max_complexity);
        let introspection = state.config.introspection_enabled();
        if !introspection {
            serving = serving.disable_introspection().disable_suggestions();
        }
        let audit_patience = Duration::from_secs(state.config.database.db_acquire_timeout_secs);
        Self {
            audit_patience,
            audit: state.audit.clone(),
            introspecting: introspection.then(Arc::default),
            persisted: state.persisted_operations.clone(),
            serving: serving.data(state).finish(),
            explaining: Arc::default(),
            field_types: Arc::default(),
            limits,
        }
    }

    /// Runs one HTTP operation if the allow-list and the limits let it. The
    /// HTTP handler has already refused NUL, oversized text and too many
    /// tokens (with HTTP 400, before authentication).
    pub async fn execute(&self, request: Request) -> Response {
        self.execute_counted(request).await.0
    }

    /// [`Schemas::execute`], and what the HTTP handler needs to know of the
    /// operation that ran.
    pub async fn execute_counted(&self, request: Request) -> (Response, Ran) {
        let (request, schema, ran) = match self.admit(request) {
            Ok(admitted) => admitted,
            Err(error) => return (Response::from_errors(vec![error]), Ran::default()),
        };
        let retained = Retained::of(&request);
        let response = schema.execute(request).await;
        let response = self.explained(response, &retained).await;
        let ran = Ran {
            answered: matches!(&response.data, async_graphql::Value::Object(fields) if !fields.is_empty()),
            ..ran
        };
        (self.with_spec_nulls(response, &retained), ran)
    }

    /// `response` with `null` where its fields failed, as the spec says
    /// (async-graphql leaves their keys out).
    fn with_spec_nulls(&self, mut response: Response, retained: &Retained) -> Response {
        if response.errors.iter().any(|error| !error.path.is_empty()) {
            let types = self
                .field_types
                .get_or_init(|| FieldTypes::from_sdl(&self.serving.sdl()));
            complete_nulls(
                &mut response,
                &retained.query,
                retained.operation_name.as_deref(),
                types,
            );
        }
        response
    }

    /// The request if it may run, the schema that runs it, and what ran.
    fn admit(&self, mut request: Request) -> ServerResult<(Request, &AppSchema, Ran)> {
        if let Some(list) = &self.persisted {
            request = list.admit(request)?;
        }
        let operation_name = request.operation_name.clone();
        let variables = request.variables.clone();
        let anonymous = request
            .data
            .get(&TypeId::of::<RequestContext>())
            .and_then(|data| data.downcast_ref::<RequestContext>())
            .is_none_or(|context| matches!(context.actor, crate::auth::actor::Actor::Anonymous));
        let document = request.parsed_query()?;
        let ran = Ran {
            label: metric_label(document, operation_name.as_deref(), anonymous),
            mutation: selected_operation(document, operation_name.as_deref())
                .is_some_and(|operation| operation.ty == OperationType::Mutation),
            answered: false,
        };
        self.limits.check_document(document)?;
        check_required_variables(document, operation_name.as_deref(), &variables)?;
        let schema = match &self.introspecting {
            Some(introspecting) if is_introspection_only(document, operation_name.as_deref()) => {
                check_introspection_shape(document, operation_name.as_deref())?;
                introspecting.get_or_init(|| super::schema_builder().finish())
            }
            _ => &self.serving,
        };
        Ok((request, schema, ran))
    }

    /// The response, or, when async-graphql refused the operation for depth
    /// or complexity, the refusal that says which limit and by how much.
    async fn explained(&self, response: Response, retained: &Retained) -> Response {
        if !refused_by_stock_limits(&response) {
            return response;
        }
        let explaining = self.explaining.get_or_init(|| {
            super::schema_builder()
                .extension(self.limits.clone())
                .finish()
        });
        // It fails validation the same way, so no resolver runs.
        explaining.execute(retained.request()).await
    }
}

impl Executor for Schemas {
    async fn execute(&self, request: Request) -> Response {
        Schemas::execute(self, request).await
    }

    /// Every operation over a WebSocket connection (subscriptions, queries
    /// and mutations) comes through here.
    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let text = self.limits.check_text(&request.query, &request.variables);
        // Parsed only once the text is within the limits (which bound the
        // parser's recursion); a subscription's refusal is marked so that
        // the protocol layer answers it with an `error` message.
        let subscription = text.is_ok()
            && async_graphql::parser::parse_query(&request.query).is_ok_and(|document| {
                selected_operation(&document, request.operation_name.as_deref())
                    .is_some_and(|operation| operation.ty == OperationType::Subscription)
            });
        let admitted = text.and_then(|()| self.admit(request));
        let (request, schema) = match admitted {
            Ok((request, schema, _)) => (request, schema.clone()),
            Err(error) => {
                let refusal = marked(Response::from_errors(vec![error]), subscription);
                return futures_util::stream::once(async move { refusal }).boxed();
            }
        };
        let retained = Arc::new(Retained::of(&request));
        let session_data = session_data.unwrap_or_default();
        // Each operation gets receipts of its own, so that each answer waits
        // for its own reads' audit rows (R-AUDIT), not for the connection's.
        let receipts = AuditReceipts::default();
        let context = connection_context(&session_data).map(|context| RequestContext {
            audit_receipts: receipts.clone(),
            ..context.clone()
        });
        let request = match &context {
            Some(context) => request.data(context.clone()),
            None => request,
        };
        let schemas = self.clone();
        schema
            .execute_stream_with_session_data(request, session_data)
            .enumerate()
            .then(move |(index, response)| {
                let schemas = schemas.clone();
                let retained = Arc::clone(&retained);
                let receipts = receipts.clone();
                let context = context.clone();
                async move {
                    let response = schemas.explained(response, &retained).await;
                    let response = schemas.with_spec_nulls(response, &retained);
                    if let Some(context) = &context {
                        audit_refusals(&schemas.audit, context, &response.errors).await;
                    }
                    // Only a subscription's first answer can refuse to open it.
                    let response = marked(response, subscription && index == 0);
                    match tokio::time::timeout(schemas.audit_patience, receipts.stored()).await {
                        Ok(Ok(())) => response,
                        Ok(Err(_)) | Err(_) => audit_unavailable(),
                    }
                }
            })
            .boxed()
    }
}

/// The key of the mark on a subscription's refusal to open (a `Response`
/// extension the WebSocket protocol layer removes again).
pub const REFUSED_SUBSCRIPTION: &str = "dermagraphRefusedSubscription";

/// `response` with [`REFUSED_SUBSCRIPTION`] when `first_of_subscription` and
/// it refuses to open the subscription: no data, and only errors before or
/// at its root field (validation, limits, the root field's guard or cap),
/// none of them the server's own failure.
fn marked(mut response: Response, first_of_subscription: bool) -> Response {
    let refused = first_of_subscription
        && matches!(response.data, async_graphql::Value::Null)
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|error| error.path.len() <= 1 && !carries_code(error, ErrorCode::Internal));
    if refused {
        response.extensions.insert(
            REFUSED_SUBSCRIPTION.to_owned(),
            async_graphql::Value::Boolean(true),
        );
    }
    response
}

/// The caller a WebSocket connection authenticated as, if it did.
fn connection_context(session_data: &Data) -> Option<&RequestContext> {
    session_data
        .get(&TypeId::of::<RequestContext>())
        .and_then(|data| data.downcast_ref::<RequestContext>())
}

/// The answer over a WebSocket when its reads could not be audited: the
/// data is withheld (the HTTP handler answers 503 the same way).
fn audit_unavailable() -> Response {
    let error_id = uuid::Uuid::now_v7();
    tracing::error!(error_id = %error_id, "answer withheld: its read-audit rows were not stored");
    let mut error = ServerError::new(
        "the audit trail could not record this operation's reads, so the answer is withheld \
         (a change the operation made, if any, is saved); retry later",
        None,
    );
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", ErrorCode::Internal.as_str());
    extensions.set("errorId", error_id.to_string());
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

fn refused_by_stock_limits(response: &Response) -> bool {
    matches!(response.data, async_graphql::Value::Null)
        && response
            .errors
            .iter()
            .any(|error| STOCK_LIMIT_REFUSALS.contains(&error.message.as_str()))
}
