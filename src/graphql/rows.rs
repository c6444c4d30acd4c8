//! Rows as GraphQL objects hold them: the columns lists read (the entity's
//! `Core`), and the whole row once a field needs more.
//!
//! A nested list fetched ahead for a page reads only its entities' core
//! columns when the query asks for nothing else (the headline's follow-ups
//! read 7 of their 22 columns), so less is sent, decoded and kept. Fields
//! that need other columns read [`Row::whole`]: the whole row fetched with
//! the list when the look-ahead showed such a field, else loaded by id in
//! one batch for all the rows that need it. A field's resolver can only
//! read what its row holds, so a list fetched lean can never answer with a
//! column it did not fetch.

use std::sync::Arc;

use async_graphql::{Context, Lookahead};
use sea_orm::{EntityTrait, FromQueryResult, PartialModelTrait, prelude::Uuid};
use tokio::sync::OnceCell;

use crate::{
    entities::{cartridges, consultations, device_sessions, follow_ups, procedures},
    error::AppError,
    graphql::loaders::{Loaders, Relation},
};

/// An entity whose lists can be fetched with their core columns alone.
pub trait CoreColumns: EntityTrait<Model: Send + Sync> + Send + Sync {
    /// The columns lists read.
    type Core: PartialModelTrait
        + FromQueryResult
        + for<'row> From<&'row Self::Model>
        + PartialEq
        + Send
        + Sync
        + 'static;

    /// The fields of the entity's GraphQL object that read only the core.
    /// A hint for fetching ahead, not a permission: a field left out only
    /// makes its lists fetch whole rows, and a field listed wrongly still
    /// answers right, from the whole row loaded for it.
    const CORE_FIELDS: &'static [&'static str];

    /// The row's id.
    fn id(core: &Self::Core) -> Uuid;

    /// The request's relation of these rows by id, to load whole rows.
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>>;

    /// Whether `selection` (a list or object field of this entity's type)
    /// asks only for core fields.
    fn core_suffices(selection: &Lookahead<'_>) -> bool {
        selection.selection_fields().iter().all(|field| {
            field.selection_set().all(|child| {
                child.name() == "__typename" || Self::CORE_FIELDS.contains(&child.name())
            })
        })
    }
}

/// One row: its core columns, and the whole row when it was fetched whole
/// or once a field has loaded it. Clones share both, so the whole row is
/// loaded once for all the objects that hold the row.
pub struct Row<E: CoreColumns> {
    held: Arc<Held<E>>,
}

struct Held<E: CoreColumns> {
    core: E::Core,
    whole: OnceCell<Arc<E::Model>>,
}

impl<E: CoreColumns> Clone for Row<E> {
    fn clone(&self) -> Self {
        Self {
            held: Arc::clone(&self.held),
        }
    }
}

impl<E: CoreColumns> Row<E> {
    /// A row fetched with its core columns only.
    pub fn from_core(core: E::Core) -> Self {
        Self {
            held: Arc::new(Held {
                core,
                whole: OnceCell::new(),
            }),
        }
    }

    /// A whole row.
    pub fn from_whole(row: Arc<E::Model>) -> Self {
        Self {
            held: Arc::new(Held {
                core: E::Core::from(&row),
                whole: OnceCell::new_with(Some(row)),
            }),
        }
    }

    /// The core columns.
    pub fn core(&self) -> &E::Core {
        &self.held.core
    }

    /// Whether the whole row is here.
    pub fn is_whole(&self) -> bool {
        self.held.whole.initialized()
    }

    /// The whole row, if it is here.
    pub fn whole_if_fetched(&self) -> Option<&Arc<E::Model>> {
        self.held.whole.get()
    }

    /// The whole row, loaded by id (batched with the other rows that need
    /// it) if it was fetched lean.
    ///
    /// # Errors
    /// Database failures; `CONFLICT` if the row changed between the two
    /// reads (an object answers from one version of its row, so a client
    /// never pairs one version's `status` with another's `version`);
    /// `INTERNAL` if the row is gone (rows are never deleted).
    pub async fn whole(&self, ctx: &Context<'_>) -> async_graphql::Result<&E::Model> {
        let row = self
            .held
            .whole
            .get_or_try_init(|| Box::pin(self.load_whole(ctx)))
            .await?;
        Ok(row)
    }

