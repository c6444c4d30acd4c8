//! The GraphQL schema: root objects merged from each domain's part, the
//! limits that guard it, and the SDL export.

pub mod audit;
pub mod classification;
pub mod consultations;
pub mod follow_ups;
pub mod identity;
pub mod intake;
pub mod introspection;
pub mod limits;
pub mod loaders;
pub mod node;
pub mod nulls;
pub mod operation;
pub mod pagination;
pub mod patients;
pub mod persisted;
pub mod policy;
pub mod prefetch;
pub mod procedures;
pub mod refusals;
pub mod rows;
pub mod scalars;
pub mod schemas;
pub mod subscriptions;
pub mod tokens;
pub mod types;
pub mod variables;
pub mod webhooks;

use async_graphql::{Context, ID, MergedObject, Schema, SchemaBuilder, registry::SDLExportOptions};
use uuid::Uuid;

pub use self::schemas::Schemas;
use crate::{
    auth::actor::RequestContext,
    error::{AppError, AppResult},
    state::AppState,
};

/// Every query of the API; each domain contributes its own object.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    policy::PolicyQuery,
    identity::IdentityQuery,
    audit::AuditQuery,
    patients::PatientQuery,
    intake::IntakeQuery,
    consultations::ConsultationQuery,
    procedures::ProcedureQuery,
    follow_ups::FollowUpQuery,
    webhooks::WebhookQuery,
    node::NodeQuery,
);

/// Every mutation of the API; each domain contributes its own object.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    identity::SessionMutation,
    identity::StaffMutation,
    identity::ApiClientMutation,
    policy::PolicyMutation,
    patients::PatientMutation,
    intake::IntakeMutation,
    consultations::ConsultationMutation,
    procedures::ProcedureMutation,
    follow_ups::FollowUpMutation,
    webhooks::WebhookMutation,
);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot>;

pub(crate) fn schema_builder()
-> SchemaBuilder<QueryRoot, MutationRoot, subscriptions::SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        subscriptions::SubscriptionRoot,
    )
}

/// The schema without state or limits: for exporting and inspecting the
/// contract, never for serving requests.
pub fn bare_schema() -> AppSchema {
    schema_builder().finish()
}

/// The schema as SDL with sorted fields, as committed in `schema.graphql`.
pub fn schema_sdl() -> String {
    bare_schema().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}

/// The application state of the request.
///
/// # Errors
/// Only if the schema was built without state, which `build_schema` never does.
pub fn app_state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// Who is calling and from where.
///
/// # Errors
/// Only if the HTTP layer did not attach a context, which it always does.
pub fn request_context<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// Parses a GraphQL `ID` argument as a UUID.
///
/// # Errors
/// `BAD_USER_INPUT` naming `field`.
pub fn parse_id(id: &ID, field: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::bad_input(field, "not a valid id"))
}

/// Parses an optional `ID` argument as a UUID.
///
/// # Errors
/// `BAD_USER_INPUT` naming `field`.
pub fn parse_optional_id(id: Option<&ID>, field: &str) -> AppResult<Option<Uuid>> {
    id.map(|id| parse_id(id, field)).transpose()
}

/// Cost of a connection field: its children weighted by the page size, so
/// that `first: 100` costs a hundred times a single row.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map_or(20, |n| usize::try_from(n.clamp(1, 100)).unwrap_or(20));
    size.saturating_mul(child_complexity).saturating_add(1)
}
