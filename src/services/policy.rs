//! Reading the clinic policy.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::{
    domain::{
        depth::{Depth, DepthRange},
        policy::ClinicPolicy,
    },
    entities::{clinic_policy, depth_guideline},
    error::AppResult,
};

/// Id of the one policy row.
const POLICY_ROW_ID: i32 = 1;

/// Loads the policy in force with its depth guidelines.
///
/// # Errors
/// `INTERNAL` when the database fails or the stored policy is corrupt (the
/// migration seeds it, so a missing row is a broken installation).
pub async fn current_policy(db: &impl ConnectionTrait) -> AppResult<ClinicPolicy> {
    let row = clinic_policy::Entity::find_by_id(POLICY_ROW_ID)
        .one(db)
        .await?
        .ok_or_else(|| anyhow!("the clinic_policy row is missing; run `dermagraph migrate up`"))?;
    let guidelines = depth_guideline::Entity::find().all(db).await?;
    Ok(policy_from_rows(row, guidelines)?)
}

fn policy_from_rows(
    row: clinic_policy::Model,
    guidelines: Vec<depth_guideline::Model>,
) -> anyhow::Result<ClinicPolicy> {
    let days = |value: i32, column: &str| {
        u32::try_from(value).with_context(|| format!("clinic_policy.{column} is negative"))
    };
    let mut depth_ranges = BTreeMap::new();
    for guideline in guidelines {
        let depth = |um: i32| {
            u32::try_from(um)
                .ok()
                .and_then(|um| Depth::from_micrometres(um).ok())
                .with_context(|| format!("invalid guideline depth for {:?}", guideline.area))
        };
        let range = DepthRange::new(
            depth(guideline.min_depth_um)?,
            depth(guideline.max_depth_um)?,
        )
        .with_context(|| format!("inverted guideline range for {:?}", guideline.area))?;
        depth_ranges.insert(guideline.area, range);
    }
    Ok(ClinicPolicy {
        time_zone: row.time_zone.parse().map_err(|_| {
            anyhow!(
                "clinic_policy.time_zone {:?} is not an IANA zone",
                row.time_zone
            )
        })?,
        min_interval_days: days(row.min_interval_days, "min_interval_days")?,
        recommended_interval_days: days(
            row.recommended_interval_days,
            "recommended_interval_days",
        )?,
        planned_sessions: days(row.planned_sessions, "planned_sessions")?,
        screening_valid_days: days(row.screening_valid_days, "screening_valid_days")?,
        isotretinoin_washout_days: days(
            row.isotretinoin_washout_days,
            "isotretinoin_washout_days",
        )?,
        depth_ranges,
        version: row.version,
        updated_at: row.updated_at,
    })
}
