//! Which kind of record an id names. Ids are UUIDv7s, unique across every
//! table, so one id names at most one record; the API's `node(id:)` uses
//! this to hand the id to that record's own read path.

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};
use uuid::Uuid;

use crate::{
    entities::{consultation_requests, consultations, devices, patients, procedures, users},
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
    /// A device.
    Device,
    /// A staff account.
    User,
}

/// The kind of the record with this id, if there is one. Looks in the
/// tables in turn (by primary key), the most often fetched first.
///
/// # Errors
/// The database's error.
pub async fn kind_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<RecordKind>> {
    if exists::<procedures::Entity>(db, id).await? {
        return Ok(Some(RecordKind::Procedure));
    }
    if exists::<patients::Entity>(db, id).await? {
        return Ok(Some(RecordKind::Patient));
    }
    if exists::<consultations::Entity>(db, id).await? {
        return Ok(Some(RecordKind::Consultation));
    }
    if exists::<consultation_requests::Entity>(db, id).await? {
        return Ok(Some(RecordKind::ConsultationRequest));
    }
    if exists::<devices::Entity>(db, id).await? {
        return Ok(Some(RecordKind::Device));
    }
    if exists::<users::Entity>(db, id).await? {
        return Ok(Some(RecordKind::User));
    }
    Ok(None)
}

async fn exists<E>(db: &impl ConnectionTrait, id: Uuid) -> AppResult<bool>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    Ok(E::find_by_id(id).one(db).await?.is_some())
}
