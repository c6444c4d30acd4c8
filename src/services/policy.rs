//! Reading and changing the clinic policy.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    auth::actor::RequestContext,
    domain::{
        audit::{AuditAction, EntityType},
        depth::{Depth, DepthRange},
        policy::{ClinicPolicy, PolicyChanges},
    },
    entities::{clinic_policy, depth_guideline},
    error::{AppError, AppResult},
    services::{
        audit::{AuditEvent, AuditedWrite},
        users::stale_version,
    },
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
        session_lifetime_hours: days(row.session_lifetime_hours, "session_lifetime_hours")?,
        minimum_patient_age: days(row.minimum_patient_age, "minimum_patient_age")?,
        follow_up_max_attempts: days(row.follow_up_max_attempts, "follow_up_max_attempts")?,
        amendment_policy: row.amendment_policy,
        depth_ranges,
        version: row.version,
        updated_at: row.updated_at,
    })
}

/// Applies an admin's changes if the policy is still at `expected_version`.
///
/// # Errors
/// `BAD_USER_INPUT` naming the field; `CONFLICT` when the version is stale.
pub async fn update_policy(
    db: &DatabaseConnection,
    request: &RequestContext,
    expected_version: i32,
    changes: &PolicyChanges,
) -> AppResult<ClinicPolicy> {
    let mut write = AuditedWrite::begin(db, request, "updateClinicPolicy").await?;
    let current = current_policy(&*write).await?;
    let next = current
        .with_changes(changes)
        .map_err(|error| AppError::bad_input(error.field, error.message))?;
    let updated = clinic_policy::Entity::update_many()
        .col_expr(
            clinic_policy::Column::TimeZone,
            Expr::value(next.time_zone.name()),
        )
        .col_expr(
            clinic_policy::Column::MinIntervalDays,
            Expr::value(next.min_interval_days),
        )
        .col_expr(
            clinic_policy::Column::RecommendedIntervalDays,
            Expr::value(next.recommended_interval_days),
        )
        .col_expr(
            clinic_policy::Column::PlannedSessions,
            Expr::value(next.planned_sessions),
        )
        .col_expr(
            clinic_policy::Column::ScreeningValidDays,
            Expr::value(next.screening_valid_days),
        )
        .col_expr(
            clinic_policy::Column::IsotretinoinWashoutDays,
            Expr::value(next.isotretinoin_washout_days),
        )
        .col_expr(
            clinic_policy::Column::SessionLifetimeHours,
            Expr::value(next.session_lifetime_hours),
        )
        .col_expr(
            clinic_policy::Column::MinimumPatientAge,
            Expr::value(next.minimum_patient_age),
        )
        .col_expr(
            clinic_policy::Column::FollowUpMaxAttempts,
            Expr::value(next.follow_up_max_attempts),
        )
        .col_expr(
            clinic_policy::Column::AmendmentPolicy,
            Expr::value(next.amendment_policy),
        )
        .col_expr(clinic_policy::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            clinic_policy::Column::Version,
            Expr::col(clinic_policy::Column::Version).add(1),
        )
        .filter(clinic_policy::Column::Id.eq(POLICY_ROW_ID))
        .filter(clinic_policy::Column::Version.eq(expected_version))
        .exec(&*write)
        .await?;
    if updated.rows_affected == 0 {
        return Err(stale_version());
    }
    for (area, _, _) in &changes.depth_ranges {
        if let Some(range) = next.depth_range(*area) {
            let (min, max) = (range.min.micrometres(), range.max.micrometres());
            depth_guideline::Entity::insert(depth_guideline::ActiveModel {
                area: Set(*area),
                min_depth_um: Set(i32::try_from(min).unwrap_or(i32::MAX)),
                max_depth_um: Set(i32::try_from(max).unwrap_or(i32::MAX)),
            })
            .on_conflict(
                OnConflict::column(depth_guideline::Column::Area)
                    .update_columns([
                        depth_guideline::Column::MinDepthUm,
                        depth_guideline::Column::MaxDepthUm,
                    ])
                    .to_owned(),
            )
            .exec(&*write)
            .await?;
        }
    }
    write.audit(AuditEvent::new(AuditAction::Update).entity(EntityType::ClinicPolicy, None));
    let policy = current_policy(&*write).await?;
    write.commit().await?;
    Ok(policy)
}
