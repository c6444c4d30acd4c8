//! Per-request DataLoaders: every relation field batches its lookups so the
//! number of SQL statements does not grow with the page size. They are made
//! anew for each request, so cached rows never cross users.

use std::{collections::HashMap, time::Duration};

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
    fn new(
        db: &DatabaseConnection,
        window: Duration,
        column: E::Column,
        order_by: E::Column,
        key: fn(&E::Model) -> Option<Uuid>,
    ) -> DataLoader<Self>
    where
        Self: Loader<Uuid>,
    {
        DataLoader::new(
            Self {
                db: db.clone(),
                column,
                order_by,
                key,
            },
            tokio::spawn,
        )
        .delay(window)
    }
}

impl<E> Loader<Uuid> for RowsBy<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
    E::Column: Send + Sync,
{
    type Value = Vec<E::Model>;
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
                grouped.entry(key).or_default().push(row);
            }
        }
        Ok(grouped)
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Patients by id.
    pub patients: DataLoader<RowsBy<patients::Entity>>,
    /// Staff by id.
    pub users: DataLoader<RowsBy<users::Entity>>,
    /// Medical histories by patient.
    pub medical_histories: DataLoader<RowsBy<medical_histories::Entity>>,
    /// Contact-consent records by patient, oldest first.
    pub contact_consents: DataLoader<RowsBy<contact_consents::Entity>>,
    /// Consultations by patient, by start time.
    pub consultations_by_patient: DataLoader<RowsBy<consultations::Entity>>,
    /// Screenings by consultation.
    pub screenings_by_consultation: DataLoader<RowsBy<screenings::Entity>>,
    /// Screenings by patient, oldest first.
    pub screenings_by_patient: DataLoader<RowsBy<screenings::Entity>>,
    /// Treatment plans by patient, oldest first.
    pub plans_by_patient: DataLoader<RowsBy<treatment_plans::Entity>>,
    /// Signed informed consents by patient, oldest first.
    pub informed_consents: DataLoader<RowsBy<informed_consents::Entity>>,
    /// Procedures by patient, by start time.
    pub procedures_by_patient: DataLoader<RowsBy<procedures::Entity>>,
    /// Procedures by id.
    pub procedures: DataLoader<RowsBy<procedures::Entity>>,
    /// Device sessions by procedure, in charting order.
    pub sessions_by_procedure: DataLoader<RowsBy<device_sessions::Entity>>,
    /// Devices by id.
    pub devices: DataLoader<RowsBy<devices::Entity>>,
    /// Cartridges by id.
    pub cartridges: DataLoader<RowsBy<cartridges::Entity>>,
    /// Amendments by procedure, oldest first.
    pub amendments_by_procedure: DataLoader<RowsBy<procedure_amendments::Entity>>,
    /// Follow-ups by patient, by due time.
    pub follow_ups_by_patient: DataLoader<RowsBy<follow_ups::Entity>>,
    /// Follow-ups by procedure, by due time.
    pub follow_ups_by_procedure: DataLoader<RowsBy<follow_ups::Entity>>,
    db: DatabaseConnection,
    policy: tokio::sync::OnceCell<ClinicPolicy>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection, window: Duration) -> Self {
        Self {
            db: db.clone(),
            policy: tokio::sync::OnceCell::new(),
            follow_ups_by_patient: RowsBy::new(
                db,
                window,
                follow_ups::Column::PatientId,
                follow_ups::Column::DueAtS,
                |row: &follow_ups::Model| Some(row.patient_id),
            ),
            follow_ups_by_procedure: RowsBy::new(
                db,
                window,
                follow_ups::Column::ProcedureId,
                follow_ups::Column::DueAtS,
                |row: &follow_ups::Model| Some(row.procedure_id),
            ),
            procedures_by_patient: RowsBy::new(
                db,
                window,
                procedures::Column::PatientId,
                procedures::Column::StartsAtS,
                |row: &procedures::Model| Some(row.patient_id),
            ),
            procedures: RowsBy::new(
                db,
                window,
                procedures::Column::Id,
                procedures::Column::Id,
                |row: &procedures::Model| Some(row.id),
            ),
            sessions_by_procedure: RowsBy::new(
                db,
                window,
                device_sessions::Column::ProcedureId,
                device_sessions::Column::Id,
                |row: &device_sessions::Model| Some(row.procedure_id),
            ),
            devices: RowsBy::new(
                db,
                window,
                devices::Column::Id,
                devices::Column::Id,
                |row: &devices::Model| Some(row.id),
            ),
            cartridges: RowsBy::new(
                db,
                window,
                cartridges::Column::Id,
                cartridges::Column::Id,
                |row: &cartridges::Model| Some(row.id),
            ),
            amendments_by_procedure: RowsBy::new(
                db,
                window,
                procedure_amendments::Column::ProcedureId,
                procedure_amendments::Column::Id,
                |row: &procedure_amendments::Model| Some(row.procedure_id),
            ),
            patients: RowsBy::new(
                db,
                window,
                patients::Column::Id,
                patients::Column::Id,
                |row: &patients::Model| Some(row.id),
            ),
            users: RowsBy::new(
                db,
                window,
                users::Column::Id,
                users::Column::Id,
                |row: &users::Model| Some(row.id),
            ),
            medical_histories: RowsBy::new(
                db,
                window,
                medical_histories::Column::PatientId,
                medical_histories::Column::PatientId,
                |row: &medical_histories::Model| Some(row.patient_id),
            ),
            contact_consents: RowsBy::new(
                db,
                window,
                contact_consents::Column::PatientId,
                contact_consents::Column::Id,
                |row: &contact_consents::Model| Some(row.patient_id),
            ),
            consultations_by_patient: RowsBy::new(
                db,
                window,
                consultations::Column::PatientId,
                consultations::Column::StartsAtS,
                |row: &consultations::Model| Some(row.patient_id),
            ),
            screenings_by_consultation: RowsBy::new(
                db,
                window,
                screenings::Column::ConsultationId,
                screenings::Column::Id,
                |row: &screenings::Model| row.consultation_id,
            ),
            screenings_by_patient: RowsBy::new(
                db,
                window,
                screenings::Column::PatientId,
                screenings::Column::Id,
                |row: &screenings::Model| Some(row.patient_id),
            ),
            plans_by_patient: RowsBy::new(
                db,
                window,
                treatment_plans::Column::PatientId,
                treatment_plans::Column::Id,
                |row: &treatment_plans::Model| Some(row.patient_id),
            ),
            informed_consents: RowsBy::new(
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
        self.policy
            .get_or_try_init(|| current_policy(&self.db))
            .await
    }
}
