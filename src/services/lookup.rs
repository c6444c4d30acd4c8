//! Which kind of record an id names. Ids are UUIDv7s, unique across every
//! table, so one id names at most one record; the API's `node(id:)` uses
//! this to hand the id to that record's own read path.

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use crate::{
    entities::{
        consultation_requests, consultations, devices, follow_ups, patients, procedures, users,
    },
    error::AppResult,
};

/// The kinds of record `node(id:)` can fetch: those with a by-id root field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A patient.
    Patient,
    /// A consultation request.
    ConsultationRequest,
    /// A consultation.
    Consultation,
    /// A procedure.
    Procedure,
    /// A follow-up.
    FollowUp,
    /// A device.
    Device,
    /// A staff account.
    User,
}

/// The kind of the record with this id among `kinds`, if there is one.
/// Looks in their tables in turn, by primary key, reading only the key.
///
/// # Errors
/// The database's error.
pub async fn kind_of(
    db: &impl ConnectionTrait,
    id: Uuid,
    kinds: &[RecordKind],
) -> AppResult<Option<RecordKind>> {
    for kind in kinds {
        let found = match kind {
            RecordKind::Procedure => exists::<procedures::Entity>(db, id).await?,
            RecordKind::FollowUp => exists::<follow_ups::Entity>(db, id).await?,
            RecordKind::Patient => exists::<patients::Entity>(db, id).await?,
            RecordKind::Consultation => exists::<consultations::Entity>(db, id).await?,
            RecordKind::ConsultationRequest => {
                exists::<consultation_requests::Entity>(db, id).await?
            }
            RecordKind::Device => exists::<devices::Entity>(db, id).await?,
            RecordKind::User => exists::<users::Entity>(db, id).await?,
        };
        if found {
            return Ok(Some(*kind));
        }
    }
    Ok(None)
}

async fn exists<E>(db: &impl ConnectionTrait, id: Uuid) -> AppResult<bool>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let found: Option<i32> = E::find_by_id(id)
        .select_only()
        .expr(Expr::value(1))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}
