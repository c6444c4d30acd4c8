//! Storing a batch of read-audit rows in one statement.
//!
//! On PostgreSQL a batch is streamed with `COPY … FROM STDIN (FORMAT
//! binary)`: the rows go straight into the table and its indexes, without
//! an executor projecting each one. That costs the database about half the
//! CPU per row of the `INSERT … SELECT FROM UNNEST` it replaced (a
//! 50-patient page audits about 160 rows, and storing them was half of the
//! database's work on such a page). `COPY` cannot skip rows that are
//! already stored, so a batch whose first attempt failed (it may have been
//! stored if only the answer was lost) is retried with that `INSERT … ON
//! CONFLICT DO NOTHING`. SQLite, which has neither, takes a multi-row
//! insert.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{
    ActiveEnum, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
    RuntimeErr, prelude::Uuid, sea_query::OnConflict, sqlx,
};
use sqlx::postgres::PgPoolCopyExt;

use crate::entities::audit_events;

/// Whether a batch may already be partly stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The rows were never sent.
    First,
    /// An earlier attempt failed (perhaps without an answer, after it had
    /// committed): rows already stored are skipped.
    Retry,
}

/// The columns both statements store, in the order `binary_copy` writes
/// them and `insert_skipping_stored` binds them.
macro_rules! audit_columns {
    () => {
        "id, occurred_at, actor_kind, actor_id, actor_role, action, entity_type, entity_id, \
         patient_id, operation, request_id, client_ip, outcome"
    };
}

const COPY_IN: &str = concat!(
    "COPY audit_events (",
    audit_columns!(),
    ") FROM STDIN (FORMAT binary)"
);

const UNNEST_INSERT: &str = concat!(
    "INSERT INTO audit_events (",
    audit_columns!(),
    ") SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], \
     $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::text[], $11::text[], \
     $12::text[], $13::text[]) ON CONFLICT (id) DO NOTHING"
);

/// Stores `rows` in one statement; on a [`Attempt::Retry`], rows already
/// stored are skipped, so a retry after an insert that committed but whose
/// answer was lost (a database restart) does not fail on their ids forever.
///
/// # Errors
/// Database failures (nothing is stored then, or, when the answer was
/// lost, perhaps everything: retry with [`Attempt::Retry`]).
pub async fn insert_rows(
    db: &DatabaseConnection,
    rows: &[audit_events::Model],
    attempt: Attempt,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let inserted = audit_events::Entity::insert_many(
            rows.iter().cloned().map(IntoActiveModel::into_active_model),
        )
        .on_conflict(
            OnConflict::column(audit_events::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec(db)
        .await;
        return match inserted {
            Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
            Err(error) => Err(error),
        };
    }
    let pool = db.get_postgres_connection_pool();
    let stored = match attempt {
        Attempt::First => copy_in(pool, rows).await,
        Attempt::Retry => insert_skipping_stored(pool, rows).await,
    };
    stored.map_err(|error| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error))))
}

async fn copy_in(pool: &sqlx::PgPool, rows: &[audit_events::Model]) -> Result<(), sqlx::Error> {
    let data = binary_copy(rows)?;
    let mut copy = pool.copy_in_raw(COPY_IN).await?;
    if let Err(error) = copy.send(data).await {
        copy.abort(error.to_string()).await.ok();
        return Err(error);
    }
    copy.finish().await?;
    Ok(())
}

