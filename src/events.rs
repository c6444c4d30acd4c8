//! Live events for subscriptions: what changed, as ids and minimal data
//! (never personal data), fanned out to every API instance.
//!
//! On PostgreSQL an event is published with `pg_notify`, and every
//! instance (the publishing one included) receives it through `LISTEN` and
//! hands it to its own subscribers; on SQLite, one process owns the
//! database, so an in-process broadcast is enough.

use async_graphql::Enum;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, prelude::Uuid};
use serde::{Deserialize, Serialize};
use tokio::{
    sync::{broadcast, watch},
    task::JoinHandle,
};

use crate::domain::follow_up::{FollowUpKind, FollowUpStatus};

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "dermagraph_events";
/// Events buffered per subscriber before a slow one skips ahead.
const BUFFER: usize = 1024;

/// Which kind of appointment changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppointmentKind {
    /// `appointmentId` is a consultation; read it with `consultation(id:)`.
    Consultation,
    /// `appointmentId` is a procedure; read it with `procedure(id:)`.
    Procedure,
}

/// Something that changed, for live updates of staff portals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum DomainEvent {
    /// A follow-up was created or changed.
    FollowUpChanged {
        /// The follow-up.
        follow_up_id: Uuid,
        /// Its procedure.
        procedure_id: Uuid,
        /// Its kind.
        kind: FollowUpKind,
        /// Its status now.
        status: FollowUpStatus,
    },
    /// A provider's schedule changed.
    ScheduleChanged {
        /// The provider.
        provider_id: Uuid,
        /// The appointment.
        appointment_id: Uuid,
        /// Consultation or procedure.
        appointment: AppointmentKind,
    },
    /// A caller's access ended: a staff account was deactivated or its
    /// password or role changed, a partner key was revoked (no session),
    /// or one session ended (logout). Their live connections close at once,
    /// on every instance. Never sent to partners' webhooks.
    AccessRevoked {
        /// The user or API client.
        actor_id: Uuid,
        /// Only this session (refresh-token family), or all of them.
        session_id: Option<Uuid>,
    },
    /// An adverse event was reported (R-ADVERSE).
    AdverseEventReported {
        /// The flagged procedure.
        procedure_id: Uuid,
        /// The follow-up that reported it.
        follow_up_id: Uuid,
        /// The urgent provider review created for it.
        review_id: Uuid,
    },
}

impl DomainEvent {
    /// A follow-up as it is now.
    pub fn follow_up(row: &crate::entities::follow_ups::Model) -> Self {
        Self::FollowUpChanged {
            follow_up_id: row.id,
            procedure_id: row.procedure_id,
            kind: row.kind,
            status: row.status,
        }
    }

    /// A consultation booked or changed.
    pub fn consultation(row: &crate::entities::consultations::Model) -> Self {
        Self::ScheduleChanged {
            provider_id: row.provider_id,
            appointment_id: row.id,
            appointment: AppointmentKind::Consultation,
        }
    }

    /// Whether this ends the access of a connection held by `actor_id` in
    /// `session_id`.
    pub fn revokes(&self, actor_id: Uuid, session_id: Option<Uuid>) -> bool {
        matches!(self, Self::AccessRevoked { actor_id: revoked, session_id: only }
            if *revoked == actor_id && (only.is_none() || *only == session_id))
    }

    /// A procedure booked or changed.
    pub fn procedure(row: &crate::entities::procedures::Model) -> Self {
        Self::ScheduleChanged {
            provider_id: row.provider_id,
            appointment_id: row.id,
            appointment: AppointmentKind::Procedure,
        }
    }
}

/// Publishes and distributes [`DomainEvent`]s.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<DomainEvent>,
    db: DatabaseConnection,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("subscribers", &self.local.receiver_count())
            .finish_non_exhaustive()
    }
}

