//! The GraphQL schema: root objects merged from each domain's part, the
//! limits that guard it, and the SDL export.

pub mod limits;
pub mod pagination;
pub mod policy;
pub mod types;

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, MergedObject, Schema, SchemaBuilder,
    registry::SDLExportOptions,
};

use self::limits::QueryLimits;
use crate::{config::Config, state::AppState};

/// Every query of the API; each domain contributes its own object.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(policy::PolicyQuery);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

fn schema_builder() -> SchemaBuilder<QueryRoot, EmptyMutation, EmptySubscription> {
    Schema::build(QueryRoot::default(), EmptyMutation, EmptySubscription)
}

/// Builds the schema that serves requests, with the configured limits.
pub fn build_schema(state: AppState) -> AppSchema {
    let config: &Config = &state.config;
    let limits = &config.limits;
    let mut builder = schema_builder().extension(QueryLimits::new(limits));
    if !config.introspection_enabled() {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(state).finish()
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
