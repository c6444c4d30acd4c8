//! Per-request DataLoaders: every relation field batches its lookups so the
//! number of SQL statements does not grow with the page size. They are made
//! anew for each request, so cached rows never cross users.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, prelude::Uuid,
};

use crate::{
    domain::policy::ClinicPolicy,
    entities::{
        cartridges, consultations, contact_consents, device_sessions, devices, follow_ups,
        informed_consents, medical_histories, patients, procedure_amendments, procedures,
        screenings, treatment_plans, users,
    },
    error::{AppError, AppResult},
    services::policy::current_policy,
};

/// Rows of one table grouped by a UUID column, in the order of `order_by`:
/// one `SELECT … WHERE column IN (…)` per batch.
pub struct RowsBy<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    order_by: E::Column,
    key: fn(&E::Model) -> Option<Uuid>,
}

impl<E: EntityTrait> RowsBy<E> {
    fn relation(
        db: &DatabaseConnection,
        window: Duration,
        column: E::Column,
        order_by: E::Column,
        key: fn(&E::Model) -> Option<Uuid>,
    ) -> Relation<E>
    where
        Self: Loader<Uuid>,
    {
        Relation {
            loader: DataLoader::new(
                Self {
                    db: db.clone(),
                    column,
                    order_by,
                    key,
                },
                tokio::spawn,
            )
            .delay(window),
            fetched: Mutex::new(HashMap::new()),
        }
    }
}

/// Keys per `IN (…)` list when fetching ahead, like the DataLoader's batches
/// (far below PostgreSQL's 65,535 bound parameters).
const KEYS_PER_STATEMENT: usize = 1000;

/// One relation of a request: rows fetched ahead for a whole page (see
/// `graphql::prefetch`), else a DataLoader that batches the keys its
/// sibling fields ask for within the batching window.
///
/// The window alone splits a page's keys into several statements whenever
/// the request is descheduled for longer than the window (a busy server):
/// fetching ahead makes a page cost the same statements under any load, and
/// its fields wait for no window at all.
pub struct Relation<E: EntityTrait> {
    loader: DataLoader<RowsBy<E>>,
    fetched: Mutex<HashMap<Uuid, SharedRows<E::Model>>>,
}

/// One key's rows, each behind an `Arc` so that the GraphQL objects made
/// from them share the row instead of copying it.
type SharedRows<M> = Arc<[Arc<M>]>;

/// The rows a [`Relation::fetch_ahead`] call covers, shared with the
/// relation's store rather than copied: the next level only reads the ids
/// they point to.
pub struct FetchedRows<M>(Vec<SharedRows<M>>);

impl<M> FetchedRows<M> {
    /// Every row, in key order, each key's rows in the relation's order.
    pub fn iter(&self) -> impl Iterator<Item = &M> + Clone {
        self.0.iter().flat_map(|rows| rows.iter().map(|row| &**row))
    }
}

impl<E> Relation<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Send + Sync + 'static,
    E::Column: Send + Sync,
{
    /// The rows of `key`: fetched ahead, or loaded in the next batch.
    ///
    /// # Errors
    /// Database failures.
    pub async fn load_one(
        &self,
        key: Uuid,
    ) -> Result<Option<Vec<Arc<E::Model>>>, async_graphql::Error> {
        if let Some(rows) = self.fetched_rows(key) {
            return Ok(Some(rows));
        }
        // Boxed: the DataLoader's future is large, and every field of an
        // object that loads a relation would otherwise carry its size.
        Box::pin(self.loader.load_one(key)).await
    }

    /// Fetches the rows of every key not fetched yet (one statement per
    /// [`KEYS_PER_STATEMENT`] keys) and keeps them (an empty list for keys
    /// without rows) for [`Self::load_one`]. Returns the rows of all `keys`,
    /// to fetch the next level ahead.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fetch_ahead(
        &self,
        keys: impl IntoIterator<Item = Uuid>,
    ) -> Result<FetchedRows<E::Model>, async_graphql::Error> {
        let keys: BTreeSet<Uuid> = keys.into_iter().collect();
        let missing: Vec<Uuid> = {
            let fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
            keys.iter()
                .filter(|key| !fetched.contains_key(key))
                .copied()
                .collect()
        };
        for chunk in missing.chunks(KEYS_PER_STATEMENT) {
            let mut found = self.loader.loader().load(chunk).await?;
            let mut fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
            for key in chunk {
                fetched.insert(*key, found.remove(key).unwrap_or_default().into());
            }
        }
        let fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(FetchedRows(
            keys.iter()
                .filter_map(|key| fetched.get(key))
                .map(Arc::clone)
                .collect(),
        ))
    }

    fn fetched_rows(&self, key: Uuid) -> Option<Vec<Arc<E::Model>>> {
        self.fetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .map(|rows| rows.to_vec())
    }
}

