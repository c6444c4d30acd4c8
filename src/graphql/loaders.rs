//! Per-request DataLoaders: every relation field batches its lookups so the
//! number of SQL statements does not grow with the page size. They are made
//! anew for each request, so cached rows never cross users.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_graphql::{
    Lookahead,
    dataloader::{DataLoader, Loader},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, ModelTrait,
    QueryFilter, QueryOrder, Select,
    prelude::{Expr, Uuid},
    sea_query::{ExprTrait, extension::postgres::PgFunc},
};

use crate::{
    domain::policy::ClinicPolicy,
    entities::{
        cartridges, consultations, contact_consents, device_sessions, devices, follow_ups,
        informed_consents, medical_histories, patients, procedure_amendments, procedures,
        screenings, treatment_plans, users,
    },
    error::{AppError, AppResult},
    graphql::rows::{CoreColumns, Row},
    services::policy::current_policy,
};

/// A row as a relation keeps it: the whole row behind an `Arc`, or a
/// [`Row`] of an entity whose lists can be fetched with their core columns.
pub trait RelationRow: Clone + Send + Sync + 'static {
    /// The table.
    type Entity: EntityTrait<Model: Send + Sync> + Sync;

    /// A whole row as kept.
    fn whole(row: <Self::Entity as EntityTrait>::Model) -> Self;

    /// The rows `select` picks with the columns lists read: the core
    /// columns for an entity that has a core, else (this default) whole rows.
    fn fetch_lean(
        select: Select<Self::Entity>,
        db: &DatabaseConnection,
    ) -> impl Future<Output = Result<Vec<Self>, DbErr>> + Send {
        async move { Ok(select.all(db).await?.into_iter().map(Self::whole).collect()) }
    }

    /// Whether this is the whole row.
    fn is_whole(&self) -> bool {
        true
    }
}

impl<M> RelationRow for Arc<M>
where
    M: ModelTrait + FromQueryResult + Send + Sync + 'static,
    M::Entity: EntityTrait<Model = M> + Sync,
{
    type Entity = M::Entity;

    fn whole(row: M) -> Self {
        Arc::new(row)
    }
}

impl<E: CoreColumns + 'static> RelationRow for Row<E> {
    type Entity = E;

    fn whole(row: E::Model) -> Self {
        Row::from_whole(Arc::new(row))
    }

    async fn fetch_lean(select: Select<E>, db: &DatabaseConnection) -> Result<Vec<Self>, DbErr> {
        Ok(select
            .into_partial_model::<E::Core>()
            .all(db)
            .await?
            .into_iter()
            .map(Row::from_core)
            .collect())
    }

    fn is_whole(&self) -> bool {
        Row::is_whole(self)
    }
}

/// Which columns a relation's rows are fetched with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Columns {
    /// Every column.
    Whole,
    /// The entity's core columns ([`CoreColumns`]).
    Core,
}

/// Whole rows of `E`, shared.
pub type Whole<E> = Arc<<E as EntityTrait>::Model>;

/// Rows of one table grouped by a UUID column, in the order of `order_by`:
/// one `SELECT … WHERE column IN (…)` per batch.
pub struct RowsBy<T: RelationRow> {
    db: DatabaseConnection,
    column: <T::Entity as EntityTrait>::Column,
    order_by: <T::Entity as EntityTrait>::Column,
    key: fn(&T) -> Option<Uuid>,
}

impl<T: RelationRow> RowsBy<T> {
    fn relation(
        db: &DatabaseConnection,
        window: Duration,
        column: <T::Entity as EntityTrait>::Column,
        order_by: <T::Entity as EntityTrait>::Column,
        key: fn(&T) -> Option<Uuid>,
    ) -> Relation<T>
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

