//! Fetching a page's relations ahead, level by level, from what the query
//! selects: a list resolver that has its rows calls one of these, and the
//! nested fields then read their rows from the request's [`Loaders`]
//! without a statement or a batching window of their own.
//!
//! This is what keeps the headline query (`patients(first: 50)` with
//! consultations, procedures, device sessions, devices, cartridges and
//! follow-ups) at one statement per relation under any load; DataLoader
//! batching alone split it into dozens when the server was busy. Fields the
//! caller may not see are still guarded by their resolvers: fetching ahead
//! only decides when rows are read, never who sees them.

use async_graphql::{Context, Lookahead};
use sea_orm::prelude::Uuid;

use crate::{
    entities::{consultations, device_sessions, follow_ups, procedures},
    graphql::{loaders::Loaders, rows::Row},
};

/// Fetches ahead what `node` (a selection on `Patient`) asks for, for the
/// patients `ids`.
///
/// # Errors
/// Database failures.
pub async fn patients(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    if !loaders.fetches_ahead() {
        return Ok(());
    }
    let ids = || ids.iter().copied();
    let selection = node.field("consultations");
    if selection.exists() {
        let rows = loaders
            .consultations_by_patient
            .fetch_ahead_for(ids(), &selection)
            .await?;
        Box::pin(consultations(
            loaders,
            &selection,
            rows.iter().map(Row::core),
        ))
        .await?;
    }
    let selection = node.field("procedures");
    if selection.exists() {
        let rows = loaders
            .procedures_by_patient
            .fetch_ahead_for(ids(), &selection)
            .await?;
        Box::pin(procedures(loaders, &selection, rows.iter().map(Row::core))).await?;
    }
    let selection = node.field("followUps");
    if selection.exists() {
        let rows = loaders
            .follow_ups_by_patient
            .fetch_ahead_for(ids(), &selection)
            .await?;
        Box::pin(follow_ups(loaders, &selection, rows.iter().map(Row::core))).await?;
    }
    if node.field("medicalHistory").exists() {
        loaders.medical_histories.fetch_ahead(ids()).await?;
    }
    if [
        "contactConsent",
        "contactableChannels",
        "contactConsentHistory",
    ]
    .into_iter()
    .any(|field| node.field(field).exists())
    {
        loaders.contact_consents.fetch_ahead(ids()).await?;
    }
    if node.field("treatmentPlan").exists() {
        loaders.plans_by_patient.fetch_ahead(ids()).await?;
    }
    if node.field("latestScreening").exists() {
        loaders.screenings_by_patient.fetch_ahead(ids()).await?;
    }
    if node.field("informedConsents").exists() {
        loaders.informed_consents.fetch_ahead(ids()).await?;
    }
    Ok(())
}

/// Fetches ahead what `node` (a selection on `Consultation`) asks for.
///
/// # Errors
/// Database failures.
pub async fn consultations<'r>(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    rows: impl Iterator<Item = &'r consultations::Core> + Clone,
) -> async_graphql::Result<()> {
    if !loaders.fetches_ahead() {
        return Ok(());
    }
    if node.field("provider").exists() {
        loaders
            .users
            .fetch_ahead(rows.clone().map(|row| row.provider_id))
            .await?;
    }
    if node.field("screening").exists() {
        loaders
            .screenings_by_consultation
            .fetch_ahead(rows.clone().map(|row| row.id))
            .await?;
    }
    patient_of(loaders, node, rows.map(|row| row.patient_id)).await?;
    Ok(())
}

/// Fetches ahead the `patient` of each row when `node` selects it, and
/// what that selection asks for in turn.
async fn patient_of(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    patient_ids: impl Iterator<Item = Uuid>,
) -> async_graphql::Result<()> {
    let selection = node.field("patient");
    if !selection.exists() {
        return Ok(());
    }
    let ids: Vec<Uuid> = patient_ids.collect();
    loaders.patients.fetch_ahead(ids.iter().copied()).await?;
    Box::pin(patients(loaders, &selection, &ids)).await
}

/// Fetches ahead what `node` (a selection on `Procedure`) asks for.
///
/// # Errors
/// Database failures.
pub async fn procedures<'r>(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    rows: impl Iterator<Item = &'r procedures::Core> + Clone,
) -> async_graphql::Result<()> {
    if !loaders.fetches_ahead() {
        return Ok(());
    }
    if node.field("provider").exists() {
        loaders
            .users
            .fetch_ahead(rows.clone().map(|row| row.provider_id))
            .await?;
    }
    let selection = node.field("deviceSessions");
    if selection.exists() {
        let sessions = loaders
            .sessions_by_procedure
            .fetch_ahead_for(rows.clone().map(|row| row.id), &selection)
            .await?;
        device_sessions(loaders, &selection, sessions.iter().map(Row::core)).await?;
    }
    let selection = node.field("followUps");
    if selection.exists() {
        loaders
            .follow_ups_by_procedure
            .fetch_ahead_for(rows.clone().map(|row| row.id), &selection)
            .await?;
    }
    patient_of(loaders, node, rows.map(|row| row.patient_id)).await?;
    Ok(())
}

/// Fetches ahead what `node` (a selection on `DeviceSession`) asks for.
///
/// # Errors
/// Database failures.
pub async fn device_sessions<'r>(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    rows: impl Iterator<Item = &'r device_sessions::Core> + Clone,
) -> async_graphql::Result<()> {
    if !loaders.fetches_ahead() {
        return Ok(());
    }
    if node.field("device").exists() {
        loaders
            .devices
            .fetch_ahead(rows.clone().map(|row| row.device_id))
            .await?;
    }
    let selection = node.field("cartridge");
    if selection.exists() {
        loaders
            .cartridges
            .fetch_ahead_for(rows.map(|row| row.cartridge_id), &selection)
            .await?;
    }
    Ok(())
}

/// Fetches ahead what `node` (a selection on `FollowUp`) asks for.
///
/// # Errors
/// Database failures.
pub async fn follow_ups<'r>(
    loaders: &Loaders,
    node: &Lookahead<'_>,
    rows: impl Iterator<Item = &'r follow_ups::Core> + Clone,
) -> async_graphql::Result<()> {
    if !loaders.fetches_ahead() {
        return Ok(());
    }
    patient_of(loaders, node, rows.clone().map(|row| row.patient_id)).await?;
    let selection = node.field("procedure");
    if selection.exists() {
        let procedure_rows = loaders
            .procedures
            .fetch_ahead_for(rows.map(|row| row.procedure_id), &selection)
            .await?;
        Box::pin(procedures(
            loaders,
            &selection,
            procedure_rows.iter().map(Row::core),
        ))
        .await?;
    }
    Ok(())
}

/// The selection on the nodes of the connection being resolved
/// (`edges { node { … } }`).
pub fn connection_nodes<'a>(ctx: &'a Context<'_>) -> Lookahead<'a> {
    ctx.look_ahead().field("edges").field("node")
}
