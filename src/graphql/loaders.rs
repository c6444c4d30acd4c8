//! Per-request DataLoaders: every relation field batches its lookups so the
//! number of SQL statements does not grow with the page size. They are made
//! anew for each request, so cached rows never cross users.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, prelude::Uuid,
};

use crate::{
    entities::{contact_consents, medical_histories, patients},
    error::AppError,
};

/// Medical histories by patient id.
pub struct MedicalHistoryLoader(DatabaseConnection);

impl Loader<Uuid> for MedicalHistoryLoader {
    type Value = medical_histories::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = medical_histories::Entity::find()
            .filter(medical_histories::Column::PatientId.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(|row| (row.patient_id, row)).collect())
    }
}

/// Contact-consent histories by patient id, oldest first.
pub struct ContactConsentLoader(DatabaseConnection);

impl Loader<Uuid> for ContactConsentLoader {
    type Value = Vec<contact_consents::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = contact_consents::Entity::find()
            .filter(contact_consents::Column::PatientId.is_in(keys.iter().copied()))
            .order_by_asc(contact_consents::Column::Id)
            .all(&self.0)
            .await
            .map_err(AppError::from)?;
        let mut by_patient: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            by_patient.entry(row.patient_id).or_default().push(row);
        }
        Ok(by_patient)
    }
}

/// Patients by id.
pub struct PatientLoader(DatabaseConnection);

impl Loader<Uuid> for PatientLoader {
    type Value = patients::Model;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = patients::Entity::find()
            .filter(patients::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(AppError::from)?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Patients.
    pub patients: DataLoader<PatientLoader>,
    /// Medical histories.
    pub medical_histories: DataLoader<MedicalHistoryLoader>,
    /// Contact consents.
    pub contact_consents: DataLoader<ContactConsentLoader>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            patients: DataLoader::new(PatientLoader(db.clone()), tokio::spawn),
            medical_histories: DataLoader::new(MedicalHistoryLoader(db.clone()), tokio::spawn),
            contact_consents: DataLoader::new(ContactConsentLoader(db.clone()), tokio::spawn),
        }
    }
}