/// The rows in PostgreSQL's binary `COPY` format: a signature and two
/// zero words, then per row its field count and each field as a length
/// (-1 for NULL) and its bytes, then -1.
///
/// # Errors
/// A value the format cannot hold (a time beyond PostgreSQL's range, a
/// field over 2 GiB): refused, as sqlx refuses to bind one.
fn binary_copy(rows: &[audit_events::Model]) -> Result<Vec<u8>, sqlx::Error> {
    let mut out = Vec::with_capacity(19 + rows.len() * 400 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0_i32.to_be_bytes());
    out.extend_from_slice(&0_i32.to_be_bytes());
    for row in rows {
        out.extend_from_slice(&13_i16.to_be_bytes());
        uuid_field(&mut out, Some(row.id))?;
        field(
            &mut out,
            Some(&postgres_microseconds(row.occurred_at)?.to_be_bytes()),
        )?;
        text_field(&mut out, Some(&row.actor_kind.to_value()))?;
        uuid_field(&mut out, row.actor_id)?;
        text_field(&mut out, row.actor_role.as_deref())?;
        text_field(&mut out, Some(&row.action.to_value()))?;
        text_field(&mut out, row.entity_type.as_deref())?;
        uuid_field(&mut out, row.entity_id)?;
        uuid_field(&mut out, row.patient_id)?;
        text_field(&mut out, row.operation.as_deref())?;
        text_field(&mut out, row.request_id.as_deref())?;
        text_field(&mut out, row.client_ip.as_deref())?;
        text_field(&mut out, Some(&row.outcome.to_value()))?;
    }
    out.extend_from_slice(&(-1_i16).to_be_bytes());
    Ok(out)
}

fn field(out: &mut Vec<u8>, bytes: Option<&[u8]>) -> Result<(), sqlx::Error> {
    match bytes {
        Some(bytes) => {
            let length = i32::try_from(bytes.len()).map_err(|_| {
                sqlx::Error::Encode(format!("an audit field of {} bytes", bytes.len()).into())
            })?;
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(bytes);
        }
        None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
    }
    Ok(())
}

fn uuid_field(out: &mut Vec<u8>, id: Option<Uuid>) -> Result<(), sqlx::Error> {
    field(out, id.as_ref().map(Uuid::as_bytes).map(|bytes| &bytes[..]))
}

fn text_field(out: &mut Vec<u8>, text: Option<&str>) -> Result<(), sqlx::Error> {
    field(out, text.map(str::as_bytes))
}

/// A `timestamptz` as PostgreSQL's binary format holds it: microseconds
/// since 2000-01-01 UTC, truncated as sqlx truncates a bound time.
fn postgres_microseconds(at: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .and_then(|epoch| (at - epoch).num_microseconds())
        .ok_or_else(|| sqlx::Error::Encode(format!("an audit time out of range: {at}").into()))
}

async fn insert_skipping_stored(
    pool: &sqlx::PgPool,
    rows: &[audit_events::Model],
) -> Result<(), sqlx::Error> {
    let column = |value: fn(&audit_events::Model) -> Option<String>| -> Vec<Option<String>> {
        rows.iter().map(value).collect()
    };
    sqlx::query(UNNEST_INSERT)
        .bind(rows.iter().map(|row| row.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.occurred_at).collect::<Vec<_>>())
        .bind(column(|row| Some(row.actor_kind.to_value())))
        .bind(rows.iter().map(|row| row.actor_id).collect::<Vec<_>>())
        .bind(column(|row| row.actor_role.clone()))
        .bind(column(|row| Some(row.action.to_value())))
        .bind(column(|row| row.entity_type.clone()))
        .bind(rows.iter().map(|row| row.entity_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.patient_id).collect::<Vec<_>>())
        .bind(column(|row| row.operation.clone()))
        .bind(column(|row| row.request_id.clone()))
        .bind(column(|row| row.client_ip.clone()))
        .bind(column(|row| Some(row.outcome.to_value())))
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_count_microseconds_from_the_postgres_epoch() {
        let microseconds =
            |at: Option<DateTime<Utc>>| at.and_then(|at| postgres_microseconds(at).ok());
        let at = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 1).single();
        assert_eq!(microseconds(at), Some(1_000_000));
        let before = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).single();
        assert_eq!(microseconds(before), Some(-1_000_000));
    }

    #[test]
    fn an_empty_batch_is_the_header_and_the_trailer() {
        let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend_from_slice(&[0; 8]);
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(binary_copy(&[]).ok(), Some(expected));
    }
}