    fn select(&self, keys: &[Uuid]) -> Select<T::Entity> {
        let keys_match = if self.db.get_database_backend() == DbBackend::Postgres {
            // One array parameter, so the statement's text and plan are the
            // same for any number of keys: PostgreSQL reuses its plan
            // instead of planning every page again, and the keys travel as
            // one value. SQLite has no arrays.
            self.column
                .into_expr()
                .eq(PgFunc::any(Expr::val(keys.to_vec())))
        } else {
            self.column.is_in(keys.iter().copied())
        };
        T::Entity::find()
            .filter(keys_match)
            .order_by_asc(self.order_by)
    }

    fn group(&self, rows: Vec<T>) -> HashMap<Uuid, Vec<T>> {
        let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
        for row in rows {
            if let Some(key) = (self.key)(&row) {
                grouped.entry(key).or_default().push(row);
            }
        }
        grouped
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
pub struct Relation<T: RelationRow> {
    loader: DataLoader<RowsBy<T>>,
    fetched: Mutex<HashMap<Uuid, Arc<[T]>>>,
}

/// The rows a [`Relation::fetch_ahead`] call covers, shared with the
/// relation's store rather than copied: the next level only reads the ids
/// they point to.
pub struct FetchedRows<T>(Vec<Arc<[T]>>);

impl<T> FetchedRows<T> {
    /// Every row, in key order, each key's rows in the relation's order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        self.0.iter().flat_map(|rows| rows.iter())
    }
}

impl<T: RelationRow> Relation<T>
where
    RowsBy<T>: Loader<Uuid, Value = Vec<T>, Error = async_graphql::Error>,
{
    /// The rows of `key`: fetched ahead, or loaded in the next batch.
    ///
    /// # Errors
    /// Database failures.
    pub async fn load_one(&self, key: Uuid) -> Result<Option<Vec<T>>, async_graphql::Error> {
        if let Some(rows) = self.fetched_rows(key) {
            return Ok(Some(rows));
        }
        // Boxed: the DataLoader's future is large, and every field of an
        // object that loads a relation would otherwise carry its size.
        Box::pin(self.loader.load_one(key)).await
    }

    /// Fetches the whole rows of every key not fetched whole yet (one
    /// statement per [`KEYS_PER_STATEMENT`] keys) and keeps them (an empty
    /// list for keys without rows) for [`Self::load_one`]. Returns the rows
    /// of all `keys`, to fetch the next level ahead.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fetch_ahead(
        &self,
        keys: impl IntoIterator<Item = Uuid>,
    ) -> Result<FetchedRows<T>, async_graphql::Error> {
        self.fetch_ahead_with(keys, Columns::Whole).await
    }

