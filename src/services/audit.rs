//! Recording the audit trail (R-AUDIT).
//!
//! Writes are audited inside their own transaction through [`AuditedWrite`],
//! which refuses to commit a change that recorded no audit event, so a new
//! mutation cannot forget it. Reads and refusals go through [`AuditSink`]: a
//! bounded channel drained by one task that bulk-inserts what has queued
//! while it was busy (group commit). Every read leaves an [`AuditReceipts`]
//! entry on its request, and the answer that carries the data is sent only
//! once those rows are stored (R-AUDIT: a read the client got is a read the
//! trail holds, even if the process is killed a moment later).

use std::{
    collections::VecDeque,
    ops::Deref,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Select, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
    prelude::{Expr, Uuid},
};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use crate::{
    auth::actor::RequestContext,
    domain::{
        audit::{ActorKind, AuditAction, AuditOutcome, EntityType},
        staff::Role,
    },
    entities::audit_events,
    error::AppResult,
    events::DomainEvent,
    graphql::pagination::{Page, PageRequest},
    services::{
        audit_bulk::{Attempt, insert_rows},
        listing::newest_first,
    },
};

/// Messages (each one or more audit rows) waiting in memory at most;
/// senders wait (never drop) beyond.
const CHANNEL_CAPACITY: usize = 10_000;
/// Rows per INSERT statement on SQLite (well under its bound-parameter
/// limit).
const ROWS_PER_SQLITE_INSERT: usize = 500;
/// Rows per `COPY` on PostgreSQL: a whole group commit is usually one
/// statement and one commit (the rows of 100 headline pages).
const ROWS_PER_POSTGRES_COPY: usize = 20_000;
/// Queued messages the writer takes at once.
const COMMANDS_PER_WAKE_UP: usize = 256;
/// How long [`AuditSink::flush_within`] waits between attempts.
const FLUSH_RETRY_PAUSE: Duration = Duration::from_millis(250);
/// Longest pause after a failed write before rows are tried again, whatever
/// `DERMAGRAPH_AUDIT_FLUSH_MS` says: readers wait for their rows.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Rows the writer holds in memory at most (a database refusing them for
/// a long time); past it, it takes no more until some are stored.
const MAX_PENDING_ROWS: usize = 200_000;

/// What happened, to which record; the actor and request come from the
/// [`RequestContext`].
#[derive(Clone, Copy, Debug)]
pub struct AuditEvent {
    action: AuditAction,
    acting_user: Option<(Uuid, Role)>,
    entity: Option<(EntityType, Option<Uuid>)>,
    patient_id: Option<Uuid>,
    outcome: AuditOutcome,
}

impl AuditEvent {
    /// A successful `action`.
    pub fn new(action: AuditAction) -> Self {
        Self {
            action,
            acting_user: None,
            entity: None,
            patient_id: None,
            outcome: AuditOutcome::Success,
        }
    }

    /// Names the user who acted when the request had no signed-in actor
    /// yet (a successful login).
    pub fn by_user(mut self, id: Uuid, role: Role) -> Self {
        self.acting_user = Some((id, role));
        self
    }

    /// The record acted on.
    pub fn entity(mut self, entity_type: EntityType, id: Option<Uuid>) -> Self {
        self.entity = Some((entity_type, id));
        self
    }

    /// The patient whose data was touched.
    pub fn patient(mut self, patient_id: Uuid) -> Self {
        self.patient_id = Some(patient_id);
        self
    }

    /// How it ended.
    pub fn outcome(mut self, outcome: AuditOutcome) -> Self {
        self.outcome = outcome;
        self
    }

    fn into_row(self, request: &RequestContext, origin: &Origin) -> audit_events::Model {
        audit_events::Model {
            id: Uuid::now_v7(),
            occurred_at: Utc::now(),
            actor_kind: self
                .acting_user
                .map_or_else(|| request.actor.kind(), |_| ActorKind::User),
            actor_id: self
                .acting_user
                .map(|(id, _)| id)
                .or_else(|| request.actor.id()),
            actor_role: self
                .acting_user
                .map(|(_, role)| role)
                .or_else(|| request.actor.role())
                .map(|role| role.as_str().to_owned()),
            action: self.action,
            entity_type: self.entity.map(|(kind, _)| kind.as_str().to_owned()),
            entity_id: self.entity.and_then(|(_, id)| id),
            patient_id: self.patient_id,
            operation: Some(origin.operation.clone()),
            request_id: request.request_id.clone(),
            client_ip: origin.client_ip.clone(),
            outcome: self.outcome,
        }
    }
}

