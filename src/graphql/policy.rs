//! Queries on the clinic policy.

use async_graphql::{Context, Object};

use super::{app_state, types::policy::ClinicPolicy};
use crate::services;

/// The clinic-policy part of the query root.
#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The clinic's protocol settings in force: intervals, screening validity,
    /// planned sessions, time zone and guideline depth ranges.
    async fn clinic_policy(&self, ctx: &Context<'_>) -> async_graphql::Result<ClinicPolicy> {
        let state = app_state(ctx)?;
        Ok(services::policy::current_policy(&state.db).await?.into())
    }
}