impl<E> Loader<Uuid> for RowsBy<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Value = Vec<Arc<E::Model>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(self.column.is_in(keys.iter().copied()))
            .order_by_asc(self.order_by)
            .all(&self.db)
            .await
            .map_err(AppError::from)?;
        let mut grouped: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            if let Some(key) = (self.key)(&row) {
                grouped.entry(key).or_default().push(Arc::new(row));
            }
        }
        Ok(grouped)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Patients by id.
    pub patients: Relation<patients::Entity>,
    /// Staff by id.
    pub users: Relation<users::Entity>,
    /// Medical histories by patient.
    pub medical_histories: Relation<medical_histories::Entity>,
    /// Contact-consent records by patient, oldest first.
    pub contact_consents: Relation<contact_consents::Entity>,
    /// Consultations by patient, by start time.
    pub consultations_by_patient: Relation<consultations::Entity>,
    /// Screenings by consultation.
    pub screenings_by_consultation: Relation<screenings::Entity>,
    /// Screenings by patient, oldest first.
    pub screenings_by_patient: Relation<screenings::Entity>,
    /// Treatment plans by patient, oldest first.
    pub plans_by_patient: Relation<treatment_plans::Entity>,
    /// Signed informed consents by patient, oldest first.
    pub informed_consents: Relation<informed_consents::Entity>,
    /// Procedures by patient, by start time.
    pub procedures_by_patient: Relation<procedures::Entity>,
    /// Procedures by id.
    pub procedures: Relation<procedures::Entity>,
    /// Device sessions by procedure, in charting order.
    pub sessions_by_procedure: Relation<device_sessions::Entity>,
    /// Devices by id.
    pub devices: Relation<devices::Entity>,
    /// Cartridges by id.
    pub cartridges: Relation<cartridges::Entity>,
    /// Amendments by procedure, oldest first.
    pub amendments_by_procedure: Relation<procedure_amendments::Entity>,
    /// Follow-ups by patient, by due time.
    pub follow_ups_by_patient: Relation<follow_ups::Entity>,
    /// Follow-ups by procedure, by due time.
    pub follow_ups_by_procedure: Relation<follow_ups::Entity>,
    db: DatabaseConnection,
    policy: tokio::sync::OnceCell<ClinicPolicy>,
    fetches_ahead: bool,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, window: Duration) -> Self {
        Self::build(db, window, true)
    }

    /// Loaders shared by every operation of one WebSocket connection: they
    /// never fetch ahead, since rows kept for one operation would be stale
    /// for the next.
    pub fn for_connection(db: &DatabaseConnection, window: Duration) -> Self {
        Self::build(db, window, false)
    }

    /// Whether list resolvers may fetch relations ahead into these loaders.
    pub fn fetches_ahead(&self) -> bool {
        self.fetches_ahead
    }

    fn build(db: &DatabaseConnection, window: Duration, fetches_ahead: bool) -> Self {
        Self {
            db: db.clone(),
            policy: tokio::sync::OnceCell::new(),
            fetches_ahead,
            follow_ups_by_patient: RowsBy::relation(
                db,
                window,
                follow_ups::Column::PatientId,
                follow_ups::Column::DueAtS,
                |row: &follow_ups::Model| Some(row.patient_id),
            ),
            follow_ups_by_procedure: RowsBy::relation(
                db,
                window,
                follow_ups::Column::ProcedureId,
                follow_ups::Column::DueAtS,
                |row: &follow_ups::Model| Some(row.procedure_id),
            ),
            procedures_by_patient: RowsBy::relation(
                db,
                window,
                procedures::Column::PatientId,
                procedures::Column::StartsAtS,
                |row: &procedures::Model| Some(row.patient_id),
            ),
            procedures: RowsBy::relation(
                db,
                window,
                procedures::Column::Id,
                procedures::Column::Id,
                |row: &procedures::Model| Some(row.id),
            ),
            sessions_by_procedure: RowsBy::relation(
                db,
                window,
                device_sessions::Column::ProcedureId,
                device_sessions::Column::Id,
                |row: &device_sessions::Model| Some(row.procedure_id),
            ),
            devices: RowsBy::relation(
                db,
                window,
                devices::Column::Id,
                devices::Column::Id,
                |row: &devices::Model| Some(row.id),
            ),
            cartridges: RowsBy::relation(
                db,
                window,
                cartridges::Column::Id,
                cartridges::Column::Id,
                |row: &cartridges::Model| Some(row.id),
            ),
            amendments_by_procedure: RowsBy::relation(
                db,
                window,
                procedure_amendments::Column::ProcedureId,
                procedure_amendments::Column::Id,
                |row: &procedure_amendments::Model| Some(row.procedure_id),
            ),
            patients: RowsBy::relation(
                db,
                window,
                patients::Column::Id,
                patients::Column::Id,
                |row: &patients::Model| Some(row.id),
            ),
            users: RowsBy::relation(
                db,
                window,
                users::Column::Id,
                users::Column::Id,
                |row: &users::Model| Some(row.id),
            ),
            medical_histories: RowsBy::relation(
                db,
                window,
                medical_histories::Column::PatientId,
                medical_histories::Column::PatientId,
                |row: &medical_histories::Model| Some(row.patient_id),
            ),
            contact_consents: RowsBy::relation(
                db,
                window,
                contact_consents::Column::PatientId,
                contact_consents::Column::Id,
                |row: &contact_consents::Model| Some(row.patient_id),
            ),
            consultations_by_patient: RowsBy::relation(
                db,
                window,
                consultations::Column::PatientId,
                consultations::Column::StartsAtS,
                |row: &consultations::Model| Some(row.patient_id),
            ),
            screenings_by_consultation: RowsBy::relation(
                db,
                window,
                screenings::Column::ConsultationId,
                screenings::Column::Id,
                |row: &screenings::Model| row.consultation_id,
            ),
            screenings_by_patient: RowsBy::relation(
                db,
                window,
                screenings::Column::PatientId,
                screenings::Column::Id,
                |row: &screenings::Model| Some(row.patient_id),
            ),
            plans_by_patient: RowsBy::relation(
                db,
                window,
                treatment_plans::Column::PatientId,
                treatment_plans::Column::Id,
                |row: &treatment_plans::Model| Some(row.patient_id),
            ),
            informed_consents: RowsBy::relation(
                db,
                window,
                informed_consents::Column::PatientId,
                informed_consents::Column::Id,
                |row: &informed_consents::Model| Some(row.patient_id),
            ),
        }
    }
}

impl Loaders {
    /// The clinic policy, read once per request however many fields need it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn policy(&self) -> AppResult<&ClinicPolicy> {
        // Boxed, like `Relation::load_one`'s batch: the query's future is
        // large and only the first caller awaits it.
        self.policy
            .get_or_try_init(|| Box::pin(current_policy(&self.db)))
            .await
    }
}