/// What every audit row of one call shares, worked out once for them all
/// (a page audits a row per record).
struct Origin {
    /// The operation, cut to the column's 128 characters.
    operation: String,
    /// The client's address as text.
    client_ip: Option<String>,
}

impl Origin {
    fn of(request: &RequestContext, operation: &str) -> Self {
        Self {
            operation: operation.chars().take(128).collect(),
            client_ip: request.client_ip.map(|ip| ip.to_string()),
        }
    }
}

/// A write transaction that must record at least one audit event, written
/// in the same transaction as the change.
pub struct AuditedWrite<'r> {
    txn: DatabaseTransaction,
    request: &'r RequestContext,
    operation: &'static str,
    origin: Origin,
    events: Vec<audit_events::Model>,
    announcements: Vec<DomainEvent>,
}

impl<'r> AuditedWrite<'r> {
    /// Starts a write transaction for `operation` (the GraphQL field or CLI
    /// command). On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent writers queue on the busy timeout instead
    /// of failing when a read lock cannot be upgraded.
    ///
    /// # Errors
    /// `INTERNAL` when the transaction cannot start.
    pub async fn begin(
        db: &DatabaseConnection,
        request: &'r RequestContext,
        operation: &'static str,
    ) -> AppResult<Self> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        Ok(Self {
            txn,
            request,
            operation,
            origin: Origin::of(request, operation),
            events: Vec::new(),
            announcements: Vec::new(),
        })
    }

    /// Records an audit event of this write.
    pub fn audit(&mut self, event: AuditEvent) {
        self.events.push(event.into_row(self.request, &self.origin));
    }

    /// Announces a change of this write: partners' webhook deliveries are
    /// queued in this same transaction (so a committed change is never
    /// lost to them), and live subscribers hear of it once it commits.
    pub fn emit(&mut self, event: DomainEvent) {
        self.announcements.push(event);
    }

    /// The request this write belongs to.
    pub fn request(&self) -> &RequestContext {
        self.request
    }

    /// Writes the audit rows and the announced webhook deliveries, commits,
    /// then tells live subscribers.
    ///
    /// # Errors
    /// `INTERNAL` when no audit event was recorded (a bug) or the database
    /// fails; nothing is committed then.
    pub async fn commit(self) -> AppResult<()> {
        if self.events.is_empty() {
            return Err(anyhow!("write `{}` recorded no audit event", self.operation).into());
        }
        for event in &self.announcements {
            crate::services::webhooks::enqueue(&self.txn, event).await?;
        }
        audit_events::Entity::insert_many(
            self.events
                .into_iter()
                .map(IntoActiveModel::into_active_model),
        )
        .exec(&self.txn)
        .await?;
        self.txn.commit().await?;
        if let Some(bus) = &self.request.events {
            for event in self.announcements {
                bus.publish(event).await;
            }
        }
        Ok(())
    }
}

impl Deref for AuditedWrite<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

enum Command {
    /// Rows to store, and who is told once they are.
    Record(Vec<audit_events::Model>, oneshot::Sender<()>),
    /// Answers with the number of rows still unwritten.
    Flush(oneshot::Sender<usize>),
}

/// The batched audit writer for reads and refusals.
#[derive(Clone)]
pub struct AuditSink {
    sender: mpsc::Sender<Command>,
}

