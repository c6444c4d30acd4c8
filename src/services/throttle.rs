//! Counting attempts per key (`account:…`, `ip:…`, `submit:…`) in the
//! database, so every API instance sees the same counts.
//!
//! Logins reserve their attempt before the password is checked
//! ([`reserve_attempt`]): the reservation counts as a failure at once, under
//! a row lock, so however many guesses arrive together, at most the allowed
//! number are ever verified; a right password gives its reservation back
//! ([`release_attempt`]).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait, TryInsertResult,
    sea_query::{Expr, ExprTrait},
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

/// Reserves one attempt under every key at once, before the credential is
/// checked: each key's row is locked (a row lock on PostgreSQL, the write
/// lock on SQLite), and unless one of them is locked, the attempt is counted
/// as a failure, locking the key when it reaches the policy's limit. So N
/// concurrent guesses, on one instance or several, verify at most the
/// allowed number. Keys are always locked in the order given (callers pass
/// the account before the IP), so two reservations cannot deadlock.
///
/// # Errors
/// Database failures. `Ok(Err(seconds))` when a key is locked: nothing is
/// counted then.
pub async fn reserve_attempt(
    db: &DatabaseConnection,
    keys: &[(String, ThrottlePolicy)],
) -> AppResult<Result<(), u64>> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    let now = Utc::now();
    let mut states = Vec::with_capacity(keys.len());
    let mut wait: Option<u64> = None;
    for (key, policy) in keys {
        // A key seen for the first time starts with no failures; inserting
        // it first gives every attempt a row to lock.
        login_throttle::Entity::insert(login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(0),
            window_started_at: Set(now),
            locked_until: Set(None),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(&txn)
        .await?;
        let mut query = login_throttle::Entity::find_by_id(key.clone());
        if txn.get_database_backend() == DbBackend::Postgres {
            query = query.lock_exclusive();
        }
        let state = query.one(&txn).await?.as_ref().map(state_of);
        if let Some(seconds) = policy.retry_after(state.as_ref(), now) {
            wait = Some(wait.map_or(seconds, |w| Ord::max(w, seconds)));
        }
        states.push(state);
    }
    if let Some(seconds) = wait {
        txn.rollback().await?;
        return Ok(Err(seconds));
    }
    for ((key, policy), state) in keys.iter().zip(&states) {
        let next = policy.after_failure(state.as_ref(), now);
        login_throttle::Entity::update_many()
            .col_expr(
                login_throttle::Column::Failures,
                Expr::value(i32::try_from(next.failures).unwrap_or(i32::MAX)),
            )
            .col_expr(
                login_throttle::Column::WindowStartedAt,
                Expr::value(next.window_started_at),
            )
            .col_expr(
                login_throttle::Column::LockedUntil,
                Expr::value(next.locked_until),
            )
            .filter(login_throttle::Column::Key.eq(key.as_str()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Ok(()))
}

/// Gives back an attempt [`reserve_attempt`] counted, once the credential
/// proved right: one failure less, and the lock lifted. Below the limit the
/// remaining count no longer earns a lock (the next failures lock again as
/// they reach it, so the failures ever verified stay within the limit); at
/// or above it, a lock had expired to admit this attempt, and the one
/// standing is the one this attempt set, since none is admitted while a
/// lock stands. Failures before a success are forgotten with their window.
///
/// # Errors
/// Database failures.
pub async fn release_attempt(
    db: &impl ConnectionTrait,
    keys: &[(String, ThrottlePolicy)],
) -> AppResult<()> {
    for (key, _) in keys {
        login_throttle::Entity::update_many()
            .col_expr(
                login_throttle::Column::Failures,
                Expr::col(login_throttle::Column::Failures).sub(1),
            )
            .col_expr(
                login_throttle::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(login_throttle::Column::Key.eq(key.as_str()))
            .filter(login_throttle::Column::Failures.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}
