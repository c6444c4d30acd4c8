//! Counting attempts per key (`account:…`, `ip:…`, `submit:…`) in the
//! database, so every API instance sees the same counts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TryInsertResult,
    sea_query::Expr,
};

use crate::{
    domain::throttle::{ThrottlePolicy, ThrottleState},
    entities::login_throttle,
    error::AppResult,
};

fn state_of(row: &login_throttle::Model) -> ThrottleState {
    ThrottleState {
        failures: u32::try_from(row.failures).unwrap_or(0),
        window_started_at: row.window_started_at,
        locked_until: row.locked_until,
    }
}

/// Counts one attempt of a key. Optimistic: the update applies only if
/// nobody changed the row since it was read, else it retries, so
/// concurrent attempts are all counted on both databases.
///
/// # Errors
/// Database failures, or endless contention (then `INTERNAL`).
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    key: &str,
    policy: ThrottlePolicy,
) -> AppResult<()> {
    for _ in 0..8 {
        let now = Utc::now();
        let current = login_throttle::Entity::find_by_id(key.to_owned())
            .one(db)
            .await?;
        let next = policy.after_failure(current.as_ref().map(state_of).as_ref(), now);
        let failures = i32::try_from(next.failures).unwrap_or(i32::MAX);
        let applied = match current {
            None => matches!(
                login_throttle::Entity::insert(login_throttle::ActiveModel {
                    key: Set(key.to_owned()),
                    failures: Set(failures),
                    window_started_at: Set(next.window_started_at),
                    locked_until: Set(next.locked_until),
                })
                .on_conflict_do_nothing()
                .exec_without_returning(db)
                .await?,
                TryInsertResult::Inserted(1)
            ),
            Some(row) => {
                login_throttle::Entity::update_many()
                    .col_expr(login_throttle::Column::Failures, Expr::value(failures))
                    .col_expr(
                        login_throttle::Column::WindowStartedAt,
                        Expr::value(next.window_started_at),
                    )
                    .col_expr(
                        login_throttle::Column::LockedUntil,
                        Expr::value(next.locked_until),
                    )
                    .filter(login_throttle::Column::Key.eq(key))
                    .filter(login_throttle::Column::Failures.eq(row.failures))
                    .filter(login_throttle::Column::WindowStartedAt.eq(row.window_started_at))
                    .exec(db)
                    .await?
                    .rows_affected
                    == 1
            }
        };
        if applied {
            return Ok(());
        }
    }
    Err(anyhow::anyhow!("throttle key {key} kept changing under contention").into())
}

/// Seconds to wait before another attempt, if any of the keys is locked.
///
/// # Errors
/// Database failures.
pub async fn retry_after(
    db: &impl ConnectionTrait,
    keys: &[(String, ThrottlePolicy)],
    now: DateTime<Utc>,
) -> AppResult<Option<u64>> {
    let mut wait: Option<u64> = None;
    for (key, policy) in keys {
        let row = login_throttle::Entity::find_by_id(key.clone())
            .one(db)
            .await?;
        if let Some(seconds) = policy.retry_after(row.as_ref().map(state_of).as_ref(), now) {
            wait = Some(wait.map_or(seconds, |w| Ord::max(w, seconds)));
        }
    }
    Ok(wait)
}
