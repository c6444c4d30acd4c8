//! Storing a batch of read-audit rows in one statement. On PostgreSQL the
//! rows travel as one array per column (`INSERT … SELECT FROM UNNEST`):
//! thirteen parameters whatever the batch size, where a multi-row `VALUES`
//! binds thirteen per row and made the audit writer the bottleneck of a
//! busy server (a 50-patient page audits about 160 rows). SQLite, which has
//! no arrays, keeps the multi-row insert.

use sea_orm::{
    ActiveEnum, ActiveValue, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, RuntimeErr,
    prelude::Uuid, sea_query::OnConflict, sqlx,
};

use crate::entities::audit_events;

const UNNEST_INSERT: &str = "INSERT INTO audit_events (id, occurred_at, actor_kind, actor_id, \
    actor_role, action, entity_type, entity_id, patient_id, operation, request_id, client_ip, \
    outcome) SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], \
    $5::text[], $6::text[], $7::text[], $8::uuid[], $9::uuid[], $10::text[], $11::text[], \
    $12::text[], $13::text[]) ON CONFLICT (id) DO NOTHING";

/// Inserts `rows` in one statement. Rows already stored are skipped: a
/// retry after an insert that committed but whose answer was lost (a
/// database restart) must not fail on their ids forever.
///
/// # Errors
/// Database failures (nothing is stored then).
pub async fn insert_rows(
    db: &DatabaseConnection,
    rows: Vec<audit_events::ActiveModel>,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        let inserted = audit_events::Entity::insert_many(rows)
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
    let columns = Columns::of(rows);
    sqlx::query(UNNEST_INSERT)
        .bind(columns.id)
        .bind(columns.occurred_at)
        .bind(columns.actor_kind)
        .bind(columns.actor_id)
        .bind(columns.actor_role)
        .bind(columns.action)
        .bind(columns.entity_type)
        .bind(columns.entity_id)
        .bind(columns.patient_id)
        .bind(columns.operation)
        .bind(columns.request_id)
        .bind(columns.client_ip)
        .bind(columns.outcome)
        .execute(db.get_postgres_connection_pool())
        .await
        .map_err(|error| DbErr::Exec(RuntimeErr::SqlxError(std::sync::Arc::new(error))))?;
    Ok(())
}

/// The rows as one vector per column.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    occurred_at: Vec<chrono::DateTime<chrono::Utc>>,
    actor_kind: Vec<String>,
    actor_id: Vec<Option<Uuid>>,
    actor_role: Vec<Option<String>>,
    action: Vec<String>,
    entity_type: Vec<Option<String>>,
    entity_id: Vec<Option<Uuid>>,
    patient_id: Vec<Option<Uuid>>,
    operation: Vec<Option<String>>,
    request_id: Vec<Option<String>>,
    client_ip: Vec<Option<String>>,
    outcome: Vec<String>,
}

impl Columns {
    fn of(rows: Vec<audit_events::ActiveModel>) -> Self {
        let mut columns = Self::default();
        for row in rows {
            let Some(id) = value(row.id) else { continue };
            columns.id.push(id);
            columns
                .occurred_at
                .push(value(row.occurred_at).unwrap_or_else(chrono::Utc::now));
            columns.actor_kind.push(
                value(row.actor_kind)
                    .map(|kind| kind.to_value())
                    .unwrap_or_default(),
            );
            columns.actor_id.push(value(row.actor_id).flatten());
            columns.actor_role.push(value(row.actor_role).flatten());
            columns.action.push(
                value(row.action)
                    .map(|action| action.to_value())
                    .unwrap_or_default(),
            );
            columns.entity_type.push(value(row.entity_type).flatten());
            columns.entity_id.push(value(row.entity_id).flatten());
            columns.patient_id.push(value(row.patient_id).flatten());
            columns.operation.push(value(row.operation).flatten());
            columns.request_id.push(value(row.request_id).flatten());
            columns.client_ip.push(value(row.client_ip).flatten());
            columns.outcome.push(
                value(row.outcome)
                    .map(|outcome| outcome.to_value())
                    .unwrap_or_default(),
            );
        }
        columns
    }
}

fn value<T: Into<sea_orm::Value>>(field: ActiveValue<T>) -> Option<T> {
    match field {
        ActiveValue::Set(value) | ActiveValue::Unchanged(value) => Some(value),
        ActiveValue::NotSet => None,
    }
}