    async fn load_whole(&self, ctx: &Context<'_>) -> async_graphql::Result<Arc<E::Model>> {
        let loaded = E::by_id(ctx.data::<Loaders>()?)
            .load_whole(E::id(self.core()))
            .await?;
        Ok(whole_of_core::<E>(self.core(), loaded)?)
    }
}

/// The whole row loaded for `core`, refused if it is gone (rows are never
/// deleted) or no longer matches the core read before it: the row was
/// changed in between, and the object would mix two versions.
fn whole_of_core<E: CoreColumns>(
    core: &E::Core,
    loaded: Option<Arc<E::Model>>,
) -> Result<Arc<E::Model>, AppError> {
    let table = E::default().table_name();
    let whole = loaded.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "{table} row {} vanished while its fields were read",
            E::id(core)
        ))
    })?;
    if E::Core::from(&whole) == *core {
        Ok(whole)
    } else {
        Err(AppError::Conflict(format!(
            "a {table} row changed while this query read it; send the query again"
        )))
    }
}

impl CoreColumns for follow_ups::Entity {
    type Core = follow_ups::Core;
    const CORE_FIELDS: &'static [&'static str] = &[
        "id",
        "kind",
        "dueAt",
        "overdue",
        "channel",
        "status",
        "procedure",
        "patient",
    ];
    fn id(core: &Self::Core) -> Uuid {
        core.id
    }
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>> {
        &loaders.follow_ups
    }
}

impl CoreColumns for procedures::Entity {
    type Core = procedures::Core;
    const CORE_FIELDS: &'static [&'static str] = &[
        "id",
        "patient",
        "provider",
        "treatmentPlan",
        "startsAt",
        "endsAt",
        "durationMinutes",
        "status",
        "areas",
        "deviceSessions",
        "amendments",
        "aftercare",
        "followUps",
    ];
    fn id(core: &Self::Core) -> Uuid {
        core.id
    }
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>> {
        &loaders.procedures
    }
}

impl CoreColumns for device_sessions::Entity {
    type Core = device_sessions::Core;
    const CORE_FIELDS: &'static [&'static str] = &[
        "id",
        "device",
        "cartridge",
        "area",
        "depthMm",
        "passes",
        "startedAt",
        "endedAt",
    ];
    fn id(core: &Self::Core) -> Uuid {
        core.id
    }
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>> {
        &loaders.device_sessions
    }
}

impl CoreColumns for cartridges::Entity {
    type Core = cartridges::Core;
    const CORE_FIELDS: &'static [&'static str] =
        &["id", "serial", "lotNumber", "expiresOn", "used"];
    fn id(core: &Self::Core) -> Uuid {
        core.id
    }
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>> {
        &loaders.cartridges
    }
}

impl CoreColumns for consultations::Entity {
    type Core = consultations::Core;
    const CORE_FIELDS: &'static [&'static str] = &[
        "id",
        "patient",
        "provider",
        "startsAt",
        "endsAt",
        "durationMinutes",
        "status",
        "screening",
    ];
    fn id(core: &Self::Core) -> Uuid {
        core.id
    }
    fn by_id(loaders: &Loaders) -> &Relation<Row<Self>> {
        &loaders.consultations
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        domain::{
            follow_up::{FollowUpKind, FollowUpStatus},
            patient::ContactChannel,
        },
        services::follow_ups::pending_follow_up,
    };

    #[test]
    fn a_whole_row_answers_for_its_core_only_while_it_matches() {
        let now = Utc::now();
        let row = pending_follow_up(
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            FollowUpKind::Day1Check,
            now,
            ContactChannel::Phone,
            now,
        );
        let core = follow_ups::Core::from(&row);
        let same = whole_of_core::<follow_ups::Entity>(&core, Some(Arc::new(row.clone())));
        assert_eq!(same.ok().as_deref(), Some(&row));

        let changed = follow_ups::Model {
            status: FollowUpStatus::Completed,
            completed_at: Some(now),
            version: 2,
            ..row.clone()
        };
        let refused = whole_of_core::<follow_ups::Entity>(&core, Some(Arc::new(changed)));
        assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");

        let gone = whole_of_core::<follow_ups::Entity>(&core, None);
        assert!(matches!(gone, Err(AppError::Internal(_))), "{gone:?}");
    }
}