impl AuditSink {
    /// Starts the writer task; after the database refuses rows it tries
    /// again every `retry_every`.
    pub fn start(db: DatabaseConnection, retry_every: Duration) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(CHANNEL_CAPACITY);
        let task = tokio::spawn(run_writer(db, receiver, retry_every));
        (Self { sender }, task)
    }

    /// Queues an audit row; waits when the queue is full rather than drop it.
    /// The request's [`AuditReceipts`] learn when it is stored.
    pub async fn record(&self, request: &RequestContext, operation: &str, event: AuditEvent) {
        self.record_all(request, operation, [event]).await;
    }

    /// Queues the audit rows of several records read together (a page, a
    /// relation) as one message, so a 50-patient page costs the writer one
    /// wake-up, not one per row.
    pub async fn record_all(
        &self,
        request: &RequestContext,
        operation: &str,
        events: impl IntoIterator<Item = AuditEvent>,
    ) {
        let origin = Origin::of(request, operation);
        let rows: Vec<_> = events
            .into_iter()
            .map(|event| event.into_row(request, &origin))
            .collect();
        if rows.is_empty() {
            return;
        }
        let (stored, receipt) = oneshot::channel();
        // A writer that has stopped drops `stored`: the receipt then says
        // the rows were never stored, and the answer is withheld.
        if self
            .sender
            .send(Command::Record(rows, stored))
            .await
            .is_err()
        {
            tracing::error!(
                operation,
                "audit writer stopped; audit rows were not recorded"
            );
        }
        request.audit_receipts.keep(receipt);
    }

    /// Writes everything queued so far and waits for the attempt; answers
    /// how many rows are still unwritten because the database refused them
    /// (they stay queued for the next attempt).
    /// A writer that has stopped answers `usize::MAX`: how many rows it took
    /// with it is unknown, and none can be written any more.
    pub async fn flush(&self) -> usize {
        let (done, unwritten) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).await.is_err() {
            tracing::error!("audit writer stopped; queued audit rows could not be flushed");
            return usize::MAX;
        }
        unwritten.await.unwrap_or(usize::MAX)
    }

    /// Flushes again and again while the database refuses the rows (as
    /// during a restart) until all are stored or `patience` has passed;
    /// answers how many rows are still unwritten. For shutdown, when rows
    /// left in memory are lost with the process.
    pub async fn flush_within(&self, patience: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            // A writer that no longer takes commands (its memory full while
            // the database refuses rows) must not hold shutdown forever.
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let unwritten = tokio::time::timeout(left, self.flush())
                .await
                .unwrap_or(usize::MAX);
            let now = tokio::time::Instant::now();
            if unwritten == 0 || now >= deadline {
                return unwritten;
            }
            tokio::time::sleep(FLUSH_RETRY_PAUSE.min(deadline - now)).await;
        }
    }
}

