//! Relay's object identification (the GraphQL Global Object Identification
//! spec): the `Node` interface, and the `node(id:)` and `nodes(ids:)` roots
//! that fetch any record by its id again, as Relay's refetch and Apollo's
//! `dataIdFromObject` expect. Ids are the records' own (UUIDs, unique across
//! the API), so a record's `id` is its node id.
//!
//! `node(id:)` finds which kind of record the id names, among the kinds the
//! caller may read (by the guard of each kind's own root field), and answers
//! exactly as that kind's root field does (`procedure(id:)`,
//! `patient(id:)`…): the same object-level checks, the same read audit. An
//! id of a kind the caller may not read is `null`, as an unknown one.

use async_graphql::{Context, Guard, ID, Interface, Object, PathSegment};

use super::{
    app_state,
    consultations::CONSULTATION_READERS,
    consultations::consultation_by_id,
    follow_ups::FOLLOW_UP_BY_ID_READERS,
    follow_ups::follow_up_by_id,
    identity::USER_READERS,
    identity::user_by_id,
    intake::CONSULTATION_REQUEST_READERS,
    intake::consultation_request_by_id,
    parse_id,
    patients::PATIENT_READERS,
    patients::patient_by_id,
    procedures::DEVICE_READERS,
    procedures::PROCEDURE_READERS,
    procedures::device_by_id,
    procedures::procedure_by_id,
    types::{
        consultation::Consultation,
        follow_up::FollowUp,
        identity::User,
        intake::ConsultationRequest,
        patient::Patient,
        procedure::{Device, Procedure},
    },
};
use crate::{
    auth::guards::Allow,
    services::lookup::{RecordKind, kind_of},
};

/// The most ids one `nodes` call may ask for.
const MAX_NODES: usize = 100;

/// A record that can be fetched again by its id with `node(id:)`.
// The variants are the types' own values, as every other field returns
// them; boxing them would only add an allocation per answer.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(
    name = "id",
    method = "node_id",
    ty = "ID",
    desc = "The record's id, unique across the API: `node(id:)` fetches the record again."
))]
pub enum Node {
    /// A patient.
    Patient(Patient),
    /// A consultation request.
    ConsultationRequest(ConsultationRequest),
    /// A consultation.
    Consultation(Consultation),
    /// A procedure.
    Procedure(Procedure),
    /// A follow-up of a procedure.
    FollowUp(FollowUp),
    /// A device.
    Device(Device),
    /// A staff account.
    User(User),
}

/// The id a `Node` answers with: each type's own `id`.
macro_rules! node_id {
    ($($object:ty => |$this:ident| $id:expr;)*) => {
        $(impl $object {
            /// Its id as the `Node` interface answers it.
            ///
            /// # Errors
            /// None; the signature is what the interface calls.
            pub async fn node_id(&self, _: &Context<'_>) -> async_graphql::Result<ID> {
                let $this = self;
                Ok($id)
            }
        })*
    };
}

node_id! {
    Patient => |patient| ID(patient.0.id.to_string());
    ConsultationRequest => |request| ID(request.0.id.to_string());
    Consultation => |consultation| ID(consultation.0.core().id.to_string());
    Procedure => |procedure| ID(procedure.0.core().id.to_string());
    FollowUp => |follow_up| ID(follow_up.0.core().id.to_string());
    Device => |device| ID(device.0.id.to_string());
    User => |user| user.id.clone();
}

/// The `node` and `nodes` roots.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any record by its id, as its own root field answers it (same access
    /// rules, same audit): `null` when there is none.
    #[graphql(guard = "Allow::AUTHENTICATED")]
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The id of a Patient, ConsultationRequest, Consultation, Procedure, \
                          Device or User."
        )]
        id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        node_by_id(ctx, &id).await
    }

    /// Records by id, in the order asked (at most 100): each as `node(id:)`
    /// answers it, `null` (with its error, if refused) where it cannot be
    /// read.
    #[graphql(
        guard = "Allow::AUTHENTICATED",
        complexity = "ids.len().saturating_mul(child_complexity).saturating_add(1)"
    )]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ids, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(crate::error::AppError::BadUserInput {
                field: "ids".to_owned(),
                message: format!("at most {MAX_NODES} ids at once"),
            }
            .into());
        }
        let mut answers = Vec::with_capacity(ids.len());
        for (index, id) in ids.iter().enumerate() {
            match node_by_id(ctx, id).await {
                Ok(found) => answers.push(found),
                Err(error) => {
                    // The refusal of one id is that item's, at its index.
                    let mut error = ctx.set_error_path(error.into_server_error(ctx.item.pos));
                    error.path.push(PathSegment::Index(index));
                    ctx.add_error(error);
                    answers.push(None);
                }
            }
        }
        Ok(answers)
    }
}

/// The record `id` names, through its kind's own read path. Only the kinds
/// the caller may read are looked for, so an id of a record it may not read
/// answers `null`, as an unknown id does: `node(id:)` does not tell which
/// records exist to callers who may not read them.
async fn node_by_id(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    let uuid = parse_id(id, "id")?;
    let mut readable = Vec::with_capacity(7);
    for (kind, readers) in [
        (RecordKind::Procedure, PROCEDURE_READERS),
        (RecordKind::Patient, PATIENT_READERS),
        (RecordKind::Consultation, CONSULTATION_READERS),
        (RecordKind::FollowUp, FOLLOW_UP_BY_ID_READERS),
        (
            RecordKind::ConsultationRequest,
            CONSULTATION_REQUEST_READERS,
        ),
        (RecordKind::Device, DEVICE_READERS),
        (RecordKind::User, USER_READERS),
    ] {
        if readers.check(ctx).await.is_ok() {
            readable.push(kind);
        }
    }
    let Some(kind) = kind_of(&app_state(ctx)?.db, uuid, &readable).await? else {
        return Ok(None);
    };
    Ok(match kind {
        RecordKind::Patient => patient_by_id(ctx, id).await?.map(Node::Patient),
        RecordKind::ConsultationRequest => consultation_request_by_id(ctx, id)
            .await?
            .map(Node::ConsultationRequest),
        RecordKind::Consultation => consultation_by_id(ctx, id).await?.map(Node::Consultation),
        RecordKind::Procedure => procedure_by_id(ctx, id).await?.map(Node::Procedure),
        RecordKind::FollowUp => follow_up_by_id(ctx, id).await?.map(Node::FollowUp),
        RecordKind::Device => device_by_id(ctx, id).await?.map(Node::Device),
        RecordKind::User => user_by_id(ctx, id).await?.map(Node::User),
    })
}