impl EventBus {
    /// Starts the bus; on PostgreSQL also the task that listens for other
    /// instances' events on its own connection to `database_url` (outside
    /// the pool, so it never takes a request's connection), reconnecting by
    /// itself after a database outage.
    pub fn start(db: DatabaseConnection, database_url: &str) -> (Self, Option<JoinHandle<()>>) {
        let (local, _) = broadcast::channel(BUFFER);
        let (closing, _) = watch::channel(false);
        let bus = Self {
            local,
            db: db.clone(),
            closing,
        };
        let listener = (db.get_database_backend() == DbBackend::Postgres).then(|| {
            tokio::spawn(listen(
                database_url.to_owned(),
                bus.local.clone(),
                bus.closing.subscribe(),
            ))
        });
        (bus, listener)
    }

    /// Publishes an event to every subscriber of every instance. Live
    /// updates are best effort: a failure is logged, never the caller's.
    pub async fn publish(&self, event: DomainEvent) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            // No subscriber is not an error.
            let _ = self.local.send(event);
            return;
        }
        let payload = match serde_json::to_string(&event) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "event not serializable");
                return;
            }
        };
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        if let Err(error) = self.db.execute_raw(notify).await {
            tracing::warn!(%error, "event not published");
        }
    }

    /// A stream of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.local.subscribe()
    }

    /// Completes when the server is shutting down, so that open
    /// subscriptions end and graceful shutdown does not wait for them.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Ends every subscription and the listener.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

async fn listen(
    database_url: String,
    local: broadcast::Sender<DomainEvent>,
    mut closing: watch::Receiver<bool>,
) {
    use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
    loop {
        // A pool of one connection, like `PgListener::connect`'s, but giving
        // up on a reconnect after 2 s instead of 30 s, so after a database
        // restart this loop retries every second and live events resume
        // about as soon as requests do.
        let connected = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect(&database_url)
            .await;
        let listening = match connected {
            Ok(pool) => PgListener::connect_with(&pool).await,
            Err(error) => Err(error),
        };
        let mut listener = match listening {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "event listener cannot connect; retrying");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                    _ = closing.changed() => return,
                }
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "event listener cannot LISTEN; retrying");
            continue;
        }
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(notification) => {
                        match serde_json::from_str::<DomainEvent>(notification.payload()) {
                            Ok(event) => {
                                let _ = local.send(event);
                            }
                            Err(error) => tracing::warn!(%error, "unreadable event ignored"),
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "event listener lost its connection; reconnecting");
                        break;
                    }
                },
                _ = closing.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::InputType;
    use sea_orm::Iterable;

    use super::*;

    /// The value as the GraphQL API spells it.
    fn api_value<T: InputType>(value: &T) -> String {
        match value.to_value() {
            async_graphql::Value::Enum(name) => name.to_string(),
            other => panic!("not an enum value: {other}"),
        }
    }

    #[test]
    fn payloads_spell_enum_values_as_the_api_does() {
        for kind in FollowUpKind::iter() {
            assert_eq!(serde_json::to_value(kind).unwrap(), api_value(&kind));
        }
        for status in FollowUpStatus::iter() {
            assert_eq!(serde_json::to_value(status).unwrap(), api_value(&status));
        }
        for appointment in [AppointmentKind::Consultation, AppointmentKind::Procedure] {
            assert_eq!(
                serde_json::to_value(appointment).unwrap(),
                api_value(&appointment)
            );
        }
        let event = DomainEvent::FollowUpChanged {
            follow_up_id: Uuid::nil(),
            procedure_id: Uuid::nil(),
            kind: FollowUpKind::Week1Review,
            status: FollowUpStatus::Completed,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "WEEK_1_REVIEW");
        assert_eq!(json["status"], "COMPLETED");
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event, "the fan-out reads what it wrote");
    }

    #[test]
    fn a_revocation_ends_the_actors_connections_or_one_sessions() {
        let (actor, session, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let everything = DomainEvent::AccessRevoked {
            actor_id: actor,
            session_id: None,
        };
        assert!(everything.revokes(actor, Some(session)));
        assert!(everything.revokes(actor, None));
        assert!(!everything.revokes(other, Some(session)));
        let one = DomainEvent::AccessRevoked {
            actor_id: actor,
            session_id: Some(session),
        };
        assert!(one.revokes(actor, Some(session)));
        assert!(!one.revokes(actor, Some(other)));
        assert!(!one.revokes(actor, None));
    }
}