async fn run_writer(
    db: DatabaseConnection,
    mut receiver: mpsc::Receiver<Command>,
    retry_every: Duration,
) {
    let mut pending = Pending::default();
    let mut ticker = tokio::time::interval(retry_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut commands = Vec::with_capacity(COMMANDS_PER_WAKE_UP);
    // After a failed attempt, the next waits a moment (a flush excepted),
    // so a database that is down is not tried once per read; a success
    // lifts the wait at once.
    let pause = retry_every.min(MAX_RETRY_PAUSE);
    let mut retry_at = tokio::time::Instant::now();
    loop {
        // Past the memory bound (the database refusing rows for long), the
        // writer takes no more: readers then wait on the bounded channel
        // and get 503 at their deadline instead of growing the queue.
        let room = pending.rows.len() < MAX_PENDING_ROWS;
        tokio::select! {
            received = receiver.recv_many(&mut commands, COMMANDS_PER_WAKE_UP), if room => {
                if received == 0 {
                    write(&db, &mut pending).await;
                    return;
                }
                let mut flushes = Vec::new();
                for command in commands.drain(..) {
                    match command {
                        Command::Record(rows, stored) => pending.queue(rows, stored),
                        Command::Flush(done) => flushes.push(done),
                    }
                }
                // Group commit: everything that queued while the last batch
                // was being stored goes in the next one, at once.
                if !flushes.is_empty() || tokio::time::Instant::now() >= retry_at {
                    retry_at = next_attempt(write(&db, &mut pending).await, pause);
                }
                for done in flushes {
                    done.send(pending.rows.len()).ok();
                }
            },
            _ = ticker.tick() => {
                if !pending.rows.is_empty() {
                    retry_at = next_attempt(write(&db, &mut pending).await, pause);
                }
            }
        }
        metrics::gauge!("audit_queue_rows").set(f64::from(
            u32::try_from(pending.rows.len()).unwrap_or(u32::MAX),
        ));
    }
}

/// When the writer may try again: at once after a success, after `pause`
/// after a failure.
fn next_attempt(stored_all: bool, pause: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    if stored_all { now } else { now + pause }
}

/// The rows the writer has yet to store, and the answers waiting on them.
#[derive(Default)]
struct Pending {
    /// Oldest first.
    rows: VecDeque<audit_events::Model>,
    /// How many of the first rows were in a failed attempt. Any failure
    /// counts, not only a lost answer (after which they may be stored
    /// already): telling the two apart is guesswork, and a retry that
    /// skips stored rows is harmless when none were.
    maybe_stored: usize,
    /// Rows queued since the writer started.
    queued: u64,
    /// Rows stored since the writer started.
    stored: u64,
    /// Who waits for which rows: told once `stored` reaches the count of
    /// rows queued up to and including theirs. Oldest first.
    waiting: VecDeque<(u64, oneshot::Sender<()>)>,
}

impl Pending {
    fn queue(&mut self, rows: Vec<audit_events::Model>, stored: oneshot::Sender<()>) {
        self.queued += rows.len() as u64;
        self.rows.extend(rows);
        self.waiting.push_back((self.queued, stored));
    }

    fn mark_stored(&mut self, count: usize) {
        self.rows.drain(..count);
        self.maybe_stored = self.maybe_stored.saturating_sub(count);
        self.stored += count as u64;
        while self
            .waiting
            .front()
            .is_some_and(|(through, _)| *through <= self.stored)
        {
            if let Some((_, stored)) = self.waiting.pop_front() {
                // The answer may have gone already (timed out): nothing to tell.
                stored.send(()).ok();
            }
        }
    }
}

/// Inserts pending rows; on failure keeps them for the next attempt.
/// Answers whether everything pending is stored.
async fn write(db: &DatabaseConnection, pending: &mut Pending) -> bool {
    let per_statement = match db.get_database_backend() {
        DatabaseBackend::Postgres => ROWS_PER_POSTGRES_COPY,
        _ => ROWS_PER_SQLITE_INSERT,
    };
    while !pending.rows.is_empty() {
        let count = pending.rows.len().min(per_statement);
        let attempt = if pending.maybe_stored > 0 {
            Attempt::Retry
        } else {
            Attempt::First
        };
        let rows = pending.rows.make_contiguous();
        match insert_rows(db, &rows[..count], attempt).await {
            Ok(()) => pending.mark_stored(count),
            Err(error) => {
                pending.maybe_stored = pending.maybe_stored.max(count);
                tracing::error!(%error, ?attempt, pending = pending.rows.len(), "audit rows not written yet; will retry");
                return false;
            }
        }
    }
    true
}

/// The audit rows a request's reads queued, each with word of when it is
/// stored. The answer carrying the data waits for [`AuditReceipts::stored`].
#[derive(Clone, Debug, Default)]
pub struct AuditReceipts(Arc<Mutex<Vec<oneshot::Receiver<()>>>>);

/// The audit trail could not store a read's rows: its answer is withheld.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditNotStored;

impl AuditReceipts {
    fn keep(&self, receipt: oneshot::Receiver<()>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(receipt);
    }

    /// Waits until every row queued so far through this request is stored
    /// (it may wait as long as the database is out of reach: bound it with
    /// the request's deadline). Receipts waited on are forgotten, so a
    /// long-lived WebSocket operation can wait again after each answer.
    ///
    /// # Errors
    /// [`AuditNotStored`] when the audit writer stopped before storing them.
    pub async fn stored(&self) -> Result<(), AuditNotStored> {
        let receipts = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for receipt in receipts {
            receipt.await.map_err(|_| AuditNotStored)?;
        }
        Ok(())
    }
}

/// Filters of the audit trail.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this user or API client.
    pub actor_id: Option<Uuid>,
    /// Only this patient.
    pub patient_id: Option<Uuid>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// Name of the audit trail's ordering (newest first), in its cursors.
pub const AUDIT_NEWEST_FIRST: &str = "audit_newest_first";

/// One page of the audit trail, newest first, and the total matching.
///
/// # Errors
/// `BAD_USER_INPUT` for a cursor of another list; database failures.
pub async fn list_audit_events(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    page: &PageRequest,
) -> AppResult<(Page<audit_events::Model>, i64)> {
    newest_first(
        db,
        audit_events_matching(filter),
        audit_events::Column::Id,
        AUDIT_NEWEST_FIRST,
        page,
    )
    .await
}

/// The audit rows `filter` selects, unordered.
pub fn audit_events_matching(filter: &AuditFilter) -> Select<audit_events::Entity> {
    let mut query = audit_events::Entity::find();
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_events::Column::ActorId.eq(actor_id));
    }
    if let Some(patient_id) = filter.patient_id {
        query = query.filter(audit_events::Column::PatientId.eq(patient_id));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_events::Column::Action.eq(action));
        if action != AuditAction::Read {
            // The index by action leaves reads out (migration 9); SQLite
            // uses it only when the query states its condition as written.
            query = query.filter(Expr::cust(ACTION_INDEX_CONDITION));
        }
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_events::Column::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_events::Column::OccurredAt.lt(to));
    }
    query
}

/// The condition of the audit log's index by action, word for word.
const ACTION_INDEX_CONDITION: &str = "\"action\" <> 'READ'";
