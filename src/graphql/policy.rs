//! Reading and changing the clinic policy.

use async_graphql::{Context, Object};

use super::{
    app_state, request_context,
    types::policy::{ClinicPolicy, UpdateClinicPolicyInput, UpdateClinicPolicyPayload},
};
use crate::{auth::guards::Allow, services};

/// The clinic-policy part of the query root.
#[derive(Default)]
pub struct PolicyQuery;

#[Object]
impl PolicyQuery {
    /// The clinic's protocol settings in force: intervals, screening validity,
    /// planned sessions, time zone and guideline depth ranges.
    #[graphql(guard = "Allow::AUTHENTICATED")]
    async fn clinic_policy(&self, ctx: &Context<'_>) -> async_graphql::Result<ClinicPolicy> {
        let state = app_state(ctx)?;
        Ok(services::policy::current_policy(&state.db).await?.into())
    }
}

/// The clinic-policy part of the mutation root.
#[derive(Default)]
pub struct PolicyMutation;

#[Object]
impl PolicyMutation {
    /// Changes the clinic policy (admins only). Omitted fields keep their
    /// values; a stale `expectedVersion` fails with CONFLICT.
    #[graphql(guard = "Allow::ADMIN")]
    async fn update_clinic_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateClinicPolicyInput,
    ) -> async_graphql::Result<UpdateClinicPolicyPayload> {
        let state = app_state(ctx)?;
        let expected_version = input.expected_version;
        let policy = services::policy::update_policy(
            &state.db,
            request_context(ctx)?,
            expected_version,
            &input.into(),
        )
        .await?;
        Ok(UpdateClinicPolicyPayload {
            clinic_policy: policy.into(),
        })
    }
}