    async fn fetch_ahead_with(
        &self,
        keys: impl IntoIterator<Item = Uuid>,
        columns: Columns,
    ) -> Result<FetchedRows<T>, async_graphql::Error> {
        let whole = columns == Columns::Whole;
        let keys: BTreeSet<Uuid> = keys.into_iter().collect();
        let missing: Vec<Uuid> = {
            let fetched = self.fetched.lock().unwrap_or_else(PoisonError::into_inner);
            keys.iter()
                .filter(|key| {
                    fetched
                        .get(key)
                        .is_none_or(|rows| whole && !rows.iter().all(RelationRow::is_whole))
                })
                .copied()
                .collect()
        };
        let rows_by = self.loader.loader();
        for chunk in missing.chunks(KEYS_PER_STATEMENT) {
            let select = rows_by.select(chunk);
            let rows = if whole {
                select
                    .all(&rows_by.db)
                    .await
                    .map(|rows| rows.into_iter().map(T::whole).collect())
            } else {
                T::fetch_lean(select, &rows_by.db).await
            }
            .map_err(AppError::from)?;
            let mut found = rows_by.group(rows);
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

    fn fetched_rows(&self, key: Uuid) -> Option<Vec<T>> {
        self.fetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .map(|rows| rows.to_vec())
    }
}

impl<E: CoreColumns + 'static> Relation<Row<E>> {
    /// Like [`Relation::fetch_ahead`], but with only the core columns when
    /// `selection` (the field whose rows these are) asks for nothing else.
    ///
    /// # Errors
    /// Database failures.
    pub async fn fetch_ahead_for(
        &self,
        keys: impl IntoIterator<Item = Uuid>,
        selection: &Lookahead<'_>,
    ) -> Result<FetchedRows<Row<E>>, async_graphql::Error> {
        let columns = if E::core_suffices(selection) {
            Columns::Core
        } else {
            Columns::Whole
        };
        self.fetch_ahead_with(keys, columns).await
    }

    /// The whole row with this id: fetched ahead whole, or loaded in the
    /// next batch. Only for a relation keyed by id (`Loaders::procedures`,
    /// …): on one keyed by another column it would answer that key's first
    /// row.
    ///
    /// # Errors
    /// Database failures.
    pub async fn load_whole(
        &self,
        id: Uuid,
    ) -> Result<Option<Arc<E::Model>>, async_graphql::Error> {
        let whole = |rows: Vec<Row<E>>| {
            rows.into_iter()
                .next()
                .and_then(|row| row.whole_if_fetched().cloned())
        };
        if let Some(row) = self.fetched_rows(id).and_then(whole) {
            return Ok(Some(row));
        }
        // The DataLoader reads whole rows.
        let rows = Box::pin(self.loader.load_one(id)).await?;
        Ok(rows.and_then(whole))
    }
}

impl<T: RelationRow> Loader<Uuid> for RowsBy<T> {
    type Value = Vec<T>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .select(keys)
            .all(&self.db)
            .await
            .map_err(AppError::from)?;
        Ok(self.group(rows.into_iter().map(T::whole).collect()))
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Patients by id.
    pub patients: Relation<Whole<patients::Entity>>,
    /// Staff by id.
    pub users: Relation<Whole<users::Entity>>,
    /// Medical histories by patient.
    pub medical_histories: Relation<Whole<medical_histories::Entity>>,
    /// Contact-consent records by patient, oldest first.
    pub contact_consents: Relation<Whole<contact_consents::Entity>>,
    /// Consultations by patient, by start time.
    pub consultations_by_patient: Relation<Row<consultations::Entity>>,
    /// Consultations by id.
    pub consultations: Relation<Row<consultations::Entity>>,
    /// Screenings by consultation.
    pub screenings_by_consultation: Relation<Whole<screenings::Entity>>,
    /// Screenings by patient, oldest first.
    pub screenings_by_patient: Relation<Whole<screenings::Entity>>,
    /// Treatment plans by patient, oldest first.
    pub plans_by_patient: Relation<Whole<treatment_plans::Entity>>,
    /// Signed informed consents by patient, oldest first.
    pub informed_consents: Relation<Whole<informed_consents::Entity>>,
    /// Procedures by patient, by start time.
    pub procedures_by_patient: Relation<Row<procedures::Entity>>,
    /// Procedures by id.
    pub procedures: Relation<Row<procedures::Entity>>,
    /// Device sessions by procedure, in charting order.
    pub sessions_by_procedure: Relation<Row<device_sessions::Entity>>,
    /// Device sessions by id.
    pub device_sessions: Relation<Row<device_sessions::Entity>>,
    /// Devices by id.
    pub devices: Relation<Whole<devices::Entity>>,
    /// Cartridges by id.
    pub cartridges: Relation<Row<cartridges::Entity>>,
    /// Amendments by procedure, oldest first.
    pub amendments_by_procedure: Relation<Whole<procedure_amendments::Entity>>,
    /// Follow-ups by patient, by due time.
    pub follow_ups_by_patient: Relation<Row<follow_ups::Entity>>,
    /// Follow-ups by procedure, by due time.
    pub follow_ups_by_procedure: Relation<Row<follow_ups::Entity>>,
    /// Follow-ups by id.
    pub follow_ups: Relation<Row<follow_ups::Entity>>,
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
                |row: &Row<_>| Some(row.core().patient_id),
            ),
            follow_ups_by_procedure: RowsBy::relation(
                db,
                window,
                follow_ups::Column::ProcedureId,
                follow_ups::Column::DueAtS,
                |row: &Row<_>| Some(row.core().procedure_id),
            ),
            follow_ups: RowsBy::relation(
                db,
                window,
                follow_ups::Column::Id,
                follow_ups::Column::Id,
                |row: &Row<_>| Some(row.core().id),
            ),
            procedures_by_patient: RowsBy::relation(
                db,
                window,
                procedures::Column::PatientId,
                procedures::Column::StartsAtS,
                |row: &Row<_>| Some(row.core().patient_id),
            ),
            procedures: RowsBy::relation(
                db,
                window,
                procedures::Column::Id,
                procedures::Column::Id,
                |row: &Row<_>| Some(row.core().id),
            ),
            sessions_by_procedure: RowsBy::relation(
                db,
                window,
                device_sessions::Column::ProcedureId,
                device_sessions::Column::Id,
                |row: &Row<_>| Some(row.core().procedure_id),
            ),
            device_sessions: RowsBy::relation(
                db,
                window,
                device_sessions::Column::Id,
                device_sessions::Column::Id,
                |row: &Row<_>| Some(row.core().id),
            ),
            devices: RowsBy::relation(
                db,
                window,
                devices::Column::Id,
                devices::Column::Id,
                |row: &Whole<devices::Entity>| Some(row.id),
            ),
            cartridges: RowsBy::relation(
                db,
                window,
                cartridges::Column::Id,
                cartridges::Column::Id,
                |row: &Row<_>| Some(row.core().id),
            ),
            amendments_by_procedure: RowsBy::relation(
                db,
                window,
                procedure_amendments::Column::ProcedureId,
                procedure_amendments::Column::Id,
                |row: &Whole<procedure_amendments::Entity>| Some(row.procedure_id),
            ),
            patients: RowsBy::relation(
                db,
                window,
                patients::Column::Id,
                patients::Column::Id,
                |row: &Whole<patients::Entity>| Some(row.id),
            ),
            users: RowsBy::relation(
                db,
                window,
                users::Column::Id,
                users::Column::Id,
                |row: &Whole<users::Entity>| Some(row.id),
            ),
            medical_histories: RowsBy::relation(
                db,
                window,
                medical_histories::Column::PatientId,
                medical_histories::Column::PatientId,
                |row: &Whole<medical_histories::Entity>| Some(row.patient_id),
            ),
            contact_consents: RowsBy::relation(
                db,
                window,
                contact_consents::Column::PatientId,
                contact_consents::Column::Id,
                |row: &Whole<contact_consents::Entity>| Some(row.patient_id),
            ),
            consultations_by_patient: RowsBy::relation(
                db,
                window,
                consultations::Column::PatientId,
                consultations::Column::StartsAtS,
                |row: &Row<_>| Some(row.core().patient_id),
            ),
            consultations: RowsBy::relation(
                db,
                window,
                consultations::Column::Id,
                consultations::Column::Id,
                |row: &Row<_>| Some(row.core().id),
            ),
            screenings_by_consultation: RowsBy::relation(
                db,
                window,
                screenings::Column::ConsultationId,
                screenings::Column::Id,
                |row: &Whole<screenings::Entity>| row.consultation_id,
            ),
            screenings_by_patient: RowsBy::relation(
                db,
                window,
                screenings::Column::PatientId,
                screenings::Column::Id,
                |row: &Whole<screenings::Entity>| Some(row.patient_id),
            ),
            plans_by_patient: RowsBy::relation(
                db,
                window,
                treatment_plans::Column::PatientId,
                treatment_plans::Column::Id,
                |row: &Whole<treatment_plans::Entity>| Some(row.patient_id),
            ),
            informed_consents: RowsBy::relation(
                db,
                window,
                informed_consents::Column::PatientId,
                informed_consents::Column::Id,
                |row: &Whole<informed_consents::Entity>| Some(row.patient_id),
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
