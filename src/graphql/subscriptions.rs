//! Live updates over graphql-ws (`/graphql/ws`): ids and minimal data; a
//! client fetches details through the normal queries, where every field
//! guard applies.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
};

use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use uuid::Uuid;

use super::{app_state, parse_id};
use crate::{
    auth::guards::Allow,
    domain::follow_up::{FollowUpKind, FollowUpStatus},
    error::AppError,
    events::{AppointmentKind, DomainEvent},
};

/// A follow-up was created or changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct FollowUpChangedEvent {
    /// The follow-up.
    pub follow_up_id: ID,
    /// Its procedure.
    pub procedure_id: ID,
    /// Which check of the follow-up schedule it is, e.g. DAY_1_CHECK.
    pub kind: FollowUpKind,
    /// Its status now.
    pub status: FollowUpStatus,
}

/// A provider's schedule changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct ScheduleChangedEvent {
    /// The provider.
    pub provider_id: ID,
    /// The appointment booked, moved, started, completed or cancelled.
    pub appointment_id: ID,
    /// Consultation or procedure.
    pub appointment: AppointmentKind,
}

/// An adverse event was reported (R-ADVERSE).
#[derive(SimpleObject, Clone, Debug)]
pub struct AdverseEventReportedEvent {
    /// The flagged procedure.
    pub procedure_id: ID,
    /// The follow-up that reported it.
    pub follow_up_id: ID,
    /// The urgent provider review created for it.
    pub review_id: ID,
}

/// How many subscriptions may be open at once.
#[derive(Clone, Copy, Debug)]
pub struct SubscriptionLimits {
    /// On one WebSocket connection.
    pub per_connection: usize,
    /// Of one caller (user or API client), over all its connections to this
    /// instance.
    pub per_actor: usize,
}

/// Open subscriptions per caller on this instance, shared by its
/// connections.
#[derive(Debug, Default)]
pub struct OpenSubscriptions(Mutex<HashMap<Uuid, usize>>);

/// What a WebSocket connection counts its subscriptions against; in the
/// connection's data.
#[derive(Clone, Debug)]
pub struct SubscriptionSlots {
    limits: SubscriptionLimits,
    on_connection: Arc<AtomicUsize>,
    by_actor: Arc<OpenSubscriptions>,
    actor: Option<Uuid>,
}

impl SubscriptionSlots {
    /// The slots of a new connection held by `actor`.
    pub fn new(
        limits: SubscriptionLimits,
        by_actor: Arc<OpenSubscriptions>,
        actor: Option<Uuid>,
    ) -> Self {
        Self {
            limits,
            on_connection: Arc::default(),
            by_actor,
            actor,
        }
    }

    /// Takes a slot for one more subscription, given back when the
    /// subscription ends.
    fn take(&self) -> Result<Slot, AppError> {
        let open = self.on_connection.fetch_add(1, Ordering::SeqCst);
        let slot = Slot {
            slots: self.clone(),
            counted_for_actor: false,
        };
        if open >= self.limits.per_connection {
            return Err(AppError::QueryTooComplex(format!(
                "this connection already holds {} subscriptions, the limit; complete one first",
                self.limits.per_connection
            )));
        }
        let Some(actor) = self.actor else {
            return Ok(slot);
        };
        let mut by_actor = self
            .by_actor
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = by_actor.entry(actor).or_insert(0);
        if *count >= self.limits.per_actor {
            return Err(AppError::QueryTooComplex(format!(
                "you already hold {} subscriptions, the limit; complete one first",
                self.limits.per_actor
            )));
        }
        *count += 1;
        let mut slot = slot;
        slot.counted_for_actor = true;
        Ok(slot)
    }
}

/// One open subscription's place under the limits.
struct Slot {
    slots: SubscriptionSlots,
    counted_for_actor: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.on_connection.fetch_sub(1, Ordering::SeqCst);
        if let (true, Some(actor)) = (self.counted_for_actor, self.slots.actor) {
            let mut by_actor = self
                .slots
                .by_actor
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = by_actor.get_mut(&actor) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    by_actor.remove(&actor);
                }
            }
        }
    }
}

fn id(uuid: uuid::Uuid) -> ID {
    ID(uuid.to_string())
}

fn events<T: Send + 'static>(
    ctx: &Context<'_>,
    pick: impl Fn(DomainEvent) -> Option<T> + Send + 'static,
) -> async_graphql::Result<futures_util::stream::BoxStream<'static, T>> {
    let state = app_state(ctx)?;
    // Every connection has slots (see `http::subscriptions`); an operation
    // run without one has no connection to hold a subscription open.
    let slot = ctx
        .data_opt::<SubscriptionSlots>()
        .map(SubscriptionSlots::take)
        .transpose()?;
    let closing = state.events.closing();
    let stream = BroadcastStream::new(state.events.subscribe())
        // A subscriber too slow to keep up skips what it missed.
        .filter_map(|event| std::future::ready(event.ok()))
        .filter_map(move |event| std::future::ready(pick(event)))
        .take_until(async move {
            let mut closing = closing;
            let _ = closing.wait_for(|closed| *closed).await;
        })
        // The stream holds its slot until it ends.
        .inspect(move |_| {
            let _held = &slot;
        });
    Ok(stream.boxed())
}

/// Every subscription of the API.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates over graphql-ws at `/graphql/ws`: ids and minimal data;
/// fetch details through the queries.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Follow-ups created or changed (staff, or partners with
    /// `follow_ups:read`).
    #[graphql(guard = "Allow::FOLLOW_UP_READERS")]
    async fn follow_up_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = FollowUpChangedEvent>> {
        events(ctx, |event| match event {
            DomainEvent::FollowUpChanged {
                follow_up_id,
                procedure_id,
                kind,
                status,
            } => Some(FollowUpChangedEvent {
                follow_up_id: id(follow_up_id),
                procedure_id: id(procedure_id),
                kind,
                status,
            }),
            _ => None,
        })
    }

    /// Appointments booked, started, completed or cancelled, of one
    /// provider or of all (staff, or partners with `schedule:read`).
    #[graphql(guard = "Allow::SCHEDULE_READERS")]
    async fn schedule_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this provider's schedule.")] provider_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = ScheduleChangedEvent>> {
        let only = provider_id
            .as_ref()
            .map(|provider| parse_id(provider, "providerId"))
            .transpose()?;
        events(ctx, move |event| match event {
            DomainEvent::ScheduleChanged {
                provider_id,
                appointment_id,
                appointment,
            } if only.is_none_or(|only| only == provider_id) => Some(ScheduleChangedEvent {
                provider_id: id(provider_id),
                appointment_id: id(appointment_id),
                appointment,
            }),
            _ => None,
        })
    }

    /// Adverse events as they are reported (providers and admins only).
    #[graphql(guard = "Allow::CLINICAL")]
    async fn adverse_event_reported(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AdverseEventReportedEvent>> {
        events(ctx, |event| match event {
            DomainEvent::AdverseEventReported {
                procedure_id,
                follow_up_id,
                review_id,
            } => Some(AdverseEventReportedEvent {
                procedure_id: id(procedure_id),
                follow_up_id: id(follow_up_id),
                review_id: id(review_id),
            }),
            _ => None,
        })
    }
}
