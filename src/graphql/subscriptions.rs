//! Live updates over graphql-ws (`/graphql/ws`): ids and minimal data; a
//! client fetches details through the normal queries, where every field
//! guard applies.

use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;

use super::{app_state, parse_id};
use crate::{
    auth::guards::Allow,
    domain::follow_up::{FollowUpKind, FollowUpStatus},
    events::{AppointmentKind, DomainEvent},
};

/// A follow-up was created or changed.
#[derive(SimpleObject, Clone, Debug)]
pub struct FollowUpChangedEvent {
    /// The follow-up.
    pub follow_up_id: ID,
    /// Its procedure.
    pub procedure_id: ID,
    /// Its kind.
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

fn id(uuid: uuid::Uuid) -> ID {
    ID(uuid.to_string())
}

fn events<T: Send + 'static>(
    ctx: &Context<'_>,
    pick: impl Fn(DomainEvent) -> Option<T> + Send + 'static,
) -> async_graphql::Result<futures_util::stream::BoxStream<'static, T>> {
    let state = app_state(ctx)?;
    let closing = state.events.closing();
    let stream = BroadcastStream::new(state.events.subscribe())
        // A subscriber too slow to keep up skips what it missed.
        .filter_map(|event| std::future::ready(event.ok()))
        .filter_map(move |event| std::future::ready(pick(event)))
        .take_until(async move {
            let mut closing = closing;
            let _ = closing.wait_for(|closed| *closed).await;
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
